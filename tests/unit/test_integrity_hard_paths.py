"""Hard paths of the integrity reply (廉政意见回复), from the review of issue 10 (findings 2, 4,
5, 7, 8): a reopened case counts only its current round's clearing; as of a day, a case counts
for a cadre only from that cadre's own report in it; a pending escalation or an overdue
admonition follow-up stands in the way; a cadre found untrue is not held up by the other
cadre's part of the case; a receiver's handling bars from the day it was decided."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from schemas import commands as c
from schemas.events import Actor
from schemas.glossary import (
    AdmonitionOutcome,
    Disposition,
    FindingKind,
    HandlingType,
    Role,
    Verdict,
)
from schemas.submissions import ReportSubmission
from services.bootstrap import EmbeddedSystem
from services.casework.rules import InvalidInput
from services.projections.archive.queries import ArchiveQueries
from tests.unit.conftest import advance_to, build_embedded, make_settings
from tests.unit.test_archive_full import HANDLER, LEADER, REGISTER, Driver
from tests.unit.test_per_cadre import (
    BOTH,
    CATS,
    RECEIVED,
    replies,
    two_cadres_true_and_untrue,
)

OPERATOR = Actor(id="op-1", role=Role.OPERATOR)


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path), RECEIVED)
    system.read.register.upsert(REGISTER)
    for username in ("handler-1", "handler-3"):
        system.accounts.create_user(
            username, "pw-for-tests-only", Role.HANDLER, username, enforce_policy=False
        )
    yield system
    system.stop()


def reply(system: EmbeddedSystem, cadre_id: str, as_of: dt.date) -> Any:
    return replies(system, cadre_id, as_of=as_of)[cadre_id]


def join(
    system: EmbeddedSystem,
    case_id: str,
    subject: dict[str, str],
    received: dt.date,
    joined: dt.date,
) -> str:
    """A second report naming ``subject``, received on ``received``, joined on ``joined``."""
    advance_to(system, received)
    data = {
        "channel": "hotline",
        "reporter": {"anonymous": True},
        "subjects": [subject],
        "categories": list(CATS),
        "summary": f"反映{subject['name']}的问题。",
        "received_on": received,
    }
    receipt = system.intake.submit(ReportSubmission.model_validate(data), registered_on=received)
    advance_to(system, joined)
    system.intake.triage(
        UUID(receipt.report_id),
        "accept",
        c.Accept(reason="并案", join_case_id=UUID(case_id), accepted_on=joined),
        OPERATOR,
    )
    system.catch_up()
    return receipt.report_id


# -- finding 7: per cadre, not per case --------------------------------------------------------


def test_a_cadre_found_untrue_is_not_held_up_by_the_other_cadre_s_part_of_the_case(
    system: EmbeddedSystem,
) -> None:
    """Rule: a cadre with an approved 不属实 verdict and nothing of their own pending does not
    stand in the way while the co-subject's handling is still to be decided."""
    drive = Driver(system)
    _, _, case_id = drive.submit(BOTH, received_on=RECEIVED)
    assert case_id
    drive.verify(
        case_id,
        CATS,
        Verdict.TRUE,
        dt.date(2025, 2, 1),
        per_cadre={"C-001": Verdict.TRUE, "C-002": Verdict.UNTRUE},
    )
    system.catch_up()

    li = reply(system, "C-002", dt.date(2025, 6, 1))
    assert not li.stands_in_the_way
    assert li.open_items == []
    (item,) = li.other
    assert item.status == "untrue"
    assert "经核查不属实" in item.text_zh
    assert "正在办理" not in li.opinion_zh
    # The proven co-subject's case is still open: it stands in their way.
    assert reply(system, "C-001", dt.date(2025, 6, 1)).stands_in_the_way
    # As of a day before the conclusion was approved, the case was open for both.
    assert reply(system, "C-002", dt.date(2025, 1, 20)).stands_in_the_way


# -- finding 4: as of means as of, per cadre ------------------------------------------------------


