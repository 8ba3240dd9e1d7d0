"""The HTTP shell every process shares: error mapping (problem details), request ids and
the access log, health, metrics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.access_log import RequestContext
from services.common.problems import document_routes, finish_openapi, problem_response
from services.common.procedure import ProcedureError, RoleNotAllowed, RuleBroken
from services.common.text_guard import RefuseNul
from services.common.unavailable import (
    DATABASE_ERRORS,
    Probe,
    is_database_unavailable,
    ping_all,
    unavailable_body,
)


class ApiError(Exception):
    """An error a user can act on, with its HTTP status."""

    status_code = 400

    def __init__(
        self, message: str, status_code: int | None = None, *, retry_after_seconds: int = 0
    ) -> None:
        super().__init__(message)
        if status_code is not None:
            self.status_code = status_code
        # A passing condition (503): when to try again, sent as Retry-After.
        self.retry_after_seconds = retry_after_seconds


def retry_after(error: Exception) -> dict[str, str] | None:
    """The Retry-After header of an error that says when to try again (its
    ``retry_after_seconds``), or None."""
    seconds = getattr(error, "retry_after_seconds", 0)
    return {"Retry-After": str(int(seconds))} if seconds else None


def procedure_error_response(request: Request, error: Exception) -> JSONResponse:
    """A refused command: 404 unknown, 403 wrong role, 409 not allowed now / rule / conflict."""
    assert isinstance(error, ProcedureError)
    if isinstance(error, LookupError):
        status = 404
    elif isinstance(error, RoleNotAllowed) or (
        isinstance(error, RuleBroken) and error.rule.about_who
    ):
        status = 403
    elif isinstance(error, ValueError):  # the request names something unusable
        status = 422
    else:
        status = 409
    rule = error.rule.name if isinstance(error, RuleBroken) else None
    return problem_response(request, status, str(error), detail_zh=error.message_zh, rule=rule)


def problems_of(error: RequestValidationError) -> list[dict[str, str]]:
    """Every problem, by location and message; never the submitted values (they may identify a reporter)."""
    problems = []
    for e in error.errors():
        # Drop the request part and union tags (True/False of the reporter kind).
        loc = [str(p) for p in e.get("loc", ()) if p != "body" and not isinstance(p, bool)]
        problems.append({"field": ".".join(loc) or "body", "problem": str(e.get("msg", "invalid"))})
    return problems


def database_unavailable_response(request: Request, error: Exception) -> JSONResponse:
    """A database that is away: 503 with Retry-After (0018). Any other error of the
    database's types is raised again: a 500, as before."""
    if not is_database_unavailable(error):
        raise error
    body = unavailable_body()
    return problem_response(
        request,
        503,
        body["detail"],
        detail_zh=body["detail_zh"],
        retry_after=body["retry_after"],
    )


def install_error_handlers(
    app: FastAPI, error_statuses: dict[type[Exception], int] | None = None
) -> None:
    """Every error handler of a process, in one place: each answers a problem body
    (``services.common.problems``). Another kind of error that has its own status (e.g. a
    database away: 503) is registered here too."""

    async def _invalid(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = problems_of(error)
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return problem_response(request, 422, summary, problems=problems)

    async def _http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if error.status_code < 400:  # a redirect (pages)
            return Response(status_code=error.status_code, headers=error.headers)
        return problem_response(
            request, error.status_code, str(error.detail), headers=error.headers
        )

    async def _api_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return problem_response(request, error.status_code, str(error), headers=retry_after(error))

    for database_error in DATABASE_ERRORS:
        app.add_exception_handler(database_error, database_unavailable_response)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ProcedureError, procedure_error_response)
    app.add_exception_handler(ApiError, _api_error)

    for error_type, status in (error_statuses or {}).items():

        async def _mapped(request: Request, error: Exception, status: int = status) -> JSONResponse:
            return problem_response(request, status, str(error), headers=retry_after(error))

        app.add_exception_handler(error_type, _mapped)


def document_errors(app: FastAPI) -> None:
    """The app's OpenAPI holds the ``Problem`` schema and every answer's X-Request-ID (the
    routes' error statuses: ``document_routes``, before each router is included)."""

    def openapi() -> dict[str, Any]:
        schema = FastAPI.openapi(app)  # made anew when routes were added since
        if "Problem" not in schema.get("components", {}).get("schemas", {}):
            finish_openapi(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def include_documented(app: FastAPI, router: APIRouter) -> None:
    """Include ``router`` in ``app``, every route documenting every status it can answer."""
    document_routes(router.routes)
    app.include_router(router)


def create_app(
    title: str,
    routers: Sequence[APIRouter],
    health: Callable[[], dict[str, Any]],
    error_statuses: dict[type[Exception], int] | None = None,
    databases: Sequence[Probe] = (),
) -> FastAPI:
    """``databases``: what /healthz pings (briefly) before it answers."""
    app = FastAPI(title=title, version="1", docs_url="/docs")
    install_error_handlers(app, error_statuses)
    app.add_middleware(RefuseNul)  # PostgreSQL stores no U+0000: a 422 before any route
    app.add_middleware(RequestContext)  # the request id, the access log, a 500's last word
    document_errors(app)

    @app.get(
        "/healthz",
        tags=["operations"],
        responses={503: {"description": "A database is away; Retry-After says when to ask again"}},
    )
    def healthz() -> dict[str, Any]:
        ping_all(databases)  # a database away: 503 within a few seconds, never a hang
        return {"status": "ok", **health()}

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

    document_routes(app.router.routes)
    for router in routers:
        include_documented(app, router)
    return app


def idempotency_key_header(description: str) -> Any:
    """The optional ``Idempotency-Key`` request header of a route that creates something
    (``Annotated[str | None, idempotency_key_header(…)]``): the caller's own key, 1 to 200
    characters; ``description`` says what a retry answers."""
    return Header(alias="Idempotency-Key", min_length=1, max_length=200, description=description)


def step_responses(thing: str) -> dict[int | str, dict[str, Any]]:
    """What a step of a record's procedure can answer besides 200 (``thing``: "selection",
    "supervision project"): the OpenAPI ``responses=`` of each step's route."""
    return {
        401: {"description": "no or expired token"},
        403: {"description": "the role may not take this step"},
        404: {"description": f"no such {thing}"},
        409: {
            "description": f"the {thing}'s stage or a named rule (`rule`) refuses the step, "
            "or a stale expected_version"
        },
        422: {"description": "bad input (a field, or a day after today)"},
    }
