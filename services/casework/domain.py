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
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
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
from schemas.glossary import (
    AdmonitionOutcome,
    CaseKind,
    CaseState,
    Disposition,
    HandlingType,
    InquiryOutcome,
    PublicityDecision,
    Role,
    Verdict,
)
from services.calendar.deadlines import Due
from services.casework import rules
from services.casework.chain import genesis, link
from services.casework.rules import NotAlleged, NotTheCadresHandling
from services.common.case_states import state_after
from services.common.china_time import china_date
from services.common.contracts import Contract, bind

S = CaseState
Actor = dict[str, str]
# Steps the case takes by itself (a proposal returned because a report joined after it).
SYSTEM_ACTOR: Actor = {"id": "system", "role": Role.SYSTEM.value}
JOINED_AFTER_PROPOSAL_ZH = (
    "提出核查结论后又并入举报件，所涉反映对象或问题尚未认定，结论退回重新提出"
)


def _role(actor: Actor) -> Role:
    return Role(actor["role"])


class CaseEventBase:
    """Mixin: as each event is applied, keeps the case's chain head current and sets its
    state from the one table of where a case stands after each event
    (``services/common/case_states.py``, which the projections read too)."""

    chain: str

    def state_data(self, case: Any) -> object:
        """The data the state table reads: the event's own fields."""
        return self

    def mutate(self, aggregate: Any) -> Any:
        event_type = CASE_CONTRACTS[type(self)][0]  # type: ignore[index]
        after = state_after(event_type, self.state_data(aggregate))
        result = super().mutate(aggregate)  # type: ignore[misc]
        case = result or aggregate
        case.chain_head = self.chain
        if after is not None:
            case.state = after
        return result


