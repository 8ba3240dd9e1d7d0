"""Each request's id and its one line of access log.

``RequestContext`` (pure ASGI middleware, installed by ``create_app``) gives every request
an id — the caller's ``X-Request-ID`` if it is safe (``SAFE_REQUEST_ID``), a new one
otherwise — sends it back in the ``X-Request-ID`` header of every answer, keeps it in
``request.state.request_id`` for the error bodies, and writes one JSON line per request to
the ``jiandu.access`` logger::

    {"event": "request", "method": "POST", "path": "/api/v1/cases/{case_id}/assign_handler",
     "status": 409, "duration_ms": 3.2, "request_id": "6f1c…"}

The path is the route's template, never the path sent (ids stay out), and never a query
string, a body, a header or the client's address (they could identify a reporter) nor who
is signed in. A request that fails unexpectedly is logged with its traceback and its id
(``jiandu.errors``) and answered with a problem body that says nothing of it but the id.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
import traceback
import uuid
from typing import Any

from starlette.requests import Request
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.problems import REQUEST_ID_HEADER, problem_response

ACCESS_LOGGER = "jiandu.access"
ERROR_LOGGER = "jiandu.errors"
# What a caller's own request id may be: short, and nothing a log reader could trip on.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
UNMATCHED = "(unmatched)"

access_log = logging.getLogger(ACCESS_LOGGER)
error_log = logging.getLogger(ERROR_LOGGER)


def request_id_from(scope: Scope) -> str:
    """The caller's X-Request-ID if it is safe, otherwise a new random one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            sent = bytes(value).decode("latin-1")
            if SAFE_REQUEST_ID.fullmatch(sent):
                return sent
            break
    return uuid.uuid4().hex


def path_template(scope: Scope) -> str:
    """The matched route's path (``/api/v1/cases/{case_id}``), or ``(unmatched)``."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    return f"{path}/{{path}}" if isinstance(route, Mount) else path


class RequestContext:
    """The request id, the access log line and the last word on an unexpected error."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        header = (REQUEST_ID_HEADER.lower().encode(), request_id.encode("latin-1"))
        started = time.perf_counter()  # a duration, not the time of day
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                headers = [h for h in message.get("headers", []) if h[0] != header[0]]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            # The exception's type and frames, not its text: a message may quote a value
            # the request carried (pydantic's input_value, a constraint's DETAIL).
            error_log.error(
                "unexpected error in %s %s (request %s): %s\n%s",
                scope.get("method"),
                path_template(scope),
                request_id,
                _kinds(error),
                "".join(traceback.format_tb(error.__traceback__)).rstrip(),
            )
            status = 500
            if not response_started:
                answer = problem_response(
                    Request(scope),
                    500,
                    f"an unexpected error; quote the request id {request_id} to an operator",
                )
                await answer(scope, receive, send_with_id)
        finally:
            _log_request(scope, status, started, request_id)


def _kinds(error: BaseException) -> str:
    """The error's type and those of its causes, innermost last (no messages)."""
    kinds, seen = [], set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kinds.append(type(current).__qualname__)
        current = current.__cause__ or current.__context__
    return " ← ".join(kinds)


class JsonLineFormatter(logging.Formatter):
    """An access-log record as one JSON object: its time (UTC, from the record), then the
    request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = getattr(record, "access", None)
        if not isinstance(line, dict):
            return super().format(record)
        stamp = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
        return json.dumps({"time": stamp, **line}, ensure_ascii=False)


def _log_request(scope: Scope, status: int, started: float, request_id: str) -> None:
    line: dict[str, Any] = {
        "event": "request",
        "method": scope.get("method"),
        "path": path_template(scope),
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        "request_id": request_id,
    }
    access_log.info(json.dumps(line), extra={"access": line})
