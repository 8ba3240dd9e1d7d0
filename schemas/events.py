"""The public event contract carried on Kafka (``jiandu.<source>.events``).

Every message is an :class:`EventEnvelope`; its ``payload`` is one of the versioned
payload models below, chosen by ``(event_type, version)``. Consumers call
:func:`parse_payload`, which upcasts older versions to the current one, so a
stored or in-flight message of an earlier version never breaks a reader.

The contract never holds reporter identity: only ``ReporterRef`` (a pseudonymous
reference and flags) crosses intake's boundary.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Callable
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from schemas.glossary import (
    AccuserStatus,
    AdmonitionOutcome,
    CaseKind,
    CaseState,
    Category,
    Channel,
    ClearingMethod,
    Disposition,
    FindingKind,
    HandlingType,
    InquiryOutcome,
    PublicityDecision,
    Role,
    SettlementPath,
    Verdict,
)
from schemas.submissions import Referral, ReportedCadre

Source = Literal["intake", "casework"]
SOURCES: tuple[Source, ...] = ("intake", "casework")


def topic_for(source: Source, prefix: str = "") -> str:
    return f"{prefix}jiandu.{source}.events"


class EventEnvelope(BaseModel):
    """One event of one source, as published by that source's relay."""

    model_config = ConfigDict(frozen=True)

    source: Source
    position: int  # the event's notification id in its source's log; increasing per source
    event_id: UUID
    event_type: str
    version: int
    aggregate_id: UUID
    aggregate_version: int
    occurred_at: dt.datetime
    payload: dict[str, Any]

    def key(self) -> bytes:
        """The Kafka message key: per-aggregate order holds within a partition."""
        return str(self.aggregate_id).encode()

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> EventEnvelope:
        return cls.model_validate(json.loads(data))


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Actor(Payload):
    """Who did a step, in what role (the full-process record, 全程记实)."""

    id: str
    role: Role


class ReporterRef(Payload):
    """The only trace of a reporter outside intake's vault."""

    ref: str
    anonymous: bool
    verified: bool = False


class DueDate(Payload):
    """A deadline's due date; provisional when counted on a calendar not yet official."""

    due: dt.date
    provisional: bool = False
    note: str = ""
    started_on: dt.date | None = None
    working_days: int | None = None
    months: int | None = None


# --- intake ---------------------------------------------------------------------------


class ReportReceivedV1(Payload):
    channel: Channel
    categories: list[Category]
    subjects: list[ReportedCadre]
    summary: str
    sealed: bool = False
    reporter: ReporterRef
    referral: Referral | None
    received_on: dt.date
    actor: Actor


class ReportRegisteredV1(Payload):
    ledger_number: str
    acceptance_notice_due: DueDate | None = None
    actor: Actor
    registered_on: dt.date | None = None  # absent from events stored before it was added


class ReportTriagedV1(Payload):
    """A triage outcome other than acceptance: repeat, forwarded up, transferred down, referred
    out, return proposed/approved/rejected, transfer acknowledged, referral result."""

    outcome: str
    details: dict[str, Any]
    actor: Actor
    reason: str


class SealedContentHandedOverV1(Payload):
    """A sealed report's content handed to the level above (never the content itself)."""

    method: Literal["encrypted_export", "paper"]
    to_authority: str
    reference: str = ""
    recipient_key_sha256: str | None = None
    handed_over_on: dt.date
    actor: Actor
    reason: str = ""


class SealedContentOpenedV1(Payload):
    """A leader opened a sealed report's content (once), and why."""

    opened_on: dt.date
    actor: Actor
    reason: str


class ReporterIdentityVerifiedV1(Payload):
    method: str
    verified_on: dt.date
    actor: Actor


class AcceptanceNoticeSentV1(Payload):
    sent_on: dt.date
    actor: Actor


class ReportAcceptedV1(Payload):
    """Accepted into casework: carries the matter as accepted, so casework needs no lookup."""

    case_id: UUID
    ledger_number: str
    channel: Channel
    categories: list[Category]
    subjects: list[ReportedCadre]
    summary: str
    received_on: dt.date
    reporter: ReporterRef
    joins_case: bool = False
    actor: Actor
    reason: str
    # The day of acceptance; absent from events stored before it was recorded.
    accepted_on: dt.date | None = None


def candidate_key(name: str, unit: str = "") -> str:
    """An unregistered cadre's identity across reports: name and unit, normalised.

    NFKC (full-width letters and brackets become ASCII), no whitespace, case-folded, so
    "王 建国（财政局）" and "王建国(财政局)" are one candidate. Operators confirm or merge
    candidates (``ReportSubjectIdentified``); beyond that, only an exact match of the key
    with one registered cadre's name and unit counts as that cadre.
    """

    def norm(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text).split()).casefold()

    return f"{norm(name)}|{norm(unit)}"


