"""Request bodies of the selection record (decision 0034): ``POST /api/v1/selections`` proposes
a selection, ``POST /api/v1/selections/{selection_id}/{action}`` records one step.

Each step has ``reason`` (recorded with it), ``on`` (the business day the user states; the
application takes today, on its own clock, when it is left out, as for a case's dated
steps) and ``expected_version``: when given, the step is refused with a conflict if the
selection has changed since the caller read it. The application counts what it must (the
publicity's working days): a request never states it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas.commands import Command, Name, Required, Text
from schemas.glossary import (
    AccountabilityHandling,
    BasisKind,
    CircumstanceKind,
    DocumentKind,
    ResponsibilityStep,
    VoidGround,
)

# A candidate's key (the recommendation gives it; later steps name the candidate by it).
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
# A unit, a post, a document's number: short texts.
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
ShortRequired = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
Count = Annotated[int, Field(ge=0, le=100_000)]

MAX_ITEMS = 200  # candidates, people, posts of one step


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SelectionPerson(Part):
    """Someone responsible for a step: a proposer, an organizer, an inspector, a decider."""

    name: Name
    unit: Short = ""
    position: Short = ""


People = Annotated[list[SelectionPerson], Field(max_length=MAX_ITEMS)]
Keys = Annotated[list[Key], Field(max_length=MAX_ITEMS)]


class ProposeSelection(Part):
    """The proposal (动议): the unit, the posts to fill, who proposed (and answers for it)."""

    unit: ShortRequired
    posts: Annotated[list[ShortRequired], Field(min_length=1, max_length=MAX_ITEMS)]
    proposers: Annotated[list[SelectionPerson], Field(min_length=1, max_length=MAX_ITEMS)]
    on: dt.date | None = None
    document_number: Short = ""
    reason: Text = ""


class SelectionCommand(Command):
    """A step of a selection: ``reason``, ``expected_version`` and its business day ``on``."""

    on: dt.date | None = None


class RecordCircumstance(SelectionCommand):
    kind: CircumstanceKind
    starts_on: dt.date
    ends_on: dt.date
    description: Text = ""
    document_number: Short = ""


class RecommendedCandidate(Part):
    candidate_id: Key
    name: Name
    unit: Short = ""
    position: Short = ""
    cadre_id: Key | None = None
    votes: Count


class RecordRecommendation(SelectionCommand):
    participants: Count
    candidates: Annotated[list[RecommendedCandidate], Field(max_length=MAX_ITEMS)]
    organizers: People
    document_number: Short = ""


class AnnounceInspection(SelectionCommand):
    subjects: Keys
    starts_on: dt.date
    ends_on: dt.date
    document_number: Short = ""


class IntegrityOpinion(Part):
    candidate_id: Key
    given_by: ShortRequired
    received_on: dt.date
    clean: bool
    summary: Text = ""
    reference: Short = ""


class RecordIntegrityOpinion(SelectionCommand):
    opinions: Annotated[list[IntegrityOpinion], Field(max_length=MAX_ITEMS)]


class RequestIntegrityOpinions(SelectionCommand):
    """Ask the supervision office for the candidates' integrity opinions (廉政意见)."""

    candidates: Annotated[list[Key], Field(min_length=1, max_length=MAX_ITEMS)]
    requested_of: Short = "干部监督机构"


class ReplyIntegrityOpinions(SelectionCommand):
    """The supervision office's reply, produced from the information base on the reply's day;
    ``candidates``: those to reply about (every candidate asked about when left out)."""

    candidates: Annotated[list[Key], Field(default_factory=list, max_length=MAX_ITEMS)]


class InspectionFinding(Part):
    candidate_id: Key
    summary: Text


class RecordInspection(SelectionCommand):
    inspectors: People
    findings: Annotated[list[InspectionFinding], Field(max_length=MAX_ITEMS)]
    document_number: Short = ""


class RecordDeliberation(SelectionCommand):
    candidates: Keys
    consulted: People
    summary: Text = ""


class DecisionVote(Part):
    candidate_id: Key
    agree: Count
    disagree: Count = 0
    defer: Count = 0


class RecordDecision(SelectionCommand):
    body: ShortRequired
    members_due: Count
    members_present: Count
    votes: Annotated[list[DecisionVote], Field(max_length=MAX_ITEMS)]
    decision_makers: People
    document_number: Short = ""


class StartPublicity(SelectionCommand):
    """The publicity's period; its working days are counted by the application."""

    candidates: Keys
    starts_on: dt.date
    ends_on: dt.date
    document_number: Short = ""


class Appointment(Part):
    candidate_id: Key
    post: ShortRequired


class RecordAppointment(SelectionCommand):
    appointments: Annotated[list[Appointment], Field(max_length=MAX_ITEMS)]
    document_number: Short = ""


class HoldCandidate(SelectionCommand):
    candidate_id: Key
    report_id: UUID


class ReleaseCandidate(SelectionCommand):
    candidate_id: Key
    report_id: UUID


class WithdrawSelection(SelectionCommand):
    reason: Required


class Basis(Part):
    """What a voided appointment or a responsibility rests on: a case or a supervision project
    on this selection whose conclusion, approved, found the irregularity true or partly true
    (the application checks it)."""

    kind: BasisKind = BasisKind.CASE
    id: UUID


class VoidAppointment(SelectionCommand):
    """Declare void the appointment (or decision) of approved candidates (任免决定无效)."""

    candidates: Annotated[list[Key], Field(min_length=1, max_length=MAX_ITEMS)]
    ground: VoidGround
    basis: Basis
    document_number: Short = ""


class ResponsiblePerson(SelectionPerson):
    cadre_id: Key | None = None


class TakeResponsibility(SelectionCommand):
    """Hold one person responsible for a step of the selection (选人用人责任追究)."""

    person: ResponsiblePerson
    step: ResponsibilityStep
    handling: AccountabilityHandling
    basis: Basis
    document_number: Short = ""


class IssueSelectionDocument(SelectionCommand):
    """Issue the selection's official document (decision 0035): the 考察反馈意见
    (``inspection_feedback``) to an inspected candidate, ``about``
    ``inspection:<candidate_id>:cadre``, or to their unit's leadership team,
    ``inspection:<candidate_id>:team``; ``on``: the day issued (default today). Asked again
    for the same one, the same document is given back."""

    kind: DocumentKind = DocumentKind.INSPECTION_FEEDBACK
    about: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
