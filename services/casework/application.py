"""The casework process application: consumes intake's events exactly once, runs the procedure.

Each upstream event is processed with a tracking record (upstream name and position)
written in the same transaction as the events it causes, so a redelivered event is
recognised and changes nothing. Over Kafka the upstream name includes the partition
(``intake#p3``): tracking keeps one maximum position per name.

Commands (``execute``) load the case, check the caller's expected version, run the
domain command and save; a concurrent save of the same case makes the second one fail
with :class:`ConcurrentChange` instead of overwriting it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent, project_aggregate
from eventsourcing.persistence import IntegrityError, ProcessRecorder, Tracking

from schemas import commands as c
from schemas.events import EventEnvelope, ReportAcceptedV1, Source, parse_payload
from schemas.glossary import AccuserStatus, CaseKind, Disposition, HandlingType, Role
from services.calendar.deadlines import (
    Due,
    TimeLimits,
    WorkingDayCalendar,
    add_calendar_months,
    due_in_months,
    due_in_working_days,
)
from services.calendar.handling import HandlingEffect
from services.casework import rules
from services.casework.domain import Actor, Case, subject_key
from services.casework.rules import (
    CaseNotFound,
    CaseworkError,
    InvalidInput,
    NotAHandler,
    UnknownAccuser,
)
from services.common.application import JianduApplication
from services.common.china_time import china_date, china_today
from services.common.config import Config
from services.common.process_recorders import (
    TRACKING_FROM,
    BatchPostgresProcessRecorder,
    BatchSQLiteProcessRecorder,
    use_batch_recorders,
)

log = logging.getLogger(__name__)

NAMESPACE = uuid5(NAMESPACE_URL, "https://jiandu.example/ns/casework")

# Where a false-accusation case goes, by the accuser's status (诬告陷害的处理).
FALSE_ACCUSATION_ROUTES: dict[AccuserStatus, str] = {
    AccuserStatus.PARTY_MEMBER: "纪委监委（党纪处理）",
    AccuserStatus.PUBLIC_OFFICIAL: "监察机关或任免机关（政务处分）",
    AccuserStatus.OTHER: "公安机关（治安管理处罚）",
    AccuserStatus.SUSPECTED_CRIME: "公安机关、检察机关（依法追究刑事责任）",
}


class StatedDayInvalid(InvalidInput):
    """A stated business day out of bounds (422, naming the field): nothing is stored."""

    def __init__(self, field: str, message: str, message_zh: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}", f"{field}：{message_zh}")


class ConcurrentChange(CaseworkError):
    def __init__(self, case_id: UUID, expected: int | None, actual: int | None) -> None:
        detail = (
            f"you read version {expected}, it is now {actual}"
            if expected and actual
            else "someone else changed it at the same moment"
        )
        super().__init__(
            f"case {case_id} was changed by someone else ({detail}); reload it and try again",
            "案件已被他人更新，请刷新后重试",
        )


def false_accusation_case_id(case_id: UUID, cadre: dict[str, Any] | None = None) -> UUID:
    """The linked case's id: one per falsely accused cadre (``None``: the older, per-case id)."""
    if cadre is None:
        return uuid5(NAMESPACE, f"false-accusation-of:{case_id}")
    return uuid5(NAMESPACE, f"false-accusation-of:{case_id}:{subject_key(cadre)}")


# Is this username an active account with the handler role? (services/bootstrap.py asks
# the accounts store; casework does not know accounts otherwise.)
HandlerCheck = Callable[[str], bool]
# The register's record of a cadre ({cadre_id, name, unit, position}), or None.
CadreLookup = Callable[[str], dict[str, Any] | None]


