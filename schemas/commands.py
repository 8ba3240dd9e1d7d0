"""Request bodies of the casework procedure (``POST /api/v1/cases/{case_id}/{action}``).

Each has ``reason`` (recorded with the step) and ``expected_version``: when given, the
command is refused with a conflict if the case has changed since the caller read it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from schemas.glossary import (
    AccuserStatus,
    AdmonitionOutcome,
    Category,
    ClearingMethod,
    Disposition,
    DocumentKind,
    FindingKind,
    HandlingType,
    IdentityCheck,
    InquiryOutcome,
    MemberUnit,
    PublicityDecision,
    SanctionKind,
    Verdict,
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Required = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: Text = ""
    expected_version: int | None = Field(None, ge=1)


class CadreRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cadre_id: str | None = None
    name: str | None = None
    unit: str | None = None

    @model_validator(mode="after")
    def _identifies(self) -> Self:
        if not (self.cadre_id or self.name):
            raise ValueError("name the cadre by cadre_id or name")
        return self


class Assign(Command):
    handler_id: Name


class ProposeDisposition(Command):
    disposition: Disposition
    reason: Required


class CollectiveStudy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    held_on: dt.date
    meeting: Text = ""
    participants: Annotated[list[Name], Field(min_length=1)]
    decision_ref: Text = ""


class ApproveDisposition(Command):
    collective_study: CollectiveStudy
    # The day the leader approved (deadlines count from it, a closing disposition closes the
    # case on it); default: today.
    approved_on: dt.date | None = None


class ReturnWithReason(Command):
    reason: Required


class Approve(Command):
    pass


class DatedApproval(Approve):
    """An approval whose day the record keeps (conclusions, clearings); default: today."""

    approved_on: dt.date | None = None


class SendInquiryLetter(Command):
    sent_on: dt.date | None = None
    form: Annotated[str, StringConstraints(pattern="^(letter|talk)$")] = "letter"


class RecordInquiryReply(Command):
    received_on: dt.date | None = None
    document_ref: Text = ""


class EvaluateInquiryReply(Command):
    outcome: InquiryOutcome
    reason: Required


class RecordFinding(Command):
    kind: FindingKind
    summary: Required
    evidence_refs: list[Name] = []
    found_on: dt.date | None = None


class ReviewParked(Command):
    reason: Required
    reviewed_on: dt.date | None = None


class NewEvidence(Command):
    new_evidence: Required
    on: dt.date | None = None


class CadreVerdict(BaseModel):
    """One verdict: one cadre named in the case, one allegation category."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cadre: CadreRef
    category: Category
    verdict: Verdict


class ProposeConclusion(Command):
    """Verdicts per cadre and allegation (``cadre_verdicts``: once for each cadre named in the
    case and each allegation that cadre's own reports make). ``verdicts`` by category alone
    only for a one-cadre case."""

    verdicts: dict[Category, Verdict] | None = Field(None, min_length=1)
    cadre_verdicts: list[CadreVerdict] | None = Field(None, min_length=1)
    reason: Required

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        if (self.verdicts is None) == (self.cadre_verdicts is None):
            raise ValueError("give either cadre_verdicts (per cadre) or verdicts (one cadre only)")
        return self


class DecideHandling(Command):
    cadre: CadreRef
    handling: HandlingType
    decided_on: dt.date | None = None
    # The admonition (handling number) whose failed follow-up named this heavier handling.
    escalation_of: int | None = Field(None, ge=1)
    reason: Required


class AdmonitionFollowUp(Command):
    handling_id: int = Field(ge=1)
    outcome: AdmonitionOutcome
    followed_up_on: dt.date | None = None
    # Escalated (拒不改正): the heavier handling it leads to (demotion, dismissal …).
    escalate_to: HandlingType | None = None

    @model_validator(mode="after")
    def _escalation_only(self) -> Self:
        # An escalation naming nothing (or a lighter handling) is refused by the procedure's
        # rule escalation_names_handling (409).
        if self.outcome is not AdmonitionOutcome.ESCALATED and self.escalate_to is not None:
            raise ValueError("escalate_to is only for an escalated admonition")
        return self


class ProposeClearing(Command):
    cadre: CadreRef
    reason: Required


