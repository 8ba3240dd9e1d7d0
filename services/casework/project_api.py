"""The supervision project's HTTP routes (立项督查, issue 14): open a project, read it, and
one POST route per step of ``PROJECT_COMMANDS``, each answering the project as it stands
with each deadline's clock today.

The caller is the account of the bearer token; the access tables
(``services.accounts.access``) refuse a role before anything is loaded, and the project's
own rules then check the role and the stage for each step (403 ``RoleNotAllowed``, 409 the
stage or a named rule). Added to casework's router (``api.build_router``), as the
selection's routes are.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response

from schemas.glossary import Category, Role
from schemas.project_commands import OpenProject, ProjectCommand
from schemas.views_project import ProjectCreatedView, ProjectView
from services.accounts.access import (
    PROJECT_LEADERS,
    PROJECT_PROPOSERS,
    PROJECT_READERS,
    PROJECT_WORKERS,
)
from services.accounts.model import Principal
from services.accounts.web import require_api_roles
from services.casework.application import CaseworkApplication
from services.casework.project import SupervisionProject
from services.casework.project.rules import LEADERS, PERMISSIONS
from services.casework.projects import PROJECT_COMMANDS
from services.common.deadline_views import deadline_view
from services.common.problems import can_answer
from services.common.web import ApiError, idempotency_key_header, step_responses

OPEN_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "no or expired token"},
    403: {"description": "the role may not open a supervision project (a leader's decision)"},
    409: {"description": "a named rule (`rule`) refuses the opening"},
    422: {
        "description": "bad input (a field, a day after today, a selection or case that does "
        "not exist), or an Idempotency-Key already used for another opening"
    },
}
IdempotencyKey = Annotated[
    str | None,
    idempotency_key_header(
        "Retrying with the same key answers the project the first request opened; the same key "
        "with another opening is refused (422)."
    ),
]
STEP_RESPONSES = step_responses("supervision project")


def step_roles(action: str) -> tuple[Role, ...]:
    """Who may call ``action``'s route (the access tables; the domain checks its own
    ``PERMISSIONS`` again)."""
    roles = PERMISSIONS[action].roles
    if roles == LEADERS:
        return PROJECT_LEADERS
    if roles == frozenset(PROJECT_PROPOSERS):
        return PROJECT_PROPOSERS
    return PROJECT_WORKERS


def project_access(
    casework: CaseworkApplication, *roles: Role
) -> Callable[..., tuple[Principal, SupervisionProject]]:
    """A dependency: the caller (one of ``roles``: 401/403) and the project of the path
    (404), before the request body is read."""

    caller = Depends(require_api_roles(*roles))

    @can_answer(403, 404)
    def dependency(
        project_id: UUID, principal: Principal = caller
    ) -> tuple[Principal, SupervisionProject]:
        return principal, casework.get_project(project_id)

    return dependency


def project_view(
    project: SupervisionProject, casework: CaseworkApplication, role: Role | None = None
) -> ProjectView:
    """The project as it stands; each deadline's state computed from the application's
    today (never the wall clock)."""
    allowed = sorted(
        a
        for a, permission in PERMISSIONS.items()
        if project.stage in permission.stages and (role is None or role in permission.roles)
    )
    today = casework.today()
    return ProjectView(
        project_id=str(project.id),
        version=project.version,
        stage=project.stage.value,
        stage_zh=project.stage.zh,
        selection_id=project.selection_id,
        basis=list(project.basis),
        irregularities=list(project.irregularities),
        irregularities_zh=[Category(i).zh for i in project.irregularities],
        clues=project.clues,
        document_number=project.opening_document,
        opened_on=project.opened_on,
        opened_by=dict(project.opened_by),
        last_on=project.last_on,
        team=project.team,
        plan=project.plan,
        findings=list(project.findings),
        proposal=project.proposal,
        conclusion=project.conclusion,
        returns=list(project.returns),
        report=project.report,
        closed_on=project.closed_on,
        deadlines=[
            deadline_view(name, record, casework.config, today)
            for name, record in project.deadlines.items()
        ],
        allowed_actions=allowed,
    )


def add_project_routes(router: APIRouter, casework: CaseworkApplication) -> None:
    """Add the routes to casework's ``router`` (under its ``/api/v1`` prefix)."""
    tags: list[str | Enum] = ["projects"]
    opener = Depends(require_api_roles(*PROJECT_LEADERS))
    reader = Depends(project_access(casework, *PROJECT_READERS))

    @router.post(
        "/projects",
        status_code=201,
        responses=OPEN_RESPONSES,
        summary="open a supervision project on a selection",
        tags=tags,
    )
    def open_project(
        body: OpenProject,
        response: Response,
        principal: Principal = opener,
        idempotency_key: IdempotencyKey = None,
    ) -> ProjectCreatedView:
        """Open a supervision project (立项督查) on a selection, on reports of an
        irregularity; answers its id, version and stage. With an Idempotency-Key (the
        caller's own), a retry answers the same project."""
        project_id = casework.open_project(body, principal.actor(), idempotency_key)
        project = casework.get_project(project_id)
        response.headers["Location"] = f"/api/v1/projects/{project_id}"
        return ProjectCreatedView(
            project_id=str(project_id),
            version=project.version,
            stage=project.stage.value,
            stage_zh=project.stage.zh,
        )

    @router.get("/projects/{project_id}", tags=tags)
    def get_project(
        project_id: UUID, access: tuple[Principal, SupervisionProject] = reader
    ) -> ProjectView:
        """The project as it stands, its deadlines today, and the steps the caller's role may
        take now."""
        principal, project = access
        return project_view(project, casework, principal.role)

    for action, (model, _) in PROJECT_COMMANDS.items():
        if action == "issue_document":  # its own routes (document_api.py)
            continue
        router.add_api_route(
            f"/projects/{{project_id}}/{action}",
            _step_route(casework, action, model),
            methods=["POST"],
            name=f"project_{action}",
            summary=action.replace("_", " "),
            response_model=ProjectView,
            responses=STEP_RESPONSES,
            tags=tags,
        )

    every_actor = Depends(require_api_roles(*PROJECT_WORKERS))

    @router.post("/projects/{project_id}/{action}", include_in_schema=False)
    def unknown_step(project_id: UUID, action: str, _: Principal = every_actor) -> None:
        names = ", ".join(PROJECT_COMMANDS)
        raise ApiError(f"no such step {action!r}; the steps are: {names}", 404)


def _step_route(casework: CaseworkApplication, action: str, model: type[ProjectCommand]) -> Any:
    actor = Depends(project_access(casework, *step_roles(action)))

    def run(
        project_id: UUID,
        body: model,  # type: ignore[valid-type]
        access: tuple[Principal, SupervisionProject] = actor,
    ) -> ProjectView:
        principal = access[0]
        project = casework.execute_project(project_id, action, body, principal.actor())
        return project_view(project, casework, principal.role)

    run.__annotations__["body"] = model  # the request model is only known at run time
    run.__name__ = f"project_{action}"
    run.__doc__ = f"Record this step of the project; it needs {PERMISSIONS[action].needs}."
    return run
