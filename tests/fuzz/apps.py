"""The apps the fuzz suite runs against, on SQLite in a temporary folder and a fixed clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi import FastAPI

from schemas.events import Actor
from schemas.glossary import Category, MemberUnit, Role
from schemas.project_commands import OpenProject
from schemas.selection_commands import ProposeSelection, SelectionPerson
from services.bootstrap import (
    EmbeddedSystem,
    build_accounts,
    build_casework,
    casework_api_app,
    intake_api_app,
    projections_api_app,
)
from services.common.china_time import FixedClock
from tests.support.auth import bearer
from tests.unit.conftest import make_settings, submission

TODAY = dt.date(2026, 3, 2)  # a Monday
# An account the fuzzed administrator may change (not one whose token the suite uses).
SPARE_ACCOUNT = "fuzz-spare"
CADRES = Path(__file__).resolve().parents[2] / "services" / "demo" / "cadres.csv"

# One account per role (username, role, unit/section), as the tests' bearer() makes them.
ROLE_ACCOUNTS: list[tuple[str, Role, dict[str, Any]]] = [
    ("fuzz-operator", Role.OPERATOR, {}),
    ("fuzz-handler", Role.HANDLER, {"section": "第一审查调查室"}),
    ("fuzz-leader", Role.LEADER, {"section": "第一审查调查室"}),
    ("fuzz-liaison", Role.LIAISON, {"unit": MemberUnit.ORGANIZATION_DEPARTMENT.zh}),
    ("fuzz-auditor", Role.AUDITOR, {}),
    ("fuzz-admin", Role.ADMIN, {}),
    ("fuzz-clerk", Role.SELECTION_CLERK, {}),
]


def embedded_system(folder: Path) -> EmbeddedSystem:
    """The embedded system (every route of every process) on a clock standing still; reports
    are accepted on registration, so that a report opens a case."""
    return EmbeddedSystem.build(make_settings(folder, auto_accept=True), clock=FixedClock.on(TODAY))


def seed(system: EmbeddedSystem) -> dict[str, str]:
    """A report with its case, a selection, a supervision project on it, and the cadre
    register: path values that name something."""
    system.read.register.import_csv(CADRES)
    bearer(system.accounts, SPARE_ACCOUNT, Role.HANDLER)  # the administrators' to change
    receipt = system.intake.submit(
        submission(), actor=Actor(id="fuzz-operator", role=Role.OPERATOR)
    )
    system.catch_up()
    case_id = system.intake.get_report(UUID(receipt.report_id)).case_id
    assert case_id is not None, "the seeded report opened no case"
    # A proposed selection (decision 0034): its steps are fuzzed on a real record too.
    selection_id = system.casework.propose_selection(
        ProposeSelection(
            unit="某县财政局", posts=["副局长"], proposers=[SelectionPerson(name="张部长")]
        ),
        {"id": "fuzz-leader", "role": Role.LEADER.value},
    )
    # A supervision project on that selection, on the report's case (立项督查).
    project_id = system.casework.open_project(
        OpenProject(
            selection_id=selection_id,
            basis=[case_id],
            irregularities=[Category.SEEKING_OFFICE],
            clues="反映王建国在干部调整前多次找领导要求提拔",
        ),
        {"id": "fuzz-leader", "role": Role.LEADER.value},
    )
    return {
        "report_id": str(receipt.report_id),
        "case_id": str(case_id),
        "selection_id": str(selection_id),
        "project_id": str(project_id),
        "cadre_id": "QS-0001",
        "username": SPARE_ACCOUNT,
    }


def distributed_apps(system: EmbeddedSystem) -> dict[str, FastAPI]:
    """The distributed processes' HTTP apps, composed as `jiandu intake-api`, `casework` and
    `projections-api` compose them, on the embedded system's SQLite files and clock."""
    settings, clock = system.settings, system.clock
    accounts = build_accounts(settings, clock)
    work = build_casework(settings, clock=clock, accounts=accounts)
    return {
        "intake-api": intake_api_app(settings, clock),
        "casework": casework_api_app(work, accounts, lambda: True),
        "projections-api": projections_api_app(settings, clock),
    }
