"""The liaison figures' vocabulary: the dimensions, the outcome of a report, the quarters, one report's facts, and counts as rows (with their labels and notes)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from schemas.glossary import (
    CaseState,
    Category,
    Channel,
    LiaisonDimension,
    ManagementLevel,
    MemberUnit,
    ReferralSource,
    ReportOutcome,
    ReportStatus,
    StatisticsBucket,
    Verdict,
)
from schemas.views_liaison import (
    CountRow,
)
from services.calendar.deadlines import add_calendar_months
from services.projections.liaison.projection import month_of, quarter_of

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


def labels_of(*enums: type[Enum]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for enum in enums:
        labels |= {m.value: getattr(m, "zh", m.value) for m in enum}
    return labels


# Every value a dimension may take, in display order (units are open-ended).
KNOWN_KEYS: dict[LiaisonDimension, dict[str, str]] = {
    D.CATEGORY: labels_of(Category),
    D.CHANNEL: labels_of(Channel),
    D.REFERRAL_SOURCE: {
        **labels_of(MemberUnit),
        **{k: v for k, v in labels_of(ReferralSource).items() if k != ReferralSource.MEMBER_UNIT},
        StatisticsBucket.NOT_REFERRED.value: StatisticsBucket.NOT_REFERRED.zh,
    },
    D.LEVEL: {
        **labels_of(ManagementLevel),
        StatisticsBucket.UNREGISTERED.value: StatisticsBucket.UNREGISTERED.zh,
        StatisticsBucket.SEALED.value: StatisticsBucket.SEALED.zh,
    },
    D.OUTCOME: labels_of(ReportOutcome),
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
