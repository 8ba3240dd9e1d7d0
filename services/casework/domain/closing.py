"""Closing and after: the case closed (结案), feedback to real-name reporters and their
objections (反馈, 异议), review (复查), the discipline commission's result, and the
pre-appointment publicity hold (任前公示)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.glossary import PublicityDecision
from services.calendar.deadlines import Due
from services.casework import rules
from services.casework.domain.record import (
    Actor,
    CaseEvent,
    CaseRecord,
    role_of,
)


class Closed(CaseEvent):
    TOPIC = "jiandu.casework:Case.Closed"
    closed_on: dt.date
    unmet_deadlines: dict[str, str]
    feedback_due: Due | None

    def apply(self, case: CaseRecord) -> None:
        case.closed_on = self.closed_on
        if self.feedback_due is not None:
            case.deadlines["feedback"] = {**self.feedback_due, "met_on": None}


class FeedbackGiven(CaseEvent):
    TOPIC = "jiandu.casework:Case.FeedbackGiven"
    given_on: dt.date
    method: str
    text: str

    def apply(self, case: CaseRecord) -> None:
        case.feedback_given += 1
        if "feedback" in case.deadlines and case.deadlines["feedback"]["met_on"] is None:
            case.deadlines["feedback"]["met_on"] = self.given_on


class ObjectionRecorded(CaseEvent):
    TOPIC = "jiandu.casework:Case.ObjectionRecorded"
    received_on: dt.date
    # The answer's deadline (added later; older events: none).
    answer_due: Due | None = None

    def apply(self, case: CaseRecord) -> None:
        case.open_objections += 1
        answer_due = getattr(self, "answer_due", None)
        if answer_due is not None:  # a further objection: the latest one's deadline
            case.deadlines["objection_answer"] = {**answer_due, "met_on": None}


class ObjectionAnswered(CaseEvent):
    TOPIC = "jiandu.casework:Case.ObjectionAnswered"
    answered_on: dt.date
    text: str

    def apply(self, case: CaseRecord) -> None:
        case.open_objections -= 1
        due = case.deadlines.get("objection_answer")
        if due is not None and due["met_on"] is None:
            due["met_on"] = self.answered_on


class Reopened(CaseEvent):
    TOPIC = "jiandu.casework:Case.Reopened"
    new_evidence: str
    reopened_on: dt.date

    def apply(self, case: CaseRecord) -> None:
        # 复查: a new round redoes the verification, the conclusion and any clearing.
        case.disposition = None
        case.proposed_disposition = None
        case.conclusion = None
        case.proposed_conclusion = None
        case.inquiry = {}
        case.findings = 0
        case.clearings = {}
        case.last_clearing = None
        case.reopenings += 1


class DisciplineResultRecorded(CaseEvent):
    """The discipline commission's result of a case transferred to it (per cadre)."""

    TOPIC = "jiandu.casework:Case.DisciplineResultRecorded"
    receiver: str
    outcomes: list[dict[str, Any]]
    reported_on: dt.date
    document_number: str
    summary: str

    def apply(self, case: CaseRecord) -> None:
        case.discipline_result = {
            "outcomes": self.outcomes,
            "reported_on": self.reported_on,
            "document_number": self.document_number,
        }
        if "discipline_report_back" in case.deadlines:
            case.deadlines["discipline_report_back"]["met_on"] = self.reported_on


class PublicityHeld(CaseEvent):
    TOPIC = "jiandu.casework:Case.PublicityHeld"
    cadre: dict[str, Any]
    proposed_post: str
    publicity_ends_on: dt.date
    held_on: dt.date | None = None  # absent from events stored before it was added

    def apply(self, case: CaseRecord) -> None:
        case.publicity_hold = {"cadre": self.cadre, "proposed_post": self.proposed_post}


class PublicityDecided(CaseEvent):
    TOPIC = "jiandu.casework:Case.PublicityDecided"
    decision: str
    defer_until: dt.date | None
    decided_on: dt.date | None = None  # absent from events stored before it was added

    def apply(self, case: CaseRecord) -> None:
        case.publicity_hold = None


