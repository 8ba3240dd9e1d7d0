"""HTTP routes of accounts: API tokens, user administration, the audit of sensitive reads."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from schemas.glossary import Role
from services.accounts.access import AUDIT_READERS
from services.accounts.model import Principal
from services.accounts.store import check_password
from services.accounts.throttle import client_address
from services.accounts.web import (
    accounts_of,
    api_principal,
    form_fields,
    principal_dict,
    require_api_roles,
)
from services.common.china_time import CHINA_TIME
from services.common.web import ApiError

Admin = Annotated[Principal, Depends(require_api_roles(Role.ADMIN))]
Auditor = Annotated[Principal, Depends(require_api_roles(*AUDIT_READERS))]


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth 2 token type, not a secret)
    expires_at: dt.datetime
    role: Role


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    role: Role
    display_name: str | None = Field(None, max_length=200)
    unit: str | None = Field(None, max_length=200)
    section: str | None = Field(None, max_length=200)


class UserChange(BaseModel):
    """Any of: (de)activate, change the role, set a new password."""

    model_config = ConfigDict(extra="forbid")

    active: bool | None = None
    role: Role | None = None
    password: str | None = Field(None, min_length=1, max_length=1024)


_TOKEN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": TokenRequest.model_json_schema()}
            for media in ("application/json", "application/x-www-form-urlencoded")
        },
    }
}


def parse_moment(value: str | None, name: str, *, end_of_day: bool = False) -> dt.datetime | None:
    """An ISO date or date-time; without a zone, Beijing time. A bare date used as an upper
    bound includes that whole day."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            moment = dt.datetime.combine(day, dt.time(), CHINA_TIME)
            return moment + dt.timedelta(days=1) if end_of_day else moment
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(
            f"{name}: not a date or date-time ({text!r}); use e.g. 2026-03-02 or "
            "2026-03-02T09:30:00+08:00",
            422,
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TIME)


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    _sign_in_routes(router)
    _user_routes(router)
    _audit_route(router)
    return router


def _sign_in_routes(router: APIRouter) -> None:
    """Tokens, and who the caller is."""

    @router.post(
        "/auth/token",
        tags=["accounts"],
        response_model=TokenResponse,
        openapi_extra=_TOKEN_BODY,
        responses={
            401: {"description": "wrong credentials"},
            422: {"description": "no username or password sent"},
            429: {
                "description": "throttled (this username or this client): see Retry-After",
                "headers": {
                    "Retry-After": {"description": "seconds", "schema": {"type": "integer"}}
                },
            },
        },
    )
    async def issue_token(request: Request, response: Response) -> TokenResponse:
        """A bearer token for ``username`` and ``password`` (JSON or a form).

        Five failed logins within fifteen minutes lock the username for a while (429 with
        Retry-After); the answer never says whether the username exists.
        """
        try:
            if request.headers.get("content-type", "").startswith("application/json"):
                data: Any = json.loads(await request.body() or b"null")
            else:
                data = await form_fields(request)
            credentials = TokenRequest.model_validate(data)
        except (ValueError, ValidationError) as error:
            problems = (
                "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors()
                )
                if isinstance(error, ValidationError)
                else "the body is not valid JSON"
            )
            raise ApiError(f"send username and password: {problems}", 422) from None
        store = accounts_of(request)
        client = client_address(request, store.trusted_proxies)
        # In a worker thread: the password hash and the database (which may be away, 0018)
        # must not hold up the event loop.
        principal = await run_in_threadpool(
            store.authenticate, credentials.username, credentials.password, client
        )
        token = await run_in_threadpool(store.issue_token, principal)
        expires_at = await run_in_threadpool(store.token_expiry, token)
        assert expires_at is not None
        response.headers["Cache-Control"] = "no-store"
        return TokenResponse(access_token=token, expires_at=expires_at, role=principal.role)

    @router.get("/auth/me", tags=["accounts"])
    def who_am_i(principal: Annotated[Principal, Depends(api_principal)]) -> dict[str, Any]:
        """The account the bearer token belongs to."""
        return principal_dict(principal)


def _user_routes(router: APIRouter) -> None:
    """The administrators' accounts."""

    @router.get("/admin/users", tags=["accounts"])
    def list_users(request: Request, _: Admin) -> list[dict[str, Any]]:
        """Every account (administrators only)."""
        return [account.as_dict() for account in accounts_of(request).list_users()]

    @router.post(
        "/admin/users",
        tags=["accounts"],
        status_code=status.HTTP_201_CREATED,
        responses={
            409: {"description": "the username is taken"},
            422: {"description": "invalid, or a password the policy refuses (the detail says)"},
        },
    )
    def create_user(request: Request, body: NewUser, _: Admin) -> dict[str, Any]:
        """A new account; the password needs at least 12 characters."""
        store = accounts_of(request)
        principal = store.create_user(
            body.username,
            body.password,
            body.role,
            body.display_name or body.username,
            unit=body.unit,
            section=body.section,
        )
        return store.get_user(principal.username).as_dict()

    @router.patch(
        "/admin/users/{username}",
        tags=["accounts"],
        responses={
            404: {"description": "no such account"},
            409: {"description": "the last active administrator would be left out"},
            422: {"description": "nothing to change, or a password the policy refuses"},
        },
    )
    def change_user(request: Request, username: str, body: UserChange, _: Admin) -> dict[str, Any]:
        """Activate or deactivate, change the role, or set a new password. Deactivation and a
        new password end the account's sessions and tokens."""
        if body.active is None and body.role is None and body.password is None:
            raise ApiError("nothing to change: send active, role and/or password", 422)
        store = accounts_of(request)
        account = store.get_user(username)
        if body.password is not None:
            check_password(body.password, account.username)  # refuse before changing anything
        if body.role is not None:
            store.set_role(username, body.role)
        if body.active is not None:
            store.set_active(username, body.active)
        if body.password is not None:
            store.set_password(username, body.password)
        return store.get_user(username).as_dict()


def _audit_route(router: APIRouter) -> None:
    """The auditors' view of sensitive reads."""

    @router.get("/audit", tags=["audit"])
    def audit(
        request: Request,
        _: Auditor,
        user: Annotated[str | None, Query(max_length=128)] = None,
        item_kind: Annotated[str | None, Query(max_length=64)] = None,
        item_id: Annotated[str | None, Query(max_length=128)] = None,
        since: Annotated[str | None, Query(description="ISO date or date-time, inclusive")] = None,
        until: Annotated[
            str | None, Query(description="ISO date (that whole day) or date-time, exclusive")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        """Who read which sensitive item (a reporter's identity, …), when and why, newest
        first (auditors and administrators).

        This lists *reads*. Who *changed* what needs no separate log: every change is an
        event with its actor, time and reason, shown in each case's timeline
        (``GET /api/v1/cases/{case_id}/timeline``) and each report's record.
        """
        entries = accounts_of(request).audit_entries(
            user=user,
            item_kind=item_kind,
            item_id=item_id,
            since=parse_moment(since, "since"),
            until=parse_moment(until, "until", end_of_day=True),
            limit=limit,
            offset=offset,
        )
        return {
            "entries": [entry.as_dict() for entry in entries],
            "limit": limit,
            "offset": offset,
            "changes": "every change is an event with who, when and why: see the case "
            "timelines (GET /api/v1/cases/{case_id}/timeline)",
        }
