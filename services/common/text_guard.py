"""No NUL character (U+0000) gets in: PostgreSQL cannot store one in text.

SQLite takes it, PostgreSQL answers ``DataError`` (a 500, or a projection worker stuck on
the event that carries it). ``RefuseNul`` (ASGI middleware, installed by ``create_app``)
refuses a request whose path, query string, JSON (``application/*+json`` too) or form
(urlencoded or multipart) body holds one, with a 422 problem
naming where, before any route sees it — so nothing is stored.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.problems import problem_response

PROBLEM = "contains a NUL character (U+0000), which cannot be stored"
# Every body a route can read text from: JSON (also ``application/*+json``, which FastAPI
# parses as JSON), and forms (a multipart form's text fields; its files, e.g. a document
# template uploaded by the administrator, are bytes the route checks itself).
_TEXT_BODIES = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")


def _reads_text(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip()
    return media.startswith(_TEXT_BODIES) or (
        media.startswith("application/") and media.endswith("+json")
    )


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _multipart_text_holds_nul(body: bytes, content_type: str) -> bool:
    """A NUL in a multipart form's text fields (headers included), not in its files."""
    boundary = next(
        (
            p.split("=", 1)[1].strip().strip('"')
            for p in content_type.split(";")[1:]
            if p.strip().lower().startswith("boundary=")
        ),
        "",
    )
    if not boundary:
        return b"\x00" in body
    for part in body.split(b"--" + boundary.encode("latin-1")):
        headers, _, content = part.partition(b"\r\n\r\n")
        if b"\x00" in headers:
            return True
        if b"filename=" not in headers.lower() and b"\x00" in content:
            return True
    return False


def _body_holds_nul(body: bytes, content_type: str) -> bool:
    if content_type.lower().startswith("application/x-www-form-urlencoded"):
        return b"\x00" in unquote_to_bytes(body.replace(b"+", b" "))
    if content_type.lower().startswith("multipart/form-data"):
        return _multipart_text_holds_nul(body, content_type)
    if b"\x00" in body:
        return True
    if b"\\u0000" not in body:
        return False
    try:
        return _holds_nul(json.loads(body))
    except ValueError:
        return False  # not JSON: the route says so


class RefuseNul:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = None
        if "\x00" in scope.get("path", ""):
            where = "path"
        elif b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
            where = "query"
        content_type = next(
            (
                bytes(v).decode("latin-1")
                for k, v in scope.get("headers", ())
                if k == b"content-type"
            ),
            "",
        )  # as sent: a multipart boundary is case-sensitive
        replay = receive
        if where is None and _reads_text(content_type.lower()):
            body, replay = await _buffered(receive)
            if _body_holds_nul(body, content_type):
                where = "body"
        if where is not None:
            answer = problem_response(
                Request(scope),
                422,
                f"{where}: {PROBLEM}",
                problems=[{"field": where, "problem": PROBLEM}],
            )
            await answer(scope, receive, send)
            return
        await self.app(scope, replay, send)


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a ``receive`` that hands it on to the app as it came."""
    chunks: list[bytes] = []
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break

    async def replay() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return b"".join(chunks), replay
