"""The HTML error pages of every path outside the API (the API keeps its problem bodies)."""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.procedure import ProcedureError
from services.common.unavailable import DATABASE_ERRORS, is_database_unavailable, retry_after_header
from services.common.web import database_unavailable_response
from services.web.i18n import language_of
from services.web.shell.access import PageForbidden
from services.web.shell.rendering import procedure_message, render, tr

API_PREFIXES = ("/api/", "/docs", "/openapi.json", "/healthz", "/metrics")


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(API_PREFIXES)


def install_error_pages(app: FastAPI) -> FastAPI:
    """HTML error pages for every path outside the API (the API keeps its problem bodies)."""

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if not is_page(request):  # the API's answer: a problem body (create_app's handler)
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
        if not is_page(request):
            from services.common.web import procedure_error_response

            return procedure_error_response(request, error)
        status = 404 if isinstance(error, LookupError) else 409
        message = procedure_message(error, language_of(request))
        return await run_in_threadpool(
            render, request, "error.html", status, message=message, roles=[]
        )

    async def invalid(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        if not is_page(request):
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
        if not is_page(request) or not is_database_unavailable(error):
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
