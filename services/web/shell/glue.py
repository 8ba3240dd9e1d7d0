"""The forms' glue: the posted form and its CSRF check, its strings, a refilled form after a
refusal, the people a page names, a case's form context, typed dates and enum values."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import FormData

from schemas.glossary import Role
from services.accounts.web import accounts_of, verify_csrf
from services.casework.domain import subject_key
from services.web.forms import FormContext, FormSpec
from services.web.i18n import Gettext


async def form_data(request: Request) -> FormData:
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]
Csrf = Depends(verify_csrf)


def strings(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


def refill(spec: FormSpec, form: FormData) -> FormSpec:
    values = strings(form)
    for f in spec.fields:
        if f.kind != "hidden" and f.name in values:
            f.value = values[f.name]
    return spec


def people(request: Request) -> dict[str, str]:
    return {a.username: a.display_name for a in accounts_of(request).list_users()}


def handlers(request: Request) -> list[tuple[str, str]]:
    return [
        (a.username, a.display_name)
        for a in accounts_of(request).list_users()
        if a.role is Role.HANDLER and a.active
    ]


def case_form_context(request: Request, case: Any, lang: str) -> FormContext:
    return FormContext(
        version=case.version,
        subjects=case.subjects,
        categories=case.categories,
        handlers=handlers(request),
        unmet_deadlines=case.unmet_deadlines(),
        lang=lang,
        allegations=[case.alleged().get(subject_key(s), []) for s in case.subjects],
    )


def typed_date(text: str, what: str, _: Gettext) -> dt.date | None:
    """A date typed into a form (empty: none); a bad one is a ``ValueError`` naming it."""
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            _("%(what)s: not a date (%(text)s); use e.g. 2026-03-02", what=what, text=text[:20])
        ) from None


def enum_values(enum: Any) -> set[str]:
    return {member.value for member in enum}