class ReportSubjectIdentifiedV1(Payload):
    """An operator says who subject ``subject_index`` (0-based) of a report is: a registered
    cadre, or the same person as another candidate (a merge). It identifies the candidate
    (the subject's normalised name and unit) wherever it is named; the latest
    identification of a candidate counts."""

    subject_index: int
    name: str
    unit: str
    candidate_key: str
    cadre_id: str | None = None
    same_as_candidate: str | None = None
    actor: Actor
    reason: str = ""


# --- casework -------------------------------------------------------------------------


class CaseStep(Payload):
    """What every case event says: who, and why."""

    actor: Actor
    reason: str = ""


class NamedCadre(Payload):
    name: str
    unit: str = ""
    position: str = ""
    cadre_id: str | None = None


class CadreCategory(Payload):
    """One allegation about one cadre named in the case."""

    cadre: NamedCadre
    category: Category


class CaseOpenedV1(CaseStep):
    kind: CaseKind
    report_id: UUID | None
    ledger_number: str
    channel: Channel
    categories: list[Category]
    subjects: list[NamedCadre]
    received_on: dt.date
    reporter: ReporterRef | None
    linked_case_id: UUID | None
    routing: dict[str, str] | None
    # The day the case was opened (立件); absent from events stored before it was recorded.
    opened_on: dt.date | None = None


class ReportJoinedV1(CaseStep):
    report_id: UUID
    ledger_number: str
    categories: list[Category]
    subjects: list[NamedCadre]
    reporter: ReporterRef
    joined_on: dt.date | None = None  # absent from events stored before it was added
    # Joined after the conclusion was approved (or the case closed): what it alleges that the
    # standing conclusion does not cover, still to be concluded. Absent in older events.
    unconcluded: list[CadreCategory] | None = None


class HandlerAssignedV1(CaseStep):
    handler_id: str
    previous_handler_id: str | None


class DispositionProposedV1(CaseStep):
    disposition: Disposition


class DispositionApprovedV1(CaseStep):
    disposition: Disposition
    collective_study: dict[str, Any]
    review_due: DueDate | None
    feedback_due: DueDate | None = None
    # The day the leader approved; absent from events stored before it was recorded.
    approved_on: dt.date | None = None
    # A transfer to the discipline commission: when its result is due (absent before).
    report_back_due: DueDate | None = None


class InquiryLetterSentV1(CaseStep):
    sent_on: dt.date
    form: str
    reply_due: DueDate


class InquiryReplyReceivedV1(CaseStep):
    received_on: dt.date
    document_ref: str


class InquiryReplyEvaluatedV1(CaseStep):
    outcome: InquiryOutcome
    evaluated_on: dt.date | None = None  # absent from events stored before it was added


class FindingRecordedV1(CaseStep):
    kind: FindingKind
    summary: str
    evidence_refs: list[str]
    found_on: dt.date


class ParkedCaseReviewedV1(CaseStep):
    reviewed_on: dt.date
    next_review_due: DueDate


class ReactivatedV1(CaseStep):
    new_evidence: str
    reactivated_on: dt.date


class CadreVerdict(Payload):
    """One verdict: about one cadre named in the case, on one allegation."""

    cadre: NamedCadre
    category: Category
    verdict: Verdict


class ConclusionProposedV1(CaseStep):
    # ``verdicts``/``overall``: by category over all cadres (a case summary); what each cadre
    # was found is ``cadre_verdicts``. Events stored before it existed lack it: their verdict
    # per category was said of every subject of the case.
    verdicts: dict[Category, Verdict]
    overall: Verdict
    returns_to: str
    cadre_verdicts: list[CadreVerdict] | None = None


class ConclusionApprovedV1(CaseStep):
    verdicts: dict[Category, Verdict]
    overall: Verdict
    approved_on: dt.date | None = None  # absent from events recorded before it was added
    cadre_verdicts: list[CadreVerdict] | None = None  # see ConclusionProposedV1


class SubjectReferredV1(CaseStep):
    """A subject found (partly) true referred to the competent organ (e.g. 公安机关)."""

    cadre: NamedCadre
    organ: str
    referred_on: dt.date
    document_ref: str = ""


class ClearingApprovedV1(CaseStep):
    approved_on: dt.date | None = None  # absent from events recorded before it was added
    cadre: NamedCadre | None = None  # whose clearing; absent before clearings were per cadre


class ConclusionReturnedV1(CaseStep):
    returns_to: CaseState | None = None  # absent from events stored before it was added


