"""Case lists, work queues and the reporter's follow-up (read side).

None of these views holds reporter identity; the reporter's follow-up holds nothing but
where the report stands and the feedback texts given to that reporter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from schemas.glossary import CaseState, ReporterProgress, ReportStatus
from schemas.views import View


class DeadlineClock(View):
    """A deadline's clock as of today: its state, due date and working days left."""

    name: str
    name_zh: str
    due: dt.date
    provisional: bool
    note: str
    met_on: dt.date | None
    state: str
    state_zh: str
    working_days_left: int | None = Field(
        description="Working days from today to the due day (negative when overdue); None once met."
    )


class CaseListItem(View):
    case_id: str
    kind: str
    kind_zh: str
    ledger_number: str | None
    state: str | None
    state_zh: str | None
    handler_id: str | None
    channel: str | None
    channel_zh: str | None
    received_on: dt.date | None
    opened_at: dt.datetime | None
    categories: list[str]
    categories_zh: list[str]
    subjects: list[dict[str, Any]]  # reported cadres: name, unit, position, cadre_id
    disposition: str | None
    disposition_zh: str | None
    conclusion: str | None
    conclusion_zh: str | None
    clearing_stage: str | None
    clearing_stage_zh: str | None
    publicity_pending: bool
    closed_on: dt.date | None
    report_count: int
    real_name_reporters: int
    linked_case_id: str | None
    last_step_at: dt.datetime | None
    deadlines: list[DeadlineClock]  # the open ones, soonest first


class CasePage(View):
    items: list[CaseListItem]
    page: int
    page_size: int
    total: int
    filters: dict[str, str]


class ReportQueueItem(View):
    report_id: str
    ledger_number: str | None
    status: str
    status_zh: str
    channel: str | None
    channel_zh: str | None
    received_on: dt.date | None
    categories: list[str]
    categories_zh: list[str]
    subjects: list[dict[str, Any]]
    sealed: bool
    real_name: bool  # a flag only: the identity stays in intake's vault
    case_id: str | None
    last_step_at: dt.datetime | None


class DeadlineQueueItem(View):
    """An open deadline of a case or of a report, with its clock."""

    subject_kind: str  # "case" or "report"
    subject_id: str
    case_id: str | None
    ledger_number: str | None
    handler_id: str | None
    clock: DeadlineClock


class ApprovalItem(View):
    """Something waiting for a leader: a proposal to approve or a decision to take."""

    kind: str
    kind_zh: str
    subject_id: str  # the case (or, for a proposed return, the report)
    ledger_number: str | None
    handler_id: str | None
    state: str
    state_zh: str
    since: dt.datetime | None


QueueItems = (
    list[ReportQueueItem] | list[CaseListItem] | list[DeadlineQueueItem] | list[ApprovalItem]
)


class QueueView(View):
    queue: str
    queue_zh: str
    count: int  # the items on this page
    items: QueueItems
    # Paging (0027): the items in the whole queue, and the cursor of the next page (pass it
    # as ``after``; null on the last page).
    total: int | None = None
    next: str | None = None


class ReporterFeedback(View):
    """Feedback given to the reporter: when, how, and the text written for them."""

    given_on: dt.date
    method: str
    method_zh: str
    text: str


class CaseFollowUp(View):
    """What the read side knows for a reporter's follow-up: the case's state (or None before
    a case exists) and the feedback given to this report's real-name reporter."""

    case_state: str | None
    feedback: list[ReporterFeedback]


# Report statuses that leave the matter with another authority or unit, in reporter terms.
_REFERRED = frozenset(
    {
        ReportStatus.FORWARDED_UP,
        ReportStatus.TRANSFERRED_DOWN,
        ReportStatus.TRANSFER_ACKNOWLEDGED,
        ReportStatus.REFERRED_OUT,
    }
)
_FINISHED_REPORT = frozenset(
    {
        ReportStatus.REFERRAL_CONCLUDED,
        ReportStatus.TRANSFER_CONCLUDED,
        ReportStatus.RETURNED,
        ReportStatus.REPEAT,
    }
)
_CASE_PROGRESS: dict[CaseState, ReporterProgress] = {
    CaseState.OPEN: ReporterProgress.ACCEPTED,
    CaseState.ASSIGNED: ReporterProgress.ACCEPTED,
    CaseState.DISPOSITION_PROPOSED: ReporterProgress.ACCEPTED,
    CaseState.INQUIRY: ReporterProgress.UNDER_VERIFICATION,
    CaseState.VERIFICATION: ReporterProgress.UNDER_VERIFICATION,
    CaseState.PARKED: ReporterProgress.UNDER_VERIFICATION,
    CaseState.CONCLUSION_PROPOSED: ReporterProgress.UNDER_VERIFICATION,
    CaseState.CONCLUDED: ReporterProgress.CONCLUDED,
    CaseState.CLOSED: ReporterProgress.CLOSED,
    CaseState.TRANSFERRED: ReporterProgress.CLOSED,
}


def reporter_progress(status: ReportStatus, case_state: CaseState | None) -> ReporterProgress:
    """Where the report stands for its reporter: from the case once accepted, else from
    intake's triage. A disposition or verdict under discussion is not shown as decided."""
    if status is ReportStatus.ACCEPTED:
        return _CASE_PROGRESS[case_state] if case_state else ReporterProgress.ACCEPTED
    if status in _REFERRED:
        return ReporterProgress.REFERRED
    if status in _FINISHED_REPORT:
        return ReporterProgress.CLOSED
    return ReporterProgress.RECEIVED