def test_as_of_a_day_a_joined_case_counts_only_from_the_cadre_s_own_report(
    system: EmbeddedSystem,
) -> None:
    """Rule: a case counts for a cadre as of a day only if one of that cadre's own reports in
    it was received, and joined to it, by then."""
    drive = Driver(system)
    _, _, case_id = drive.submit([BOTH[0]], received_on=RECEIVED)
    assert case_id
    drive.dispose(case_id, Disposition.PRELIMINARY_VERIFICATION)
    join(system, case_id, BOTH[1], dt.date(2025, 2, 10), dt.date(2025, 2, 14))

    before = reply(system, "C-002", dt.date(2025, 1, 20))
    assert not before.stands_in_the_way
    assert before.open_items == []
    assert before.clean
    # Received but not yet joined: the report is pending on its own, not the case.
    received = reply(system, "C-002", dt.date(2025, 2, 12))
    (item,) = received.open_items
    assert item.received_on == dt.date(2025, 2, 10)
    assert item.stage != "verification"
    # Joined: the case counts, from the cadre's own report.
    joined = reply(system, "C-002", dt.date(2025, 2, 14))
    (item,) = joined.open_items
    assert item.case_id == case_id
    assert item.received_on == dt.date(2025, 2, 10)
    # The first cadre's reply is unchanged by the join.
    (first,) = reply(system, "C-001", dt.date(2025, 1, 20)).open_items
    assert first.received_on == RECEIVED


# -- finding 2: reopening (复查) starts a new round ------------------------------------------------


def reround(system: EmbeddedSystem, case_id: str, per: dict[str, Verdict], on: dt.date) -> None:
    drive = Driver(system)
    verdicts = [
        c.CadreVerdict(cadre=c.CadreRef(cadre_id=k), category="seeking_office", verdict=v)
        for k, v in per.items()
    ]
    drive.run(case_id, ("reopen", c.NewEvidence(new_evidence="新证据", on=on), LEADER))
    drive.dispose(case_id, Disposition.PRELIMINARY_VERIFICATION)
    drive.run(
        case_id,
        ("record_finding", c.RecordFinding(kind=FindingKind.AUDIT, summary="复查", found_on=on), HANDLER),
        ("propose_conclusion", c.ProposeConclusion(cadre_verdicts=verdicts, reason="复查"), HANDLER),
        ("approve_conclusion", c.DatedApproval(approved_on=on), LEADER),
    )  # fmt: skip


def test_after_reopening_the_old_round_s_clearing_no_longer_counts(
    system: EmbeddedSystem,
) -> None:
    """Rule: after a reopening (复查) only the current round's clearing counts in the reply;
    the earlier round stays in the archive as history, marked with its round."""
    case_id = two_cadres_true_and_untrue(system)  # C-002 untrue, cleared 2025-03-10
    drive = Driver(system)
    advance_to(system, dt.date(2025, 5, 1))
    reround(system, case_id, {"C-001": Verdict.TRUE, "C-002": Verdict.TRUE}, dt.date(2025, 5, 1))
    drive.handle(
        case_id, c.CadreRef(cadre_id="C-002"), HandlingType.ADMONITION, dt.date(2025, 5, 2)
    )
    drive.close(case_id, dt.date(2025, 5, 3), **{"admonition_follow_up#2": "未满"})
    system.catch_up()

    li = reply(system, "C-002", dt.date(2025, 6, 1))
    assert li.stands_in_the_way
    (item,) = li.proven
    assert item.clearing is None
    assert "澄清正名" not in item.text_zh
    assert "不影响提拔使用" not in li.opinion_zh
    assert li.cleared == []
    # Between the rounds (reopened, not yet concluded again) the case is open, not cleared.
    between = reply(system, "C-002", dt.date(2025, 4, 30))
    assert between.cleared
    assert not between.stands_in_the_way
    # The archive keeps round 1's clearing, marked as round 1; round 2's steps as round 2.
    archive = ArchiveQueries(system.read.store, system.read.register).archive("C-002")
    (case,) = archive.cases
    rounds = {e.kind: e.round for e in case.entries}
    assert rounds["ClearingCarriedOut"] == 1
    assert rounds["Reopened"] == 2
    assert rounds["HandlingDecided"] == 2


