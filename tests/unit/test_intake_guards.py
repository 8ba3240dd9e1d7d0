"""Intake's guards on triage (issue 10, item 9): a report joins only an open case that
casework knows, and a report is never a repeat of itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from schemas import commands as c
from schemas.events import Actor
from schemas.glossary import CaseState, Disposition, ReportStatus, Role
from services.bootstrap import EmbeddedSystem, case_states_from_read_models
from services.intake.domain import IntakeRuleBroken
from tests.unit.conftest import make_settings, submission

OPERATOR = Actor(id="op-1", role=Role.OPERATOR)
LEADER = {"id": "leader-1", "role": "leader"}
HANDLER = {"id": "handler-a", "role": "handler"}
STUDY = c.CollectiveStudy(held_on=dt.date(2026, 3, 2), participants=["李书记", "王部长"])


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = EmbeddedSystem.build(make_settings(tmp_path, auto_accept=False))
    yield system
    system.stop()


def submit(system: EmbeddedSystem) -> UUID:
    return UUID(system.intake.submit(submission()).report_id)


def accepted_case(system: EmbeddedSystem) -> UUID:
    report = system.intake.triage(submit(system), "accept", c.Accept(), OPERATOR)
    assert report.case_id is not None
    system.catch_up()
    return report.case_id


def dispose(system: EmbeddedSystem, case_id: UUID, disposition: Disposition) -> None:
    run = system.casework.execute
    run(case_id, "assign", c.Assign(handler_id="handler-a"), LEADER)
    run(
        case_id,
        "propose_disposition",
        c.ProposeDisposition(disposition=disposition, reason="经研究"),
        HANDLER,
    )
    run(case_id, "approve_disposition", c.ApproveDisposition(collective_study=STUDY), LEADER)


def test_joining_an_unknown_case_is_refused_and_opens_nothing(system: EmbeddedSystem) -> None:
    report_id = submit(system)

    with pytest.raises(IntakeRuleBroken, match=r"no case .* to join"):
        system.intake.triage(report_id, "accept", c.Accept(join_case_id=uuid4()), OPERATOR)

    assert system.intake.get_report(report_id).status is ReportStatus.REGISTERED
    system.catch_up()
    assert system.read.cases.case_list().total == 0


@pytest.mark.parametrize(
    ("disposition", "state"),
    [(Disposition.CLOSE, CaseState.CLOSED), (Disposition.TRANSFER_TO_DISCIPLINE, "transferred")],
)
def test_joining_a_closed_or_transferred_case_is_refused(
    system: EmbeddedSystem, disposition: Disposition, state: str
) -> None:
    case_id = accepted_case(system)
    dispose(system, case_id, disposition)
    report_id = submit(system)

    with pytest.raises(IntakeRuleBroken, match=f"is {CaseState(state).value}: a report joins"):
        system.intake.triage(report_id, "accept", c.Accept(join_case_id=case_id), OPERATOR)

    assert system.intake.get_report(report_id).status is ReportStatus.REGISTERED


def test_joining_an_open_case_still_works(system: EmbeddedSystem) -> None:
    case_id = accepted_case(system)
    report_id = submit(system)

    report = system.intake.triage(report_id, "accept", c.Accept(join_case_id=case_id), OPERATOR)
    system.catch_up()

    assert report.case_id == case_id
    assert len(system.casework.get_case(case_id).report_ids) == 2


def test_the_api_refuses_joining_an_unknown_case_with_409_and_a_message(
    system: EmbeddedSystem,
) -> None:
    report_id = submit(system)
    principal = system.accounts.create_user(
        "op-guards", "pw-for-tests-only", Role.OPERATOR, "op", enforce_policy=False
    )
    headers = {"Authorization": f"Bearer {system.accounts.issue_token(principal)}"}

    with TestClient(system.web_app()) as client:
        response = client.post(
            f"/api/v1/reports/{report_id}/accept",
            json={"join_case_id": str(uuid4())},
            headers=headers,
        )

    assert response.status_code == 409
    assert "no case" in response.json()["detail"]
    assert "不能并案" in response.json()["detail_zh"]


def test_a_report_cannot_be_a_repeat_of_itself(system: EmbeddedSystem) -> None:
    report_id = submit(system)

    with pytest.raises(IntakeRuleBroken, match="repeat of itself"):
        system.intake.triage(
            report_id, "mark_repeat", c.MarkRepeat(of_report_id=report_id, reason="重复"), OPERATOR
        )

    assert system.intake.get_report(report_id).status is ReportStatus.REGISTERED


def test_the_distributed_lookup_reads_the_case_list(system: EmbeddedSystem) -> None:
    """The read-model lookup (the distributed intake's) sees the state casework projected."""
    case_id = accepted_case(system)
    lookup = case_states_from_read_models(system.settings)

    assert lookup(case_id) is CaseState.OPEN
    assert lookup(uuid4()) is None
    dispose(system, case_id, Disposition.TRANSFER_TO_DISCIPLINE)
    system.catch_up()
    assert lookup(case_id) is CaseState.TRANSFERRED
