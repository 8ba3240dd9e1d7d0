"""The casework source's event payloads (``jiandu.casework.events``)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from schemas.event_base import (
    Actor,
    DueDate,
    Payload,
    ReporterRef,
)
from schemas.glossary import (
    AccuserStatus,
    AdmonitionOutcome,
    CaseKind,
    CaseState,
    Category,
    Channel,
    ClearingMethod,
    Disposition,
    DocumentKind,
    FindingKind,
    HandlingType,
    InquiryOutcome,
    PublicityDecision,
    SettlementPath,
    Verdict,
)


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


class DocumentIssuedV1(CaseStep):
    """An official document the case sent (公文, decision 0035): its number (文号), the step it
    documents (``about``: ``inquiry``, ``handling:<id>``, ``clearing:<cadre>``), the day, the
    template version it was made with and its fields as sent. Never a reporter's identity."""

    document_id: UUID
    kind: DocumentKind
    number: str
    about: str
    issued_on: dt.date
    template_version: str
    fields: dict[str, str]


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
    effects: dict[str, Any] = {}  # noqa: RUF012 (a pydantic field: each model gets a copy)
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
