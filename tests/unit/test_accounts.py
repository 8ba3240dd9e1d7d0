"""Accounts: passwords, login throttling, tokens and sessions, CSRF, create-user, the
identity reveal and the audit of sensitive reads."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY, generate_latest
from typer.testing import CliRunner

from schemas.glossary import Role
from services.accounts.demo import seed_demo_accounts
from services.accounts.model import Principal
from services.accounts.policy import ASSIGNABLE_ROLES
from services.accounts.store import (
    AccountStore,
    BadCredentials,
    InvalidAccount,
    LastAdministrator,
    LoginThrottled,
    UserExists,
    WeakPassword,
)
from services.accounts.web import (
    CSRF_COOKIE,
    CSRF_FIELD,
    SESSION_COOKIE,
    csrf_token,
    install,
    page_principal,
    require_page_roles,
    verify_csrf,
)
from services.bootstrap import EmbeddedSystem
from services.cli import app as cli
from services.common.sql import Database
from tests.unit.conftest import (
    REPORTER_EMAIL,
    REPORTER_ID_NUMBER,
    REPORTER_NAME,
    REPORTER_PHONE,
    build_embedded,
    make_settings,
    real_name_reporter,
)

PASSWORD = "correct horse battery"
START = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)


class Clock:
    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[AccountStore]:
    accounts = AccountStore(Database(sqlite_path=tmp_path / "accounts.sqlite"), clock=clock)
    yield accounts
    accounts.close()


def make_user(store: AccountStore, username: str = "zhang", role: Role = Role.HANDLER) -> Principal:
    return store.create_user(username, PASSWORD, role, "张强", unit="县委组织部")


def table(tmp_path: Path, name: str) -> list[dict[str, Any]]:
    with sqlite3.connect(tmp_path / "accounts.sqlite") as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(f"SELECT * FROM {name}")]


# -- passwords --------------------------------------------------------------------------------


def test_a_password_is_kept_as_an_argon2id_hash_and_verified(
    store: AccountStore, tmp_path: Path
) -> None:
    created = make_user(store)

    [row] = table(tmp_path, "accounts")
    assert row["password_hash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in row["password_hash"]
    assert created == Principal("zhang", "张强", Role.HANDLER, unit="县委组织部")
    assert store.authenticate("zhang", PASSWORD, client="10.0.0.1") == created
    assert store.authenticate(" Zhang ", PASSWORD, client="10.0.0.1") == created
    with pytest.raises(BadCredentials):
        store.authenticate("zhang", PASSWORD + "x", client="10.0.0.1")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short-one", "at least 12 characters"),
        ("aaaaaaaaaaaaaaa", "at least 4 different characters"),
        ("my-zhang-password", "must not contain the username"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(
    store: AccountStore, password: str, problem: str
) -> None:
    with pytest.raises(WeakPassword, match=problem):
        store.create_user("zhang", password, Role.HANDLER, "张强")
    assert store.list_users() == []


def test_names_roles_and_duplicates_are_checked(store: AccountStore) -> None:
    make_user(store)
    with pytest.raises(UserExists, match="zhang"):
        make_user(store)
    with pytest.raises(InvalidAccount, match="unknown role 'chief'"):
        store.create_user("li", PASSWORD, "chief", "李")
    with pytest.raises(InvalidAccount, match="unknown role"):
        store.create_user("li", PASSWORD, Role.SYSTEM, "李")
    with pytest.raises(InvalidAccount, match="invalid username"):
        store.create_user("li wei", PASSWORD, Role.HANDLER, "李")


# -- throttling -------------------------------------------------------------------------------


def fail(store: AccountStore, username: str, times: int, client: str = "10.0.0.9") -> None:
    for _ in range(times):
        with pytest.raises(BadCredentials):
            store.authenticate(username, "wrong password!", client=client)


def test_five_failures_lock_the_username_for_a_growing_period(
    store: AccountStore, clock: Clock
) -> None:
    make_user(store)
    fail(store, "zhang", 4)
    with pytest.raises(LoginThrottled) as first:
        store.authenticate("zhang", "wrong password!", client="10.0.0.9")
    assert first.value.retry_after_seconds == 300
    # Locked: even the right password, from another client, is refused.
    with pytest.raises(LoginThrottled):
        store.authenticate("zhang", PASSWORD, client="10.0.0.77")

    clock.advance(minutes=5, seconds=1)
    fail(store, "zhang", 4)
    with pytest.raises(LoginThrottled) as second:
        store.authenticate("zhang", "wrong password!", client="10.0.0.9")
    assert second.value.retry_after_seconds == 600  # doubled

    clock.advance(minutes=10, seconds=1)
    assert store.authenticate("zhang", PASSWORD, client="10.0.0.9").username == "zhang"


def test_refusals_do_not_reveal_whether_the_user_exists(store: AccountStore) -> None:
    make_user(store)
    refusals: dict[str, list[str]] = {}
    for name in ("zhang", "nobody"):
        messages = []
        for _ in range(5):
            with pytest.raises((BadCredentials, LoginThrottled)) as refused:
                store.authenticate(name, "wrong password!", client=f"client-{name}")
            messages.append(str(refused.value))
        with pytest.raises(LoginThrottled) as locked:
            store.authenticate(name, PASSWORD, client=f"client-{name}")
        messages.append(f"{locked.value} {locked.value.retry_after_seconds}")
        refusals[name] = messages

    assert refusals["zhang"] == refusals["nobody"]
    assert "too many failed logins" in refusals["nobody"][-1]
    assert all("nobody" not in m and "exist" not in m for m in refusals["nobody"])


def test_a_deactivated_account_is_refused_like_a_wrong_password(store: AccountStore) -> None:
    make_user(store)
    make_user(store, "root", Role.ADMIN)
    store.set_active("zhang", False)
    with pytest.raises(BadCredentials) as refused:
        store.authenticate("zhang", PASSWORD, client="c")
    assert str(refused.value) == str(BadCredentials())


def test_a_good_login_clears_the_usernames_count(store: AccountStore) -> None:
    make_user(store)
    fail(store, "zhang", 4)
    store.authenticate("zhang", PASSWORD, client="10.0.0.9")
    fail(store, "zhang", 4)  # would be the 8th failure: no lock
    assert store.authenticate("zhang", PASSWORD, client="10.0.0.9").username == "zhang"


def test_one_client_guessing_many_usernames_is_locked_out(store: AccountStore) -> None:
    make_user(store)
    for n in range(19):
        fail(store, f"guess{n}", 1, client="203.0.113.5")
    with pytest.raises(LoginThrottled):
        store.authenticate("guess-last", "wrong password!", client="203.0.113.5")
    with pytest.raises(LoginThrottled):
        store.authenticate("zhang", PASSWORD, client="203.0.113.5")
    assert store.authenticate("zhang", PASSWORD, client="198.51.100.1").username == "zhang"


def test_throttle_rows_do_not_name_the_username_or_the_client(
    store: AccountStore, tmp_path: Path
) -> None:
    fail(store, "somebody", 1, client="203.0.113.5")
    rows = repr(table(tmp_path, "throttle_counters"))
    assert "somebody" not in rows
    assert "203.0.113.5" not in rows


# -- tokens and sessions -------------------------------------------------------------------------


def test_a_token_names_its_principal_until_it_expires(
    store: AccountStore, clock: Clock, tmp_path: Path
) -> None:
    zhang = make_user(store)
    token = store.issue_token(zhang)

    assert store.principal_for_token(token) == zhang
    assert store.principal_for_session(token) is None  # a token is not a session
    [row] = table(tmp_path, "account_credentials")
    assert row["digest"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(row)

    clock.advance(hours=11, minutes=59)
    assert store.principal_for_token(token) == zhang
    clock.advance(minutes=1)
    assert store.principal_for_token(token) is None
    assert store.principal_for_token("made-up") is None


def test_a_session_lasts_eight_hours_or_until_it_ends(store: AccountStore, clock: Clock) -> None:
    zhang = make_user(store)
    first, second = store.start_session(zhang), store.start_session(zhang)
    assert first != second
    assert store.principal_for_session(first) == zhang

    store.end_session(first)
    assert store.principal_for_session(first) is None
    clock.advance(hours=8)
    assert store.principal_for_session(second) is None


def test_account_changes_reach_open_tokens(store: AccountStore) -> None:
    make_user(store, "root", Role.ADMIN)
    zhang = make_user(store)
    token, session = store.issue_token(zhang), store.start_session(zhang)

    store.set_role("zhang", Role.LEADER)
    assert store.principal_for_token(token) == Principal(
        "zhang", "张强", Role.LEADER, unit="县委组织部"
    )
    store.set_password("zhang", "another long password")
    assert store.principal_for_token(token) is None
    assert store.principal_for_session(session) is None
    with pytest.raises(BadCredentials):
        store.authenticate("zhang", PASSWORD, client="c")
    token = store.issue_token(store.authenticate("zhang", "another long password", client="c"))
    store.set_active("zhang", False)
    assert store.principal_for_token(token) is None


def test_the_last_administrator_stays(store: AccountStore) -> None:
    make_user(store, "root", Role.ADMIN)
    with pytest.raises(LastAdministrator):
        store.set_active("root", False)
    with pytest.raises(LastAdministrator):
        store.set_role("root", Role.AUDITOR)
    make_user(store, "root2", Role.ADMIN)
    assert store.set_active("root", False).active is False


# -- pages: CSRF and sessions ------------------------------------------------------------------


@pytest.fixture
def page_app(store: AccountStore) -> FastAPI:
    app = install(FastAPI(), store)

    @app.get("/form")
    def form(request: Request) -> dict[str, str]:
        return {"csrf_token": csrf_token(request)}

    @app.post("/submit", dependencies=[Depends(verify_csrf)])
    def submit() -> dict[str, bool]:
        return {"done": True}

    @app.get("/desk")
    def desk(principal: Annotated[Principal, Depends(page_principal)]) -> dict[str, str]:
        return {"user": principal.username}

    @app.get("/approvals")
    def approvals(
        principal: Annotated[Principal, Depends(require_page_roles(Role.LEADER))],
    ) -> dict[str, str]:
        return {"user": principal.username}

    return app


def test_csrf_accepts_the_pages_token_and_refuses_others(page_app: FastAPI) -> None:
    with TestClient(page_app) as browser:
        token = browser.get("/form").json()["csrf_token"]
        assert browser.cookies.get(CSRF_COOKIE)
        assert browser.get("/form").json()["csrf_token"] == token  # stable per browser

        assert browser.post("/submit", data={CSRF_FIELD: token}).status_code == 200
        assert browser.post("/submit", headers={"X-CSRF-Token": token}).status_code == 200
        wrong = browser.post("/submit", data={CSRF_FIELD: token[:-2] + "xx"})
        assert wrong.status_code == 403
        assert "does not match" in wrong.json()["detail"]
        missing = browser.post("/submit", data={"other": "1"})
        assert missing.status_code == 403
        assert "missing" in missing.json()["detail"]

    with TestClient(page_app) as other_browser:  # the token without the cookie it signs
        assert other_browser.post("/submit", data={CSRF_FIELD: token}).status_code == 403


def test_pages_redirect_to_login_and_check_roles(page_app: FastAPI, store: AccountStore) -> None:
    zhang = make_user(store)
    with TestClient(page_app, follow_redirects=False) as browser:
        away = browser.get("/desk?tab=mine")
        assert away.status_code == 303
        assert away.headers["location"] == "/login?next=%2Fdesk%3Ftab%3Dmine"

        browser.cookies.set(SESSION_COOKIE, store.start_session(zhang))
        assert browser.get("/desk").json() == {"user": "zhang"}
        refused = browser.get("/approvals")
        assert refused.status_code == 403
        assert "leader" in refused.json()["detail"]
        assert "handler" in refused.json()["detail"]


# -- create-user ----------------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("DATABASE_URL", "ACCOUNTS_DATABASE_URL", "SECRET_KEY"):
        monkeypatch.delenv(f"JIANDU_{name}", raising=False)
    return tmp_path / "data"


def accounts_in(data: Path) -> AccountStore:
    return AccountStore(Database(sqlite_path=data / "accounts.sqlite"))


def test_create_user_prompts_twice_for_a_hidden_password(cli_env: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "create-user",
            "root",
            "--role",
            "admin",
            "--display-name",
            "管理员",
            "--data",
            str(cli_env),
        ],
        input=f"{PASSWORD}\n{PASSWORD}x\n{PASSWORD}\n{PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert PASSWORD not in result.output
    assert "created root (admin" in result.output
    store = accounts_in(cli_env)
    assert store.authenticate("root", PASSWORD, client="c").role is Role.ADMIN
    assert store.get_user("root").display_name == "管理员"


def test_create_user_reads_the_password_from_stdin(cli_env: Path) -> None:
    args = ["create-user", "chen", "--role", "liaison", "--unit", "纪委监委", "--password-stdin"]
    result = CliRunner().invoke(cli, [*args, "--data", str(cli_env)], input=f"{PASSWORD}\n")

    assert result.exit_code == 0, result.output
    principal = accounts_in(cli_env).authenticate("chen", PASSWORD, client="c")
    assert (principal.role, principal.unit) == (Role.LIAISON, "纪委监委")


@pytest.mark.parametrize(
    ("args", "stdin", "problem"),
    [
        (["weak", "--role", "admin"], "short\n", "at least 12 characters"),
        (["x1", "--role", "chief"], f"{PASSWORD}\n", "unknown role 'chief'"),
        (["Bad Name", "--role", "admin"], f"{PASSWORD}\n", "invalid username"),
    ],
)
def test_create_user_refuses_bad_input_clearly(
    cli_env: Path, args: list[str], stdin: str, problem: str
) -> None:
    result = CliRunner().invoke(
        cli, ["create-user", *args, "--password-stdin", "--data", str(cli_env)], input=stdin
    )
    assert result.exit_code == 1
    assert problem in result.output
    assert accounts_in(cli_env).list_users() == []


# -- over HTTP: tokens, administration, the identity reveal, the audit ------------------------------


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path))
    yield system
    system.stop()


@pytest.fixture
def client(system: EmbeddedSystem) -> Iterator[TestClient]:
    for username, role in (
        ("root", Role.ADMIN),
        ("wang", Role.OPERATOR),
        ("zhang", Role.HANDLER),
        ("liu", Role.LEADER),
        ("chen", Role.LIAISON),
        ("zhao", Role.AUDITOR),
    ):
        system.accounts.create_user(username, PASSWORD, role, username)
    with TestClient(system.web_app(), raise_server_exceptions=False) as client:
        yield client


def bearer(client: TestClient, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_a_token_is_issued_for_json_or_a_form(client: TestClient) -> None:
    answer = client.post("/api/v1/auth/token", json={"username": "zhang", "password": PASSWORD})
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_at", "role"}
    assert (body["token_type"], body["role"]) == ("bearer", "handler")
    assert answer.headers["cache-control"] == "no-store"

    form = client.post("/api/v1/auth/token", data={"username": "liu", "password": PASSWORD})
    assert form.status_code == 200, form.text
    me = client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {form.json()['access_token']}"}
    )
    assert me.json()["role"] == "leader"

    wrong = client.post("/api/v1/auth/token", json={"username": "liu", "password": "nope"})
    assert wrong.status_code == 401
    missing = client.post("/api/v1/auth/token", json={"username": "liu"})
    assert missing.status_code == 422
    assert "password" in missing.json()["detail"]


def test_repeated_failures_answer_429_with_retry_after(client: TestClient) -> None:
    statuses = [
        client.post("/api/v1/auth/token", json={"username": "zhang", "password": "x"}).status_code
        for _ in range(5)
    ]
    assert statuses == [401, 401, 401, 401, 429]
    locked = client.post("/api/v1/auth/token", json={"username": "zhang", "password": PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0


def test_the_api_needs_a_valid_bearer_token(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eA=="}):
        answer = client.get("/api/v1/admin/users", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"


def test_administrators_manage_accounts(client: TestClient) -> None:
    admin = bearer(client, "root")
    created = client.post(
        "/api/v1/admin/users",
        headers=admin,
        json={"username": "li", "password": PASSWORD, "role": "handler", "display_name": "李娜"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["role_zh"] == "承办人"
    weak = client.post(
        "/api/v1/admin/users",
        headers=admin,
        json={"username": "li2", "password": "short", "role": "handler"},
    )
    assert weak.status_code == 422
    assert "12 characters" in weak.json()["detail"]
    assert (
        client.post(
            "/api/v1/admin/users",
            headers=admin,
            json={"username": "li", "password": PASSWORD, "role": "handler"},
        ).status_code
        == 409
    )

    li = bearer(client, "li")
    changed = client.patch("/api/v1/admin/users/li", headers=admin, json={"role": "leader"})
    assert changed.json()["role"] == "leader"
    assert client.get("/api/v1/auth/me", headers=li).json()["role"] == "leader"
    client.patch("/api/v1/admin/users/li", headers=admin, json={"active": False})
    assert client.get("/api/v1/auth/me", headers=li).status_code == 401
    users = client.get("/api/v1/admin/users", headers=admin).json()
    assert {u["username"]: u["active"] for u in users}["li"] is False
    assert all("password_hash" not in u for u in users)
    assert client.patch("/api/v1/admin/users/li", headers=admin, json={}).status_code == 422
    assert (
        client.patch("/api/v1/admin/users/ghost", headers=admin, json={"active": True}).status_code
        == 404
    )

    refused = client.get("/api/v1/admin/users", headers=bearer(client, "zhang"))
    assert refused.status_code == 403
    assert "admin" in refused.json()["detail"]


def submit_real_name(client: TestClient) -> str:
    answer = client.post(
        "/api/v1/reports",
        json={
            "channel": "hotline",
            "reporter": real_name_reporter(),
            "subjects": [{"name": "王建国", "unit": "某县财政局", "position": "局长"}],
            "categories": ["seeking_office"],
            "summary": "反映王建国跑官要官。",
        },
        headers=bearer(client, "wang"),
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["report_id"])


def assign_case_of(client: TestClient, system: EmbeddedSystem, report_id: str, to: str) -> None:
    """The operator accepts the report (受理), the leader assigns its case to handler ``to``."""
    accepted = client.post(
        f"/api/v1/reports/{report_id}/accept",
        headers=bearer(client, "wang"),
        json={"reason": "属于受理范围"},
    )
    assert accepted.status_code == 200, accepted.text
    system.catch_up()
    case_id = client.get(f"/api/v1/reports/{report_id}", headers=bearer(client, "liu")).json()[
        "case_id"
    ]
    assigned = client.post(
        f"/api/v1/cases/{case_id}/assign", headers=bearer(client, "liu"), json={"handler_id": to}
    )
    assert assigned.status_code == 200, assigned.text


def reveals(role: str) -> float:
    value = REGISTRY.get_sample_value("jiandu_reporter_identity_reveals_total", {"role": role})
    return value or 0.0


IDENTITY = (REPORTER_NAME, REPORTER_PHONE, REPORTER_EMAIL, REPORTER_ID_NUMBER)


def test_showing_a_reporters_identity_is_recorded_first(
    client: TestClient, system: EmbeddedSystem, caplog: pytest.LogCaptureFixture
) -> None:
    report_id = submit_real_name(client)
    assign_case_of(client, system, report_id, "zhang")
    before = reveals("handler")
    caplog.set_level(logging.DEBUG)

    answer = client.post(
        f"/api/v1/reports/{report_id}/identity",
        headers=bearer(client, "zhang"),
        json={"reason": "办结后向实名举报人反馈"},
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["identity"]["name"] == REPORTER_NAME
    assert answer.json()["identity"]["phone"] == REPORTER_PHONE
    assert answer.headers["cache-control"] == "no-store"
    audit = client.get("/api/v1/audit", headers=bearer(client, "zhao")).json()["entries"]
    assert [
        (e["username"], e["role"], e["item_kind"], e["item_id"], e["reason"]) for e in audit
    ] == [("zhang", "handler", "reporter_identity", report_id, "办结后向实名举报人反馈")]
    assert audit[0]["entry_id"] == answer.json()["audit_entry_id"]
    assert reveals("handler") == before + 1

    logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    assert report_id in logged  # the reveal is logged, the identity is not
    assert not [part for part in IDENTITY if part in logged]
    metrics = generate_latest().decode()
    assert not [part for part in IDENTITY if part in metrics]
    assert not [
        s
        for metric in REGISTRY.collect()
        if metric.name.startswith("jiandu_reporter_identity")
        for s in metric.samples
        if set(s.labels) - {"role"}
    ]


def test_no_identity_without_a_need_a_reason_or_a_record(
    client: TestClient, system: EmbeddedSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    report_id = submit_real_name(client)
    url = f"/api/v1/reports/{report_id}/identity"
    reason = {"reason": "核实身份"}

    for user in ("chen", "liu", "zhao", "root"):
        refused = client.post(url, headers=bearer(client, user), json=reason)
        assert refused.status_code == 403, user
        assert "operator" in refused.json()["detail"]
        assert REPORTER_NAME not in refused.text
    assert client.post(url, json=reason).status_code == 401
    operator = bearer(client, "wang")
    for body in ({}, {"reason": "  "}):
        missing = client.post(url, headers=operator, json=body)
        assert missing.status_code == 422
        assert "reason" in missing.json()["detail"]
    # Nothing was shown; the refused attempts are recorded (decision 0013).
    entries = system.accounts.audit_entries()
    assert {e.item_kind for e in entries} == {"reporter_identity_refused"}
    assert sorted(e.username for e in entries) == ["chen", "liu", "root", "zhao"]

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(system.accounts, "record_read", broken)
    failed = client.post(url, headers=operator, json=reason)
    assert failed.status_code == 500
    assert REPORTER_NAME not in failed.text
    assert REPORTER_PHONE not in failed.text


def test_an_anonymous_report_has_no_identity_to_show(client: TestClient) -> None:
    answer = client.post(
        "/api/v1/reports",
        json={
            "channel": "hotline",
            "reporter": {"anonymous": True},
            "subjects": [{"name": "王建国", "unit": "某县财政局", "position": "局长"}],
            "categories": ["seeking_office"],
            "summary": "反映王建国跑官要官。",
        },
        headers=bearer(client, "wang"),
    )
    url = f"/api/v1/reports/{answer.json()['report_id']}/identity"
    shown = client.post(url, headers=bearer(client, "wang"), json={"reason": "核实身份"})
    assert shown.status_code == 404
    assert "anonymous" in shown.json()["detail"]


# -- the audit ------------------------------------------------------------------------------------


def test_audit_entries_filter_by_user_item_and_time(store: AccountStore, clock: Clock) -> None:
    zhang, wang = make_user(store), make_user(store, "wang", Role.OPERATOR)
    store.record_read(wang, "reporter_identity", "r1", "核实身份")
    clock.advance(days=1)
    store.record_read(zhang, "reporter_identity", "r1", "反馈")
    clock.advance(days=1)
    store.record_read(zhang, "sealed_content", "r2", "报送上级", detail="JB-2026-000002")

    def reads(**filters: Any) -> list[tuple[str, str, str]]:
        return [(e.username, e.item_kind, e.item_id) for e in store.audit_entries(**filters)]

    assert reads() == [
        ("zhang", "sealed_content", "r2"),
        ("zhang", "reporter_identity", "r1"),
        ("wang", "reporter_identity", "r1"),
    ]
    assert reads(user="wang") == [("wang", "reporter_identity", "r1")]
    assert reads(item_kind="sealed_content") == [("zhang", "sealed_content", "r2")]
    assert reads(item_id="r1", user="zhang") == [("zhang", "reporter_identity", "r1")]
    day_two = START + dt.timedelta(days=1)
    assert reads(since=day_two) == reads()[:2]
    assert reads(until=day_two) == reads()[2:]
    assert reads(since=day_two, until=day_two + dt.timedelta(hours=1)) == reads()[1:2]
    assert reads(limit=1, offset=1) == reads()[1:2]
    with pytest.raises(ValueError, match="reason"):
        store.record_read(zhang, "reporter_identity", "r1", " ")


def test_the_audit_api_is_for_auditors_and_filters_by_day(
    client: TestClient, system: EmbeddedSystem
) -> None:
    wang = system.accounts.principal("wang")
    system.accounts.record_read(wang, "reporter_identity", "r1", "核实身份")
    today = system.casework.today()  # the system's clock (China time)
    auditor = bearer(client, "zhao")

    def entries(query: str) -> list[str]:
        answer = client.get(f"/api/v1/audit?{query}", headers=auditor)
        assert answer.status_code == 200, answer.text
        return [e["item_id"] for e in answer.json()["entries"]]

    assert entries("user=wang&item_kind=reporter_identity") == ["r1"]
    assert entries("user=zhang") == []
    assert entries(f"since={today}&until={today}") == ["r1"]
    assert entries(f"until={today - dt.timedelta(days=1)}") == []
    bad = client.get("/api/v1/audit?since=yesterday", headers=auditor)
    assert bad.status_code == 422
    assert "since" in bad.json()["detail"]
    assert client.get("/api/v1/audit", headers=bearer(client, "root")).status_code == 200
    for user in ("wang", "zhang", "chen"):
        assert client.get("/api/v1/audit", headers=bearer(client, user)).status_code == 403


# -- demo accounts -------------------------------------------------------------------------------


def test_demo_accounts_one_per_role_take_this_runs_password(store: AccountStore) -> None:
    seeded = seed_demo_accounts(store, "first-run-password")
    assert {a.username for a in seeded} >= {r.value for r in ASSIGNABLE_ROLES}
    for role in ASSIGNABLE_ROLES:
        assert store.authenticate(role.value, "first-run-password", client="c").role is role
    assert store.principal("liaison").unit == "纪委监委"

    seed_demo_accounts(store, "second-run")  # a later start prints a new password
    assert store.authenticate("handler2", "second-run", client="c").role is Role.HANDLER
    with pytest.raises(BadCredentials):
        store.authenticate("handler2", "first-run-password", client="c")
