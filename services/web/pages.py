"""The pages, one module per desk (services/web/desks/) over one shell (services/web/shell.py):
the routers assembled in one place (decision record 0030)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from services.web.desks import (
    admin,
    approvals,
    audit,
    cases,
    information,
    intake,
    liaison,
    public,
)
from services.web.shell import HERE, PageServices, install_error_pages

# In this order: where two desks' paths overlap, the fixed one comes first (intake's
# ``/cadres/candidates`` before information's ``/cadres/{cadre_id}``).
DESKS = (public, intake, cases, approvals, information, liaison, audit, admin)


def build_routers(services: PageServices) -> list[APIRouter]:
    """Every desk's router over the same services."""
    return [desk.build_router(services) for desk in DESKS]


def install(app: FastAPI, services: PageServices) -> FastAPI:
    """Add the pages, their stylesheet and script, and HTML error pages to ``app`` (whose
    accounts are already installed)."""
    for router in build_routers(services):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return install_error_pages(app)