class CaseworkApplication(JianduApplication):
    name = "casework"
    source: ClassVar[Source] = "casework"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        config: Config | None = None,
        today: Callable[[], dt.date] = china_today,
        is_handler: HandlerCheck | None = None,
        cadre_lookup: CadreLookup | None = None,
    ) -> None:
        super().__init__(env)
        self.config = config or Config()
        self.today = today
        # None: no accounts to ask (bare unit tests); the deployed processes always set it.
        self.is_handler = is_handler
        self.cadre_lookup = cadre_lookup

    @property
    def calendar(self) -> WorkingDayCalendar:
        return self.config.calendar()

    @property
    def limits(self) -> TimeLimits:
        return self.config.limits()

    @property
    def effects(self) -> dict[HandlingType, HandlingEffect]:
        return self.config.effects()

    def construct_recorder(self) -> ProcessRecorder:
        use_batch_recorders(self.factory)  # a batch's tracking guard (process_recorders.py)
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        recorder = self.recorder
        assert isinstance(recorder, ProcessRecorder)
        return recorder

    # -- consuming intake's events ---------------------------------------------------------

    def position(self, upstream: str) -> int:
        """The last upstream position processed under this tracking name (0 if none)."""
        return self.process_recorder.max_tracking_id(upstream) or 0

    def handle(self, envelope: EventEnvelope, upstream: str) -> bool:
        """Process one upstream event; False when it was processed before."""
        return self.handle_batch([envelope], upstream) > 0

    def handle_batch(self, envelopes: Sequence[EventEnvelope], upstream: str) -> int:
        """Process a run of upstream events of one tracking name (one Kafka partition), in
        order, in ONE transaction: every event they cause and one tracking row, the last
        position processed. Returns how many were processed; the others (at or below the
        recorded position: a redelivered batch, or the overlap of one after a crash or a
        rebalance) were processed before and are skipped one by one.

        The transaction is refused when another consumer recorded a position at or above
        this batch's first one meanwhile, or saved a case this batch changes (a version
        conflict); the batch is then worked out again from what is stored now (its already
        processed events skipped), up to ``CONFLICT_ATTEMPTS`` times."""
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return self._handle_batch(envelopes, upstream)
            except IntegrityError:
                if attempt == CONFLICT_ATTEMPTS:
                    raise
                log.info("casework: %s batch met a concurrent change; again", upstream)
        raise AssertionError("unreachable")

    def _handle_batch(self, envelopes: Sequence[EventEnvelope], upstream: str) -> int:
        last = self.position(upstream)  # one read per batch, not per event
        batch = _Batch(self)
        todo: list[tuple[EventEnvelope, ReportAcceptedV1 | None]] = []
        for envelope in envelopes:
            if envelope.position <= last:
                continue  # processed before (a redelivery), or met twice in this batch
            todo.append((envelope, _accepted(envelope)))
            last = envelope.position
        if not todo:
            return 0
        batch.load([accepted.case_id for _, accepted in todo if accepted is not None])
        for envelope, accepted in todo:
            if accepted is not None:
                self._policy(envelope, accepted, batch)
        processing = batch.processing
        processing.tracking = Tracking(upstream, last)
        if len(todo) > 1:
            first = Tracking(upstream, todo[0][0].position)
            processing.collect_events(**{TRACKING_FROM: first})
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        return len(todo)

    def _policy(self, envelope: EventEnvelope, accepted: ReportAcceptedV1, batch: _Batch) -> None:
        """A report accepted: its case opens, or (并案) it joins the case named."""
        existing = batch.case(accepted.case_id)
        subjects = [s.model_dump() for s in accepted.subjects]
        categories = [cat.value for cat in accepted.categories]
        reporter = accepted.reporter.model_dump()
        if existing is not None:
            # Joining an open case (并案), or the same acceptance seen again: one case only.
            existing.join_report(
                report_id=envelope.aggregate_id,
                ledger_number=accepted.ledger_number,
                categories=categories,
                subjects=subjects,
                reporter=reporter,
                actor=accepted.actor.model_dump(mode="json"),
                joined_on=accepted.accepted_on or china_date(envelope.occurred_at),
            )
            batch.collect(existing)
            return
        case = Case.open(
            accepted.case_id,
            report_id=envelope.aggregate_id,
            ledger_number=accepted.ledger_number,
            channel=accepted.channel.value,
            categories=categories,
            subjects=subjects,
            summary=accepted.summary,
            received_on=accepted.received_on,
            reporter=reporter,
            actor=accepted.actor.model_dump(mode="json"),
            reason=accepted.reason,
            # Acceptances recorded before they carried their day: the China date they happened.
            opened_on=accepted.accepted_on or china_date(envelope.occurred_at),
        )
        batch.collect(case)

    def _find(self, case_id: UUID) -> Case | None:
        try:
            case: Case = self.repository.get(case_id)
        except AggregateNotFoundError:
            return None
        return case

    # -- queries -------------------------------------------------------------------------

    def get_case(self, case_id: UUID) -> Case:
        case = self._find(case_id)
        if case is None:
            raise CaseNotFound(case_id)
        return case

    # -- deadlines -------------------------------------------------------------------------

    def due_in_working_days(self, start: dt.date, days: int) -> Due:
        return due_in_working_days(self.calendar, start, days)

    def due_in_months(self, start: dt.date, months: int) -> Due:
        return due_in_months(start, months)

    # -- commands ------------------------------------------------------------------------

    def execute(
        self,
        case_id: UUID,
        action: str,
        command: c.Command,
        actor: Actor,
        *,
        case: Case | None = None,
    ) -> Case:
        """Run one procedure command on a case; returns the case as saved.

        ``case``: the case as the caller just loaded it (to check who may act on it), so it
        is not read twice; a change saved in between is caught as a concurrent change."""
        model, handler = COMMANDS[action]
        if not isinstance(command, model):
            if not issubclass(model, type(command)):
                raise TypeError(f"{action} takes a {model.__name__}, not {type(command).__name__}")
            # A plainer form of this action's request (an Approve for a DatedApproval).
            command = model.model_validate(command.model_dump(exclude_unset=True))
        if case is None or case.id != case_id:
            case = self.get_case(case_id)
        if command.expected_version is not None and command.expected_version != case.version:
            raise ConcurrentChange(case_id, command.expected_version, case.version)
        extra = handler(self, case, command, actor)
        try:
            self.save(case, *extra)
        except IntegrityError:
            raise ConcurrentChange(case_id, command.expected_version, None) from None
        return case

    # Each handler turns a validated request into a domain command (computing deadlines).

    def _assign(self, case: Case, cmd: c.Assign, actor: Actor) -> list[Any]:
        rules.permit("assign", Role(actor["role"]), case.state)  # who may assign comes first
        if self.is_handler is not None and not self.is_handler(cmd.handler_id):
            raise NotAHandler(cmd.handler_id)
        case.assign(cmd.handler_id, actor, cmd.reason)
        return []

    def _propose_disposition(
        self, case: Case, cmd: c.ProposeDisposition, actor: Actor
    ) -> list[Any]:
        case.propose_disposition(cmd.disposition, actor, cmd.reason)
        return []

    def _approve_disposition(
        self, case: Case, cmd: c.ApproveDisposition, actor: Actor
    ) -> list[Any]:
        on = cmd.approved_on or self.today()
        case.approve_disposition(
            cmd.collective_study.model_dump(mode="json"),
            actor,
            cmd.reason,
            review_due=self.due_in_months(on, self.limits.parked_review_months),
            feedback_due=self.due_in_working_days(on, self.limits.feedback_after_closure),
            approved_on=on,
            report_back_due=self.due_in_working_days(on, self.limits.discipline_report_back),
        )
        return []

    def _return_disposition(self, case: Case, cmd: c.ReturnWithReason, actor: Actor) -> list[Any]:
        case.return_disposition(actor, cmd.reason)
        return []

    def _send_inquiry_letter(self, case: Case, cmd: c.SendInquiryLetter, actor: Actor) -> list[Any]:
        sent_on = cmd.sent_on or self.today()
        case.send_inquiry_letter(
            sent_on,
            cmd.form,
            self.due_in_working_days(sent_on, self.limits.inquiry_reply),
            actor,
            cmd.reason,
        )
        return []

    def _record_inquiry_reply(
        self, case: Case, cmd: c.RecordInquiryReply, actor: Actor
    ) -> list[Any]:
        case.record_inquiry_reply(
            cmd.received_on or self.today(), cmd.document_ref, actor, cmd.reason
        )
        return []

    def _evaluate_inquiry_reply(
        self, case: Case, cmd: c.EvaluateInquiryReply, actor: Actor
    ) -> list[Any]:
        case.evaluate_inquiry_reply(cmd.outcome, actor, cmd.reason, evaluated_on=self.today())
        return []

    def _record_finding(self, case: Case, cmd: c.RecordFinding, actor: Actor) -> list[Any]:
        case.record_finding(
            cmd.kind.value,
            cmd.summary,
            list(cmd.evidence_refs),
            cmd.found_on or self.today(),
            actor,
            cmd.reason,
        )
        return []

    def _review_parked(self, case: Case, cmd: c.ReviewParked, actor: Actor) -> list[Any]:
        on = cmd.reviewed_on or self.today()
        case.review_parked(
            on, self.due_in_months(on, self.limits.parked_review_months), actor, cmd.reason
        )
        return []

    def _reactivate(self, case: Case, cmd: c.NewEvidence, actor: Actor) -> list[Any]:
        case.reactivate(cmd.new_evidence, cmd.on or self.today(), actor, cmd.reason)
        return []

    def _propose_conclusion(self, case: Case, cmd: c.ProposeConclusion, actor: Actor) -> list[Any]:
        per_cadre = (
            [
                (v.cadre.model_dump(exclude_none=True), v.category.value, v.verdict)
                for v in cmd.cadre_verdicts
            ]
            if cmd.cadre_verdicts is not None
            else None
        )
        by_category = {k.value: v for k, v in (cmd.verdicts or {}).items()}
        case.propose_conclusion(by_category, actor, cmd.reason, cadre_verdicts=per_cadre)
        return []

    def _approve_conclusion(self, case: Case, cmd: c.DatedApproval, actor: Actor) -> list[Any]:
        case.approve_conclusion(actor, cmd.reason, cmd.approved_on or self.today())
        return []

    def _return_conclusion(self, case: Case, cmd: c.ReturnWithReason, actor: Actor) -> list[Any]:
        case.return_conclusion(actor, cmd.reason)
        return []

    def _decide_handling(self, case: Case, cmd: c.DecideHandling, actor: Actor) -> list[Any]:
        on = cmd.decided_on or self.today()
        effect = self.effects[cmd.handling]
        follow_up = (
            self.due_in_months(on, self.limits.admonition_follow_up_months)
            if effect.follow_up
            else None
        )
        case.decide_handling(
            cmd.cadre.model_dump(exclude_none=True),
            cmd.handling,
            on,
            effect.model_dump(),
            follow_up,
            actor,
            cmd.reason,
            escalation_of=cmd.escalation_of,
        )
        return []

    def _record_admonition_follow_up(
        self, case: Case, cmd: c.AdmonitionFollowUp, actor: Actor
    ) -> list[Any]:
        case.record_admonition_follow_up(
            cmd.handling_id,
            cmd.outcome,
            cmd.followed_up_on or self.today(),
            actor,
            cmd.reason,
            escalate_to=cmd.escalate_to,
        )
        return []

    def _propose_clearing(self, case: Case, cmd: c.ProposeClearing, actor: Actor) -> list[Any]:
        case.propose_clearing(
            cmd.cadre.model_dump(exclude_none=True), actor, cmd.reason, proposed_on=self.today()
        )
        return []

    def _apply_for_clearing(self, case: Case, cmd: c.ProposeClearing, actor: Actor) -> list[Any]:
        case.propose_clearing(
            cmd.cadre.model_dump(exclude_none=True),
            actor,
            cmd.reason,
            applied_for_by_cadre=True,
            proposed_on=self.today(),
        )
        return []

    def _approve_clearing(self, case: Case, cmd: c.DatedApproval, actor: Actor) -> list[Any]:
        cadre = cmd.cadre if isinstance(cmd, c.ApproveClearing) else None
        case.approve_clearing(
            actor,
            cmd.reason,
            cmd.approved_on or self.today(),
            cadre=cadre.model_dump(exclude_none=True) if cadre else None,
        )
        return []

    def _carry_out_clearing(self, case: Case, cmd: c.CarryOutClearing, actor: Actor) -> list[Any]:
        case.carry_out_clearing(
            cmd.method.value,
            cmd.scope,
            cmd.carried_out_on or self.today(),
            list(cmd.corrections),
            actor,
            cmd.reason,
            cadre=cmd.cadre.model_dump(exclude_none=True) if cmd.cadre else None,
            revokes=list(cmd.revokes),
        )
        return []

    def _suspect_false_accusation(
        self, case: Case, cmd: c.SuspectFalseAccusation, actor: Actor
    ) -> list[Any]:
        """The accused cadre's name is cleared of a false accusation: a linked case about the
        accuser (staff-entered; never the reporter identity of the vault) opens, to be verified,
        concluded and handled or referred like any case."""
        if cmd.cadre is not None:
            accused = cmd.cadre.model_dump(exclude_none=True)
        else:
            accused = case.subjects[0] if len(case.subjects) == 1 else {"name": ""}
        accused = case.named_cadre(accused)
        accuser = self._accuser(cmd.accuser)
        linked_id = false_accusation_case_id(case.id, accused)
        routed_to = FALSE_ACCUSATION_ROUTES[cmd.accuser_status]
        case.suspect_false_accusation(
            linked_id,
            cmd.accuser_status.value,
            routed_to,
            actor,
            cmd.reason,
            cadre=accused,
            suspected_on=self.today(),
        )
        linked = Case.open(
            linked_id,
            kind=CaseKind.FALSE_ACCUSATION,
            report_id=None,
            ledger_number=f"{case.ledger_number}-WG{len(case.false_accusations)}",
            channel="internal",
            categories=["other_conduct"],
            subjects=[accuser],
            summary=cmd.reason,
            received_on=self.today(),
            opened_on=self.today(),
            reporter=None,
            actor=actor,
            reason="涉嫌诬告陷害，另立线索办理",
            linked_case_id=case.id,
            routing={
                "accuser_status": cmd.accuser_status.value,
                "routed_to": routed_to,
                "falsely_accused": accused["name"],
            },
        )
        return [linked]

    def _accuser(self, accuser: c.Accuser) -> dict[str, Any]:
        """The accuser as a subject of the linked case: a registered cadre, or as entered."""
        if accuser.cadre_id is None:
            return {"name": accuser.name or "", "unit": accuser.unit, "position": accuser.position}
        record = self.cadre_lookup(accuser.cadre_id) if self.cadre_lookup else None
        if record is None:
            if self.cadre_lookup is not None or not accuser.name:
                raise UnknownAccuser(accuser.cadre_id)
            record = accuser.model_dump()
        return {
            "name": record["name"],
            "unit": record.get("unit") or "",
            "position": record.get("position") or "",
            "cadre_id": accuser.cadre_id,
        }

    def _refer_subject(self, case: Case, cmd: c.ReferSubject, actor: Actor) -> list[Any]:
        if cmd.cadre is not None:
            subject = cmd.cadre.model_dump(exclude_none=True)
        else:
            subject = case.subjects[0] if len(case.subjects) == 1 else {"name": ""}
        case.refer_subject(
            subject,
            cmd.organ,
            cmd.referred_on or self.today(),
            cmd.document_ref,
            actor,
            cmd.reason,
        )
        return []

    def _close(self, case: Case, cmd: c.Close, actor: Actor) -> list[Any]:
        on = cmd.closed_on or self.today()
        case.close(
            on,
            dict(cmd.explanations),
            self.due_in_working_days(on, self.limits.feedback_after_closure),
            actor,
            cmd.reason,
        )
        return []

    def _give_feedback(self, case: Case, cmd: c.GiveFeedback, actor: Actor) -> list[Any]:
        case.give_feedback(cmd.given_on or self.today(), cmd.method, cmd.text, actor, cmd.reason)
        return []

    def _record_objection(self, case: Case, cmd: c.RecordObjection, actor: Actor) -> list[Any]:
        on = cmd.received_on or self.today()
        due = self.due_in_working_days(on, self.limits.objection_answer)
        case.record_objection(on, actor, cmd.reason, due)
        return []

    def _answer_objection(self, case: Case, cmd: c.AnswerObjection, actor: Actor) -> list[Any]:
        case.answer_objection(cmd.answered_on or self.today(), cmd.text, actor, cmd.reason)
        return []

    def _reopen(self, case: Case, cmd: c.NewEvidence, actor: Actor) -> list[Any]:
        case.reopen(cmd.new_evidence, cmd.on or self.today(), actor, cmd.reason)
        return []

    def _record_discipline_result(
        self, case: Case, cmd: c.RecordDisciplineResult, actor: Actor
    ) -> list[Any]:
        """Each handling with its effects from the effects table the office's own use, from
        the day it was decided (``decided_on``, default the day reported; neither after today
        nor after the report: 422 naming the field)."""
        today = self.today()
        reported_on = cmd.reported_on or today
        if reported_on > today:
            raise StatedDayInvalid(
                "reported_on",
                f"{reported_on} is in the future (today is {today})",
                f"{reported_on} 晚于今天（{today}）",
            )
        for i, o in enumerate(cmd.outcomes):
            if o.decided_on is not None and o.decided_on > reported_on:
                raise StatedDayInvalid(
                    f"outcomes.{i}.decided_on",
                    f"{o.decided_on} is after the day the result was reported ({reported_on})",
                    f"{o.decided_on} 晚于反馈办理结果的日期（{reported_on}）",
                )
        outcomes = [
            {
                "cadre": o.cadre.model_dump(exclude_none=True),
                "verdict": o.verdict.value,
                "handling": o.handling.value if o.handling else None,
                "effects": self.effects[o.handling].model_dump(mode="json") if o.handling else {},
                "sanction": o.sanction.model_dump(mode="json") if o.sanction else None,
                "decided_on": (o.decided_on or reported_on).isoformat(),
            }
            for o in cmd.outcomes
        ]
        case.record_discipline_result(
            Disposition.TRANSFER_TO_DISCIPLINE.zh.removeprefix("移送"),
            outcomes,
            reported_on,
            cmd.document_number,
            actor,
            cmd.reason,
        )
        return []

    def _hold_for_publicity(self, case: Case, cmd: c.HoldForPublicity, actor: Actor) -> list[Any]:
        case.hold_for_publicity(
            cmd.cadre.model_dump(exclude_none=True),
            cmd.proposed_post,
            cmd.publicity_ends_on,
            actor,
            cmd.reason,
            held_on=self.today(),
        )
        return []

    def _decide_publicity(self, case: Case, cmd: c.DecidePublicity, actor: Actor) -> list[Any]:
        on = cmd.decided_on or self.today()
        until = add_calendar_months(on, cmd.defer_months) if cmd.defer_months else None
        case.decide_publicity(
            cmd.decision,
            on,
            cmd.defer_months,
            until,
            actor,
            cmd.reason,
            max_defer_months=self.limits.publicity_defer_max_months,
        )
        return []


