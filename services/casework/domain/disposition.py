"""Disposition and verification: the disposition proposed, approved or returned (处置意见),
the inquiry letter (谈话函询), findings (初步核实), a parked case reviewed or reactivated
(暂存待查)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.glossary import (
    Disposition,
    InquiryOutcome,
)
from services.calendar.deadlines import Due
from services.casework import rules
from services.casework.domain.record import (
    Actor,
    CaseEvent,
    CaseRecord,
    role_of,
)
from services.common.case_states import state_after
from services.common.china_time import china_date


class DispositionProposed(CaseEvent):
    TOPIC = "jiandu.casework:Case.DispositionProposed"
    disposition: str

    def apply(self, case: CaseRecord) -> None:
        case.proposed_disposition = Disposition(self.disposition)


class DispositionApproved(CaseEvent):
    TOPIC = "jiandu.casework:Case.DispositionApproved"
    disposition: str
    collective_study: dict[str, Any]
    review_due: Due | None
    # Added after the first release; events stored before it lack the fields.
    feedback_due: Due | None = None
    approved_on: dt.date | None = None
    report_back_due: Due | None = None  # a transfer to the discipline commission

    def apply(self, case: CaseRecord) -> None:
        disposition = Disposition(self.disposition)
        case.disposition = disposition
        case.proposed_disposition = None
        case.inquiry = {}
        if self.review_due is not None:
            case.deadlines["parked_review"] = {**self.review_due, "met_on": None}
        feedback_due = getattr(self, "feedback_due", None)
        if feedback_due is not None:
            case.deadlines["feedback"] = {**feedback_due, "met_on": None}
        report_back_due = getattr(self, "report_back_due", None)
        if report_back_due is not None:
            case.deadlines["discipline_report_back"] = {**report_back_due, "met_on": None}
        if state_after("DispositionApproved", self) in rules.FINISHED_STATES:
            case.closed_on = getattr(self, "approved_on", None) or china_date(self.timestamp)


class DispositionReturned(CaseEvent):
    TOPIC = "jiandu.casework:Case.DispositionReturned"

    def apply(self, case: CaseRecord) -> None:
        case.proposed_disposition = None


class InquiryLetterSent(CaseEvent):
    TOPIC = "jiandu.casework:Case.InquiryLetterSent"
    sent_on: dt.date
    form: str
    reply_due: Due

    def apply(self, case: CaseRecord) -> None:
        case.inquiry = {"sent_on": self.sent_on, "form": self.form}
        case.deadlines["inquiry_reply"] = {**self.reply_due, "met_on": None}


class InquiryReplyReceived(CaseEvent):
    TOPIC = "jiandu.casework:Case.InquiryReplyReceived"
    received_on: dt.date
    document_ref: str

    def apply(self, case: CaseRecord) -> None:
        case.inquiry["reply_received_on"] = self.received_on
        case.deadlines["inquiry_reply"]["met_on"] = self.received_on


class InquiryReplyEvaluated(CaseEvent):
    TOPIC = "jiandu.casework:Case.InquiryReplyEvaluated"
    outcome: str
    evaluated_on: dt.date | None = None  # absent from events stored before it was added

    def apply(self, case: CaseRecord) -> None:
        case.inquiry["outcome"] = self.outcome
        if InquiryOutcome(self.outcome) is InquiryOutcome.ESCALATED:
            case.disposition = Disposition.PRELIMINARY_VERIFICATION


class FindingRecorded(CaseEvent):
    TOPIC = "jiandu.casework:Case.FindingRecorded"
    kind: str
    summary: str
    evidence_refs: list[str]
    found_on: dt.date

    def apply(self, case: CaseRecord) -> None:
        case.findings += 1


class ParkedCaseReviewed(CaseEvent):
    TOPIC = "jiandu.casework:Case.ParkedCaseReviewed"
    reviewed_on: dt.date
    next_review_due: Due

    def apply(self, case: CaseRecord) -> None:
        case.deadlines["parked_review"]["met_on"] = self.reviewed_on
        case.deadlines["parked_review"] = {**self.next_review_due, "met_on": None}


class Reactivated(CaseEvent):
    TOPIC = "jiandu.casework:Case.Reactivated"
    new_evidence: str
    reactivated_on: dt.date

    def apply(self, case: CaseRecord) -> None:
        case.disposition = None
        if "parked_review" in case.deadlines:
            case.deadlines["parked_review"]["met_on"] = self.reactivated_on


class DispositionSteps(CaseRecord):
    """The disposition and the work it leads to, up to a conclusion."""

    def propose_disposition(self, disposition: Disposition, actor: Actor, reason: str) -> None:
        self._as_handler(actor, "propose_disposition")
        self._do(
            "propose_disposition",
            actor,
            DispositionProposed,
            reason=reason,
            disposition=disposition.value,
        )

    def approve_disposition(
        self,
        collective_study: dict[str, Any],
        actor: Actor,
        reason: str = "",
        review_due: Due | None = None,
        feedback_due: Due | None = None,
        approved_on: dt.date | None = None,
        report_back_due: Due | None = None,
    ) -> None:
        """Leader approval after collective study (集体研究+领导审批); both are recorded.

        A case closed by disposition (予以了结) owes real-name reporters feedback
        just as a case closed after verification does.
        """
        rules.permit("approve_disposition", role_of(actor), self.state)
        rules.COLLECTIVE_STUDY_RECORDED.require(
            bool(collective_study.get("held_on")) and bool(collective_study.get("participants"))
        )
        assert self.proposed_disposition is not None
        parked = self.proposed_disposition is Disposition.PARK
        closing = self.proposed_disposition is Disposition.CLOSE
        transferring = self.proposed_disposition is Disposition.TRANSFER_TO_DISCIPLINE
        self._trigger(
            DispositionApproved,
            actor=actor,
            reason=reason,
            disposition=self.proposed_disposition.value,
            collective_study=collective_study,
            review_due=review_due if parked else None,
            feedback_due=feedback_due if closing and self.real_name_reporters else None,
            approved_on=approved_on,
            report_back_due=report_back_due if transferring else None,
        )

    def return_disposition(self, actor: Actor, reason: str) -> None:
        self._do("return_disposition", actor, DispositionReturned, reason=reason)

    def send_inquiry_letter(
        self, sent_on: dt.date, form: str, reply_due: Due, actor: Actor, reason: str = ""
    ) -> None:
        """谈话函询: the letter (or talk notice) goes out; the reply clock starts."""
        self._as_handler(actor, "send_inquiry_letter")
        self._do(
            "send_inquiry_letter",
            actor,
            InquiryLetterSent,
            reason=reason,
            sent_on=sent_on,
            form=form,
            reply_due=reply_due,
        )

    def record_inquiry_reply(
        self, received_on: dt.date, document_ref: str, actor: Actor, reason: str = ""
    ) -> None:
        rules.permit("record_inquiry_reply", role_of(actor), self.state)
        self._as_handler(actor)
        rules.INQUIRY_LETTER_SENT.require("sent_on" in self.inquiry)
        self._trigger(
            InquiryReplyReceived,
            actor=actor,
            reason=reason,
            received_on=received_on,
            document_ref=document_ref,
        )

    def evaluate_inquiry_reply(
        self,
        outcome: InquiryOutcome,
        actor: Actor,
        reason: str,
        evaluated_on: dt.date | None = None,
    ) -> None:
        rules.permit("evaluate_inquiry_reply", role_of(actor), self.state)
        self._as_handler(actor)
        rules.INQUIRY_REPLY_RECEIVED.require("reply_received_on" in self.inquiry)
        self._trigger(
            InquiryReplyEvaluated,
            actor=actor,
            reason=reason,
            outcome=outcome.value,
            evaluated_on=evaluated_on,
        )

    def record_finding(
        self,
        kind: str,
        summary: str,
        evidence_refs: list[str],
        found_on: dt.date,
        actor: Actor,
        reason: str = "",
    ) -> None:
        """A verification finding: interview, documents, audit result …, with evidence refs."""
        self._as_handler(actor, "record_finding")
        self._do(
            "record_finding",
            actor,
            FindingRecorded,
            reason=reason,
            kind=kind,
            summary=summary,
            evidence_refs=evidence_refs,
            found_on=found_on,
        )

    def review_parked(
        self, reviewed_on: dt.date, next_review_due: Due, actor: Actor, reason: str
    ) -> None:
        self._as_handler(actor, "review_parked")
        self._do(
            "review_parked",
            actor,
            ParkedCaseReviewed,
            reason=reason,
            reviewed_on=reviewed_on,
            next_review_due=next_review_due,
        )

    def reactivate(
        self, new_evidence: str, reactivated_on: dt.date, actor: Actor, reason: str = ""
    ) -> None:
        """New evidence wakes a parked case; it needs a new disposition."""
        self._as_handler(actor, "reactivate")
        self._do(
            "reactivate",
            actor,
            Reactivated,
            reason=reason or new_evidence,
            new_evidence=new_evidence,
            reactivated_on=reactivated_on,
        )
