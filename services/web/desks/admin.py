"""The administration desk: accounts (create, role, (de)activate, password) and the
configuration tables (time limits, handling effects), and the official documents' templates
(decision 0035: replaced by upload, every version kept, a template refused naming the field)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.glossary import DocumentKind, HandlingType, Role
from services.accounts.model import Principal
from services.accounts.store import (
    AccountError,
    LastAdministrator,
    UnknownUser,
    UserExists,
    WeakPassword,
    check_password,
)
from services.accounts.web import accounts_of
from services.calendar.deadlines import TimeLimits
from services.calendar.handling import HandlingEffect
from services.casework.document_api import MAX_TEMPLATE_BYTES, template_view
from services.common.config import ConfigStore
from services.common.documents import DOCX_MEDIA_TYPE, TemplateRefused, attachment
from services.web.i18n import N_, Gettext, language_of
from services.web.shell import (
    Admin,
    Csrf,
    Desk,
    Form,
    PageServices,
    enum_values,
    page,
    route,
    see_other,
    strings,
    tr,
)

log = logging.getLogger(__name__)

# What the configuration tables' fields mean (services/calendar/deadlines.py, handling.py).
LIMIT_LABELS = {
    "forward_up": N_("Forward a report to the level above (working days)"),
    "transfer_down_acceptance": N_("Level below accepts a transferred report (working days)"),
    "acceptance_notice": N_("Acceptance notice to a real-name reporter (working days)"),
    "inquiry_reply": N_("Reply to a talk or written inquiry (working days)"),
    "feedback_after_closure": N_("Feedback to a real-name reporter after closure (working days)"),
    "due_soon_threshold": N_("A deadline this close is due soon (working days)"),
    "publicity_defer_max_months": N_("Longest deferral of an appointment under publicity (months)"),
    "admonition_follow_up_months": N_("Admonition: bar and follow-up (months)"),
    "suspension_max_months": N_("Longest suspension for examination (months)"),
    "parked_review_months": N_("Review of a parked item (months)"),
    "referral_report_back_months": N_("A member unit reports back on a referral (months)"),
    "received_on_backdate_max_days": N_("Staff may back-date a report's receipt at most (days)"),
    "transfer_down_report_back": N_("The level below reports its result (working days)"),
    "discipline_report_back": N_(
        "The discipline commission reports its result on a transferred case (working days)"
    ),
    "objection_answer": N_("Answer to a reporter's objection (working days)"),
    "project_plan": N_("Supervision project: its plan, from the opening (working days)"),
    "project_conclusion": N_(
        "Supervision project: its conclusion, from the opening (working days)"
    ),
    "project_report_back": N_(
        "Supervision project: its report back, from the approved conclusion (working days)"
    ),
}
EFFECT_LABELS = {
    "bars_leading_post_months": N_("No leading post (months)"),
    "bars_promotion_months": N_("No promotion (months)"),
    "bars_key_post_months": N_("No key post (months)"),
    "max_duration_months": N_("Longest duration (months)"),
    "follow_up": N_("Follow-up"),
}


class AdminDesk(Desk):
    """Accounts and configuration."""

    # -- administration --------------------------------------------------------------------

    def users_page(
        self,
        request: Request,
        user: Principal,
        status: int = 200,
        error: str = "",
        values: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        return page(
            request,
            "admin_users.html",
            status,
            user=user,
            accounts=accounts_of(request).list_users(),
            roles=list(Role),
            error=error,
            values=values or {},
            done=request.query_params.get("done", ""),
        )

    @route.get("/admin/users", response_class=HTMLResponse)
    def admin_users(self, request: Request, user: Admin) -> Response:
        return self.users_page(request, user)

    @route.post("/admin/users", dependencies=[Csrf])
    def admin_create_user(self, request: Request, form: Form, user: Admin) -> Response:
        _ = tr(request)
        values = strings(form)
        values.pop("csrf_token", None)
        kept = {k: v for k, v in values.items() if k != "password"}
        role = values.get("role", "")
        if role not in enum_values(Role):
            return self.users_page(request, user, 422, _("Choose a role."), kept)
        try:
            created = accounts_of(request).create_user(
                values.get("username", ""),
                values.get("password", ""),
                role,
                values.get("display_name", "").strip() or values.get("username", ""),
                unit=values.get("unit", "").strip() or None,
                section=values.get("section", "").strip() or None,
            )
        except AccountError as error:
            return self.users_page(request, user, 422, _account_message(error, _), kept)
        log.info("account %s (%s) created by %s", created.username, role, user.username)
        return see_other("/admin/users?done=created")

    @route.post("/admin/users/{username}/{change}", dependencies=[Csrf])
    def admin_change_user(
        self, request: Request, username: str, change: str, form: Form, user: Admin
    ) -> Response:
        """Change the role, (de)activate, or set a new password."""
        _ = tr(request)
        store = accounts_of(request)
        values = strings(form)
        try:
            account = store.get_user(username)
            if change == "role":
                role = values.get("role", "")
                if role not in enum_values(Role):
                    return self.users_page(request, user, 422, _("Choose a role."))
                store.set_role(account.username, role)
            elif change == "active":
                store.set_active(account.username, values.get("active") == "1")
            elif change == "password":
                password = values.get("password", "")
                check_password(password, account.username)
                store.set_password(account.username, password)
            else:
                raise StarletteHTTPException(404, f"no account change {change!r}")
        except UnknownUser:
            raise StarletteHTTPException(404, "no such account") from None
        except AccountError as error:
            return self.users_page(request, user, 422, _account_message(error, _))
        log.info("account %s: %s changed by %s", account.username, change, user.username)
        return see_other(f"/admin/users?done={change}")

    def config_page(
        self,
        request: Request,
        user: Principal,
        status: int = 200,
        errors: Mapping[str, str] | None = None,
        values: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        config = self.services.queries.config
        return page(
            request,
            "admin_config.html",
            status,
            user=user,
            limits=config.limits().model_dump(),
            limit_fields=list(TimeLimits.model_fields),
            effects={k.value: v.model_dump() for k, v in config.effects().items()},
            effect_fields=[f for f in HandlingEffect.model_fields if f != "rule_zh"],
            limit_labels=LIMIT_LABELS,
            effect_labels=EFFECT_LABELS,
            errors=errors or {},
            values=values or {},
            editable=isinstance(config, ConfigStore),
            done=request.query_params.get("done", ""),
            templates=[template_view(config, kind) for kind in DocumentKind],
            document_settings=config.documents(),
        )

    @route.get("/admin/config", response_class=HTMLResponse)
    def admin_config(self, request: Request, user: Admin) -> Response:
        return self.config_page(request, user)

    @route.post("/admin/config/{table}", dependencies=[Csrf])
    def admin_config_save(self, request: Request, table: str, form: Form, user: Admin) -> Response:
        """Replace a table (validated first: nothing is stored if any field is wrong)."""
        _ = tr(request)
        config = self.services.queries.config
        if table not in ("time_limits", "handling_effects", "document_settings"):
            raise StarletteHTTPException(404, f"no configuration table {table!r}")
        if not isinstance(config, ConfigStore):
            return self.config_page(request, user, 409, {"": _("This configuration is read-only.")})
        values = strings(form)
        if table == "document_settings":
            content: dict[str, Any] = _document_settings_from(values)
        else:
            content = _limits_from(values) if table == "time_limits" else _effects_from(form)
        try:
            config.set_table(table, content, changed_by=user.username)
        except ValidationError as error:
            errors = {_field_key(table, e["loc"]): _config_problem(e, _) for e in error.errors()}
            return self.config_page(request, user, 422, errors, values)
        log.info("configuration table %s replaced by %s", table, user.username)
        return see_other(f"/admin/config?done={table}")

    # -- the official documents' templates (decision 0035) ----------------------------------

    @route.get("/admin/templates/{kind}.docx")
    def admin_template_download(self, request: Request, kind: str, user: Admin) -> Response:
        """The template issued with now (to edit it and upload it again)."""
        if kind not in enum_values(DocumentKind):
            raise StarletteHTTPException(404, f"no kind of document {kind!r}")
        the_kind = DocumentKind(kind)
        template = self.services.queries.config.template(the_kind)
        return Response(
            template.content,
            media_type=DOCX_MEDIA_TYPE,
            headers={"Content-Disposition": attachment(f"{the_kind.zh}模板.docx")},
        )

    @route.post("/admin/templates/{kind}", dependencies=[Csrf])
    def admin_template_replace(
        self, request: Request, kind: str, form: Form, user: Admin
    ) -> Response:
        """Replace a kind's template by the uploaded .docx (refused, naming the field, when it
        does not render with the kind's fields; nothing is kept then)."""
        _ = tr(request)
        if kind not in enum_values(DocumentKind):
            raise StarletteHTTPException(404, f"no kind of document {kind!r}")
        config = self.services.queries.config
        if not isinstance(config, ConfigStore):
            return self.config_page(request, user, 409, {"": _("This configuration is read-only.")})
        upload = form.get("template")
        content = b"" if upload is None or isinstance(upload, str) else upload.file.read()
        key = f"template.{kind}"
        if not content:
            return self.config_page(request, user, 422, {key: _("Choose a .docx file.")})
        if len(content) > MAX_TEMPLATE_BYTES:
            return self.config_page(request, user, 422, {key: _("The file is too large.")})
        try:
            config.replace_template(DocumentKind(kind), content, changed_by=user.username)
        except TemplateRefused as refused:
            message = str(refused) if language_of(request) == "en" else refused.message_zh
            return self.config_page(request, user, 422, {key: message})
        log.info("document template %s replaced by %s", kind, user.username)
        return see_other(f"/admin/config?done=template.{kind}#templates")