Handler = Callable[[CaseworkApplication, Case, Any, Actor], list[Any]]
A = CaseworkApplication

# action name → (request model, handler). The HTTP layer serves exactly these.
COMMANDS: dict[str, tuple[type[c.Command], Handler]] = {
    "assign": (c.Assign, A._assign),
    "propose_disposition": (c.ProposeDisposition, A._propose_disposition),
    "approve_disposition": (c.ApproveDisposition, A._approve_disposition),
    "return_disposition": (c.ReturnWithReason, A._return_disposition),
    "send_inquiry_letter": (c.SendInquiryLetter, A._send_inquiry_letter),
    "record_inquiry_reply": (c.RecordInquiryReply, A._record_inquiry_reply),
    "evaluate_inquiry_reply": (c.EvaluateInquiryReply, A._evaluate_inquiry_reply),
    "record_finding": (c.RecordFinding, A._record_finding),
    "review_parked": (c.ReviewParked, A._review_parked),
    "reactivate": (c.NewEvidence, A._reactivate),
    "propose_conclusion": (c.ProposeConclusion, A._propose_conclusion),
    "approve_conclusion": (c.DatedApproval, A._approve_conclusion),
    "return_conclusion": (c.ReturnWithReason, A._return_conclusion),
    "decide_handling": (c.DecideHandling, A._decide_handling),
    "record_admonition_follow_up": (c.AdmonitionFollowUp, A._record_admonition_follow_up),
    "propose_clearing": (c.ProposeClearing, A._propose_clearing),
    "apply_for_clearing": (c.ProposeClearing, A._apply_for_clearing),
    "approve_clearing": (c.ApproveClearing, A._approve_clearing),
    "carry_out_clearing": (c.CarryOutClearing, A._carry_out_clearing),
    "suspect_false_accusation": (c.SuspectFalseAccusation, A._suspect_false_accusation),
    "refer_subject": (c.ReferSubject, A._refer_subject),
    "close": (c.Close, A._close),
    "give_feedback": (c.GiveFeedback, A._give_feedback),
    "record_objection": (c.RecordObjection, A._record_objection),
    "answer_objection": (c.AnswerObjection, A._answer_objection),
    "reopen": (c.NewEvidence, A._reopen),
    "hold_for_publicity": (c.HoldForPublicity, A._hold_for_publicity),
    "decide_publicity": (c.DecidePublicity, A._decide_publicity),
    "record_discipline_result": (c.RecordDisciplineResult, A._record_discipline_result),
}


