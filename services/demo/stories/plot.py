"""One case's plot: the steps of the procedure (assign, dispose, inquiry, finding, conclusion,
handling, clearing, closure, feedback, publicity …) appended to its story on business days
that move forward by plausible gaps. The stories (``ordinary.py``, ``featured_cases.py``) are
told with it; so are ``jiandu demo --scale``'s cases (``scale.py``).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Sequence

from schemas import commands as c
from schemas.glossary import (
    AdmonitionOutcome,
    Category,
    ClearingMethod,
    Disposition,
    FindingKind,
    HandlingType,
    InquiryOutcome,
    PublicityDecision,
    Verdict,
)
from schemas.submissions import ReportedCadre
from services.demo.steps import (
    HANDLER,
    HANDLER2,
    HANDLER_NAMES,
    LEADER,
    OPERATOR,
    Step,
    Story,
    workday_on_or_after,
)

STUDY_PARTICIPANTS = (
    ["县委组织部部长孟庆华", "常务副部长许文涛", "副部长林海", "干部监督科科长刘建华"],
    ["常务副部长许文涛", "副部长林海", "干部监督科科长刘建华", "干部科科长周敏"],
)
MEETINGS = ("部务会", "干部监督工作专题会议", "部长办公会")


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