class ApproveClearing(DatedApproval):
    """Approve one cadre's clearing; ``cadre`` may be left out when only one awaits approval."""

    cadre: CadreRef | None = None


class CarryOutClearing(Command):
    method: ClearingMethod
    scope: Required
    carried_out_on: dt.date | None = None
    corrections: list[Required] = []
    cadre: CadreRef | None = None  # whose clearing; may be left out when only one is approved
    # The ids of the cleared cadre's handlings in this case that the correction revokes
    # (撤销): their effects end on carried_out_on.
    revokes: list[int] = []


class Accuser(BaseModel):
    """Who is suspected of the false accusation, as staff found it: a cadre of the register
    (``cadre_id``) or a person who is not a cadre (``name``, unit …). Never copied from the
    reporter's identity in the vault."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cadre_id: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None
    ) = None
    name: Name | None = None
    unit: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    position: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""

    @model_validator(mode="after")
    def _identifies(self) -> Self:
        if not (self.cadre_id or self.name):
            raise ValueError("name the accuser: a registered cadre's cadre_id, or a name")
        return self


class SuspectFalseAccusation(Command):
    cadre: CadreRef | None = None  # the falsely accused; may be left out in a one-cadre case
    accuser: Accuser
    accuser_status: AccuserStatus
    reason: Required


class ReferSubject(Command):
    """Refer a subject found (partly) true to the competent organ; ``cadre`` may be left out
    when the case names one (a false-accusation case: its accuser)."""

    cadre: CadreRef | None = None
    organ: Required  # e.g. 公安机关
    referred_on: dt.date | None = None
    document_ref: Text = ""
    reason: Required


class Close(Command):
    closed_on: dt.date | None = None
    explanations: dict[str, Required] = {}


class GiveFeedback(Command):
    given_on: dt.date | None = None
    method: Annotated[str, StringConstraints(pattern="^(phone|letter|in_person|online)$")]
    text: Required


class RecordObjection(Command):
    received_on: dt.date | None = None
    reason: Required


class AnswerObjection(Command):
    answered_on: dt.date | None = None
    text: Required


class HoldForPublicity(Command):
    cadre: CadreRef
    proposed_post: Required
    publicity_ends_on: dt.date


class DecidePublicity(Command):
    decision: PublicityDecision
    decided_on: dt.date | None = None
    defer_months: int | None = Field(None, ge=1, le=12)
    reason: Required


class IssueDocument(Command):
    """Issue the official document of ``kind`` about a step taken (decision 0035): ``about`` is
    ``inquiry`` (谈话函询通知书), ``handling:<id>`` (诫勉通知书, an admonition) or
    ``clearing:<cadre>`` (澄清正名函; the cadre as the case names them, ``name|unit``). Asked
    again for the same step, the same document is given back."""

    kind: DocumentKind
    about: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    # The day it is issued; default: today (never after today).
    issued_on: dt.date | None = None


class IssueLetter(BaseModel):
    """Issue a letter to the report's real-name reporter (decision 0037): ``acceptance_letter``
    (受理告知书) about ``acceptance`` (the default), or ``feedback_letter`` (反馈意见书) about a
    feedback given on its case, ``feedback:<day>:<n>`` (the n-th feedback given that day; the
    report's ``documents/open-steps`` names the steps still open). Asked again for the same
    step, the same letter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal[DocumentKind.ACCEPTANCE_LETTER, DocumentKind.FEEDBACK_LETTER]
    about: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""
    # The day it is issued; default: today (never after today, nor before its step's day).
    issued_on: dt.date | None = None

    @model_validator(mode="after")
    def _about_its_kind(self) -> Self:
        if self.kind is DocumentKind.ACCEPTANCE_LETTER:
            if self.about not in ("", "acceptance"):
                raise ValueError("about: a 受理告知书 is about 'acceptance'")
            object.__setattr__(self, "about", "acceptance")
        elif not FEEDBACK_STEP.fullmatch(self.about):
            raise ValueError(
                "about: a 反馈意见书 is about one feedback given, 'feedback:<day>:<n>' "
                "(e.g. feedback:2026-02-27:1; see the report's documents/open-steps)"
            )
        return self


FEEDBACK_STEP = re.compile(r"feedback:\d{4}-\d{2}-\d{2}:[1-9]\d{0,2}")


# -- triage of reports (intake) ---------------------------------------------------------------


class Accept(Command):
    """Accept into casework; ``join_case_id`` joins an open case about the same cadre and matter."""

    join_case_id: UUID | None = None
    # The day of acceptance (立件 for a new case); default: today.
    accepted_on: dt.date | None = None


class MarkRepeat(Command):
    of_report_id: UUID
    reason: Required


class ForwardUp(Command):
    to_authority: Required
    forwarded_on: dt.date | None = None


class TransferDown(Command):
    to_unit: Required
    transferred_on: dt.date | None = None


class ReferOut(Command):
    member_unit: MemberUnit
    referred_on: dt.date | None = None


class AcknowledgeTransfer(Command):
    acknowledged_on: dt.date | None = None


PROVEN_VERDICTS = (Verdict.TRUE, Verdict.PARTLY_TRUE)
DocumentNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]


