"""One error model for every HTTP process: RFC 9457 problem details.

Every refusal and every error is answered as ``application/problem+json``: ``type``,
``title``, ``status``, ``detail`` (a sentence in English), and our extensions —
``request_id`` always (the same as the ``X-Request-ID`` header, to quote to an operator),
``detail_zh`` and ``rule`` for a refusal by a rule of the procedure, ``problems`` (each
field and what is wrong with it) for invalid input, ``retry_after`` for a throttle. A body
never holds what was sent (it may identify a reporter) nor an exception's text of a 500.

The OpenAPI of each app documents, for every operation, every status it can answer with
this model (``document_problems``): what its dependencies can raise (a token: 401, a role:
403, …, marked with ``can_answer``), what its parameters can (a path id: 404, any input:
422), what the route declares itself (``responses=``: 409, 429, …) and what any route can
(500, 503 with Retry-After). See docs/decisions/0021-problem-details.md.
"""

from __future__ import annotations

import http
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import BaseRoute

PROBLEM_MEDIA_TYPE = "application/problem+json"
REQUEST_ID_HEADER = "X-Request-ID"
# A 503 that does not say when to come back (e.g. a process without accounts): this.
DEFAULT_RETRY_AFTER_SECONDS = 5


class FieldProblem(BaseModel):
    """One invalid part of a request: where, and what is wrong (never the value sent)."""

    field: str = Field(description="the body field (dotted), or the query/header/path name")
    problem: str