class HandlingDecidedV1(CaseStep):
    handling_id: int
    cadre: NamedCadre
    handling: HandlingType
    decided_on: dt.date
    effects: dict[str, Any]
    follow_up_due: DueDate | None
    escalation_of: int | None = None  # the admonition this escalates (added later)


class AdmonitionFollowedUpV1(CaseStep):
    handling_id: int
    outcome: AdmonitionOutcome
    followed_up_on: dt.date
    escalate_to: HandlingType | None = None  # the heavier handling named (added later)


class ClearingProposedV1(CaseStep):
    cadre: NamedCadre
    applied_for_by_cadre: bool
    proposed_on: dt.date | None = None  # absent from events stored before it was added


class ClearingCarriedOutV1(CaseStep):
    method: ClearingMethod
    scope: str
    carried_out_on: dt.date
    corrections: list[str]
    cadre: NamedCadre | None = None  # whose clearing; absent before clearings were per cadre
    # The cadre's handlings (handling_id) the correction revokes; absent in older events.
    revokes: list[int] | None = None


class FalseAccusationSuspectedV1(CaseStep):
    false_accusation_case_id: UUID
    accuser_status: AccuserStatus
    routed_to: str
    cadre: NamedCadre | None = None  # the falsely accused cadre; absent in older events
    suspected_on: dt.date | None = None  # absent from events stored before it was added


class ClosedV1(CaseStep):
    closed_on: dt.date
    unmet_deadlines: dict[str, str]
    feedback_due: DueDate | None


class FeedbackGivenV1(CaseStep):
    """Feedback to a real-name reporter. The text goes to the reporter; liaison views never hold it."""

    given_on: dt.date
    method: str
    text: str


class ObjectionRecordedV1(CaseStep):
    received_on: dt.date
    answer_due: DueDate | None = None  # absent from events recorded before it was added


class ObjectionAnsweredV1(CaseStep):
    answered_on: dt.date
    text: str


class ReopenedV1(CaseStep):
    new_evidence: str
    reopened_on: dt.date


class PublicityHeldV1(CaseStep):
    cadre: NamedCadre
    proposed_post: str
    publicity_ends_on: dt.date
    held_on: dt.date | None = None  # absent from events stored before it was added


class CadreOutcomeV1(Payload):
    """One cadre's result from the receiver of an item that left the office. ``effects``:
    the handling's effects from the effects table when the result was recorded (as
    ``HandlingDecided`` records them); ``sanction``: ``{kind, text, bars_promotion_months}``."""

    cadre: NamedCadre
    verdict: Verdict
    handling: HandlingType | None = None
    effects: dict[str, Any] = {}
    sanction: dict[str, Any] | None = None
    # The day the handling or sanction was decided; its bars run from it (added later;
    # absent: the result's reported_on).
    decided_on: dt.date | None = None


class ReceiverResultV1(Payload):
    """The receiver's result (办理结果). Intake's ``ReportTriaged`` (outcomes
    ``transfer_concluded`` and ``referral_concluded``) carries it as ``details.receiver_result``
    (see :func:`receiver_result_of`); earlier referral results carry only ``details.result``."""

    path: SettlementPath
    receiver: str
    outcomes: list[CadreOutcomeV1]
    reported_on: dt.date
    document_number: str
    summary: str = ""


def receiver_result_of(details: dict[str, Any] | None) -> ReceiverResultV1 | None:
    """The structured result a triage step carries, if any (old free-text results: None)."""
    data = (details or {}).get("receiver_result")
    return ReceiverResultV1.model_validate(data) if data else None


class DisciplineResultRecordedV1(CaseStep):
    """The discipline commission's result of a case transferred to it."""

    receiver: str
    outcomes: list[CadreOutcomeV1]
    reported_on: dt.date
    document_number: str
    summary: str = ""


class PublicityDecidedV1(CaseStep):
    decision: PublicityDecision
    defer_until: dt.date | None
    decided_on: dt.date | None = None  # absent from events stored before it was added


PAYLOADS: dict[tuple[str, int], type[Payload]] = {
    ("ReportReceived", 1): ReportReceivedV1,
    ("ReportRegistered", 1): ReportRegisteredV1,
    ("ReportAccepted", 1): ReportAcceptedV1,
    ("ReportTriaged", 1): ReportTriagedV1,
    ("SealedContentHandedOver", 1): SealedContentHandedOverV1,
    ("SealedContentOpened", 1): SealedContentOpenedV1,
    ("ReporterIdentityVerified", 1): ReporterIdentityVerifiedV1,
    ("AcceptanceNoticeSent", 1): AcceptanceNoticeSentV1,
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
