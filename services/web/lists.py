"""The lists the pages show: the inbox, the ledger, my cases, items awaiting approval.

Candidates come from the read models (``services/projections/cases/``; repeat
suggestions from ``services/projections/archive/``) and each one's current
state is read from its aggregate, so a list never shows a stale state: the read models can
lag the command by a moment; the aggregate cannot.

A process reads the reports or the cases only if it has them (``reports``, ``cases``: None
otherwise, decision record 0031); a list that needs a missing one says so (``MissingPart``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from schemas.glossary import CaseState, Queue, ReportStatus
from services.casework.domain import Case
from services.common.procedure import ProcedureError
from services.intake.domain import Report
from services.projections.archive.queries import ArchiveQueries
from services.projections.cases.paging import (
    Keyed,
    Paged,
    SortKey,
    approval_key,
    case_key,
    page_of,
    sort_key,
)
from services.projections.cases.queries import CaseQueries

PAGE_SIZE = 50
APPROVAL_STATES = frozenset({CaseState.DISPOSITION_PROPOSED, CaseState.CONCLUSION_PROPOSED})


class MissingPart(LookupError):
    """A page needs a part this process does not have (decision record 0031)."""


class Reports(Protocol):
    """Where a report is read as intake keeps it (intake's application, or its log read only)."""

    def get_report(self, report_id: UUID) -> Report: ...


class Cases(Protocol):
    """Where a case is read as casework keeps it."""

    def get_case(self, case_id: UUID) -> Case: ...


@dataclass
class Lists:
    reports: Reports | None
    cases: Cases | None
    queues: CaseQueries
    archives: ArchiveQueries

    def _reports(self, ids: Iterable[str]) -> list[Report]:
        if self.reports is None:
            raise MissingPart("these lists read no reports here")
        reports = []
        for report_id in ids:
            try:
                reports.append(self.reports.get_report(UUID(report_id)))
            except ProcedureError:
                continue  # projected before intake's own store answers: skip
        return reports

    def _cases(self, ids: Iterable[str]) -> list[Case]:
        if self.cases is None:
            raise MissingPart("these lists read no cases here")
        cases = []
        for case_id in ids:
            try:
                cases.append(self.cases.get_case(UUID(case_id)))
            except ProcedureError:
                continue
        return cases

    def ledger(self, page: int = 1) -> tuple[list[Report], bool]:
        """Registered reports, newest ledger number first; and whether a next page exists."""
        ids, more = self.queues.ledger_page(page, PAGE_SIZE)
        reports = self._reports(ids)
        reports.sort(key=lambda r: r.ledger_number or "", reverse=True)
        return reports, more

    def inbox(self) -> list[Report]:
        """Registered reports waiting for an operator's triage, oldest first."""
        ids = [item.report_id for item in self.queues.untriaged()]
        return [r for r in self._reports(ids) if r.status is ReportStatus.REGISTERED]

    def cases_of(self, handler_id: str) -> list[Case]:
        """The cases ``handler_id`` handles (open ones, and closed ones still owing a step),
        the soonest deadline first."""
        ids = [item.case_id for item in self.queues.mine(handler_id)]
        return [c for c in self._cases(ids) if c.handler_id == handler_id]

    def cases_page(
        self, handler_id: str, *, limit: int, after: str | None
    ) -> tuple[list[Case], str | None]:
        """One page of ``cases_of`` (keyset cursor, 0027): only that page's cases are loaded
        from the event store; and the cursor of the next page (None: the last).
        Raises ``BadCursor`` for a cursor the queue did not hand out."""
        paged = page_of(
            Queue.MINE.value, self.queues.mine(handler_id), case_key, limit=limit, after=after
        )
        cases = [
            c for c in self._cases(i.case_id for i in paged.items) if c.handler_id == handler_id
        ]
        return cases, paged.next

    # -- the approvals page: each list a page at a time (0027) ------------------------------

    def approvals(self, *, limit: int, after: str | None) -> Paged[Case]:
        """Cases waiting for a leader's approval (a proposed disposition, conclusion or
        clearing), the longest waiting first: one page, only its cases loaded."""
        first: dict[str, SortKey] = {}  # a case waiting for two approvals is listed once
        for item in self.queues.awaiting_approval():
            if item.kind != "report_return":
                key = approval_key(item)
                first[item.subject_id] = min(key, first.get(item.subject_id, key))

        def build(ids: list[str]) -> list[Case]:
            return [
                c
                for c in self._cases(ids)
                if c.state in APPROVAL_STATES or c.clearing.get("stage") == "proposed"
            ]

        keyed = Keyed([(key, case_id) for case_id, key in first.items()], build)
        return page_of("approvals", keyed, limit=limit, after=after)

    def returns_proposed(self, *, limit: int, after: str | None) -> Paged[Report]:
        """Reports an operator proposed to return (no substance), the longest waiting
        first: one page."""
        rows = [
            (approval_key(i), i.subject_id)
            for i in self.queues.awaiting_approval()
            if i.kind == "report_return"
        ]

        def build(ids: list[str]) -> list[Report]:
            return [r for r in self._reports(ids) if r.status is ReportStatus.RETURN_PROPOSED]

        return page_of("returns", Keyed(rows, build), limit=limit, after=after)

    def awaiting_assignment(self, *, limit: int, after: str | None) -> Paged[Case]:
        """Open cases with no handler yet, the longest open first: one page."""
        rows = self.queues.unassigned()

        def build(ids: list[str]) -> list[Case]:
            return [c for c in self._cases(ids) if c.state is CaseState.OPEN]

        keyed = Keyed([(sort_key(r["opened_at"], r["case_id"]), r["case_id"]) for r in rows], build)
        return page_of("to_assign", keyed, limit=limit, after=after)

    def related_reports(self, report: Report) -> list[dict[str, Any]]:
        """Other reports naming the same cadre (by register id, or name and unit): the
        candidates when marking a repeat or joining a case."""
        found: dict[str, dict[str, Any]] = {}
        for subject in report.subjects:
            cadre_id = subject.get("cadre_id") or ""
            rows = self.archives.reports_naming(
                cadre_id, subject.get("name", ""), subject.get("unit", "")
            )
            for row in rows:
                if row["report_id"] != str(report.id):
                    found.setdefault(row["report_id"], row)
        return list(found.values())
