"""Intake's HTTP routes: submit a report, read it back, follow up by query code."""

from __future__ import annotations

import logging
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Request, Response, status
from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, StringConstraints

from schemas.commands import Command
from schemas.events import Actor
from schemas.glossary import Role, SensitiveItem
from schemas.submissions import ReportSubmission, SubmissionReceipt
from schemas.views import ReportView
from services.accounts.model import Principal
from services.accounts.web import accounts_of, require_api_roles
from services.common.web import ApiError
from services.intake.application import TRIAGE_COMMANDS, IntakeApplication
from services.intake.domain import TRIAGE, Report

log = logging.getLogger(__name__)

# Who has a need to know a reporter's identity (docs/decisions/0011): the operator verifies
# it and sends the acceptance notice; the handler gives a real-name reporter feedback.
IDENTITY_ROLES = (Role.OPERATOR, Role.HANDLER)

IDENTITY_REVEALS = Counter(
    "jiandu_reporter_identity_reveals_total",
    "Reporter identities shown to staff; each one is an entry of the audit of sensitive reads",
    ["role"],
)


class IdentityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500)]


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Retrying with the same key returns the first answer.",
    ),
]


def build_router(intake: IntakeApplication) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["intake"])

    @router.post("/reports", status_code=status.HTTP_201_CREATED)
    def submit_report(
        submission: ReportSubmission, response: Response, idempotency_key: IdempotencyKey = None
    ) -> SubmissionReceipt:
        """Register one report from any channel; 201 with its ledger number (and case)."""
        receipt = intake.submit(submission, idempotency_key=idempotency_key)
        response.headers["Location"] = f"/api/v1/reports/{receipt.report_id}"
        response.headers["Cache-Control"] = "no-store"  # a mailbox receipt holds a password
        return receipt

    @router.get("/reports/{report_id}")
    def get_report(report_id: UUID) -> ReportView:
        return report_view(intake.get_report(report_id))

    for action, (model, _) in TRIAGE_COMMANDS.items():
        router.add_api_route(
            f"/reports/{{report_id}}/{action}",
            _triage_route(intake, action, model),
            methods=["POST"],
            name=f"report_{action}",
            summary=f"triage: {action.replace('_', ' ')}",
            response_model=ReportView,
        )

    @router.post("/reports/{report_id}/identity", tags=["intake", "audit"])
    def reveal_identity(
        report_id: UUID,
        body: IdentityRequest,
        request: Request,
        response: Response,
        principal: Annotated[Principal, Depends(require_api_roles(*IDENTITY_ROLES))],
    ) -> dict[str, Any]:
        """Show a real-name reporter's identity (operators and handlers, with a reason).

        The read is recorded (who, when, why, which report) before the identity is returned;
        auditors see it at ``GET /api/v1/audit``. Anonymous reports: 404, nothing is kept.
        """
        report, identity = intake.reveal_identity(report_id)
        entry = accounts_of(request).record_read(
            principal,
            SensitiveItem.REPORTER_IDENTITY.value,
            str(report_id),
            body.reason,
            detail=report.ledger_number or "",
        )
        IDENTITY_REVEALS.labels(principal.role.value).inc()
        log.info(
            "reporter identity of report %s shown to %s (%s), audit entry %s",
            report_id,
            principal.username,
            principal.role.value,
            entry.entry_id,
        )
        response.headers["Cache-Control"] = "no-store"
        return {
            "report_id": str(report_id),
            "ledger_number": report.ledger_number,
            "identity": identity.model_dump(exclude={"anonymous"}),
            "audit_entry_id": entry.entry_id,
            "recorded_at": entry.read_at,
        }

    @router.get("/follow-up/{query_code}")
    def follow_up(
        query_code: Annotated[str, Path(max_length=32)],
        password: Annotated[str, Header(alias="X-Follow-Up-Password", max_length=64)],
    ) -> dict[str, Any]:
        """A reporter's view of their report: status only.

        The password travels in the ``X-Follow-Up-Password`` header, never in the URL, so
        that no proxy or access log keeps it.
        """
        report_id = intake.vault.report_for_credentials(query_code, password)
        if report_id is None:
            raise ApiError("query code or password is wrong", 404)
        report = intake.get_report(report_id)
        return {
            "ledger_number": report.ledger_number,
            "status": report.status.value,
            "status_zh": report.status.zh,
            "received_on": report.received_on.isoformat(),
        }

    return router


def report_view(report: Report) -> ReportView:
    allowed = sorted(a for a, (_, states, _, _) in TRIAGE.items() if report.status in states)
    return ReportView(
        report_id=str(report.id),
        ledger_number=report.ledger_number,
        status=report.status.value,
        status_zh=report.status.zh,
        channel=report.channel,
        categories=report.categories,
        subjects=report.subjects,
        summary=report.summary,
        sealed=report.sealed,
        received_on=report.received_on,
        reporter=report.reporter,
        case_id=str(report.case_id) if report.case_id else None,
        triage=report.triage,
        acceptance_notice=report.acceptance_notice,
        version=report.version,
        allowed_actions=allowed,
    )


def _triage_route(intake: IntakeApplication, action: str, model: type[Command]) -> Any:
    def run(
        report_id: UUID,
        body: model,  # type: ignore[valid-type]
        user: Annotated[str, Header(alias="X-Jiandu-User", min_length=1, max_length=64)],
        role: Annotated[Role, Header(alias="X-Jiandu-Role")],
    ) -> ReportView:
        report = intake.triage(report_id, action, body, Actor(id=user, role=role))
        return report_view(report)

    run.__annotations__["body"] = model  # the request model is only known at run time
    run.__name__ = f"report_{action}"
    return run
