"""The featured reports' cases (``featured.py`` holds the reports; the ``tag`` links them):
one story each, on dates that make the views worth looking at from the demo's today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from schemas import commands as c
from schemas.glossary import (
    AccuserStatus,
    AdmonitionOutcome,
    ClearingMethod,
    Disposition,
    DocumentKind,
    FindingKind,
    HandlingType,
    InquiryOutcome,
    PublicityDecision,
    Verdict,
)
from services.calendar.deadlines import add_calendar_months
from services.demo.steps import HANDLER, HANDLER2, LEADER, OPERATOR, workday_on_or_after
from services.demo.stories.plot import Plot, cadre_ref

D = dt.date
V = Verdict


def _dismissal(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER)
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.finding(FindingKind.INTERVIEW)
    p.finding(FindingKind.DOCUMENT)
    p.finding(FindingKind.INTERVIEW)
    p.conclude(V.TRUE)
    p.handle(HandlingType.DISMISSAL, on=D(2025, 10, 30))
    p.close(on=D(2025, 11, 7))
    p.feedback(on=D(2025, 11, 20), text="您反映的问题经核查属实，已对当事人作出免职处理。")


def _cleared(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER2)
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.finding(FindingKind.DOCUMENT)
    p.finding(FindingKind.INTERVIEW)
    p.conclude(V.UNTRUE)
    p.clearing(method=ClearingMethod.PARTY_COMMITTEE_NOTICE)
    p.close()


def _admonition_improved(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER)
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.finding(FindingKind.INTERVIEW)
    p.conclude(V.PARTLY_TRUE)
    handling = p.handle(HandlingType.ADMONITION, on=D(2025, 8, 20))
    p.close(on=D(2025, 9, 1))
    p.follow_up(handling, AdmonitionOutcome.IMPROVED, D(2026, 2, 24))


def _clearing_applied(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER2)
    p.dispose(Disposition.TALK_INQUIRY)
    p.inquiry(InquiryOutcome.CLARIFIED)
    p.conclude(V.UNTRUE)
    p.close()
    p.wait(20, 30)
    p.clearing(applied=True, method=ClearingMethod.LETTER)


def _clearing_awaiting_approval(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER)
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.finding(FindingKind.DOCUMENT)
    p.at(D(2026, 10, 26))
    p.conclude(V.UNTRUE)
    p.at(D(2026, 11, 20))
    p.do(
        "propose_clearing",
        p.handler,
        c.ProposeClearing(
            cadre=cadre_ref(p.subject), reason="反映问题经核实不属实，拟在一定范围内澄清正名"
        ),
    )


def _admonition_escalated(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER2)
    p.dispose(Disposition.TALK_INQUIRY)
    p.inquiry(InquiryOutcome.ESCALATED)
    p.finding(FindingKind.INTERVIEW)
    p.finding(FindingKind.DOCUMENT)
    p.conclude(V.TRUE)
    handling = p.handle(HandlingType.ADMONITION, on=D(2026, 1, 20))
    p.follow_up(handling, AdmonitionOutcome.ESCALATED, D(2026, 7, 21))
    p.handle(HandlingType.DEMOTION, on=D(2026, 7, 30), escalation_of=handling)
    p.close(on=D(2026, 8, 7))
    p.feedback(on=D(2026, 8, 19), text="您反映的问题经核查属实，已依规对当事人作出组织处理。")


def _admonition_follow_up_overdue(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER)
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.finding(FindingKind.DOCUMENT)
    p.conclude(V.PARTLY_TRUE)
    p.handle(HandlingType.ADMONITION, on=D(2026, 4, 22))
    p.close(on=D(2026, 5, 8))  # the follow-up (due 2026-10-22) was never recorded


def _false_accusation(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER)
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.finding(FindingKind.INTERVIEW)
    p.finding(FindingKind.DOCUMENT)
    p.conclude(V.UNTRUE)
    p.wait(3, 6)
    p.do(
        "suspect_false_accusation",
        LEADER,
        c.SuspectFalseAccusation(
            accuser=c.Accuser(name="孙某某", unit="某县某乡镇", position="村民（中共党员）"),
            accuser_status=AccuserStatus.PARTY_MEMBER,
            reason="举报人捏造事实、伪造材料，涉嫌诬告陷害，依规移送处理",
        ),
    )
    p.clearing(method=ClearingMethod.SCOPED_NOTICE)
    p.close()
    p.feedback(text="经核查，您反映的问题不属实。")


def false_accusation_case(p: Plot) -> None:
    """The linked 诬告陷害 case, opened by casework on the day it was suspected."""
    p.wait(1, 3)
    p.assign(HANDLER2, reason="诬告陷害线索，由李娜承办")
    p.wait(2, 5)
    p.propose(Disposition.TRANSFER_TO_DISCIPLINE, "举报人系中共党员，涉嫌诬告陷害，移送纪委监委")
    p.wait(2, 6)
    p.approve(Disposition.TRANSFER_TO_DISCIPLINE)


def _objection_answered(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER2)
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.finding(FindingKind.DOCUMENT)
    p.conclude(V.UNPROVEN)
    p.close()
    p.feedback(text="您反映的问题经核查，现有证据无法查实。")
    p.wait(5, 12)
    p.do(
        "record_objection",
        OPERATOR,
        c.RecordObjection(received_on=p.day, reason="举报人对核查结论有异议，未提供新的证据"),
    )
    p.wait(5, 12)
    p.do(
        "answer_objection",
        LEADER,
        c.AnswerObjection(answered_on=p.day, text="经复核，原核查程序规范、结论恰当，维持原结论。"),
    )


def _objection_reopened(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER)
    p.dispose(Disposition.TALK_INQUIRY)
    p.inquiry(InquiryOutcome.CLARIFIED)
    p.conclude(V.UNPROVEN)
    p.close()
    p.feedback(text="您反映的问题经核查，现有证据无法查实。")
    p.wait(10, 20)
    p.do(
        "record_objection",
        OPERATOR,
        c.RecordObjection(received_on=p.day, reason="举报人提出异议并提供了会议签到表复印件"),
    )
    p.wait(5, 10)
    p.do(
        "answer_objection",
        LEADER,
        c.AnswerObjection(answered_on=p.day, text="举报人提供了新的证据，决定复查。"),
    )
    p.wait(1, 3)
    p.do(
        "reopen",
        LEADER,
        c.NewEvidence(new_evidence="举报人提供的会议签到表与会议记录不一致", on=p.day),
    )
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.finding(FindingKind.DOCUMENT)
    p.finding(FindingKind.INTERVIEW)
    p.conclude(V.PARTLY_TRUE)
    p.handle(HandlingType.CRITICISM)
    p.close()
    p.feedback(text="经复查，您反映的问题部分属实，已对当事人批评教育。")


def _parked_reactivated(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER2)
    p.dispose(Disposition.PARK)
    parked_on = p.day
    p.at(workday_on_or_after(add_calendar_months(parked_on, 3)))
    p.do(
        "review_parked",
        p.handler,
        c.ReviewParked(reason="定期复查：暂无新的线索，继续暂存", reviewed_on=p.day),
    )
    p.wait(40, 60)
    p.do(
        "reactivate",
        p.handler,
        c.NewEvidence(new_evidence="县审计局移送的审计发现印证了原反映内容", on=p.day),
    )
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.finding(FindingKind.AUDIT)
    p.finding(FindingKind.INTERVIEW)
    p.conclude(V.TRUE)
    p.handle(HandlingType.REASSIGNMENT)
    p.close()


def _parked_review_overdue(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER)
    p.dispose(Disposition.PARK)  # review due three months on; never reviewed


def _parked_reviewed(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER)
    p.dispose(Disposition.PARK)
    for _ in range(2):
        p.at(workday_on_or_after(add_calendar_months(p.day, 3)))
        p.do(
            "review_parked",
            p.handler,
            c.ReviewParked(reason="定期复查：暂无新的线索，继续暂存", reviewed_on=p.day),
        )


def _publicity_appointed(p: Plot) -> None:
    p.hold_for_publicity("青山县人力资源和社会保障局党组书记、局长", p.day + dt.timedelta(days=4))
    p.wait(1, 2)
    p.assign(HANDLER)
    p.dispose(Disposition.TALK_INQUIRY)
    p.inquiry(InquiryOutcome.CLARIFIED, reply_after=(5, 9))
    p.conclude(V.UNTRUE)
    p.wait(1, 3)
    p.decide_publicity(PublicityDecision.APPOINT, "反映问题经核实不属实，按程序任职")
    p.close()


def _publicity_appointed_with_reminder(p: Plot) -> None:
    p.hold_for_publicity("青山县青石镇党委书记", p.day + dt.timedelta(days=3))
    p.wait(1, 2)
    p.assign(HANDLER2)
    p.dispose(Disposition.TALK_INQUIRY)
    p.inquiry(InquiryOutcome.REMINDED, reply_after=(5, 9))
    p.conclude(V.PARTLY_TRUE)
    p.handle(HandlingType.REMINDER_TALK)
    p.wait(1, 3)
    p.decide_publicity(
        PublicityDecision.APPOINT_WITH_REMINDER, "存在苗头性问题，谈话提醒后按程序任职"
    )
    p.close()


def _publicity_not_appointed(p: Plot) -> None:
    p.hold_for_publicity("青山县自然资源局党组书记、局长", p.day + dt.timedelta(days=5))
    p.wait(1, 2)
    p.assign(HANDLER)
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.finding(FindingKind.DOCUMENT)
    p.finding(FindingKind.INTERVIEW)
    p.conclude(V.TRUE)
    p.wait(1, 3)
    p.decide_publicity(PublicityDecision.DO_NOT_APPOINT, "反映问题属实，不予任职")
    p.handle(HandlingType.REASSIGNMENT)
    p.close()


def _publicity_deferred(p: Plot) -> None:
    p.hold_for_publicity("青山县白沙镇党委书记", p.day + dt.timedelta(days=5))
    p.wait(1, 2)
    p.assign(HANDLER2)
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.at(D(2026, 10, 9))
    p.decide_publicity(PublicityDecision.DEFER, "核查尚未完成，暂缓任职", defer_months=2)
    p.finding(FindingKind.INTERVIEW)  # still under verification


def _publicity_on_hold(p: Plot) -> None:
    p.hold_for_publicity("青山县教育体育局党组书记、局长", D(2026, 11, 27))
    p.wait(1, 2)
    p.assign(HANDLER)


def _inquiry_reply_overdue(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER2)
    p.dispose(Disposition.TALK_INQUIRY)
    p.at(D(2026, 10, 20))  # reply due 2026-11-10, none received
    p.do(
        "send_inquiry_letter",
        p.handler,
        c.SendInquiryLetter(sent_on=p.day, form="letter", reason=f"向{p.who}发出函询通知"),
    )
    # Its 谈话函询通知书 (decision 0035), numbered and kept with the case.
    p.do(
        "issue_document",
        p.handler,
        c.IssueDocument(
            kind=DocumentKind.INQUIRY_NOTICE,
            about="inquiry",
            issued_on=p.day,
            reason="制发谈话函询通知书",
        ),
    )


def _inquiry_reply_due_soon(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER)
    p.dispose(Disposition.TALK_INQUIRY)
    p.at(D(2026, 11, 11))  # reply due 2026-12-02
    p.do(
        "send_inquiry_letter",
        p.handler,
        c.SendInquiryLetter(sent_on=p.day, form="talk", reason=f"约{p.who}谈话"),
    )


def _inquiry_reply_late(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER)
    p.dispose(Disposition.TALK_INQUIRY)
    p.inquiry(InquiryOutcome.CLARIFIED, reply_after=(28, 35))  # met late
    p.conclude(V.UNTRUE)
    p.close()


def _feedback_due_soon(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER2)
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.finding(FindingKind.INSPECTION)
    p.conclude(V.PARTLY_TRUE)
    p.handle(HandlingType.WRITTEN_SELF_EXAMINATION)
    p.close(on=D(2026, 11, 10))  # feedback due 2026-12-01


def _feedback_overdue(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER)
    p.dispose(Disposition.TALK_INQUIRY)
    p.inquiry(InquiryOutcome.CLARIFIED)
    p.conclude(V.UNPROVEN)
    p.close(on=D(2026, 10, 15))  # feedback was due 2026-11-05


def _disposition_returned(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER2)
    p.wait(2, 6)
    p.propose(Disposition.PARK)
    p.wait(2, 5)
    p.do(
        "return_disposition",
        LEADER,
        c.ReturnWithReason(reason="线索较为具体，应当开展初步核实"),
    )
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.finding(FindingKind.INTERVIEW)
    p.conclude(V.PARTLY_TRUE)
    p.handle(HandlingType.CRITICISM)
    p.close()


def _conclusion_returned(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER)
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.finding(FindingKind.DOCUMENT)
    p.propose_conclusion(V.UNPROVEN)
    p.wait(2, 5)
    p.do(
        "return_conclusion",
        LEADER,
        c.ReturnWithReason(reason="不动产登记信息尚未比对，请补充核实后再提出结论"),
    )
    p.finding(FindingKind.DOCUMENT)
    p.conclude(V.TRUE)
    p.handle(HandlingType.ADMONITION)
    p.close()


def _audit_finding(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER2)
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.finding(FindingKind.AUDIT)
    p.finding(FindingKind.INTERVIEW)
    p.conclude(V.PARTLY_TRUE)
    p.handle(HandlingType.ADMONITION, on=D(2026, 2, 10))
    p.close()
    p.follow_up(1, AdmonitionOutcome.IMPROVED, D(2026, 8, 12))


def _transferred_to_discipline(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER)
    p.dispose(Disposition.TRANSFER_TO_DISCIPLINE)


def _closed_by_disposition(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER2)
    p.dispose(Disposition.CLOSE)
    p.feedback(text="您反映的问题此前已经核查并有明确结论，本次未提供新的情况，予以了结。")


def _reassigned(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER)
    p.wait(3, 6)
    p.assign(HANDLER2, reason="原承办人参加巡察工作，改由李娜承办")
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.finding(FindingKind.INTERVIEW)


def _disposition_awaiting_approval(p: Plot) -> None:
    p.wait(1, 2)
    p.assign(HANDLER2)
    p.at(D(2026, 11, 25))
    p.propose(Disposition.PRELIMINARY_VERIFICATION)


def _conclusion_awaiting_approval(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER)
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.finding(FindingKind.INTERVIEW)
    p.finding(FindingKind.DOCUMENT)
    p.at(D(2026, 11, 12))
    p.propose_conclusion(V.PARTLY_TRUE)  # a few days on


def _unassigned(p: Plot) -> None:
    """Accepted by the intake policy on registration; nobody has assigned it yet."""


def _unproven(p: Plot) -> None:
    p.wait(1, 3)
    p.assign(HANDLER2)
    p.dispose(Disposition.PRELIMINARY_VERIFICATION)
    p.finding(FindingKind.INTERVIEW)
    p.conclude(V.UNPROVEN)
    p.close()


FEATURED_STORIES: dict[str, Callable[[Plot], None]] = {
    "dismissal": _dismissal,
    "cleared": _cleared,
    "admonition_improved": _admonition_improved,
    "clearing_applied": _clearing_applied,
    "clearing_awaiting_approval": _clearing_awaiting_approval,
    "admonition_escalated": _admonition_escalated,
    "admonition_follow_up_overdue": _admonition_follow_up_overdue,
    "false_accusation": _false_accusation,
    "objection_answered": _objection_answered,
    "objection_reopened": _objection_reopened,
    "parked_reactivated": _parked_reactivated,
    "parked_review_overdue": _parked_review_overdue,
    "parked_reviewed": _parked_reviewed,
    "publicity_appointed": _publicity_appointed,
    "publicity_appointed_with_reminder": _publicity_appointed_with_reminder,
    "publicity_not_appointed": _publicity_not_appointed,
    "publicity_deferred": _publicity_deferred,
    "publicity_on_hold": _publicity_on_hold,
    "inquiry_reply_overdue": _inquiry_reply_overdue,
    "inquiry_reply_due_soon": _inquiry_reply_due_soon,
    "inquiry_reply_late": _inquiry_reply_late,
    "feedback_due_soon": _feedback_due_soon,
    "feedback_overdue": _feedback_overdue,
    "disposition_returned": _disposition_returned,
    "conclusion_returned": _conclusion_returned,
    "audit_finding": _audit_finding,
    "transferred_to_discipline": _transferred_to_discipline,
    "closed_by_disposition": _closed_by_disposition,
    "reassigned": _reassigned,
    "disposition_awaiting_approval": _disposition_awaiting_approval,
    "conclusion_awaiting_approval": _conclusion_awaiting_approval,
    "unproven": _unproven,
    "unassigned": _unassigned,
}
