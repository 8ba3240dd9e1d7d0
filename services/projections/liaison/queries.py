"""Liaison-meeting queries (联席会议): figures, referrals and the quarterly report.

Everything here reads the ``liaison_*`` tables (redacted by construction, see
``liaison.py``) and the cadre register, for the reported cadre's unit and level. Figures
count *reports* by the day they were received; the quarterly report adds what happened
to cases in the quarter (conclusions, handling decisions, clearings, false accusations)
by the day it happened, and compares each figure with the quarter before.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from typing import Any

from schemas.glossary import (
    AccountabilityHandling,
    AccuserStatus,
    CaseKind,
    CaseState,
    Category,
    ClearingMethod,
    Disposition,
    HandlingType,
    LiaisonDimension,
    MemberUnit,
    ReferralDirection,
    ReferralSource,
    ReferralStatus,
    ReportStatus,
    SelectionStage,
    StatisticsBucket,
    Verdict,
    VoidGround,
)
from schemas.views_liaison import (
    CountRow,
    DimensionCounts,
    LiaisonStatistics,
    QuarterlyReport,
    ReferralList,
    ReferralView,
    ReportSection,
)
from services.calendar.deadlines import add_calendar_months
from services.common.china_time import china_today
from services.common.config import Config
from services.projections.archive.register import DDL as CADRES_DDL
from services.projections.liaison.statistics import (
    ENDED_BY_TRIAGE,
    MAX_RANGE_DAYS,
    MULTI_VALUED,
    NOTES,
    D,
    LiaisonQueryError,
    ReportFact,
    labels_of,
    outcome_of,
    previous_quarter,
    quarter_bounds,
    rows_of,
)
from services.projections.store import ReadStore


class LiaisonQueries:
    def __init__(
        self,
        store: ReadStore,
        *,
        today: Callable[[], dt.date] = china_today,
        config: Config | None = None,
    ) -> None:
        self.store = store
        self.today = today
        self.config = config or Config()
        store.db.create_tables(CADRES_DDL)  # the register the figures join to

    @property
    def report_back_months(self) -> int:
        """How long a member unit has to report back on a referral (configuration)."""
        return self.config.limits().referral_report_back_months

    # -- figures ------------------------------------------------------------------------

    def facts(self, start: dt.date, end: dt.date) -> list[ReportFact]:
        """Every report received from ``start`` to ``end`` (inclusive)."""
        params = (start.isoformat(), end.isoformat())
        in_range = "SELECT report_id FROM liaison_reports WHERE received_on BETWEEN %s AND %s"
        reports = self.store.query(
            "SELECT r.report_id, r.month, r.quarter, r.channel, r.referral_source, "
            "r.referral_unit, r.sealed, r.status, c.state, c.verdict "
            "FROM liaison_reports r LEFT JOIN liaison_cases c ON c.case_id = r.case_id "
            "WHERE r.received_on BETWEEN %s AND %s ORDER BY r.report_id",
            params,
        )
        categories: dict[str, set[str]] = {}
        for row in self.store.query(
            f"SELECT report_id, category FROM liaison_report_categories "
            f"WHERE report_id IN ({in_range})",
            params,
        ):
            categories.setdefault(row["report_id"], set()).add(row["category"])
        units: dict[str, set[str]] = {}
        levels: dict[str, set[str]] = {}
        for row in self.store.query(
            "SELECT s.report_id, s.unit, k.unit AS register_unit, k.management_level "
            "FROM liaison_report_subjects s LEFT JOIN cadres k ON k.cadre_id = s.cadre_id "
            f"WHERE s.report_id IN ({in_range})",
            params,
        ):
            unit = (row["register_unit"] or row["unit"] or "").strip()
            units.setdefault(row["report_id"], set()).add(
                unit or StatisticsBucket.UNIT_NOT_GIVEN.value
            )
            levels.setdefault(row["report_id"], set()).add(
                row["management_level"] or StatisticsBucket.UNREGISTERED.value
            )
        facts = []
        for r in reports:
            rid = r["report_id"]
            if r["sealed"]:
                fact_units = fact_levels = {StatisticsBucket.SEALED.value}
            else:
                fact_units = units.get(rid) or {StatisticsBucket.UNIT_NOT_GIVEN.value}
                fact_levels = levels.get(rid) or {StatisticsBucket.UNREGISTERED.value}
            facts.append(
                ReportFact(
                    report_id=rid,
                    month=r["month"],
                    quarter=r["quarter"],
                    channel=r["channel"],
                    source=r["referral_unit"]
                    or r["referral_source"]
                    or StatisticsBucket.NOT_REFERRED.value,
                    outcome=outcome_of(r["status"], r["state"], r["verdict"]),
                    categories=frozenset(categories.get(rid, ())),
                    units=frozenset(fact_units),
                    levels=frozenset(fact_levels),
                )
            )
        return facts

    def total(self, start: dt.date, end: dt.date) -> int:
        """How many reports were received from ``start`` to ``end`` (inclusive)."""
        rows = self.store.query(
            "SELECT count(*) AS n FROM liaison_reports WHERE received_on BETWEEN %s AND %s",
            (start.isoformat(), end.isoformat()),
        )
        return int(rows[0]["n"])

    def counts(self, dimension: LiaisonDimension, start: dt.date, end: dt.date) -> Counter[str]:
        """Reports received from ``start`` to ``end`` per value of ``dimension``, each report
        once under each of its values: counted by the database (GROUP BY over the range's
        rows, found through the ``received_on`` index), not by loading every report
        (0027). The same counts as ``count_rows`` over ``facts``."""
        params: tuple[Any, ...] = (start.isoformat(), end.isoformat())
        in_range = "r.received_on BETWEEN %s AND %s"
        match dimension:
            case D.CHANNEL | D.MONTH | D.QUARTER:
                column = {D.CHANNEL: "channel", D.MONTH: "month", D.QUARTER: "quarter"}
                sql = (
                    f"SELECT r.{column[dimension]} AS k, count(*) AS n FROM liaison_reports r "
                    f"WHERE {in_range} GROUP BY r.{column[dimension]}"
                )
            case D.REFERRAL_SOURCE:
                sql = (
                    "SELECT COALESCE(NULLIF(r.referral_unit, ''), NULLIF(r.referral_source, ''), "
                    "%s) AS k, count(*) AS n FROM liaison_reports r "
                    f"WHERE {in_range} GROUP BY 1"
                )
                params = (StatisticsBucket.NOT_REFERRED.value, *params)
            case D.CATEGORY:
                # Each report once a category (their key): the range's rows by their own
                # copy of the day of receipt, without the reports.
                sql = (
                    "SELECT c.category AS k, count(*) AS n FROM liaison_report_categories c "
                    "WHERE c.received_on BETWEEN %s AND %s GROUP BY c.category"
                )
            case D.UNIT | D.LEVEL:
                value = (
                    "NULLIF(TRIM(COALESCE(NULLIF(k.unit, ''), s.unit, '')), '')"
                    if dimension is D.UNIT
                    else "k.management_level"
                )
                none = (
                    StatisticsBucket.UNIT_NOT_GIVEN if dimension is D.UNIT
                    else StatisticsBucket.UNREGISTERED
                ).value  # fmt: skip
                sql = (
                    "SELECT t.k, count(*) AS n FROM (SELECT DISTINCT r.report_id, "
                    f"CASE WHEN r.sealed = 1 THEN %s ELSE COALESCE({value}, %s) END AS k "
                    "FROM liaison_reports r "
                    # The range's subjects by their own day of receipt (its index), not all.
                    "LEFT JOIN liaison_report_subjects s ON s.report_id = r.report_id "
                    "AND s.received_on BETWEEN %s AND %s "
                    "LEFT JOIN cadres k ON k.cadre_id = s.cadre_id "
                    f"WHERE {in_range}) t GROUP BY t.k"
                )
                params = (StatisticsBucket.SEALED.value, none, *params, *params)
            case D.OUTCOME:
                counts: Counter[str] = Counter()
                for row in self.store.query(
                    "SELECT r.status, c.state, c.verdict, count(*) AS n FROM liaison_reports r "
                    "LEFT JOIN liaison_cases c ON c.case_id = r.case_id "
                    f"WHERE {in_range} GROUP BY r.status, c.state, c.verdict",
                    params,
                ):
                    outcome = outcome_of(row["status"], row["state"], row["verdict"])
                    counts[outcome.value] += int(row["n"])
                return counts
            case _:
                raise AssertionError(dimension)
        return Counter({r["k"]: int(r["n"]) for r in self.store.query(sql, params)})

    def statistics(
        self,
        start: dt.date,
        end: dt.date,
        group_by: Iterable[LiaisonDimension] | None = None,
    ) -> LiaisonStatistics:
        """Reports received from ``start`` to ``end`` counted by each dimension asked for."""
        _check_range(start, end)
        dimensions = list(dict.fromkeys(group_by)) if group_by else list(LiaisonDimension)
        total = self.total(start, end)
        counted = []
        for dimension in dimensions:
            rows = rows_of(dimension, self.counts(dimension, start, end), start=start, end=end)
            counted.append(
                DimensionCounts(
                    dimension=dimension.value,
                    dimension_zh=dimension.zh,
                    multi_valued=dimension in MULTI_VALUED,
                    total=total,
                    rows_sum=sum(r.count for r in rows),
                    note=NOTES.get(dimension, "各项件数之和等于举报总件数。"),
                    rows=rows,
                )
            )
        return LiaisonStatistics(
            from_date=start, to_date=end, total_reports=total, dimensions=counted
        )

    # -- referrals ----------------------------------------------------------------------

    def referrals(
        self,
        unit: MemberUnit | None = None,
        *,
        status: ReferralStatus | None = None,
        direction: ReferralDirection | None = None,
        as_of: dt.date | None = None,
    ) -> ReferralList:
        """Referrals to and from ``unit`` (every referral without one), newest first, with
        their status on ``as_of`` (today by default)."""
        day = as_of or self.today()
        views = [
            v
            for v in self._referral_views(day, unit)
            if (status is None or v.status == status.value)
            and (direction is None or v.direction == direction.value)
        ]
        counts = Counter(v.status for v in views)
        return ReferralList(
            unit=unit.value if unit else None,
            unit_zh=unit.zh if unit else None,
            as_of=day,
            by_status=[
                CountRow(key=s.value, label=s.zh, count=counts[s.value]) for s in ReferralStatus
            ],
            referrals=views,
        )

    def _referral_views(
        self,
        as_of: dt.date,
        unit: MemberUnit | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> list[ReferralView]:
        where, params = ["f.referred_on IS NOT NULL", "f.referred_on <= %s"], [as_of.isoformat()]
        if unit is not None:
            where.append("(f.from_unit = %s OR f.to_unit = %s)")
            params += [unit.value, unit.value]
        if start is not None and end is not None:
            where.append("f.referred_on BETWEEN %s AND %s")
            params += [start.isoformat(), end.isoformat()]
        rows = self.store.query(
            "SELECT f.*, r.status AS report_status, r.status_on, r.case_id, c.state, "
            "c.closed_on FROM liaison_referrals f "
            "LEFT JOIN liaison_reports r ON r.report_id = f.report_id "
            "LEFT JOIN liaison_cases c ON c.case_id = r.case_id "
            f"WHERE {' AND '.join(where)} "
            "ORDER BY f.referred_on DESC, f.report_id, f.direction",
            params,
        )
        return [self._referral_view(r, as_of) for r in rows]

    def _referral_view(self, row: dict[str, Any], as_of: dt.date) -> ReferralView:
        direction = ReferralDirection(row["direction"])
        referred_on = dt.date.fromisoformat(row["referred_on"])
        due_on = back_on = None
        if direction is ReferralDirection.OUT:
            due_on = add_calendar_months(referred_on, self.report_back_months)
            back_on = _date(row["reported_back_on"])
        else:
            back_on = _answered_on(row)
        if back_on is not None and back_on <= as_of:
            status = ReferralStatus.REPORTED_BACK
        else:
            back_on = None
            overdue = due_on is not None and as_of > due_on
            status = ReferralStatus.OVERDUE if overdue else ReferralStatus.PENDING
        source = ReferralSource(row["referral_source"]) if row["referral_source"] else None
        from_unit = MemberUnit(row["from_unit"]) if row["from_unit"] else None
        to_unit = MemberUnit(row["to_unit"])
        return ReferralView(
            referral_id=f"{row['report_id']}:{direction.value}",
            report_id=row["report_id"],
            direction=direction.value,
            direction_zh=direction.zh,
            referral_source=source.value if source else None,
            referral_source_zh=source.zh if source else None,
            from_unit=from_unit.value if from_unit else None,
            from_unit_zh=from_unit.zh if from_unit else None,
            to_unit=to_unit.value,
            to_unit_zh=to_unit.zh,
            referred_on=referred_on,
            due_on=due_on,
            status=status.value,
            status_zh=status.zh,
            reported_back_on=back_on,
        )

    # -- the quarterly report -------------------------------------------------------------

    def quarterly_report(self, year: int, quarter: int) -> QuarterlyReport:
        start, end = quarter_bounds(year, quarter)
        prev_year, prev_quarter = previous_quarter(year, quarter)
        prev_start, prev_end = quarter_bounds(prev_year, prev_quarter)
        today = self.today()
        current = self._sections(start, end, min(end, today))
        previous = {p[0]: p for p in self._sections(prev_start, prev_end, min(prev_end, today))}
        sections = [
            ReportSection(
                name=name,
                title_zh=title,
                note=note,
                total=total,
                previous_total=previous[name][3],
                rows=rows,
                previous_rows=previous[name][4],
            )
            for name, title, note, total, rows in current
        ]
        return QuarterlyReport(
            year=year,
            quarter=quarter,
            period=f"{year}-Q{quarter}",
            from_date=start,
            to_date=end,
            previous_period=f"{prev_year}-Q{prev_quarter}",
            generated_on=today,
            sections=sections,
        )

    def _sections(
        self, start: dt.date, end: dt.date, as_of: dt.date
    ) -> list[tuple[str, str, str, int, list[CountRow]]]:
        total = self.total(start, end)

        def rows(dimension: LiaisonDimension) -> list[CountRow]:
            return rows_of(dimension, self.counts(dimension, start, end))

        sections = [
            ("received_by_channel", "本季度受理举报（按渠道）", "", total, rows(D.CHANNEL)),
            ("received_by_category", "本季度受理举报（按问题类别）", NOTES[D.CATEGORY], total,
             rows(D.CATEGORY)),
            ("received_by_source", "本季度转办移送来件（按来源）", "", total,
             rows(D.REFERRAL_SOURCE)),
        ]  # fmt: skip
        params = (start.isoformat(), end.isoformat())
        sections.append(
            self._grouped(
                "dispositions",
                "本季度批准的处置方式",
                "按集体研究日期统计（件）。",
                "SELECT disposition AS k FROM liaison_cases "
                "WHERE kind = %s AND disposition_on BETWEEN %s AND %s",
                (CaseKind.REPORT.value, *params),
                Disposition,
            )
        )
        sections.append(
            self._grouped(
                "conclusions",
                "本季度办结核查的案件（按核查结论）",
                "每件案件计一次，取本季度最后批准的结论。",
                "SELECT c.case_id, c.verdict AS k, c.concluded_on FROM liaison_conclusions c "
                "JOIN liaison_cases lc ON lc.case_id = c.case_id "
                "WHERE lc.kind = %s AND c.concluded_on BETWEEN %s AND %s "
                "ORDER BY c.case_id, c.concluded_on",
                (CaseKind.REPORT.value, *params),
                Verdict,
                distinct_by="case_id",
            )
        )
        sections.append(
            self._grouped(
                "handlings",
                "本季度作出的组织处理（按类型）",
                "按处理决定计数，一件案件可有多项处理。",
                "SELECT handling AS k FROM liaison_handlings WHERE decided_on BETWEEN %s AND %s",
                params,
                HandlingType,
            )
        )
        sections.append(
            self._grouped(
                "clearings",
                "本季度澄清正名（按方式）",
                "",
                "SELECT method AS k FROM liaison_clearings WHERE carried_out_on BETWEEN %s AND %s",
                params,
                ClearingMethod,
            )
        )
        sections.append(
            self._grouped(
                "false_accusations",
                "本季度移交的诬告陷害线索（按诬告人身份）",
                "",
                "SELECT accuser_status AS k FROM liaison_cases "
                "WHERE kind = %s AND opened_on BETWEEN %s AND %s",
                (CaseKind.FALSE_ACCUSATION.value, *params),
                AccuserStatus,
            )
        )
        sections += self._selection_sections(params)
        views = self._referral_views(as_of, start=start, end=end)
        for direction in ReferralDirection:
            counts = Counter(v.status for v in views if v.direction == direction.value)
            sections.append(
                (
                    f"referrals_{direction.value}",
                    f"本季度{direction.zh}件（按办理状态，截至{as_of.isoformat()}）",
                    "",
                    sum(counts.values()),
                    [
                        CountRow(key=s.value, label=s.zh, count=counts[s.value])
                        for s in ReferralStatus
                    ],
                )
            )
        return sections

    def _selection_sections(
        self, params: tuple[str, str]
    ) -> list[tuple[str, str, str, int, list[CountRow]]]:
        """The supervision of selections (issue 14): selections recorded, supervision projects
        opened, appointments voided, people held responsible, each by the glossary's values
        alone."""
        return [
            self._grouped(
                "selections",
                "本季度动议的选拔任用（按目前所处环节）",
                "全程记实的选拔任用，按动议日期统计。",
                "SELECT stage AS k FROM liaison_selections WHERE proposed_on BETWEEN %s AND %s",
                params,
                SelectionStage,
            ),
            self._grouped(
                "selection_projects",
                "本季度立项督查（按反映的违规情形）",
                "按立项日期统计；一个项目反映多种情形的，分别计入各情形。",
                "SELECT irregularity AS k FROM liaison_projects WHERE opened_on BETWEEN %s AND %s",
                params,
                Category,
            ),
            self._grouped(
                "appointments_voided",
                "本季度宣布无效的任免决定（按违规情形）",
                "按人次统计。",
                "SELECT ground AS k FROM liaison_voided_appointments "
                "WHERE voided_on BETWEEN %s AND %s",
                params,
                VoidGround,
            ),
            self._grouped(
                "selection_responsibility",
                "本季度选人用人责任追究（按处理方式）",
                "按人次统计。",
                "SELECT handling AS k FROM liaison_responsibilities "
                "WHERE taken_on BETWEEN %s AND %s",
                params,
                AccountabilityHandling,
            ),
        ]

    def _grouped(
        self,
        name: str,
        title: str,
        note: str,
        sql: str,
        params: Sequence[Any],
        enum: type[Enum],
        *,
        distinct_by: str | None = None,
    ) -> tuple[str, str, str, int, list[CountRow]]:
        rows = self.store.query(sql, params)
        if distinct_by is not None:  # ordered so that the last row of each wins
            rows = list({r[distinct_by]: r for r in rows}.values())
        counts = Counter(r["k"] for r in rows if r["k"] is not None)
        labels = labels_of(enum)
        return (
            name,
            title,
            note,
            sum(counts.values()),
            [CountRow(key=k, label=label, count=counts[k]) for k, label in labels.items()],
        )


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _answered_on(row: dict[str, Any]) -> dt.date | None:
    """When a report referred in was answered: its case closed, or its triage ended it."""
    status = ReportStatus(row["report_status"]) if row["report_status"] else None
    if status is ReportStatus.ACCEPTED and row["state"] == CaseState.CLOSED.value:
        return _date(row["closed_on"])
    if status in ENDED_BY_TRIAGE:
        return _date(row["status_on"])
    return None


def _check_range(start: dt.date, end: dt.date) -> None:
    if start > end:
        raise LiaisonQueryError(
            f"the range starts after it ends: from {start.isoformat()} to {end.isoformat()}"
        )
    if (end - start).days > MAX_RANGE_DAYS:
        raise LiaisonQueryError(
            f"ask for at most ten years at a time, not {(end - start).days} days"
        )


# -- exports -----------------------------------------------------------------------------------
