"""The selection record's event payloads (decision 0034), published on the
casework source's topic (``jiandu.casework.events``) like the case's.

Every step says who recorded it (``actor``), why (``reason``) and on which business day
(``on``, the day the user states, never the clock); the people responsible for it where it
has them (who recommends, inspects or decides answers for it); candidates are named by the
``candidate_id`` the recommendation gave them.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from schemas.event_base import Actor, Payload
from schemas.glossary import CircumstanceKind


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
