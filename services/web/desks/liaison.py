"""The liaison desk: the liaison meeting's shared figures and charts, referrals to and from
member units (a liaison member sees their own unit's only), the quarterly report (and its Word
document). The rules are the API's (``projections.liaison.routes``)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.glossary import MemberUnit, ReferralDirection, ReferralStatus, Role
from services.accounts.access import member_unit
from services.accounts.model import Principal
from services.projections.archive.documents import DOCX_MEDIA_TYPE
from services.projections.liaison import charts
from services.projections.liaison.quarterly import to_docx
from services.projections.liaison.routes import CHARTS, PERIODS, last_complete_quarter
from services.projections.liaison.statistics import LiaisonQueryError
from services.web.i18n import Gettext
from services.web.shell import (
    Desk,
    LiaisonReader,
    PageForbidden,
    PageServices,
    enum_values,
    page,
    route,
    tr,
    typed_date,
)

LI = Role.LIAISON
# The charts on the liaison page, in this order.
LIAISON_CHARTS = ("category", "channel", "unit", "level", "outcome", "month")
REFERRALS_CHART = "referrals"


class LiaisonDesk(Desk):
    """The liaison meeting's figures."""

    # -- the liaison meeting ------------------------------------------------------------------

    def date_range(self, request: Request, _: Gettext) -> tuple[dt.date, dt.date]:
        params = request.query_params
        end = typed_date(params.get("to", ""), _("To"), _) or self.services.liaison.today()
        start = typed_date(params.get("from", ""), _("From"), _) or dt.date(end.year, 1, 1)
        return start, end

    @route.get("/liaison", response_class=HTMLResponse)
    def liaison(self, request: Request, user: LiaisonReader) -> Response:
        """The shared figures with their charts, for a date range."""
        _ = tr(request)
        error, figures = "", None
        first, last = (
            self.services.liaison.today().replace(month=1, day=1),
            self.services.liaison.today(),
        )
        try:
            first, last = self.date_range(request, _)
            figures = self.services.liaison.statistics(first, last)
        except (ValueError, LiaisonQueryError) as problem:
            error = str(problem)
        span = urlencode({"from": first.isoformat(), "to": last.isoformat()})
        return page(
            request,
            "liaison.html",
            422 if error else 200,
            user=user,
            figures=figures,
            first=first,
            last=last,
            error=error,
            charts=LIAISON_CHARTS if figures else (),
            span=span,
        )

    @route.get("/liaison/charts/{name}.svg")
    def liaison_chart(self, request: Request, name: str, user: LiaisonReader) -> Response:
        _ = tr(request)
        if name == REFERRALS_CHART:
            counts = self.services.liaison.referrals(_unit_in_view(user, None, _)).by_status
            svg = charts.bar_chart("转办件办理状态", [(r.label, r.count) for r in counts])
        elif name in CHARTS:
            try:
                first, last = self.date_range(request, _)
                (counted,) = self.services.liaison.statistics(
                    first, last, [CHARTS[name]]
                ).dimensions
            except (ValueError, LiaisonQueryError):
                raise StarletteHTTPException(404, "no such chart") from None
            dimension = CHARTS[name]
            title = f"举报件数·{dimension.zh}（{first.isoformat()}至{last.isoformat()}）"
            points = [(r.label, r.count) for r in counted.rows]
            draw = charts.column_chart if dimension in PERIODS else charts.bar_chart
            svg = draw(title, points)
        else:
            raise StarletteHTTPException(404, "no such chart")
        return Response(
            svg, media_type="image/svg+xml; charset=utf-8", headers={"Cache-Control": "no-store"}
        )

    @route.get("/liaison/referrals", response_class=HTMLResponse)
    def liaison_referrals(
        self,
        request: Request,
        user: LiaisonReader,
        unit: str = "",
        status: str = "",
        direction: str = "",
    ) -> Response:
        """Referrals to and from a member unit: a liaison member's own unit only."""
        _ = tr(request)
        chosen_status = ReferralStatus(status) if status in enum_values(ReferralStatus) else None
        chosen_direction = (
            ReferralDirection(direction) if direction in enum_values(ReferralDirection) else None
        )
        in_view = _unit_in_view(user, unit or None, _)
        found = self.services.liaison.referrals(
            in_view, status=chosen_status, direction=chosen_direction
        )
        return page(
            request,
            "liaison_referrals.html",
            user=user,
            found=found,
            unit=in_view.value if in_view else "",
            status_filter=status,
            direction=direction,
            units=list(MemberUnit),
            own_unit_only=user.role is LI,
        )

    def quarter_asked(self, request: Request, _: Gettext) -> tuple[int, int]:
        params = request.query_params
        year, quarter = params.get("year", "").strip(), params.get("quarter", "").strip()
        if not year and not quarter:
            return last_complete_quarter(self.services.liaison.today())
        if not (year.isdigit() and quarter in ("1", "2", "3", "4")):
            raise LiaisonQueryError(
                _("Give a year (e.g. 2026) and a quarter (1 to 4), or neither.")
            )
        return int(year), int(quarter)

    @route.get("/liaison/quarterly", response_class=HTMLResponse)
    def liaison_quarterly(self, request: Request, user: LiaisonReader) -> Response:
        """The quarterly report with last quarter's figures beside it."""
        _ = tr(request)
        report, error = None, ""
        try:
            year, quarter = self.quarter_asked(request, _)
            report = self.services.liaison.quarterly_report(year, quarter)
        except LiaisonQueryError as problem:
            error = str(problem)
            year, quarter = last_complete_quarter(self.services.liaison.today())
        return page(
            request,
            "liaison_quarterly.html",
            422 if error else 200,
            user=user,
            report=report,
            error=error,
            year=year,
            quarter=quarter,
        )

    @route.get("/liaison/quarterly.docx")
    def liaison_quarterly_docx(self, request: Request, user: LiaisonReader) -> Response:
        _ = tr(request)
        try:
            report = self.services.liaison.quarterly_report(*self.quarter_asked(request, _))
        except LiaisonQueryError as problem:
            return page(request, "error.html", 422, user=user, message=str(problem), roles=[])
        name = f"liaison-report-{report.period}.docx"
        return Response(
            to_docx(report),
            media_type=DOCX_MEDIA_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )


def build_router(services: PageServices) -> APIRouter:
    return LiaisonDesk(services).router()


def _unit_in_view(user: Principal, asked: str | None, _: Gettext) -> MemberUnit | None:
    """Whose referrals the reader sees: a liaison member their own unit's only."""
    wanted = member_unit(asked) if asked else None
    if user.role is not LI:
        return wanted
    own = member_unit(user.unit)
    if own is None:
        raise PageForbidden(
            (),
            user,
            _(
                "Your account names no member unit of the liaison meeting; "
                "ask an administrator to set your unit."
            ),
        )
    return own
