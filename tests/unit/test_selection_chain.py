"""``jiandu verify`` checks each selection's hash chain too (decision 0034): a selection's
stored event altered in the database is found at that event, beside intact cases."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from typing import Any
from uuid import UUID

from services.casework.application import CaseworkApplication
from services.casework.chain import chained_kind, verify_chain, verify_log
from services.common.settings import Settings
from tests.unit.selection_support import PATH, propose

TOPIC = "jiandu.casework:Selection."


def saved_selection(app: CaseworkApplication) -> UUID:
    selection = propose()
    for step, _ in PATH:
        step(selection)
    app.save(selection)  # every event pending since the proposal
    return selection.id


def stored(settings: Settings, selection_id: UUID, version: int) -> tuple[str, str, Any]:
    """The events table, topic and decoded state of one stored event of the selection."""
    with sqlite3.connect(settings.data_dir / "casework.sqlite") as db:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if "originator_id" in {c[1] for c in db.execute(f"PRAGMA table_info({name})")}
            and "topic" in {c[1] for c in db.execute(f"PRAGMA table_info({name})")}
            and "snapshot" not in name
        ]
        for table in tables:
            row = db.execute(
                f"SELECT topic, state FROM {table} "
                "WHERE originator_id = ? AND originator_version = ?",
                (selection_id.hex, version),
            ).fetchone()
            if row is not None:
                return table, row[0], json.loads(bytes(row[1]))
    raise AssertionError("no such stored event")


def test_an_intact_selection_verifies(casework: CaseworkApplication) -> None:
    selection_id = saved_selection(casework)
    events = list(casework.events.get(selection_id))

    assert len(events) == 1 + len(PATH)
    assert verify_chain(selection_id, events) is None
    assert verify_log(casework) == (1, [])


def test_an_altered_selection_event_is_found_at_that_event(
    casework: CaseworkApplication, settings: Settings
) -> None:
    selection_id = saved_selection(casework)
    other_id = saved_selection(casework)
    # The decision (the 7th event) is said to have had all nine members present.
    table, topic, state = stored(settings, selection_id, 7)
    assert topic == f"{TOPIC}DecisionRecorded"
    assert state["members_present"] == 7
    state["members_present"] = 9
    with sqlite3.connect(settings.data_dir / "casework.sqlite") as db:
        updated = db.execute(
            f"UPDATE {table} SET state = ? WHERE originator_id = ? AND originator_version = 7",
            (json.dumps(state, ensure_ascii=False).encode(), selection_id.hex),
        ).rowcount
    assert updated == 1
    reader = CaseworkApplication(casework.env)  # a fresh reader of the same store

    checked, broken = verify_log(reader)

    assert checked == 2
    assert [(b.aggregate_id, b.version, b.topic) for b in broken] == [
        (selection_id, 7, f"{TOPIC}DecisionRecorded")
    ]
    assert "altered" in broken[0].reason
    assert chained_kind(broken[0].topic) == "selection"
    assert other_id not in {b.aggregate_id for b in broken}
    reader.close()


def test_an_altered_actor_in_memory_breaks_the_chain(casework: CaseworkApplication) -> None:
    selection_id = saved_selection(casework)
    events = list(casework.events.get(selection_id))
    altered = list(events)
    altered[3] = dataclasses.replace(events[3], actor={"id": "leader-9", "role": "leader"})

    broken = verify_chain(selection_id, altered)

    assert broken is not None
    assert (broken.version, broken.topic) == (4, f"{TOPIC}InspectionRecorded")