class Sanction(BaseModel):
    """A sanction the receiver imposed (e.g. 党内警告), as its decision states it, with the
    months it bars promotion (影响期), 0 when none."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: SanctionKind
    text: Name
    bars_promotion_months: int = Field(0, ge=0, le=60)


class CadreOutcome(BaseModel):
    """The receiver's result for one cadre: the verdict, and any handling or sanction."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cadre: CadreRef
    verdict: Verdict
    handling: HandlingType | None = None
    sanction: Sanction | None = None
    # The day the receiver decided the handling or sanction; its bars run from this day
    # (default: the day the result was reported; never after it).
    decided_on: dt.date | None = None

    @model_validator(mode="after")
    def _handled_only_if_proven(self) -> Self:
        if (self.handling or self.sanction) and self.verdict not in PROVEN_VERDICTS:
            raise ValueError(
                "a handling or sanction goes with a verdict of true or partly true only"
            )
        return self


class ReceiverResult(Command):
    """The result an item's receiver reported back (办理结果): a verdict per cadre named,
    the handling taken, the day and the receiver's document number."""

    outcomes: Annotated[list[CadreOutcome], Field(min_length=1, max_length=50)]
    reported_on: dt.date | None = None
    document_number: DocumentNumber

    @model_validator(mode="after")
    def _one_outcome_per_cadre(self) -> Self:
        keys = [(o.cadre.cadre_id, o.cadre.name, o.cadre.unit) for o in self.outcomes]
        if len(set(keys)) != len(keys):
            raise ValueError("give one outcome per cadre")
        return self

    @model_validator(mode="after")
    def _decided_by_the_report(self) -> Self:
        for i, o in enumerate(self.outcomes):
            if self.reported_on and o.decided_on and o.decided_on > self.reported_on:
                raise ValueError(
                    f"outcomes.{i}.decided_on ({o.decided_on}) is after reported_on "
                    f"({self.reported_on}): a handling is decided before it is reported back"
                )
        return self


class RecordTransferResult(ReceiverResult):
    """The level below reports the result of a report transferred down."""


class RecordReferralResult(ReceiverResult):
    """The member unit reports the result of a referral; ``result``: its words, optional."""

    result: Text = ""


class RecordDisciplineResult(ReceiverResult):
    """The discipline inspection commission reports the result of a transferred case."""


class VerifyIdentity(Command):
    method: IdentityCheck
    verified_on: dt.date | None = None


class SendAcceptanceNotice(Command):
    sent_on: dt.date | None = None


class IdentifySubject(Command):
    """Say who subject ``subject_index`` (0-based) of a report is: the registered cadre
    ``cadre_id``, or the same person as the candidate ``same_as_candidate`` (a merge of two
    candidates; the key is the one ``GET /api/v1/cadre-candidates`` lists)."""

    subject_index: int = Field(ge=0, le=49)
    cadre_id: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None
    ) = None
    same_as_candidate: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=420)]
        | None
    ) = None

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.cadre_id is None) == (self.same_as_candidate is None):
            raise ValueError("give exactly one of cadre_id or same_as_candidate")
        if self.same_as_candidate is not None and "|" not in self.same_as_candidate:
            raise ValueError(
                "same_as_candidate is a candidate key as listed by GET /api/v1/cadre-candidates "
                "(name|unit)"
            )
        return self
