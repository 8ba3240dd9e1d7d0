"""Triage (分流) of registered reports: each command's handler, and the ``TRIAGE_COMMANDS``
table naming them (the actions the HTTP layer, the pages and the demo run through
``IntakeApplication.triage``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from schemas import commands as c
from schemas.events import Actor
from schemas.glossary import CaseState, MemberUnit, ReportStatus, SettlementPath
from services.calendar.deadlines import add_calendar_months
from services.intake.base import ConcurrentTriage, IntakeBase, StatedDayRefused
from services.intake.domain import IntakeRuleBroken, Report, case_id_for_report

# A report joins a case up to the point its conclusion is proposed (finding 1 of the review):
# later it would be concluded on by nobody. Casework copes with a join arriving later anyway
# (this check reads a read model that may lag): Case.join_report.
JOINABLE_STATES = frozenset(CaseState) - {
    CaseState.CONCLUSION_PROPOSED,
    CaseState.CONCLUDED,
    CaseState.CLOSED,
    CaseState.TRANSFERRED,
}


class Triage(IntakeBase):
    """The triage commands of the intake application."""

    def triage(self, report_id: UUID, action: str, command: c.Command, actor: Actor) -> Report:
        """Run one triage command on a report; a concurrent change is refused, not overwritten."""
        report = self.get_report(report_id)
        if command.expected_version is not None and command.expected_version != report.version:
            raise ConcurrentTriage(report_id)
        self.check_stated_days(report, command)
        TRIAGE_COMMANDS[action][1](self, report, command, actor.model_dump(mode="json"))
        try:
            self.save(report)
        except IntegrityError:
            raise ConcurrentTriage(report_id) from None
        return report

    def _accept(self, report: Report, cmd: c.Accept, actor: dict[str, str]) -> None:
        on = cmd.accepted_on or self._today()
        if cmd.join_case_id is not None:
            self._require_joinable(cmd.join_case_id)
            report.accept(cmd.join_case_id, actor, cmd.reason, accepted_on=on, joins_case=True)
        else:
            report.accept(case_id_for_report(report.id), actor, cmd.reason, accepted_on=on)

    def _require_joinable(self, case_id: UUID) -> None:
        """并案 joins an open case only, before its conclusion is proposed: an unknown one, or
        one whose conclusion is proposed or approved, closed or transferred, is refused."""
        if self.case_states is None:
            raise IntakeRuleBroken(
                "joining a case needs casework's word on it, and none is configured here",
                "无法查询案件状态，不能并案",
            )
        state = self.case_states(case_id)
        if state is None:
            raise IntakeRuleBroken(
                f"there is no case {case_id} to join (or casework has not opened it yet); "
                "accept the report as a new case or name an open case",
                f"案件 {case_id} 不存在（或尚未立件），不能并案",
            )
        if state not in JOINABLE_STATES:
            raise IntakeRuleBroken(
                f"case {case_id} is {state.value}: a report joins an open case only, before "
                "its conclusion is proposed; accept it as a new case (or reopen the case first)",
                f"案件 {case_id} 当前状态为“{state.zh}”，只能并入尚未提出核查结论的案件",
            )

    def _mark_repeat(self, report: Report, cmd: c.MarkRepeat, actor: dict[str, str]) -> None:
        if cmd.of_report_id == report.id:
            raise IntakeRuleBroken(
                "a report cannot be a repeat of itself: name the earlier report it repeats",
                "举报件不能标记为自身的重复件，须指明所重复的其他举报件",
            )
        original = self.get_report(cmd.of_report_id)
        report.triage_to(
            ReportStatus.REPEAT,
            actor,
            cmd.reason,
            of_report_id=str(original.id),
            of_ledger_number=original.ledger_number,
            of_case_id=str(original.case_id) if original.case_id else None,
        )

    def _forward_up(self, report: Report, cmd: c.ForwardUp, actor: dict[str, str]) -> None:
        on = cmd.forwarded_on or self._today()
        due = self.due_in_working_days(report.received_on, self.limits.forward_up)
        report.triage_to(
            ReportStatus.FORWARDED_UP,
            actor,
            cmd.reason,
            to_authority=cmd.to_authority,
            forwarded_on=on.isoformat(),
            due=due["due"].isoformat(),
            provisional=due["provisional"],
            late=on > due["due"],
        )

    def _transfer_down(self, report: Report, cmd: c.TransferDown, actor: dict[str, str]) -> None:
        on = cmd.transferred_on or self._today()
        due = self.due_in_working_days(on, self.limits.transfer_down_acceptance)
        back = self.due_in_working_days(on, self.limits.transfer_down_report_back)
        report.triage_to(
            ReportStatus.TRANSFERRED_DOWN,
            actor,
            cmd.reason,
            to_unit=cmd.to_unit,
            transferred_on=on.isoformat(),
            acceptance_due=due["due"].isoformat(),
            provisional=due["provisional"],
            report_back_due=back["due"].isoformat(),
            report_back_provisional=back["provisional"],
        )

    def _acknowledge_transfer(
        self, report: Report, cmd: c.AcknowledgeTransfer, actor: dict[str, str]
    ) -> None:
        on = cmd.acknowledged_on or self._today()
        report.triage_to(
            ReportStatus.TRANSFER_ACKNOWLEDGED,
            actor,
            cmd.reason,
            acknowledged_on=on.isoformat(),
            **_report_back(report),
        )

    def _refer_out(self, report: Report, cmd: c.ReferOut, actor: dict[str, str]) -> None:
        on = cmd.referred_on or self._today()
        back = add_calendar_months(on, self.limits.referral_report_back_months)
        report.triage_to(
            ReportStatus.REFERRED_OUT,
            actor,
            cmd.reason,
            member_unit=cmd.member_unit.value,
            referred_on=on.isoformat(),
            report_back_due=back.isoformat(),
        )

    def receiver_result(
        self, path: SettlementPath, receiver: str, cmd: c.ReceiverResult, summary: str = ""
    ) -> dict[str, Any]:
        """The receiver's result as recorded: each handling with its effects from the same
        effects table the office's own handlings use (``Config.effects``)."""
        effects = self.config.effects()
        reported_on = cmd.reported_on or self._today()
        for i, o in enumerate(cmd.outcomes):
            if o.decided_on is not None and o.decided_on > reported_on:
                raise StatedDayRefused(
                    f"outcomes.{i}.decided_on",
                    f"{o.decided_on} is after the day the result was reported ({reported_on})",
                    f"{o.decided_on} 晚于反馈办理结果的日期（{reported_on}）",
                )
        outcomes = [
            {
                "cadre": o.cadre.model_dump(exclude_none=True),
                "verdict": o.verdict.value,
                "handling": o.handling.value if o.handling else None,
                "effects": effects[o.handling].model_dump(mode="json") if o.handling else {},
                "sanction": o.sanction.model_dump(mode="json") if o.sanction else None,
                "decided_on": (o.decided_on or reported_on).isoformat(),
            }
            for o in cmd.outcomes
        ]
        return {
            "path": path.value,
            "receiver": receiver,
            "outcomes": outcomes,
            "reported_on": reported_on.isoformat(),
            "document_number": cmd.document_number,
            "summary": summary,
        }

    def _record_referral_result(
        self, report: Report, cmd: c.RecordReferralResult, actor: dict[str, str]
    ) -> None:
        unit = report.triage.get("member_unit", "")
        receiver = MemberUnit(unit).zh if unit in MemberUnit.labels() else unit
        result = self.receiver_result(SettlementPath.REFERRAL, receiver, cmd, cmd.result)
        report.settle(
            ReportStatus.REFERRAL_CONCLUDED,
            actor,
            cmd.reason,
            result,
            result=cmd.result,
            reported_on=result["reported_on"],
            **_report_back(report),
        )

    def _record_transfer_result(
        self, report: Report, cmd: c.RecordTransferResult, actor: dict[str, str]
    ) -> None:
        receiver = str(report.triage.get("to_unit", ""))
        result = self.receiver_result(SettlementPath.TRANSFER_DOWN, receiver, cmd)
        report.settle(
            ReportStatus.TRANSFER_CONCLUDED,
            actor,
            cmd.reason,
            result,
            reported_on=result["reported_on"],
            **_report_back(report),
        )

    def _propose_return(
        self, report: Report, cmd: c.ReturnWithReason, actor: dict[str, str]
    ) -> None:
        report.triage_to(ReportStatus.RETURN_PROPOSED, actor, cmd.reason)

    def _approve_return(self, report: Report, cmd: c.Approve, actor: dict[str, str]) -> None:
        report.triage_to(ReportStatus.RETURNED, actor, cmd.reason)

    def _reject_return(
        self, report: Report, cmd: c.ReturnWithReason, actor: dict[str, str]
    ) -> None:
        report.reject_return(actor, cmd.reason)

    def _verify_identity(
        self, report: Report, cmd: c.VerifyIdentity, actor: dict[str, str]
    ) -> None:
        report.verify_identity(cmd.method.value, cmd.verified_on or self._today(), actor)

    def _send_acceptance_notice(
        self, report: Report, cmd: c.SendAcceptanceNotice, actor: dict[str, str]
    ) -> None:
        report.send_acceptance_notice(cmd.sent_on or self._today(), actor)

    def _identify_subject(
        self, report: Report, cmd: c.IdentifySubject, actor: dict[str, str]
    ) -> None:
        report.identify_subject(
            cmd.subject_index,
            actor,
            cmd.reason,
            cadre_id=cmd.cadre_id,
            same_as_candidate=cmd.same_as_candidate,
        )


