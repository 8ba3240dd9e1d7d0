"""FastAPI dependencies for who is acting: bearer tokens (API), session cookies (pages),
role checks, and CSRF protection of page forms.

The ``AccountStore`` is reached through ``request.app.state.accounts``; ``install`` puts it
there, adds the CSRF cookie middleware and maps account errors to HTTP answers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import secrets
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.glossary import Role
from services.accounts.model import Principal
from services.accounts.store import (
    AccountError,
    AccountStore,
    BadCredentials,
    LastAdministrator,
    LoginThrottled,
    TooManyAttempts,
    UnknownUser,
    UserExists,
)
from services.common.problems import can_answer, problem_response

SESSION_COOKIE = "jiandu_session"
CSRF_COOKIE = "jiandu_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_CSRF_SCOPE_KEY = "jiandu.csrf"

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token")


def accounts_of(request: Request) -> AccountStore:
    store: AccountStore | None = getattr(request.app.state, "accounts", None)
    if store is None:
        raise HTTPException(503, "accounts are not configured in this process")
    return store


# -- API: bearer tokens -------------------------------------------------------------------------


@can_answer(401)
def api_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller named by ``Authorization: Bearer <token>``; 401 otherwise."""
    if credentials is None:
        raise _unauthorized(
            "sign in first: send Authorization: Bearer <token> (POST /api/v1/auth/token)"
        )
    principal = accounts_of(request).principal_for_token(credentials.credentials)
    if principal is None:
        raise _unauthorized("the token is unknown, expired or revoked: ask for a new one")
    return principal


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def _role_names(roles: tuple[Role, ...]) -> str:
    return " or ".join(f"{r.value} ({r.zh})" for r in roles)


def _check_role(principal: Principal, roles: tuple[Role, ...]) -> Principal:
    if principal.role not in roles:
        raise HTTPException(
            403,
            f"this needs the role {_role_names(roles)}; you are signed in as "
            f"{principal.role.value} ({principal.role.zh})",
        )
    return principal


def require_api_roles(*roles: Role) -> Callable[..., Principal]:
    """A dependency: the API caller, who must hold one of ``roles`` (403 otherwise)."""
    if not roles:
        raise ValueError("name at least one role")

    @can_answer(403)
    def dependency(principal: Annotated[Principal, Depends(api_principal)]) -> Principal:
        return _check_role(principal, roles)

    return dependency


# -- pages: session cookie ----------------------------------------------------------------------


def login_redirect(request: Request) -> HTTPException:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(
        303, "sign in first", headers={"Location": f"/login?next={quote(target, safe='')}"}
    )


def page_principal(request: Request) -> Principal:
    """The person signed in with the ``jiandu_session`` cookie; otherwise a redirect to
    ``/login?next=<this page>``."""
    session_id = request.cookies.get(SESSION_COOKIE)
    principal = accounts_of(request).principal_for_session(session_id) if session_id else None
    if principal is None:
        raise login_redirect(request)
    return principal


def require_page_roles(*roles: Role) -> Callable[..., Principal]:
    """A dependency: the signed-in person, who must hold one of ``roles`` (403 otherwise)."""
    if not roles:
        raise ValueError("name at least one role")

    def dependency(principal: Annotated[Principal, Depends(page_principal)]) -> Principal:
        return _check_role(principal, roles)

    return dependency


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _secure(request: Request) -> bool:
    """Served over HTTPS, directly or behind the reverse proxy (which says so in
    X-Forwarded-Proto). A client claiming HTTPS falsely only withholds its own cookie."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def set_session_cookie(response: Response, request: Request, session_id: str) -> None:
    """Put a session id from ``AccountStore.start_session`` in the browser."""
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(accounts_of(request).session_lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


# -- CSRF: a signed double-submit token ---------------------------------------------------------
#
# The browser holds a random seed in the ``jiandu_csrf`` cookie; each form carries
# HMAC(key, seed) in a hidden ``csrf_token`` input. Another site can make the browser send
# the cookie, but cannot read it to compute the token.


def _sign(store: AccountStore, seed: str) -> str:
    mac = hmac.new(store.csrf_key, b"csrf:" + seed.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def csrf_token(request: Request) -> str:
    """The token for this browser's forms (a hidden input named ``csrf_token``)."""
    holder: dict[str, str] | None = request.scope.get(_CSRF_SCOPE_KEY)
    seed = request.cookies.get(CSRF_COOKIE) or (holder or {}).get("new_seed")
    if not seed:
        seed = secrets.token_urlsafe(32)
        if holder is None:
            raise RuntimeError("csrf_token needs the app set up by services.accounts.web.install")
        holder["new_seed"] = seed  # the middleware sets the cookie on the response
    return _sign(accounts_of(request), seed)


