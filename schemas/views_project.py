"""The supervision project as the write model holds it (``GET /api/v1/projects/{id}``, and the
answer of every step), with each deadline's clock today; and as the projects read model lists
it (``GET /api/v1/projects``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from schemas.views import DeadlineView, View


class ProjectCreatedView(View):
    """An opened project: its id, version and stage."""

    project_id: str
    version: int
    stage: str
    stage_zh: str


class ProjectView(ProjectCreatedView):
    selection_id: str
    basis: list[str] = Field(description="the cases (reports) the project was opened on")
    irregularities: list[str]
    irregularities_zh: list[str]
    clues: str
    document_number: str
    opened_on: dt.date
    opened_by: dict[str, str]
    last_on: dt.date = Field(description="the day of the project's last step")
    team: dict[str, Any] | None
    plan: dict[str, Any] | None
    findings: list[dict[str, Any]]
    proposal: dict[str, Any] | None = Field(description="the conclusion awaiting approval")
    conclusion: dict[str, Any] | None = Field(description="the approved conclusion")
    returns: list[dict[str, Any]]
    report: dict[str, Any] | None
    closed_on: dt.date | None
    deadlines: list[DeadlineView]
    allowed_actions: list[str]


# -- the projects read model (``GET /api/v1/projects``) -------------------------------------


class ProjectListItem(View):
    """One project as the projects read model has it."""

    project_id: str
    selection_id: str | None
    unit: str | None = Field(description="the selection's unit (none until it is projected)")
    irregularities: list[str]
    irregularities_zh: list[str]
    stage: str
    stage_zh: str
    opened_on: dt.date | None
    last_step: str | None = Field(description="the event type of the project's last step")
    last_step_on: dt.date | None
    verdict: str | None = Field(description="the approved conclusion's verdict")
    verdict_zh: str | None
    deadline: DeadlineView | None = Field(
        description="the open deadline due first (plan, conclusion, report back), its state today"
    )
    version: int


class ProjectPage(View):
    items: list[ProjectListItem]
    page: int
    page_size: int
    total: int
    filters: dict[str, str]