class ClosingSteps(CaseRecord):
    """Closing the case and what may follow it."""

    def unmet_deadlines(self) -> list[str]:
        return sorted(name for name, d in self.deadlines.items() if d["met_on"] is None)

    def close(
        self,
        closed_on: dt.date,
        explanations: dict[str, str],
        feedback_due: Due | None,
        actor: Actor,
        reason: str = "",
    ) -> None:
        """结案. Deadlines still open must each be explained: nothing is closed silently."""
        rules.permit("close", role_of(actor), self.state)
        unmet = self.unmet_deadlines()
        rules.EXPLAIN_UNMET_DEADLINES.require(
            all(explanations.get(name, "").strip() for name in unmet)
        )
        self._trigger(
            Closed,
            actor=actor,
            reason=reason,
            closed_on=closed_on,
            unmet_deadlines={name: explanations[name] for name in unmet},
            feedback_due=feedback_due if self.real_name_reporters else None,
        )

    def give_feedback(
        self, given_on: dt.date, method: str, text: str, actor: Actor, reason: str = ""
    ) -> None:
        """Feedback to the real-name reporter(s) (向实名举报人反馈)."""
        rules.permit("give_feedback", role_of(actor), self.state)
        self._as_handler(actor)
        rules.REAL_NAME_REPORTER_FOR_FEEDBACK.require(self.real_name_reporters > 0)
        self._trigger(
            FeedbackGiven,
            actor=actor,
            reason=reason,
            given_on=given_on,
            method=method,
            text=text,
        )

    def record_objection(
        self, received_on: dt.date, actor: Actor, reason: str, answer_due: Due | None = None
    ) -> None:
        """异议: recorded with the deadline of its answer."""
        rules.permit("record_objection", role_of(actor), self.state)
        rules.FEEDBACK_GIVEN_FOR_OBJECTION.require(self.feedback_given > 0)
        self._trigger(
            ObjectionRecorded,
            actor=actor,
            reason=reason,
            received_on=received_on,
            answer_due=answer_due,
        )

    def answer_objection(
        self, answered_on: dt.date, text: str, actor: Actor, reason: str = ""
    ) -> None:
        rules.permit("answer_objection", role_of(actor), self.state)
        rules.OBJECTION_OPEN.require(self.open_objections > 0)
        self._trigger(
            ObjectionAnswered,
            actor=actor,
            reason=reason,
            answered_on=answered_on,
            text=text,
        )

    def reopen(
        self, new_evidence: str, reopened_on: dt.date, actor: Actor, reason: str = ""
    ) -> None:
        """复查: new evidence reopens a closed case; it needs a new disposition."""
        self._do(
            "reopen",
            actor,
            Reopened,
            reason=reason or new_evidence,
            new_evidence=new_evidence,
            reopened_on=reopened_on,
        )

    def record_discipline_result(
        self,
        receiver: str,
        outcomes: list[dict[str, Any]],
        reported_on: dt.date,
        document_number: str,
        actor: Actor,
        reason: str = "",
        summary: str = "",
    ) -> None:
        """The discipline commission reports its result: one outcome per cadre named."""
        rules.permit("record_discipline_result", role_of(actor), self.state)
        rules.DISCIPLINE_RESULT_ONCE.require(getattr(self, "discipline_result", None) is None)
        named = [{**o, "cadre": self._named_cadre(o["cadre"])} for o in outcomes]
        keys = [(o["cadre"]["name"], o["cadre"].get("unit", "")) for o in named]
        every = {(s["name"], s.get("unit", "")) for s in self.subjects}
        rules.RESULT_FOR_EACH_CADRE.require(len(set(keys)) == len(keys) and set(keys) == every)
        self._trigger(
            DisciplineResultRecorded,
            actor=actor,
            reason=reason,
            receiver=receiver,
            outcomes=named,
            reported_on=reported_on,
            document_number=document_number,
            summary=summary,
        )

    def hold_for_publicity(
        self,
        cadre: dict[str, Any],
        proposed_post: str,
        publicity_ends_on: dt.date,
        actor: Actor,
        reason: str = "",
        held_on: dt.date | None = None,
        held_on_selections: frozenset[str] = frozenset(),
    ) -> None:
        """A report about a cadre under pre-appointment publicity holds the appointment.

        For an appointment not on a selection's record: a cadre the case's reports already
        hold on a selection (``held_on_selections``, their cadre ids, which the application
        reads) waits there (``HELD_ON_SELECTION``)."""
        rules.permit("hold_for_publicity", role_of(actor), self.state)
        rules.ONE_PUBLICITY_HOLD.require(self.publicity_hold is None)
        named = self._named_cadre(cadre)
        rules.HELD_ON_SELECTION.require(named.get("cadre_id") not in held_on_selections)
        self._trigger(
            PublicityHeld,
            actor=actor,
            reason=reason,
            cadre=named,
            proposed_post=proposed_post,
            publicity_ends_on=publicity_ends_on,
            held_on=held_on,
        )

    def decide_publicity(
        self,
        decision: PublicityDecision,
        decided_on: dt.date,
        defer_months: int | None,
        defer_until: dt.date | None,
        actor: Actor,
        reason: str,
        *,
        max_defer_months: int = 3,
    ) -> None:
        rules.permit("decide_publicity", role_of(actor), self.state)
        rules.PUBLICITY_HOLD_OPEN.require(self.publicity_hold is not None)
        if decision is PublicityDecision.DEFER:
            rules.deferral_limit(max_defer_months).require(
                defer_months is not None and 1 <= defer_months <= max_defer_months
            )
        self._trigger(
            PublicityDecided,
            actor=actor,
            reason=reason,
            decision=decision.value,
            defer_until=defer_until if decision is PublicityDecision.DEFER else None,
            decided_on=decided_on,
        )
