"""The demo's procedure: every report triaged, every case taken along a path, for real.

Planning is pure and deterministic (a fixed seed and the demo's own today, 2026-11-30):
each report gets a fate (triage) and each case a *story*, a list of steps with business
dates (``decided_on``, ``sent_on`` … as the commands accept them). Steps dated after
``DEMO_TODAY`` are not taken, so recent reports and cases stand at every stage and the
queues (untriaged, mine, due soon, overdue, awaiting approval) all hold something.

Execution runs each story through intake's triage and casework's commands as the demo
accounts (``operator``, ``handler``, ``handler2``, ``leader``). Events are recorded now;
the business dates are the ones in the commands. Casework computes a few deadlines from
its ``today`` (a parked case's review, feedback after 予以了结): while a step runs, that
is the step's date.

Seeding again adds nothing: a story resumes where its aggregate's own events say it
stands (the stored events are the only record of progress, so a crash between two steps
loses nothing). A story whose aggregate has meanwhile been taken elsewhere (someone
worked on a demo case) no longer matches its events and is left alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from schemas import commands as c
from schemas.events import Actor
from schemas.glossary import (
    AccuserStatus,
    AdmonitionOutcome,
    Category,
    Channel,
    ClearingMethod,
    Disposition,
    FindingKind,
    HandlingType,
    IdentityCheck,
    InquiryOutcome,
    MemberUnit,
    PublicityDecision,
    ReferralSource,
    Role,
    Verdict,
)
from schemas.submissions import ReportedCadre
from services.calendar.deadlines import WorkingDayCalendar, add_calendar_months
from services.casework.application import (
    COMMANDS,
    CaseworkApplication,
    false_accusation_case_id,
)
from services.common.procedure import ProcedureError
from services.intake.application import TRIAGE_COMMANDS, IntakeApplication, IntakePolicy
from services.intake.domain import case_id_for_report, report_id_for_idempotency_key

if TYPE_CHECKING:
    from schemas.views import CadreRecord
    from services.bootstrap import EmbeddedSystem
    from services.demo import DemoReport

log = logging.getLogger(__name__)

DEMO_TODAY = dt.date(2026, 11, 30)  # the demo's today (a Monday): nothing later is done
CALENDAR = WorkingDayCalendar()  # plausible working days for the business dates

# The demo accounts (services/accounts/demo.py) that act in the stories.
OPERATOR, HANDLER, HANDLER2, LEADER = "operator", "handler", "handler2", "leader"
ROLES: dict[str, Role] = {
    OPERATOR: Role.OPERATOR,
    HANDLER: Role.HANDLER,
    HANDLER2: Role.HANDLER,
    LEADER: Role.LEADER,
}
HANDLER_NAMES = {HANDLER: "张强", HANDLER2: "李娜"}

UPPER_AUTHORITY = "市委组织部干部监督科（市12380举报受理中心）"
STUDY_PARTICIPANTS = (
    ["县委组织部部长孟庆华", "常务副部长许文涛", "副部长林海", "干部监督科科长刘建华"],
    ["常务副部长许文涛", "副部长林海", "干部监督科科长刘建华", "干部科科长周敏"],
)
MEETINGS = ("部务会", "干部监督工作专题会议", "部长办公会")


# -- steps and stories -------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    on: dt.date
    action: str
    actor: str
    command: c.Command


@dataclass
class Story:
    """The steps one aggregate (a report or a case) goes through, oldest first."""

    kind: Literal["report", "case"]
    key: str  # the report's Idempotency-Key; "<key>#WG" for a linked false-accusation case
    target: UUID
    path: str
    steps: list[Step] = field(default_factory=list)
    phase: int = 0  # reports: joins run after every other triage; cases: linked ones last

    def due(self, today: dt.date = DEMO_TODAY) -> list[Step]:
        return [step for step in self.steps if step.on <= today]


# The event each command records, to read a story's progress from the aggregate's events.
CASE_EVENTS: dict[str, str] = {
    "assign": "HandlerAssigned",
    "propose_disposition": "DispositionProposed",
    "approve_disposition": "DispositionApproved",
    "return_disposition": "DispositionReturned",
    "send_inquiry_letter": "InquiryLetterSent",
    "record_inquiry_reply": "InquiryReplyReceived",
    "evaluate_inquiry_reply": "InquiryReplyEvaluated",
    "record_finding": "FindingRecorded",
    "review_parked": "ParkedCaseReviewed",
    "reactivate": "Reactivated",
    "propose_conclusion": "ConclusionProposed",
    "approve_conclusion": "ConclusionApproved",
    "return_conclusion": "ConclusionReturned",
    "decide_handling": "HandlingDecided",
    "record_admonition_follow_up": "AdmonitionFollowedUp",
    "propose_clearing": "ClearingProposed",
    "apply_for_clearing": "ClearingProposed",
    "approve_clearing": "ClearingApproved",
    "carry_out_clearing": "ClearingCarriedOut",
    "suspect_false_accusation": "FalseAccusationSuspected",
    "close": "Closed",
    "give_feedback": "FeedbackGiven",
    "record_objection": "ObjectionRecorded",
    "answer_objection": "ObjectionAnswered",
    "reopen": "Reopened",
    "hold_for_publicity": "PublicityHeld",
    "decide_publicity": "PublicityDecided",
}
REPORT_EVENTS: dict[str, str] = {
    "accept": "Accepted",
    "mark_repeat": "Triaged:repeat",
    "forward_up": "Triaged:forwarded_up",
    "transfer_down": "Triaged:transferred_down",
    "acknowledge_transfer": "Triaged:transfer_acknowledged",
    "refer_out": "Triaged:referred_out",
    "record_referral_result": "Triaged:referral_concluded",
    "propose_return": "Triaged:return_proposed",
    "approve_return": "Triaged:returned",
    "reject_return": "Triaged:registered",
    "verify_identity": "IdentityVerified",
    "send_acceptance_notice": "AcceptanceNoticeSent",
    "identify_subject": "SubjectIdentified",
}


def workday_on_or_after(day: dt.date) -> dt.date:
    while not CALENDAR.is_workday(day):
        day += dt.timedelta(days=1)
    return day


def report_subject(subject: ReportedCadre) -> dict[str, str]:
    """How the case knows a reported cadre (its name and unit)."""
    return {"name": subject.name, "unit": subject.unit}


def cadre_ref(subject: ReportedCadre) -> c.CadreRef:
    if subject.cadre_id:
        return c.CadreRef(cadre_id=subject.cadre_id)
    return c.CadreRef(name=subject.name, unit=subject.unit)


def verdicts_for(
    overall: Verdict, categories: Sequence[str], rng: random.Random
) -> dict[Category, Verdict]:
    """One verdict per allegation, whose combination is ``overall`` (domain.overall_verdict)."""
    cats = [Category(cat) for cat in categories]
    if overall in (Verdict.TRUE, Verdict.UNTRUE):
        return dict.fromkeys(cats, overall)
    rest: tuple[Verdict, ...] = (
        (Verdict.TRUE, Verdict.PARTLY_TRUE, Verdict.UNTRUE, Verdict.UNPROVEN)
        if overall is Verdict.PARTLY_TRUE
        else (Verdict.UNPROVEN, Verdict.UNTRUE)
    )
    return {cat: overall if i == 0 else rng.choice(rest) for i, cat in enumerate(cats)}


# -- one case's plot ---------------------------------------------------------------------------


CONCLUSION_REASONS = {
    Verdict.TRUE: "经核实，反映的问题属实，事实清楚、证据确凿",
    Verdict.PARTLY_TRUE: "经核实，反映的问题部分属实，其余问题查无实据",
    Verdict.UNTRUE: "经核实，反映的问题不属实，相关材料和谈话均可印证",
    Verdict.UNPROVEN: "经核实，现有材料无法证实也无法排除反映的问题，作无法查实处理",
}
FINDINGS: dict[FindingKind, tuple[str, ...]] = {
    FindingKind.INTERVIEW: (
        "与{who}本人谈话，并与所在单位班子成员及相关干部{n}人个别谈话，了解有关情况。",
        "找{who}所在单位知情干部{n}人谈话核实，相关说法基本一致。",
    ),
    FindingKind.DOCUMENT: (
        "调阅{unit}近三年干部选拔任用纪实材料、党组（党委）会议记录及干部人事档案。",
        "查阅{who}个人有关事项报告及不动产登记、市场主体登记等比对信息。",
    ),
    FindingKind.INSPECTION: (
        "赴{unit}实地了解有关工作开展情况，查看相关台账。",
        "到反映问题涉及的项目现场和单位实地核查。",
    ),
    FindingKind.AUDIT: (
        "县审计局经济责任审计报告指出：{unit}存在超职数配备、未经集体研究调整干部等问题。",
        "调取审计工作底稿，核对审计发现的{unit}干部调整和津补贴发放问题。",
    ),
}
CLEARING_CORRECTIONS = (
    "撤销因该反映而暂缓的提拔考察意见",
    "在该同志所在单位领导班子会议上说明核查结论",
)


class Plot:
    """Builds one case's story step by step, keeping the business day."""

    def __init__(
        self,
        story: Story,
        rng: random.Random,
        *,
        received: dt.date,
        subject: ReportedCadre,
        categories: Sequence[str],
        real_name: bool,
        verdict_rng: random.Random,
        co_subjects: Sequence[ReportedCadre] = (),
        alleged: Sequence[tuple[ReportedCadre, Sequence[str]]] = (),
    ) -> None:
        self.story = story
        # Further cadres the report names (知情并参与): found as the first one is.
        self.co_subjects = list(co_subjects)
        # Each cadre of the case with the allegations made against them (joined reports too):
        # a conclusion gives a verdict on each of these pairs.
        self.alleged = [(s, list(cats)) for s, cats in alleged] or [
            (s, list(categories)) for s in (subject, *co_subjects)
        ]
        self.rng = rng
        self.day = received
        self.subject = subject
        self.who = subject.name
        self.unit = subject.unit
        self.categories = list(categories)
        self.real_name = real_name
        self.verdict_rng = verdict_rng
        self.handler = HANDLER
        self.handlings = 0
        self.follow_ups_open: list[int] = []
        self.open_until: dt.date | None = None  # when the case stops taking joined reports
        self.refs = Counter[str]()
        self.from_audit = False  # an audit's referral: verification starts from its findings

    # time

    def wait(self, low: int, high: int) -> dt.date:
        self.day = workday_on_or_after(self.day + dt.timedelta(days=self.rng.randint(low, high)))
        return self.day

    def at(self, day: dt.date) -> dt.date:
        if day < self.day:  # a featured story's fixed date before the random gaps ended
            raise ValueError(f"{self.story.path}: {day} comes before {self.day}")
        self.day = day
        return day

    def do(self, action: str, actor: str, command: c.Command) -> None:
        self.story.steps.append(Step(self.day, action, actor, command))

    def ref(self, prefix: str) -> str:
        self.refs[prefix] += 1
        return (
            f"{prefix}-{self.day.year}-{self.story.key.removeprefix('demo-')}-{self.refs[prefix]}"
        )

    def _stop_joins(self) -> None:
        if self.open_until is None:
            self.open_until = self.day

    # steps

    def assign(self, handler: str | None = None, reason: str = "") -> None:
        self.handler = handler or self.rng.choice((HANDLER, HANDLER2))
        self.do(
            "assign",
            LEADER,
            c.Assign(
                handler_id=self.handler,
                reason=reason or f"由{HANDLER_NAMES[self.handler]}承办，熟悉{self.unit}情况",
            ),
        )

    def propose(self, disposition: Disposition, reason: str = "") -> None:
        reasons = {
            Disposition.TALK_INQUIRY: "反映问题较为笼统，拟对本人进行函询",
            Disposition.PRELIMINARY_VERIFICATION: "反映问题具体、可查性强，拟开展初步核实",
            Disposition.PARK: "线索暂不具备核查条件，拟暂存待查",
            Disposition.CLOSE: "反映问题已有明确结论，无新的实质性内容，拟予以了结",
            Disposition.TRANSFER_TO_DISCIPLINE: "反映问题涉嫌违纪违法，拟移送县纪委监委",
        }
        self.do(
            "propose_disposition",
            self.handler,
            c.ProposeDisposition(disposition=disposition, reason=reason or reasons[disposition]),
        )

    def approve(self, disposition: Disposition) -> None:
        held_on = self.day
        self.do(
            "approve_disposition",
            LEADER,
            c.ApproveDisposition(
                reason=f"经集体研究，同意{disposition.zh}",
                collective_study=c.CollectiveStudy(
                    held_on=held_on,
                    meeting=self.rng.choice(MEETINGS),
                    participants=list(self.rng.choice(STUDY_PARTICIPANTS)),
                    decision_ref=f"青组监〔{held_on.year}〕{self.rng.randint(1, 90)}号",
                ),
            ),
        )
        if disposition in (Disposition.CLOSE, Disposition.TRANSFER_TO_DISCIPLINE, Disposition.PARK):
            self._stop_joins()  # finished, or parked: a further report is not joined to it

    def dispose(self, disposition: Disposition) -> None:
        self.wait(2, 8)
        self.propose(disposition)
        self.wait(3, 10)
        self.approve(disposition)

    def inquiry(self, outcome: InquiryOutcome, *, reply_after: tuple[int, int] = (7, 18)) -> None:
        self.wait(1, 5)
        form = self.rng.choice(("letter", "letter", "talk"))
        self.do(
            "send_inquiry_letter",
            self.handler,
            c.SendInquiryLetter(sent_on=self.day, form=form, reason=f"向{self.who}发出函询通知"),
        )
        self.reply_and_evaluate(outcome, reply_after)

    def reply_and_evaluate(self, outcome: InquiryOutcome, reply_after: tuple[int, int]) -> None:
        self.wait(*reply_after)
        self.do(
            "record_inquiry_reply",
            self.handler,
            c.RecordInquiryReply(received_on=self.day, document_ref=self.ref("HF")),
        )
        self.wait(2, 7)
        reasons = {
            InquiryOutcome.CLARIFIED: "本人对反映问题作了说明，经了解情况属实，予以采信",
            InquiryOutcome.REMINDED: "本人说明基本清楚，但存在苗头性问题，予以提醒教育",
            InquiryOutcome.ESCALATED: "本人说明与了解情况不符，需进一步初步核实",
        }
        self.do(
            "evaluate_inquiry_reply",
            self.handler,
            c.EvaluateInquiryReply(outcome=outcome, reason=reasons[outcome]),
        )

    def finding(self, kind: FindingKind | None = None) -> None:
        self.wait(6, 25)
        kind = kind or self.rng.choice(
            (
                FindingKind.INTERVIEW,
                FindingKind.INTERVIEW,
                FindingKind.DOCUMENT,
                FindingKind.INSPECTION,
            )
        )
        text = self.rng.choice(FINDINGS[kind]).format(
            who=self.who, unit=self.unit, n=self.rng.randint(3, 9)
        )
        prefix = {FindingKind.INTERVIEW: "TH", FindingKind.AUDIT: "SJ"}.get(kind, "CL")
        self.do(
            "record_finding",
            self.handler,
            c.RecordFinding(
                kind=kind, summary=text, evidence_refs=[self.ref(prefix)], found_on=self.day
            ),
        )

    def propose_conclusion(self, overall: Verdict) -> None:
        self.wait(4, 12)
        self._stop_joins()
        verdicts = verdicts_for(overall, self.categories, self.verdict_rng)
        if len(self.alleged) == 1:
            command = c.ProposeConclusion(verdicts=verdicts, reason=CONCLUSION_REASONS[overall])
        else:  # a verdict per cadre and allegation made against them: the same for each here
            command = c.ProposeConclusion(
                cadre_verdicts=[
                    c.CadreVerdict(
                        cadre=cadre_ref(s), category=cat, verdict=verdicts[Category(cat)]
                    )
                    for s, cats in self.alleged
                    for cat in cats
                ],
                reason=CONCLUSION_REASONS[overall],
            )
        self.do("propose_conclusion", self.handler, command)

    def conclude(self, overall: Verdict) -> None:
        self.propose_conclusion(overall)
        self.wait(2, 8)
        self.do("approve_conclusion", LEADER, c.DatedApproval(reason="同意核查结论"))

    def handle(
        self, handling: HandlingType, on: dt.date | None = None, escalation_of: int | None = None
    ) -> int:
        if on is None:
            self.wait(5, 20)
        else:
            self.at(on)
        self.do(
            "decide_handling",
            LEADER,
            c.DecideHandling(
                cadre=cadre_ref(self.subject),
                handling=handling,
                decided_on=self.day,
                escalation_of=escalation_of,
                reason=f"经部务会研究，决定对{self.who}予以{handling.zh}",
            ),
        )
        self.handlings += 1
        if handling is HandlingType.ADMONITION:
            self.follow_ups_open.append(self.handlings)
        return self.handlings

    def follow_up(self, handling_id: int, outcome: AdmonitionOutcome, on: dt.date) -> None:
        self.at(on)
        reason = (
            "限期改正期满，经了解已按要求整改到位"
            if outcome is AdmonitionOutcome.IMPROVED
            else "限期改正期满，拒不改正，加重处理：降职"
        )
        self.do(
            "record_admonition_follow_up",
            self.handler,
            c.AdmonitionFollowUp(
                handling_id=handling_id,
                outcome=outcome,
                followed_up_on=on,
                reason=reason,
                escalate_to=(
                    HandlingType.DEMOTION if outcome is AdmonitionOutcome.ESCALATED else None
                ),
            ),
        )
        self.follow_ups_open.remove(handling_id)

    def clearing(
        self, *, applied: bool = False, method: ClearingMethod | None = None, carry_out: bool = True
    ) -> None:
        self.wait(3, 12)
        if applied:
            self.do(
                "apply_for_clearing",
                OPERATOR,
                c.ProposeClearing(
                    cadre=cadre_ref(self.subject),
                    reason=f"{self.who}本人书面申请澄清正名",
                ),
            )
        else:
            self.do(
                "propose_clearing",
                self.handler,
                c.ProposeClearing(
                    cadre=cadre_ref(self.subject),
                    reason="反映问题经核实不属实，对干部造成一定影响，拟予澄清正名",
                ),
            )
        self.wait(2, 8)
        self.do("approve_clearing", LEADER, c.DatedApproval(reason="同意澄清正名"))
        if not carry_out:
            return
        self.wait(3, 10)
        method = method or self.rng.choice(tuple(ClearingMethod))
        scopes = {
            ClearingMethod.LETTER: f"向{self.who}本人书面反馈核查结论",
            ClearingMethod.PARTY_COMMITTEE_NOTICE: f"向{self.unit}党组（党委）通报核查结论",
            ClearingMethod.SCOPED_NOTICE: f"在{self.unit}中层以上干部会议上通报澄清",
        }
        self.do(
            "carry_out_clearing",
            self.handler,
            c.CarryOutClearing(
                method=method,
                scope=scopes[method],
                carried_out_on=self.day,
                corrections=[self.rng.choice(CLEARING_CORRECTIONS)],
            ),
        )

    def close(self, on: dt.date | None = None) -> None:
        if on is None:
            self.wait(3, 12)
        else:
            self.at(on)
        explanations = {
            f"admonition_follow_up#{h}": "诫勉限期改正期未满，由承办人另行跟踪"
            for h in self.follow_ups_open
        }
        self.do(
            "close",
            LEADER,
            c.Close(closed_on=self.day, explanations=explanations, reason="办结"),
        )
        self._stop_joins()

    def feedback(self, on: dt.date | None = None, text: str = "") -> None:
        if on is None:
            self.wait(3, 18)
        else:
            self.at(on)
        self.do(
            "give_feedback",
            self.handler,
            c.GiveFeedback(
                given_on=self.day,
                method=self.rng.choice(("phone", "letter", "in_person")),
                text=text or "您反映的问题已经组织核查并依规处理，感谢您对干部监督工作的支持。",
            ),
        )

    def hold_for_publicity(self, post: str, ends_on: dt.date) -> None:
        self.do(
            "hold_for_publicity",
            OPERATOR,
            c.HoldForPublicity(
                cadre=cadre_ref(self.subject),
                proposed_post=post,
                publicity_ends_on=ends_on,
                reason="任前公示期间收到反映该同志的举报",
            ),
        )

    def decide_publicity(
        self, decision: PublicityDecision, reason: str, defer_months: int | None = None
    ) -> None:
        self.do(
            "decide_publicity",
            LEADER,
            c.DecidePublicity(
                decision=decision, decided_on=self.day, defer_months=defer_months, reason=reason
            ),
        )

    # the ordinary paths

    def ordinary(self) -> None:
        """A random path, with durations an office would recognise."""
        rng = self.rng
        self.wait(1, 5)
        self.assign()
        path = rng.choices(
            ("verification", "inquiry", "close", "park", "transfer", "returned"),
            weights=(36, 34, 12, 9, 5, 4),
        )[0]
        if path == "returned":
            self.wait(2, 8)
            self.propose(Disposition.PARK)
            self.wait(2, 6)
            self.do(
                "return_disposition",
                LEADER,
                c.ReturnWithReason(reason="线索较为具体，应当开展初步核实"),
            )
            path = "verification"
            self.story.path = "case:disposition_returned"
        else:
            self.story.path = f"case:{path}"
        if path == "verification":
            self.dispose(Disposition.PRELIMINARY_VERIFICATION)
            self.verify_and_conclude()
        elif path == "inquiry":
            self.dispose(Disposition.TALK_INQUIRY)
            outcome = rng.choices(tuple(InquiryOutcome), weights=(50, 35, 15))[0]
            self.story.path = f"case:inquiry_{outcome.value}"
            self.inquiry(outcome)
            if outcome is InquiryOutcome.ESCALATED:
                self.verify_and_conclude()
            elif outcome is InquiryOutcome.CLARIFIED:
                self.finish(rng.choice((Verdict.UNTRUE, Verdict.UNPROVEN, Verdict.UNPROVEN)))
            else:
                self.finish(Verdict.PARTLY_TRUE)
        elif path == "close":
            self.dispose(Disposition.CLOSE)
            if self.real_name:
                self.feedback()
        elif path == "transfer":
            self.dispose(Disposition.TRANSFER_TO_DISCIPLINE)
            if self.real_name and rng.random() < 0.5:
                self.feedback(text="您反映的问题已按规定移送县纪委监委处理。")
        else:
            self.dispose(Disposition.PARK)
            self.parked()

    def parked(self) -> None:
        reviewed_on = self.day
        while True:
            reviewed_on = workday_on_or_after(
                add_calendar_months(reviewed_on, 3) + dt.timedelta(days=self.rng.randint(-5, 5))
            )
            if reviewed_on > DEMO_TODAY:
                return
            if self.rng.random() < 0.35:
                self.at(reviewed_on)
                self.do(
                    "reactivate",
                    self.handler,
                    c.NewEvidence(
                        new_evidence="收到新的反映，提供了具体的时间、地点和经手人",
                        on=reviewed_on,
                    ),
                )
                self.story.path = "case:park_reactivated"
                self.dispose(Disposition.PRELIMINARY_VERIFICATION)
                self.verify_and_conclude()
                return
            self.at(reviewed_on)
            self.do(
                "review_parked",
                self.handler,
                c.ReviewParked(reason="定期复查：暂无新的线索，继续暂存", reviewed_on=reviewed_on),
            )

    def verify_and_conclude(self) -> None:
        kinds: list[FindingKind | None] = [None] * self.rng.randint(1, 3)
        if self.from_audit:
            kinds[0] = FindingKind.AUDIT
        for kind in kinds:
            self.finding(kind)
        overall = self.rng.choices(tuple(Verdict), weights=(22, 33, 25, 20))[0]
        self.finish(overall)

    def finish(self, overall: Verdict) -> None:
        """Conclusion, handling or clearing, closure, feedback."""
        rng = self.rng
        self.conclude(overall)
        if overall is Verdict.TRUE:
            handling = rng.choices(
                (
                    HandlingType.DISMISSAL,
                    HandlingType.DEMOTION,
                    HandlingType.REASSIGNMENT,
                    HandlingType.ADMONITION,
                    HandlingType.ORDERED_RESIGNATION,
                    HandlingType.SUSPENSION,
                    HandlingType.NON_LEADING_POST,
                ),
                weights=(2, 3, 4, 5, 1, 1, 2),
            )[0]
            self.handle(handling)
        elif overall is Verdict.PARTLY_TRUE:
            handling = rng.choices(
                (
                    HandlingType.ADMONITION,
                    HandlingType.REMINDER_TALK,
                    HandlingType.CRITICISM,
                    HandlingType.WRITTEN_SELF_EXAMINATION,
                ),
                weights=(3, 4, 3, 2),
            )[0]
            self.handle(handling)
        elif overall is Verdict.UNTRUE and rng.random() < 0.35:
            self.clearing()
        self.close()
        if self.real_name:
            self.feedback()
        for handling_id in list(self.follow_ups_open):
            on = workday_on_or_after(
                add_calendar_months(self.day, 5) + dt.timedelta(days=rng.randint(0, 40))
            )
            if on <= DEMO_TODAY:
                self.follow_up(handling_id, AdmonitionOutcome.IMPROVED, on)


