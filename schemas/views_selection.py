"""The selection record as the write model holds it (``GET /api/v1/selections/{id}``, and
the answer of every step), and the selections read model's list and candidates (decision 0034)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from schemas.views import View


class SelectionCreatedView(View):
    """A proposed selection: its id, version and stage."""

    selection_id: str
    version: int
    stage: str
    stage_zh: str


class SelectionCandidate(View):
    """A candidate of the democratic recommendation, with their votes."""

    candidate_id: str
    name: str
    unit: str = ""
    position: str = ""
    cadre_id: str | None = None
    votes: int
    status: str = Field(description="CandidateStatus: the furthest step that names them")
    status_zh: str


class SelectionPeriod(View):
    starts_on: dt.date
    ends_on: dt.date


class HoldingReport(View):
    """A report holding a candidate, and the case it opened or joined when casework held
    the candidate itself (shown to the supervision office; None for a hold placed by hand,
    and for a selection clerk, who reads no case)."""

    report_id: str
    case_id: str | None = None
    automatic: bool = False


class SelectionHold(View):
    """A candidate held, and the reports holding them."""

    candidate_id: str
    report_ids: list[str]
    reports: list[HoldingReport] = Field(default_factory=list)


class SelectionVoided(View):
    """A candidate whose appointment (or decision) is void (任免决定无效)."""

    candidate_id: str
    ground: str
    ground_zh: str
    basis_kind: str
    basis_id: str
    document_number: str
    reason: str
    on: dt.date


class SelectionResponsibility(View):
    """A person held responsible for a step of the selection (选人用人责任追究)."""

    person: dict[str, str]
    step: str
    step_zh: str
    handling: str
    handling_zh: str
    effects: dict[str, Any]
    basis_kind: str
    basis_id: str
    document_number: str
    reason: str
    on: dt.date


class SelectionView(SelectionCreatedView):
    unit: str
    posts: list[str]
    proposers: list[dict[str, str]]
    proposed_on: dt.date
    last_on: dt.date = Field(description="the day of the last step of the procedure")
    circumstances: list[dict[str, Any]]
    participants: int
    candidates: list[SelectionCandidate]
    subjects: list[str]
    announcement: SelectionPeriod | None
    opinions: list[dict[str, Any]] = Field(description="the latest integrity opinion of each")
    opinion_requests: dict[str, dt.date] = Field(
        default_factory=dict,
        description="integrity opinions asked for and not yet given: candidate id, day asked",
    )
    findings: list[dict[str, Any]] = Field(description="the latest inspection finding of each")
    deliberated: list[str]
    decision: dict[str, Any] | None = Field(description="body, members due and present, on")
    approved: list[str]
    publicity: dict[str, Any] | None = Field(
        description="candidates, starts_on, ends_on and the working days the application counted"
    )
    appointed: list[dict[str, Any]]
    holds: list[SelectionHold]
    withdrawn_on: dt.date | None
    voided: list[SelectionVoided]
    responsibilities: list[SelectionResponsibility]
    allowed_actions: list[str] = Field(description="the steps the caller's role may take now")


# -- the selections read model (``GET /api/v1/selections``) --------------------------------


class SelectionListItem(View):
    """One selection as the selections read model has it."""

    selection_id: str
    unit: str
    posts: list[str]
    stage: str
    stage_zh: str
    proposed_on: dt.date | None
    last_step: str | None = Field(description="the event type of the last step of the procedure")
    last_step_on: dt.date | None
    next_step: str | None = Field(description="the step expected next (its action's name)")
    waits_on: str | None = Field(
        description="the period the selection waits on: inspection_announcement or publicity"
    )
    waits_on_zh: str | None
    waits_until: dt.date | None = Field(description="the last day of that period")
    candidates: int = Field(description="candidates of the democratic recommendation")
    held: int = Field(description="candidates held by a report now")
    version: int


class SelectionPage(View):
    items: list[SelectionListItem]
    page: int
    page_size: int
    total: int
    filters: dict[str, str]


class SelectionCandidateRow(View):
    """A candidate of a selection as the selections read model has it."""

    selection_id: str
    candidate_id: str
    cadre_id: str | None
    name: str | None
    unit: str | None
    position: str | None
    votes: int | None = Field(description="the democratic recommendation's votes")
    status: str
    status_zh: str
    held: bool
    integrity_clean: bool | None = Field(description="the latest integrity opinion; null: none")
    appointed_post: str | None
