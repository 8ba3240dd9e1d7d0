"""The supervision project's event payloads (立项督查, issue 14): a project opened on a
selection's irregularity, its team (督查组), plan, findings, conclusion and report back.
Published on the casework source's topic (``jiandu.casework.events``) like the case's and
the selection's.

Every step says who recorded it (``actor``), why (``reason``) and on which business day
(``on``, the day the user states, never the clock). The deadlines (working days, counted by
the application on its calendar) are carried as ``DueDate`` like a case's.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from schemas.event_base import Actor, DueDate, Payload
from schemas.glossary import Category, DocumentKind, Verdict


class ProjectStep(Payload):
    """What every project event says: who, why, and on which day."""

    actor: Actor
    reason: str = ""
    on: dt.date


class TeamMember(Payload):
    """A member (or the leader) of the supervision team; ``cadre_id`` when registered."""

    name: str
    unit: str = ""
    position: str = ""
    cadre_id: str | None = None


class ResponsiblePerson(Payload):
    """Someone the conclusion holds responsible (违规用人或用人失察失误), and for what."""

    name: str
    unit: str = ""
    position: str = ""
    cadre_id: str | None = None
    responsibility: str


class ProjectOpenedV1(ProjectStep):
    selection_id: UUID
    basis: list[UUID]  # the cases (reports) whose clues opened the project
    irregularities: list[Category]
    clues: str
    document_number: str = ""
    plan_due: DueDate
    conclusion_due: DueDate


class ProjectTeamFormedV1(ProjectStep):
    leader: TeamMember
    members: list[TeamMember]
    document_number: str = ""


class ProjectPlanRecordedV1(ProjectStep):
    summary: str
    document_number: str = ""


class ProjectFindingRecordedV1(ProjectStep):
    irregularity: Category
    confirmed: bool
    summary: str
    evidence_refs: list[str]


class ProjectConclusionProposedV1(ProjectStep):
    verdict: Verdict
    summary: str
    void_candidates: list[str]
    responsible: list[ResponsiblePerson]


class ProjectConclusionApprovedV1(ProjectStep):
    verdict: Verdict
    summary: str
    void_candidates: list[str]
    responsible: list[ResponsiblePerson]
    report_back_due: DueDate


class ProjectConclusionReturnedV1(ProjectStep):
    pass


class ProjectReportedBackV1(ProjectStep):
    reported_to: str
    document_number: str
    summary: str = ""


class ProjectClosedV1(ProjectStep):
    pass


class ProjectDocumentIssuedV1(ProjectStep):
    """An official document the project sent (公文, decision 0035): the 立项督查通知 to the unit
    whose selection is supervised (``about``: ``opening``), its number, the template version
    it was made with and its fields as sent; ``on``: the day it was issued."""

    document_id: UUID
    kind: DocumentKind
    number: str
    about: str
    template_version: str
    fields: dict[str, str]
