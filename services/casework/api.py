"""Casework's HTTP routes: read a case, and one POST route per procedure command.

The caller is the account of the bearer token (``services.accounts.web``); the events
record ``{"id": username, "role": role}``. Leaders, operators and auditors see every case,
a handler the cases of their own or their section's (``services.accounts.access``); the
procedure's guards then check the role for each action. (The timeline is a projection,
served by the projections process.) The selection record's routes
(``selection_api.py``) are added here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request

from schemas.commands import Command
from schemas.glossary import Role
from schemas.views import CaseSelectionHold, CaseView
from services.accounts.access import (
    CASE_ACTORS,
    CASE_READERS,
    SELECTION_READERS,
    check_case_access,
)
from services.accounts.model import Principal
from services.accounts.web import accounts_of, require_api_roles
from services.casework.application import CaseworkApplication
from services.casework.document_api import (
    add_case_document_routes,
    add_project_document_routes,
    add_selection_document_routes,
    add_template_routes,
    case_documentable,
    case_documents,
)
from services.casework.domain import Case
from services.casework.handlers import COMMANDS
from services.casework.project_api import add_project_routes, project_access
from services.casework.rules import PERMISSIONS
from services.casework.selection_api import add_selection_routes, selection_access
from services.common.deadline_views import deadline_view
from services.common.problems import can_answer
from services.common.web import ApiError

# What a procedure command can answer besides 200 (422: FastAPI declares it for the body).
COMMAND_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "no or expired token"},
    403: {"description": "the role may not act, or the case is not the caller's"},
    404: {"description": "no such case"},
    409: {"description": "the case's state or a named rule refuses the step, or a stale version"},
    422: {"description": "bad input, or it names something unusable (e.g. not a handler)"},
}


# Commands served by routes of their own rather than POST /cases/{case_id}/{action}.
OWN_ROUTES = frozenset({"issue_document"})


@dataclass(frozen=True)
class CaseAccess:
    """Who is asking, and the case they may see."""

    principal: Principal
    case: Case


def case_access(casework: CaseworkApplication, *roles: Role) -> Callable[..., CaseAccess]:
    """A dependency: the caller (one of ``roles``) and the case of the path, if the caller may
    see it (401 no token, 403 wrong role or not their case, 404 unknown case). It runs
    before the request body is validated, so a refused caller learns nothing more."""

    caller = Depends(require_api_roles(*roles))  # a default: annotations cannot see `roles`

    @can_answer(403, 404)
    def dependency(case_id: UUID, request: Request, principal: Principal = caller) -> CaseAccess:
        case = casework.get_case(case_id)
        check_case_access(principal, case.handler_id, accounts_of(request))
        return CaseAccess(principal, case)

    return dependency


def case_view(case: Case, app: CaseworkApplication, role: Role | None = None) -> CaseView:
    today = app.today()
    deadlines = [
        deadline_view(name, d, app.config, today) for name, d in sorted(case.deadlines.items())
    ]
    allowed = sorted(
        a
        for a, p in PERMISSIONS.items()
        if case.state in p.states and (role is None or role in p.roles)
    )
    return CaseView(
        case_id=str(case.id),
        kind=case.kind.value,
        state=case.state.value,
        state_zh=case.state.zh,
        ledger_number=case.ledger_number,
        report_ids=[str(r) for r in case.report_ids],
        channel=case.channel,
        categories=case.categories,
        subjects=case.subjects,
        summary=case.summary,
        received_on=case.received_on,
        version=case.version,
        opened_at=case.created_on,
        handler_id=case.handler_id,
        disposition=case.disposition.value if case.disposition else None,
        conclusion={
            "verdicts": case.conclusion["verdicts"],
            "overall": case.conclusion["overall"].value,
            "cadre_verdicts": case.conclusion["cadre_verdicts"],  # what each cadre was found
        }
        if case.conclusion
        else None,
        handlings=[{**h, "decided_on": h["decided_on"].isoformat()} for h in case.handlings],
        clearing_stage=case.clearing.get("stage"),
        clearings=[{"cadre": c["cadre"], "stage": c["stage"]} for c in case.clearings.values()],
        real_name_reporters=case.real_name_reporters,
        linked_case_id=str(case.linked_case_id or case.false_accusation_case_id or "") or None,
        deadlines=deadlines,
        allowed_actions=allowed,
        selection_holds=selection_holds(case, app, role),
        documents=case_documents(case),
        documentable=case_documentable(case),
    )


def selection_holds(
    case: Case, app: CaseworkApplication, role: Role | None
) -> list[CaseSelectionHold]:
    """The selections' candidates the case's reports hold, for the roles that read selections
    (an operator reads cases, not selections)."""
    if role is not None and role not in SELECTION_READERS:
        return []
    return [
        CaseSelectionHold(
            **{
                k: v
                for k, v in hold.items()
                if k not in ("selection_id", "report_id", "stage", "cadre_id")
            },
            selection_id=str(hold["selection_id"]),
            report_id=str(hold["report_id"]),
            stage=hold["stage"].value,
            stage_zh=hold["stage"].zh,
        )
        for hold in app.selection_holds_of(case)
    ]


def build_router(casework: CaseworkApplication) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["casework"])

    reader = Depends(case_access(casework, *CASE_READERS))

    @router.get("/cases/{case_id}")
    def get_case(case_id: UUID, access: CaseAccess = reader) -> CaseView:
        """The case as it stands: state, deadlines with their clocks, the actions allowed now
        (for the caller's role)."""
        return case_view(access.case, casework, access.principal.role)

    # Documents have their own routes (POST /cases/{case_id}/documents answers the document).
    add_case_document_routes(router, casework, reader, case_access)
    for action, (model, _) in COMMANDS.items():
        if action in OWN_ROUTES:
            continue
        router.add_api_route(
            f"/cases/{{case_id}}/{action}",
            _command_route(casework, action, model),
            methods=["POST"],
            name=action,
            summary=action.replace("_", " "),
            response_model=CaseView,
            responses=COMMAND_RESPONSES,
        )

    @router.post("/cases/{case_id}/{action}", include_in_schema=False)
    def unknown_action(
        case_id: UUID,
        action: str,
        _: Annotated[Principal, Depends(require_api_roles(*CASE_ACTORS))],
    ) -> None:
        raise ApiError(f"no such action {action!r}; the actions are: {', '.join(COMMANDS)}", 404)

    # The selection record's routes (selection_api.py): served wherever casework's are.
    # (the documents' first: the selection's routes end with a catch-all POST for its steps)
    add_selection_document_routes(router, casework, selection_access)
    add_template_routes(router, casework)
    add_selection_routes(router, casework)
    # The supervision project's routes (project_api.py, 立项督查).
    add_project_document_routes(router, casework, project_access)  # before its catch-all
    add_project_routes(router, casework)
    return router


def _command_route(casework: CaseworkApplication, action: str, model: type[Command]) -> Any:
    actor = Depends(case_access(casework, *CASE_ACTORS))

    def run(
        case_id: UUID,
        body: model,  # type: ignore[valid-type]
        access: CaseAccess = actor,
    ) -> CaseView:
        principal = access.principal
        case = casework.execute(case_id, action, body, principal.actor(), case=access.case)
        return case_view(case, casework, principal.role)

    run.__annotations__["body"] = model  # the request model is only known at run time
    run.__name__ = action
    run.__doc__ = COMMANDS[action][1].__doc__ or PERMISSIONS[action].needs
    return run