def build_router(services: PageServices) -> APIRouter:
    return AdminDesk(services).router()


def _account_message(error: AccountError, _: Gettext) -> str:
    if isinstance(error, UserExists):
        return _("An account with this username already exists.")
    if isinstance(error, WeakPassword):
        return _(
            "The password is too weak: at least 12 characters, 4 different characters, "
            "and not containing the username."
        )
    if isinstance(error, LastAdministrator):
        return _("At least one active administrator must remain.")
    return _("The account data cannot be used: %(problem)s", problem=str(error))


def _limits_from(values: Mapping[str, str]) -> dict[str, Any]:
    return {name: values.get(name, "").strip() for name in TimeLimits.model_fields}


def _document_settings_from(values: Mapping[str, str]) -> dict[str, Any]:
    """The office's name and each kind's number prefix (blank: the default)."""
    prefixes = {k.value: values.get(f"prefix.{k.value}", "").strip() for k in DocumentKind}
    return {
        "office_name": values.get("office_name", ""),
        "prefixes": {k: v for k, v in prefixes.items() if v},
    }


def _effects_from(form: FormData) -> dict[str, Any]:
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    table: dict[str, Any] = {}
    for kind in HandlingType:
        row: dict[str, Any] = {}
        for name in HandlingEffect.model_fields:
            key = f"{kind.value}.{name}"
            if name == "follow_up":
                row[name] = values.get(key) == "1"
            elif key in values:
                row[name] = values[key].strip()
        if any(f"{kind.value}." in k for k in values):
            table[kind.value] = row
    return table


def _field_key(table: str, loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if table == "handling_effects" and len(parts) >= 2:
        return f"{parts[0]}.{parts[-1]}"
    if table == "document_settings" and parts[:1] == ["prefixes"] and len(parts) >= 2:
        return f"prefix.{parts[1]}"
    return parts[0] if parts else ""


def _config_problem(error: Mapping[str, Any], _: Gettext) -> str:  # noqa: PLR0911 (one per kind)
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind in ("int_parsing", "int_type", "missing"):
        return _("Enter a whole number.")
    if kind == "greater_than":
        return _("Must be more than %(limit)s.", limit=context.get("gt"))
    if kind == "greater_than_equal":
        return _("Must be at least %(limit)s.", limit=context.get("ge"))
    if kind == "less_than_equal":
        return _("Must be at most %(limit)s.", limit=context.get("le"))
    if kind == "string_too_short":
        return _("Fill this in.")
    if kind == "string_too_long":
        return _("At most %(limit)s characters.", limit=context.get("max_length"))
    return str(error.get("msg", kind))