_MULTIPART = importlib.util.find_spec("python_multipart") is not None
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def form_fields(request: Request) -> dict[str, str]:
    """A submitted form's text fields (empty for other bodies).

    With python-multipart installed this is Starlette's parsed (and cached) form, which
    FastAPI may already have read for the route's own ``Form`` parameters; without it only
    URL-encoded forms can be sent, and they are parsed here.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in FORM_TYPES:
        return {}
    if _MULTIPART:
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    if content_type != FORM_TYPES[0]:
        raise HTTPException(415, "send the form URL-encoded (application/x-www-form-urlencoded)")
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


async def _submitted_token(request: Request) -> str | None:
    return request.headers.get(CSRF_HEADER) or (await form_fields(request)).get(CSRF_FIELD)


async def verify_csrf(request: Request) -> None:
    """A dependency for every page POST: the form's ``csrf_token`` must match (403 otherwise)."""
    seed = request.cookies.get(CSRF_COOKIE)
    submitted = await _submitted_token(request)
    if not seed or not submitted:
        raise HTTPException(
            403, "the form's security token is missing: reload the page and submit again"
        )
    if not hmac.compare_digest(submitted, _sign(accounts_of(request), seed)):
        raise HTTPException(
            403, "the form's security token does not match: reload the page and submit again"
        )


class CsrfCookieMiddleware:
    """Sets the ``jiandu_csrf`` cookie when a page made a new seed for its forms."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        holder: dict[str, str] = {}
        scope[_CSRF_SCOPE_KEY] = holder
        secure = scope.get("scheme") == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and holder.get("new_seed"):
                cookie = f"{CSRF_COOKIE}={holder['new_seed']}; Path=/; HttpOnly; SameSite=Lax" + (
                    "; Secure" if secure else ""
                )
                headers = list(message.get("headers", []))
                headers.append((b"set-cookie", cookie.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


# -- wiring -------------------------------------------------------------------------------------


def _account_error(request: Request, error: Exception) -> JSONResponse:
    retry: int | None = None
    if isinstance(error, TooManyAttempts | LoginThrottled):
        status, retry = 429, error.retry_after_seconds
    elif isinstance(error, BadCredentials):
        status = 401
    elif isinstance(error, UnknownUser):
        status = 404
    elif isinstance(error, UserExists | LastAdministrator):
        status = 409
    else:
        status = 422
    headers = {"Retry-After": str(retry)} if retry is not None else None
    return problem_response(request, status, str(error), headers=headers, retry_after=retry)


def install(app: FastAPI, store: AccountStore) -> FastAPI:
    """Make ``store`` the app's accounts: dependencies find it at ``app.state.accounts``."""
    app.state.accounts = store
    app.add_middleware(CsrfCookieMiddleware)
    app.add_exception_handler(AccountError, _account_error)
    return app


def principal_dict(principal: Principal) -> dict[str, Any]:
    return {
        "username": principal.username,
        "display_name": principal.display_name,
        "role": principal.role.value,
        "role_zh": principal.role.zh,
        "unit": principal.unit,
        "section": principal.section,
    }
