"""The liaison meeting's HTTP routes (联席会议): figures, referrals, quarterly report, charts.

Who may read them: liaison members (联络员) of the member units, leaders, auditors,
administrators and intake operators (who record referrals out and their results).
Handlers do not: they work on cases, not on the meeting's figures. Everything here is
redacted by construction (``liaison.py``); the figures are shared with every member unit,
while a liaison member sees only the referrals to and from their own unit (the account's
``unit`` names it, by its Chinese name or identifier).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from schemas.glossary import (
    LiaisonDimension,
    MemberUnit,
    ReferralDirection,
    ReferralStatus,
    Role,
)
from schemas.views_liaison import LiaisonStatistics, QuarterlyReport, ReferralList
from services.accounts.access import LIAISON_READERS
from services.accounts.model import Principal
from services.accounts.web import require_api_roles
from services.common.web import ApiError
from services.projections.liaison import charts
from services.projections.liaison.quarterly import to_docx, to_html, to_markdown
from services.projections.liaison.queries import LiaisonQueries
from services.projections.liaison.statistics import LiaisonQueryError, previous_quarter

Reader = Annotated[Principal, Depends(require_api_roles(*LIAISON_READERS))]
FromDate = Annotated[
    dt.date | None, Query(alias="from", description="first day counted (default: 1 January)")
]
ToDate = Annotated[
    dt.date | None, Query(alias="to", description="last day counted (default: today)")
]

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Chart name → the dimension it shows; periods are columns, the rest horizontal bars.
CHARTS: dict[str, LiaisonDimension] = {d.value: d for d in LiaisonDimension} | {
    "monthly": LiaisonDimension.MONTH,
    "quarterly": LiaisonDimension.QUARTER,
}
PERIODS = (LiaisonDimension.MONTH, LiaisonDimension.QUARTER)
REFERRALS_CHART = "referrals"
NO_STORE = {"Cache-Control": "no-store"}


def parse_member_unit(text: str) -> MemberUnit:
    """A member unit by identifier or Chinese name."""
    for unit in MemberUnit:
        if text.strip() in (unit.value, unit.zh):
            return unit
    names = ", ".join(f"{u.value} ({u.zh})" for u in MemberUnit)
    raise ApiError(f"unknown member unit {text.strip()[:40]!r}; one of: {names}", 422)


def unit_in_view(principal: Principal, asked: str | None) -> MemberUnit | None:
    """Whose referrals the caller sees: a liaison member their own unit's only."""
    wanted = parse_member_unit(asked) if asked else None
    if principal.role is not Role.LIAISON:
        return wanted
    own = next((u for u in MemberUnit if (principal.unit or "").strip() in (u.value, u.zh)), None)
    if own is None:
        raise ApiError(
            "your account names no member unit of the liaison meeting; ask an administrator "
            "to set your unit (e.g. 纪委监委)",
            403,
        )
    if wanted is not None and wanted is not own:
        raise ApiError(
            f"a liaison member sees the referrals of their own unit ({own.zh}) only, "
            f"not of {wanted.zh}",
            403,
        )
    return own


def last_complete_quarter(today: dt.date) -> tuple[int, int]:
    return previous_quarter(today.year, (today.month - 1) // 3 + 1)


def report_as(report: QuarterlyReport, format: str) -> Response | QuarterlyReport:
    """The quarterly report in the format asked for (JSON: the report itself)."""
    match format:
        case "markdown":
            return Response(
                to_markdown(report), media_type="text/markdown; charset=utf-8", headers=NO_STORE
            )
        case "html":
            return Response(
                to_html(report), media_type="text/html; charset=utf-8", headers=NO_STORE
            )
        case "docx":
            name = f"liaison-report-{report.period}.docx"
            return Response(
                to_docx(report),
                media_type=DOCX,
                headers=NO_STORE | {"Content-Disposition": f'attachment; filename="{name}"'},
            )
    return report


def build_router(queries: LiaisonQueries) -> APIRouter:
    router = APIRouter(prefix="/api/v1/liaison", tags=["liaison meeting"])

    def date_range(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
        end = end or queries.today()
        return start or dt.date(end.year, 1, 1), end

    @router.get("/statistics")
    def statistics(
        _: Reader,
        start: FromDate = None,
        end: ToDate = None,
        group_by: Annotated[list[LiaisonDimension] | None, Query()] = None,
    ) -> LiaisonStatistics:
        """Reports received in the range, counted by category, channel, source, the reported
        cadre's unit and level, outcome, month and quarter (or the dimensions asked for)."""
        try:
            return queries.statistics(*date_range(start, end), group_by)
        except LiaisonQueryError as error:
            raise ApiError(str(error), 422) from None

    @router.get("/referrals")
    def referrals(
        principal: Reader,
        unit: Annotated[str | None, Query(max_length=40)] = None,
        status: ReferralStatus | None = None,
        direction: ReferralDirection | None = None,
    ) -> ReferralList:
        """Referrals to and from a member unit (转办), with their status today."""
        return queries.referrals(unit_in_view(principal, unit), status=status, direction=direction)

    @router.get(
        "/quarterly-report",
        response_model=QuarterlyReport,
        responses={
            200: {
                "content": {
                    "text/markdown": {"schema": {"type": "string"}},
                    "text/html": {"schema": {"type": "string"}},
                    DOCX: {"schema": {"type": "string", "format": "binary"}},
                }
            }
        },
    )
    def quarterly_report(
        _: Reader,
        year: Annotated[int | None, Query(ge=1900, le=9998)] = None,
        quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
        format: Literal["json", "markdown", "html", "docx"] = "json",
    ) -> Response | QuarterlyReport:
        """The quarterly report (default: the last complete quarter), as JSON, Markdown,
        an HTML fragment or a Word document."""
        if (year is None) != (quarter is None):
            raise ApiError("give both year and quarter, or neither (the last full quarter)", 422)
        if year is None or quarter is None:
            year, quarter = last_complete_quarter(queries.today())
        try:
            report = queries.quarterly_report(year, quarter)
        except LiaisonQueryError as error:
            raise ApiError(str(error), 422) from None
        return report_as(report, format)

    @router.get("/charts/{name}.svg", response_class=Response)
    def chart(name: str, principal: Reader, start: FromDate = None, end: ToDate = None) -> Response:
        """A chart of the figures (SVG): one of the dimensions, ``monthly``, ``quarterly`` or
        ``referrals`` (the caller's referrals by status)."""
        first, last = date_range(start, end)
        if name == REFERRALS_CHART:
            counts = queries.referrals(unit_in_view(principal, None)).by_status
            svg = charts.bar_chart("转办件办理状态", [(r.label, r.count) for r in counts])
        elif name in CHARTS:
            dimension = CHARTS[name]
            try:
                figures = queries.statistics(first, last, [dimension])
            except LiaisonQueryError as error:
                raise ApiError(str(error), 422) from None
            (counted,) = figures.dimensions
            title = f"举报件数·{dimension.zh}（{first.isoformat()}至{last.isoformat()}）"
            points = [(r.label, r.count) for r in counted.rows]
            svg = (
                charts.column_chart(title, points)
                if dimension in PERIODS
                else charts.bar_chart(title, points)
            )
        else:
            names = ", ".join([*CHARTS, REFERRALS_CHART])
            raise ApiError(f"no chart {name[:40]!r}; charts: {names}", 404)
        return Response(svg, media_type="image/svg+xml; charset=utf-8", headers=NO_STORE)

    return router