CONFLICT_ATTEMPTS = 3


def _accepted(envelope: EventEnvelope) -> ReportAcceptedV1 | None:
    """The acceptance this envelope carries (the one intake event casework acts on)."""
    if envelope.source != "intake" or envelope.event_type != "ReportAccepted":
        return None
    accepted = parse_payload(envelope)
    assert isinstance(accepted, ReportAcceptedV1)
    return accepted


class _Batch:
    """What one batch of upstream events causes, and the cases it touched: a report accepted
    into a case opened earlier in the same batch (并案) joins that case, not a second one."""

    def __init__(self, app: CaseworkApplication) -> None:
        self.app = app
        self.processing = ProcessingEvent[UUID]()
        self.cases: dict[UUID, Case | None] = {}

    def load(self, case_ids: list[UUID]) -> None:
        """The batch's cases, read at once (one query): the ones with no event are new, the
        others are rebuilt from their events as ``repository.get`` would from the log (a
        snapshot only shortens that; every event is kept)."""
        recorder = self.app.recorder
        if not isinstance(recorder, BatchPostgresProcessRecorder | BatchSQLiteProcessRecorder):
            return  # each case then from the repository, as it is first met
        events: dict[UUID, list[Any]] = {case_id: [] for case_id in case_ids}
        for stored in recorder.events_of(case_ids):
            event = self.app.mapper.to_domain_event(stored)
            events[event.originator_id].append(event)
        for case_id, history in events.items():
            case = project_aggregate(None, history) if history else None
            if case is None or isinstance(case, Case):
                self.cases[case_id] = case

    def case(self, case_id: UUID) -> Case | None:
        if case_id not in self.cases:
            self.cases[case_id] = self.app._find(case_id)
        return self.cases[case_id]

    def collect(self, case: Case) -> None:
        self.cases[case.id] = case
        self.processing.collect_events(case)
