"""Demo: selections on the record (issue 14), each through the real commands on its business
days, by the demo's selection clerk (孙伟, the cadre section) and, for holds, the office.

- **clean** (青山县财政局, one 副局长): every step from the proposal to the appointment, in
  order, the integrity opinion before the meeting, a five-working-day publicity;
- **sudden** (青山县白沙镇, 党委副书记): the principal leader's transfer is on the record
  (主要领导调动, 16 November to 11 December); the recommendation, inspection and
  deliberation are recorded, and the decision meeting of 27 November was refused as a
  sudden promotion (突击提拔, rule ``sudden_promotion``): the selection waits at 酝酿. A
  user who tries the decision on the record's page sees the same refusal.

Idempotent: each selection is proposed under its own Idempotency-Key (the same selection on
every run) and each step is taken only while the selection stands where the step starts.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from schemas import selection_commands as s
from schemas.glossary import CircumstanceKind, Role
from services.common.procedure import RuleBroken
from services.demo.steps import DEMO_TODAY, business_day

if TYPE_CHECKING:
    from uuid import UUID

    from services.bootstrap import EmbeddedSystem

log = logging.getLogger(__name__)

D = dt.date
CLERK = {"id": "selection_clerk", "role": Role.SELECTION_CLERK.value}
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


@dataclass
class SelectionStory:
    """One selection: its proposal (under the demo's key) and its steps, oldest first."""

    key: str
    proposal: s.ProposeSelection
    steps: list[SelectionStep] = field(default_factory=list)
    # A step the office tried and the rules refused: (the step, the rule that refuses it).
    refused: tuple[SelectionStep, str] | None = None


def _step(action: str, model: type[s.SelectionCommand], **fields: Any) -> SelectionStep:
    return SelectionStep(action, model.model_validate(fields))


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

STORIES = (CLEAN, SUDDEN)


def seed_selections(system: EmbeddedSystem, today: dt.date = DEMO_TODAY) -> dict[str, int]:
    """Propose and take the demo's selections as far as ``today``; counts of what it did."""
    casework = system.casework
    counts = {"selections": 0, "selection_steps_added": 0, "selection_refusals": 0}
    for story in STORIES:
        if story.proposal.on is not None and story.proposal.on > today:
            continue
        with business_day(casework, story.proposal.on or today):
            selection_id = casework.propose_selection(story.proposal, CLERK, story.key)
        counts["selections"] += 1
        counts["selection_steps_added"] += _take_steps(system, selection_id, story, today)
        if story.refused is not None:
            counts["selection_refusals"] += _try_refused(system, selection_id, story, today)
    return counts


def _take_steps(
    system: EmbeddedSystem, selection_id: UUID, story: SelectionStory, today: dt.date
) -> int:
    """Each step whose day has come, only while the selection stands where it starts (its
    version: the proposal is 1, the k-th step makes k + 1)."""
    casework = system.casework
    added = 0
    for number, step in enumerate(story.steps, start=1):
        day = step.command.on or today
        if day > today:
            break
        version = casework.get_selection(selection_id).version
        if version > number:
            continue  # taken on an earlier run
        if version < number:
            log.warning("demo selection %s stands apart from its story: left alone", story.key)
            break
        with business_day(casework, day):
            casework.execute_selection(selection_id, step.action, step.command, CLERK)
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
    if selection.version != len(story.steps) + 1 or (step.command.on or today) > today:
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
