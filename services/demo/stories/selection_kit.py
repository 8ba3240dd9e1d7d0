"""What the demo's selection stories are made of (stories/selections.py runs them): the
clerk and the office's leader who act, a selection's story and its steps, the case on a
report about it and the supervision project (立项督查) on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from schemas import project_commands as p
from schemas import selection_commands as s
from schemas.glossary import Role
from schemas.submissions import ReportSubmission
from services.demo.steps import HANDLER, LEADER, Step
from services.intake.domain import case_id_for_report, report_id_for_idempotency_key

D = dt.date
CLERK = {"id": "selection_clerk", "role": Role.SELECTION_CLERK.value}
OFFICE_LEADER = {"id": LEADER, "role": Role.LEADER.value}
OFFICE_HANDLER = {"id": HANDLER, "role": Role.HANDLER.value}
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
    # A case on a report about the selection (its key, the report, its steps), and the
    # supervision project opened on it.
    case: CaseStory | None = None
    project: ProjectStory | None = None


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


def step(action: str, model: type[s.SelectionCommand], **fields: Any) -> SelectionStep:
    return SelectionStep(action, model.model_validate(fields))


def office_step(
    action: str, model: type[s.SelectionCommand], actor: dict[str, str], **fields: Any
) -> SelectionStep:
    """A step the supervision office takes on the selection (an integrity reply)."""
    return SelectionStep(action, model.model_validate(fields), actor)


def office(action: str, model: type[s.SelectionCommand], **fields: Any) -> SelectionStep:
    """A step of the supervision office's leader (a voided appointment, a responsibility)."""
    return SelectionStep(action, model.model_validate(fields), OFFICE_LEADER)


@dataclass(frozen=True)
class ProjectStep:
    action: str
    command: p.ProjectCommand
    actor: dict[str, str] = field(default_factory=lambda: OFFICE_LEADER)


def project_step(
    action: str, model: type[p.ProjectCommand], actor: dict[str, str], **fields: Any
) -> ProjectStep:
    return ProjectStep(action, model.model_validate(fields), actor)


@dataclass(frozen=True)
class ProjectStory:
    """A supervision project on the story's selection, opened on its case (under the demo's
    key): its steps to the approved conclusion, the selection's steps taken on that basis
    (given the project's id), then its report back and close."""

    key: str
    opening: dict[str, Any]  # the opening's fields but the selection and the basis
    steps: list[ProjectStep]
    on_conclusion: Callable[[UUID], list[SelectionStep]]
    closing: list[ProjectStep]