def _report_back(report: Report) -> dict[str, Any]:
    """The report-back deadline, repeated by the steps after the transfer or referral, so
    that a reader of any one step (the archive keeps the latest) knows when it is due."""
    return {k: report.triage[k] for k in ("report_back_due",) if k in report.triage}


TriageHandler = Callable[[Triage, Report, Any, dict[str, str]], None]
I = Triage  # noqa: E741

TRIAGE_COMMANDS: dict[str, tuple[type[c.Command], TriageHandler]] = {
    "accept": (c.Accept, I._accept),
    "mark_repeat": (c.MarkRepeat, I._mark_repeat),
    "forward_up": (c.ForwardUp, I._forward_up),
    "transfer_down": (c.TransferDown, I._transfer_down),
    "acknowledge_transfer": (c.AcknowledgeTransfer, I._acknowledge_transfer),
    "refer_out": (c.ReferOut, I._refer_out),
    "record_referral_result": (c.RecordReferralResult, I._record_referral_result),
    "record_transfer_result": (c.RecordTransferResult, I._record_transfer_result),
    "propose_return": (c.ReturnWithReason, I._propose_return),
    "approve_return": (c.Approve, I._approve_return),
    "reject_return": (c.ReturnWithReason, I._reject_return),
    "verify_identity": (c.VerifyIdentity, I._verify_identity),
    "send_acceptance_notice": (c.SendAcceptanceNotice, I._send_acceptance_notice),
    "identify_subject": (c.IdentifySubject, I._identify_subject),
}
