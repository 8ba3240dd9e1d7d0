"""The pages, one module per desk (services/web/desks/) over one shell (services/web/shell/):
the routers assembled in one place (decision record 0030), and which process serves which
desks (0031).

The desks that write run in the process that owns the data: in the distributed mode
``jiandu intake-api`` serves the pages that write intake's reports, ``jiandu casework`` those
that write cases, and ``jiandu web`` the rest; the reverse proxy (deploy/Caddyfile) sends
each page's path to its process. The embedded mode serves every desk in one app.
"""

from __future__ import annotations

from types import ModuleType

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
    projects,
    public,
    selections,
    sign_in,
)
from services.web.shell import HERE, PageServices, install_error_pages

# Which desks each distributed process serves. Each desk is served by exactly one process.
INTAKE_DESKS = (public, intake)  # the mailbox, the follow-up; the operators' pages
# cases, selections and supervision projects (casework's Selection and SupervisionProject)
CASEWORK_DESKS = (cases, approvals, selections, projects)
WEB_DESKS = (sign_in, information, liaison, audit, admin)  # read, accounts, configuration
PROCESS_DESKS: dict[str, tuple[ModuleType, ...]] = {
    "intake-api": INTAKE_DESKS,
    "casework": CASEWORK_DESKS,
    "web": WEB_DESKS,
}

# The embedded mode: every desk, in this order. Where two desks' paths overlap, the fixed one
# comes first (intake's ``/cadres/candidates`` before information's ``/cadres/{cadre_id}``).
DESKS = (
    sign_in, public, intake, cases, approvals, selections, projects, information, liaison, audit,
    admin,
)  # fmt: skip


def build_routers(services: PageServices, desks: tuple[ModuleType, ...] = DESKS) -> list[APIRouter]:
    """The routers of ``desks`` over the same services (a desk that needs a part
    ``services`` lacks is refused: ``MissingPart``)."""
    return [desk.build_router(services) for desk in DESKS if desk in desks]


def install(app: FastAPI, services: PageServices, desks: tuple[ModuleType, ...] = DESKS) -> FastAPI:
    """Add the pages of ``desks``, their stylesheet and script, and HTML error pages to
    ``app`` (whose accounts are already installed). Every process that serves pages serves
    ``/static`` too, so that each answers on its own port; the proxy sends it to ``web``."""
    unknown = [desk.__name__ for desk in desks if desk not in DESKS]
    if unknown:
        raise ValueError(f"not a desk of services/web/desks: {unknown}")
    for router in build_routers(services, desks):
        app.include_router(router)
    app.state.pages = services  # what this process's pages read and write
    app.state.desks = tuple(desk for desk in DESKS if desk in desks)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return install_error_pages(app)