# -- the featured stories ----------------------------------------------------------------------

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


def _false_accusation_case(p: Plot) -> None:
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


# -- planning ----------------------------------------------------------------------------------

UNTRIAGED_SINCE = dt.date(2026, 11, 25)  # reports from here on still wait for triage
TOWNSHIP = re.compile(r"^(青山县..[镇乡])")
REFERRAL_RESULTS = (
    "县纪委监委已初核办结：反映问题部分属实，已对当事人进行谈话提醒。",
    "县纪委监委已了结：反映问题查无实据。",
    "承办单位已核查办结：反映问题不属实，已向当事人单位说明。",
    "承办单位已核查：反映问题属实，已责令当事人作出书面检查。",
)
REFERRAL_VERDICTS: tuple[tuple[Verdict, HandlingType | None], ...] = (
    (Verdict.PARTLY_TRUE, HandlingType.REMINDER_TALK),
    (Verdict.UNPROVEN, None),
    (Verdict.UNTRUE, None),
    (Verdict.TRUE, HandlingType.WRITTEN_SELF_EXAMINATION),
)
OUT_UNITS: dict[MemberUnit, int] = {
    MemberUnit.DISCIPLINE_COMMISSION: 60,
    MemberUnit.PETITIONS_BUREAU: 14,
    MemberUnit.HUMAN_RESOURCES_BUREAU: 10,
    MemberUnit.POLITICAL_LEGAL_COMMITTEE: 6,
    MemberUnit.PROCURATORATE: 5,
    MemberUnit.AUDIT_BUREAU: 5,
}
RETURN_REASONS = (
    "反映内容空泛，无具体人员和事实，无法核查",
    "所反映问题不属于干部监督工作职责范围，且无具体线索",
    "反映人仅表达个人诉求，无具体违规违纪事实",
)


