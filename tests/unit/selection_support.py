"""Given steps of a selection (decision 0034), shared by the selection's tests: a selection
built up to a stage, its events collected (nothing pending), and a refusal that stores
nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest

from schemas.glossary import SelectionStage
from services.casework.selection import Selection
from services.common.procedure import ProcedureError

St = SelectionStage
D = dt.date
E = TypeVar("E", bound=ProcedureError)
Actor = dict[str, str]
Step = Callable[[Selection], object]

CLERK: Actor = {"id": "clerk-1", "role": "selection_clerk"}
LEADER: Actor = {"id": "leader-1", "role": "leader"}
HANDLER: Actor = {"id": "handler-1", "role": "handler"}
OPERATOR: Actor = {"id": "op-1", "role": "operator"}
REPORT = UUID("00000000-0000-4000-8000-000000000001")

# Candidates of the recommendation: a and b become inspection subjects, c (fewest votes) not.
CANDIDATES: list[dict[str, Any]] = [
    {"candidate_id": "a", "name": "王建国", "unit": "某县财政局", "cadre_id": "C-001", "votes": 30},
    {"candidate_id": "b", "name": "李明", "unit": "某县财政局", "position": "科长", "votes": 25},
    {"candidate_id": "c", "name": "赵强", "unit": "某县审计局", "votes": 10},
]
DEPARTMENT = "县委组织部"


def person(name: str, position: str = "") -> dict[str, str]:
    return {"name": name, "unit": DEPARTMENT, "position": position}


PROPOSED_ON = D(2026, 3, 2)  # a Monday
RECEIVED_ON = D(2026, 3, 11)


def propose(actor: Actor = CLERK, on: D = PROPOSED_ON) -> Selection:
    return Selection.propose(
        uuid4(),
        unit="某县财政局",
        posts=["副局长", "副局长"],
        proposers=[person("张部长", "常务副部长")],
        actor=actor,
        on=on,
        document_number="组干〔2026〕3号",
        reason="班子缺额两名",
    )


def recommend(s: Selection, **change: Any) -> None:
    args: dict[str, Any] = {
        "participants": 40,
        "candidates": CANDIDATES,
        "organizers": [person("刘科长", "干部科科长")],
        "actor": CLERK,
        "on": D(2026, 3, 5),
        "document_number": "推荐-2026-01",
    }
    s.record_recommendation(**args | change)


def announce(s: Selection, **change: Any) -> None:
    args: dict[str, Any] = {
        "subjects": ["a", "b"],
        "starts_on": D(2026, 3, 9),
        "ends_on": D(2026, 3, 13),
        "actor": CLERK,
        "on": D(2026, 3, 9),
    }
    s.announce_inspection(**args | change)


def inspect(s: Selection, **change: Any) -> None:
    args: dict[str, Any] = {
        "inspectors": [person("陈科长", "考察组组长"), person("周干事")],
        "findings": [
            {"candidate_id": "a", "summary": "德才表现突出"},
            {"candidate_id": "b", "summary": "工作实绩较好"},
        ],
        "actor": CLERK,
        "on": D(2026, 3, 10),
    }
    s.record_inspection(**args | change)


def opinion(candidate_id: str, received_on: D = RECEIVED_ON) -> dict[str, Any]:
    return {
        "candidate_id": candidate_id,
        "given_by": "县纪委监委",
        "received_on": received_on,
        "clean": True,
        "summary": "未发现影响提拔使用的问题",
        "reference": f"廉鉴〔2026〕{candidate_id}",
    }


def integrity(s: Selection, **change: Any) -> None:
    args: dict[str, Any] = {
        "opinions": [opinion("a"), opinion("b")],
        "actor": CLERK,
        "on": D(2026, 3, 12),
    }
    s.record_integrity_opinion(**args | change)


def deliberate(s: Selection, **change: Any) -> None:
    args: dict[str, Any] = {
        "candidates": ["a", "b"],
        "consulted": [person("县委书记"), person("县长")],
        "actor": CLERK,
        "on": D(2026, 3, 16),
        "summary": "意见一致",
    }
    s.record_deliberation(**args | change)


def vote(candidate_id: str, agree: int, disagree: int = 0, defer: int = 0) -> dict[str, Any]:
    return {"candidate_id": candidate_id, "agree": agree, "disagree": disagree, "defer": defer}


def decide(s: Selection, **change: Any) -> None:
    args: dict[str, Any] = {
        "body": "县委常委会",
        "members_due": 9,
        "members_present": 7,
        "votes": [vote("a", 7), vote("b", 6, 1)],
        "decision_makers": [person("县委书记", "主持人")],
        "actor": LEADER,
        "on": D(2026, 3, 18),
        "document_number": "常委会纪要〔2026〕5号",
    }
    s.record_decision(**args | change)


def publicize(s: Selection, **change: Any) -> None:
    args: dict[str, Any] = {
        "candidates": ["a", "b"],
        # Thursday to the next Wednesday: five working days (the application counts them).
        "starts_on": D(2026, 3, 19),
        "ends_on": D(2026, 3, 25),
        "working_days": 5,
        "actor": CLERK,
        "on": D(2026, 3, 19),
    }
    s.start_publicity(**args | change)


def appoint(s: Selection, **change: Any) -> None:
    args: dict[str, Any] = {
        "appointments": [
            {"candidate_id": "a", "post": "副局长"},
            {"candidate_id": "b", "post": "副局长"},
        ],
        "actor": CLERK,
        "on": D(2026, 3, 26),
        "document_number": "任〔2026〕8号",
    }
    s.record_appointment(**args | change)


# The given steps of the happy path, in order, each with the stage it leaves.
PATH: list[tuple[Step, St]] = [
    (recommend, St.RECOMMENDED),
    (announce, St.INSPECTION_ANNOUNCED),
    (inspect, St.INSPECTED),
    (integrity, St.INSPECTED),
    (deliberate, St.DELIBERATED),
    (decide, St.DECIDED),
    (publicize, St.PUBLICIZED),
    (appoint, St.APPOINTED),
]


def given(*steps: Step) -> Selection:
    """A proposed selection after ``steps``, with nothing pending: what follows is the story."""
    s = propose()
    for step in steps:
        step(s)
    s.collect_events()
    return s


def before(step: Step) -> tuple[Step, ...]:
    """The happy path's steps before ``step``."""
    steps = [p for p, _ in PATH]
    return tuple(steps[: steps.index(step)])


