"""The Selection aggregate: one selection of cadres for a unit's posts, on the record from
the proposal to the appointment, as decision 0034 sets it out.

Commands check the role and stage (``rules.permit``: ``STEP_ORDER``), the date
(``DATES_IN_ORDER``) and their named rules, then trigger one event; each event's ``apply``
only changes the selection (events are replayed: no rule runs there). Where the selection
stands after each event (``stage``) is read from ``services/common/selection_stages.py``.
Every event records who (``actor``), why (``reason``), its business day (``on``) and is
sealed into the selection's hash chain (``chain.py``, as a case's events are).

Each event class is named here as ``Selection.<Name>``, which is how eventsourcing
registers its explicit ``TOPIC`` (``jiandu.casework:Selection.<Name>``, decision 0032). This
module also holds the events' table of public contracts (``SELECTION_CONTRACTS``).
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from eventsourcing.domain import Aggregate

from schemas.events import (
    AppointmentRecordedV1,
    AppointmentVoidedV1,
    CandidateHeldV1,
    CandidateReleasedV1,
    CircumstanceRecordedV1,
    DecisionRecordedV1,
    DeliberationRecordedV1,
    InspectionAnnouncedV1,
    InspectionRecordedV1,
    IntegrityOpinionRecordedV1,
    IntegrityOpinionsRequestedV1,
    PublicityStartedV1,
    RecommendationRecordedV1,
    ResponsibilityTakenV1,
    SelectionDocumentIssuedV1,
    SelectionProposedV1,
    SelectionWithdrawnV1,
)
from services.casework.chain import create_sealed
from services.casework.selection import (
    decision,
    documents,
    holds,
    inspection,
    proposal,
    recommendation,
    responsibility,
    rules,
)
from services.casework.selection.decision import DecisionSteps
from services.casework.selection.documents import DocumentSteps
from services.casework.selection.holds import HoldSteps
from services.casework.selection.inspection import InspectionSteps
from services.casework.selection.proposal import ProposalSteps
from services.casework.selection.recommendation import RecommendationSteps
from services.casework.selection.record import (
    Actor,
    Person,
    SelectionCreated,
    SelectionEvent,
    role_of,
)
from services.casework.selection.responsibility import ResponsibilitySteps
from services.common.contracts import Contract, bind


class Selection(
    ProposalSteps,
    RecommendationSteps,
    InspectionSteps,
    DecisionSteps,
    HoldSteps,
    ResponsibilitySteps,
    DocumentSteps,
    Aggregate,
):
    TOPIC = "jiandu.casework:Selection"

    Created = SelectionCreated
    Event = SelectionEvent

    # -- events, by stage (each with its apply, in its stage module) ---------------------
    # Named here so that eventsourcing registers each one's TOPIC (decision 0032).
    # proposal.py
    Proposed = proposal.Proposed
    CircumstanceRecorded = proposal.CircumstanceRecorded
    Withdrawn = proposal.Withdrawn
    # recommendation.py
    RecommendationRecorded = recommendation.RecommendationRecorded
    InspectionAnnounced = recommendation.InspectionAnnounced
    # inspection.py
    IntegrityOpinionRecorded = inspection.IntegrityOpinionRecorded
    IntegrityOpinionsRequested = inspection.IntegrityOpinionsRequested
    InspectionRecorded = inspection.InspectionRecorded
    DeliberationRecorded = inspection.DeliberationRecorded
    # decision.py
    DecisionRecorded = decision.DecisionRecorded
    PublicityStarted = decision.PublicityStarted
    AppointmentRecorded = decision.AppointmentRecorded
    # holds.py
    CandidateHeld = holds.CandidateHeld
    CandidateReleased = holds.CandidateReleased
    # responsibility.py
    AppointmentVoided = responsibility.AppointmentVoided
    ResponsibilityTaken = responsibility.ResponsibilityTaken
    # documents.py (decision 0035)
    DocumentIssued = documents.DocumentIssued

    # -- creation ------------------------------------------------------------------------

    @classmethod
    def propose(
        cls,
        selection_id: UUID,
        *,
        unit: str,
        posts: list[str],
        proposers: list[Person],
        actor: Actor,
        on: dt.date,
        document_number: str = "",
        reason: str = "",
    ) -> Selection:
        """Propose a selection for ``unit``'s ``posts``, proposed by ``proposers`` on ``on``.
        Any selection recorder may propose (the roles of ``rules.RECORDERS``)."""
        rules.permit_proposal(role_of(actor))
        fields = {
            "unit": unit,
            "posts": list(posts),
            "proposers": [dict(p) for p in proposers],
            "document_number": document_number,
            "actor": actor,
            "reason": reason,
            "on": on,
        }
        return create_sealed(cls, cls.Proposed, selection_id, fields)


# The Selection's events and their public contract (schemas/events.py): one row per event.
SELECTION_CONTRACTS: dict[type[Aggregate.Event], Contract] = {
    Selection.Proposed: ("SelectionProposed", 1, SelectionProposedV1),
    Selection.CircumstanceRecorded: ("CircumstanceRecorded", 1, CircumstanceRecordedV1),
    Selection.RecommendationRecorded: ("RecommendationRecorded", 1, RecommendationRecordedV1),
    Selection.InspectionAnnounced: ("InspectionAnnounced", 1, InspectionAnnouncedV1),
    Selection.IntegrityOpinionRecorded: (
        "IntegrityOpinionRecorded",
        1,
        IntegrityOpinionRecordedV1,
    ),
    Selection.IntegrityOpinionsRequested: (
        "IntegrityOpinionsRequested",
        1,
        IntegrityOpinionsRequestedV1,
    ),
    Selection.InspectionRecorded: ("InspectionRecorded", 1, InspectionRecordedV1),
    Selection.DeliberationRecorded: ("DeliberationRecorded", 1, DeliberationRecordedV1),
    Selection.DecisionRecorded: ("DecisionRecorded", 1, DecisionRecordedV1),
    Selection.PublicityStarted: ("PublicityStarted", 1, PublicityStartedV1),
    Selection.AppointmentRecorded: ("AppointmentRecorded", 1, AppointmentRecordedV1),
    Selection.CandidateHeld: ("CandidateHeld", 1, CandidateHeldV1),
    Selection.CandidateReleased: ("CandidateReleased", 1, CandidateReleasedV1),
    Selection.Withdrawn: ("SelectionWithdrawn", 1, SelectionWithdrawnV1),
    Selection.AppointmentVoided: ("AppointmentVoided", 1, AppointmentVoidedV1),
    Selection.ResponsibilityTaken: ("ResponsibilityTaken", 1, ResponsibilityTakenV1),
    Selection.DocumentIssued: ("SelectionDocumentIssued", 1, SelectionDocumentIssuedV1),
}
# Stored but not published: every event's seal in the selection's hash chain (chain.py).
SELECTION_INTERNAL_FIELDS: dict[type[Aggregate.Event], frozenset[str]] = {
    event_class: frozenset({"chain"}) for event_class in SELECTION_CONTRACTS
}
bind(SELECTION_CONTRACTS)
