"""The supervision projects (立项督查): where each project stands and its deadlines.

- ``project_list``: one row per project: the selection it was opened on (its unit is the
  selection's, read by the queries from ``selection_list``: the selection's events and the
  project's may reach the projection in any order), the irregularities it was opened on,
  its stage (from ``services/common/project_stages.py``, the table the SupervisionProject
  reads too), the day it was opened, its last step and that step's day, the verdict once the
  conclusion is approved, and the aggregate's version;
- ``project_deadlines``: one row per deadline of a project (``project_plan`` and
  ``project_conclusion`` from the opening, ``project_report_back`` from the approval) as the
  events carry them (due day, provisional, the working days it was counted on), and the day
  it was met (the plan recorded, the conclusion approved, the report sent back);
- ``project_basis``: one row per case (report) a project was opened on, so that a case's
  page lists the projects resting on it.

Each event writes only the columns it knows, keyed by the project (and deadline): which
deadline is open, and its state today, are computed by the queries, so a replay in log order
rebuilds the same rows (decision 0010). The team, plan, findings and conclusion's text stay
on the record (the aggregate, read by the project's page).
"""

from __future__ import annotations

from typing import Any

from schemas.event_base import DueDate
from schemas.events import (
    EventEnvelope,
    ProjectConclusionApprovedV1,
    ProjectOpenedV1,
    ProjectPlanRecordedV1,
    ProjectReportedBackV1,
    ProjectStep,
)
from services.common.project_stages import is_project_event, stage_after
from services.projections.rows import Upsert, as_json, payload_of, text

name = "projects"
version = 1
tables: tuple[str, ...] = ("project_list", "project_deadlines", "project_basis")
ddl: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS project_list (
        project_id TEXT PRIMARY KEY,
        selection_id TEXT,
        irregularities TEXT,
        stage TEXT,
        opened_on TEXT,
        last_step TEXT,
        last_step_on TEXT,
        verdict TEXT,
        version INTEGER NOT NULL,
        last_step_at TEXT
    )""",
    # The list's order, its stage filter, and the projects on one selection.
    "CREATE INDEX IF NOT EXISTS project_list_recent ON project_list (last_step_at DESC, project_id)",
    "CREATE INDEX IF NOT EXISTS project_list_stage ON project_list (stage)",
    "CREATE INDEX IF NOT EXISTS project_list_selection ON project_list (selection_id)",
    """CREATE TABLE IF NOT EXISTS project_deadlines (
        project_id TEXT NOT NULL,
        name TEXT NOT NULL,
        due TEXT,
        provisional INTEGER,
        note TEXT,
        started_on TEXT,
        working_days INTEGER,
        met_on TEXT,
        PRIMARY KEY (project_id, name)
    )""",
    """CREATE TABLE IF NOT EXISTS project_basis (
        project_id TEXT NOT NULL,
        case_id TEXT NOT NULL,
        PRIMARY KEY (project_id, case_id)
    )""",
    "CREATE INDEX IF NOT EXISTS project_basis_case ON project_basis (case_id)",
)

# Which deadline each step meets (services/casework/project/steps.py: the same names).
MEETS = {
    "ProjectPlanRecorded": "project_plan",
    "ProjectConclusionApproved": "project_conclusion",
    "ProjectReportedBack": "project_report_back",
}


def project(envelope: EventEnvelope) -> list[Upsert]:
    if not is_project_event(envelope.event_type):
        return []  # reports, cases and selections have read models of their own
    payload = payload_of(envelope)
    assert isinstance(payload, ProjectStep)  # every project event is a step of its record
    project_id = text(envelope.aggregate_id)
    values: dict[str, Any] = {
        "version": envelope.aggregate_version,
        "last_step_at": envelope.occurred_at.isoformat(),
        "last_step": envelope.event_type,
        "last_step_on": payload.on.isoformat(),
    }
    stage = stage_after(envelope.event_type, payload)
    if stage is not None:  # every project event is a step (project_stages.FIXED)
        values["stage"] = stage.value
    rows: list[Upsert] = []
    match payload:
        case ProjectOpenedV1():
            values |= {
                "selection_id": text(payload.selection_id),
                "irregularities": as_json([i.value for i in payload.irregularities]),
                "opened_on": payload.on.isoformat(),
            }
            rows += [
                _deadline(project_id, "project_plan", payload.plan_due),
                _deadline(project_id, "project_conclusion", payload.conclusion_due),
            ]
            rows += [
                Upsert("project_basis", {"project_id": project_id, "case_id": text(case_id)})
                for case_id in dict.fromkeys(payload.basis)
            ]
        case ProjectConclusionApprovedV1():
            values["verdict"] = payload.verdict.value
            rows.append(_deadline(project_id, "project_report_back", payload.report_back_due))
    if isinstance(
        payload, ProjectPlanRecordedV1 | ProjectConclusionApprovedV1 | ProjectReportedBackV1
    ):
        met = MEETS[envelope.event_type]
        rows.append(
            Upsert(
                "project_deadlines",
                {"project_id": project_id, "name": met},
                {"met_on": payload.on.isoformat()},
            )
        )
    rows.append(Upsert("project_list", {"project_id": project_id}, values))
    return rows


def _deadline(project_id: str, deadline: str, due: DueDate) -> Upsert:
    return Upsert(
        "project_deadlines",
        {"project_id": project_id, "name": deadline},
        {
            "due": due.due.isoformat(),
            "provisional": int(due.provisional),
            "note": due.note,
            "started_on": due.started_on.isoformat() if due.started_on else None,
            "working_days": due.working_days,
        },
    )
