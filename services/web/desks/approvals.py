"""The approvals desk: what waits for a leader (dispositions, conclusions, clearings,
proposed returns of reports, cases to assign)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.casework.api import case_view
from services.casework.handlers import COMMANDS
from services.intake.api import report_view
from services.intake.triage import TRIAGE_COMMANDS
from services.projections.cases.paging import MAX_LIMIT, BadCursor
from services.web.forms import FormContext, build_form
from services.web.i18n import gettext_for, language_of
from services.web.shell import (
    Desk,
    Leader,
    PageServices,
    case_form_context,
    handlers,
    page,
    render,
    route,
)

APPROVALS_PAGE = 25  # items of each list on the approvals page (then a "next page" link)

# Leader actions shown on the approvals page.
APPROVAL_ACTIONS = (
    "approve_disposition",
    "return_disposition",
    "approve_conclusion",
    "return_conclusion",
    "approve_clearing",
)
RETURN_ACTIONS = ("approve_return", "reject_return")


class ApprovalsDesk(Desk):
    """The leaders' approvals."""

    needs = frozenset({"casework", "reports"})

    # -- leaders -------------------------------------------------------------------------------

    @route.get("/approvals", response_class=HTMLResponse)
    def approvals(
        self,
        request: Request,
        user: Leader,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = APPROVALS_PAGE,
    ) -> Response:
        """Proposals on cases, proposed returns of reports and cases to assign: ``limit`` of
        each, the longest waiting first, and a "next page" link per list (its cursor as
        ``after_<list>``, 0027): only the cases and reports shown are loaded."""
        lang = language_of(request)
        _ = gettext_for(lang)
        params = request.query_params
        try:
            proposals = self.lists.approvals(limit=limit, after=params.get("after_approvals"))
            proposed_returns = self.lists.returns_proposed(
                limit=limit, after=params.get("after_returns")
            )
            assign = self.lists.awaiting_assignment(
                limit=limit, after=params.get("after_to_assign")
            )
        except BadCursor as error:
            return page(request, "error.html", 422, user=user, message=str(error), roles=[])
        items = []
        for the_case in proposals.items:
            view = case_view(the_case, self.casework, user.role)
            ctx = case_form_context(request, the_case, lang)
            forms = [
                build_form(a, COMMANDS[a][0], ctx, _)
                for a in view.allowed_actions
                if a in APPROVAL_ACTIONS
            ]
            items.append({"case": view, "forms": forms})
        returns = []
        for the_report in proposed_returns.items:
            ctx = FormContext(version=the_report.version, lang=lang)
            returns.append(
                {
                    "report": report_view(the_report),
                    "forms": [build_form(a, TRIAGE_COMMANDS[a][0], ctx, _) for a in RETURN_ACTIONS],
                }
            )
        to_assign = [case_view(c, self.casework, user.role) for c in assign.items]
        return render(
            request,
            "approvals.html",
            user=user,
            items=items,
            returns=returns,
            to_assign=to_assign,
            handlers=handlers(request),
            done=request.query_params.get("done", ""),
            totals={
                "approvals": proposals.total,
                "returns": proposed_returns.total,
                "to_assign": assign.total,
            },
            next_urls={
                "approvals": _next_url(request, "approvals", proposals.next, limit),
                "returns": _next_url(request, "returns", proposed_returns.next, limit),
                "to_assign": _next_url(request, "to_assign", assign.next, limit),
            },
        )


def _next_url(request: Request, name: str, cursor: str | None, limit: int) -> str:
    """The approvals page with the next page of one list (the others where they were)."""
    if cursor is None:
        return ""
    query = {k: v for k, v in request.query_params.items() if k not in (f"after_{name}", "done")}
    query |= {"limit": str(limit), f"after_{name}": cursor}
    return f"/approvals?{urlencode(query)}#{name}"


def build_router(services: PageServices) -> APIRouter:
    return ApprovalsDesk(services).router()