def refused(s: Selection, error: type[E], command: Callable[[], object]) -> E:
    """``command`` is refused with ``error`` and stores nothing."""
    version = s.version
    with pytest.raises(error) as caught:
        command()
    assert s.version == version
    assert s.collect_events() == []
    return caught.value


# A concluded case a voided appointment or a responsibility rests on.
CASE = UUID("00000000-0000-4000-8000-0000000000ca")


def void(s: Selection, **change: Any) -> None:
    args: dict[str, Any] = {
        "candidates": ["a"],
        "ground": "sudden_promotion",
        "basis_kind": "case",
        "basis_id": CASE,
        "actor": LEADER,
        "on": D(2026, 4, 20),
        "document_number": "组通〔2026〕12号",
        "reason": "主要领导调动期间突击提拔",
    }
    s.void_appointment(**args | change)


def hold_responsible(s: Selection, **change: Any) -> None:
    args: dict[str, Any] = {
        "person": {
            "name": "陈科长",
            "unit": DEPARTMENT,
            "position": "考察组组长",
            "cadre_id": "C-009",
        },
        "step": "inspection",
        "handling": "admonition",
        "effects": {"bars_promotion_months": 6, "rule_zh": "诫勉的，6个月内不得提拔"},
        "basis_kind": "case",
        "basis_id": CASE,
        "actor": LEADER,
        "on": D(2026, 4, 20),
        "document_number": "组通〔2026〕13号",
        "reason": "考察失察",
    }
    s.take_responsibility(**args | change)