class Case(Aggregate):
    TOPIC = "jiandu.casework:Case"

    # Set as each event is applied, from services/common/case_states.py (CaseEventBase).
    state: CaseState

    class Created(CaseEventBase, Aggregate.Created):
        TOPIC = "jiandu.casework:Case.Created"
        chain: str

    class Event(CaseEventBase, Aggregate.Event):
        TOPIC = "jiandu.casework:Case.Event"
        chain: str
        actor: Actor
        reason: str

    # -- events ----------------------------------------------------------------------------

    class Opened(Created):
        TOPIC = "jiandu.casework:Case.Opened"
        kind: str
        report_id: UUID | None
        ledger_number: str
        channel: str
        categories: list[str]
        subjects: list[dict[str, Any]]
        summary: str
        received_on: dt.date
        reporter: dict[str, Any] | None
        linked_case_id: UUID | None
        routing: dict[str, str] | None
        actor: Actor
        reason: str
        # The day the case was opened (立件). Added after the first release: events stored
        # before it lack the field, and the case's opening day is then its timestamp's China date.
        opened_on: dt.date | None = None

    class ReportJoined(Event):
        TOPIC = "jiandu.casework:Case.ReportJoined"
        report_id: UUID
        ledger_number: str
        categories: list[str]
        subjects: list[dict[str, Any]]
        reporter: dict[str, Any]
        # The day the report joined (its acceptance); absent from events stored before.
        joined_on: dt.date | None = None
        # Joined after the conclusion was approved or the case closed: the {cadre, category}
        # it alleges that the standing conclusion does not cover (added later; older: none).
        unconcluded: list[dict[str, Any]] | None = None

        def apply(self, case: Case) -> None:
            alleged = case.alleged()  # before the report's subjects and categories are added
            case.report_ids.append(self.report_id)
            case.categories += [c for c in self.categories if c not in case.categories]
            known = {(s["name"], s.get("unit", "")) for s in case.subjects}
            case.subjects += [
                s for s in self.subjects if (s["name"], s.get("unit", "")) not in known
            ]
            for s in self.subjects:
                mine = alleged.setdefault(subject_key(s), [])
                mine += [c for c in self.categories if c not in mine]
            case.real_name_reporters += 0 if self.reporter.get("anonymous", True) else 1

    class HandlerAssigned(Event):
        TOPIC = "jiandu.casework:Case.HandlerAssigned"
        handler_id: str
        previous_handler_id: str | None

        def apply(self, case: Case) -> None:
            case.handler_id = self.handler_id

    class DispositionProposed(Event):
        TOPIC = "jiandu.casework:Case.DispositionProposed"
        disposition: str

        def apply(self, case: Case) -> None:
            case.proposed_disposition = Disposition(self.disposition)

    class DispositionApproved(Event):
        TOPIC = "jiandu.casework:Case.DispositionApproved"
        disposition: str
        collective_study: dict[str, Any]
        review_due: Due | None
        # Added after the first release; events stored before it lack the fields.
        feedback_due: Due | None = None
        approved_on: dt.date | None = None
        report_back_due: Due | None = None  # a transfer to the discipline commission

        def apply(self, case: Case) -> None:
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

    class DispositionReturned(Event):
        TOPIC = "jiandu.casework:Case.DispositionReturned"

        def apply(self, case: Case) -> None:
            case.proposed_disposition = None

    class InquiryLetterSent(Event):
        TOPIC = "jiandu.casework:Case.InquiryLetterSent"
        sent_on: dt.date
        form: str
        reply_due: Due

        def apply(self, case: Case) -> None:
            case.inquiry = {"sent_on": self.sent_on, "form": self.form}
            case.deadlines["inquiry_reply"] = {**self.reply_due, "met_on": None}

    class InquiryReplyReceived(Event):
        TOPIC = "jiandu.casework:Case.InquiryReplyReceived"
        received_on: dt.date
        document_ref: str

        def apply(self, case: Case) -> None:
            case.inquiry["reply_received_on"] = self.received_on
            case.deadlines["inquiry_reply"]["met_on"] = self.received_on

    class InquiryReplyEvaluated(Event):
        TOPIC = "jiandu.casework:Case.InquiryReplyEvaluated"
        outcome: str
        evaluated_on: dt.date | None = None  # absent from events stored before it was added

        def apply(self, case: Case) -> None:
            case.inquiry["outcome"] = self.outcome
            if InquiryOutcome(self.outcome) is InquiryOutcome.ESCALATED:
                case.disposition = Disposition.PRELIMINARY_VERIFICATION

    class FindingRecorded(Event):
        TOPIC = "jiandu.casework:Case.FindingRecorded"
        kind: str
        summary: str
        evidence_refs: list[str]
        found_on: dt.date

        def apply(self, case: Case) -> None:
            case.findings += 1

    class ParkedCaseReviewed(Event):
        TOPIC = "jiandu.casework:Case.ParkedCaseReviewed"
        reviewed_on: dt.date
        next_review_due: Due

        def apply(self, case: Case) -> None:
            case.deadlines["parked_review"]["met_on"] = self.reviewed_on
            case.deadlines["parked_review"] = {**self.next_review_due, "met_on": None}

    class Reactivated(Event):
        TOPIC = "jiandu.casework:Case.Reactivated"
        new_evidence: str
        reactivated_on: dt.date

        def apply(self, case: Case) -> None:
            case.disposition = None
            if "parked_review" in case.deadlines:
                case.deadlines["parked_review"]["met_on"] = self.reactivated_on

    class ConclusionProposed(Event):
        TOPIC = "jiandu.casework:Case.ConclusionProposed"
        verdicts: dict[str, str]
        overall: str
        returns_to: str
        # Per cadre and allegation ({cadre, category, verdict}); added after the first
        # release: events stored before it gave one verdict per category for every subject.
        cadre_verdicts: list[dict[str, Any]] | None = None

        def apply(self, case: Case) -> None:
            case.proposed_conclusion = {
                "verdicts": self.verdicts,
                "overall": self.overall,
                "returns_to": self.returns_to,
                "cadre_verdicts": cadre_verdicts_of(
                    getattr(self, "cadre_verdicts", None), self.verdicts, case.subjects
                ),
            }

    class ConclusionApproved(Event):
        TOPIC = "jiandu.casework:Case.ConclusionApproved"
        verdicts: dict[str, str]
        overall: str
        # Added after the first release; events stored before it lack the field.
        approved_on: dt.date | None = None
        # See ConclusionProposed: absent (None) from events stored before it was added.
        cadre_verdicts: list[dict[str, Any]] | None = None

        def apply(self, case: Case) -> None:
            per_cadre = cadre_verdicts_of(
                getattr(self, "cadre_verdicts", None), self.verdicts, case.subjects
            )
            case.conclusion = {
                "verdicts": self.verdicts,
                "overall": Verdict(self.overall),
                "cadre_verdicts": per_cadre,
                "by_cadre": by_cadre(per_cadre),
            }
            case.proposed_conclusion = None

    class ConclusionReturned(Event):
        TOPIC = "jiandu.casework:Case.ConclusionReturned"
        # The state the case goes back to, so readers need not remember the proposal.
        # Added after the first release; events stored before it lack the field.
        returns_to: str | None = None

        def state_data(self, case: Any) -> object:
            # An event stored before ``returns_to`` existed: the proposal says where to.
            if getattr(self, "returns_to", None) is None and case.proposed_conclusion is not None:
                return SimpleNamespace(returns_to=case.proposed_conclusion["returns_to"])
            return self

        def apply(self, case: Case) -> None:
            assert case.proposed_conclusion is not None
            case.proposed_conclusion = None

    class HandlingDecided(Event):
        TOPIC = "jiandu.casework:Case.HandlingDecided"
        handling_id: int
        cadre: dict[str, Any]
        handling: str
        decided_on: dt.date
        effects: dict[str, Any]
        follow_up_due: Due | None
        # The admonition whose failed follow-up this handling escalates (added later).
        escalation_of: int | None = None

        def apply(self, case: Case) -> None:
            case.handlings.append(
                {
                    "id": self.handling_id,
                    "handling": self.handling,
                    "cadre": self.cadre,
                    "decided_on": self.decided_on,
                }
            )
            escalation_of = getattr(self, "escalation_of", None)
            if escalation_of is not None and escalation_of in case.escalations:
                case.escalations[escalation_of]["decided"] = self.handling_id
            if self.follow_up_due is not None:
                case.deadlines[f"admonition_follow_up#{self.handling_id}"] = {
                    **self.follow_up_due,
                    "met_on": None,
                }

    class AdmonitionFollowedUp(Event):
        TOPIC = "jiandu.casework:Case.AdmonitionFollowedUp"
        handling_id: int
        outcome: str
        followed_up_on: dt.date
        # The heavier handling an escalation names (added later; older events: in the reason).
        escalate_to: str | None = None

        def apply(self, case: Case) -> None:
            case.deadlines[f"admonition_follow_up#{self.handling_id}"]["met_on"] = (
                self.followed_up_on
            )
            escalate_to = getattr(self, "escalate_to", None)
            if escalate_to is not None:
                case.escalations[self.handling_id] = {"to": escalate_to, "decided": None}

    class ClearingProposed(Event):
        TOPIC = "jiandu.casework:Case.ClearingProposed"
        cadre: dict[str, Any]
        applied_for_by_cadre: bool
        proposed_on: dt.date | None = None  # absent from events stored before it was added

        def apply(self, case: Case) -> None:
            case.clearings[subject_key(self.cadre)] = {"stage": "proposed", "cadre": self.cadre}
            case.last_clearing = subject_key(self.cadre)

    class ClearingApproved(Event):
        TOPIC = "jiandu.casework:Case.ClearingApproved"
        # Added after the first release; events stored before it lack the field.
        approved_on: dt.date | None = None
        # Whose clearing (added later; older events: the one clearing of the case).
        cadre: dict[str, Any] | None = None

        def apply(self, case: Case) -> None:
            case.clearing_of(getattr(self, "cadre", None))["stage"] = "approved"

    class ClearingCarriedOut(Event):
        TOPIC = "jiandu.casework:Case.ClearingCarriedOut"
        method: str
        scope: str
        carried_out_on: dt.date
        corrections: list[str]
        # Whose clearing (added later; older events: the one clearing of the case).
        cadre: dict[str, Any] | None = None
        # The ids of that cadre's handlings in this case the clearing revokes (纠正): their
        # effects end on carried_out_on. Added later; older events: none (free-text only).
        revokes: list[int] | None = None

        def apply(self, case: Case) -> None:
            case.clearing_of(getattr(self, "cadre", None))["stage"] = "carried_out"
            for handling in case.handlings:
                if handling["id"] in (getattr(self, "revokes", None) or []):
                    handling["revoked_on"] = self.carried_out_on

    class FalseAccusationSuspected(Event):
        TOPIC = "jiandu.casework:Case.FalseAccusationSuspected"
        false_accusation_case_id: UUID
        accuser_status: str
        routed_to: str
        # The falsely accused cadre (added later; older events: the case as a whole).
        cadre: dict[str, Any] | None = None
        suspected_on: dt.date | None = None  # absent from events stored before it was added

        def apply(self, case: Case) -> None:
            case.false_accusation_case_id = self.false_accusation_case_id
            cadre = getattr(self, "cadre", None)
            key = subject_key(cadre) if cadre else ""
            case.false_accusations[key] = self.false_accusation_case_id

    class SubjectReferred(Event):
        """A subject found (partly) true is referred to the competent organ (e.g. a false
        accusation's accuser to 公安机关)."""

        TOPIC = "jiandu.casework:Case.SubjectReferred"
        cadre: dict[str, Any]
        organ: str
        referred_on: dt.date
        document_ref: str

        def apply(self, case: Case) -> None:
            case.referrals.append({"cadre": self.cadre, "organ": self.organ})

    class Closed(Event):
        TOPIC = "jiandu.casework:Case.Closed"
        closed_on: dt.date
        unmet_deadlines: dict[str, str]
        feedback_due: Due | None

        def apply(self, case: Case) -> None:
            case.closed_on = self.closed_on
            if self.feedback_due is not None:
                case.deadlines["feedback"] = {**self.feedback_due, "met_on": None}

    class FeedbackGiven(Event):
        TOPIC = "jiandu.casework:Case.FeedbackGiven"
        given_on: dt.date
        method: str
        text: str

        def apply(self, case: Case) -> None:
            case.feedback_given += 1
            if "feedback" in case.deadlines and case.deadlines["feedback"]["met_on"] is None:
                case.deadlines["feedback"]["met_on"] = self.given_on

    class ObjectionRecorded(Event):
        TOPIC = "jiandu.casework:Case.ObjectionRecorded"
        received_on: dt.date
        # The answer's deadline (added later; older events: none).
        answer_due: Due | None = None

        def apply(self, case: Case) -> None:
            case.open_objections += 1
            answer_due = getattr(self, "answer_due", None)
            if answer_due is not None:  # a further objection: the latest one's deadline
                case.deadlines["objection_answer"] = {**answer_due, "met_on": None}

    class ObjectionAnswered(Event):
        TOPIC = "jiandu.casework:Case.ObjectionAnswered"
        answered_on: dt.date
        text: str

        def apply(self, case: Case) -> None:
            case.open_objections -= 1
            due = case.deadlines.get("objection_answer")
            if due is not None and due["met_on"] is None:
                due["met_on"] = self.answered_on

    class Reopened(Event):
        TOPIC = "jiandu.casework:Case.Reopened"
        new_evidence: str
        reopened_on: dt.date

        def apply(self, case: Case) -> None:
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

    class DisciplineResultRecorded(Event):
        """The discipline commission's result of a case transferred to it (per cadre)."""

        TOPIC = "jiandu.casework:Case.DisciplineResultRecorded"
        receiver: str
        outcomes: list[dict[str, Any]]
        reported_on: dt.date
        document_number: str
        summary: str

        def apply(self, case: Case) -> None:
            case.discipline_result = {
                "outcomes": self.outcomes,
                "reported_on": self.reported_on,
                "document_number": self.document_number,
            }
            if "discipline_report_back" in case.deadlines:
                case.deadlines["discipline_report_back"]["met_on"] = self.reported_on

    class PublicityHeld(Event):
        TOPIC = "jiandu.casework:Case.PublicityHeld"
        cadre: dict[str, Any]
        proposed_post: str
        publicity_ends_on: dt.date
        held_on: dt.date | None = None  # absent from events stored before it was added

        def apply(self, case: Case) -> None:
            case.publicity_hold = {"cadre": self.cadre, "proposed_post": self.proposed_post}

    class PublicityDecided(Event):
        TOPIC = "jiandu.casework:Case.PublicityDecided"
        decision: str
        defer_until: dt.date | None
        decided_on: dt.date | None = None  # absent from events stored before it was added

        def apply(self, case: Case) -> None:
            case.publicity_hold = None

    # -- creation ------------------------------------------------------------------------

    def __init__(
        self,
        *,
        kind: str,
        report_id: UUID | None,
        ledger_number: str,
        channel: str,
        categories: list[str],
        subjects: list[dict[str, Any]],
        summary: str,
        received_on: dt.date,
        reporter: dict[str, Any] | None,
        linked_case_id: UUID | None,
        routing: dict[str, str] | None,
        actor: Actor,
        reason: str,
        chain: str,
        opened_on: dt.date | None = None,
    ) -> None:
        self.kind = CaseKind(kind)
        self.report_ids: list[UUID] = [report_id] if report_id else []
        self.ledger_number = ledger_number
        self.channel = channel
        self.categories = list(categories)
        self.subjects = list(subjects)
        # What each subject's own reports allege (by subject_key): a verdict is asked on
        # those (cadre, category) pairs only.
        self.allegations: dict[str, list[str]] = {
            subject_key(s): list(categories) for s in subjects
        }
        self.summary = summary
        self.received_on = received_on
        self.opened_on = opened_on
        self.real_name_reporters = 0 if (reporter or {}).get("anonymous", True) else 1
        self.linked_case_id = linked_case_id
        self.routing = routing
        self.chain_head = chain
        self.handler_id: str | None = None
        self.proposed_disposition: Disposition | None = None
        self.disposition: Disposition | None = None
        self.inquiry: dict[str, Any] = {}
        self.findings = 0
        self.proposed_conclusion: dict[str, Any] | None = None
        self.conclusion: dict[str, Any] | None = None
        self.handlings: list[dict[str, Any]] = []
        self.clearings: dict[str, dict[str, Any]] = {}  # by subject_key
        self.last_clearing: str | None = None
        self.false_accusation_case_id: UUID | None = None
        self.false_accusations: dict[str, UUID] = {}  # by subject_key ("": the whole case)
        self.escalations: dict[int, dict[str, Any]] = {}  # admonition id -> {to, decided}
        self.referrals: list[dict[str, Any]] = []
        self.closed_on: dt.date | None = None
        self.deadlines: dict[str, dict[str, Any]] = {}
        self.feedback_given = 0
        self.open_objections = 0
        self.reopenings = 0
        self.publicity_hold: dict[str, Any] | None = None
        self.discipline_result: dict[str, Any] | None = None

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
        timestamp = cls.Opened.create_timestamp()
        seal = link(genesis(case_id), cls.Opened.TOPIC, 1, timestamp, fields)
        return cls._create(cls.Opened, id=case_id, timestamp=timestamp, chain=seal, **fields)

    # -- per cadre -------------------------------------------------------------------------

    @property
    def clearing(self) -> dict[str, Any]:
        """The clearing last proposed ({} when none): the case view's one-line summary."""
        return self.clearings.get(self.last_clearing or "", {})

    def clearing_of(self, cadre: dict[str, Any] | None) -> dict[str, Any]:
        """The clearing of ``cadre``; None (events stored before clearings were per cadre):
        the case's one clearing."""
        if cadre is None:
            return self.clearings[self.last_clearing or ""]
        return self.clearings[subject_key(cadre)]

    def alleged(self) -> dict[str, list[str]]:
        """The categories each subject's own reports allege (by subject_key). A case restored
        from state saved before this was kept: every subject on every category, as then."""
        if getattr(self, "allegations", None) is None:
            self.allegations = {subject_key(s): list(self.categories) for s in self.subjects}
        return self.allegations

    def alleged_pairs(self) -> set[tuple[str, str]]:
        """(subject_key, category): what a conclusion must give a verdict on, and only that."""
        return {(key, cat) for key, cats in self.alleged().items() for cat in cats}

    def unconcluded(self, cadre_verdicts: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """The alleged (subject_key, category) pairs ``cadre_verdicts`` give no verdict on."""
        given = {(subject_key(r["cadre"]), r["category"]) for r in cadre_verdicts}
        return sorted(self.alleged_pairs() - given)

    def _unconcluded_pairs(self) -> list[tuple[str, str]]:
        """What the standing conclusion leaves out; closed without a conclusion (予以了结):
        nothing alleged before was left out."""
        if self.conclusion is None:
            return []
        return self.unconcluded(self.conclusion["cadre_verdicts"])

    def verdict_of(self, cadre: dict[str, Any]) -> Verdict | None:
        """The cadre's overall verdict in the approved conclusion (None: no conclusion)."""
        if self.conclusion is None:
            return None
        entry = self.conclusion["by_cadre"].get(subject_key(cadre))
        return Verdict(entry["overall"]) if entry else None

    # -- the sealed trigger ----------------------------------------------------------------

    def _do(
        self,
        action: str,
        actor: Actor,
        event_class: type[Aggregate.Event],
        *,
        reason: str = "",
        **fields: Any,
    ) -> None:
        rules.permit(action, _role(actor), self.state)
        self._trigger(event_class, actor=actor, reason=reason, **fields)

    def _trigger(self, event_class: type[Aggregate.Event], **fields: Any) -> None:
        timestamp = event_class.create_timestamp()
        topic: str = event_class.TOPIC  # type: ignore[attr-defined]
        seal = link(self.chain_head, topic, self.version + 1, timestamp, fields)
        self.trigger_event(event_class, timestamp=timestamp, chain=seal, **fields)

    def _as_handler(self, actor: Actor, action: str | None = None) -> None:
        """Handlers act only on their own cases (after the role and state are permitted)."""
        if action is not None:
            rules.permit(action, _role(actor), self.state)
        if _role(actor) is Role.HANDLER:
            rules.ASSIGNED_HANDLER_ONLY.require(actor["id"] == self.handler_id)

    def named_cadre(self, cadre: dict[str, Any]) -> dict[str, Any]:
        """The subject of the case ``cadre`` names (refused by the named-cadre rule if none)."""
        return self._named_cadre(cadre)

    def _named_cadre(self, cadre: dict[str, Any]) -> dict[str, Any]:
        for subject in self.subjects:
            same_id = cadre.get("cadre_id") and subject.get("cadre_id") == cadre.get("cadre_id")
            same_name = subject["name"] == cadre.get("name") and (
                not cadre.get("unit") or subject.get("unit") == cadre.get("unit")
            )
            if same_id or same_name:
                return subject
        rules.NAMED_CADRE.require(False)
        raise AssertionError  # unreachable

    # -- commands --------------------------------------------------------------------------

    def join_report(
        self,
        *,
        report_id: UUID,
        ledger_number: str,
        categories: list[str],
        subjects: list[dict[str, Any]],
        reporter: dict[str, Any],
        actor: Actor,
        joined_on: dt.date | None = None,
    ) -> None:
        """A further report about the same cadre and matter joins this case (并案).

        Intake joins a report to a case before its conclusion is proposed; a join arriving
        later (intake read a lagging state) is recorded, never refused (the report was
        accepted), and never silently concluded: a proposed conclusion that does not cover
        what the report alleges goes back for a new proposal (ConclusionReturned by the
        system); after approval the pairs it adds stay unconcluded (``unconcluded``), and the
        integrity reply keeps them open until a new round (复查) concludes them."""
        if report_id in self.report_ids:
            return
        covered = (
            self.alleged_pairs() - set(self._unconcluded_pairs())
            if self.state in (S.CONCLUDED, S.CLOSED)
            else None
        )
        late = [
            {"cadre": s, "category": cat}
            for s in _unique_subjects(self.subjects, subjects)
            for cat in categories
            if covered is not None and (subject_key(s), cat) not in covered
        ]
        self._trigger(
            self.ReportJoined,
            actor=actor,
            reason="受理时并入本案",
            report_id=report_id,
            ledger_number=ledger_number,
            categories=categories,
            subjects=subjects,
            reporter=reporter,
            joined_on=joined_on,
            unconcluded=late or None,
        )
        proposal = self.proposed_conclusion
        if proposal is not None and self.unconcluded(proposal["cadre_verdicts"]):
            self._trigger(
                self.ConclusionReturned,
                actor=SYSTEM_ACTOR,
                reason=JOINED_AFTER_PROPOSAL_ZH,
                returns_to=proposal["returns_to"],
            )

    def assign(self, handler_id: str, actor: Actor, reason: str = "") -> None:
        """Assign (or reassign) the handler (承办人)."""
        self._do(
            "assign",
            actor,
            self.HandlerAssigned,
            reason=reason,
            handler_id=handler_id,
            previous_handler_id=self.handler_id,
        )

    def propose_disposition(self, disposition: Disposition, actor: Actor, reason: str) -> None:
        self._as_handler(actor, "propose_disposition")
        self._do(
            "propose_disposition",
            actor,
            self.DispositionProposed,
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
        rules.permit("approve_disposition", _role(actor), self.state)
        rules.COLLECTIVE_STUDY_RECORDED.require(
            bool(collective_study.get("held_on")) and bool(collective_study.get("participants"))
        )
        assert self.proposed_disposition is not None
        parked = self.proposed_disposition is Disposition.PARK
        closing = self.proposed_disposition is Disposition.CLOSE
        transferring = self.proposed_disposition is Disposition.TRANSFER_TO_DISCIPLINE
        self._trigger(
            self.DispositionApproved,
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
        self._do("return_disposition", actor, self.DispositionReturned, reason=reason)

    def send_inquiry_letter(
        self, sent_on: dt.date, form: str, reply_due: Due, actor: Actor, reason: str = ""
    ) -> None:
        """谈话函询: the letter (or talk notice) goes out; the reply clock starts."""
        self._as_handler(actor, "send_inquiry_letter")
        self._do(
            "send_inquiry_letter",
            actor,
            self.InquiryLetterSent,
            reason=reason,
            sent_on=sent_on,
            form=form,
            reply_due=reply_due,
        )

    def record_inquiry_reply(
        self, received_on: dt.date, document_ref: str, actor: Actor, reason: str = ""
    ) -> None:
        rules.permit("record_inquiry_reply", _role(actor), self.state)
        self._as_handler(actor)
        rules.INQUIRY_LETTER_SENT.require("sent_on" in self.inquiry)
        self._trigger(
            self.InquiryReplyReceived,
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
        rules.permit("evaluate_inquiry_reply", _role(actor), self.state)
        self._as_handler(actor)
        rules.INQUIRY_REPLY_RECEIVED.require("reply_received_on" in self.inquiry)
        self._trigger(
            self.InquiryReplyEvaluated,
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
            self.FindingRecorded,
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
            self.ParkedCaseReviewed,
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
            self.Reactivated,
            reason=reason or new_evidence,
            new_evidence=new_evidence,
            reactivated_on=reactivated_on,
        )

    def propose_conclusion(
        self,
        verdicts: dict[str, Verdict] | None,
        actor: Actor,
        reason: str,
        *,
        cadre_verdicts: list[tuple[dict[str, Any], str, Verdict]] | None = None,
    ) -> None:
        """One verdict per cadre named in the case and per allegation (``cadre_verdicts``:
        (cadre, category, verdict)). ``verdicts`` by category alone is only for a case that
        names one cadre: it cannot say whom a verdict is about otherwise."""
        rules.permit("propose_conclusion", _role(actor), self.state)
        self._as_handler(actor)
        if self.state is S.INQUIRY:
            rules.INQUIRY_REPLY_EVALUATED.require("outcome" in self.inquiry)
        else:
            rules.FINDINGS_RECORDED.require(self.findings > 0)
        if cadre_verdicts is None:
            rules.CONCLUSION_PER_CADRE.require(len(self.subjects) <= 1)
            by_category = verdicts or {}
            rules.CONCLUSION_COVERS_ALLEGATIONS.require(set(by_category) == set(self.categories))
            rows = [(s, cat, v) for s in self.subjects for cat, v in by_category.items()]
        else:
            rows = [(self._named_cadre(cadre), cat, v) for cadre, cat, v in cadre_verdicts]
            given = [(subject_key(s), cat) for s, cat, _ in rows]
            wanted = self.alleged_pairs()
            for (s, cat, _), pair in zip(rows, given, strict=True):
                if pair not in wanted:
                    raise NotAlleged(s, cat)
            rules.CONCLUSION_COVERS_EVERY_CADRE.require(
                len(given) == len(set(given)) and set(given) == wanted
            )
            by_category = {
                cat: overall_verdict(v for _, c, v in rows if c == cat)
                for cat in self.categories
                if any(c == cat for _, c, _ in rows)
            }
        self._trigger(
            self.ConclusionProposed,
            actor=actor,
            reason=reason,
            verdicts={k: v.value for k, v in by_category.items()},
            overall=overall_verdict(by_category.values()).value,
            returns_to=self.state.value,
            cadre_verdicts=[
                {"cadre": s, "category": cat, "verdict": v.value} for s, cat, v in rows
            ],
        )

    def approve_conclusion(
        self, actor: Actor, reason: str = "", approved_on: dt.date | None = None
    ) -> None:
        rules.permit("approve_conclusion", _role(actor), self.state)
        assert self.proposed_conclusion is not None
        # A report joined since the proposal (recorded before joins returned it) may allege
        # more than it covers: such a proposal is not approved.
        rules.CONCLUSION_COVERS_EVERY_CADRE.require(
            not self.unconcluded(self.proposed_conclusion["cadre_verdicts"])
        )
        self._trigger(
            self.ConclusionApproved,
            actor=actor,
            reason=reason,
            verdicts=self.proposed_conclusion["verdicts"],
            overall=self.proposed_conclusion["overall"],
            approved_on=approved_on,
            cadre_verdicts=self.proposed_conclusion["cadre_verdicts"],
        )

    def return_conclusion(self, actor: Actor, reason: str) -> None:
        rules.permit("return_conclusion", _role(actor), self.state)
        assert self.proposed_conclusion is not None
        self._trigger(
            self.ConclusionReturned,
            actor=actor,
            reason=reason,
            returns_to=self.proposed_conclusion["returns_to"],
        )

    @property
    def proven(self) -> bool:
        """Some cadre of the case was found (partly) true."""
        return self.conclusion is not None and self.conclusion["overall"] in PROVEN

    @property
    def found_untrue(self) -> bool:
        return self.conclusion is not None and self.conclusion["overall"] is Verdict.UNTRUE

    def decide_handling(
        self,
        cadre: dict[str, Any],
        handling: HandlingType,
        decided_on: dt.date,
        effects: dict[str, Any],
        follow_up_due: Due | None,
        actor: Actor,
        reason: str,
        *,
        escalation_of: int | None = None,
    ) -> None:
        """Organizational handling of a cadre, with its effects from the configuration table.

        Only for a cadre whose own verdict is (partly) true. After closure only the heavier
        handling an admonition's failed follow-up named (``escalation_of``)."""
        rules.permit("decide_handling", _role(actor), self.state)
        subject = self._named_cadre(cadre)
        rules.PROVEN_FOR_HANDLING.require(self.verdict_of(subject) in PROVEN)
        if escalation_of is not None or self.state is not S.CONCLUDED:
            pending = self.escalations.get(escalation_of or 0)
            admonished: dict[str, Any] = next(
                (h for h in self.handlings if h["id"] == escalation_of), {"cadre": {}}
            )
            rules.ESCALATION_PENDING.require(
                pending is not None
                and pending["decided"] is None
                and pending["to"] == handling.value
                and subject_key(admonished["cadre"]) == subject_key(subject)
            )
        self._trigger(
            self.HandlingDecided,
            actor=actor,
            reason=reason,
            handling_id=len(self.handlings) + 1,
            cadre=subject,
            handling=handling.value,
            decided_on=decided_on,
            effects=effects,
            follow_up_due=follow_up_due if handling is HandlingType.ADMONITION else None,
            escalation_of=escalation_of,
        )

    def record_admonition_follow_up(
        self,
        handling_id: int,
        outcome: AdmonitionOutcome,
        followed_up_on: dt.date,
        actor: Actor,
        reason: str,
        *,
        escalate_to: HandlingType | None = None,
    ) -> None:
        """限期改正: improved, or escalated to the heavier handling it names (``escalate_to``),
        which is then decided (``decide_handling(escalation_of=...)``), closed case or not."""
        rules.permit("record_admonition_follow_up", _role(actor), self.state)
        self._as_handler(actor)
        rules.ADMONITION_DECIDED.require(
            f"admonition_follow_up#{handling_id}" in self.deadlines
            and self.deadlines[f"admonition_follow_up#{handling_id}"]["met_on"] is None
        )
        escalated = outcome is AdmonitionOutcome.ESCALATED
        if escalated:
            rules.ESCALATION_NAMES_HANDLING.require(escalate_to in HEAVIER_HANDLINGS)
        self._trigger(
            self.AdmonitionFollowedUp,
            actor=actor,
            reason=reason,
            handling_id=handling_id,
            outcome=outcome.value,
            followed_up_on=followed_up_on,
            escalate_to=escalate_to.value if escalated and escalate_to else None,
        )

    def propose_clearing(
        self,
        cadre: dict[str, Any],
        actor: Actor,
        reason: str,
        *,
        applied_for_by_cadre: bool = False,
        proposed_on: dt.date | None = None,
    ) -> None:
        """澄清正名, proposed by the handler or applied for by the cadre."""
        action = "apply_for_clearing" if applied_for_by_cadre else "propose_clearing"
        rules.permit(action, _role(actor), self.state)
        if not applied_for_by_cadre:
            self._as_handler(actor)
        subject = self._named_cadre(cadre)
        rules.UNTRUE_FOR_CLEARING.require(self.verdict_of(subject) is Verdict.UNTRUE)
        rules.CLEARING_NOT_STARTED.require(subject_key(subject) not in self.clearings)
        self._trigger(
            self.ClearingProposed,
            actor=actor,
            reason=reason,
            cadre=subject,
            applied_for_by_cadre=applied_for_by_cadre,
            proposed_on=proposed_on,
        )

    def _clearing_at(self, cadre: dict[str, Any] | None, stage: str) -> dict[str, Any]:
        """The cadre named (or, none named, the only clearing at ``stage``) and its clearing."""
        if cadre is None:
            at_stage = [c for c in self.clearings.values() if c["stage"] == stage]
            rules.CLEARING_NAMES_CADRE.require(len(at_stage) <= 1)
            return at_stage[0]["cadre"] if at_stage else {}
        subject = self._named_cadre(cadre)
        found = self.clearings.get(subject_key(subject), {})
        return subject if found.get("stage") == stage else {}

    def approve_clearing(
        self,
        actor: Actor,
        reason: str = "",
        approved_on: dt.date | None = None,
        *,
        cadre: dict[str, Any] | None = None,
    ) -> None:
        rules.permit("approve_clearing", _role(actor), self.state)
        subject = self._clearing_at(cadre, "proposed")
        rules.CLEARING_PROPOSED.require(bool(subject))
        self._trigger(
            self.ClearingApproved,
            actor=actor,
            reason=reason,
            approved_on=approved_on,
            cadre=subject,
        )

    def carry_out_clearing(
        self,
        method: str,
        scope: str,
        carried_out_on: dt.date,
        corrections: list[str],
        actor: Actor,
        reason: str = "",
        *,
        cadre: dict[str, Any] | None = None,
        revokes: list[int] | None = None,
    ) -> None:
        """澄清正名 carried out; ``revokes`` names the cleared cadre's handlings in this case
        that the correction revokes (each one of theirs, not revoked before)."""
        rules.permit("carry_out_clearing", _role(actor), self.state)
        self._as_handler(actor)
        subject = self._clearing_at(cadre, "approved")
        rules.CLEARING_APPROVED.require(bool(subject))
        theirs = {
            h["id"]
            for h in self.handlings
            if subject_key(h["cadre"]) == subject_key(subject) and not h.get("revoked_on")
        }
        for handling_id in revokes or []:
            if handling_id not in theirs:
                raise NotTheCadresHandling(handling_id, subject)
        self._trigger(
            self.ClearingCarriedOut,
            actor=actor,
            reason=reason,
            method=method,
            scope=scope,
            carried_out_on=carried_out_on,
            corrections=corrections,
            cadre=subject,
            revokes=sorted(set(revokes or [])),
        )

    def suspect_false_accusation(
        self,
        false_accusation_case_id: UUID,
        accuser_status: str,
        routed_to: str,
        actor: Actor,
        reason: str,
        *,
        cadre: dict[str, Any] | None = None,
        suspected_on: dt.date | None = None,
    ) -> None:
        """诬告陷害 suspected against ``cadre`` (None: the case's only cadre), whose own
        verdict is untrue."""
        rules.permit("suspect_false_accusation", _role(actor), self.state)
        if cadre is None:
            cadre = self.subjects[0] if len(self.subjects) == 1 else {"name": ""}
        subject = self._named_cadre(cadre)
        rules.UNTRUE_FOR_FALSE_ACCUSATION.require(self.verdict_of(subject) is Verdict.UNTRUE)
        rules.FALSE_ACCUSATION_ONCE.require(
            subject_key(subject) not in self.false_accusations and "" not in self.false_accusations
        )
        self._trigger(
            self.FalseAccusationSuspected,
            actor=actor,
            reason=reason,
            false_accusation_case_id=false_accusation_case_id,
            accuser_status=accuser_status,
            routed_to=routed_to,
            cadre=subject,
            suspected_on=suspected_on,
        )

    def refer_subject(
        self,
        cadre: dict[str, Any],
        organ: str,
        referred_on: dt.date,
        document_ref: str,
        actor: Actor,
        reason: str,
    ) -> None:
        """A person found (partly) true is referred to the organ competent for them: e.g. the
        accuser of a false-accusation case to 公安机关 when a crime is suspected."""
        rules.permit("refer_subject", _role(actor), self.state)
        subject = self._named_cadre(cadre)
        rules.PROVEN_FOR_HANDLING.require(self.verdict_of(subject) in PROVEN)
        self._trigger(
            self.SubjectReferred,
            actor=actor,
            reason=reason,
            cadre=subject,
            organ=organ,
            referred_on=referred_on,
            document_ref=document_ref,
        )

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
        rules.permit("close", _role(actor), self.state)
        unmet = self.unmet_deadlines()
        rules.EXPLAIN_UNMET_DEADLINES.require(
            all(explanations.get(name, "").strip() for name in unmet)
        )
        self._trigger(
            self.Closed,
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
        rules.permit("give_feedback", _role(actor), self.state)
        self._as_handler(actor)
        rules.REAL_NAME_REPORTER_FOR_FEEDBACK.require(self.real_name_reporters > 0)
        self._trigger(
            self.FeedbackGiven,
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
        rules.permit("record_objection", _role(actor), self.state)
        rules.FEEDBACK_GIVEN_FOR_OBJECTION.require(self.feedback_given > 0)
        self._trigger(
            self.ObjectionRecorded,
            actor=actor,
            reason=reason,
            received_on=received_on,
            answer_due=answer_due,
        )

    def answer_objection(
        self, answered_on: dt.date, text: str, actor: Actor, reason: str = ""
    ) -> None:
        rules.permit("answer_objection", _role(actor), self.state)
        rules.OBJECTION_OPEN.require(self.open_objections > 0)
        self._trigger(
            self.ObjectionAnswered,
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
            self.Reopened,
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
        rules.permit("record_discipline_result", _role(actor), self.state)
        rules.DISCIPLINE_RESULT_ONCE.require(getattr(self, "discipline_result", None) is None)
        named = [{**o, "cadre": self._named_cadre(o["cadre"])} for o in outcomes]
        keys = [(o["cadre"]["name"], o["cadre"].get("unit", "")) for o in named]
        every = {(s["name"], s.get("unit", "")) for s in self.subjects}
        rules.RESULT_FOR_EACH_CADRE.require(len(set(keys)) == len(keys) and set(keys) == every)
        self._trigger(
            self.DisciplineResultRecorded,
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
    ) -> None:
        """A report about a cadre under pre-appointment publicity holds the appointment."""
        rules.permit("hold_for_publicity", _role(actor), self.state)
        rules.ONE_PUBLICITY_HOLD.require(self.publicity_hold is None)
        self._trigger(
            self.PublicityHeld,
            actor=actor,
            reason=reason,
            cadre=self._named_cadre(cadre),
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
        rules.permit("decide_publicity", _role(actor), self.state)
        rules.PUBLICITY_HOLD_OPEN.require(self.publicity_hold is not None)
        if decision is PublicityDecision.DEFER:
            rules.deferral_limit(max_defer_months).require(
                defer_months is not None and 1 <= defer_months <= max_defer_months
            )
        self._trigger(
            self.PublicityDecided,
            actor=actor,
            reason=reason,
            decision=decision.value,
            defer_until=defer_until if decision is PublicityDecision.DEFER else None,
            decided_on=decided_on,
        )


PROVEN = (Verdict.TRUE, Verdict.PARTLY_TRUE)
# What an admonition whose follow-up found no improvement may escalate to (组织处理规定).
HEAVIER_HANDLINGS = frozenset(
    {
        HandlingType.REASSIGNMENT,
        HandlingType.ORDERED_RESIGNATION,
        HandlingType.DISMISSAL,
        HandlingType.DEMOTION,
    }
)


def _unique_subjects(
    known: list[dict[str, Any]], joined: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The joined report's subjects as the case knows them (a known one as first named)."""
    by_key = {subject_key(s): s for s in known}
    return [by_key.get(subject_key(s), s) for s in joined]


def subject_key(subject: dict[str, Any]) -> str:
    """Who a subject of the case is, as the case knows them (name and unit, as joined)."""
    return f"{subject.get('name', '')}|{subject.get('unit', '') or ''}"


def cadre_verdicts_of(
    cadre_verdicts: list[dict[str, Any]] | None,
    verdicts: dict[str, str],
    subjects: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The verdicts per cadre and allegation. An event stored before verdicts were per cadre
    gave one verdict per category for the whole case: that is what it said of every subject."""
    if cadre_verdicts is not None:
        return list(cadre_verdicts)
    return [
        {"cadre": s, "category": cat, "verdict": v} for s in subjects for cat, v in verdicts.items()
    ]


def by_cadre(cadre_verdicts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """{subject_key: {cadre, verdicts: {category: verdict}, overall}}."""
    result: dict[str, dict[str, Any]] = {}
    for row in cadre_verdicts:
        entry = result.setdefault(
            subject_key(row["cadre"]), {"cadre": row["cadre"], "verdicts": {}}
        )
        entry["verdicts"][row["category"]] = row["verdict"]
    for entry in result.values():
        entry["overall"] = overall_verdict(Verdict(v) for v in entry["verdicts"].values()).value
    return result


VERDICT_STRENGTH = {Verdict.TRUE: 3, Verdict.PARTLY_TRUE: 2, Verdict.UNPROVEN: 1, Verdict.UNTRUE: 0}


def overall_verdict(verdicts: Any) -> Verdict:
    """The case's overall verdict: true if any allegation is true, partly true if some part is…"""
    values = list(verdicts)
    if all(v is Verdict.TRUE for v in values):
        return Verdict.TRUE
    if any(v in (Verdict.TRUE, Verdict.PARTLY_TRUE) for v in values):
        return Verdict.PARTLY_TRUE
    if all(v is Verdict.UNTRUE for v in values):
        return Verdict.UNTRUE
    return Verdict.UNPROVEN


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
}
# Stored but not published: every event's seal in the case's hash chain (chain.py), and the
# summary of the report that opened the case (published by intake, not repeated by casework).
CASE_INTERNAL_FIELDS: dict[type[Aggregate.Event], frozenset[str]] = {
    event_class: frozenset({"chain", "summary"} if event_class is Case.Opened else {"chain"})
    for event_class in CASE_CONTRACTS
}
bind(CASE_CONTRACTS)
