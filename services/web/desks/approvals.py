"""The approvals desk: what waits for a leader (dispositions, conclusions, clearings,
proposed returns of reports, cases to assign)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.casework.api import case_view
from services.casework.application import COMMANDS
from services.intake.api import report_view
from services.intake.application import TRIAGE_COMMANDS
from services.web.forms import FormContext, build_form
from services.web.i18n import gettext_for, language_of
from services.web.shell import (
    Desk,
    Leader,
    PageServices,
    case_form_context,
    handlers,
    render,
    route,
)

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

    # -- leaders -------------------------------------------------------------------------------

    @route.get("/approvals", response_class=HTMLResponse)
    def approvals(self, request: Request, user: Leader) -> Response:
        lang = language_of(request)
        _ = gettext_for(lang)
        items = []
        for the_case in self.lists.awaiting_approval():
            view = case_view(the_case, self.casework, user.role)
            ctx = case_form_context(request, the_case, lang)
            forms = [
                build_form(a, COMMANDS[a][0], ctx, _)
                for a in view.allowed_actions
                if a in APPROVAL_ACTIONS
            ]
            items.append({"case": view, "forms": forms})
        returns = []
        for the_report in self.lists.returns_proposed():
            ctx = FormContext(version=the_report.version, lang=lang)
            returns.append(
                {
                    "report": report_view(the_report),
                    "forms": [build_form(a, TRIAGE_COMMANDS[a][0], ctx, _) for a in RETURN_ACTIONS],
                }
            )
        to_assign = [
            case_view(c, self.casework, user.role) for c in self.lists.awaiting_assignment()
        ]
        assignable = handlers(request)
        return render(
            request,
            "approvals.html",
            user=user,
            items=items,
            returns=returns,
            to_assign=to_assign,
            handlers=assignable,
            done=request.query_params.get("done", ""),
        )


def build_router(services: PageServices) -> APIRouter:
    return ApprovalsDesk(services).router()
