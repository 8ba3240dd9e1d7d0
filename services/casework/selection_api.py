"""The selection record's HTTP routes (decision 0034): propose a selection, read it, and one
POST route per step of ``SELECTION_COMMANDS``, each answering the selection as it stands.

The caller is the account of the bearer token; the access tables
(``services.accounts.access``) refuse a role before anything is loaded, and the Selection's
own rules then check the role and the stage for each step (403 ``RoleNotAllowed``, 409 the
stage or a named rule). Added to casework's router (``api.build_router``), so that both
the embedded and the distributed modes serve it.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response

from schemas.glossary import (
    AccountabilityHandling,
    CandidateStatus,
    ResponsibilityStep,
    Role,
    VoidGround,
)
from schemas.selection_commands import ProposeSelection, SelectionCommand
from schemas.views_selection import (
    HoldingReport,
    SelectionCandidate,
    SelectionCreatedView,
    SelectionHold,
    SelectionPeriod,
    SelectionResponsibility,
    SelectionView,
    SelectionVoided,
)
from services.accounts.access import (
    CASE_READERS,
    SELECTION_ACCOUNTABLE,
    SELECTION_ACTORS,
    SELECTION_HOLD_ACTORS,
    SELECTION_READERS,
)
from services.accounts.model import Principal
from services.accounts.web import require_api_roles
from services.casework.application import CaseworkApplication
from services.casework.selection import Selection
from services.casework.selection.rules import PERMISSIONS
from services.casework.selections import SELECTION_COMMANDS
from services.common.problems import can_answer
from services.common.web import ApiError, idempotency_key_header, step_responses

# What proposing can answer besides 201 (401, 403 and 422 come from its parts).
PROPOSE_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "no or expired token"},
    403: {"description": "the role may not propose a selection"},
    422: {
        "description": "bad input (a field, or a day after today), or an Idempotency-Key "
        "already used for another proposal"
    },
}
IdempotencyKey = Annotated[
    str | None,
    idempotency_key_header(
        "Retrying with the same key answers the selection the first request made; the same key "
        "with another proposal is refused (422)."
    ),
]
# What a step can answer besides 200.
STEP_RESPONSES = step_responses("selection")
# The supervision office's steps (the holders' table): a hold and its release, and the reply
# to a request for integrity opinions.
HOLD_ACTIONS = frozenset({"hold_candidate", "release_candidate", "reply_integrity_opinions"})
ACCOUNTABILITY_ACTIONS = frozenset({"void_appointment", "take_responsibility"})


def step_roles(action: str) -> tuple[Role, ...]:
    """Who may call ``action``'s route: the holders for a hold, its release or an integrity
    reply, leaders for a voided appointment or a responsibility, else the recorders (the
    access tables; the domain checks its own ``PERMISSIONS`` again)."""
    if action in ACCOUNTABILITY_ACTIONS:
        return SELECTION_ACCOUNTABLE
    return SELECTION_HOLD_ACTORS if action in HOLD_ACTIONS else SELECTION_ACTORS


def selection_access(
    casework: CaseworkApplication, *roles: Role
) -> Callable[..., tuple[Principal, Selection]]:
    """A dependency: the caller (one of ``roles``: 401/403) and the selection of the path
    (404), before the request body is read."""

    caller = Depends(require_api_roles(*roles))

    @can_answer(403, 404)
    def dependency(
        selection_id: UUID, principal: Principal = caller
    ) -> tuple[Principal, Selection]:
        return principal, casework.get_selection(selection_id)

    return dependency


def candidate_status(selection: Selection, candidate_id: str) -> CandidateStatus:
    """The furthest step of the record that names the candidate."""
    if candidate_id in selection.voided:
        return CandidateStatus.VOIDED
    if candidate_id in selection.appointed:
        return CandidateStatus.APPOINTED
    if candidate_id in selection.approved:
        return CandidateStatus.APPROVED
    if candidate_id in selection.voted:
        return CandidateStatus.NOT_APPROVED
    if candidate_id in selection.subjects:
        return CandidateStatus.INSPECTION_SUBJECT
    return CandidateStatus.RECOMMENDED


def holding_report(
    selection: Selection, candidate_id: str, report_id: UUID, role: Role | None
) -> HoldingReport:
    """A report holding the candidate, with its case unless the caller is a selection clerk
    (the cadre section reads no case)."""
    case_id = selection.hold_case(candidate_id, report_id)
    return HoldingReport(
        report_id=str(report_id),
        case_id=str(case_id) if case_id and (role is None or role in CASE_READERS) else None,
        automatic=case_id is not None,
    )


def selection_view(selection: Selection, role: Role | None = None) -> SelectionView:
    votes = selection.recommendation_votes
    allowed = sorted(
        a
        for a, p in PERMISSIONS.items()
        if selection.stage in p.stages and (role is None or role in p.roles)
    )
    return SelectionView(
        selection_id=str(selection.id),
        version=selection.version,
        stage=selection.stage.value,
        stage_zh=selection.stage.zh,
        unit=selection.unit,
        posts=list(selection.posts),
        proposers=[dict(p) for p in selection.proposers],
        proposed_on=selection.proposed_on,
        last_on=selection.last_on,
        circumstances=[dict(c) for c in selection.circumstances],
        participants=selection.participants,
        candidates=[
            SelectionCandidate(
                **candidate,
                votes=votes.get(candidate_id, 0),
                status=(status := candidate_status(selection, candidate_id)).value,
                status_zh=status.zh,
            )
            for candidate_id, candidate in selection.candidates.items()
        ],
        subjects=list(selection.subjects),
        announcement=SelectionPeriod(**selection.announcement) if selection.announcement else None,
        opinions=[dict(o) for o in selection.opinions.values()],
        opinion_requests=dict(selection.opinion_requests),
        findings=[dict(f) for f in selection.findings.values()],
        deliberated=list(selection.deliberated),
        decision=dict(selection.decision) if selection.decision else None,
        approved=list(selection.approved),
        publicity=dict(selection.publicity) if selection.publicity else None,
        appointed=[dict(a) for a in selection.appointed.values()],
        holds=[
            SelectionHold(
                candidate_id=c,
                report_ids=[str(r) for r in reports],
                reports=[holding_report(selection, c, r, role) for r in reports],
            )
            for c, reports in selection.holds.items()
        ],
        withdrawn_on=selection.withdrawn_on,
        voided=[
            SelectionVoided(**v, ground_zh=VoidGround(v["ground"]).zh)
            for v in selection.voided.values()
        ],
        responsibilities=[
            SelectionResponsibility(
                **r,
                step_zh=ResponsibilityStep(r["step"]).zh,
                handling_zh=AccountabilityHandling(r["handling"]).zh,
            )
            for r in selection.responsibilities
        ],
        allowed_actions=allowed,
    )


def add_selection_routes(router: APIRouter, casework: CaseworkApplication) -> None:
    """Add the routes to casework's ``router`` (under its ``/api/v1`` prefix). Added, not
    included as a router of their own: each route must be on casework's router when its
    statuses are documented (``document_routes``)."""
    tags: list[str | Enum] = ["selections"]
    proposer = Depends(require_api_roles(*SELECTION_ACTORS))
    reader = Depends(selection_access(casework, *SELECTION_READERS))

    @router.post(
        "/selections",
        status_code=201,
        responses=PROPOSE_RESPONSES,
        summary="propose a selection",
        tags=tags,
    )
    def propose_selection(
        body: ProposeSelection,
        response: Response,
        principal: Principal = proposer,
        idempotency_key: IdempotencyKey = None,
    ) -> SelectionCreatedView:
        """Propose a selection (动议) for a unit's posts; answers its id, version and stage.
        With an Idempotency-Key (the caller's own), a retry answers the same selection."""
        selection_id = casework.propose_selection(body, principal.actor(), idempotency_key)
        selection = casework.get_selection(selection_id)
        response.headers["Location"] = f"/api/v1/selections/{selection_id}"
        return SelectionCreatedView(
            selection_id=str(selection_id),
            version=selection.version,
            stage=selection.stage.value,
            stage_zh=selection.stage.zh,
        )

    @router.get("/selections/{selection_id}", tags=tags)
    def get_selection(
        selection_id: UUID, access: tuple[Principal, Selection] = reader
    ) -> SelectionView:
        """The selection's record as it stands, and the steps the caller's role may take now."""
        principal, selection = access
        return selection_view(selection, principal.role)

    for action, (model, _) in SELECTION_COMMANDS.items():
        if action == "issue_document":  # its own routes (document_api.py)
            continue
        router.add_api_route(
            f"/selections/{{selection_id}}/{action}",
            _step_route(casework, action, model),
            methods=["POST"],
            name=f"selection_{action}",
            summary=action.replace("_", " "),
            response_model=SelectionView,
            responses=STEP_RESPONSES,
            tags=tags,
        )

    every_actor = Depends(
        require_api_roles(*dict.fromkeys((*SELECTION_ACTORS, *SELECTION_HOLD_ACTORS)))
    )

    @router.post("/selections/{selection_id}/{action}", include_in_schema=False)
    def unknown_step(
        selection_id: UUID,
        action: str,
        _: Principal = every_actor,
    ) -> None:
        names = ", ".join(SELECTION_COMMANDS)
        raise ApiError(f"no such step {action!r}; the steps are: {names}", 404)


def _step_route(casework: CaseworkApplication, action: str, model: type[SelectionCommand]) -> Any:
    actor = Depends(selection_access(casework, *step_roles(action)))

    def run(
        selection_id: UUID,
        body: model,  # type: ignore[valid-type]
        access: tuple[Principal, Selection] = actor,
    ) -> SelectionView:
        principal = access[0]
        selection = casework.execute_selection(selection_id, action, body, principal.actor())
        return selection_view(selection, principal.role)

    run.__annotations__["body"] = model  # the request model is only known at run time
    run.__name__ = f"selection_{action}"
    run.__doc__ = f"Record this step of the selection; it needs {PERMISSIONS[action].needs}."
    return run
