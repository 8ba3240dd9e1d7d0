"""Liaison-meeting queries (联席会议): figures, referrals and the quarterly report.

Everything here reads the ``liaison_*`` tables (redacted by construction, see
``liaison.py``) and the cadre register, for the reported cadre's unit and level. Figures
count *reports* by the day they were received; the quarterly report adds what happened
to cases in the quarter (conclusions, handling decisions, clearings, false accusations)
by the day it happened, and compares each figure with the quarter before.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from schemas.glossary import (
    AccuserStatus,
    CaseKind,
    CaseState,
    Category,
    Channel,
    ClearingMethod,
    Disposition,
    HandlingType,
    LiaisonDimension,
    ManagementLevel,
    MemberUnit,
    ReferralDirection,
    ReferralSource,
    ReferralStatus,
    ReportOutcome,
    ReportStatus,
    StatisticsBucket,
    Verdict,
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
from services.projections.cadres import DDL as CADRES_DDL
from services.projections.liaison import month_of, quarter_of
from services.projections.store import ReadStore

# How long a unit has to report back on an item referred to it (转办件办理结果反馈).
# Not yet in the users' table of time limits (TimeLimits); a LiaisonQueries argument.
MAX_RANGE_DAYS = 366 * 10

D = LiaisonDimension
MULTI_VALUED = frozenset({D.CATEGORY, D.UNIT, D.LEVEL})
NOTES: dict[LiaisonDimension, str] = {
    D.CATEGORY: "一件举报可反映多类问题，按类别分别计数，各类别件数之和可能大于举报总件数。",
    D.UNIT: "一件举报可反映多名干部，按所在单位分别计数（每件每单位计一次），"
    "各单位件数之和可能大于举报总件数。",
    D.LEVEL: "一件举报可反映多名干部，按管理层级分别计数（每件每层级计一次），"
    "各层级件数之和可能大于举报总件数；层级取自干部名册。",
}

OUTCOME_OF_STATUS: dict[ReportStatus, ReportOutcome] = {
    ReportStatus.RECEIVED: ReportOutcome.AWAITING_TRIAGE,
    ReportStatus.REGISTERED: ReportOutcome.AWAITING_TRIAGE,
    ReportStatus.RETURN_PROPOSED: ReportOutcome.AWAITING_TRIAGE,
    ReportStatus.REPEAT: ReportOutcome.REPEAT,
    ReportStatus.FORWARDED_UP: ReportOutcome.FORWARDED_UP,
    ReportStatus.TRANSFERRED_DOWN: ReportOutcome.TRANSFERRED_DOWN,
    ReportStatus.TRANSFER_ACKNOWLEDGED: ReportOutcome.TRANSFERRED_DOWN,
    # The level below's result recorded (0015): it was transferred down, and that is where it
    # ended (this status was missing: the figures of a range holding one failed, 0027).
    ReportStatus.TRANSFER_CONCLUDED: ReportOutcome.TRANSFERRED_DOWN,
    ReportStatus.REFERRED_OUT: ReportOutcome.REFERRED_OUT,
    ReportStatus.REFERRAL_CONCLUDED: ReportOutcome.REFERRED_OUT,
    ReportStatus.RETURNED: ReportOutcome.RETURNED,
}
# A report referred in whose triage ended it here: the referring unit has its answer.
ENDED_BY_TRIAGE = frozenset(
    {
        ReportStatus.REPEAT,
        ReportStatus.FORWARDED_UP,
        ReportStatus.TRANSFER_ACKNOWLEDGED,
        ReportStatus.TRANSFER_CONCLUDED,
        ReportStatus.REFERRAL_CONCLUDED,
        ReportStatus.RETURNED,
    }
)


class LiaisonQueryError(ValueError):
    """A request the liaison queries cannot answer as asked (bad range, unknown name)."""


def outcome_of(status: str | None, state: str | None, verdict: str | None) -> ReportOutcome:
    """Where a report stands or ended (one value per report)."""
    report_status = ReportStatus(status) if status else ReportStatus.RECEIVED
    if report_status is not ReportStatus.ACCEPTED:
        return OUTCOME_OF_STATUS[report_status]
    case_state = CaseState(state) if state else None
    if case_state is CaseState.TRANSFERRED:
        return ReportOutcome.TRANSFERRED_TO_DISCIPLINE
    if verdict and case_state in (CaseState.CONCLUDED, CaseState.CLOSED):
        return ReportOutcome(Verdict(verdict).value)
    if case_state is CaseState.CLOSED:
        return ReportOutcome.CLOSED_WITHOUT_ACTION
    return ReportOutcome.IN_HANDLING


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    if not 1 <= quarter <= 4:
        raise LiaisonQueryError(f"quarter must be 1, 2, 3 or 4, not {quarter}")
    if not 1900 <= year <= 9998:
        raise LiaisonQueryError(f"year {year} is out of range")
    start = dt.date(year, 3 * quarter - 2, 1)
    return start, add_calendar_months(start, 3) - dt.timedelta(days=1)


def previous_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


def _months(start: dt.date, end: dt.date) -> list[str]:
    months, day = [], start.replace(day=1)
    while day <= end:
        months.append(month_of(day))
        day = add_calendar_months(day, 1)
    return months


def _quarters(start: dt.date, end: dt.date) -> list[str]:
    return list(
        dict.fromkeys(quarter_of(dt.date.fromisoformat(m + "-01")) for m in _months(start, end))
    )


@dataclass(frozen=True)
class ReportFact:
    """One report as the figures see it: enumerated values only (and reported units)."""

    report_id: str
    month: str
    quarter: str
    channel: str
    source: str
    outcome: ReportOutcome
    categories: frozenset[str]
    units: frozenset[str]
    levels: frozenset[str]

    def keys(self, dimension: LiaisonDimension) -> frozenset[str]:  # noqa: PLR0911
        match dimension:
            case D.CATEGORY:
                return self.categories
            case D.UNIT:
                return self.units
            case D.LEVEL:
                return self.levels
            case D.CHANNEL:
                return frozenset({self.channel})
            case D.REFERRAL_SOURCE:
                return frozenset({self.source})
            case D.OUTCOME:
                return frozenset({self.outcome.value})
            case D.MONTH:
                return frozenset({self.month})
            case D.QUARTER:
                return frozenset({self.quarter})
        raise AssertionError(dimension)


def _labels(*enums: type[Enum]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for enum in enums:
        labels |= {m.value: getattr(m, "zh", m.value) for m in enum}
    return labels


# Every value a dimension may take, in display order (units are open-ended).
KNOWN_KEYS: dict[LiaisonDimension, dict[str, str]] = {
    D.CATEGORY: _labels(Category),
    D.CHANNEL: _labels(Channel),
    D.REFERRAL_SOURCE: {
        **_labels(MemberUnit),
        **{k: v for k, v in _labels(ReferralSource).items() if k != ReferralSource.MEMBER_UNIT},
        StatisticsBucket.NOT_REFERRED.value: StatisticsBucket.NOT_REFERRED.zh,
    },
    D.LEVEL: {
        **_labels(ManagementLevel),
        StatisticsBucket.UNREGISTERED.value: StatisticsBucket.UNREGISTERED.zh,
        StatisticsBucket.SEALED.value: StatisticsBucket.SEALED.zh,
    },
    D.OUTCOME: _labels(ReportOutcome),
    D.UNIT: {},
}
UNIT_BUCKETS = {
    StatisticsBucket.UNIT_NOT_GIVEN.value: StatisticsBucket.UNIT_NOT_GIVEN.zh,
    StatisticsBucket.SEALED.value: StatisticsBucket.SEALED.zh,
}


def count_rows(
    dimension: LiaisonDimension,
    facts: Sequence[ReportFact],
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[CountRow]:
    """Reports per value of one dimension: each report once under each of its values."""
    counts: Counter[str] = Counter()
    for fact in facts:
        counts.update(fact.keys(dimension))
    return rows_of(dimension, counts, start=start, end=end)


def rows_of(
    dimension: LiaisonDimension,
    counts: Counter[str],
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[CountRow]:
    """The rows of one dimension from its counts (reports per value), in display order."""
    if dimension in (D.MONTH, D.QUARTER):
        assert start is not None
        assert end is not None
        periods = _months(start, end) if dimension is D.MONTH else _quarters(start, end)
        return [CountRow(key=p, label=p, count=counts[p]) for p in periods]
    if dimension is D.UNIT:
        rows = [
            CountRow(key=k, label=UNIT_BUCKETS.get(k, k), count=n)
            for k, n in counts.items()
            if k not in UNIT_BUCKETS
        ]
        rows.sort(key=lambda r: (-r.count, r.key))
        return rows + [
            CountRow(key=k, label=label, count=counts[k])
            for k, label in UNIT_BUCKETS.items()
            if counts[k]
        ]
    known = KNOWN_KEYS[dimension]
    return [CountRow(key=k, label=label, count=counts[k]) for k, label in known.items()] + [
        CountRow(key=k, label=k, count=n) for k, n in sorted(counts.items()) if k not in known
    ]


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
        labels = _labels(enum)
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


def _change(now: int, before: int) -> str:
    diff = now - before
    if before == 0:
        return f"{diff:+d}"
    return f"{diff:+d}（{diff / before:+.0%}）"


def _section_rows(section: ReportSection) -> list[tuple[str, int, int]]:
    before = {r.key: r.count for r in section.previous_rows}
    return [(r.label, r.count, before.get(r.key, 0)) for r in section.rows]


def report_title(report: QuarterlyReport) -> str:
    return f"干部监督工作联席会议季度报告（{report.year}年第{report.quarter}季度）"


def to_markdown(report: QuarterlyReport) -> str:
    lines = [
        f"# {report_title(report)}",
        "",
        f"统计期间：{report.from_date.isoformat()} 至 {report.to_date.isoformat()}；"
        f"对比上季度（{report.previous_period}）；生成日期：{report.generated_on.isoformat()}。",
        "",
    ]
    for section in report.sections:
        lines += [
            f"## {section.title_zh}",
            "",
            f"合计 {section.total} 件（上季度 {section.previous_total} 件，"
            f"变化 {_change(section.total, section.previous_total)}）。",
        ]
        if section.note:
            lines.append(f"注：{section.note}")
        lines += ["", "| 项目 | 本季度 | 上季度 | 变化 |", "|---|---:|---:|---:|"]
        lines += [
            f"| {_md(label)} | {now} | {before} | {_change(now, before)} |"
            for label, now, before in _section_rows(section)
        ]
        lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_html(report: QuarterlyReport) -> str:
    """An HTML fragment (no page around it), every text escaped."""
    e = html.escape
    parts = [
        '<section class="liaison-quarterly-report">',
        f"<h1>{e(report_title(report))}</h1>",
        f"<p>统计期间：{e(report.from_date.isoformat())} 至 {e(report.to_date.isoformat())}；"
        f"对比上季度（{e(report.previous_period)}）；"
        f"生成日期：{e(report.generated_on.isoformat())}。</p>",
    ]
    for section in report.sections:
        parts += [
            f'<h2 id="{e(section.name)}">{e(section.title_zh)}</h2>',
            f"<p>合计 {section.total} 件（上季度 {section.previous_total} 件，"
            f"变化 {e(_change(section.total, section.previous_total))}）。</p>",
        ]
        if section.note:
            parts.append(f'<p class="note">注：{e(section.note)}</p>')
        parts.append(
            "<table><thead><tr><th>项目</th><th>本季度</th><th>上季度</th><th>变化</th></tr>"
            "</thead><tbody>"
        )
        parts += [
            f"<tr><td>{e(label)}</td><td>{now}</td><td>{before}</td>"
            f"<td>{e(_change(now, before))}</td></tr>"
            for label, now, before in _section_rows(section)
        ]
        parts.append("</tbody></table>")
    parts.append("</section>")
    return "\n".join(parts)


def to_docx(report: QuarterlyReport) -> bytes:
    """The report as a Word document (python-docx)."""
    try:
        import docx
    except ImportError as error:  # pragma: no cover — a dependency of the project
        raise LiaisonQueryError("DOCX export needs python-docx installed") from error
    document = docx.Document()
    document.add_heading(report_title(report), level=1)
    document.add_paragraph(
        f"统计期间：{report.from_date.isoformat()} 至 {report.to_date.isoformat()}；"
        f"对比上季度（{report.previous_period}）；生成日期：{report.generated_on.isoformat()}。"
    )
    for section in report.sections:
        document.add_heading(section.title_zh, level=2)
        document.add_paragraph(
            f"合计 {section.total} 件（上季度 {section.previous_total} 件，"
            f"变化 {_change(section.total, section.previous_total)}）。"
            + (f"注：{section.note}" if section.note else "")
        )
        rows = _section_rows(section)
        table = document.add_table(rows=1 + len(rows), cols=4)
        for i, heading in enumerate(("项目", "本季度", "上季度", "变化")):
            table.cell(0, i).text = heading
        for r, (label, now, before) in enumerate(rows, start=1):
            for i, text in enumerate((label, str(now), str(before), _change(now, before))):
                table.cell(r, i).text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
