"""The SupervisionProject aggregate: a supervision project (立项督查) on one selection, opened
on reports of an irregularity (跑官要官, 买官卖官, 封官许愿, 拉票贿选, 突击提拔), with its
team, plan, findings, conclusion (proposed, approved or returned) and report back.

In the Selection's idiom (``services/casework/selection/``): commands check the role and
stage (``rules.permit``), the date (``DATES_IN_ORDER``) and their named rules, then trigger
one event; each event's ``apply`` only changes the project. Where it stands after each event
is read from ``services/common/project_stages.py``. Every event is sealed into the project's
hash chain (``chain.py``). The application checks what the domain cannot see (that the
selection and the basis's cases exist, which candidates the selection appointed) and counts
the deadlines on its calendar.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from eventsourcing.domain import Aggregate

from schemas.events import (
    ProjectClosedV1,
    ProjectConclusionApprovedV1,
    ProjectConclusionProposedV1,
    ProjectConclusionReturnedV1,
    ProjectDocumentIssuedV1,
    ProjectFindingRecordedV1,
    ProjectOpenedV1,
    ProjectPlanRecordedV1,
    ProjectReportedBackV1,
    ProjectTeamFormedV1,
)
from schemas.glossary import Category
from services.casework.chain import create_sealed
from services.casework.project import documents, rules, steps
from services.casework.project.documents import DocumentSteps
from services.casework.project.record import (
    Actor,
    Due,
    ProjectCreated,
    ProjectEvent,
    role_of,
)
from services.casework.project.steps import ProjectSteps
from services.common.contracts import Contract, bind


class Opened(ProjectCreated):
    """The project opened (立项): on which selection, on which reports, about which
    irregularities, on which clues; its plan and conclusion due."""

    TOPIC = "jiandu.casework:SupervisionProject.Opened"
    selection_id: str
    basis: list[str]
    irregularities: list[str]
    clues: str
    document_number: str
    plan_due: Due
    conclusion_due: Due
    actor: Actor
    reason: str
    on: dt.date


class SupervisionProject(ProjectSteps, DocumentSteps, Aggregate):
    TOPIC = "jiandu.casework:SupervisionProject"

    Created = ProjectCreated
    Event = ProjectEvent

    # Named here so that eventsourcing registers each one's TOPIC (decision 0032).
    Opened = Opened
    TeamFormed = steps.TeamFormed
    PlanRecorded = steps.PlanRecorded
    FindingRecorded = steps.FindingRecorded
    ConclusionProposed = steps.ConclusionProposed
    ConclusionApproved = steps.ConclusionApproved
    ConclusionReturned = steps.ConclusionReturned
    ReportedBack = steps.ReportedBack
    Closed = steps.Closed
    DocumentIssued = documents.DocumentIssued  # decision 0035

    @classmethod
    def open(
        cls,
        project_id: UUID,
        *,
        selection_id: UUID,
        basis: list[UUID],
        irregularities: list[Category],
        clues: str,
        plan_due: Due,
        conclusion_due: Due,
        actor: Actor,
        on: dt.date,
        document_number: str = "",
        reason: str = "",
    ) -> SupervisionProject:
        """Open a project on ``selection_id``, on the cases of ``basis`` (the application
        checked they exist), about ``irregularities``, on specific ``clues``. A leader's
        decision (``rules.permit_opening``)."""
        rules.permit_opening(role_of(actor))
        rules.CLUES_SPECIFIC.require(bool(clues.strip()))
        rules.BASIS_NAMED.require(bool(basis) and len(set(basis)) == len(basis))
        kinds = [Category(i) for i in irregularities]
        rules.IRREGULARITIES_IN_SCOPE.require(
            bool(kinds) and len(set(kinds)) == len(kinds) and set(kinds) <= rules.IRREGULARITIES
        )
        fields = {
            "selection_id": str(selection_id),
            "basis": [str(b) for b in basis],
            "irregularities": [k.value for k in kinds],
            "clues": clues,
            "document_number": document_number,
            "plan_due": dict(plan_due),
            "conclusion_due": dict(conclusion_due),
            "actor": actor,
            "reason": reason,
            "on": on,
        }
        return create_sealed(cls, cls.Opened, project_id, fields)


# The project's events and their public contract (schemas/events.py): one row per event.
PROJECT_CONTRACTS: dict[type[Aggregate.Event], Contract] = {
    SupervisionProject.Opened: ("ProjectOpened", 1, ProjectOpenedV1),
    SupervisionProject.TeamFormed: ("ProjectTeamFormed", 1, ProjectTeamFormedV1),
    SupervisionProject.PlanRecorded: ("ProjectPlanRecorded", 1, ProjectPlanRecordedV1),
    SupervisionProject.FindingRecorded: ("ProjectFindingRecorded", 1, ProjectFindingRecordedV1),
    SupervisionProject.ConclusionProposed: (
        "ProjectConclusionProposed",
        1,
        ProjectConclusionProposedV1,
    ),
    SupervisionProject.ConclusionApproved: (
        "ProjectConclusionApproved",
        1,
        ProjectConclusionApprovedV1,
    ),
    SupervisionProject.ConclusionReturned: (
        "ProjectConclusionReturned",
        1,
        ProjectConclusionReturnedV1,
    ),
    SupervisionProject.ReportedBack: ("ProjectReportedBack", 1, ProjectReportedBackV1),
    SupervisionProject.Closed: ("ProjectClosed", 1, ProjectClosedV1),
    SupervisionProject.DocumentIssued: ("ProjectDocumentIssued", 1, ProjectDocumentIssuedV1),
}
# Stored but not published: every event's seal in the project's hash chain (chain.py).
PROJECT_INTERNAL_FIELDS: dict[type[Aggregate.Event], frozenset[str]] = {
    event_class: frozenset({"chain"}) for event_class in PROJECT_CONTRACTS
}
bind(PROJECT_CONTRACTS)