def referral_result(report: DemoReport, text: str, on: dt.date) -> c.RecordReferralResult:
    """A member unit's result for every cadre the report names, as its words say
    (``REFERRAL_RESULTS``; the words kept in ``result``)."""
    verdict, handling = REFERRAL_VERDICTS[REFERRAL_RESULTS.index(text)]
    number = f"{on.year}〔{on.month:02d}{on.day:02d}〕号"
    return c.RecordReferralResult(
        outcomes=[
            c.CadreOutcome(
                cadre=c.CadreRef(name=s.name, unit=s.unit), verdict=verdict, handling=handling
            )
            for s in report.submission.subjects
        ],
        document_number=number,
        result=text,
        reported_on=on,
    )


def in_scope(report: DemoReport) -> bool:
    """What the intake policy accepts on registration when it accepts anything."""
    submission = report.submission
    return not submission.sealed and Category.OTHER_CONDUCT not in submission.categories


def _person(subject: ReportedCadre) -> tuple[str, str]:
    return subject.name, subject.unit


@dataclass
class _CaseSeed:
    report: DemoReport
    opened_on: dt.date
    categories: list[str]
    real_name: bool
    story: Story
    open_until: dt.date | None = None
    # Each cadre named, with the allegations made against them (joined reports add theirs).
    alleged: dict[tuple[str, str], tuple[ReportedCadre, list[str]]] = field(default_factory=dict)

    def allege(self, report: DemoReport) -> None:
        for subject in report.submission.subjects:
            _, cats = self.alleged.setdefault(_person(subject), (subject, []))
            cats += [c.value for c in report.submission.categories if c.value not in cats]


