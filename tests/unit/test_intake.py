"""Intake: reports are received, numbered gaplessly, accepted per policy, idempotently."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from uuid import UUID, uuid4

import pytest

from schemas import commands as c
from schemas.events import Actor
from schemas.glossary import ReportStatus, Role
from services.common.procedure import ProcedureError, RoleNotAllowed
from services.intake.application import IntakeApplication
from services.intake.base import ConcurrentTriage, IntakePolicy
from services.intake.domain import (
    IntakeRuleBroken,
    Ledger,
    Report,
    ReportNotFound,
    case_id_for_report,
    ledger_id_for_year,
)
from services.intake.errors import IdempotencyKeyReused
from services.intake.registration import SEALED_SUMMARY
from tests.unit.conftest import (
    OPERATOR,
    REPORTER_EMAIL,
    REPORTER_ID_NUMBER,
    REPORTER_NAME,
    REPORTER_PHONE,
    TODAY,
    YEAR,
    all_envelopes,
    max_id,
    real_name_submission,
    submission,
)

SYSTEM = {"id": "intake-policy", "role": "system"}
DESK = {"id": "op-1", "role": "operator"}


def received(*, anonymous: bool = True) -> Report:
    """Given: a report received (and nothing else)."""
    return Report(
        id=uuid4(),
        channel="hotline",
        categories=["seeking_office"],
        subjects=[{"name": "王建国", "unit": "某县财政局", "position": "", "cadre_id": None}],
        summary="反映王建国跑官要官。",
        sealed=False,
        reporter={"ref": "r-1", "anonymous": anonymous, "verified": False},
        referral=None,
        received_on=TODAY,
        actor=DESK,
        submission_digest="d",
    )


def new_event_types(aggregate: Any) -> list[str]:
    return [type(e).__name__ for e in aggregate.collect_events()]


# -- the domain: given events, when command, then events or error ----------------------------


def test_the_ledger_allocates_gapless_numbers_per_year() -> None:
    ledger = Ledger.open(YEAR)

    numbers = [ledger.allocate(uuid4()) for _ in range(3)]

    assert numbers == [f"JB-{YEAR}-000001", f"JB-{YEAR}-000002", f"JB-{YEAR}-000003"]
    assert ledger.id == ledger_id_for_year(YEAR)
    assert new_event_types(ledger) == ["Opened", *["NumberAllocated"] * 3]


def test_a_received_report_is_registered_once() -> None:
    report = received()
    report.register("JB-2026-000001", DESK)
    assert new_event_types(report) == ["Received", "Registered"]

    with pytest.raises(IntakeRuleBroken, match="already registered as JB-2026-000001"):
        report.register("JB-2026-000002", DESK)
    assert new_event_types(report) == []
    assert report.ledger_number == "JB-2026-000001"


def test_an_unregistered_report_cannot_be_accepted() -> None:
    report = received()
    report.collect_events()

    with pytest.raises(ProcedureError) as refused:
        report.accept(case_id_for_report(report.id), SYSTEM, "in scope", accepted_on=TODAY)

    # the refusal speaks of the report (not of a case) and says what is needed
    assert str(refused.value) == (
        "cannot accept a report that is received: needs a registered, untriaged report"
    )

    assert refused.value.message_zh  # every refusal has the text the pages show
    assert new_event_types(report) == []
    assert report.status is ReportStatus.RECEIVED
    assert report.case_id is None


def test_a_registered_report_is_accepted_once() -> None:
    report = received()
    report.register("JB-2026-000001", DESK)
    report.collect_events()
    case_id = case_id_for_report(report.id)

    report.accept(case_id, SYSTEM, "in scope", accepted_on=TODAY)
    assert new_event_types(report) == ["Accepted"]
    assert report.case_id == case_id

    with pytest.raises(ProcedureError, match="registered"):
        report.accept(case_id, SYSTEM, "again", accepted_on=TODAY)
    assert new_event_types(report) == []
    assert report.status is ReportStatus.ACCEPTED


def test_the_case_a_report_opens_is_deterministic() -> None:
    report_id = uuid4()
    assert case_id_for_report(report_id) == case_id_for_report(report_id)
    assert case_id_for_report(report_id) != case_id_for_report(uuid4())


def test_an_anonymous_reporter_has_no_identity_to_verify_or_notice_to_receive() -> None:
    report = received(anonymous=True)
    report.register("JB-2026-000001", DESK)
    report.collect_events()

    with pytest.raises(IntakeRuleBroken, match="anonymous"):
        report.verify_identity("phone", TODAY, DESK)
    with pytest.raises(IntakeRuleBroken, match="real-name reporters only"):
        report.send_acceptance_notice(TODAY, DESK)
    assert new_event_types(report) == []


def test_the_acceptance_notice_is_sent_once_to_a_real_name_reporter() -> None:
    report = received(anonymous=False)
    report.register("JB-2026-000001", DESK, acceptance_notice_due={"due": dt.date(2026, 3, 23)})
    report.collect_events()

    report.send_acceptance_notice(dt.date(2026, 3, 10), DESK)
    assert new_event_types(report) == ["AcceptanceNoticeSent"]
    assert report.acceptance_notice == {"due": dt.date(2026, 3, 23), "met_on": dt.date(2026, 3, 10)}

    with pytest.raises(IntakeRuleBroken, match="already sent"):
        report.send_acceptance_notice(dt.date(2026, 3, 11), DESK)
    assert new_event_types(report) == []


def test_a_repeat_needs_a_reason_and_the_report_it_repeats() -> None:
    report = received()
    report.register("JB-2026-000002", DESK)
    report.collect_events()

    with pytest.raises(IntakeRuleBroken, match="needs a reason"):
        report.triage_to(ReportStatus.REPEAT, DESK, "  ", of_report_id=str(uuid4()))
    with pytest.raises(IntakeRuleBroken, match="names the report it repeats"):
        report.triage_to(ReportStatus.REPEAT, DESK, "same matter")
    assert new_event_types(report) == []


@pytest.mark.parametrize(
    ("categories", "sealed", "auto_accept", "accepts"),
    [
        (["seeking_office"], False, True, True),
        (["seeking_office"], False, False, False),
        (["seeking_office", "other_conduct"], False, True, False),
        (["seeking_office"], True, True, False),
    ],
)
def test_the_intake_policy_accepts_only_open_reports_in_the_12380_scope(
    categories: list[str], sealed: bool, auto_accept: bool, accepts: bool
) -> None:
    policy = IntakePolicy(auto_accept=auto_accept)
    assert (
        policy.accepts_on_registration(submission(categories=categories, sealed=sealed)) is accepts
    )


# -- the application ------------------------------------------------------------------------


def test_reports_are_numbered_gaplessly_and_accepted_into_a_case(intake: IntakeApplication) -> None:
    receipts = [intake.submit(submission(summary=f"第{i}件")) for i in range(1, 4)]

    assert [r.ledger_number for r in receipts] == [
        f"JB-{YEAR}-000001",
        f"JB-{YEAR}-000002",
        f"JB-{YEAR}-000003",
    ]
    for receipt in receipts:
        assert receipt.status == "accepted"
        assert receipt.case_id == str(case_id_for_report(UUID(receipt.report_id)))
        assert receipt.query_code is None
        assert receipt.password is None


def test_a_refused_submission_does_not_consume_a_ledger_number(intake: IntakeApplication) -> None:
    first = intake.submit(submission(), idempotency_key="k-1")
    with pytest.raises(IdempotencyKeyReused):
        intake.submit(submission(summary="另一件事"), idempotency_key="k-1")
    second = intake.submit(submission(summary="另一件事"), idempotency_key="k-2")

    assert [first.ledger_number, second.ledger_number] == [
        f"JB-{YEAR}-000001",
        f"JB-{YEAR}-000002",
    ]


def test_a_retried_idempotency_key_returns_the_first_receipt_and_stores_nothing(
    intake: IntakeApplication,
) -> None:
    first = intake.submit(real_name_submission(channel="mailbox"), idempotency_key="retry-1")
    stored = max_id(intake)

    again = intake.submit(real_name_submission(channel="mailbox"), idempotency_key="retry-1")

    assert again == first
    assert again.password is not None
    assert max_id(intake) == stored


def test_a_reused_idempotency_key_with_another_body_is_refused_and_stores_nothing(
    intake: IntakeApplication,
) -> None:
    intake.submit(submission(), idempotency_key="reuse-1")
    stored = max_id(intake)
    vault_rows = intake.vault._db  # the vault shares intake's database

    with pytest.raises(IdempotencyKeyReused, match="different submission"):
        intake.submit(real_name_submission(summary="另一件事"), idempotency_key="reuse-1")

    assert max_id(intake) == stored
    with vault_rows.transaction() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM reporter_vault")
        assert cur.fetchone() == {"n": 0}


def test_different_keys_register_different_reports(intake: IntakeApplication) -> None:
    a = intake.submit(submission(), idempotency_key="a")
    b = intake.submit(submission(), idempotency_key="b")
    assert a.report_id != b.report_id
    assert a.ledger_number != b.ledger_number


def test_a_mailbox_receipt_carries_credentials_that_verify(intake: IntakeApplication) -> None:
    receipt = intake.submit(submission(channel="mailbox"))

    assert receipt.query_code is not None
    assert receipt.password is not None
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", receipt.query_code)
    found = intake.vault.report_for_credentials(receipt.query_code, receipt.password)
    assert found == UUID(receipt.report_id)
    # typed loosely: lower case, without dashes
    loose = receipt.query_code.replace("-", "").lower()
    assert intake.vault.report_for_credentials(loose, receipt.password.lower()) == found


def test_a_wrong_password_or_code_finds_nothing(intake: IntakeApplication) -> None:
    receipt = intake.submit(submission(channel="mailbox"))
    other = intake.submit(submission(channel="mailbox", summary="另一件"))
    assert receipt.query_code is not None
    assert other.password is not None

    assert intake.vault.report_for_credentials(receipt.query_code, "WRONGPASS0") is None
    assert intake.vault.report_for_credentials(receipt.query_code, other.password) is None
    assert intake.vault.report_for_credentials("AAAA-BBBB-CCCC", other.password) is None


def test_without_auto_accept_a_report_stays_registered_without_a_case(
    intake_manual: IntakeApplication,
) -> None:
    receipt = intake_manual.submit(submission())

    assert receipt.status == "registered"
    assert receipt.case_id is None
    report = intake_manual.get_report(UUID(receipt.report_id))
    assert report.status is ReportStatus.REGISTERED
    types = [e.event_type for e in all_envelopes(intake_manual)]
    assert types == ["ReportReceived", "ReportRegistered"]


def test_an_operator_accepts_a_registered_report_once(intake_manual: IntakeApplication) -> None:
    report_id = UUID(intake_manual.submit(submission()).report_id)

    report = intake_manual.triage(report_id, "accept", c.Accept(reason="属于受理范围"), OPERATOR)
    assert report.status is ReportStatus.ACCEPTED
    assert report.case_id == case_id_for_report(report_id)
    stored = max_id(intake_manual)

    with pytest.raises(ProcedureError, match="registered"):
        intake_manual.triage(report_id, "accept", c.Accept(reason="again"), OPERATOR)
    assert max_id(intake_manual) == stored
    accepted = [e for e in all_envelopes(intake_manual) if e.event_type == "ReportAccepted"]
    assert len(accepted) == 1
    assert accepted[0].payload["case_id"] == str(case_id_for_report(report_id))
    assert accepted[0].payload["reason"] == "属于受理范围"


def test_a_handler_may_not_triage(intake_manual: IntakeApplication) -> None:
    report_id = UUID(intake_manual.submit(submission()).report_id)
    stored = max_id(intake_manual)

    with pytest.raises(RoleNotAllowed, match="allowed: operator, system"):
        intake_manual.triage(report_id, "accept", c.Accept(), Actor(id="h-1", role=Role.HANDLER))
    assert max_id(intake_manual) == stored


def test_triage_on_a_stale_version_is_refused(intake_manual: IntakeApplication) -> None:
    report_id = UUID(
        intake_manual.submit(submission()).report_id
    )  # version 2: received, registered

    with pytest.raises(ConcurrentTriage, match="changed by someone else"):
        intake_manual.triage(report_id, "accept", c.Accept(expected_version=1), OPERATOR)
    assert intake_manual.get_report(report_id).status is ReportStatus.REGISTERED


def test_an_unknown_report_is_not_found(intake: IntakeApplication) -> None:
    missing = uuid4()
    with pytest.raises(ReportNotFound, match=str(missing)):
        intake.get_report(missing)


# -- what leaves intake -----------------------------------------------------------------------


def published_text(intake: IntakeApplication) -> str:
    return "\n".join(e.model_dump_json() for e in all_envelopes(intake))


def test_published_events_never_hold_the_real_name_reporters_identity(
    intake: IntakeApplication,
) -> None:
    receipt = intake.submit(real_name_submission(channel="mailbox"))
    envelopes = all_envelopes(intake)
    text = published_text(intake)

    assert [e.event_type for e in envelopes] == [
        "ReportReceived",
        "ReportRegistered",
        "ReportAccepted",
    ]
    for secret in (REPORTER_NAME, REPORTER_PHONE, REPORTER_EMAIL, REPORTER_ID_NUMBER):
        assert secret not in text
        assert json.dumps(secret)[1:-1] not in text  # nor \u-escaped
    assert receipt.password is not None
    assert receipt.password not in text
    reporter: dict[str, Any] = envelopes[0].payload["reporter"]
    assert reporter["anonymous"] is False
    assert set(reporter) == {"ref", "anonymous", "verified"}
    # ... yet the vault can still reach the reporter behind the reference
    assert intake.vault.reveal(reporter["ref"]).phone == REPORTER_PHONE


def test_the_internal_ledger_is_never_published(intake: IntakeApplication) -> None:
    receipts = [intake.submit(submission(summary=f"第{i}件")) for i in range(3)]
    envelopes, last = intake.read_envelopes(0, 1000)

    stored_topics = [n.topic for n in intake.recorder.select_notifications(start=1, limit=1000)]
    assert any(t.startswith("jiandu.intake:Ledger.") for t in stored_topics)
    assert last == max_id(intake)
    assert {e.aggregate_id for e in envelopes} == {UUID(r.report_id) for r in receipts}
    assert ledger_id_for_year(YEAR) not in {e.aggregate_id for e in envelopes}
    assert len(envelopes) == len([t for t in stored_topics if ":Report." in t])
    positions = [e.position for e in envelopes]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)


def test_a_sealed_report_publishes_a_stub_and_keeps_its_content_in_the_vault(
    intake: IntakeApplication,
) -> None:
    secret_matter = "涉及上级管辖干部的具体问题线索"
    receipt = intake.submit(submission(summary=secret_matter, sealed=True))

    assert receipt.status == "registered"  # sealed reports wait for an operator
    assert secret_matter not in published_text(intake)
    assert all_envelopes(intake)[0].payload["summary"] == SEALED_SUMMARY
    assert intake.vault.reveal_content(UUID(receipt.report_id)) == secret_matter


def test_a_real_name_report_starts_the_acceptance_notice_clock(intake: IntakeApplication) -> None:
    intake.submit(real_name_submission())
    intake.submit(submission())

    registered = [e for e in all_envelopes(intake) if e.event_type == "ReportRegistered"]
    real_name_due, anonymous_due = (e.payload["acceptance_notice_due"] for e in registered)
    assert anonymous_due is None
    assert real_name_due["working_days"] == 15
    assert real_name_due["started_on"] == TODAY.isoformat()
    assert dt.date.fromisoformat(real_name_due["due"]) > TODAY
