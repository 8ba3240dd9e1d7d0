"""Rendering a page: Jinja2 in the reader's language, the navigation of each role, the
labels the templates use, and the headers every page carries (never cached, never framed)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from schemas.glossary import (
    EVENT_LABELS,
    ApprovalKind,
    Bar,
    CaseState,
    Category,
    Channel,
    DocumentKind,
    GlossaryEnum,
    HandlingType,
    LiaisonDimension,
    ManagementLevel,
    MemberUnit,
    Queue,
    ReferralDirection,
    ReferralSource,
    ReferralStatus,
    ReportStatus,
    Role,
    SensitiveItem,
)
from services.accounts.model import Principal
from services.accounts.web import SESSION_COOKIE, accounts_of, csrf_token
from services.calendar.deadlines import DeadlineState
from services.common.china_time import CHINA_TIME
from services.common.procedure import ProcedureError
from services.common.unavailable import is_database_unavailable
from services.web.forms import ACTION_LABELS, CHOICES, DEADLINE_LABELS, FIELD_LABELS
from services.web.i18n import (
    LANG_COOKIE,
    LANGUAGES,
    N_,
    Gettext,
    gettext_for,
    language_of,
    ngettext_for,
)

HERE = Path(__file__).resolve().parents[1]  # services/web: templates/, static/

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
        ("/selections", N_("Selections")),
        ("/projects", N_("Supervision projects")),
    ],
    Role.LEADER: [
        ("/approvals", N_("Awaiting approval")),
        ("/queues", N_("Work queues")),
        ("/ledger", N_("Registration ledger")),
        ("/cadres", N_("Cadre archives")),
        ("/integrity", N_("Integrity replies")),
        ("/liaison", N_("Liaison figures")),
        ("/selections", N_("Selections")),
        ("/projects", N_("Supervision projects")),
    ],
    # The cadre section's selection clerk: the selections and their steps (decision 0034).
    Role.SELECTION_CLERK: [
        ("/selections", N_("Selections")),
        ("/selections?in_progress=false", N_("All selections")),
    ],
    Role.AUDITOR: [
        ("/audit", N_("Audit")),
        ("/ledger", N_("Registration ledger")),
        ("/cadres", N_("Cadre archives")),
        ("/integrity", N_("Integrity replies")),
        ("/liaison", N_("Liaison figures")),
        ("/selections", N_("Selections")),
        ("/projects", N_("Supervision projects")),
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
    Role.SELECTION_CLERK: "/selections",
}

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


def procedure_message(error: ProcedureError, lang: str) -> str:
    return error.message_zh if lang != "en" and error.message_zh else str(error)


# Enums the templates label (besides those ``render`` offers).
ENUMS = {
    "Queue": Queue,
    "ApprovalKind": ApprovalKind,
    "Bar": Bar,
    "ManagementLevel": ManagementLevel,
    "HandlingType": HandlingType,
    "LiaisonDimension": LiaisonDimension,
    "ReferralStatus": ReferralStatus,
    "ReferralDirection": ReferralDirection,
    "SensitiveItem": SensitiveItem,
    "DocumentKind": DocumentKind,
}


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return render(request, template, status, X=ENUMS, **context)


def event_label(event_type: str, lang: str) -> str:
    """A step as the timeline names it (``EVENT_LABELS``); in English, its type in words
    (the selection's and the supervision project's record pages)."""
    if lang != "en":
        return EVENT_LABELS.get(event_type, event_type)
    return re.sub(r"(?<!^)([A-Z])", r" \1", event_type).capitalize()
