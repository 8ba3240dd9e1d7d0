"""Demo: selections on the record (issue 14), each through the real commands on its business
days, by the demo's selection clerk (孙伟, the cadre section) and, for holds, the office.

- **clean** (青山县财政局, one 副局长): every step from the proposal to the appointment, in
  order, the integrity opinion before the meeting, a five-working-day publicity;
- **sudden** (青山县白沙镇, 党委副书记): the principal leader's transfer is on the record
  (主要领导调动, 16 November to 11 December); the recommendation, inspection and
  deliberation are recorded, and the decision meeting of 27 November was refused as a
  sudden promotion (突击提拔, rule ``sudden_promotion``): the selection waits at 酝酿. A
  user who tries the decision on the record's page sees the same refusal;
- **voided** (青山县住房和城乡建设局, 副局长: ``selection_voided.py``): appointed in April; a
  letter reports canvassing (拉票贿选); a supervision project (立项督查) on the selection ends
  with the appointment void and the inspector and the meeting's chair held responsible;
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
from typing import TYPE_CHECKING
from uuid import UUID

from schemas import commands as c
from schemas import project_commands as p
from schemas import selection_commands as s
from schemas.glossary import Category, CircumstanceKind, ReportStatus
from schemas.submissions import ReportSubmission
from services.common.procedure import RuleBroken
from services.demo.steps import (
    DEMO_TODAY,
    DESK,
    HANDLER,
    LEADER,
    Step,
    business_day,
    take_case_steps,
)
from services.demo.stories.selection_kit import (
    CLERK,
    OFFICE_HANDLER,
    CaseStory,
    ProjectStep,
    SelectionStep,
    SelectionStory,
    candidate,
    office_step,
    person,
    step,
)
from services.demo.stories.selection_voided import VOIDED

if TYPE_CHECKING:
    from services.bootstrap import EmbeddedSystem

log = logging.getLogger(__name__)

D = dt.date

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
        step(
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
        step(
            "announce_inspection",
            s.AnnounceInspection,
            subjects=["a"],
            starts_on=D(2026, 8, 17),
            ends_on=D(2026, 8, 21),
            on=D(2026, 8, 14),
            document_number="青组考预〔2026〕7号",
        ),
        # The cadre section asks the supervision office, which replies from the information
        # base (the integrity reply of 潘永康 on the day).
        step(
            "request_integrity_opinions",
            s.RequestIntegrityOpinions,
            candidates=["a"],
            requested_of="县委组织部干部监督科",
            on=D(2026, 8, 17),
        ),
        office_step(
            "reply_integrity_opinions", s.ReplyIntegrityOpinions, OFFICE_HANDLER, on=D(2026, 8, 20)
        ),
        step(
            "record_inspection",
            s.RecordInspection,
            inspectors=[person("周文", "干部科科长"), person("林晓", "干部科副科长")],
            findings=[{"candidate_id": "a", "summary": "德才表现良好，群众公认度高"}],
            on=D(2026, 8, 24),
            document_number="青组考〔2026〕7号",
        ),
        step(
            "record_deliberation",
            s.RecordDeliberation,
            candidates=["a"],
            consulted=[person("李书记", "县委书记"), person("陈立诚", "县长", "青山县人民政府")],
            summary="酝酿一致",
            on=D(2026, 8, 27),
        ),
        step(
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
        step(
            "start_publicity",
            s.StartPublicity,
            candidates=["a"],
            starts_on=D(2026, 9, 2),
            ends_on=D(2026, 9, 8),
            on=D(2026, 9, 1),
            document_number="青组公〔2026〕9号",
        ),
        step(
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
        step(
            "record_circumstance",
            s.RecordCircumstance,
            kind=CircumstanceKind.PRINCIPAL_LEADER_TRANSFER,
            starts_on=D(2026, 11, 16),
            ends_on=D(2026, 12, 11),
            description="镇党委书记邱兆龙调任县直部门，交接期间",
            on=D(2026, 11, 13),
            document_number="青委干〔2026〕55号",
        ),
        step(
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
        step(
            "announce_inspection",
            s.AnnounceInspection,
            subjects=["a"],
            starts_on=D(2026, 11, 17),
            ends_on=D(2026, 11, 19),
            on=D(2026, 11, 17),
        ),
        step(
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
        step(
            "record_inspection",
            s.RecordInspection,
            inspectors=[person("林晓", "干部科副科长")],
            findings=[{"candidate_id": "a", "summary": "工作实绩一般"}],
            on=D(2026, 11, 20),
        ),
        step(
            "record_deliberation",
            s.RecordDeliberation,
            candidates=["a"],
            consulted=[person("邱兆龙", "党委书记（调任中）", BAISHA)],
            on=D(2026, 11, 24),
        ),
    ],
    refused=(
        step(
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
        step(
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
        step(
            "announce_inspection",
            s.AnnounceInspection,
            subjects=["a", "b"],
            starts_on=D(2026, 11, 23),
            ends_on=D(2026, 11, 27),
            on=D(2026, 11, 20),
            document_number="青组考预〔2026〕15号",
        ),
        # Asked for on the first day of the announcement: the office has yet to reply.
        step(
            "request_integrity_opinions",
            s.RequestIntegrityOpinions,
            candidates=["a", "b"],
            requested_of="县委组织部干部监督科",
            on=D(2026, 11, 23),
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
        "projects": 0,
        "project_steps_added": 0,
    }
    for story in STORIES:
        if story.proposal.on is not None and story.proposal.on > today:
            continue
        with business_day(casework, story.proposal.on or today):
            selection_id = casework.propose_selection(story.proposal, CLERK, story.key)
        counts["selections"] += 1
        counts["selection_steps_added"] += _take_steps(system, selection_id, story.steps, 1, today)
        if story.case is not None:
            _run_case(system, story.case, today, counts)
            if story.project is not None:
                _run_project(system, selection_id, story, today, counts)
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
    for number, taken in enumerate(steps, start=first):
        day = taken.command.on or today
        if day > today:
            break
        version = casework.get_selection(selection_id).version
        if version > number:
            continue  # taken on an earlier run
        if version < number:
            log.warning("demo selection %s stands apart from its story: left alone", selection_id)
            break
        with business_day(casework, day):
            casework.execute_selection(selection_id, taken.action, taken.command, taken.actor)
        added += 1
    return added


def _try_refused(
    system: EmbeddedSystem, selection_id: UUID, story: SelectionStory, today: dt.date
) -> int:
    """The step the rules refuse, tried as the office tried it: refused, nothing stored."""
    assert story.refused is not None
    refused, rule = story.refused
    casework = system.casework
    selection = casework.get_selection(selection_id)
    if selection.version != len(story.steps) + 1 or (refused.command.on or today) > today:
        return 0
    try:
        with business_day(casework, refused.command.on or today):
            casework.execute_selection(selection_id, refused.action, refused.command, CLERK)
    except RuleBroken as refusal:
        if refusal.rule.name != rule:
            raise
        log.info("demo selection %s: %s refused (%s)", story.key, refused.action, rule)
        return 1
    raise AssertionError(f"the demo's {refused.action} on {story.key} was not refused by {rule}")


def _run_case(
    system: EmbeddedSystem, story: CaseStory, today: dt.date, counts: dict[str, int]
) -> None:
    """The report submitted and accepted, its case taken through its steps up to ``today``."""
    intake, casework = system.intake, system.casework
    received = story.submission.received_on
    if received is None or received > today:
        return
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


def _run_project(
    system: EmbeddedSystem,
    selection_id: UUID,
    story: SelectionStory,
    today: dt.date,
    counts: dict[str, int],
) -> None:
    """The supervision project on the selection, opened on its case: its steps to the
    approved conclusion, the selection's steps on that basis, then its report back and
    close; each only while the project (or the selection) stands where it starts."""
    project, case = story.project, story.case
    assert project is not None
    assert case is not None
    opened_on = project.opening["on"]
    if opened_on > today or case.case_id not in system.casework.repository:
        return
    casework = system.casework
    opening = p.OpenProject.model_validate(
        project.opening | {"selection_id": selection_id, "basis": [case.case_id]}
    )
    with business_day(casework, opened_on):
        project_id = casework.open_project(opening, project.steps[0].actor, project.key)
    counts["projects"] += 1
    counts["project_steps_added"] += _take_project_steps(
        system, project_id, project.steps, 1, today
    )
    if casework.project_conclusion(project_id) is None:
        return
    counts["selection_steps_added"] += _take_steps(
        system, selection_id, project.on_conclusion(project_id), len(story.steps) + 1, today
    )
    counts["project_steps_added"] += _take_project_steps(
        system, project_id, project.closing, len(project.steps) + 1, today
    )


def _take_project_steps(
    system: EmbeddedSystem, project_id: UUID, steps: list[ProjectStep], first: int, today: dt.date
) -> int:
    """As ``_take_steps``, for the project (opened is version 1)."""
    casework = system.casework
    added = 0
    for number, taken in enumerate(steps, start=first):
        day = taken.command.on or today
        if day > today:
            break
        version = casework.get_project(project_id).version
        if version > number:
            continue
        if version < number:
            log.warning("demo project %s stands apart from its story: left alone", project_id)
            break
        with business_day(casework, day):
            casework.execute_project(project_id, taken.action, taken.command, taken.actor)
        added += 1
    return added
