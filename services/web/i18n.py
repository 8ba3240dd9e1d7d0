"""Languages of the pages: Chinese (zh-CN, the default) and English.

Templates and page code write English message ids (``_("Sign in")``); the Chinese lives in
``locale/zh_CN/LC_MESSAGES/messages.po``, read at start with Babel's ``read_po`` (no compile
step). English needs no catalog: a message id is its own English text. Domain terms come
from the glossary enums (``.zh``), not from the catalog (docs/decisions/0012).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po
from fastapi import Request

from schemas.glossary import GlossaryEnum

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANG_COOKIE = "lang"
DEFAULT_LANG = "zh-CN"
LANGUAGES = {"zh-CN": "中文", "en": "English"}
_CATALOG_OF = {"zh-CN": "zh_CN"}

Gettext = Callable[..., str]


def N_(message: str) -> str:  # noqa: N802 (the gettext convention for "translate later")
    """Marks a message id for extraction; it is translated where it is shown."""
    return message


@cache
def messages(lang: str) -> dict[str, str]:
    """The catalog of ``lang`` as message id → translation (empty for English)."""
    folder = _CATALOG_OF.get(lang)
    if folder is None:
        return {}
    with (LOCALE_DIR / folder / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=folder)
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string
    }


def gettext_for(lang: str) -> Gettext:
    table = messages(lang)

    def gettext(message: str, **variables: object) -> str:
        text = table.get(message, message)
        return text % variables if variables else text

    return gettext


def ngettext_for(lang: str) -> Callable[..., str]:
    gettext = gettext_for(lang)

    def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
        return gettext(singular if n == 1 else plural, **({"num": n} | variables))

    return ngettext


def language_of(request: Request) -> str:
    """``?lang=`` wins, then the ``lang`` cookie, then Chinese."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANG


def term(value: str | StrEnum | None, enum: type[GlossaryEnum], lang: str) -> str:
    """A glossary term in the page's language (Chinese ``.zh``, else the readable value)."""
    if value is None or value == "":
        return ""
    try:
        member = enum(str(value))
    except ValueError:
        return str(value)
    return member.zh if lang != "en" else member.value.replace("_", " ")
