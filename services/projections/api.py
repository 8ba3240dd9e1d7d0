"""The information base's HTTP routes: timelines, cadre look-up, archives."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from schemas.views import ArchiveView, CadreRecord, TimelineView
from services.common.web import ApiError
from services.projections.queries import CadreNotFound, Queries


def build_router(queries: Queries) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["information base"])

    @router.get("/cases/{case_id}/timeline")
    def case_timeline(case_id: UUID) -> TimelineView:
        timeline = queries.timeline(str(case_id))
        if timeline is None:
            raise ApiError(f"no timeline for case {case_id} (yet)", 404)
        return timeline

    @router.get("/cadres")
    def find_cadres(q: Annotated[str, Query(min_length=1, max_length=100)]) -> list[CadreRecord]:
        return queries.register.search(q)

    @router.get("/cadres/{cadre_id}/archive")
    def cadre_archive(cadre_id: str) -> ArchiveView:
        try:
            return queries.archive(cadre_id)
        except CadreNotFound as error:
            raise ApiError(str(error), 404) from None

    return router
