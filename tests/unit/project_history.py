"""A random but lawful-looking history of supervision projects (立项督查) on the selections a
``SelectionWriter`` wrote, on the cases a history opened: openings by leaders, the steps in
order mostly, now and then a step out of order, by a role that may not take it, or against a
named rule (refused: nothing stored), returned conclusions. Every day is in February 2026,
before the test systems' today (2 March 2026). Its own ``Random``, so the other histories
written beside it do not change."""

from __future__ import annotations

from collections.abc import Callable
from random import Random
from typing import Any
from uuid import UUID

from schemas import project_commands as p
from services.casework.application import CaseworkApplication
from services.casework.project import SupervisionProject
from services.casework.project.rules import PERMISSIONS
from services.casework.projects import PROJECT_COMMANDS
from services.common.procedure import ProcedureError

# The steps written here: not a document (test_documents.py), which moves no stage.
STEPS = {a: p for a, p in PERMISSIONS.items() if a != "issue_document"}

IRREGULARITIES = ["seeking_office", "buying_selling_office", "vote_buying", "rushed_promotion"]
DAYS = ["2026-02-02", "2026-02-05", "2026-02-10", "2026-02-16", "2026-02-24"]


def member(name: str) -> dict[str, str]:
    return {"name": name, "unit": "县纪委监委", "position": "干部监督室"}


class ProjectWriter:
    def __init__(
        self,
        casework: CaseworkApplication,
        selections: Callable[[], list[UUID]],
        cases: Callable[[], list[UUID]],
        seed: int,
    ) -> None:
        self.casework = casework
        self.selections, self.cases = selections, cases
        self.chance = Random(seed * 7 + 3)
        self.projects: list[UUID] = []
        self.accepted = 0
        self.refused = 0

    def write(self, steps: int) -> None:
        for _ in range(steps):
            if not self.selections() or not self.cases():
                return
            if not self.projects or self.chance.random() < 0.15:
                self.open()
            else:
                self.step(self.chance.choice(self.projects))

    def open(self) -> None:
        pick = self.chance
        irregularities = pick.sample(IRREGULARITIES, pick.randint(1, 2))
        command = p.OpenProject.model_validate(
            {
                "selection_id": str(pick.choice(self.selections())),
                "basis": [str(pick.choice(self.cases()))],
                "irregularities": irregularities,
                "clues": "" if pick.random() < 0.1 else "反映考察期间有人打招呼、拉票",
                "on": DAYS[0],
                "document_number": f"督立〔2026〕{len(self.projects) + 1}号",
            }
        )
        try:
            project_id = self.casework.open_project(command, {"id": "leader-1", "role": "leader"})
        except ProcedureError:  # clues left blank
            self.refused += 1
            return
        self.projects.append(project_id)
        self.accepted += 1

    def step(self, project_id: UUID) -> None:
        pick = self.chance
        project = self.casework.get_project(project_id)
        allowed = [a for a, perm in STEPS.items() if project.stage in perm.stages]
        if pick.random() < 0.08 or not allowed:
            action = pick.choice(sorted(STEPS))
        else:
            weights = {"return_conclusion": 1, "record_finding": 3}
            (action,) = pick.choices(allowed, [weights.get(a, 4) for a in allowed])
        roles = sorted(r.value for r in PERMISSIONS[action].roles)
        role = pick.choice(roles) if pick.random() < 0.95 else pick.choice(["handler", "leader"])
        model = PROJECT_COMMANDS[action][0]
        try:
            self.casework.execute_project(
                project_id,
                action,
                model.model_validate(self.body(action, project)),
                {"id": f"{role}-1", "role": role},
            )
        except ProcedureError:
            self.refused += 1
            return
        self.accepted += 1

    def body(self, action: str, project: SupervisionProject) -> dict[str, Any]:  # noqa: PLR0911
        pick = self.chance
        day = max(project.last_on.isoformat(), pick.choice(DAYS))
        match action:
            case "form_team":
                members = [member("赵强")] if pick.random() < 0.9 else []
                return {"leader": member("周敏"), "members": members, "on": day}
            case "record_plan":
                return {"summary": "调阅考察材料，个别谈话", "on": day}
            case "record_finding":
                return {
                    "irregularity": pick.choice(project.irregularities),
                    "confirmed": pick.random() < 0.6,
                    "summary": "谈话核实",
                    "evidence_refs": ["谈话笔录1"],
                    "on": day,
                }
            case "propose_conclusion":
                confirmed = any(f["confirmed"] for f in project.findings)
                verdict = pick.choice(["true", "partly_true"] if confirmed else ["untrue"])
                if pick.random() < 0.1:
                    verdict = "true"  # refused when nothing was confirmed
                return {"verdict": verdict, "summary": "经核查", "on": day}
            case "report_back":
                return {"reported_to": "县委", "document_number": "督报〔2026〕1号", "on": day}
            case "return_conclusion":
                return {"reason": "核查不充分", "on": day}
        return {"on": day}
