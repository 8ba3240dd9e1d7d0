"""Queries over the case list and the work queues (``cases`` and the timeline's deadlines).

Deadline clocks are computed for the day asked (``today``), on the calendar in force, so a
deadline turns due soon or overdue without any event; provisional due dates are recounted
once a year's official schedule is loaded (``deadline_view``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from schemas.glossary import (
    ApprovalKind,
    CaseKind,
    CaseState,
    Category,
    Channel,
    ClearingStage,
    Disposition,
    FeedbackMethod,
    ReportStatus,
    Verdict,
)
from schemas.views_cases import (
    ApprovalItem,
    CaseFollowUp,
    CaseListItem,
    CasePage,
    DeadlineClock,
    DeadlineQueueItem,
    ReporterFeedback,
    ReportQueueItem,
)
from services.calendar.deadlines import deadline_state
from services.common.china_time import china_today
from services.common.config import Config
from services.common.deadline_views import deadline_view
from services.projections.cases.paging import Keyed, SortKey, sort_key
from services.projections.cases.rows import (
    AFTER_CLOSURE,
    FINISHED,
    CaseFilters,
    Readable,
    chunks,
    date_of,
    deadline_label,
    due_after,
    marks,
    moment_of,
    report_item,
    soonest_first,
    still_runs,
    zh_of,
)

# How far a provisional due day may move when recounted on a year's official calendar
# (holidays moved by the State Council's schedule): the deadline queues read the deadlines
# due within this many days of their window, then decide on the recounted day.
RECOUNT_MARGIN_DAYS = 31


class CaseQueries:
    PAGE_SIZE = 50

    def __init__(
        self,
        store: Readable,
        config: Config | None = None,
        today: Callable[[], dt.date] = china_today,
    ) -> None:
        self.store = store
        self.config = config or Config()
        self.today = today

    # -- the report queues (operators) -----------------------------------------------------

    def unregistered(self) -> list[ReportQueueItem]:
        """Reports received but not yet numbered in the ledger."""
        return self._reports_in(ReportStatus.RECEIVED)

    def untriaged(self) -> list[ReportQueueItem]:
        """Registered reports waiting for triage (分流), oldest first."""
        return self._reports_in(ReportStatus.REGISTERED)

    def _reports_in(self, status: ReportStatus) -> list[ReportQueueItem]:
        rows = self.store.query(
            "SELECT * FROM report_queue WHERE status = %s "
            "ORDER BY received_on, ledger_number, report_id",
            (status.value,),
        )
        return [report_item(r) for r in rows]

    # -- the case lists (handlers and leaders) ---------------------------------------------

    def ledger_page(self, page: int, size: int) -> tuple[list[str], bool]:
        """The ids of one page of registered reports, newest ledger number first; and
        whether a next page exists."""
        rows = self.store.query(
            "SELECT report_id FROM report_queue WHERE ledger_number IS NOT NULL "
            "ORDER BY ledger_number DESC LIMIT %s OFFSET %s",
            (size + 1, (page - 1) * size),
        )
        return [r["report_id"] for r in rows[:size]], len(rows) > size

    def unassigned(self) -> list[dict[str, Any]]:
        """Open cases with no handler yet: each one's ``case_id`` and ``opened_at``."""
        return self.store.query(
            "SELECT case_id, opened_at FROM case_list WHERE handler_id IS NULL AND state = %s",
            (CaseState.OPEN.value,),
        )

    def mine(self, username: str) -> list[CaseListItem]:
        """The cases this handler handles: open ones, and closed ones still owing a step."""
        return self.section([username])

    def section(self, usernames: Iterable[str]) -> list[CaseListItem]:
        """The cases handled by any of ``usernames`` (a section's handlers)."""
        names = sorted(set(usernames))
        if not names:
            return []
        rows: list[dict[str, Any]] = []
        # The live ones only, chosen by the database (0027): not finished, or finished and
        # still owing a deadline that runs after closure (as ``_case_items`` keeps them);
        # a handler's closed cases of past years are not read.
        after_closure = " OR ".join(
            [f"d.name IN ({marks(AFTER_CLOSURE)})"] + ["d.name LIKE %s"] * len(AFTER_CLOSURE)
        )
        owing = (
            "EXISTS (SELECT 1 FROM case_deadlines d WHERE d.subject_id = c.case_id "
            "AND d.due IS NOT NULL AND (d.met_on IS NULL OR d.met_on > %s) "
            f"AND ({after_closure}))"
        )
        for part in chunks(names):
            rows += self.store.query(
                f"SELECT c.* FROM case_list c WHERE c.handler_id IN ({marks(part)}) "
                f"AND (c.state IS NULL OR c.state NOT IN ({marks(FINISHED)}) OR {owing})",
                [
                    *part,
                    *FINISHED,
                    self.today().isoformat(),
                    *AFTER_CLOSURE,
                    *(f"{name}#%" for name in AFTER_CLOSURE),
                ],
            )
        items = self._case_items(rows)
        live = [i for i in items if i.state not in FINISHED or i.deadlines]
        return sorted(live, key=soonest_first)

    def case_list(self, filters: CaseFilters | None = None, page: int = 1) -> CasePage:
        """Every case matching ``filters``, the most recently active first, one page."""
        filters = filters or CaseFilters()
        if page < 1:
            raise ValueError(f"page must be 1 or more, not {page}")
        where, params = ["1 = 1"], []
        if filters.state is not None:
            where.append("state = %s")
            params.append(filters.state.value)
        if filters.handler is not None:
            where.append("handler_id = %s")
            params.append(filters.handler)
        if filters.kind is not None:
            where.append("kind = %s")
            params.append(filters.kind.value)
        if filters.category is not None:
            where.append(
                "case_id IN (SELECT case_id FROM case_list_categories WHERE category = %s)"
            )
            params.append(filters.category.value)
        if filters.visible_handlers is not None:
            visible = sorted(filters.visible_handlers) or [""]
            where.append(f"handler_id IN ({marks(visible)})")
            params += visible
        clause = " AND ".join(where)
        total = int(
            self.store.query(f"SELECT COUNT(*) AS n FROM case_list WHERE {clause}", params)[0]["n"]
        )
        rows = self.store.query(
            f"SELECT * FROM case_list WHERE {clause} "
            "ORDER BY last_step_at DESC, case_id LIMIT %s OFFSET %s",
            [*params, self.PAGE_SIZE, (page - 1) * self.PAGE_SIZE],
        )
        return CasePage(
            items=self._case_items(rows),
            page=page,
            page_size=self.PAGE_SIZE,
            total=total,
            filters=filters.as_dict(),
        )

    def awaiting_approval(self) -> list[ApprovalItem]:
        """What waits for a leader: proposed dispositions, conclusions, clearings, returns of
        reports, and appointments held during publicity; the longest waiting first."""
        items: list[ApprovalItem] = []
        rows = self.store.query(
            "SELECT * FROM case_list WHERE state IN (%s, %s) OR clearing_stage = %s "
            "OR publicity_pending = 1",
            (
                CaseState.DISPOSITION_PROPOSED.value,
                CaseState.CONCLUSION_PROPOSED.value,
                ClearingStage.PROPOSED.value,
            ),
        )
        for r in rows:
            kinds = []
            if r["state"] == CaseState.DISPOSITION_PROPOSED.value:
                kinds.append(ApprovalKind.DISPOSITION)
            if r["state"] == CaseState.CONCLUSION_PROPOSED.value:
                kinds.append(ApprovalKind.CONCLUSION)
            if r["clearing_stage"] == ClearingStage.PROPOSED.value:
                kinds.append(ApprovalKind.CLEARING)
            if r["publicity_pending"]:
                kinds.append(ApprovalKind.PUBLICITY)
            items += [
                ApprovalItem(
                    kind=kind.value,
                    kind_zh=kind.zh,
                    subject_id=r["case_id"],
                    ledger_number=r["ledger_number"],
                    handler_id=r["handler_id"],
                    state=r["state"],
                    state_zh=zh_of(CaseState, r["state"]) or "",
                    since=moment_of(r["last_step_at"]),
                )
                for kind in kinds
            ]
        for r in self.store.query(
            "SELECT * FROM report_queue WHERE status = %s", (ReportStatus.RETURN_PROPOSED.value,)
        ):
            items.append(
                ApprovalItem(
                    kind=ApprovalKind.REPORT_RETURN.value,
                    kind_zh=ApprovalKind.REPORT_RETURN.zh,
                    subject_id=r["report_id"],
                    ledger_number=r["ledger_number"],
                    handler_id=None,
                    state=r["status"],
                    state_zh=ReportStatus.RETURN_PROPOSED.zh,
                    since=moment_of(r["last_step_at"]),
                )
            )
        far_future = dt.datetime.max.replace(tzinfo=dt.UTC)
        return sorted(items, key=lambda i: (i.since or far_future, i.subject_id, i.kind))

    # -- deadlines (everyone who has some) -------------------------------------------------

    def due_soon(
        self, *, handler: str | None = None, cases: bool = True, reports: bool = True
    ) -> list[DeadlineQueueItem]:
        """Open deadlines with at most the configured working days left, soonest first.
        ``handler``: only that handler's cases (and no report deadlines)."""
        return self.deadline_queue("due_soon", handler=handler, cases=cases, reports=reports).all()

    def overdue(
        self, *, handler: str | None = None, cases: bool = True, reports: bool = True
    ) -> list[DeadlineQueueItem]:
        """Open deadlines past their due day, the longest overdue first."""
        return self.deadline_queue("overdue", handler=handler, cases=cases, reports=reports).all()

    def deadline_queue(
        self, state: str, *, handler: str | None = None, cases: bool = True, reports: bool = True
    ) -> Keyed[DeadlineQueueItem]:
        """The deadlines in ``state`` (``due_soon`` or ``overdue``) as keyed rows: each row's
        clock is decided here, cheaply (a provisional due day recounted, the others compared),
        and only the rows of the page asked for are built into items (``page_of``, 0027)."""
        rows: list[tuple[SortKey, tuple[str, dict[str, Any]]]] = []
        for kind, row, due in self._deadline_rows(
            state, handler=handler, cases=cases, reports=reports
        ):
            key = sort_key(due, row["ledger_number"], row["name"], kind, row["subject_id"])
            rows.append((key, (kind, row)))

        def build(chosen: list[tuple[str, dict[str, Any]]]) -> list[DeadlineQueueItem]:
            return [
                self._deadline_item(kind, row, row["handler_id"] if kind == "case" else None)
                for kind, row in chosen
            ]

        return Keyed(rows, build)

    def _due_and_state(self, row: dict[str, Any]) -> tuple[dt.date, str]:
        """A deadline row's due day in force and its state today, as ``clock`` gives them,
        without building the clock."""
        if row["provisional"] and row["started_on"] is not None and row["working_days"] is not None:
            view = deadline_view(row["name"], row, self.config, self.today())
            return view.due, view.state
        due = dt.date.fromisoformat(str(row["due"]))
        state = deadline_state(
            due,
            self.today(),
            date_of(row["met_on"]),
            self.config.calendar(),
            self.config.limits().due_soon_threshold,
        )
        return due, state.value

    def _deadline_rows(
        self, state: str, *, handler: str | None, cases: bool, reports: bool
    ) -> Iterator[tuple[str, dict[str, Any], dt.date]]:
        """The deadline rows in ``state`` today (``_due_and_state``), each with its kind and
        its due day in force: of the open ones (or met after today) whose stored due day is
        near or past today, read by the open and met indexes."""
        today = self.today()
        # Only the deadlines whose stored due day is near or past today (by its index, 0027):
        # a provisional due day recounted on the official calendar moves by a few days at
        # most, well within the margin; the clock decides exactly.
        margin = dt.timedelta(days=RECOUNT_MARGIN_DAYS)
        horizon = today + margin + dt.timedelta(days=2 * self.config.limits().due_soon_threshold)
        near = "d.due < %s" if state == "overdue" else "d.due BETWEEN %s AND %s"
        bounds = (
            [(today + margin).isoformat()]
            if state == "overdue"
            else [(today - margin).isoformat(), horizon.isoformat()]
        )
        # Two branches, each served by its own index: open deadlines, and those met after today.
        # Their cases and reports are then read by their keys (a join would scan both tables).
        running = f"((d.met_on IS NULL AND {near}) OR (d.met_on > %s AND {near}))"
        rows = []
        for r in self.store.query(
            f"SELECT d.* FROM case_deadlines d WHERE {running}",
            [*bounds, today.isoformat(), *bounds],
        ):
            due, now = self._due_and_state(r)
            if now == state:
                rows.append((r, due))
        ids = [r["subject_id"] for r, _ in rows]
        the_cases = self._by_id(
            "SELECT case_id, ledger_number, handler_id, state FROM case_list WHERE {}",
            "case_id",
            ids if cases else [],
        )
        the_reports = self._by_id(
            "SELECT report_id, case_id, ledger_number FROM report_queue WHERE {}",
            "report_id",
            ids if reports and handler is None else [],
        )
        for r, due in rows:
            if (c := the_cases.get(r["subject_id"])) is not None:
                if (handler is None or c["handler_id"] == handler) and still_runs(
                    r["name"], c["state"]
                ):
                    case = {"case_id": c["case_id"], "ledger_number": c["ledger_number"]}
                    yield "case", r | case | {"handler_id": c["handler_id"]}, due
            elif (q := the_reports.get(r["subject_id"])) is not None:
                report = {"case_id": q["case_id"], "ledger_number": q["ledger_number"]}
                yield "report", r | report, due

    def _by_id(self, sql: str, column: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The rows whose ``column`` is one of ``ids`` (one statement), by that column."""
        if not ids:
            return {}
        where, params = self.store.db.any_of(column, ids)
        return {row[column]: row for row in self.store.query(sql.format(where), params)}

    def _deadline_item(
        self, kind: str, row: dict[str, Any], handler: str | None
    ) -> DeadlineQueueItem:
        return DeadlineQueueItem(
            subject_kind=kind,
            subject_id=row["subject_id"],
            case_id=row["case_id"],
            ledger_number=row["ledger_number"],
            handler_id=handler,
            clock=self.clock(row),
        )

    def clock(self, record: dict[str, Any]) -> DeadlineClock:
        """A deadline's clock today, from its ``case_deadlines`` row."""
        today = self.today()
        view = deadline_view(record["name"], record, self.config, today)
        running = view.met_on is None or view.met_on > today
        left = self.config.calendar().working_days_between(today, view.due) if running else None
        return DeadlineClock(
            name=view.name,
            name_zh=deadline_label(view.name),
            due=view.due,
            provisional=view.provisional,
            note=view.note,
            met_on=view.met_on,
            state=view.state,
            state_zh=view.state_zh,
            working_days_left=left,
        )

    # -- the reporter's follow-up ----------------------------------------------------------

    def feedback_for_report(self, report_id: str) -> list[ReporterFeedback]:
        """The feedback given on the report's case, if the report's reporter gave their
        name (feedback goes to real-name reporters only); oldest first."""
        rows = self.store.query(
            "SELECT f.given_on, f.method, f.text FROM report_feedback f "
            "JOIN case_list_reports r ON r.case_id = f.case_id "
            "WHERE r.report_id = %s AND r.real_name = 1 "
            "ORDER BY f.given_on, f.recorded_at, f.event_id",
            (report_id,),
        )
        return [
            ReporterFeedback(
                given_on=date_of(r["given_on"]) or dt.date.min,
                method=r["method"],
                method_zh=zh_of(FeedbackMethod, r["method"]) or r["method"],
                text=r["text"],
            )
            for r in rows
        ]

    def handler_of(self, case_id: str) -> str | None:
        """Who handles a case (None: unknown or not assigned): the identity reveal's scope."""
        rows = self.store.query("SELECT handler_id FROM case_list WHERE case_id = %s", (case_id,))
        return rows[0]["handler_id"] if rows else None

    def state_of(self, case_id: str) -> str | None:
        """Where a case stands (None: not in the case list yet, or no state)."""
        rows = self.store.query("SELECT state FROM case_list WHERE case_id = %s", (case_id,))
        return rows[0]["state"] if rows and rows[0]["state"] else None

    def follow_up(self, report_id: str) -> CaseFollowUp:
        """What a reporter may learn from the read side: the case's state and the feedback."""
        rows = self.store.query(
            "SELECT c.state FROM case_list c JOIN case_list_reports r ON r.case_id = c.case_id "
            "WHERE r.report_id = %s",
            (report_id,),
        )
        return CaseFollowUp(
            case_state=rows[0]["state"] if rows else None,
            feedback=self.feedback_for_report(report_id),
        )

    # -- building the case items -----------------------------------------------------------

    def _case_items(self, rows: list[dict[str, Any]]) -> list[CaseListItem]:
        ids = [r["case_id"] for r in rows]
        categories = self._grouped(
            "SELECT case_id, category FROM case_list_categories WHERE {} "
            "ORDER BY case_id, category",
            "case_id",
            ids,
        )
        subjects = self._grouped(
            "SELECT * FROM case_list_subjects WHERE {} ORDER BY case_id, name, unit",
            "case_id",
            ids,
        )
        reports = self._grouped(
            "SELECT * FROM case_list_reports WHERE {} ORDER BY case_id, ledger_number",
            "case_id",
            ids,
        )
        deadlines = self._grouped(
            "SELECT d.*, d.subject_id AS case_id FROM case_deadlines d WHERE {} "
            "AND d.due IS NOT NULL ORDER BY d.due, d.name",
            "d.subject_id",
            ids,
        )
        today = self.today()
        items = []
        for r in rows:
            case_id, state = r["case_id"], r["state"]
            clocks = [
                self.clock(d)
                for d in deadlines[case_id]
                if still_runs(d["name"], state) and (d["met_on"] is None or due_after(d, today))
            ]
            cats = [c["category"] for c in categories[case_id]]
            items.append(
                CaseListItem(
                    case_id=case_id,
                    kind=r["kind"] or CaseKind.REPORT.value,
                    kind_zh=zh_of(CaseKind, r["kind"] or CaseKind.REPORT.value) or "",
                    ledger_number=r["ledger_number"],
                    state=state,
                    state_zh=zh_of(CaseState, state),
                    handler_id=r["handler_id"],
                    channel=r["channel"],
                    channel_zh=zh_of(Channel, r["channel"]),
                    received_on=date_of(r["received_on"]),
                    opened_at=moment_of(r["opened_at"]),
                    categories=cats,
                    categories_zh=[zh_of(Category, c) or c for c in cats],
                    subjects=[
                        {
                            "name": s["name"],
                            "unit": s["unit"],
                            "position": s["position"],
                            "cadre_id": s["cadre_id"],
                        }
                        for s in subjects[case_id]
                    ],
                    disposition=r["disposition"],
                    disposition_zh=zh_of(Disposition, r["disposition"]),
                    conclusion=r["conclusion"],
                    conclusion_zh=zh_of(Verdict, r["conclusion"]),
                    clearing_stage=r["clearing_stage"],
                    clearing_stage_zh=zh_of(ClearingStage, r["clearing_stage"]),
                    publicity_pending=bool(r["publicity_pending"]),
                    closed_on=date_of(r["closed_on"]),
                    report_count=len(reports[case_id]),
                    real_name_reporters=sum(int(p["real_name"]) for p in reports[case_id]),
                    linked_case_id=r["linked_case_id"],
                    last_step_at=moment_of(r["last_step_at"]),
                    deadlines=sorted(clocks, key=lambda c: (c.due, c.name)),
                )
            )
        return items

    def _grouped(self, sql: str, column: str, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The rows whose ``column`` is one of ``ids`` (one statement), grouped by case."""
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if ids:
            where, params = self.store.db.any_of(column, ids)
            for row in self.store.query(sql.format(where), params):
                grouped[row["case_id"]].append(row)
        return grouped
