"""Demo: a selection voided on a supervision project (立项督查, issue 14).

青山县住房和城乡建设局 selects a 副局长: 丁晓军 (QS-0029) is appointed on 20 April 2026. A letter
of 8 June reports that he canvassed the recommendation with dinners and gift cards (拉票贿选):
its case is accepted and the office opens a supervision project on the selection (10 June),
with its team, plan and findings; the conclusion (属实), approved on 20 July, recommends the
appointment void and names who answers for it. On that basis a leader of the office declares
the appointment void (27 July) and holds the inspection's leader 任天佑 (QS-0044, admonished:
his promotion is barred for six months) and the chair of the decision meeting 陈立诚 (QS-0001,
通报批评) responsible, which their archives and integrity replies show; the project reports
back to the city's organization department and is closed. The case itself concludes 属实 and
admonishes 丁晓军.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from schemas import commands as c
from schemas import project_commands as p
from schemas import selection_commands as s
from schemas.glossary import Category, Disposition, FindingKind, HandlingType, Role, Verdict
from schemas.submissions import ReportSubmission
from services.demo.steps import HANDLER2, LEADER, Step
from services.demo.stories.selection_kit import (
    OFFICE_LEADER,
    CaseStory,
    ProjectStory,
    SelectionStep,
    SelectionStory,
    candidate,
    office,
    person,
    project_step,
    step,
)

D = dt.date
PROJECT_HANDLER = {"id": HANDLER2, "role": Role.HANDLER.value}

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


def _on_conclusion(project_id: UUID) -> list[SelectionStep]:
    """The selection's steps on the project's approved conclusion: the appointment void and
    the two people held responsible."""
    basis = {"kind": "project", "id": project_id}
    return [
        office(
            "void_appointment",
            s.VoidAppointment,
            candidates=["a"],
            ground="canvassing_bribery",
            basis=basis,
            document_number="青组〔2026〕31号",
            reason="拉票贿选经核查属实，撤销任用决定",
            on=D(2026, 7, 27),
        ),
        office(
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
            basis=basis,
            reason="考察失察，未发现拉票问题",
            on=D(2026, 7, 27),
        ),
        office(
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
            basis=basis,
            reason="主持讨论决定时对反映的问题未予核实",
            on=D(2026, 7, 28),
        ),
    ]


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
        step(
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
        step(
            "announce_inspection",
            s.AnnounceInspection,
            subjects=["a"],
            starts_on=D(2026, 3, 16),
            ends_on=D(2026, 3, 20),
            on=D(2026, 3, 13),
        ),
        step(
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
        step(
            "record_inspection",
            s.RecordInspection,
            inspectors=[person("任天佑", "考察组组长（青石镇党委组织委员）", "青山县青石镇党委")],
            findings=[{"candidate_id": "a", "summary": "推荐得票较多，考察未发现问题"}],
            on=D(2026, 3, 25),
        ),
        step(
            "record_deliberation",
            s.RecordDeliberation,
            candidates=["a"],
            consulted=[person("陈立诚", "县委副书记、县长", "青山县人民政府")],
            on=D(2026, 3, 30),
        ),
        step(
            "record_decision",
            s.RecordDecision,
            body="中共青山县委常委会",
            members_due=11,
            members_present=9,
            votes=[{"candidate_id": "a", "agree": 7, "disagree": 2}],
            decision_makers=[person("陈立诚", "县委副书记、会议主持人", "青山县人民政府")],
            on=D(2026, 4, 7),
        ),
        step(
            "start_publicity",
            s.StartPublicity,
            candidates=["a"],
            starts_on=D(2026, 4, 8),
            ends_on=D(2026, 4, 14),
            on=D(2026, 4, 7),
        ),
        step(
            "record_appointment",
            s.RecordAppointment,
            appointments=[{"candidate_id": "a", "post": "青山县住房和城乡建设局副局长"}],
            on=D(2026, 4, 20),
            document_number="青任〔2026〕5号",
        ),
    ],
    case=BRIBERY_CASE,
    project=ProjectStory(
        key="demo-selection:voided#project",
        opening={
            "irregularities": [Category.VOTE_BUYING],
            "clues": "来信反映丁晓军在民主推荐前宴请参会人员、发放购物卡，时间、地点、人员具体",
            "document_number": "青组督立〔2026〕2号",
            "on": D(2026, 6, 10),
        },
        steps=[
            project_step(
                "form_team",
                p.FormTeam,
                OFFICE_LEADER,
                leader={
                    "name": "刘建华",
                    "unit": "中共青山县委组织部",
                    "position": "干部监督科科长",
                },
                members=[
                    {"name": "李娜", "unit": "中共青山县委组织部", "position": "干部监督科干部"}
                ],
                on=D(2026, 6, 11),
            ),
            project_step(
                "record_plan",
                p.RecordPlan,
                PROJECT_HANDLER,
                summary="个别谈话参加民主推荐人员，调取推荐、考察材料和消费记录",
                on=D(2026, 6, 12),
            ),
            project_step(
                "record_finding",
                p.RecordProjectFinding,
                PROJECT_HANDLER,
                irregularity=Category.VOTE_BUYING,
                confirmed=True,
                summary="与12名参加民主推荐人员谈话，9人证实丁晓军宴请并发放购物卡；"
                "考察组未按要求个别谈话了解",
                evidence_refs=["谈话笔录-2026-41", "消费记录-2026-08"],
                on=D(2026, 7, 6),
            ),
            project_step(
                "propose_conclusion",
                p.ProposeProjectConclusion,
                PROJECT_HANDLER,
                verdict=Verdict.TRUE,
                summary="丁晓军拉票贿选属实；考察失察，讨论决定时未核实反映的问题",
                void_candidates=["a"],
                responsible=[
                    {
                        "name": "任天佑",
                        "unit": "青山县青石镇党委",
                        "cadre_id": "QS-0044",
                        "responsibility": "考察失察",
                    },
                    {
                        "name": "陈立诚",
                        "unit": "青山县人民政府",
                        "cadre_id": "QS-0001",
                        "responsibility": "主持讨论决定时未核实反映的问题",
                    },
                ],
                on=D(2026, 7, 13),
            ),
            project_step(
                "approve_conclusion",
                p.ApproveProjectConclusion,
                OFFICE_LEADER,
                reason="同意督查结论",
                on=D(2026, 7, 20),
            ),
        ],
        on_conclusion=_on_conclusion,
        closing=[
            project_step(
                "report_back",
                p.ReportBack,
                PROJECT_HANDLER,
                reported_to="中共某市委组织部",
                document_number="青组督报〔2026〕2号",
                summary="撤销丁晓军任用决定，对考察组组长、会议主持人追究责任",
                on=D(2026, 7, 31),
            ),
            project_step("close", p.CloseProject, OFFICE_LEADER, on=D(2026, 8, 3)),
        ],
    ),
)
