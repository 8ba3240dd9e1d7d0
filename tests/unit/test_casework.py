"""Casework consumes intake's events exactly once: one accepted report, one case."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID, uuid4

import pytest

from schemas import commands as c
from schemas.events import EventEnvelope
from schemas.glossary import CaseState
from services.casework.application import CaseworkApplication, ConcurrentChange
from services.casework.domain import Case
from services.casework.rules import CaseNotFound, RoleNotAllowed, RuleBroken, TransitionNotAllowed
from services.intake.domain import case_id_for_report
from tests.unit.conftest import all_envelopes, envelope, max_id

SYSTEM = {"id": "intake-policy", "role": "system"}
LEADER = {"id": "leader-1", "role": "leader"}
HANDLER = {"id": "handler-1", "role": "handler"}
SUBJECT = {"name": "王建国", "unit": "某县财政局", "position": "局长", "cadre_id": "C-001"}


def accepted(
    report_id: UUID | None = None,
    *,
    position: int = 3,
    case_id: UUID | None = None,
    joins_case: bool = False,
    ledger_number: str = "JB-2026-000001",
    anonymous: bool = True,
) -> EventEnvelope:
    """Given: intake published that a report was accepted into casework."""
    report_id = report_id or uuid4()
    return envelope(
        "ReportAccepted",
        {
            "case_id": str(case_id or case_id_for_report(report_id)),
            "ledger_number": ledger_number,
            "channel": "hotline",
            "categories": ["seeking_office"],
            "subjects": [SUBJECT],
            "summary": "反映王建国跑官要官。",
            "received_on": "2026-03-02",
            "reporter": {"ref": f"ref-{report_id}", "anonymous": anonymous, "verified": False},
            "joins_case": joins_case,
            "actor": SYSTEM,
            "reason": "in the 12380 scope",
        },
        position=position,
        aggregate_id=report_id,
        aggregate_version=3,
    )


def other_intake_event(event_type: str, position: int) -> EventEnvelope:
    payloads: dict[str, dict[str, Any]] = {
        "ReportRegistered": {"ledger_number": "JB-2026-000009", "actor": SYSTEM},
        "AcceptanceNoticeSent": {"sent_on": "2026-03-05", "actor": SYSTEM},
    }
    return envelope(event_type, payloads[event_type], position=position)


def published_types(casework: CaseworkApplication) -> list[str]:
    return [e.event_type for e in all_envelopes(casework)]


def test_an_accepted_report_opens_one_case_with_the_deterministic_id(
    casework: CaseworkApplication,
) -> None:
    report_id = uuid4()

    assert casework.handle(accepted(report_id, position=3), upstream="intake") is True

    case = casework.get_case(case_id_for_report(report_id))
    assert case.report_ids == [report_id]
    assert case.ledger_number == "JB-2026-000001"
    assert case.state is CaseState.OPEN
    assert case.subjects == [SUBJECT]
    published = all_envelopes(casework)
    assert [e.event_type for e in published] == ["CaseOpened"]
    assert published[0].aggregate_id == case_id_for_report(report_id)
    assert published[0].payload["report_id"] == str(report_id)
    assert casework.position("intake") == 3


def test_the_same_envelope_handled_twice_is_ignored_the_second_time(
    casework: CaseworkApplication,
) -> None:
    event = accepted(position=7)
    casework.handle(event, upstream="intake")
    stored = max_id(casework)

    assert casework.handle(event, upstream="intake") is False

    assert max_id(casework) == stored
    assert published_types(casework) == ["CaseOpened"]


def test_a_redelivery_under_another_tracking_name_still_opens_no_second_case(
    casework: CaseworkApplication,
) -> None:
    # The partition was reassigned: the same event arrives under a new tracking name.
    report_id = uuid4()
    casework.handle(accepted(report_id, position=4), upstream="intake#p1")

    assert casework.handle(accepted(report_id, position=4), upstream="intake#p2") is True

    assert published_types(casework) == ["CaseOpened"]
    assert casework.get_case(case_id_for_report(report_id)).version == 1


@pytest.mark.parametrize("event_type", ["ReportRegistered", "AcceptanceNoticeSent"])
def test_other_intake_events_are_tracked_but_open_nothing(
    casework: CaseworkApplication, event_type: str
) -> None:
    assert casework.handle(other_intake_event(event_type, 5), upstream="intake") is True

    assert casework.position("intake") == 5
    assert max_id(casework) == 0
    assert casework.handle(other_intake_event(event_type, 5), upstream="intake") is False


def test_tracking_names_per_partition_are_independent(casework: CaseworkApplication) -> None:
    casework.handle(accepted(position=9), upstream="intake#p0")

    # position 4 on another partition is new, although 4 < 9
    assert casework.handle(accepted(position=4), upstream="intake#p1") is True

    assert casework.position("intake#p0") == 9
    assert casework.position("intake#p1") == 4
    assert casework.position("intake#p2") == 0
    assert casework.handle(accepted(position=4), upstream="intake#p1") is False
    assert published_types(casework) == ["CaseOpened", "CaseOpened"]


def test_a_report_joining_an_open_case_is_added_to_it(casework: CaseworkApplication) -> None:
    first = uuid4()
    case_id = case_id_for_report(first)
    casework.handle(accepted(first, position=3), upstream="intake")
    second = uuid4()

    casework.handle(
        accepted(
            second,
            position=6,
            case_id=case_id,
            joins_case=True,
            ledger_number="JB-2026-000002",
            anonymous=False,
        ),
        upstream="intake",
    )

    case = casework.get_case(case_id)
    assert case.report_ids == [first, second]
    assert case.real_name_reporters == 1
    assert published_types(casework) == ["CaseOpened", "ReportJoined"]
    with pytest.raises(CaseNotFound):
        casework.get_case(case_id_for_report(second))


# -- commands on a case: given events, when command, then events or error -------------------


def opened_case() -> Case:
    case = Case.open(
        uuid4(),
        report_id=uuid4(),
        ledger_number="JB-2026-000001",
        channel="hotline",
        categories=["seeking_office"],
        subjects=[SUBJECT],
        summary="反映王建国跑官要官。",
        received_on=dt.date(2026, 3, 2),
        opened_on=dt.date(2026, 3, 2),
        reporter={"ref": "r", "anonymous": True, "verified": False},
        actor=SYSTEM,
    )
    case.collect_events()
    return case


def new_event_types(case: Case) -> list[str]:
    return [type(e).__name__ for e in case.collect_events()]


def test_a_leader_assigns_a_handler() -> None:
    case = opened_case()

    case.assign("handler-1", LEADER, "熟悉该单位")

    assert new_event_types(case) == ["HandlerAssigned"]
    assert case.state is CaseState.ASSIGNED
    assert case.handler_id == "handler-1"


def test_a_handler_may_not_assign() -> None:
    case = opened_case()

    with pytest.raises(RoleNotAllowed, match="allowed: leader"):
        case.assign("handler-1", HANDLER)
    assert new_event_types(case) == []


def test_only_the_assigned_handler_proposes_a_disposition() -> None:
    case = opened_case()
    case.assign("handler-1", LEADER)
    case.collect_events()

    with pytest.raises(RuleBroken) as refused:
        case.propose_disposition(
            c.ProposeDisposition(disposition="talk_inquiry", reason="x").disposition,
            {"id": "handler-2", "role": "handler"},
            "函询",
        )
    assert refused.value.rule.name == "assigned_handler_only"
    assert new_event_types(case) == []


def test_a_disposition_cannot_be_approved_before_it_is_proposed() -> None:
    case = opened_case()
    case.assign("handler-1", LEADER)
    case.collect_events()

    with pytest.raises(TransitionNotAllowed, match="needs a proposed disposition"):
        case.approve_disposition({"held_on": "2026-03-03", "participants": ["甲"]}, LEADER)
    assert new_event_types(case) == []


def test_a_command_on_a_stale_version_is_refused(casework: CaseworkApplication) -> None:
    report_id = uuid4()
    casework.handle(accepted(report_id), upstream="intake")
    case_id = case_id_for_report(report_id)
    casework.execute(case_id, "assign", c.Assign(handler_id="handler-1"), LEADER)
    stored = max_id(casework)

    with pytest.raises(ConcurrentChange, match="you read version 1, it is now 2"):
        casework.execute(
            case_id, "assign", c.Assign(handler_id="handler-2", expected_version=1), LEADER
        )
    assert max_id(casework) == stored
    assert casework.get_case(case_id).handler_id == "handler-1"
