"""The public desk: the home page, sign-in and sign-out, the online mailbox and the
reporter's follow-up (query code and password).

Every page is rendered on the server (Jinja2) in the reader's language; every form carries
the CSRF token. The mailbox and the follow-up share the API's throttle counters.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from schemas.glossary import Channel
from schemas.submissions import ReportSubmission
from services.accounts.store import BadCredentials, LoginThrottled, TooManyAttempts
from services.accounts.throttle import PublicThrottle, client_address
from services.accounts.web import (
    SESSION_COOKIE,
    accounts_of,
    clear_session_cookie,
    safe_next,
    set_session_cookie,
)
from services.casework.application import CaseworkApplication
from services.common.procedure import ProcedureError
from services.intake.domain import Report
from services.web.report_form import (
    form_values,
    report_form_context,
    submission_data,
    submission_errors,
)
from services.web.shell import (
    HOME,
    Csrf,
    Desk,
    Form,
    PageServices,
    optional_principal,
    render,
    route,
    see_other,
    tr,
)


class PublicDesk(Desk):
    """The pages open to everyone (and sign-in)."""

    # -- sign-in -----------------------------------------------------------------------------

    @route.get("/", response_class=HTMLResponse)
    def home(self, request: Request) -> Response:
        user = optional_principal(request)
        if user is not None and user.role in HOME:
            return see_other(HOME[user.role])
        return render(request, "home.html", user=user)

    @route.get("/login", response_class=HTMLResponse)
    def login_page(self, request: Request, next: str = "/") -> Response:
        return render(request, "login.html", next=safe_next(next), error="", username="")

    @route.post("/login", dependencies=[Csrf])
    def login(self, request: Request, form: Form) -> Response:
        _ = tr(request)
        username = str(form.get("username", "")).strip()
        password = str(form.get("password", ""))
        target = safe_next(str(form.get("next", "/")))
        store = accounts_of(request)
        client = client_address(request, store.trusted_proxies)
        try:
            principal = store.authenticate(username, password, client)
        except LoginThrottled as error:
            minutes = max(1, (error.retry_after_seconds + 59) // 60)
            response = render(
                request,
                "login.html",
                429,
                next=target,
                username=username,
                error=_(
                    "Too many failed sign-ins. Try again in %(minutes)s minutes.", minutes=minutes
                ),
            )
            response.headers["Retry-After"] = str(error.retry_after_seconds)
            return response
        except BadCredentials:
            return render(
                request,
                "login.html",
                401,
                next=target,
                username=username,
                error=_("The username or password is wrong."),
            )
        signed_in = see_other(target if target != "/" else HOME.get(principal.role, "/"))
        set_session_cookie(signed_in, request, store.start_session(principal))
        return signed_in

    @route.post("/logout", dependencies=[Csrf])
    def logout(self, request: Request) -> Response:
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:
            accounts_of(request).end_session(session_id)
        response = see_other("/login")
        clear_session_cookie(response)
        return response

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
            "case_state": _case_state(self.casework, report),
            "feedback": feedback,
        }
        return render(request, "follow_up.html", result=result, error="")


def build_router(services: PageServices) -> APIRouter:
    return PublicDesk(services).router()


def _too_many(response: HTMLResponse, error: TooManyAttempts) -> HTMLResponse:
    response.headers["Retry-After"] = str(error.retry_after_seconds)
    return response


def _case_state(casework: CaseworkApplication, report: Report) -> str | None:
    if report.case_id is None:
        return None
    try:
        return casework.get_case(report.case_id).state.value
    except ProcedureError:
        return None
