"""The pages: sign-in, the public mailbox and follow-up, intake, cases and approvals.

Every page is rendered on the server (Jinja2) in the reader's language; every form carries
the CSRF token (``verify_csrf``); every staff page asks ``require_page_roles``. Pages are
never cached (``Cache-Control: no-store``): they show cases, and one of them shows a
reporter's identity, behind the audited "show identity" action only.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.events import Actor
from schemas.glossary import (
    CaseState,
    Category,
    Channel,
    GlossaryEnum,
    MemberUnit,
    ReferralSource,
    ReportStatus,
    Role,
)
from schemas.submissions import SUMMARY_MAX_CHARS, ReportSubmission
from services.accounts.access import (
    CADRE_LOOKUP_ROLES,
    CASE_ACTORS,
    CASE_READERS,
    IDENTITY_ROLES,
    LEDGER_READERS,
    REPORT_READERS,
    TRIAGE_ACTORS,
    check_case_access,
    check_submission,
)
from services.accounts.model import Principal
from services.accounts.store import BadCredentials, LoginThrottled, TooManyAttempts
from services.accounts.throttle import PublicThrottle, client_address
from services.accounts.web import (
    SESSION_COOKIE,
    accounts_of,
    clear_session_cookie,
    csrf_token,
    page_principal,
    require_page_roles,
    safe_next,
    set_session_cookie,
    verify_csrf,
)
from services.calendar.deadlines import DeadlineState
from services.casework.api import case_view
from services.casework.application import COMMANDS, CaseworkApplication
from services.casework.domain import subject_key
from services.casework.rules import InvalidInput
from services.common.china_time import CHINA_TIME
from services.common.procedure import ProcedureError, RuleBroken
from services.common.unavailable import (
    DATABASE_ERRORS,
    is_database_unavailable,
    retry_after_header,
)
from services.common.web import database_unavailable_response
from services.intake.api import report_view, reveal_identity_for
from services.intake.application import (
    TRIAGE_COMMANDS,
    IntakeApplication,
    NoIdentityKept,
    SubmissionRefused,
)
from services.intake.domain import TRIAGE, Report
from services.projections.archive_queries import ArchiveQueries
from services.projections.case_queries import MAX_LIMIT, BadCursor, CaseQueries
from services.projections.integrity import IntegrityReplies
from services.projections.liaison_queries import LiaisonQueries
from services.projections.queries import Queries
from services.web.forms import (
    ACTION_LABELS,
    CHOICES,
    DEADLINE_LABELS,
    FIELD_LABELS,
    FormContext,
    FormInvalid,
    FormSpec,
    build_form,
    parse_form,
    validation_errors,
)
from services.web.i18n import (
    LANG_COOKIE,
    LANGUAGES,
    N_,
    Gettext,
    gettext_for,
    language_of,
    ngettext_for,
)
from services.web.lists import Lists

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PAGE_LIMIT = 50  # a queue's items on one page (the next ones behind a "next page" link)
SUBJECT_ROWS = 3
STAFF = (Role.OPERATOR, Role.HANDLER, Role.LEADER, Role.LIAISON, Role.AUDITOR, Role.ADMIN)

# Where each role starts, and what its navigation offers.
NAVIGATION: dict[Role, list[tuple[str, str]]] = {
    Role.OPERATOR: [
        ("/intake/new", N_("Record a hotline call")),
        ("/intake/inbox", N_("Inbox")),
        ("/queues", N_("Work queues")),
        ("/ledger", N_("Registration ledger")),
        ("/cadres", N_("Cadre archives")),
        ("/cadres/candidates", N_("Unregistered names")),
    ],
    Role.HANDLER: [
        ("/cases/mine", N_("My cases")),
        ("/queues", N_("Work queues")),
        ("/cadres", N_("Cadre archives")),
        ("/integrity", N_("Integrity replies")),
    ],
    Role.LEADER: [
        ("/approvals", N_("Awaiting approval")),
        ("/queues", N_("Work queues")),
        ("/ledger", N_("Registration ledger")),
        ("/cadres", N_("Cadre archives")),
        ("/integrity", N_("Integrity replies")),
        ("/liaison", N_("Liaison figures")),
    ],
    Role.AUDITOR: [
        ("/audit", N_("Audit")),
        ("/ledger", N_("Registration ledger")),
        ("/cadres", N_("Cadre archives")),
        ("/integrity", N_("Integrity replies")),
        ("/liaison", N_("Liaison figures")),
    ],
    Role.LIAISON: [
        ("/liaison", N_("Liaison figures")),
        ("/liaison/referrals", N_("Referrals")),
        ("/liaison/quarterly", N_("Quarterly report")),
    ],
    Role.ADMIN: [
        ("/admin/users", N_("Users")),
        ("/admin/config", N_("Configuration")),
        ("/audit", N_("Audit")),
        ("/liaison", N_("Liaison figures")),
    ],
}
HOME = {
    Role.OPERATOR: "/intake/inbox",
    Role.HANDLER: "/cases/mine",
    Role.LEADER: "/approvals",
    Role.LIAISON: "/liaison",
    Role.AUDITOR: "/audit",
    Role.ADMIN: "/admin/users",
}

# Leader actions shown on the approvals page.
APPROVAL_ACTIONS = (
    "approve_disposition",
    "return_disposition",
    "approve_conclusion",
    "return_conclusion",
    "approve_clearing",
)
RETURN_ACTIONS = ("approve_return", "reject_return")

# Timeline details worth a line (never identity: events hold none).
DETAIL_KEYS = (
    "ledger_number",
    "handler_id",
    "disposition",
    "outcome",
    "kind",
    "summary",
    "evidence_refs",
    "verdicts",
    "cadre_verdicts",
    "overall",
    "cadre",
    "handling",
    "escalate_to",
    "organ",
    "method",
    "text",
    "to_authority",
    "to_unit",
    "member_unit",
)

ENUM_OF_DETAIL: dict[str, type[GlossaryEnum]] = {}
# Timeline labels that differ from the form's (no "one per line" in a record).
DETAIL_LABELS: dict[str, str] = {
    "ledger_number": N_("Ledger number"),
    "overall": N_("Overall conclusion"),
    "evidence_refs": N_("Evidence"),
    "verdicts": N_("Verdicts"),
    "cadre_verdicts": N_("Verdicts per cadre"),
}


def _enums() -> None:
    from schemas.glossary import Disposition, FindingKind, HandlingType, Verdict

    ENUM_OF_DETAIL.update(
        disposition=Disposition,
        kind=FindingKind,
        overall=Verdict,
        handling=HandlingType,
        escalate_to=HandlingType,
        member_unit=MemberUnit,
    )


_enums()


class PageForbidden(Exception):
    """The signed-in person lacks the role a page needs (or a rule about them refused)."""

    def __init__(self, roles: Sequence[Role], principal: Principal, message: str = "") -> None:
        super().__init__(message or "forbidden")
        self.roles = tuple(roles)
        self.principal = principal
        self.message = message


def page_roles(*roles: Role) -> Callable[..., Principal]:
    """``require_page_roles`` whose refusal is a friendly page naming the role needed."""
    check = require_page_roles(*roles)

    def dependency(principal: Annotated[Principal, Depends(page_principal)]) -> Principal:
        try:
            return check(principal=principal)
        except StarletteHTTPException as error:
            if error.status_code == 403:
                raise PageForbidden(roles, principal) from None
            raise

    return dependency


async def form_data(request: Request) -> FormData:
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]
Csrf = Depends(verify_csrf)

# Who each page is for (module level: the annotations are resolved by name).
Operator = Annotated[Principal, Depends(page_roles(Role.OPERATOR))]
LookUp = Annotated[Principal, Depends(page_roles(*CADRE_LOOKUP_ROLES))]
LedgerReader = Annotated[Principal, Depends(page_roles(*LEDGER_READERS))]
ReportReader = Annotated[Principal, Depends(page_roles(*REPORT_READERS))]
IdentityReader = Annotated[Principal, Depends(page_roles(*IDENTITY_ROLES))]
Triager = Annotated[Principal, Depends(page_roles(*TRIAGE_ACTORS))]
Handler = Annotated[Principal, Depends(page_roles(Role.HANDLER))]
CaseReader = Annotated[Principal, Depends(page_roles(*CASE_READERS))]
CaseActor = Annotated[Principal, Depends(page_roles(*CASE_ACTORS))]
Leader = Annotated[Principal, Depends(page_roles(Role.LEADER))]


REPORT_BACK_NAMES = {"transfer_down": "transfer_report_back", "refer_out": "referral_report_back"}


def report_back_deadlines(report: Report, config: Any, today: dt.date) -> list[Any]:
    """A report transferred down or referred out: when its receiver's result is due, and
    whether it came (the same clock the operators' queues show)."""
    from services.common.deadline_views import deadline_view

    due = report.triage.get("report_back_due")
    if not due:
        return []
    name = REPORT_BACK_NAMES["refer_out" if "member_unit" in report.triage else "transfer_down"]
    result = report.triage.get("receiver_result") or {}
    record = {"due": due, "met_on": result.get("reported_on"), "provisional": False, "note": ""}
    return [deadline_view(name, record, config, today)]


@dataclass
class PageServices:
    intake: IntakeApplication
    casework: CaseworkApplication
    queries: Queries
    lists: Lists = field(init=False)
    # The read side's query modules, over the same store and configuration as ``queries``.
    cases: CaseQueries = field(init=False)
    archives: ArchiveQueries = field(init=False)
    replies: IntegrityReplies = field(init=False)
    liaison: LiaisonQueries = field(init=False)

    def __post_init__(self) -> None:
        store, today = self.queries.store, self.queries.today
        self.cases = CaseQueries(store, self.queries.config, today=today)
        self.lists = Lists(store, self.intake, self.casework, queues=self.cases)
        self.archives = ArchiveQueries(store, self.queries.register)
        self.replies = IntegrityReplies(self.archives, today=today)
        self.liaison = LiaisonQueries(store, today=today, config=self.queries.config)


# -- rendering ----------------------------------------------------------------------------------


def local_time(moment: dt.datetime | str | None, seconds: bool = False) -> str:
    """A recorded moment (UTC) as the office reads it: Beijing time, to the minute."""
    if not moment:
        return ""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""))


