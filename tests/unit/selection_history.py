"""A random but lawful-looking history of selections (decision 0034), written through
casework's application: proposals, the steps in order mostly, now and then a step out of
order or against a rule (refused: nothing stored), circumstances, integrity opinions,
holds and releases by the supervision office, withdrawals. Every day is in January 2026,
before the test systems' today (2 March 2026)."""

from __future__ import annotations

from random import Random
from typing import Any
from uuid import UUID

from schemas import selection_commands as s
from services.casework.application import CaseworkApplication
from services.casework.selection.rules import PERMISSIONS
from services.casework.selections import SELECTION_COMMANDS
from services.common.procedure import ProcedureError

DEPARTMENT = "县委组织部"
REPORTS = [UUID(int=0xA0 + n) for n in range(3)]
CANDIDATES: list[dict[str, Any]] = [
    {"candidate_id": "a", "name": "王建国", "unit": "某县财政局", "cadre_id": "C-001", "votes": 30},
    {"candidate_id": "b", "name": "李明", "unit": "某县财政局", "position": "科长", "votes": 25},
    {"candidate_id": "c", "name": "陈红", "unit": "某县交通运输局", "cadre_id": "C-003", "votes": 10},
]  # fmt: skip
UNITS = ["某县财政局", "某县教育局", "某镇人民政府"]
# The steps written here: not a voided appointment or a responsibility, which rest on a
# concluded case this history has none of (test_selection_archive.py rebuilds those), nor an
# integrity opinion asked of and replied from the information base (test_selection_integrity.py),
# nor a document (test_documents.py).
NOT_WRITTEN = (
    "void_appointment",
    "take_responsibility",
    "request_integrity_opinions",
    "reply_integrity_opinions",
    "issue_document",
)
STEPS = {a: p for a, p in PERMISSIONS.items() if a not in NOT_WRITTEN}


def person(name: str, position: str = "") -> dict[str, str]:
    return {"name": name, "unit": DEPARTMENT, "position": position}