def test_a_clearing_of_the_current_round_still_counts(system: EmbeddedSystem) -> None:
    """Rule (the other side of the round rule): a clearing carried out after the reopening
    counts."""
    case_id = two_cadres_true_and_untrue(system)
    drive = Driver(system)
    advance_to(system, dt.date(2025, 5, 1))
    reround(system, case_id, {"C-001": Verdict.TRUE, "C-002": Verdict.UNTRUE}, dt.date(2025, 5, 1))
    drive.clear(case_id, c.CadreRef(cadre_id="C-002"), dt.date(2025, 5, 4))
    drive.close(case_id, dt.date(2025, 5, 6))
    system.catch_up()

    (item,) = reply(system, "C-002", dt.date(2025, 6, 1)).cleared
    assert item.clearing is not None
    assert item.clearing.carried_out_on == dt.date(2025, 5, 4)


# -- finding 5: what is still to be done after closure ------------------------------------------


def admonished_and_closed(system: EmbeddedSystem) -> str:
    drive = Driver(system)
    _, _, case_id = drive.submit([BOTH[0]], received_on=RECEIVED)
    assert case_id
    drive.verify(case_id, CATS, Verdict.TRUE, dt.date(2025, 2, 1))
    drive.handle(
        case_id, c.CadreRef(cadre_id="C-001"), HandlingType.ADMONITION, dt.date(2025, 2, 10)
    )
    drive.close(case_id, dt.date(2025, 2, 20), **{"admonition_follow_up#1": "未满"})
    system.catch_up()
    return case_id


def test_an_escalation_whose_heavier_handling_is_not_decided_stands_in_the_way(
    system: EmbeddedSystem,
) -> None:
    """Rule: an admonition's follow-up escalated (拒不改正) but the heavier handling not yet
    decided is an open item that stands in the way; deciding it ends the open item."""
    case_id = admonished_and_closed(system)
    drive = Driver(system)
    advance_to(system, dt.date(2025, 8, 11))
    follow_up = c.AdmonitionFollowUp(
        handling_id=1,
        outcome=AdmonitionOutcome.ESCALATED,
        escalate_to=HandlingType.DISMISSAL,
        followed_up_on=dt.date(2025, 8, 11),
        reason="拒不改正",
    )
    drive.run(case_id, ("record_admonition_follow_up", follow_up, HANDLER))
    system.catch_up()

    wang = reply(system, "C-001", dt.date(2025, 9, 1))
    assert wang.stands_in_the_way
    (pending,) = wang.open_items
    assert pending.case_id == case_id
    assert pending.stage == "escalation_pending"
    assert "免职" in pending.text_zh
    assert "尚未作出" in pending.text_zh
    # Before the follow-up, nothing was pending (the admonition's bars had run out).
    assert not reply(system, "C-001", dt.date(2025, 8, 10)).stands_in_the_way

    decide = c.DecideHandling(
        cadre=c.CadreRef(cadre_id="C-001"),
        handling=HandlingType.DISMISSAL,
        decided_on=dt.date(2025, 8, 20),
        escalation_of=1,
        reason="加重处理",
    )
    advance_to(system, dt.date(2025, 8, 20))
    drive.run(case_id, ("decide_handling", decide, LEADER))
    system.catch_up()
    decided = reply(system, "C-001", dt.date(2025, 9, 1))
    assert decided.open_items == []
    assert decided.stands_in_the_way  # now the dismissal's bars
    assert {b.bar for b in decided.running_bars} == {"leading_post", "promotion"}


def test_an_admonition_follow_up_past_its_due_day_without_an_outcome_stands_in_the_way(
    system: EmbeddedSystem,
) -> None:
    """Rule: an admonition follow-up (限期改正) past its due day with no outcome recorded is an
    open item, with its due day, that stands in the way."""
    admonished_and_closed(system)  # follow-up due 2025-08-10

    on_the_day = reply(system, "C-001", dt.date(2025, 8, 10))
    assert not on_the_day.stands_in_the_way
    late = reply(system, "C-001", dt.date(2025, 12, 1))
    assert late.stands_in_the_way
    (overdue,) = late.open_items
    assert overdue.stage == "admonition_follow_up_overdue"
    assert overdue.due_on == dt.date(2025, 8, 10)
    assert "2025年8月10日" in overdue.text_zh
    assert "逾期" in overdue.text_zh