def _environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext_for(lang), ngettext_for(lang), newstyle=True
    )
    env.filters["local_time"] = local_time
    return env


ENVIRONMENTS = {lang: _environment(lang) for lang in LANGUAGES}


def optional_principal(request: Request) -> Principal | None:
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    return accounts_of(request).principal_for_session(session_id)


def tr(request: Request) -> Gettext:
    return gettext_for(language_of(request))


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    user: Principal | None = None,
    *,
    look_up_user: bool = True,
    **context: Any,
) -> HTMLResponse:
    """``look_up_user=False``: no session lookup (the accounts' database may be away). A
    lookup that meets a database away shows the page as to nobody signed in (an error page
    rendered during an outage is still that page, not a 500)."""
    lang = language_of(request)
    _ = gettext_for(lang)
    if user is None and look_up_user:
        try:
            user = optional_principal(request)
        except Exception as error:
            if not is_database_unavailable(error):
                raise

    def label(enum: type[GlossaryEnum], value: Any) -> str:
        if value is None or value == "":
            return ""
        try:
            member = enum(str(value))
        except ValueError:
            return str(value)
        return member.zh if lang != "en" else member.value.replace("_", " ")

    body = (
        ENVIRONMENTS[lang]
        .get_template(template)
        .render(
            request=request,
            user=user,
            role_label=label(Role, user.role) if user else "",
            nav=[(href, _(text)) for href, text in NAVIGATION.get(user.role, [])] if user else [],
            csrf=csrf_token(request),
            lang=lang,
            languages=LANGUAGES,
            path=request.url.path,
            label=label,
            E={
                "Category": Category,
                "Channel": Channel,
                "ReportStatus": ReportStatus,
                "CaseState": CaseState,
                "Role": Role,
                "DeadlineState": DeadlineState,
                "MemberUnit": MemberUnit,
                "ReferralSource": ReferralSource,
            },
            deadline_label=lambda name: _(DEADLINE_LABELS.get(name.split("#")[0], name)),
            action_label=lambda action: _(ACTION_LABELS.get(action, action)),
            field_label=lambda name: _(DETAIL_LABELS.get(name) or FIELD_LABELS.get(name, name)),
            choice_label=lambda name, value: _(dict(CHOICES.get(name, [])).get(value, value)),
            detail_keys=DETAIL_KEYS,
            detail_enum=ENUM_OF_DETAIL,
            **context,
        )
    )
    response = HTMLResponse(body, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
    )
    response.headers["Referrer-Policy"] = "same-origin"
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="lax")
    return response


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _procedure_message(error: ProcedureError, lang: str) -> str:
    return error.message_zh if lang != "en" and error.message_zh else str(error)


