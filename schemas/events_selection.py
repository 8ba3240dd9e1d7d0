"""The selection record's event payloads (decision 0034), published on the
casework source's topic (``jiandu.casework.events``) like the case's.

Every step says who recorded it (``actor``), why (``reason``) and on which business day
(``on``, the day the user states, never the clock); the people responsible for it where it
has them (who recommends, inspects or decides answers for it); candidates are named by the
``candidate_id`` the recommendation gave them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from schemas.event_base import Actor, Payload
from schemas.glossary import (
    AccountabilityHandling,
    BasisKind,
    CircumstanceKind,
    DocumentKind,
    ResponsibilityStep,
    VoidGround,
)


class SelectionStep(Payload):
    """What every selection event says: who, why, and on which day."""

    actor: Actor
    reason: str = ""
    on: dt.date


class Person(Payload):
    """Someone responsible for a step: a proposer, an organizer, an inspector, a decider."""

    name: str
    unit: str = ""
    position: str = ""


class RecommendedCandidate(Payload):
    """A candidate of the democratic recommendation and their votes. ``candidate_id`` is the
    stable key later steps (and reports, integrity opinions, holds) name them by."""

    candidate_id: str
    name: str
    unit: str = ""
    position: str = ""
    cadre_id: str | None = None
    votes: int


class IntegrityOpinion(Payload):
    """The integrity opinion about one candidate, from the discipline inspection organ."""

    candidate_id: str
    given_by: str
    received_on: dt.date
    clean: bool
    summary: str = ""
    reference: str = ""


class InspectionFinding(Payload):
    candidate_id: str
    summary: str


class DecisionVote(Payload):
    """One candidate's votes at the decision meeting; ``approved``: agree > members due / 2."""

    candidate_id: str
    agree: int
    disagree: int
    defer: int
    approved: bool


class Appointment(Payload):
    candidate_id: str
    post: str


class ResponsiblePerson(Person):
    """Someone held responsible for a selection; ``cadre_id``: the cadre register's key."""

    cadre_id: str | None = None


class SelectionProposedV1(SelectionStep):
    unit: str
    posts: list[str]
    proposers: list[Person]
    document_number: str = ""


class CircumstanceRecordedV1(SelectionStep):
    kind: CircumstanceKind
    starts_on: dt.date
    ends_on: dt.date
    description: str = ""
    document_number: str = ""


class RecommendationRecordedV1(SelectionStep):
    participants: int
    candidates: list[RecommendedCandidate]
    organizers: list[Person]
    document_number: str = ""


class InspectionAnnouncedV1(SelectionStep):
    subjects: list[str]
    starts_on: dt.date
    ends_on: dt.date
    document_number: str = ""


class IntegrityOpinionRecordedV1(SelectionStep):
    opinions: list[IntegrityOpinion]


class IntegrityOpinionsRequestedV1(SelectionStep):
    """The organization department asks ``requested_of`` for the candidates' integrity
    opinions; the supervision office replies from the information base (an
    ``IntegrityOpinionRecorded`` by a handler or leader)."""

    candidates: list[str]
    requested_of: str = ""


class InspectionRecordedV1(SelectionStep):
    inspectors: list[Person]
    findings: list[InspectionFinding]
    document_number: str = ""


class DeliberationRecordedV1(SelectionStep):
    candidates: list[str]
    consulted: list[Person]
    summary: str = ""


class DecisionRecordedV1(SelectionStep):
    body: str
    members_due: int
    members_present: int
    votes: list[DecisionVote]
    decision_makers: list[Person]
    document_number: str = ""


class PublicityStartedV1(SelectionStep):
    candidates: list[str]
    starts_on: dt.date
    ends_on: dt.date
    working_days: int
    document_number: str = ""


class AppointmentRecordedV1(SelectionStep):
    appointments: list[Appointment]
    document_number: str = ""


class CandidateHeldV1(SelectionStep):
    candidate_id: str
    report_id: UUID
    # The case the report opened or joined, when casework held the candidate itself (actor
    # ``system``); absent for a hold placed by hand and from events stored before.
    case_id: UUID | None = None


class CandidateReleasedV1(SelectionStep):
    candidate_id: str
    report_id: UUID


class SelectionWithdrawnV1(SelectionStep):
    pass


class VoidedCandidate(Payload):
    """A candidate whose appointment is void, as the recommendation named them; ``post``:
    the post they were appointed to ("" if not yet appointed: the decision is void)."""

    candidate_id: str
    name: str
    unit: str = ""
    position: str = ""
    cadre_id: str | None = None
    post: str = ""


class AppointmentVoidedV1(SelectionStep):
    """The appointment (or decision) of approved ``candidates`` is void (任免决定无效), on a
    named ground, on the basis of a concluded case; ``selection_void``: no approved candidate
    stands any more (the selection is void). ``unit`` and ``posts``: the selection's."""

    unit: str
    posts: list[str]
    candidates: list[VoidedCandidate]
    ground: VoidGround
    basis_kind: BasisKind
    basis_id: UUID
    document_number: str = ""
    selection_void: bool


class SelectionDocumentIssuedV1(SelectionStep):
    """An official document the selection sent (公文, decision 0035): the 考察反馈意见 to an
    inspected cadre or their unit's leadership team (``about``:
    ``inspection:<candidate_id>:cadre|team``), its number, the template version it was made
    with and its fields as sent; ``on``: the day it was issued."""

    document_id: UUID
    kind: DocumentKind
    number: str
    about: str
    template_version: str
    fields: dict[str, str]


class ResponsibilityTakenV1(SelectionStep):
    """One person held responsible for a step of the selection (选人用人责任追究), with the
    handling and, for an organizational handling, its effects as recorded when decided.
    ``unit`` and ``posts``: the selection's."""

    unit: str
    posts: list[str]
    person: ResponsiblePerson
    step: ResponsibilityStep
    handling: AccountabilityHandling
    effects: dict[str, Any]
    basis_kind: BasisKind
    basis_id: UUID
    document_number: str = ""
