"""Liaison-meeting views (联席会议): redacted figures, referrals and the quarterly report.

Every field is a count, a date, an enum value with its Chinese label, or the name of a
reported cadre's unit. None holds reporter identity or free text.
"""

from __future__ import annotations

import datetime as dt

from schemas.views import View


class CountRow(View):
    key: str
    label: str  # Chinese, for people
    count: int


class DimensionCounts(View):
    """Reports counted by one dimension.

    ``multi_valued``: a report may have several values here (several categories, several
    reported cadres), so it counts once under each and the rows may add up to more than the
    reports counted; ``total`` is then the number of reports, not the rows' sum.
    """

    dimension: str
    dimension_zh: str
    multi_valued: bool
    total: int
    rows_sum: int
    note: str
    rows: list[CountRow]


class LiaisonStatistics(View):
    from_date: dt.date
    to_date: dt.date
    total_reports: int
    dimensions: list[DimensionCounts]


class ReferralView(View):
    """One referral between units (转办): who referred to whom, when, and whether the result
    came back. The receiver's result text is not held here."""

    referral_id: str
    report_id: str
    direction: str
    direction_zh: str
    referral_source: str | None
    referral_source_zh: str | None
    from_unit: str | None
    from_unit_zh: str | None
    to_unit: str
    to_unit_zh: str
    referred_on: dt.date
    due_on: dt.date | None  # when the receiver should have reported back (referrals out)
    status: str
    status_zh: str
    reported_back_on: dt.date | None


class ReferralList(View):
    unit: str | None
    unit_zh: str | None
    as_of: dt.date
    by_status: list[CountRow]
    referrals: list[ReferralView]


class ReportSection(View):
    """One section of the quarterly report, with last quarter's figures beside it."""

    name: str
    title_zh: str
    note: str
    total: int
    previous_total: int
    rows: list[CountRow]
    previous_rows: list[CountRow]


class QuarterlyReport(View):
    year: int
    quarter: int
    period: str  # 'YYYY-Qn'
    from_date: dt.date
    to_date: dt.date
    previous_period: str
    generated_on: dt.date
    sections: list[ReportSection]
