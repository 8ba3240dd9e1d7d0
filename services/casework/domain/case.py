"""The Case aggregate: one matter under handling (问题线索/案件), as a state machine.

Commands check their permission (role and state, ``rules.permit``) and their named
rules, then trigger one event; each event's ``apply`` only changes the case (events are
replayed, so rules must not run there). Where the case stands after an event (``state``)
is read from the one table the projections read too, ``services/common/case_states.py``
(decision 0029). Every event records who (``actor``), why
(``reason``) and is sealed into the case's hash chain (``chain.py``).

Deadlines are computed by the application (working-day calendar) and passed in; the
case records them with their due date, whether that date is provisional, and when they
were met.

The aggregate is put together here from its parts (decision 0032): its state and sealed
trigger (``record.py``), and one module per stage of the procedure holding that stage's
events (with their ``apply``) and commands. Each event class is named here as
``Case.<Name>``, which is how eventsourcing registers its explicit ``TOPIC``
(``jiandu.casework:Case.<Name>``, the topic stored events carry). This module also holds
the events' table of public contracts (``CASE_CONTRACTS``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from schemas.events import (
    AdmonitionFollowedUpV1,
    CaseOpenedV1,
    CaseStep,
    ClearingApprovedV1,
    ClearingCarriedOutV1,
    ClearingProposedV1,
    ClosedV1,
    ConclusionApprovedV1,
    ConclusionProposedV1,
    ConclusionReturnedV1,
    DisciplineResultRecordedV1,
    DispositionApprovedV1,
    DispositionProposedV1,
    DocumentIssuedV1,
    FalseAccusationSuspectedV1,
    FeedbackGivenV1,
    FindingRecordedV1,
    HandlerAssignedV1,
    HandlingDecidedV1,
    InquiryLetterSentV1,
    InquiryReplyEvaluatedV1,
    InquiryReplyReceivedV1,
    ObjectionAnsweredV1,
    ObjectionRecordedV1,
    ParkedCaseReviewedV1,
    PublicityDecidedV1,
    PublicityHeldV1,
    ReactivatedV1,
    ReopenedV1,
    ReportJoinedV1,
    SubjectReferredV1,
)
from schemas.glossary import CaseKind
from services.casework.chain import create_sealed
from services.casework.domain import (
    clearing,
    closing,
    conclusion,
    disposition,
    documents,
    opening,
)
from services.casework.domain.clearing import ClearingSteps
from services.casework.domain.closing import ClosingSteps
from services.casework.domain.conclusion import ConclusionSteps
from services.casework.domain.disposition import DispositionSteps
from services.casework.domain.documents import DocumentSteps
from services.casework.domain.opening import OpeningSteps
from services.casework.domain.record import Actor, CaseCreated, CaseEvent
from services.common.contracts import Contract, bind


class Case(
    OpeningSteps,
    DispositionSteps,
    ConclusionSteps,
    ClearingSteps,
    ClosingSteps,
    DocumentSteps,
    Aggregate,
):
    TOPIC = "jiandu.casework:Case"

    Created = CaseCreated
    Event = CaseEvent

    # -- events, by stage (each with its apply, in its stage module) ---------------------
    # Named here so that eventsourcing registers each one's TOPIC (decision 0032).
    # opening.py
    Opened = opening.Opened
    ReportJoined = opening.ReportJoined
    HandlerAssigned = opening.HandlerAssigned
    # disposition.py
    DispositionProposed = disposition.DispositionProposed
    DispositionApproved = disposition.DispositionApproved
    DispositionReturned = disposition.DispositionReturned
    InquiryLetterSent = disposition.InquiryLetterSent
    InquiryReplyReceived = disposition.InquiryReplyReceived
    InquiryReplyEvaluated = disposition.InquiryReplyEvaluated
    FindingRecorded = disposition.FindingRecorded
    ParkedCaseReviewed = disposition.ParkedCaseReviewed
    Reactivated = disposition.Reactivated
    # conclusion.py
    ConclusionProposed = conclusion.ConclusionProposed
    ConclusionApproved = conclusion.ConclusionApproved
    ConclusionReturned = conclusion.ConclusionReturned
    HandlingDecided = conclusion.HandlingDecided
    AdmonitionFollowedUp = conclusion.AdmonitionFollowedUp
    # clearing.py
    ClearingProposed = clearing.ClearingProposed
    ClearingApproved = clearing.ClearingApproved
    ClearingCarriedOut = clearing.ClearingCarriedOut
    FalseAccusationSuspected = clearing.FalseAccusationSuspected
    SubjectReferred = clearing.SubjectReferred
    # closing.py
    Closed = closing.Closed
    FeedbackGiven = closing.FeedbackGiven
    ObjectionRecorded = closing.ObjectionRecorded
    ObjectionAnswered = closing.ObjectionAnswered
    Reopened = closing.Reopened
    DisciplineResultRecorded = closing.DisciplineResultRecorded
    PublicityHeld = closing.PublicityHeld
    PublicityDecided = closing.PublicityDecided
    # documents.py
    DocumentIssued = documents.DocumentIssued

    # -- creation ------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        case_id: UUID,
        *,
        kind: CaseKind = CaseKind.REPORT,
        report_id: UUID | None,
        ledger_number: str,
        channel: str,
        categories: list[str],
        subjects: list[dict[str, Any]],
        summary: str,
        received_on: dt.date,
        reporter: dict[str, Any] | None,
        actor: Actor,
        opened_on: dt.date,
        reason: str = "",
        linked_case_id: UUID | None = None,
        routing: dict[str, str] | None = None,
    ) -> Case:
        fields: dict[str, Any] = {
            "opened_on": opened_on,
            "kind": kind.value,
            "report_id": report_id,
            "ledger_number": ledger_number,
            "channel": channel,
            "categories": categories,
            "subjects": subjects,
            "summary": summary,
            "received_on": received_on,
            "reporter": reporter,
            "linked_case_id": linked_case_id,
            "routing": routing,
            "actor": actor,
            "reason": reason,
        }
        return create_sealed(cls, cls.Opened, case_id, fields)


# The Case's events and their public contract (schemas/events.py): one row per event.
CASE_CONTRACTS: dict[type[Aggregate.Event], Contract] = {
    Case.Opened: ("CaseOpened", 1, CaseOpenedV1),
    Case.ReportJoined: ("ReportJoined", 1, ReportJoinedV1),
    Case.HandlerAssigned: ("HandlerAssigned", 1, HandlerAssignedV1),
    Case.DispositionProposed: ("DispositionProposed", 1, DispositionProposedV1),
    Case.DispositionApproved: ("DispositionApproved", 1, DispositionApprovedV1),
    Case.DispositionReturned: ("DispositionReturned", 1, CaseStep),
    Case.InquiryLetterSent: ("InquiryLetterSent", 1, InquiryLetterSentV1),
    Case.InquiryReplyReceived: ("InquiryReplyReceived", 1, InquiryReplyReceivedV1),
    Case.InquiryReplyEvaluated: ("InquiryReplyEvaluated", 1, InquiryReplyEvaluatedV1),
    Case.FindingRecorded: ("FindingRecorded", 1, FindingRecordedV1),
    Case.ParkedCaseReviewed: ("ParkedCaseReviewed", 1, ParkedCaseReviewedV1),
    Case.Reactivated: ("Reactivated", 1, ReactivatedV1),
    Case.ConclusionProposed: ("ConclusionProposed", 1, ConclusionProposedV1),
    Case.ConclusionApproved: ("ConclusionApproved", 1, ConclusionApprovedV1),
    Case.ConclusionReturned: ("ConclusionReturned", 1, ConclusionReturnedV1),
    Case.HandlingDecided: ("HandlingDecided", 1, HandlingDecidedV1),
    Case.AdmonitionFollowedUp: ("AdmonitionFollowedUp", 1, AdmonitionFollowedUpV1),
    Case.ClearingProposed: ("ClearingProposed", 1, ClearingProposedV1),
    Case.ClearingApproved: ("ClearingApproved", 1, ClearingApprovedV1),
    Case.ClearingCarriedOut: ("ClearingCarriedOut", 1, ClearingCarriedOutV1),
    Case.FalseAccusationSuspected: ("FalseAccusationSuspected", 1, FalseAccusationSuspectedV1),
    Case.SubjectReferred: ("SubjectReferred", 1, SubjectReferredV1),
    Case.Closed: ("Closed", 1, ClosedV1),
    Case.FeedbackGiven: ("FeedbackGiven", 1, FeedbackGivenV1),
    Case.ObjectionRecorded: ("ObjectionRecorded", 1, ObjectionRecordedV1),
    Case.ObjectionAnswered: ("ObjectionAnswered", 1, ObjectionAnsweredV1),
    Case.Reopened: ("Reopened", 1, ReopenedV1),
    Case.DisciplineResultRecorded: ("DisciplineResultRecorded", 1, DisciplineResultRecordedV1),
    Case.PublicityHeld: ("PublicityHeld", 1, PublicityHeldV1),
    Case.PublicityDecided: ("PublicityDecided", 1, PublicityDecidedV1),
    Case.DocumentIssued: ("DocumentIssued", 1, DocumentIssuedV1),
}
# Stored but not published: every event's seal in the case's hash chain (chain.py), and the
# summary of the report that opened the case (published by intake, not repeated by casework).
CASE_INTERNAL_FIELDS: dict[type[Aggregate.Event], frozenset[str]] = {
    event_class: frozenset({"chain", "summary"} if event_class is Case.Opened else {"chain"})
    for event_class in CASE_CONTRACTS
}
bind(CASE_CONTRACTS)
