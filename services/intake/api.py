"""Intake's HTTP routes: submit a report, read it back, follow up by query code."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Path, Response, status

from schemas.commands import Command
from schemas.events import Actor
from schemas.glossary import Role
from schemas.submissions import ReportSubmission, SubmissionReceipt
from schemas.views import ReportView
from services.common.web import ApiError
from services.intake.application import TRIAGE_COMMANDS, IntakeApplication
from services.intake.domain import TRIAGE, Report

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
