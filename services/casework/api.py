"""Casework's HTTP routes: read a case (the timeline is a projection, served by projections)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from schemas.views import CaseView
from services.casework.application import CaseNotFound, CaseworkApplication
from services.common.web import ApiError


def build_router(casework: CaseworkApplication) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["casework"])

    @router.get("/cases/{case_id}")
    def get_case(case_id: UUID) -> CaseView:
        try:
            case = casework.get_case(case_id)
        except CaseNotFound as error:
            raise ApiError(
                f"{error} (a case opens shortly after its report is accepted)", 404
            ) from None
        return CaseView(
            case_id=str(case.id),
            status=case.status.value,
            status_zh=case.status.zh,
            ledger_number=case.ledger_number,
            report_ids=[str(r) for r in case.report_ids],
            channel=case.channel,
            categories=case.categories,
            subjects=case.subjects,
            summary=case.summary,
            received_on=case.received_on,
            version=case.version,
            opened_at=case.created_on,
        )

    return router