def test_an_admonition_follow_up_recorded_as_improved_leaves_nothing_open(
    system: EmbeddedSystem,
) -> None:
    case_id = admonished_and_closed(system)
    advance_to(system, dt.date(2025, 8, 9))
    follow_up = c.AdmonitionFollowUp(
        handling_id=1,
        outcome=AdmonitionOutcome.IMPROVED,
        followed_up_on=dt.date(2025, 8, 9),
        reason="已改正",
    )
    Driver(system).run(case_id, ("record_admonition_follow_up", follow_up, HANDLER))
    system.catch_up()
    assert not reply(system, "C-001", dt.date(2025, 12, 1)).stands_in_the_way


# -- finding 8: a receiver's handling bars from the day it was decided ----------------------------


def test_a_receiver_outcome_may_say_the_day_its_handling_was_decided_not_after_the_report() -> None:
    """Rule: an outcome's decided_on is not after the result's reported_on (422, naming it)."""
    with pytest.raises(ValidationError, match="decided_on"):
        c.RecordTransferResult.model_validate(
            {
                "outcomes": [
                    {"cadre": {"cadre_id": "C-001"}, "verdict": "true", "handling": "admonition",
                     "decided_on": "2026-04-02"},
                ],
                "reported_on": "2026-04-01",
                "document_number": "某镇党委〔2026〕3号",
            }
        )  # fmt: skip


def transferred_case(system: EmbeddedSystem) -> str:
    drive = Driver(system)
    _, _, case_id = drive.submit(BOTH, received_on=RECEIVED)
    assert case_id
    drive.dispose(case_id, Disposition.TRANSFER_TO_DISCIPLINE)
    system.catch_up()
    return case_id


def discipline_result(reported_on: dt.date | None, decided_on: dt.date | None) -> Any:
    return c.RecordDisciplineResult.model_validate(
        {
            "outcomes": [
                {"cadre": {"cadre_id": "C-001"}, "verdict": "true", "handling": "admonition",
                 "decided_on": decided_on},
                {"cadre": {"cadre_id": "C-002"}, "verdict": "untrue"},
            ],
            "reported_on": reported_on,
            "document_number": "青纪审〔2025〕12号",
        }
    )  # fmt: skip


def test_a_discipline_result_s_handling_bars_from_its_decision_day(
    system: EmbeddedSystem,
) -> None:
    """Rule: a receiver's handling bars from the day it was decided (decided_on), not from the
    day the result was reported back."""
    case_id = transferred_case(system)
    advance_to(system, dt.date(2025, 5, 6))
    result = discipline_result(dt.date(2025, 5, 6), dt.date(2025, 3, 1))
    system.casework.execute(UUID(case_id), "record_discipline_result", result, HANDLER)
    system.catch_up()

    wang = reply(system, "C-001", dt.date(2025, 6, 1))
    assert {(b.bar, b.starts_on, b.ends_on) for b in wang.running_bars} == {
        ("promotion", dt.date(2025, 3, 1), dt.date(2025, 9, 1)),
        ("key_post", dt.date(2025, 3, 1), dt.date(2025, 9, 1)),
    }
    (item,) = wang.proven
    (handling,) = item.handlings
    assert handling.decided_on == dt.date(2025, 3, 1)
    # Without decided_on, the day reported.
    assert not reply(system, "C-001", dt.date(2025, 9, 1)).stands_in_the_way


