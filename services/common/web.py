"""The HTTP shell every process shares: error mapping, health, metrics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.common.procedure import ProcedureError, RoleNotAllowed, RuleBroken
from services.common.unavailable import (
    DATABASE_ERRORS,
    Probe,
    is_database_unavailable,
    ping_all,
    retry_after_header,
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


def procedure_error_response(_: Request, error: Exception) -> JSONResponse:
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
    body: dict[str, Any] = {"detail": str(error), "detail_zh": error.message_zh}
    if isinstance(error, RuleBroken):
        body["rule"] = error.rule.name
    return JSONResponse(status_code=status, content=body)


def problems_of(error: RequestValidationError) -> list[dict[str, str]]:
    """Every problem, by location and message; never the submitted values (they may identify a reporter)."""
    problems = []
    for e in error.errors():
        # Drop the request part and union tags (True/False of the reporter kind).
        loc = [str(p) for p in e.get("loc", ()) if p != "body" and not isinstance(p, bool)]
        problems.append({"field": ".".join(loc) or "body", "problem": str(e.get("msg", "invalid"))})
    return problems


def database_unavailable_response(_: Request, error: Exception) -> JSONResponse:
    """A database that is away: 503 with Retry-After (0018). Any other error of the
    database's types is raised again: a 500, as before."""
    if not is_database_unavailable(error):
        raise error
    return JSONResponse(
        status_code=503,
        content=unavailable_body(),
        headers=retry_after_header(),
        media_type="application/problem+json",
    )


def create_app(
    title: str,
    routers: Sequence[APIRouter],
    health: Callable[[], dict[str, Any]],
    error_statuses: dict[type[Exception], int] | None = None,
    databases: Sequence[Probe] = (),
) -> FastAPI:
    """``databases``: what /healthz pings (briefly) before it answers."""
    app = FastAPI(title=title, version="1", docs_url="/docs")
    for database_error in DATABASE_ERRORS:
        app.add_exception_handler(database_error, database_unavailable_response)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = problems_of(error)
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return JSONResponse(status_code=422, content={"detail": summary, "problems": problems})

    app.add_exception_handler(ProcedureError, procedure_error_response)

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(
            status_code=error.status_code,
            content={"detail": str(error)},
            headers=retry_after(error),
        )

    for error_type, status in (error_statuses or {}).items():

        async def _mapped(_: Request, error: Exception, status: int = status) -> JSONResponse:
            return JSONResponse(
                status_code=status, content={"detail": str(error)}, headers=retry_after(error)
            )

        app.add_exception_handler(error_type, _mapped)

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

    for router in routers:
        app.include_router(router)
    return app