# -- the router ---------------------------------------------------------------------------------


def build_router(services: PageServices) -> APIRouter:  # noqa: PLR0915 (one place for all pages)
    router = APIRouter(include_in_schema=False)
    intake, casework, lists = services.intake, services.casework, services.lists

    # -- sign-in -----------------------------------------------------------------------------

    @router.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        user = optional_principal(request)
        if user is not None and user.role in HOME:
            return see_other(HOME[user.role])
        return render(request, "home.html", user=user)

    @router.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/") -> Response:
        return render(request, "login.html", next=safe_next(next), error="", username="")

    @router.post("/login", dependencies=[Csrf])
    def login(request: Request, form: Form) -> Response:
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

    @router.post("/logout", dependencies=[Csrf])
    def logout(request: Request) -> Response:
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:
            accounts_of(request).end_session(session_id)
        response = see_other("/login")
        clear_session_cookie(response)
        return response

    # -- public: the mailbox and the follow-up -------------------------------------------------

    @router.get("/mailbox", response_class=HTMLResponse)
    def mailbox_page(request: Request) -> Response:
        return render(request, "mailbox.html", values={}, errors={}, **_report_form_context())

    @router.post("/mailbox", dependencies=[Csrf])
    def mailbox_submit(request: Request, form: Form) -> Response:
        _ = tr(request)
        data = _submission_data(form, Channel.MAILBOX)
        try:
            submission = ReportSubmission.model_validate(data)
        except ValidationError as error:
            return render(
                request,
                "mailbox.html",
                422,
                values=_form_values(form),
                errors=_submission_errors(error, _),
                **_report_form_context(),
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
                    values=_form_values(form),
                    errors={"summary": str(error)},
                    **_report_form_context(),
                ),
                error,
            )
        receipt = intake.submit(submission, public=True, client=throttle.client)
        return render(request, "mailbox_receipt.html", receipt=receipt)

    @router.get("/follow-up", response_class=HTMLResponse)
    def follow_up_page(request: Request) -> Response:
        return render(request, "follow_up.html", result=None, error="")

    @router.post("/follow-up", dependencies=[Csrf])
    def follow_up(request: Request, form: Form) -> Response:
        _ = tr(request)
        code = str(form.get("query_code", "")).strip()[:32]
        password = str(form.get("password", ""))[:64]
        throttle = PublicThrottle.of(request)
        try:
            # The same counters as the API's: a guesser gains nothing by switching.
            attempt = throttle.start_follow_up(code)
            report_id = intake.vault.report_for_credentials(code, password) if code else None
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
        report = intake.get_report(report_id)
        # As the API answers it: only what was given to this report's (real-name) reporter.
        feedback = services.cases.feedback_for_report(str(report_id))
        result = {
            "ledger_number": report.ledger_number,
            "status": report.status.value,
            "received_on": report.received_on,
            "case_state": _case_state(casework, report),
            "feedback": feedback,
        }
        return render(request, "follow_up.html", result=result, error="")

    # -- intake --------------------------------------------------------------------------------

    @router.get("/intake/new", response_class=HTMLResponse)
    def hotline_page(request: Request, user: Operator) -> Response:
        return render(
            request,
            "intake_new.html",
            user=user,
            values={"channel": Channel.HOTLINE.value, "idempotency_key": str(uuid.uuid4())},
            errors={},
            **_report_form_context(),
        )

    @router.post("/intake/new", dependencies=[Csrf])
    def hotline_submit(request: Request, form: Form, user: Operator) -> Response:
        _ = tr(request)
        channel_value = str(form.get("channel", Channel.HOTLINE.value))
        values = _form_values(form)

        def again(errors: dict[str, str], status: int) -> Response:
            return render(
                request,
                "intake_new.html",
                status,
                user=user,
                values=values,
                errors=errors,
                **_report_form_context(),
            )

        try:
            channel = Channel(channel_value)
        except ValueError:
            return again({"channel": _("Choose one of the listed options.")}, 422)
        try:
            submission = ReportSubmission.model_validate(_submission_data(form, channel))
        except ValidationError as error:
            return again(_submission_errors(error, _), 422)
        try:
            check_submission(user, submission)
            receipt = intake.submit(
                submission,
                idempotency_key=str(form.get("idempotency_key") or "") or None,
                actor=Actor(id=user.username, role=user.role),
            )
        except ProcedureError as error:
            return again({"": _procedure_message(error, language_of(request))}, 403)
        except SubmissionRefused as refused:
            english = language_of(request) == "en"
            message = str(refused) if english else refused.message_zh
            return again({refused.field: message}, 422)
        return see_other(f"/reports/{receipt.report_id}?registered={receipt.ledger_number}")

    @router.get("/intake/cadres")
    def cadre_lookup(
        request: Request,
        _user: LookUp,
        q: str = "",
    ) -> JSONResponse:
        """The cadre register by name or unit, for the hotline form's look-up."""
        text = q.strip()[:100]
        found = services.queries.register.search(text) if text else []
        return JSONResponse(
            [c.model_dump(mode="json") for c in found], headers={"Cache-Control": "no-store"}
        )

    @router.get("/intake/inbox", response_class=HTMLResponse)
    def inbox(request: Request, user: Operator) -> Response:
        return render(request, "inbox.html", user=user, reports=lists.inbox())

    @router.get("/ledger", response_class=HTMLResponse)
    def ledger(
        request: Request,
        user: LedgerReader,
        page: int = 1,
    ) -> Response:
        page = max(1, page)
        reports, more = lists.ledger(page)
        return render(request, "ledger.html", user=user, reports=reports, page=page, more=more)

    # -- reports -------------------------------------------------------------------------------

    def report_page(
        request: Request,
        user: Principal,
        report: Report,
        status: int = 200,
        failed: FormSpec | None = None,
        identity: Mapping[str, Any] | None = None,
        identity_error: str = "",
    ) -> HTMLResponse:
        lang = language_of(request)
        _ = gettext_for(lang)
        view = report_view(report)
        related = lists.related_reports(report)
        ctx = FormContext(
            version=report.version,
            subjects=report.subjects,
            categories=report.categories,
            report_suggestions=[
                (r["report_id"], f"{r['ledger_number']}（{r['received_on']}）") for r in related
            ],
            case_suggestions=[
                (r["case_id"], str(r["ledger_number"])) for r in related if r.get("case_id")
            ],
            lang=lang,
        )
        forms = []
        allowed = [a for a in view.allowed_actions if user.role in TRIAGE[a][0]]
        refused = failed.error if failed and failed.action not in allowed else ""
        for action in view.allowed_actions:
            if user.role not in TRIAGE[action][0]:
                continue
            if failed is not None and failed.action == action:
                forms.append(failed)
            else:
                forms.append(build_form(action, TRIAGE_COMMANDS[action][0], ctx, _))
        return render(
            request,
            "report.html",
            status,
            user=user,
            report=view,
            deadlines=report_back_deadlines(
                report, services.queries.config, services.queries.today()
            ),
            real_name=report.real_name,
            related=related,
            forms=forms,
            can_reveal=user.role in IDENTITY_ROLES and report.real_name,
            can_open_case=user.role in CASE_READERS,
            identity=identity,
            identity_error=identity_error,
            refused=refused,
            done=request.query_params.get("done", ""),
            registered=request.query_params.get("registered", ""),
        )

    @router.get("/reports/{report_id}", response_class=HTMLResponse)
    def report(request: Request, report_id: UUID, user: ReportReader) -> Response:
        return report_page(request, user, intake.get_report(report_id))

    @router.post("/reports/{report_id}/identity", dependencies=[Csrf])
    def reveal_identity(
        request: Request,
        report_id: UUID,
        form: Form,
        user: IdentityReader,
    ) -> Response:
        """The audited reveal: recorded (who, when, why) before it is shown, on this
        response only."""
        _ = tr(request)
        reason = str(form.get("reason", "")).strip()
        report = intake.get_report(report_id)
        if len(reason) < 2 or len(reason) > 500:
            return report_page(
                request,
                user,
                report,
                422,
                identity_error=_("Say why you need the identity (2 to 500 characters)."),
            )
        try:
            report, shown, entry = reveal_identity_for(
                intake,
                user,
                report_id,
                reason,
                accounts_of(request),
                lambda case_id: _case_handler(casework, case_id),
            )
        except NoIdentityKept as error:
            return report_page(
                request,
                user,
                report,
                404,
                identity_error=_procedure_message(error, language_of(request)),
            )
        except RuleBroken as error:
            return report_page(
                request,
                user,
                report,
                403,
                identity_error=_procedure_message(error, language_of(request)),
            )
        log.info(
            "reporter identity of report %s shown to %s (%s) on a page, audit entry %s",
            report_id,
            user.username,
            user.role.value,
            entry.entry_id,
        )
        shown["audit_entry_id"] = entry.entry_id
        return report_page(request, user, report, identity=shown)

    @router.post("/reports/{report_id}/{action}", dependencies=[Csrf])
    def triage(
        request: Request,
        report_id: UUID,
        action: str,
        form: Form,
        user: Triager,
    ) -> Response:
        lang = language_of(request)
        _ = gettext_for(lang)
        if action not in TRIAGE_COMMANDS:
            raise StarletteHTTPException(404, f"no triage action {action!r}")
        report = intake.get_report(report_id)
        related = lists.related_reports(report)
        ctx = FormContext(
            version=report.version,
            subjects=report.subjects,
            categories=report.categories,
            report_suggestions=[(r["report_id"], "") for r in related],
            case_suggestions=[(r["case_id"], "") for r in related if r.get("case_id")],
            lang=lang,
        )
        model = TRIAGE_COMMANDS[action][0]
        spec = build_form(action, model, ctx, _)
        try:
            command = parse_form(spec, model, _strings(form), ctx, _)
            intake.triage(report_id, action, command, Actor(id=user.username, role=user.role))
        except FormInvalid as error:
            spec.errors = error.errors
            return report_page(request, user, report, 422, failed=_refill(spec, form))
        except SubmissionRefused as refused:  # a stated day out of bounds, on its field
            spec.errors = {refused.field: str(refused) if lang == "en" else refused.message_zh}
            return report_page(request, user, report, 422, failed=_refill(spec, form))
        except ProcedureError as error:
            spec.error = _procedure_message(error, lang)
            return report_page(
                request, user, intake.get_report(report_id), 409, failed=_refill(spec, form)
            )
        return see_other(f"/reports/{report_id}?done={action}")

    # -- cases ---------------------------------------------------------------------------------

    @router.get("/cases/mine", response_class=HTMLResponse)
    def my_cases(
        request: Request,
        user: Handler,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = PAGE_LIMIT,
        after: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> Response:
        """The handler's cases, a page at a time (the soonest deadline first), with a link
        to the next page."""
        try:
            found, following = lists.cases_page(user.username, limit=limit, after=after or None)
        except BadCursor as error:
            return render(request, "error.html", 422, user=user, message=str(error), roles=[])
        cases = [case_view(c, casework, user.role) for c in found]
        next_url = (
            f"/cases/mine?{urlencode({'limit': limit, 'after': following})}" if following else ""
        )
        return render(
            request, "cases_mine.html", user=user, cases=cases, next_url=next_url,
            first_url="/cases/mine" if after else "",
        )  # fmt: skip

    def case_page(
        request: Request,
        user: Principal,
        case_id: UUID,
        status: int = 200,
        failed: FormSpec | None = None,
    ) -> HTMLResponse:
        lang = language_of(request)
        _ = gettext_for(lang)
        case = casework.get_case(case_id)
        _check_case(request, user, case.handler_id)
        view = case_view(case, casework, user.role)
        ctx = _case_form_context(request, case, lang)
        forms = [
            failed
            if failed is not None and failed.action == action
            else build_form(action, COMMANDS[action][0], ctx, _)
            for action in view.allowed_actions
        ]
        refused = failed.error if failed and failed.action not in view.allowed_actions else ""
        timeline = services.queries.timeline(str(case_id))
        return render(
            request,
            "case.html",
            status,
            user=user,
            case=view,
            timeline=timeline.steps if timeline else [],
            people=_people(request),
            forms=forms,
            refused=refused,
            done=request.query_params.get("done", ""),
        )

    def _check_case(request: Request, user: Principal, handler_id: str | None) -> None:
        try:
            check_case_access(user, handler_id, accounts_of(request))
        except ProcedureError as error:
            raise PageForbidden((), user, _procedure_message(error, language_of(request))) from None

    @router.get("/cases/{case_id}", response_class=HTMLResponse)
    def case(
        request: Request,
        case_id: UUID,
        user: CaseReader,
    ) -> Response:
        return case_page(request, user, case_id)

    @router.post("/cases/{case_id}/{action}", dependencies=[Csrf])
    def case_command(
        request: Request,
        case_id: UUID,
        action: str,
        form: Form,
        user: CaseActor,
    ) -> Response:
        lang = language_of(request)
        _ = gettext_for(lang)
        if action not in COMMANDS:
            raise StarletteHTTPException(404, f"no case action {action!r}")
        the_case = casework.get_case(case_id)
        _check_case(request, user, the_case.handler_id)
        ctx = _case_form_context(request, the_case, lang)
        model = COMMANDS[action][0]
        spec = build_form(action, model, ctx, _)
        try:
            command = parse_form(spec, model, _strings(form), ctx, _)
            casework.execute(case_id, action, command, {"id": user.username, "role": user.role})
        except FormInvalid as error:
            spec.errors = error.errors
            return case_page(request, user, case_id, 422, failed=_refill(spec, form))
        except InvalidInput as error:  # names something unusable: 422 (on its field if it has one)
            message = _procedure_message(error, lang)
            field = getattr(error, "field", None)
            if field:
                spec.errors = {field: message}
            else:
                spec.error = message
            return case_page(request, user, case_id, 422, failed=_refill(spec, form))
        except ProcedureError as error:
            spec.error = _procedure_message(error, lang)
            return case_page(request, user, case_id, 409, failed=_refill(spec, form))
        back = safe_next(str(form.get("back", "")))
        if back == "/approvals":
            return see_other(f"/approvals?done={action}")
        return see_other(f"/cases/{case_id}?done={action}#timeline")

    # -- leaders -------------------------------------------------------------------------------

    @router.get("/approvals", response_class=HTMLResponse)
    def approvals(request: Request, user: Leader) -> Response:
        lang = language_of(request)
        _ = gettext_for(lang)
        items = []
        for the_case in lists.awaiting_approval():
            view = case_view(the_case, casework, user.role)
            ctx = _case_form_context(request, the_case, lang)
            forms = [
                build_form(a, COMMANDS[a][0], ctx, _)
                for a in view.allowed_actions
                if a in APPROVAL_ACTIONS
            ]
            items.append({"case": view, "forms": forms})
        returns = []
        for the_report in lists.returns_proposed():
            ctx = FormContext(version=the_report.version, lang=lang)
            returns.append(
                {
                    "report": report_view(the_report),
                    "forms": [build_form(a, TRIAGE_COMMANDS[a][0], ctx, _) for a in RETURN_ACTIONS],
                }
            )
        to_assign = [case_view(c, casework, user.role) for c in lists.awaiting_assignment()]
        handlers = _handlers(request)
        return render(
            request,
            "approvals.html",
            user=user,
            items=items,
            returns=returns,
            to_assign=to_assign,
            handlers=handlers,
            done=request.query_params.get("done", ""),
        )

    return router


# -- helpers --------------------------------------------------------------------------------------


def _strings(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _form_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = _strings(form)
    values["categories"] = [v for v in form.getlist("categories") if isinstance(v, str)]
    values.pop("csrf_token", None)
    return values


def _refill(spec: FormSpec, form: FormData) -> FormSpec:
    values = _strings(form)
    for f in spec.fields:
        if f.kind != "hidden" and f.name in values:
            f.value = values[f.name]
    return spec


def _people(request: Request) -> dict[str, str]:
    return {a.username: a.display_name for a in accounts_of(request).list_users()}


def _handlers(request: Request) -> list[tuple[str, str]]:
    return [
        (a.username, a.display_name)
        for a in accounts_of(request).list_users()
        if a.role is Role.HANDLER and a.active
    ]


def _case_form_context(request: Request, case: Any, lang: str) -> FormContext:
    return FormContext(
        version=case.version,
        subjects=case.subjects,
        categories=case.categories,
        handlers=_handlers(request),
        unmet_deadlines=case.unmet_deadlines(),
        lang=lang,
        allegations=[case.alleged().get(subject_key(s), []) for s in case.subjects],
    )


def _case_handler(casework: CaseworkApplication, case_id: str) -> str | None:
    try:
        return casework.get_case(UUID(case_id)).handler_id
    except (ProcedureError, ValueError):
        return None


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


def _report_form_context() -> dict[str, Any]:
    return {
        "categories": list(Category),
        "channels": [c for c in Channel if c is not Channel.MAILBOX],
        "referral_sources": list(ReferralSource),
        "member_units": list(MemberUnit),
        "summary_max": SUMMARY_MAX_CHARS,
        "subject_rows": SUBJECT_ROWS,
    }


def _submission_data(form: FormData, channel: Channel) -> dict[str, Any]:
    """The report a form describes, as the submission schema's dictionary."""
    value = _strings(form)

    def text(name: str) -> str:
        return value.get(name, "").strip()

    if text("reporter_kind") == "real_name":
        reporter: dict[str, Any] = {"anonymous": False, "name": text("reporter_name")}
        for key in ("phone", "email", "address", "id_number", "unit"):
            if text(f"reporter_{key}"):
                reporter[key] = text(f"reporter_{key}")
    else:
        reporter = {"anonymous": True}
    subjects = []
    for i in range(SUBJECT_ROWS):
        row = {k: text(f"subject-{i}-{k}") for k in ("name", "unit", "position", "cadre_id")}
        if any(row.values()):
            subjects.append({k: v for k, v in row.items() if v or k == "name"})
    data: dict[str, Any] = {
        "channel": channel.value,
        "reporter": reporter,
        "subjects": subjects,
        "categories": [v for v in form.getlist("categories") if isinstance(v, str)],
        "summary": value.get("summary", ""),
    }
    if channel is not Channel.MAILBOX and text("received_on"):
        data["received_on"] = text("received_on")
    if channel is Channel.REFERRAL:
        referral: dict[str, Any] = {"source": text("referral_source")}
        if text("referral_member_unit"):
            referral["member_unit"] = text("referral_member_unit")
        if text("referral_reference"):
            referral["reference"] = text("referral_reference")
        data["referral"] = referral
    return data


def _submission_errors(error: ValidationError, _: Gettext) -> dict[str, str]:
    """Problems of a submission under the form's own field names."""
    raw = validation_errors(error, None, _)
    errors: dict[str, str] = {}
    for loc, problem in raw.items():
        message = problem
        parts = loc.split(".")
        if parts[0] == "reporter":
            # the union's tag ("real_name") sits between reporter and the field
            field_name = next((p for p in parts[1:] if p not in ("real_name", "anonymous")), "")
            key = f"reporter_{field_name}" if field_name else "reporter_kind"
            if key == "reporter_kind":
                message = _(
                    "A real-name reporter needs a phone number, an address or an e-mail "
                    "so that feedback can reach them."
                )
        elif parts[0] == "subjects" and len(parts) >= 3:
            key = f"subject-{parts[1]}-{parts[2]}"
        elif parts[0] == "subjects":
            key = "subject-0-name"
        elif parts[0] in ("categories", "summary", "received_on", "channel"):
            key = parts[0]
        elif parts[0] == "referral":
            key = "referral_" + (parts[1] if len(parts) > 1 else "source")
            key = key if key != "referral_" else "referral_source"
        else:
            key = ""
        errors[key] = f"{errors[key]} {message}".strip() if key in errors else message
    if "" in errors and not errors[""]:
        del errors[""]
    return errors


# -- wiring ---------------------------------------------------------------------------------------

API_PREFIXES = ("/api/", "/docs", "/openapi.json", "/healthz", "/metrics")


def _is_page(request: Request) -> bool:
    return not request.url.path.startswith(API_PREFIXES)


def install(app: FastAPI, services: PageServices) -> FastAPI:
    """Add the pages, their stylesheet and script, and HTML error pages to ``app`` (whose
    accounts are already installed)."""
    from services.web import more_pages

    app.include_router(build_router(services))
    app.include_router(more_pages.build_router(services))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if not _is_page(request):  # the API's answer: a problem body (create_app's handler)
            api_answer = (previous_http_error or http_exception_handler)(request, error)
            return await api_answer if inspect.isawaitable(api_answer) else api_answer
        if error.status_code in (301, 302, 303, 307, 308) and error.headers:
            return RedirectResponse(error.headers["Location"], status_code=error.status_code)
        _ = tr(request)
        messages = {
            403: _("This page is not open to your role."),
            404: _("This page or record does not exist."),
            405: _("This page cannot be used this way."),
        }
        message = messages.get(error.status_code, str(error.detail))
        if error.status_code == 403 and "security token" in str(error.detail):
            message = _(
                "The form's security token is missing or wrong: reload the page and submit again."
            )
        # render looks up the session: a database call, off the event loop
        return await run_in_threadpool(
            render, request, "error.html", error.status_code, message=message, roles=[]
        )

    async def forbidden(request: Request, error: Exception) -> Response:
        assert isinstance(error, PageForbidden)
        _ = tr(request)
        message = error.message or _("This page is not open to your role.")
        return await run_in_threadpool(
            render,
            request,
            "error.html",
            403,
            user=error.principal,
            message=message,
            roles=error.roles,
        )

    async def procedure_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, ProcedureError)
        if not _is_page(request):
            from services.common.web import procedure_error_response

            return procedure_error_response(request, error)
        status = 404 if isinstance(error, LookupError) else 409
        message = _procedure_message(error, language_of(request))
        return await run_in_threadpool(
            render, request, "error.html", status, message=message, roles=[]
        )

    async def invalid(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        if not _is_page(request):
            handler = previous_invalid or request_validation_exception_handler
            answer = handler(request, error)
            return await answer if inspect.isawaitable(answer) else answer
        _ = tr(request)
        return await run_in_threadpool(
            render,
            request,
            "error.html",
            404,
            message=_("This page or record does not exist."),
            roles=[],
        )

    async def database_away(request: Request, error: Exception) -> Response:
        """A database that is away: a 503 page with Retry-After (0018); the API's answer
        (or the error raised again) elsewhere."""
        if not _is_page(request) or not is_database_unavailable(error):
            return database_unavailable_response(request, error)
        _ = tr(request)
        message = _("The service is temporarily unavailable. Please try again in a few moments.")
        response = render(request, "error.html", 503, message=message, roles=[], look_up_user=False)
        response.headers.update(retry_after_header())
        return response

    for database_error in DATABASE_ERRORS:
        app.add_exception_handler(database_error, database_away)
    previous_invalid = app.exception_handlers.get(RequestValidationError)
    previous_http_error = app.exception_handlers.get(StarletteHTTPException)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(PageForbidden, forbidden)
    app.add_exception_handler(ProcedureError, procedure_error)
    app.add_exception_handler(RequestValidationError, invalid)
    return app