def test_a_discipline_result_is_not_reported_in_the_future_nor_decided_after_it(
    system: EmbeddedSystem,
) -> None:
    """Rule: record_discipline_result's reported_on is not after today, and an outcome's
    decided_on not after reported_on (422 naming the field, nothing stored)."""
    case_id = transferred_case(system)
    today = system.clock.today()
    version = system.casework.get_case(UUID(case_id)).version
    future = discipline_result(today + dt.timedelta(days=1), None)
    with pytest.raises(InvalidInput, match="reported_on"):
        system.casework.execute(UUID(case_id), "record_discipline_result", future, HANDLER)
    late = discipline_result(None, today + dt.timedelta(days=1))  # reported today
    with pytest.raises(InvalidInput, match="decided_on"):
        system.casework.execute(UUID(case_id), "record_discipline_result", late, HANDLER)
    assert system.casework.get_case(UUID(case_id)).version == version


def test_a_transfer_result_outcome_decided_after_today_is_refused(system: EmbeddedSystem) -> None:
    """Rule: a transfer result reported today (the default) cannot carry an outcome decided
    after it (422 naming outcomes.0.decided_on)."""
    from services.intake.base import SubmissionRefused

    drive = Driver(system)
    report_id, _, _ = drive.submit([BOTH[0]], categories=("other_conduct",), received_on=RECEIVED)
    rid = UUID(report_id)
    system.intake.triage(
        rid, "transfer_down", c.TransferDown(to_unit="某镇党委", reason="下级"), OPERATOR
    )
    system.intake.triage(rid, "acknowledge_transfer", c.AcknowledgeTransfer(), OPERATOR)
    today = system.clock.today()
    result = c.RecordTransferResult.model_validate(
        {
            "outcomes": [
                {"cadre": {"cadre_id": "C-001"}, "verdict": "true", "handling": "admonition",
                 "decided_on": today + dt.timedelta(days=1)},
            ],
            "document_number": "某镇党委〔2025〕3号",
        }
    )  # fmt: skip
    with pytest.raises(SubmissionRefused, match="decided_on"):
        system.intake.triage(rid, "record_transfer_result", result, OPERATOR)
    decided = today - dt.timedelta(days=3)
    ok = result.model_copy(
        update={"outcomes": [result.outcomes[0].model_copy(update={"decided_on": decided})]}
    )
    system.intake.triage(rid, "record_transfer_result", ok, OPERATOR)
    system.catch_up()
    (item,) = reply(system, "C-001", today).proven
    assert {b.starts_on for h in item.handlings for b in h.bars} == {decided}


def test_a_result_without_decided_on_bars_from_the_day_reported(system: EmbeddedSystem) -> None:
    case_id = transferred_case(system)
    advance_to(system, dt.date(2025, 5, 6))
    result = discipline_result(dt.date(2025, 5, 6), None)
    system.casework.execute(UUID(case_id), "record_discipline_result", result, HANDLER)
    system.catch_up()
    starts = {b.starts_on for b in reply(system, "C-001", dt.date(2025, 6, 1)).running_bars}
    assert starts == {dt.date(2025, 5, 6)}


def test_a_discipline_result_reported_in_the_future_is_refused_over_http_naming_the_field(
    system: EmbeddedSystem,
) -> None:
    """Rule: 422 naming reported_on (and outcomes.N.decided_on), nothing stored."""
    case_id = transferred_case(system)
    today = system.clock.today()
    headers = {
        "Authorization": "Bearer "
        + system.accounts.issue_token(system.accounts.principal("handler-1"))
    }
    body = discipline_result(today + dt.timedelta(days=1), None).model_dump(mode="json")
    late = discipline_result(today, today).model_dump(mode="json")
    late["outcomes"][0]["decided_on"] = (today + dt.timedelta(days=1)).isoformat()
    url = f"/api/v1/cases/{case_id}/record_discipline_result"
    with TestClient(system.web_app()) as client:
        future = client.post(url, json=body, headers=headers)
        after = client.post(url, json=late, headers=headers)
    assert future.status_code == 422, future.text
    assert future.json()["detail"].startswith("reported_on:")
    assert after.status_code == 422, after.text
    assert "outcomes.0.decided_on" in after.json()["detail"]
    system.catch_up()
    (item,) = reply(system, "C-001", today).open_items  # still awaiting the result
    assert item.receiver_result is None
