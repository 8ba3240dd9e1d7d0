"""HTTP route of the selections read model: ``GET /api/v1/selections``, the selections in
progress (or all of them), filtered and paged.

Served with the other read models (``jiandu projections-api``, and the embedded app); the
record itself (``GET /api/v1/selections/{id}``), the proposal (``POST /api/v1/selections``)
and the steps are casework's (``services/casework/selection_api.py``): the same path,
another method, another process (the proxy sends ``POST /api/v1/selections`` to casework).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from schemas.glossary import SelectionStage
from schemas.views_selection import SelectionPage
from services.accounts.access import SELECTION_READERS
from services.accounts.model import Principal
from services.accounts.web import require_api_roles
from services.projections.selections.queries import SelectionFilters, SelectionQueries


def build_router(queries: SelectionQueries) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["selections"])

    @router.get(
        "/selections",
        responses={
            401: {"description": "no or expired token"},
            403: {"description": "the role may not read selections"},
            422: {"description": "a filter or page that is not valid"},
        },
    )
    def selection_list(
        principal: Annotated[Principal, Depends(require_api_roles(*SELECTION_READERS))],
        in_progress: bool = True,
        stage: SelectionStage | None = None,
        unit: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
        cadre_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ) -> SelectionPage:
        """The selections, the most recently active first, ``SelectionQueries.PAGE_SIZE`` a
        page: by default those in progress (not appointed, withdrawn or voided);
        ``in_progress=false`` for all. ``stage``, ``unit``: only those; ``cadre_id``: only
        those naming this cadre as a candidate. ``total``: how many match."""
        filters = SelectionFilters(
            in_progress=in_progress, stage=stage, unit=unit, cadre_id=cadre_id
        )
        return queries.selection_list(filters, page)

    return router