class Planner:
    """Every report's triage and every case's story, from the reports alone."""

    def __init__(
        self,
        reports: Sequence[DemoReport],
        policy: IntakePolicy,
        rng_seed: int,
        register: Sequence[CadreRecord] = (),
    ) -> None:
        self.reports = list(reports)
        # Who a name-only subject is, for the operator's confirmations (identify_subject).
        self.register = {(cadre.name, cadre.unit): cadre.cadre_id for cadre in register}
        self.policy = policy
        self.seed = rng_seed
        self.rng = random.Random(f"{rng_seed}:triage")  # noqa: S311 (fictional data)
        self.cases: dict[str, _CaseSeed] = {}  # by the opening report's key
        self.featured_keys: dict[str, str] = {}  # a featured story's tag → its report's key
        self.repeat_of: dict[str, str] = {}  # a repeat's key → the key of the report it repeats
        self.stories: list[Story] = []

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))  # noqa: S311

    def _day_after(self, day: dt.date, low: int, high: int) -> dt.date:
        return workday_on_or_after(day + dt.timedelta(days=self.rng.randint(low, high)))

    def plan(self) -> list[Story]:
        fates: dict[str, str] = {}
        joins: dict[str, tuple[str, dt.date]] = {}  # joining report → (case report, day)
        by_person: dict[tuple[str, str], list[DemoReport]] = {}
        triage_stories: list[tuple[DemoReport, Story]] = []
        for report in self.reports:
            fate = self._fate(report, by_person)
            fates[report.key] = fate
            if report.feature is not None:
                self.featured_keys[report.feature.tag] = report.key
            by_person.setdefault(_person(report.submission.subjects[0]), []).append(report)
            story = Story("report", report.key, report_id_for_idempotency_key(report.key), "")
            triage_stories.append((report, story))
            if fate in ("case", "accept_new"):
                self._open_case(report, story)
        # Joins, once every case knows how long it stays open.
        for report, _ in triage_stories:
            if fates[report.key] == "join?":
                target = self._join_target(report)
                if target is None:
                    fates[report.key] = "refer_out"
                else:
                    fates[report.key] = "join"
                    joins[report.key] = target
                    seed = self.cases[target[0]]
                    seed.allege(report)
                    for cat in report.submission.categories:
                        if cat.value not in seed.categories:
                            seed.categories.append(cat.value)
                    seed.real_name = seed.real_name or not report.submission.reporter.anonymous
        for report, story in triage_stories:
            self._triage(report, story, fates[report.key], joins.get(report.key))
            self._identity(report, story)
            self._identify_subjects(report, story)
            story.steps.sort(key=lambda step: step.on)
            self.stories.append(story)
        for seed in self.cases.values():
            self.stories += self._case_stories(seed)
        return self.stories

    # fates

    def _fate(  # noqa: PLR0911 — one decision table
        self, report: DemoReport, by_person: dict[tuple[str, str], list[DemoReport]]
    ) -> str:
        submission = report.submission
        received = submission.received_on or DEMO_TODAY
        if report.feature is not None and report.feature.fate != "case":
            return "join?" if report.feature.fate == "join" else report.feature.fate
        if report.feature is not None or in_scope(report):
            if self.policy.accepts_on_registration(submission) or report.feature is not None:
                return "case"  # a featured story is a case's: its report is accepted
            return "case" if received < UNTRIAGED_SINCE else "untriaged"
        rng = self.rng
        draw = rng.random()
        if received >= UNTRIAGED_SINCE:
            return "untriaged"
        if submission.sealed:
            return "forward_up"
        subject = submission.subjects[0]
        unit = subject.unit
        if TOWNSHIP.match(unit) and not unit.endswith(("党委", "人民政府")):
            return "transfer_down"
        earlier = [
            r
            for r in by_person.get(_person(subject), [])
            if (received - (r.submission.received_on or received)).days <= 365
        ]
        if earlier and draw < 0.4:
            self.repeat_of[report.key] = earlier[-1].key
            return "repeat"
        draw = rng.random()
        if draw < 0.45:
            return "join?"
        if draw < 0.55:
            return "return"
        if draw < 0.65 and subject.cadre_id:
            return "accept_new"
        return "refer_out"

    # cases

    def _accept_day(self, report: DemoReport) -> dt.date:
        received = report.submission.received_on or DEMO_TODAY
        if self.policy.accepts_on_registration(report.submission) or report.feature is not None:
            return received  # a featured story's report: the operator accepts it that day
        return workday_on_or_after(
            received + dt.timedelta(days=self._rng(report.key, "accept").randint(0, 2))
        )

    def _open_case(self, report: DemoReport, triage: Story) -> None:
        opened_on = self._accept_day(report)
        case_id = case_id_for_report(triage.target)
        seed = _CaseSeed(
            report,
            opened_on,
            [cat.value for cat in report.submission.categories],
            not report.submission.reporter.anonymous,
            Story("case", report.key, case_id, ""),
        )
        seed.allege(report)
        self.cases[report.key] = seed
        seed.open_until = self._plot(seed).open_until

    def _plot(self, seed: _CaseSeed) -> Plot:
        """The case's story (into ``seed.story``); the same dates however often planned."""
        report = seed.report
        seed.story.steps.clear()
        plot = Plot(
            seed.story,
            self._rng(report.key),
            received=seed.opened_on,
            subject=report.submission.subjects[0],
            categories=seed.categories,
            real_name=seed.real_name,
            verdict_rng=self._rng(report.key, "verdicts"),
            co_subjects=report.submission.subjects[1:],
            alleged=list(seed.alleged.values()),
        )
        referral = report.submission.referral
        plot.from_audit = referral is not None and referral.source is ReferralSource.ECONOMIC_AUDIT
        if report.feature is not None:
            seed.story.path = f"case:{report.feature.tag}"
            FEATURED_STORIES[report.feature.tag](plot)
        else:
            plot.ordinary()
        return plot

    def _join_target(self, report: DemoReport) -> tuple[str, dt.date] | None:
        received = report.submission.received_on or DEMO_TODAY
        day = self._day_after(received, 1, 3)
        if report.feature is not None and report.feature.joins:
            return self.featured_keys[report.feature.joins], day
        person = _person(report.submission.subjects[0])
        candidates = [
            seed
            for seed in self.cases.values()
            if seed.report.feature is None
            and _person(seed.report.submission.subjects[0]) == person
            and seed.opened_on < day
            and (seed.open_until is None or seed.open_until > day)
        ]
        if not candidates or day > DEMO_TODAY:
            return None
        return max(candidates, key=lambda s: s.opened_on).report.key, day

    def _case_stories(self, seed: _CaseSeed) -> list[Story]:
        self._plot(seed)
        stories = [seed.story]
        suspected = [s for s in seed.story.steps if s.action == "suspect_false_accusation"]
        if suspected:
            linked = Story(
                "case",
                f"{seed.report.key}#WG",
                false_accusation_case_id(
                    seed.story.target, dict(report_subject(seed.report.submission.subjects[0]))
                ),
                "case:false_accusation_linked",
                phase=1,
            )
            plot = Plot(
                linked,
                self._rng(seed.report.key, "WG"),
                received=suspected[0].on,
                subject=seed.report.submission.subjects[0],
                categories=[Category.OTHER_CONDUCT.value],
                real_name=False,
                verdict_rng=self._rng(seed.report.key, "WG", "verdicts"),
            )
            _false_accusation_case(plot)
            stories.append(linked)
        return stories

    # triage

    def _triage(  # noqa: PLR0912 — one branch per fate
        self, report: DemoReport, story: Story, fate: str, join: tuple[str, dt.date] | None
    ) -> None:
        submission = report.submission
        received = submission.received_on or DEMO_TODAY
        story.path = f"report:{fate}"
        add = story.steps.append
        if fate == "case":
            story.path = "report:accepted"
            if not self.policy.accepts_on_registration(submission):
                add(
                    Step(
                        self._accept_day(report),
                        "accept",
                        OPERATOR,
                        c.Accept(reason="属于12380受理范围，予以受理"),
                    )
                )
        elif fate == "accept_new":
            story.path = "report:accepted"
            add(
                Step(
                    self._accept_day(report),
                    "accept",
                    OPERATOR,
                    c.Accept(reason="反映问题涉及选人用人，予以受理"),
                )
            )
        elif fate == "join":
            assert join is not None
            target = self.cases[join[0]]
            story.phase = 1
            add(
                Step(
                    join[1],
                    "accept",
                    OPERATOR,
                    c.Accept(
                        join_case_id=target.story.target,
                        reason="反映同一干部的相关问题，并入在办案件一并核查",
                    ),
                )
            )
        elif fate == "repeat":
            original = self.repeat_of[report.key]
            add(
                Step(
                    self._day_after(received, 1, 3),
                    "mark_repeat",
                    OPERATOR,
                    c.MarkRepeat(
                        of_report_id=report_id_for_idempotency_key(original),
                        reason="与此前反映的问题基本相同，未提供新的线索",
                    ),
                )
            )
        elif fate == "forward_up":
            late = self.rng.random() < 0.2
            on = self._day_after(received, 8, 12) if late else self._day_after(received, 1, 4)
            add(
                Step(
                    min(on, DEMO_TODAY),
                    "forward_up",
                    OPERATOR,
                    c.ForwardUp(
                        to_authority=UPPER_AUTHORITY, reason="反映对象为市管干部，按管理权限报送"
                    ),
                )
            )
        elif fate == "transfer_down":
            match = TOWNSHIP.match(submission.subjects[0].unit)
            assert match is not None
            on = self._day_after(received, 1, 4)
            add(
                Step(
                    on,
                    "transfer_down",
                    OPERATOR,
                    c.TransferDown(
                        to_unit=f"{match.group(1)}党委",
                        transferred_on=on,
                        reason="反映对象由乡镇党委管理，转下级办理",
                    ),
                )
            )
            if self.rng.random() < 0.9:
                ack = self._day_after(on, 1, 9)
                add(
                    Step(
                        ack,
                        "acknowledge_transfer",
                        OPERATOR,
                        c.AcknowledgeTransfer(acknowledged_on=ack),
                    )
                )
        elif fate == "return":
            on = self._day_after(received, 1, 3)
            add(
                Step(
                    on,
                    "propose_return",
                    OPERATOR,
                    c.ReturnWithReason(reason=self.rng.choice(RETURN_REASONS)),
                )
            )
            decided = self._day_after(on, 1, 5)
            if self.rng.random() < 0.8:
                add(Step(decided, "approve_return", LEADER, c.Approve(reason="同意退回")))
            else:
                add(
                    Step(
                        decided,
                        "reject_return",
                        LEADER,
                        c.ReturnWithReason(reason="反映对象明确，应转有关单位办理"),
                    )
                )
                self._refer_out(story, decided)
        elif fate == "refer_out":
            self._refer_out(story, received)
        elif fate == "return_proposed":
            on = self._day_after(received, 1, 2)
            add(Step(on, "propose_return", OPERATOR, c.ReturnWithReason(reason=RETURN_REASONS[0])))

    def _refer_out(self, story: Story, after: dt.date) -> None:
        rng = self.rng
        on = self._day_after(after, 1, 4)
        unit = rng.choices(list(OUT_UNITS), weights=list(OUT_UNITS.values()))[0]
        story.path = "report:referred_out"
        story.steps.append(
            Step(
                on,
                "refer_out",
                OPERATOR,
                c.ReferOut(
                    member_unit=unit,
                    referred_on=on,
                    reason=f"反映问题属{unit.zh}职责范围，转其办理",
                ),
            )
        )
        if rng.random() < 0.85:
            reported = self._day_after(on, 20, 75)
            report = next(r for r in self.reports if r.key == story.key)
            story.steps.append(
                Step(
                    reported,
                    "record_referral_result",
                    OPERATOR,
                    referral_result(report, rng.choice(REFERRAL_RESULTS), reported),
                )
            )

    def _identify_subjects(self, report: DemoReport, story: Story) -> None:
        """An operator confirms who most subjects named without a register id are; the
        rest stay candidates (the archive's candidate list)."""
        rng = self._rng(report.key, "subjects")
        received = report.submission.received_on or DEMO_TODAY
        for index, subject in enumerate(report.submission.subjects):
            cadre_id = self.register.get(_person(subject))
            if subject.cadre_id or cadre_id is None or rng.random() >= 0.6:
                continue
            on = workday_on_or_after(received + dt.timedelta(days=rng.randint(3, 30)))
            story.steps.append(
                Step(
                    on,
                    "identify_subject",
                    OPERATOR,
                    c.IdentifySubject(
                        subject_index=index,
                        cadre_id=cadre_id,
                        reason="经核对干部名册，姓名、单位、职务一致",
                    ),
                )
            )

    def _identity(self, report: DemoReport, story: Story) -> None:
        submission = report.submission
        if submission.reporter.anonymous:
            return
        rng = self._rng(report.key, "identity")
        received = submission.received_on or DEMO_TODAY
        if rng.random() < 0.9:
            in_person = submission.channel is Channel.VISIT
            on = (
                received
                if in_person
                else workday_on_or_after(received + dt.timedelta(days=rng.randint(0, 3)))
            )
            method = IdentityCheck.IN_PERSON if in_person else IdentityCheck.PHONE
            story.steps.append(
                Step(
                    on, "verify_identity", OPERATOR, c.VerifyIdentity(method=method, verified_on=on)
                )
            )
        if rng.random() < 0.95:
            on = workday_on_or_after(received + dt.timedelta(days=rng.randint(2, 16)))
            story.steps.append(
                Step(on, "send_acceptance_notice", OPERATOR, c.SendAcceptanceNotice(sent_on=on))
            )


