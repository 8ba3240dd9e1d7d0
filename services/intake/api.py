"""Intake's HTTP routes: submit a report, read it back, follow up by query code."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response, status

from schemas.submissions import ReportSubmission, SubmissionReceipt
from schemas.views import ReportView
from services.common.web import ApiError
from services.intake.application import IntakeApplication, ReportNotFound

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
        try:
            report = intake.get_report(report_id)
        except ReportNotFound as error:
            raise ApiError(str(error), 404) from None
        return ReportView(
            report_id=str(report.id),
            ledger_number=report.ledger_number,
            status=report.status.value,
            channel=report.channel,
            categories=report.categories,
            subjects=report.subjects,
            summary=report.summary,
            received_on=report.received_on,
            reporter=report.reporter,
            case_id=str(report.case_id) if report.case_id else None,
        )

    @router.get("/follow-up/{query_code}")
    def follow_up(
        query_code: str,
        password: Annotated[str | None, Query(max_length=64)] = None,
        x_password: Annotated[
            str | None, Header(alias="X-Follow-Up-Password", max_length=64)
        ] = None,
    ) -> dict[str, Any]:
        """A reporter's view of their report: status only (the header keeps the password out of logs)."""
        secret = x_password or password
        report_id = intake.vault.report_for_credentials(query_code, secret) if secret else None
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
