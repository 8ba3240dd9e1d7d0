"""HTTP route of the projects read model: ``GET /api/v1/projects``, the supervision projects
in progress (or all of them), filtered and paged.

Served with the other read models (``jiandu projections-api``, and the embedded app); the
record itself (``GET /api/v1/projects/{id}``), the opening (``POST /api/v1/projects``) and
the steps are casework's (``services/casework/project_api.py``): the same path, another
method, another process (the proxy sends ``POST /api/v1/projects`` to casework).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from schemas.glossary import ProjectStage
from schemas.views_project import ProjectPage
from services.accounts.access import PROJECT_READERS
from services.accounts.model import Principal
from services.accounts.web import require_api_roles
from services.projections.projects.queries import ProjectFilters, ProjectQueries


def build_router(queries: ProjectQueries) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["projects"])

    @router.get(
        "/projects",
        responses={
            401: {"description": "no or expired token"},
            403: {"description": "the role may not read supervision projects"},
            422: {"description": "a filter or page that is not valid"},
        },
    )
    def project_list(
        principal: Annotated[Principal, Depends(require_api_roles(*PROJECT_READERS))],
        in_progress: bool = True,
        stage: ProjectStage | None = None,
        selection_id: UUID | None = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ) -> ProjectPage:
        """The supervision projects (立项督查), the most recently active first,
        ``ProjectQueries.PAGE_SIZE`` a page: by default those in progress (not closed);
        ``in_progress=false`` for all. ``stage``: only those; ``selection_id``: only those
        opened on that selection. Each with its selection's unit and its open deadline's
        state today. ``total``: how many match."""
        filters = ProjectFilters(
            in_progress=in_progress,
            stage=stage,
            selection_id=str(selection_id) if selection_id else None,
        )
        return queries.project_list(filters, page)

    return router
