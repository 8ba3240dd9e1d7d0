"""The sign-in desk: the home page, sign-in and sign-out. Served by ``jiandu web``; the
session it starts is good on every process's pages (one accounts store, decision record
0031)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.accounts.store import BadCredentials, LoginThrottled
from services.accounts.throttle import client_address
from services.accounts.web import (
    SESSION_COOKIE,
    accounts_of,
    clear_session_cookie,
    safe_next,
    set_session_cookie,
)
from services.web.shell import (
    HOME,
    Csrf,
    Desk,
    Form,
    PageServices,
    optional_principal,
    render,
    route,
    see_other,
    tr,
)


class SignInDesk(Desk):
    """The home page and sign-in."""

    # -- sign-in -----------------------------------------------------------------------------

    @route.get("/", response_class=HTMLResponse)
    def home(self, request: Request) -> Response:
        user = optional_principal(request)
        if user is not None and user.role in HOME:
            return see_other(HOME[user.role])
        return render(request, "home.html", user=user)

    @route.get("/login", response_class=HTMLResponse)
    def login_page(self, request: Request, next: str = "/") -> Response:
        return render(request, "login.html", next=safe_next(next), error="", username="")

    @route.post("/login", dependencies=[Csrf])
    def login(self, request: Request, form: Form) -> Response:
        _ = tr(request)
        username = str(form.get("username", "")).strip()
        password = str(form.get("password", ""))
        target = safe_next(str(form.get("next", "/")))
        store = accounts_of(request)
        client = client_address(request, store.trusted_proxies)
        try:
            principal = store.authenticate(username, password, client)
        except LoginThrottled as error:
            minutes = max(1, (error.retry_after_seconds + 59) // 60)
            response = render(
                request,
                "login.html",
                429,
                next=target,
                username=username,
                error=_(
                    "Too many failed sign-ins. Try again in %(minutes)s minutes.", minutes=minutes
                ),
            )
            response.headers["Retry-After"] = str(error.retry_after_seconds)
            return response
        except BadCredentials:
            return render(
                request,
                "login.html",
                401,
                next=target,
                username=username,
                error=_("The username or password is wrong."),
            )
        signed_in = see_other(target if target != "/" else HOME.get(principal.role, "/"))
        set_session_cookie(signed_in, request, store.start_session(principal))
        return signed_in

    @route.post("/logout", dependencies=[Csrf])
    def logout(self, request: Request) -> Response:
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:
            accounts_of(request).end_session(session_id)
        response = see_other("/login")
        clear_session_cookie(response)
        return response


def build_router(services: PageServices) -> APIRouter:
    return SignInDesk(services).router()
