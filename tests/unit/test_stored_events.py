"""Events stored by earlier code still decode and rebuild the same aggregates.

``fixtures/stored_events.json`` holds stored events (topic and JSON state, as the mapper
wrote them) of Report, Ledger and Case aggregates seeded by the demo with the code before
decision 0029 (one idiom for aggregates), and the state each aggregate had then. The
aggregates are rebuilt here from those stored events with today's code: the topics must
still resolve and the rebuilt state must be the same, attribute by attribute.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from services.bootstrap import EmbeddedSystem
from services.common.china_time import china_date
from tests.unit.conftest import build_embedded, make_settings

FIXTURE = Path(__file__).parent / "fixtures" / "stored_events.json"


# What the state keeps since the fixture was taken, from the same stored events: a carried
# out clearing keeps its day, method, scope and corrections (its 澄清正名函, decision 0035).
# Compared apart (``test_a_carried_out_clearing_keeps_what_its_letter_says``), the rest of
# the state must be as it was.
EXTENDED = {"clearings": ("carried_out_on", "method", "scope", "corrections")}
# Attributes a report has since the fixture, from the same stored events: its day of
# acceptance (the 受理告知书's 受理日期, decision 0037). Compared apart
# (``test_an_accepted_report_keeps_its_day_of_acceptance``).
ADDED = frozenset({"accepted_on"})


def as_before(name: str, value: Any) -> Any:
    """``value`` without the keys added to attribute ``name`` since the fixture."""
    added = EXTENDED.get(name)
    if added is None or not isinstance(value, dict):
        return value
    return {k: {f: v for f, v in inner.items() if f not in added} for k, inner in value.items()}


def state_of(aggregate: Any) -> dict[str, str]:
    """The aggregate's public attributes, each as its repr (comparable across runs)."""
    return {
        k: repr(as_before(k, v))
        for k, v in sorted(vars(aggregate).items())
        if not k.startswith("_") and k not in ADDED
    }


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedSystem:
    return build_embedded(make_settings(tmp_path_factory.mktemp("stored")))


STORED: dict[str, list[dict[str, Any]]] = json.loads(FIXTURE.read_text())


def test_the_fixture_covers_every_kind_of_event() -> None:
    topics = {e["topic"] for aggs in STORED.values() for a in aggs for e in a["events"]}
    assert {t.split(":")[1].split(".")[0] for t in topics} == {"Report", "Ledger", "Case"}
    assert len(topics) >= 30


def rebuild(mapper: Any, stored: dict[str, Any], drop: tuple[str, str] | None = None) -> Any:
    """The aggregate replayed from its stored events; ``drop``: (topic suffix, field) to
    remove from those events first, as they were stored before the field existed."""
    aggregate: Any = None
    for e in stored["events"]:
        state = e["state"].encode()
        if drop is not None and e["topic"].endswith(drop[0]):
            fields = json.loads(state)
            assert fields.pop(drop[1])
            state = json.dumps(fields).encode()
        stored_event = StoredEvent(
            originator_id=UUID(stored["id"]),
            originator_version=e["version"],
            topic=e["topic"],
            state=state,
        )
        aggregate = mapper.to_domain_event(stored_event).mutate(aggregate)
    return aggregate


@pytest.mark.parametrize("service", ["intake", "casework"])
def test_stored_events_rebuild_the_same_aggregates(system: EmbeddedSystem, service: str) -> None:
    mapper = getattr(system, service).mapper
    for stored in STORED[service]:
        assert state_of(rebuild(mapper, stored)) == stored["state"], stored["id"]


def test_a_returned_conclusion_stored_before_returns_to_goes_back_where_it_was_proposed(
    system: EmbeddedSystem,
) -> None:
    """Events stored before ``ConclusionReturned.returns_to`` existed lack it: the case
    takes it from the proposal it remembers, and ends where it did with the field."""
    returned = [
        a
        for a in STORED["casework"]
        if any(e["topic"].endswith(":Case.ConclusionReturned") for e in a["events"])
    ]
    assert returned
    for stored in returned:
        legacy = rebuild(system.casework.mapper, stored, (":Case.ConclusionReturned", "returns_to"))
        assert state_of(legacy) == stored["state"], stored["id"]


def test_a_carried_out_clearing_keeps_what_its_letter_says(system: EmbeddedSystem) -> None:
    cleared = [
        (stored, e)
        for stored in STORED["casework"]
        for e in stored["events"]
        if e["topic"].endswith(":Case.ClearingCarriedOut")
    ]
    assert cleared
    for stored, event in cleared:
        fields = json.loads(event["state"])
        case = rebuild(system.casework.mapper, stored)
        (clearing,) = [c for c in case.clearings.values() if c["stage"] == "carried_out"]
        assert clearing["carried_out_on"].isoformat() == fields["carried_out_on"]["_data_"]
        assert (clearing["method"], clearing["scope"]) == (fields["method"], fields["scope"])


def test_an_accepted_report_keeps_its_day_of_acceptance(system: EmbeddedSystem) -> None:
    """The day the event states, or (stored before it stated one) the China date it was
    recorded on; a report never accepted has none."""
    reports = [s for s in STORED["intake"] if s["events"][0]["topic"].endswith(":Report.Received")]
    assert reports
    for stored in reports:
        accepted = [e for e in stored["events"] if e["topic"].endswith(":Report.Accepted")]
        report = rebuild(system.intake.mapper, stored)
        if not accepted:
            assert report.accepted_on is None
            continue
        fields = json.loads(accepted[-1]["state"])
        stated = fields.get("accepted_on")
        if stated is not None:
            assert report.accepted_on == dt.date.fromisoformat(stated["_data_"])
        else:
            recorded = dt.datetime.fromisoformat(fields["timestamp"]["_data_"])
            assert report.accepted_on == china_date(recorded)
