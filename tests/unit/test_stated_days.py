"""Issue 10, review of intake's triage (decision 0013): a day a triage command states is
never after today (the injected clock's) nor before the report was received — checked in one
place for every command (``IntakeApplication.check_stated_days``); 422 naming the field,
nothing stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from schemas import commands as c
from schemas.glossary import Role
from services.intake.application import IntakeApplication
from services.intake.base import STATED_DAYS, StatedDayRefused
from services.intake.triage import TRIAGE_COMMANDS
from tests.support.auth import bearer
from tests.unit.conftest import (
    OPERATOR,
    TODAY,
    build_embedded,
    make_settings,
    real_name_submission,
    submission,
)
from tests.unit.pages_support import build_system as build_pages_system
from tests.unit.pages_support import csrf, sign_in
from tests.unit.pages_support import submit as pages_submit

RECEIVED = TODAY - dt.timedelta(days=5)
FUTURE = TODAY + dt.timedelta(days=1)
TOO_EARLY = RECEIVED - dt.timedelta(days=1)


def registered(intake: IntakeApplication) -> UUID:
    return UUID(intake.submit(real_name_submission(received_on=RECEIVED), actor=OPERATOR).report_id)


def transferred(intake: IntakeApplication) -> UUID:
    report_id = registered(intake)
    intake.triage(report_id, "transfer_down", c.TransferDown(to_unit="某县纪委"), OPERATOR)
    return report_id


def acknowledged(intake: IntakeApplication) -> UUID:
    report_id = transferred(intake)
    intake.triage(report_id, "acknowledge_transfer", c.AcknowledgeTransfer(), OPERATOR)
    return report_id


def result(model: type[c.ReceiverResult], day: dt.date, **fields: Any) -> c.ReceiverResult:
    """A receiver's result for the one cadre the report names."""
    return model.model_validate(
        {
            "outcomes": [{"cadre": {"name": "王建国", "unit": "某县财政局"}, "verdict": "untrue"}],
            "document_number": "〔2026〕1号",
            "reported_on": day,
            **fields,
        }
    )


def referred(intake: IntakeApplication) -> UUID:
    report_id = registered(intake)
    intake.triage(report_id, "refer_out", c.ReferOut(member_unit="discipline_commission"), OPERATOR)
    return report_id


# action -> (how to reach a report it applies to, its command with the day stated)
CASES: dict[str, tuple[Callable[[IntakeApplication], UUID], Callable[[dt.date], Any]]] = {
    "accept": (registered, lambda d: c.Accept(accepted_on=d)),
    "forward_up": (registered, lambda d: c.ForwardUp(to_authority="市委组织部", forwarded_on=d)),
    "transfer_down": (registered, lambda d: c.TransferDown(to_unit="某县", transferred_on=d)),
    "acknowledge_transfer": (transferred, lambda d: c.AcknowledgeTransfer(acknowledged_on=d)),
    "refer_out": (
        registered,
        lambda d: c.ReferOut(member_unit="discipline_commission", referred_on=d),
    ),
    "record_referral_result": (
        referred,
        lambda d: result(c.RecordReferralResult, d, result="已查处"),
    ),
    "record_transfer_result": (acknowledged, lambda d: result(c.RecordTransferResult, d)),
    "verify_identity": (registered, lambda d: c.VerifyIdentity(method="phone", verified_on=d)),
    "send_acceptance_notice": (registered, lambda d: c.SendAcceptanceNotice(sent_on=d)),
}


def test_every_triage_command_with_a_stated_day_is_covered() -> None:
    stated = {
        action
        for action, (model, _) in TRIAGE_COMMANDS.items()
        if set(model.model_fields) & set(STATED_DAYS)
    }
    assert stated == set(CASES)


@pytest.mark.parametrize("action", sorted(CASES))
@pytest.mark.parametrize(
    ("day", "problem"),
    [(FUTURE, "in the future"), (TOO_EARLY, "before the day the report was received")],
    ids=["after today", "before receipt"],
)
def test_a_stated_day_is_neither_after_today_nor_before_receipt(
    intake_manual: IntakeApplication, action: str, day: dt.date, problem: str
) -> None:
    reach, command = CASES[action]
    report_id = reach(intake_manual)
    before = intake_manual.get_report(report_id).version
    field = next(f for f in STATED_DAYS if f in type(command(day)).model_fields)

    with pytest.raises(StatedDayRefused) as refused:
        intake_manual.triage(report_id, action, command(day), OPERATOR)

    assert refused.value.field == field
    assert problem in str(refused.value)
    assert intake_manual.get_report(report_id).version == before  # nothing stored
    done = intake_manual.triage(report_id, action, command(RECEIVED), OPERATOR)
    assert done.version > before  # the bounds themselves are allowed


def test_a_case_is_not_accepted_in_2030_over_http(tmp_path: Path) -> None:
    system = build_embedded(make_settings(tmp_path, auto_accept=False))
    try:
        op = bearer(system.accounts, "op", Role.OPERATOR)
        with TestClient(system.web_app()) as client:
            report_id = client.post(
                "/api/v1/reports", json=submission().model_dump(mode="json"), headers=op
            ).json()["report_id"]
            refused = client.post(
                f"/api/v1/reports/{report_id}/accept",
                json={"reason": "受理", "accepted_on": "2030-01-01"},
                headers=op,
            )
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith("accepted_on: 2030-01-01 is in the future")
        assert system.intake.get_report(UUID(report_id)).case_id is None
    finally:
        system.stop()


def test_the_accept_form_names_a_future_day_on_its_field(tmp_path: Path) -> None:
    """The report page's form answers 422 with the problem on the field, not an error page."""
    system = build_pages_system(tmp_path)
    try:
        report_id = pages_submit(
            system, {"name": "王建国", "unit": "某县财政局", "position": "局长"}
        )
        with TestClient(system.web_app()) as client:
            sign_in(client, system, "operator")
            page = client.post(
                f"/reports/{report_id}/accept",
                data={
                    "csrf_token": csrf(client),
                    "reason": "属于受理范围",
                    "accepted_on": "2030-01-01",
                },
                follow_redirects=False,
            )
        assert page.status_code == 422, page.text
        assert "2030-01-01 晚于今天" in page.text
        assert system.intake.get_report(report_id).case_id is None
    finally:
        system.stop()
