"""The casework commands: each handler turns a validated request into a domain command
(computing its deadlines), and the ``COMMANDS`` table names them: the actions the HTTP
layer, the pages and the demo run through ``CaseworkApplication.execute``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from schemas import commands as c
from schemas.glossary import AccuserStatus, CaseKind, Disposition, Role
from services.calendar.deadlines import add_calendar_months
from services.casework import rules
from services.casework.base import CaseworkBase
from services.casework.domain import Actor, Case, subject_key
from services.casework.rules import InvalidInput, NotAHandler, UnknownAccuser

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


def false_accusation_case_id(case_id: UUID, cadre: dict[str, Any] | None = None) -> UUID:
    """The linked case's id: one per falsely accused cadre (``None``: the older, per-case id)."""
    if cadre is None:
        return uuid5(NAMESPACE, f"false-accusation-of:{case_id}")
    return uuid5(NAMESPACE, f"false-accusation-of:{case_id}:{subject_key(cadre)}")


class CaseCommands(CaseworkBase):
    """The command handlers of the casework application."""

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
            held_on_selections=self.held_on_selections(case),
        )
        return []

    def _issue_document(self, case: Case, cmd: c.IssueDocument, actor: Actor) -> list[Any]:
        """Issue the official document of a step (decision 0035): numbered in its register,
        saved with the case; asked again for the same step, the same document (nothing new)."""
        case.may_issue(actor)
        if case.document_of(cmd.kind, cmd.about) is not None:
            return []
        step = case.document_step(cmd.kind, cmd.about)
        today = self.today()
        issued_on = cmd.issued_on or today
        if issued_on > today:
            raise StatedDayInvalid(
                "issued_on",
                f"{issued_on} is in the future (today is {today})",
                f"{issued_on} 晚于今天（{today}）",
            )
        register, common, version = self.number_document(cmd.kind, case.id, cmd.about, issued_on)
        case.issue_document(
            cmd.kind,
            cmd.about,
            number=common["number"],
            issued_on=issued_on,
            template_version=version,
            fields={**common, **step},
            actor=actor,
            reason=cmd.reason,
        )
        return [register]

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


Handler = Callable[[CaseCommands, Case, Any, Actor], list[Any]]
A = CaseCommands

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
    "issue_document": (c.IssueDocument, A._issue_document),
}
# Retried when a concurrent save refuses them (and the caller stated no version): a
# document's number is taken from a register another issue may have just saved.
RETRIED_ON_CONFLICT = frozenset({"issue_document"})
