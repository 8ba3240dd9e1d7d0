"""The public desk: the online mailbox and the reporter's follow-up (query code and
password). Both write or read intake's data: served by intake's process (decision record 0031).

Every page is rendered on the server (Jinja2) in the reader's language; every form carries
the CSRF token. The mailbox and the follow-up share the API's throttle counters.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from schemas.glossary import Channel
from schemas.submissions import ReportSubmission
from services.accounts.store import TooManyAttempts
from services.accounts.throttle import PublicThrottle
from services.common.procedure import ProcedureError
from services.intake.application import IntakeApplication
from services.intake.domain import Report
from services.web.report_form import (
    form_values,
    report_form_context,
    submission_data,
    submission_errors,
)
from services.web.shell import (
    Csrf,
    Desk,
    Form,
    PageServices,
    render,
    route,
    tr,
)


class PublicDesk(Desk):
    """The pages open to everyone."""

    needs = frozenset({"intake"})

    # -- public: the mailbox and the follow-up -------------------------------------------------

    @route.get("/mailbox", response_class=HTMLResponse)
    def mailbox_page(self, request: Request) -> Response:
        return render(request, "mailbox.html", values={}, errors={}, **report_form_context())

    @route.post("/mailbox", dependencies=[Csrf])
    def mailbox_submit(self, request: Request, form: Form) -> Response:
        _ = tr(request)
        data = submission_data(form, Channel.MAILBOX)
        try:
            submission = ReportSubmission.model_validate(data)
        except ValidationError as error:
            return render(
                request,
                "mailbox.html",
                422,
                values=form_values(form),
                errors=submission_errors(error, _),
                **report_form_context(),
            )
        throttle = PublicThrottle.of(request)
        try:
            throttle.reserve_mailbox()  # counted before it is made: no race past the limit
        except TooManyAttempts as error:
            return _too_many(
                render(
                    request,
                    "mailbox.html",
                    429,
                    values=form_values(form),
                    errors={"summary": str(error)},
                    **report_form_context(),
                ),
                error,
            )
        receipt = self.intake.submit(submission, public=True, client=throttle.client)
        return render(request, "mailbox_receipt.html", receipt=receipt)

    @route.get("/follow-up", response_class=HTMLResponse)
    def follow_up_page(self, request: Request) -> Response:
        return render(request, "follow_up.html", result=None, error="")

    @route.post("/follow-up", dependencies=[Csrf])
    def follow_up(self, request: Request, form: Form) -> Response:
        _ = tr(request)
        code = str(form.get("query_code", "")).strip()[:32]
        password = str(form.get("password", ""))[:64]
        throttle = PublicThrottle.of(request)
        try:
            # The same counters as the API's: a guesser gains nothing by switching.
            attempt = throttle.start_follow_up(code)
            report_id = self.intake.vault.report_for_credentials(code, password) if code else None
            if report_id is None:
                throttle.follow_up_failed(attempt)
            else:
                throttle.follow_up_succeeded(attempt)
        except TooManyAttempts as error:
            minutes = -(-error.retry_after_seconds // 60)
            return _too_many(
                render(
                    request,
                    "follow_up.html",
                    429,
                    result=None,
                    error=_(
                        "Too many wrong query codes or passwords. Try again in %(minutes)s "
                        "minutes.",
                        minutes=minutes,
                    ),
                ),
                error,
            )
        if report_id is None:
            return render(
                request,
                "follow_up.html",
                404,
                result=None,
                error=_("The query code or password is wrong."),
            )
        report = self.intake.get_report(report_id)
        # As the API answers it: only what was given to this report's (real-name) reporter.
        feedback = self.services.cases.feedback_for_report(str(report_id))
        result = {
            "ledger_number": report.ledger_number,
            "status": report.status.value,
            "received_on": report.received_on,
            "case_state": _case_state(self.intake, report),
            "feedback": feedback,
        }
        return render(request, "follow_up.html", result=result, error="")


def build_router(services: PageServices) -> APIRouter:
    return PublicDesk(services).router()


def _too_many(response: HTMLResponse, error: TooManyAttempts) -> HTMLResponse:
    response.headers["Retry-After"] = str(error.retry_after_seconds)
    return response


def _case_state(intake: IntakeApplication, report: Report) -> str | None:
    """Where the report's case stands, as intake asks casework (embedded: casework's own
    aggregate; ``jiandu intake-api``: the read models)."""
    if report.case_id is None or intake.case_states is None:
        return None
    try:
        state = intake.case_states(report.case_id)
    except ProcedureError:
        return None
    return state.value if state is not None else None