# -- execution ---------------------------------------------------------------------------------


@contextmanager
def business_day(app: CaseworkApplication | IntakeApplication, day: dt.date) -> Iterator[None]:
    """While a step runs, the application's today is the step's date (the day a step without
    a stated date is recorded on, and the deadlines it computes): never the wall clock's."""
    attribute = "today" if isinstance(app, CaseworkApplication) else "_today"
    saved = getattr(app, attribute)
    setattr(app, attribute, lambda: day)
    try:
        yield
    finally:
        setattr(app, attribute, saved)


def report_progress(intake: IntakeApplication, report_id: UUID) -> list[str] | None:
    """The demo-relevant steps a report has been through, as ``REPORT_EVENTS`` names them."""
    events: list[Any] = list(intake.events.get(report_id))
    if not events:
        return None
    done = []
    for event in events:
        name = type(event).__name__
        if name in ("Received", "Registered", "SealedContentHandedOver", "SealedContentOpened"):
            continue  # not triage (the sealed content's handover: services/demo/sealed.py)
        if name == "Accepted" and event.actor.get("role") == Role.SYSTEM.value:
            continue  # the intake policy's, not a triage step
        done.append(f"Triaged:{event.outcome}" if name == "Triaged" else name)
    return done


def case_progress(casework: CaseworkApplication, case_id: UUID) -> list[str] | None:
    events: list[Any] = list(casework.events.get(case_id))
    if not events:
        return None
    return [type(e).__name__ for e in events if type(e).__name__ not in ("Opened", "ReportJoined")]