class SelectionWriter:
    def __init__(self, casework: CaseworkApplication, seed: int) -> None:
        self.casework = casework
        self.chance = Random(seed)
        self.selections: list[UUID] = []
        self.finished: set[UUID] = set()  # appointed or withdrawn
        self.accepted = 0
        self.refused = 0

    def write(self, steps: int) -> None:
        for _ in range(steps):
            if not self.selections or self.chance.random() < 0.12:
                self.propose()
            else:
                under_way = [i for i in self.selections if i not in self.finished]
                if under_way and self.chance.random() < 0.9:
                    self.step(self.chance.choice(under_way))
                else:
                    self.step(self.chance.choice(self.selections))

    def propose(self) -> None:
        pick = self.chance
        command = s.ProposeSelection(
            unit=pick.choice(UNITS),
            posts=["副局长"] * pick.randint(1, 2),
            proposers=[s.SelectionPerson(**person("张部长", "常务副部长"))],
            on="2026-01-05",  # type: ignore[arg-type]
            document_number=f"组干〔2026〕{len(self.selections) + 1}号",
        )
        self.selections.append(
            self.casework.propose_selection(command, {"id": "clerk-1", "role": "selection_clerk"})
        )
        self.accepted += 1

    def step(self, selection_id: UUID) -> None:
        pick = self.chance
        selection = self.casework.get_selection(selection_id)
        allowed = [a for a, p in STEPS.items() if selection.stage in p.stages]
        if pick.random() < 0.1 or not allowed:
            action = pick.choice(sorted(STEPS))
        else:
            weights = {"withdraw": 0.2, "record_circumstance": 0.5}
            (action,) = pick.choices(allowed, [weights.get(a, 4) for a in allowed])
        body = self.body(action, selection)
        role = "handler" if action in ("hold_candidate", "release_candidate") else "selection_clerk"
        if role == "selection_clerk" and pick.random() < 0.3:
            role = "leader"
        model = SELECTION_COMMANDS[action][0]
        try:
            after = self.casework.execute_selection(
                selection_id, action, model.model_validate(body), {"id": f"{role}-1", "role": role}
            )
        except ProcedureError:
            self.refused += 1
            return
        self.accepted += 1
        if after.stage.value in ("appointed", "withdrawn"):
            self.finished.add(selection_id)

    def body(self, action: str, selection: Any) -> dict[str, Any]:  # noqa: PLR0911, PLR0912
        pick = self.chance
        subjects = ["a", "b"] if pick.random() < 0.8 else ["a", "c"]
        match action:
            case "record_circumstance":
                return {
                    "kind": pick.choice(["institutional_change", "principal_leader_transfer"]),
                    "starts_on": "2026-01-19",
                    "ends_on": pick.choice(["2026-01-19", "2026-01-21"]),
                    "on": "2026-01-07",
                    "reason": "机构改革",
                }
            case "record_recommendation":
                return {
                    "participants": 40,
                    "candidates": CANDIDATES[: pick.randint(2, 3)],
                    "organizers": [person("刘科长", "干部科科长")],
                    "on": "2026-01-08",
                }
            case "announce_inspection":
                return {
                    "subjects": subjects,
                    "starts_on": "2026-01-12",
                    "ends_on": "2026-01-16",
                    "on": "2026-01-12",
                    "reason": "c 民主推荐得票较少但综合考虑" if "c" in subjects else "",
                }
            case "record_inspection":
                return {
                    "inspectors": [person("陈科长", "考察组组长")],
                    "findings": [{"candidate_id": c, "summary": "表现较好"} for c in selection.subjects],
                    "on": "2026-01-13",
                }  # fmt: skip
            case "record_integrity_opinion":
                return {
                    "opinions": [
                        {
                            "candidate_id": c,
                            "given_by": "县纪委监委",
                            "received_on": "2026-01-14",
                            "clean": pick.random() < 0.8,
                            "reference": f"廉鉴〔2026〕{c}",
                        }
                        for c in selection.subjects
                    ],
                    "on": pick.choice(["2026-01-14", "2026-01-19"]),
                }
            case "record_deliberation":
                return {
                    "candidates": list(selection.subjects),
                    "consulted": [person("县委书记")],
                    "on": "2026-01-19",
                }
            case "record_decision":
                return {
                    "body": "县委常委会",
                    "members_due": 9,
                    "members_present": pick.choice([5, 7, 9]),
                    "votes": [
                        {"candidate_id": c, "agree": pick.randint(3, 5), "disagree": 0}
                        for c in selection.subjects
                    ],
                    "decision_makers": [person("县委书记", "主持人")],
                    "on": "2026-01-20",
                }
            case "start_publicity":
                return {
                    "candidates": list(selection.approved) or ["a"],
                    "starts_on": "2026-01-21",
                    "ends_on": "2026-01-27",
                    "on": "2026-01-21",
                }
            case "record_appointment":
                waiting = [
                    c
                    for c in (selection.publicity or {}).get("candidates", ["a"])
                    if c not in selection.appointed and not selection.held(c)
                ]
                return {
                    "appointments": [{"candidate_id": c, "post": "副局长"} for c in waiting or ["a"]],
                    "on": "2026-01-28",
                }  # fmt: skip
            case "hold_candidate" | "release_candidate":
                held = [(c, r) for c, reports in selection.holds.items() for r in reports]
                if action == "release_candidate" and held:
                    candidate, report = pick.choice(held)
                else:
                    candidate, report = pick.choice(subjects), pick.choice(REPORTS)
                return {
                    "candidate_id": candidate,
                    "report_id": str(report),
                    "on": max(selection.last_on.isoformat(), pick.choice(["2026-01-14", "2026-01-23"])),
                }  # fmt: skip
            case _:  # withdraw
                return {"reason": "工作调整，终止本次选拔", "on": "2026-01-29"}
