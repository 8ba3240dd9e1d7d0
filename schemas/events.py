"""The public event contract carried on Kafka (``jiandu.<source>.events``).

Every message is an :class:`EventEnvelope` (``event_base``); its ``payload`` is one of the
versioned payload models (``events_intake``, ``events_casework``, ``events_selection``,
``events_project``, gathered here), chosen by
``(event_type, version)`` in ``PAYLOADS``. Consumers call
:func:`parse_payload`, which upcasts older versions to the current one, so a
stored or in-flight message of an earlier version never breaks a reader.

The contract never holds reporter identity: only ``ReporterRef`` (a pseudonymous
reference and flags) crosses intake's boundary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemas.event_base import (
    SOURCES,
    Actor,
    DueDate,
    EventEnvelope,
    Payload,
    ReporterRef,
    Source,
    topic_for,
)
from schemas.events_casework import (
    AdmonitionFollowedUpV1,
    CadreCategory,
    CadreOutcomeV1,
    CadreVerdict,
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
    NamedCadre,
    ObjectionAnsweredV1,
    ObjectionRecordedV1,
    ParkedCaseReviewedV1,
    PublicityDecidedV1,
    PublicityHeldV1,
    ReactivatedV1,
    ReceiverResultV1,
    ReopenedV1,
    ReportJoinedV1,
    SubjectReferredV1,
    receiver_result_of,
)
from schemas.events_intake import (
    AcceptanceNoticeSentV1,
    ReportAcceptedV1,
    ReportDocumentIssuedV1,
    ReporterIdentityVerifiedV1,
    ReportReceivedV1,
    ReportRegisteredV1,
    ReportSubjectIdentifiedV1,
    ReportTriagedV1,
    SealedContentHandedOverV1,
    SealedContentOpenedV1,
    candidate_key,
)
from schemas.events_project import (
    ProjectClosedV1,
    ProjectConclusionApprovedV1,
    ProjectConclusionProposedV1,
    ProjectConclusionReturnedV1,
    ProjectDocumentIssuedV1,
    ProjectFindingRecordedV1,
    ProjectOpenedV1,
    ProjectPlanRecordedV1,
    ProjectReportedBackV1,
    ProjectStep,
    ProjectTeamFormedV1,
)
from schemas.events_selection import (
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
    SelectionStep,
    SelectionWithdrawnV1,
)

# The contract's names, wherever their module: consumers import them from here.
__all__ = [
    "CURRENT_VERSION",
    "PAYLOADS",
    "SOURCES",
    "UPCASTERS",
    "AcceptanceNoticeSentV1",
    "Actor",
    "AdmonitionFollowedUpV1",
    "AppointmentRecordedV1",
    "AppointmentVoidedV1",
    "CadreCategory",
    "CadreOutcomeV1",
    "CadreVerdict",
    "CandidateHeldV1",
    "CandidateReleasedV1",
    "CaseOpenedV1",
    "CaseStep",
    "CircumstanceRecordedV1",
    "ClearingApprovedV1",
    "ClearingCarriedOutV1",
    "ClearingProposedV1",
    "ClosedV1",
    "ConclusionApprovedV1",
    "ConclusionProposedV1",
    "ConclusionReturnedV1",
    "DecisionRecordedV1",
    "DeliberationRecordedV1",
    "DisciplineResultRecordedV1",
    "DispositionApprovedV1",
    "DispositionProposedV1",
    "DocumentIssuedV1",
    "DueDate",
    "EventEnvelope",
    "FalseAccusationSuspectedV1",
    "FeedbackGivenV1",
    "FindingRecordedV1",
    "HandlerAssignedV1",
    "HandlingDecidedV1",
    "InquiryLetterSentV1",
    "InquiryReplyEvaluatedV1",
    "InquiryReplyReceivedV1",
    "InspectionAnnouncedV1",
    "InspectionRecordedV1",
    "IntegrityOpinionRecordedV1",
    "IntegrityOpinionsRequestedV1",
    "NamedCadre",
    "ObjectionAnsweredV1",
    "ObjectionRecordedV1",
    "ParkedCaseReviewedV1",
    "Payload",
    "ProjectClosedV1",
    "ProjectConclusionApprovedV1",
    "ProjectConclusionProposedV1",
    "ProjectConclusionReturnedV1",
    "ProjectDocumentIssuedV1",
    "ProjectFindingRecordedV1",
    "ProjectOpenedV1",
    "ProjectPlanRecordedV1",
    "ProjectReportedBackV1",
    "ProjectStep",
    "ProjectTeamFormedV1",
    "PublicityDecidedV1",
    "PublicityHeldV1",
    "PublicityStartedV1",
    "ReactivatedV1",
    "ReceiverResultV1",
    "RecommendationRecordedV1",
    "ReopenedV1",
    "ReportAcceptedV1",
    "ReportDocumentIssuedV1",
    "ReportJoinedV1",
    "ReportReceivedV1",
    "ReportRegisteredV1",
    "ReportSubjectIdentifiedV1",
    "ReportTriagedV1",
    "ReporterIdentityVerifiedV1",
    "ReporterRef",
    "ResponsibilityTakenV1",
    "SealedContentHandedOverV1",
    "SealedContentOpenedV1",
    "SelectionDocumentIssuedV1",
    "SelectionProposedV1",
    "SelectionStep",
    "SelectionWithdrawnV1",
    "Source",
    "SubjectReferredV1",
    "UnknownEventType",
    "candidate_key",
    "json_schemas",
    "parse_payload",
    "receiver_result_of",
    "topic_for",
]


PAYLOADS: dict[tuple[str, int], type[Payload]] = {
    ("ReportReceived", 1): ReportReceivedV1,
    ("ReportRegistered", 1): ReportRegisteredV1,
    ("ReportAccepted", 1): ReportAcceptedV1,
    ("ReportTriaged", 1): ReportTriagedV1,
    ("SealedContentHandedOver", 1): SealedContentHandedOverV1,
    ("SealedContentOpened", 1): SealedContentOpenedV1,
    ("ReporterIdentityVerified", 1): ReporterIdentityVerifiedV1,
    ("AcceptanceNoticeSent", 1): AcceptanceNoticeSentV1,
    ("ReportDocumentIssued", 1): ReportDocumentIssuedV1,
    ("ReportSubjectIdentified", 1): ReportSubjectIdentifiedV1,
    ("CaseOpened", 1): CaseOpenedV1,
    ("ReportJoined", 1): ReportJoinedV1,
    ("HandlerAssigned", 1): HandlerAssignedV1,
    ("DispositionProposed", 1): DispositionProposedV1,
    ("DispositionApproved", 1): DispositionApprovedV1,
    ("DispositionReturned", 1): CaseStep,
    ("InquiryLetterSent", 1): InquiryLetterSentV1,
    ("InquiryReplyReceived", 1): InquiryReplyReceivedV1,
    ("InquiryReplyEvaluated", 1): InquiryReplyEvaluatedV1,
    ("FindingRecorded", 1): FindingRecordedV1,
    ("ParkedCaseReviewed", 1): ParkedCaseReviewedV1,
    ("Reactivated", 1): ReactivatedV1,
    ("ConclusionProposed", 1): ConclusionProposedV1,
    ("ConclusionApproved", 1): ConclusionApprovedV1,
    ("ConclusionReturned", 1): ConclusionReturnedV1,
    ("HandlingDecided", 1): HandlingDecidedV1,
    ("AdmonitionFollowedUp", 1): AdmonitionFollowedUpV1,
    ("ClearingProposed", 1): ClearingProposedV1,
    ("ClearingApproved", 1): ClearingApprovedV1,
    ("ClearingCarriedOut", 1): ClearingCarriedOutV1,
    ("FalseAccusationSuspected", 1): FalseAccusationSuspectedV1,
    ("SubjectReferred", 1): SubjectReferredV1,
    ("Closed", 1): ClosedV1,
    ("FeedbackGiven", 1): FeedbackGivenV1,
    ("ObjectionRecorded", 1): ObjectionRecordedV1,
    ("ObjectionAnswered", 1): ObjectionAnsweredV1,
    ("Reopened", 1): ReopenedV1,
    ("PublicityHeld", 1): PublicityHeldV1,
    ("PublicityDecided", 1): PublicityDecidedV1,
    ("DisciplineResultRecorded", 1): DisciplineResultRecordedV1,
    ("DocumentIssued", 1): DocumentIssuedV1,
    # the selection record (decision 0034)
    ("SelectionProposed", 1): SelectionProposedV1,
    ("CircumstanceRecorded", 1): CircumstanceRecordedV1,
    ("RecommendationRecorded", 1): RecommendationRecordedV1,
    ("InspectionAnnounced", 1): InspectionAnnouncedV1,
    ("IntegrityOpinionRecorded", 1): IntegrityOpinionRecordedV1,
    ("IntegrityOpinionsRequested", 1): IntegrityOpinionsRequestedV1,
    ("InspectionRecorded", 1): InspectionRecordedV1,
    ("DeliberationRecorded", 1): DeliberationRecordedV1,
    ("DecisionRecorded", 1): DecisionRecordedV1,
    ("PublicityStarted", 1): PublicityStartedV1,
    ("AppointmentRecorded", 1): AppointmentRecordedV1,
    ("CandidateHeld", 1): CandidateHeldV1,
    ("CandidateReleased", 1): CandidateReleasedV1,
    ("SelectionWithdrawn", 1): SelectionWithdrawnV1,
    ("AppointmentVoided", 1): AppointmentVoidedV1,
    ("ResponsibilityTaken", 1): ResponsibilityTakenV1,
    ("SelectionDocumentIssued", 1): SelectionDocumentIssuedV1,
    # the supervision project on a selection (立项督查)
    ("ProjectOpened", 1): ProjectOpenedV1,
    ("ProjectTeamFormed", 1): ProjectTeamFormedV1,
    ("ProjectPlanRecorded", 1): ProjectPlanRecordedV1,
    ("ProjectFindingRecorded", 1): ProjectFindingRecordedV1,
    ("ProjectConclusionProposed", 1): ProjectConclusionProposedV1,
    ("ProjectConclusionApproved", 1): ProjectConclusionApprovedV1,
    ("ProjectConclusionReturned", 1): ProjectConclusionReturnedV1,
    ("ProjectReportedBack", 1): ProjectReportedBackV1,
    ("ProjectClosed", 1): ProjectClosedV1,
    ("ProjectDocumentIssued", 1): ProjectDocumentIssuedV1,
}

CURRENT_VERSION: dict[str, int] = {}
for _event_type, _version in PAYLOADS:
    CURRENT_VERSION[_event_type] = max(CURRENT_VERSION.get(_event_type, 0), _version)

# Upcasters turn version N's payload dict into version N+1's: {(event_type, N): fn}.
UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}


class UnknownEventType(ValueError):
    pass


def parse_payload(envelope: EventEnvelope) -> Payload:
    """The envelope's payload as the current version's model (upcast when older)."""
    event_type, version, data = envelope.event_type, envelope.version, dict(envelope.payload)
    if event_type not in CURRENT_VERSION:
        raise UnknownEventType(f"unknown event type {event_type!r} from {envelope.source}")
    while version < CURRENT_VERSION[event_type]:
        data = UPCASTERS[(event_type, version)](data)
        version += 1
    return PAYLOADS[(event_type, version)].model_validate(data)


def json_schemas() -> dict[str, Any]:
    """JSON Schema of the envelope and of every payload version, for other consumers."""
    return {
        "EventEnvelope": EventEnvelope.model_json_schema(),
        **{f"{t}.v{v}": m.model_json_schema() for (t, v), m in PAYLOADS.items()},
    }