def _actor(username: str) -> Actor:
    return Actor(id=username, role=ROLES[username])


def pending(
    story: Story, done: list[str] | None, tally: Counter[str], today: dt.date = DEMO_TODAY
) -> list[Step]:
    """The story's steps up to ``today`` that its aggregate's events do not show yet."""
    steps = story.due(today)
    names = REPORT_EVENTS if story.kind == "report" else CASE_EVENTS
    expected = [names[step.action] for step in steps]
    if done is None:
        tally["stories_missing"] += 1
        log.warning("demo: %s %s not found; its story is skipped", story.kind, story.key)
        return []
    if done[: len(expected)] == expected:
        return []  # told already
    if expected[: len(done)] != done:
        tally["stories_diverged"] += 1
        log.warning(
            "demo: %s %s was changed outside the demo; left as it is", story.kind, story.key
        )
        return []
    return steps[len(done) :]


def _stopped(story: Story, step: Step, error: ProcedureError, tally: Counter[str]) -> None:
    tally["stories_failed"] += 1
    log.warning("demo: %s %s stopped at %s: %s", story.kind, story.key, step.action, error)


def run_report_story(
    intake: IntakeApplication, story: Story, steps: Sequence[Step], tally: Counter[str]
) -> None:
    """The steps through intake's own triage handlers, saved together (one transaction per
    report rather than per step: seeding stays quick)."""
    report = intake.get_report(story.target)
    taken = 0
    for step in steps:
        try:
            with business_day(intake, step.on):
                TRIAGE_COMMANDS[step.action][1](
                    intake, report, step.command, _actor(step.actor).model_dump(mode="json")
                )
        except ProcedureError as error:
            _stopped(story, step, error, tally)
            break
        taken += 1
    if taken:
        intake.save(report)
        tally["steps_added:report"] += taken


