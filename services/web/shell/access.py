"""Who may open which page: ``page_roles`` (a refusal is a friendly page naming the role
needed) and one annotation per group of readers, over the role tables of
services/accounts/access.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated

from fastapi import Depends
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.glossary import Role
from services.accounts.access import (
    ARCHIVE_READERS,
    AUDIT_READERS,
    CADRE_LOOKUP_ROLES,
    CANDIDATE_ACTORS,
    CANDIDATE_READERS,
    CASE_ACTORS,
    CASE_READERS,
    IDENTITY_ROLES,
    INTEGRITY_READERS,
    LEDGER_READERS,
    LIAISON_READERS,
    PROJECT_LEADERS,
    PROJECT_READERS,
    PROJECT_WORKERS,
    QUEUE_PAGE_ROLES,
    REPORT_READERS,
    SELECTION_ACTORS,
    SELECTION_HOLD_ACTORS,
    SELECTION_READERS,
    TRIAGE_ACTORS,
)
from services.accounts.model import Principal
from services.accounts.web import page_principal, require_page_roles


class PageForbidden(Exception):
    """The signed-in person lacks the role a page needs (or a rule about them refused)."""

    def __init__(self, roles: Sequence[Role], principal: Principal, message: str = "") -> None:
        super().__init__(message or "forbidden")
        self.roles = tuple(roles)
        self.principal = principal
        self.message = message


def page_roles(*roles: Role) -> Callable[..., Principal]:
    """``require_page_roles`` whose refusal is a friendly page naming the role needed."""
    check = require_page_roles(*roles)

    def dependency(principal: Annotated[Principal, Depends(page_principal)]) -> Principal:
        try:
            return check(principal=principal)
        except StarletteHTTPException as error:
            if error.status_code == 403:
                raise PageForbidden(roles, principal) from None
            raise

    return dependency


# Who each page is for (module level: the annotations are resolved by name).
Operator = Annotated[Principal, Depends(page_roles(Role.OPERATOR))]
LookUp = Annotated[Principal, Depends(page_roles(*CADRE_LOOKUP_ROLES))]
LedgerReader = Annotated[Principal, Depends(page_roles(*LEDGER_READERS))]
ReportReader = Annotated[Principal, Depends(page_roles(*REPORT_READERS))]
IdentityReader = Annotated[Principal, Depends(page_roles(*IDENTITY_ROLES))]
Triager = Annotated[Principal, Depends(page_roles(*TRIAGE_ACTORS))]
Handler = Annotated[Principal, Depends(page_roles(Role.HANDLER))]
CaseReader = Annotated[Principal, Depends(page_roles(*CASE_READERS))]
CaseActor = Annotated[Principal, Depends(page_roles(*CASE_ACTORS))]
Leader = Annotated[Principal, Depends(page_roles(Role.LEADER))]
Queuer = Annotated[Principal, Depends(page_roles(*QUEUE_PAGE_ROLES))]
CadreReader = Annotated[Principal, Depends(page_roles(*ARCHIVE_READERS))]
IntegrityReader = Annotated[Principal, Depends(page_roles(*INTEGRITY_READERS))]
CandidateReader = Annotated[Principal, Depends(page_roles(*CANDIDATE_READERS))]
CandidateActor = Annotated[Principal, Depends(page_roles(*CANDIDATE_ACTORS))]
LiaisonReader = Annotated[Principal, Depends(page_roles(*LIAISON_READERS))]
AuditReader = Annotated[Principal, Depends(page_roles(*AUDIT_READERS))]
Admin = Annotated[Principal, Depends(page_roles(Role.ADMIN))]
SelectionReader = Annotated[Principal, Depends(page_roles(*SELECTION_READERS))]
SelectionProposer = Annotated[Principal, Depends(page_roles(*SELECTION_ACTORS))]
# Who may post a step of a selection: its recorders and its holders (each step's own roles
# are checked again by the desk: ``selection_api.step_roles``).
SelectionStepper = Annotated[
    Principal, Depends(page_roles(*dict.fromkeys((*SELECTION_ACTORS, *SELECTION_HOLD_ACTORS))))
]

# The supervision projects (立项督查): who reads them, who opens one (a leader's decision),
# who may post a step (each step's own roles are checked again: ``project_api.step_roles``).
ProjectReader = Annotated[Principal, Depends(page_roles(*PROJECT_READERS))]
ProjectOpener = Annotated[Principal, Depends(page_roles(*PROJECT_LEADERS))]
ProjectStepper = Annotated[Principal, Depends(page_roles(*PROJECT_WORKERS))]
