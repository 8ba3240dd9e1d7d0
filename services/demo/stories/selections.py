"""Demo: selections on the record (issue 14), each through the real commands on its business
days, by the demo's selection clerk (孙伟, the cadre section) and, for holds, the office.

- **clean** (青山县财政局, one 副局长): every step from the proposal to the appointment, in
  order, the integrity opinion before the meeting, a five-working-day publicity;
- **sudden** (青山县白沙镇, 党委副书记): the principal leader's transfer is on the record
  (主要领导调动, 16 November to 11 December); the recommendation, inspection and
  deliberation are recorded, and the decision meeting of 27 November was refused as a
  sudden promotion (突击提拔, rule ``sudden_promotion``): the selection waits at 酝酿. A
  user who tries the decision on the record's page sees the same refusal;
- **voided** (青山县住房和城乡建设局, 副局长): 丁晓军 (QS-0029) appointed on 20 April 2026; a
  letter of 8 June reports that he canvassed the recommendation with dinners and gift cards
  (拉票贿选); its case finds it true (approved 20 July) and admonishes him; on that basis a
  leader of the office declares the appointment void (27 July) and holds the inspection's
  leader 任天佑 (QS-0044, admonished: his promotion is barred for six months) and the chair
  of the decision meeting 陈立诚 (QS-0001, 通报批评) responsible, which their archives and
  integrity replies show;
- **held** (青山县卫生健康局, 副局长): the inspection of 沈博文 and 蒋红旗 is announced for 23–27
  November; a call of 25 November reports that 沈博文 asked county leaders for the promotion:
  its case opens and holds him (automatically, in the case's own transaction) until the case
  is settled and a leader releases him.

Idempotent: each selection is proposed under its own Idempotency-Key (the same selection on
every run) and each step is taken only while the selection stands where the step starts.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from schemas import commands as c
from schemas import selection_commands as s
from schemas.glossary import (
    Category,
    CircumstanceKind,
    Disposition,
    FindingKind,
    HandlingType,
    ReportStatus,
    Role,
    Verdict,
)
from schemas.submissions import ReportSubmission
from services.common.procedure import RuleBroken
from services.demo.steps import (
    DEMO_TODAY,
    DESK,
    HANDLER,
    HANDLER2,
    LEADER,
    Step,
    business_day,
    take_case_steps,
)
from services.intake.domain import case_id_for_report, report_id_for_idempotency_key

if TYPE_CHECKING:
    from services.bootstrap import EmbeddedSystem

log = logging.getLogger(__name__)

D = dt.date
CLERK = {"id": "selection_clerk", "role": Role.SELECTION_CLERK.value}
OFFICE_LEADER = {"id": LEADER, "role": Role.LEADER.value}
DEPARTMENT = "中共青山县委组织部"


def person(name: str, position: str, unit: str = DEPARTMENT) -> dict[str, str]:
    return {"name": name, "unit": unit, "position": position}


def candidate(
    candidate_id: str, cadre_id: str, name: str, unit: str, position: str, votes: int
) -> dict[str, Any]:
    return {
        "candidate_id": candidate_id,
        "cadre_id": cadre_id,
        "name": name,
        "unit": unit,
        "position": position,
        "votes": votes,
    }


@dataclass(frozen=True)
class SelectionStep:
    action: str
    command: s.SelectionCommand
    actor: dict[str, str] = field(default_factory=lambda: CLERK)


@dataclass
class SelectionStory:
    """One selection: its proposal (under the demo's key) and its steps, oldest first."""

    key: str
    proposal: s.ProposeSelection
    steps: list[SelectionStep] = field(default_factory=list)
    # A step the office tried and the rules refused: (the step, the rule that refuses it).
    refused: tuple[SelectionStep, str] | None = None
    # A case on a report about the selection (its key, the report, its steps), and the steps
    # of the selection taken on its approved conclusion.
    case: CaseStory | None = None
    after_case: list[SelectionStep] = field(default_factory=list)


@dataclass(frozen=True)
class CaseStory:
    key: str  # the report's Idempotency-Key
    submission: ReportSubmission
    steps: list[Step]

    @property
    def report_id(self) -> UUID:
        return report_id_for_idempotency_key(self.key)

    @property
    def case_id(self) -> UUID:
        return case_id_for_report(self.report_id)


def _step(action: str, model: type[s.SelectionCommand], **fields: Any) -> SelectionStep:
    return SelectionStep(action, model.model_validate(fields))


def _office(action: str, model: type[s.SelectionCommand], **fields: Any) -> SelectionStep:
    """A step of the supervision office's leader (a voided appointment, a responsibility)."""
    return SelectionStep(action, model.model_validate(fields), OFFICE_LEADER)


FINANCE = "青山县财政局"
CLEAN = SelectionStory(
    key="demo-selection:clean",
    proposal=s.ProposeSelection.model_validate(
        {
            "unit": FINANCE,
            "posts": ["副局长"],
            "proposers": [person("赵志国", "县委常委、组织部部长")],
            "on": D(2026, 8, 3),
            "document_number": "青组干〔2026〕21号",
            "reason": "财政局班子缺额一名副局长",
        }
    ),
    steps=[
        _step(
            "record_recommendation",
            s.RecordRecommendation,
            participants=46,
            candidates=[
                candidate("a", "QS-0021", "潘永康", FINANCE, "县国库集中支付中心主任", 31),
                candidate("b", "QS-0020", "宋立群", FINANCE, "副局长", 9),
            ],
            organizers=[person("周文", "干部科科长")],
            on=D(2026, 8, 10),
            document_number="青组推〔2026〕7号",
        ),
        _step(
            "announce_inspection",
            s.AnnounceInspection,
            subjects=["a"],
            starts_on=D(2026, 8, 17),
            ends_on=D(2026, 8, 21),
            on=D(2026, 8, 14),
            document_number="青组考预〔2026〕7号",
        ),
        _step(
            "record_integrity_opinion",
            s.RecordIntegrityOpinion,
            opinions=[
                {
                    "candidate_id": "a",
                    "given_by": "青山县纪委监委",
                    "received_on": D(2026, 8, 20),
                    "clean": True,
                    "summary": "未发现违纪违法问题",
                    "reference": "青纪廉〔2026〕33号",
                }
            ],
            on=D(2026, 8, 20),
        ),
        _step(
            "record_inspection",
            s.RecordInspection,
            inspectors=[person("周文", "干部科科长"), person("林晓", "干部科副科长")],
            findings=[{"candidate_id": "a", "summary": "德才表现良好，群众公认度高"}],
            on=D(2026, 8, 24),
            document_number="青组考〔2026〕7号",
        ),
        _step(
            "record_deliberation",
            s.RecordDeliberation,
            candidates=["a"],
            consulted=[person("李书记", "县委书记"), person("陈立诚", "县长", "青山县人民政府")],
            summary="酝酿一致",
            on=D(2026, 8, 27),
        ),
        _step(
            "record_decision",
            s.RecordDecision,
            body="中共青山县委常委会",
            members_due=11,
            members_present=10,
            votes=[{"candidate_id": "a", "agree": 10}],
            decision_makers=[person("李书记", "县委书记、会议主持人", "中共青山县委")],
            on=D(2026, 9, 1),
            document_number="青常纪〔2026〕17号",
        ),
        _step(
            "start_publicity",
            s.StartPublicity,
            candidates=["a"],
            starts_on=D(2026, 9, 2),
            ends_on=D(2026, 9, 8),
            on=D(2026, 9, 1),
            document_number="青组公〔2026〕9号",
        ),
        _step(
            "record_appointment",
            s.RecordAppointment,
            appointments=[{"candidate_id": "a", "post": "青山县财政局副局长"}],
            on=D(2026, 9, 14),
            document_number="青任〔2026〕12号",
        ),
    ],
)

BAISHA = "中共青山县白沙镇委员会"
SUDDEN = SelectionStory(
    key="demo-selection:sudden",
    proposal=s.ProposeSelection.model_validate(
        {
            "unit": BAISHA,
            "posts": ["党委副书记"],
            "proposers": [person("邱兆龙", "党委书记", BAISHA)],
            "on": D(2026, 11, 2),
            "document_number": "白委〔2026〕40号",
            "reason": "党委副书记职位空缺",
        }
    ),
    steps=[
        _step(
            "record_circumstance",
            s.RecordCircumstance,
            kind=CircumstanceKind.PRINCIPAL_LEADER_TRANSFER,
            starts_on=D(2026, 11, 16),
            ends_on=D(2026, 12, 11),
            description="镇党委书记邱兆龙调任县直部门，交接期间",
            on=D(2026, 11, 13),
            document_number="青委干〔2026〕55号",
        ),
        _step(
            "record_recommendation",
            s.RecordRecommendation,
            participants=38,
            candidates=[
                candidate("a", "QS-0057", "史国良", BAISHA, "党委委员、组织委员", 25),
                candidate("b", "QS-0059", "侯建明", "青山县白沙镇人民政府", "党委委员、副镇长", 11),
            ],
            organizers=[person("周文", "干部科科长")],
            on=D(2026, 11, 16),
        ),
        _step(
            "announce_inspection",
            s.AnnounceInspection,
            subjects=["a"],
            starts_on=D(2026, 11, 17),
            ends_on=D(2026, 11, 19),
            on=D(2026, 11, 17),
        ),
        _step(
            "record_integrity_opinion",
            s.RecordIntegrityOpinion,
            opinions=[
                {
                    "candidate_id": "a",
                    "given_by": "青山县纪委监委",
                    "received_on": D(2026, 11, 19),
                    "clean": True,
                    "reference": "青纪廉〔2026〕51号",
                }
            ],
            on=D(2026, 11, 19),
        ),
        _step(
            "record_inspection",
            s.RecordInspection,
            inspectors=[person("林晓", "干部科副科长")],
            findings=[{"candidate_id": "a", "summary": "工作实绩一般"}],
            on=D(2026, 11, 20),
        ),
        _step(
            "record_deliberation",
            s.RecordDeliberation,
            candidates=["a"],
            consulted=[person("邱兆龙", "党委书记（调任中）", BAISHA)],
            on=D(2026, 11, 24),
        ),
    ],
    refused=(
        _step(
            "record_decision",
            s.RecordDecision,
            body="中共白沙镇委员会（上报县委常委会）",
            members_due=11,
            members_present=9,
            votes=[{"candidate_id": "a", "agree": 8}],
            decision_makers=[person("李书记", "县委书记、会议主持人", "中共青山县委")],
            on=D(2026, 11, 27),
        ),
        "sudden_promotion",
    ),
)

HOUSING = "青山县住房和城乡建设局"
BRIBERY_KEY = "demo-selection:voided#report"
BRIBERY_REPORT = ReportSubmission.model_validate(
    {
        "channel": "letter",
        "reporter": {"anonymous": True},
        "received_on": D(2026, 6, 8),
        "subjects": [
            {
                "name": "丁晓军",
                "unit": HOUSING,
                "position": "副局长",
                "cadre_id": "QS-0029",
            }
        ],
        "categories": [Category.VOTE_BUYING.value],
        "summary": "来信反映丁晓军在今年3月民主推荐前宴请部分参会人员、发放购物卡拉票，"
        "考察组对此未作了解，县委常委会仍决定任用。",
    }
)


def _bribery_case_steps() -> list[Step]:
    study = c.CollectiveStudy(
        held_on=D(2026, 6, 15), meeting="部务会", participants=["刘建华", "张强", "李娜"]
    )
    return [
        Step(D(2026, 6, 9), "assign", LEADER, c.Assign(handler_id=HANDLER2, reason="涉及选人用人")),
        Step(
            D(2026, 6, 10),
            "propose_disposition",
            HANDLER2,
            c.ProposeDisposition(
                disposition=Disposition.PRELIMINARY_VERIFICATION, reason="线索具体，拟初步核实"
            ),
        ),
        Step(
            D(2026, 6, 15),
            "approve_disposition",
            LEADER,
            c.ApproveDisposition(collective_study=study, reason="经部务会集体研究同意"),
        ),
        Step(
            D(2026, 7, 6),
            "record_finding",
            HANDLER2,
            c.RecordFinding(
                kind=FindingKind.INTERVIEW,
                summary="与12名参加民主推荐人员谈话，9人证实丁晓军宴请并发放购物卡；考察组未按要求个别谈话",
                evidence_refs=["谈话笔录-2026-41", "消费记录-2026-08"],
                found_on=D(2026, 7, 6),
            ),
        ),
        Step(
            D(2026, 7, 13),
            "propose_conclusion",
            HANDLER2,
            c.ProposeConclusion(
                cadre_verdicts=[
                    c.CadreVerdict(
                        cadre=c.CadreRef(cadre_id="QS-0029"),
                        category=Category.VOTE_BUYING,
                        verdict=Verdict.TRUE,
                    )
                ],
                reason="丁晓军拉票贿选属实",
            ),
        ),
        Step(
            D(2026, 7, 20),
            "approve_conclusion",
            LEADER,
            c.DatedApproval(approved_on=D(2026, 7, 20), reason="同意"),
        ),
        Step(
            D(2026, 7, 27),
            "decide_handling",
            LEADER,
            c.DecideHandling(
                cadre=c.CadreRef(cadre_id="QS-0029"),
                handling=HandlingType.ADMONITION,
                decided_on=D(2026, 7, 27),
                reason="拉票贿选，任用决定撤销，并予以诫勉",
            ),
        ),
    ]


BRIBERY_CASE = CaseStory(BRIBERY_KEY, BRIBERY_REPORT, _bribery_case_steps())
BASIS = {"kind": "case", "id": BRIBERY_CASE.case_id}
VOIDED = SelectionStory(
    key="demo-selection:voided",
    proposal=s.ProposeSelection.model_validate(
        {
            "unit": HOUSING,
            "posts": ["副局长"],
            "proposers": [person("彭国强", "党组书记、局长", HOUSING)],
            "on": D(2026, 3, 2),
            "document_number": "青住建党〔2026〕6号",
            "reason": "分管城建的副局长调出",
        }
    ),
    steps=[
        _step(
            "record_recommendation",
            s.RecordRecommendation,
            participants=41,
            candidates=[
                candidate("a", "QS-0029", "丁晓军", HOUSING, "县建设工程质量安全监督站站长", 28),
                candidate("b", "QS-0030", "魏长青", HOUSING, "二级主任科员", 13),
            ],
            organizers=[person("周文", "干部科科长")],
            on=D(2026, 3, 9),
        ),
        _step(
            "announce_inspection",
            s.AnnounceInspection,
            subjects=["a"],
            starts_on=D(2026, 3, 16),
            ends_on=D(2026, 3, 20),
            on=D(2026, 3, 13),
        ),
        _step(
            "record_integrity_opinion",
            s.RecordIntegrityOpinion,
            opinions=[
                {
                    "candidate_id": "a",
                    "given_by": "青山县纪委监委",
                    "received_on": D(2026, 3, 19),
                    "clean": True,
                    "reference": "青纪廉〔2026〕12号",
                }
            ],
            on=D(2026, 3, 19),
        ),
        _step(
            "record_inspection",
            s.RecordInspection,
            inspectors=[person("任天佑", "考察组组长（青石镇党委组织委员）", "青山县青石镇党委")],
            findings=[{"candidate_id": "a", "summary": "推荐得票较多，考察未发现问题"}],
            on=D(2026, 3, 25),
        ),
        _step(
            "record_deliberation",
            s.RecordDeliberation,
            candidates=["a"],
            consulted=[person("陈立诚", "县委副书记、县长", "青山县人民政府")],
            on=D(2026, 3, 30),
        ),
        _step(
            "record_decision",
            s.RecordDecision,
            body="中共青山县委常委会",
            members_due=11,
            members_present=9,
            votes=[{"candidate_id": "a", "agree": 7, "disagree": 2}],
            decision_makers=[person("陈立诚", "县委副书记、会议主持人", "青山县人民政府")],
            on=D(2026, 4, 7),
        ),
        _step(
            "start_publicity",
            s.StartPublicity,
            candidates=["a"],
            starts_on=D(2026, 4, 8),
            ends_on=D(2026, 4, 14),
            on=D(2026, 4, 7),
        ),
        _step(
            "record_appointment",
            s.RecordAppointment,
            appointments=[{"candidate_id": "a", "post": "青山县住房和城乡建设局副局长"}],
            on=D(2026, 4, 20),
            document_number="青任〔2026〕5号",
        ),
    ],
    case=BRIBERY_CASE,
    after_case=[
        _office(
            "void_appointment",
            s.VoidAppointment,
            candidates=["a"],
            ground="canvassing_bribery",
            basis=BASIS,
            document_number="青组〔2026〕31号",
            reason="拉票贿选经核查属实，撤销任用决定",
            on=D(2026, 7, 27),
        ),
        _office(
            "take_responsibility",
            s.TakeResponsibility,
            person={
                "name": "任天佑",
                "unit": "青山县青石镇党委",
                "position": "考察组组长（青石镇党委组织委员）",
                "cadre_id": "QS-0044",
            },
            step="inspection",
            handling="admonition",
            basis=BASIS,
            reason="考察失察，未发现拉票问题",
            on=D(2026, 7, 27),
        ),
        _office(
            "take_responsibility",
            s.TakeResponsibility,
            person={
                "name": "陈立诚",
                "unit": "青山县人民政府",
                "position": "县委副书记、会议主持人",
                "cadre_id": "QS-0001",
            },
            step="decision",
            handling="circulated_criticism",
            basis=BASIS,
            reason="主持讨论决定时对反映的问题未予核实",
            on=D(2026, 7, 28),
        ),
    ],
)

HEALTH = "青山县卫生健康局"
HELD_REPORT = ReportSubmission.model_validate(
    {
        "channel": "hotline",
        "reporter": {"anonymous": True},
        "received_on": D(2026, 11, 25),
        "subjects": [
            {
                "name": "沈博文",
                "unit": HEALTH,
                "position": "青山县人民医院院长",
                "cadre_id": "QS-0025",
            }
        ],
        "categories": [Category.SEEKING_OFFICE.value],
        "summary": "来电反映沈博文在考察预告期间多次找县领导打招呼，要求提拔。",
    }
)
HELD = SelectionStory(
    key="demo-selection:held",
    proposal=s.ProposeSelection.model_validate(
        {
            "unit": HEALTH,
            "posts": ["副局长"],
            "proposers": [person("董思源", "党组书记、局长", HEALTH)],
            "on": D(2026, 11, 9),
            "document_number": "青卫健党〔2026〕19号",
            "reason": "副局长职位空缺",
        }
    ),
    steps=[
        _step(
            "record_recommendation",
            s.RecordRecommendation,
            participants=52,
            candidates=[
                candidate("a", "QS-0025", "沈博文", HEALTH, "青山县人民医院院长", 30),
                candidate("b", "QS-0024", "蒋红旗", HEALTH, "青山县人民医院党委书记", 17),
            ],
            organizers=[person("周文", "干部科科长")],
            on=D(2026, 11, 16),
        ),
        _step(
            "announce_inspection",
            s.AnnounceInspection,
            subjects=["a", "b"],
            starts_on=D(2026, 11, 23),
            ends_on=D(2026, 11, 27),
            on=D(2026, 11, 20),
            document_number="青组考预〔2026〕15号",
        ),
    ],
    # A report about 沈博文 on 25 November, within the announcement's period: its case opens
    # and holds him (automatically, in the case's transaction); 蒋红旗 is not held.
    case=CaseStory(
        "demo-selection:held#report",
        HELD_REPORT,
        [
            Step(
                D(2026, 11, 26),
                "assign",
                LEADER,
                c.Assign(handler_id=HANDLER, reason="考察预告期间来电"),
            )
        ],
    ),
)

STORIES = (CLEAN, SUDDEN, VOIDED, HELD)


def seed_selections(system: EmbeddedSystem, today: dt.date = DEMO_TODAY) -> dict[str, int]:
    """Propose and take the demo's selections as far as ``today``; counts of what it did."""
    casework = system.casework
    counts = {
        "selections": 0,
        "selection_steps_added": 0,
        "selection_refusals": 0,
        "selection_reports": 0,  # the reports (and their cases) about a selection
        "selection_reports_added": 0,
        "selection_case_steps_added": 0,
    }
    for story in STORIES:
        if story.proposal.on is not None and story.proposal.on > today:
            continue
        with business_day(casework, story.proposal.on or today):
            selection_id = casework.propose_selection(story.proposal, CLERK, story.key)
        counts["selections"] += 1
        counts["selection_steps_added"] += _take_steps(system, selection_id, story.steps, 1, today)
        if story.case is not None and _case_done(system, story.case, today, counts):
            counts["selection_steps_added"] += _take_steps(
                system, selection_id, story.after_case, len(story.steps) + 1, today
            )
        if story.refused is not None:
            counts["selection_refusals"] += _try_refused(system, selection_id, story, today)
    return counts


def _take_steps(
    system: EmbeddedSystem,
    selection_id: UUID,
    steps: list[SelectionStep],
    first: int,
    today: dt.date,
) -> int:
    """Each step whose day has come, only while the selection stands where it starts (its
    version: the proposal is 1, the k-th step makes k + 1; ``first`` numbers the first of
    ``steps``)."""
    casework = system.casework
    added = 0
    for number, step in enumerate(steps, start=first):
        day = step.command.on or today
        if day > today:
            break
        version = casework.get_selection(selection_id).version
        if version > number:
            continue  # taken on an earlier run
        if version < number:
            log.warning("demo selection %s stands apart from its story: left alone", selection_id)
            break
        with business_day(casework, day):
            casework.execute_selection(selection_id, step.action, step.command, step.actor)
        added += 1
    return added


def _try_refused(
    system: EmbeddedSystem, selection_id: UUID, story: SelectionStory, today: dt.date
) -> int:
    """The step the rules refuse, tried as the office tried it: refused, nothing stored."""
    assert story.refused is not None
    step, rule = story.refused
    casework = system.casework
    selection = casework.get_selection(selection_id)
    if (
        selection.version != len(story.steps) + len(story.after_case) + 1
        or (step.command.on or today) > today
    ):
        return 0
    try:
        with business_day(casework, step.command.on or today):
            casework.execute_selection(selection_id, step.action, step.command, CLERK)
    except RuleBroken as refusal:
        if refusal.rule.name != rule:
            raise
        log.info("demo selection %s: %s refused (%s)", story.key, step.action, rule)
        return 1
    raise AssertionError(f"the demo's {step.action} on {story.key} was not refused by {rule}")


def _case_done(
    system: EmbeddedSystem, story: CaseStory, today: dt.date, counts: dict[str, int]
) -> bool:
    """The report submitted and accepted, its case taken through its steps up to ``today``;
    whether every step is taken (the selection's steps on its conclusion may follow)."""
    intake, casework = system.intake, system.casework
    received = story.submission.received_on
    if received is None or received > today:
        return False
    if story.report_id not in intake.repository:
        intake.submit(
            story.submission,
            idempotency_key=story.key,
            registered_on=received,
            actor=DESK,
            import_id=story.report_id,
        )
        counts["selection_reports_added"] += 1
    counts["selection_reports"] += 1
    if intake.get_report(story.report_id).status is ReportStatus.REGISTERED:
        accept = c.Accept(reason="线索具体，予以受理", accepted_on=received)
        intake.triage(story.report_id, "accept", accept, DESK)
    system.catch_up()  # casework opens the case
    counts["selection_case_steps_added"] += take_case_steps(
        casework, story.case_id, story.steps, today
    )
    return casework.get_case(story.case_id).version >= len(story.steps) + 1