def run_case_story(
    casework: CaseworkApplication, story: Story, steps: Sequence[Step], tally: Counter[str]
) -> None:
    """The steps through casework's own command handlers (``COMMANDS``, as ``execute``
    runs them), each on its business day, saved together with any case they open."""
    case = casework.get_case(story.target)
    opened: list[Any] = []
    taken = 0
    for step in steps:
        actor = {"id": step.actor, "role": ROLES[step.actor].value}
        try:
            with business_day(casework, step.on):
                opened += COMMANDS[step.action][1](casework, case, step.command, actor)
        except ProcedureError as error:
            _stopped(story, step, error, tally)
            break
        taken += 1
    if taken:
        casework.save(case, *opened)
        tally["steps_added:case"] += taken


def drive(
    system: EmbeddedSystem, stories: Sequence[Story], today: dt.date = DEMO_TODAY
) -> Counter[str]:
    """Run every story up to ``today`` (reports first, then cases); what this run added
    or skipped. An earlier ``today`` leaves the demo as it stood then (tests)."""
    intake, casework = system.intake, system.casework
    tally: Counter[str] = Counter()
    for phase in (0, 1):
        for story in stories:
            if story.kind == "report" and story.phase == phase and story.due(today):
                steps = pending(story, report_progress(intake, story.target), tally, today)
                if steps:
                    run_report_story(intake, story, steps, tally)
        # Casework opens the accepted cases; joins (phase 1) need their case opened first.
        system.catch_up()
    for phase in (0, 1):
        for story in stories:
            if story.kind == "case" and story.phase == phase and story.due(today):
                steps = pending(story, case_progress(casework, story.target), tally, today)
                if steps:
                    run_case_story(casework, story, steps, tally)
    system.catch_up()
    return tally
