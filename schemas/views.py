"""API responses (read side). None of them holds reporter identity."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from schemas.glossary import ManagementLevel


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class CadreRecord(View):
    """A row of the cadre register (干部名册)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    cadre_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    unit: Annotated[str, StringConstraints(max_length=200)] = ""
    position: Annotated[str, StringConstraints(max_length=200)] = ""
    management_level: ManagementLevel = ManagementLevel.OTHER


class ReportView(View):
    report_id: str
    ledger_number: str | None
    status: str
    status_zh: str
    channel: str
    categories: list[str]
    subjects: list[dict[str, Any]]
    summary: str
    sealed: bool
    received_on: dt.date
    reporter: dict[str, Any]  # pseudonymous reference and flags only
    case_id: str | None
    triage: dict[str, Any]
    acceptance_notice: dict[str, Any] | None
    version: int
    allowed_actions: list[str]


class DeadlineView(View):
    name: str
    due: dt.date
    provisional: bool
    note: str
    met_on: dt.date | None
    state: str
    state_zh: str


class CaseSelectionHold(View):
    """A selection's candidate one of the case's reports holds (``held``), or held until
    released: a report received during the selection's inspection announcement or
    pre-appointment publicity (decision 0034, issue 14 item 2)."""

    selection_id: str
    unit: str
    posts: list[str]
    stage: str
    stage_zh: str
    candidate_id: str
    candidate_name: str
    report_id: str
    held: bool


class DocumentView(View):
    """An official document issued (公文, decision 0035): its number, the step it documents,
    its fields as sent, and where to download it as Word (``download``)."""

    document_id: str
    kind: str
    kind_zh: str
    number: str
    about: str
    issued_on: dt.date
    issued_by: str
    template_version: str
    fields: dict[str, str]
    download: str


class DocumentTemplateView(View):
    """A kind of document's template (decision 0035): the version issued with now, every
    version kept ({version, added_at, added_by}), the number prefix, the fields it may use."""

    kind: str
    kind_zh: str
    version: str
    prefix: str
    fields: list[dict[str, str]]
    history: list[dict[str, str]]


class DocumentableStep(View):
    """A step taken that a document may now be issued about (none issued yet)."""

    kind: str
    kind_zh: str
    about: str
    label: str


class CaseView(View):
    case_id: str
    kind: str
    state: str
    state_zh: str
    ledger_number: str
    report_ids: list[str]
    channel: str
    categories: list[str]
    subjects: list[dict[str, Any]]
    summary: str
    received_on: dt.date
    version: int
    opened_at: dt.datetime
    handler_id: str | None
    disposition: str | None
    conclusion: dict[str, Any] | None
    handlings: list[dict[str, Any]]
    clearing_stage: str | None  # the clearing last proposed
    clearings: list[dict[str, Any]] = []  # every clearing of the case: {cadre, stage}
    real_name_reporters: int
    linked_case_id: str | None
    deadlines: list[DeadlineView]
    allowed_actions: list[str]
    # Shown to the roles that read selections; empty for the others.
    selection_holds: list[CaseSelectionHold] = []
    # The official documents the case issued (decision 0035), and the steps that may have one.
    documents: list[DocumentView] = []
    documentable: list[DocumentableStep] = []


class TimelineStep(View):
    at: dt.datetime  # when the step was recorded
    on: dt.date | None = None  # the day it happened, where the step says (entered later)
    step: str
    step_zh: str
    actor_id: str
    actor_role: str
    reason: str
    subject_id: str
    detail: dict[str, Any]
    round: int = 1  # the round of handling (复查 starts the next one)


class ChangeRecord(View):
    """One change on the record (an event): who did what to which report or case, and why."""

    at: dt.datetime
    step: str
    step_zh: str
    actor_id: str
    actor_role: str
    reason: str
    source: str  # "intake": the subject is a report; "casework": a case
    subject_id: str
    ledger_number: str | None = None  # of the report, or of the case's first report


class TimelineView(View):
    case_id: str
    steps: list[TimelineStep]
    deadlines: list[DeadlineView]
