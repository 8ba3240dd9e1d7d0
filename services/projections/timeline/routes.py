"""The timelines' HTTP routes, the cadre look-up and the audit's changes (the archives'
routes: archive/routes.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from schemas.views import CadreRecord, ChangeRecord, TimelineView
from services.accounts.access import (
    AUDIT_READERS,
    CADRE_READERS,
    CASE_READERS,
    LEDGER_READERS,
    check_case_access,
)
from services.accounts.model import Principal
from services.accounts.web import accounts_of, require_api_roles
from services.common.config import ConfigStore
from services.common.web import ApiError
from services.projections.timeline.queries import Queries

CadreReader = Annotated[Principal, Depends(require_api_roles(*CADRE_READERS))]


def current_handler(timeline: TimelineView) -> str | None:
    """The handler the case is assigned to now: its last ``HandlerAssigned`` step."""
    handler = None
    for step in timeline.steps:
        if step.step == "HandlerAssigned" and step.subject_id == timeline.case_id:
            handler = step.detail.get("handler_id")
    return str(handler) if handler else None


def build_router(queries: Queries) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["information base"])

    @router.get("/cases/{case_id}/timeline")
    def case_timeline(
        case_id: UUID,
        request: Request,
        principal: Annotated[Principal, Depends(require_api_roles(*CASE_READERS))],
    ) -> TimelineView:
        """Every step of the case and its reports (who may see the case: as for the case)."""
        timeline = queries.timeline(str(case_id))
        if timeline is None:
            raise ApiError(f"no timeline for case {case_id} (yet)", 404)
        check_case_access(principal, current_handler(timeline), accounts_of(request))
        return timeline

    @router.get(
        "/reports/{report_id}/timeline",
        responses={
            401: {"description": "no or invalid token"},
            403: {"description": "not a triage reader"},
            404: {"description": "unknown"},
        },
    )
    def report_timeline(
        report_id: UUID,
        _: Annotated[Principal, Depends(require_api_roles(*LEDGER_READERS))],
    ) -> TimelineView:
        """Every step of one report, e.g. one forwarded up that opened no case (its sealed
        content's handover and opening show here, never the content). ``case_id`` is the
        report's id here."""
        timeline = queries.report_timeline(str(report_id))
        if timeline is None:
            raise ApiError(f"no timeline for report {report_id} (yet)", 404)
        return timeline

    @router.get("/cadres")
    def find_cadres(
        q: Annotated[str, Query(min_length=1, max_length=100)], _: CadreReader
    ) -> list[CadreRecord]:
        return queries.register.search(q)

    # The archive itself (GET /cadres/{cadre_id}/archive) is served by archive/routes.py.

    @router.get("/audit/changes", tags=["audit"])
    def changes(
        _: Annotated[Principal, Depends(require_api_roles(*AUDIT_READERS))],
        actor: Annotated[str | None, Query(max_length=128)] = None,
        step: Annotated[str | None, Query(max_length=64)] = None,
        since: Annotated[dt.date | None, Query(alias="from")] = None,
        until: Annotated[dt.date | None, Query(alias="to")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[ChangeRecord]:
        """Who changed what: every step on the record, newest first (auditors, administrators).

        The reads of sensitive items are at ``GET /api/v1/audit``."""
        try:
            return queries.changes(actor=actor, step=step, since=since, until=until, limit=limit)
        except ValueError as problem:
            raise ApiError(str(problem), 422) from None

    @router.get("/audit/config-changes", tags=["audit"])
    def config_changes(
        _: Annotated[Principal, Depends(require_api_roles(*AUDIT_READERS))],
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        """Who changed which configuration table (time limits, handling effects, calendars)."""
        config = queries.config
        if not isinstance(config, ConfigStore):
            return []
        return [
            {**dataclasses.asdict(change), "differences": change.differences()}
            for change in config.changes(limit)
        ]

    return router