class Problem(BaseModel):
    """An error or refusal (RFC 9457 problem details, ``application/problem+json``)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Conflict",
                    "status": 409,
                    "detail": "the case was changed meanwhile: reload it",
                    "detail_zh": "案件已被他人修改，请刷新后重试",
                    "rule": "expected_version",
                    "request_id": "6f1c2e0a9b7d4c55a1e3f0b2c4d6e8fa",
                }
            ]
        },
    )

    type: str = Field(description="a URI naming the kind of problem (about:blank: the status)")
    title: str = Field(description="the status's reason phrase")
    status: int = Field(ge=400, le=599, description="the HTTP status, repeated")
    detail: str = Field(description="what went wrong, and what to do, in English")
    request_id: str = Field(
        description="this request's id, as in the X-Request-ID header: quote it to an operator"
    )
    detail_zh: str | None = Field(None, description="the refusal in Chinese (procedure rules)")
    rule: str | None = Field(None, description="the rule that refused the request, by name")
    problems: list[FieldProblem] | None = Field(
        None, description="invalid input (422): each field and its problem"
    )
    retry_after: int | None = Field(None, description="seconds until a throttle lets go (429)")


def request_id_of(request: Request) -> str:
    """The id the request-context middleware gave this request (or a new one without it)."""
    state = request.scope.setdefault("state", {})
    rid = state.get("request_id")
    if not rid:
        rid = state["request_id"] = uuid.uuid4().hex
    return str(rid)


def problem_response(
    request: Request,
    status: int,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """The problem-details answer: ``status`` and ``detail`` with ``extensions`` (None values
    left out). A 503 and a 429 always say when to come back (Retry-After), a 401 how to
    sign in (WWW-Authenticate)."""
    body = Problem(
        type="about:blank",
        title=_title(status),
        status=status,
        detail=detail,
        request_id=request_id_of(request),
        **extensions,
    ).model_dump(mode="json", exclude_none=True)
    sent = dict(headers or {})
    names = {name.lower() for name in sent}
    if status in (429, 503) and "retry-after" not in names:
        sent["Retry-After"] = str(extensions.get("retry_after") or DEFAULT_RETRY_AFTER_SECONDS)
    if status == 401 and "www-authenticate" not in names:
        sent["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, headers=sent, media_type=PROBLEM_MEDIA_TYPE)


def _title(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# -- what a dependency can answer ----------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])
_STATUSES_ATTRIBUTE = "__jiandu_answers__"


def can_answer(*statuses: int) -> Callable[[F], F]:
    """Mark a dependency (or an endpoint) with the error statuses it can raise: every route
    that uses it documents them (``document_problems``)."""

    def mark(function: F) -> F:
        known: frozenset[int] = getattr(function, _STATUSES_ATTRIBUTE, frozenset())
        setattr(function, _STATUSES_ATTRIBUTE, frozenset(known) | frozenset(statuses))
        return function

    return mark


# -- the OpenAPI: every status of every operation, as a Problem ----------------------------------

DESCRIPTIONS: dict[int, str] = {
    400: "the body cannot be read (not JSON, not UTF-8)",
    401: "no token, or a token unknown, expired or revoked: sign in (POST /api/v1/auth/token)",
    403: "the caller's role, or the rule named by `rule`, does not allow it",
    404: "nothing by this path's id, name or code",
    405: "not this method",
    409: "the state of the thing, a rule named by `rule`, or a concurrent change refuses it",
    415: "not this media type",
    422: "invalid input (or a NUL character anywhere): `problems` names each field and "
    "what is wrong with it",
    429: "too many attempts: see Retry-After",
    500: "an unexpected error: quote the request_id (nothing of it is said here)",
    503: "a passing condition (a database or service away, contention): see Retry-After",
}
# Every operation can answer these: any request may carry a NUL character (422, see
# text_guard.py); any route touches a database (503); any route can fail (500).
ALWAYS = frozenset({422, 500, 503})

_HEADER_INT = {"schema": {"type": "integer", "minimum": 0}}
_REQUEST_ID_DOC = {
    "description": "this request's id (the one sent, if it was safe, or a new one)",
    "required": True,
    "schema": {"type": "string"},
}
_HEADERS_BY_STATUS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "Bearer",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    429: {"Retry-After": {"description": "seconds to wait", "required": True, **_HEADER_INT}},
    503: {"Retry-After": {"description": "seconds to wait", "required": True, **_HEADER_INT}},
}
_PROBLEM_REF: dict[str, Any] = {"$ref": "#/components/schemas/Problem"}


def route_statuses(route: APIRoute) -> set[int]:
    """The error statuses ``route`` can answer, from what it is made of: its dependencies'
    and endpoint's marks (``can_answer``), a path parameter (404: names nothing), any
    parameter or body (422), what the route declares (``responses=``), and ``ALWAYS``."""
    statuses = set(ALWAYS)
    parts = list(_walk(route.dependant))
    for part in parts:
        statuses |= getattr(part.call, _STATUSES_ATTRIBUTE, frozenset())
    if any(part.path_params for part in parts):
        statuses.add(404)
    if any(part.body_params for part in parts):
        statuses.add(400)  # a body that cannot be read at all (not JSON, not UTF-8)
    if any(
        part.path_params
        or part.query_params
        or part.header_params
        or part.cookie_params
        or part.body_params
        for part in parts
    ):
        statuses.add(422)
    for code in route.responses:
        if str(code).isdigit() and int(code) >= 400:
            statuses.add(int(code))
    return statuses


def _walk(dependant: Dependant) -> Iterable[Dependant]:
    """The route's own part and every dependency's, depth first."""
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)


def problem_responses(route: APIRoute) -> dict[int | str, dict[str, Any]]:
    """The route's ``responses``, with every error status it can answer (``route_statuses``)
    documented as a ``Problem`` (``application/problem+json``) — its own description kept."""
    responses: dict[int | str, dict[str, Any]] = {
        code: dict(entry) for code, entry in route.responses.items() if not _is_error(code)
    }
    declared = {int(code): entry for code, entry in route.responses.items() if _is_error(code)}
    for status in sorted(route_statuses(route)):
        entry = dict(declared.get(status, {}))
        entry.pop("model", None)
        entry.setdefault("description", DESCRIPTIONS.get(status, _title(status)))
        entry["content"] = {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}
        entry["headers"] = {**entry.get("headers", {}), **_HEADERS_BY_STATUS.get(status, {})}
        responses[status] = entry
    return responses


def _is_error(code: int | str) -> bool:
    return str(code).isdigit() and int(code) >= 400


def document_routes(routes: Iterable[BaseRoute]) -> None:
    """Give every API route in ``routes`` its ``problem_responses`` (before the routes are
    included in an app: FastAPI then writes them into the OpenAPI, and adds no
    ``HTTPValidationError`` of its own for a route that documents its 422)."""
    for route in routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            route.responses = problem_responses(route)


def finish_openapi(openapi: dict[str, Any]) -> dict[str, Any]:
    """The ``Problem`` schema in the components, and the ``X-Request-ID`` of every answer."""
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for entry in operation.get("responses", {}).values():
                entry.setdefault("headers", {})[REQUEST_ID_HEADER] = _REQUEST_ID_DOC
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_problem_schemas())
    return openapi


def _problem_schemas() -> dict[str, Any]:
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return {"Problem": schema, **definitions}
