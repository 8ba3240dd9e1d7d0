"""Issue 10, review of items 10–11 (decision 0013): the throttles' counters are keyed
digests (no client address recoverable from a stored key), count the client the reverse
proxy names, reserve an attempt before it is made (parallel requests cannot all slip
through), count IPv6 clients per /64 and purge what has expired."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from schemas.glossary import Role
from services.accounts.policy import ThrottlePolicy, TooManyAttempts
from services.accounts.store import AccountStore, BadCredentials, LoginThrottled
from services.accounts.throttle import PublicThrottle
from services.bootstrap import EmbeddedSystem
from services.common.china_time import FixedClock
from services.common.sql import Database
from tests.unit.conftest import build_embedded, make_settings
from tests.unit.pages_support import csrf

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
PROXY = "10.0.0.2"
PASSWORD = "a-long-enough-password-1"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: FixedClock) -> Iterator[AccountStore]:
    accounts = AccountStore(Database(sqlite_path=tmp_path / "accounts.sqlite"), clock=clock.utc_now)
    yield accounts
    accounts.close()


def counter_rows(path: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM throttle_counters")]


# -- item 1: keyed login counters, the proxied client ------------------------------------------


def test_login_counters_are_keyed_digests_not_plain_hashes_of_the_client(
    store: AccountStore, tmp_path: Path
) -> None:
    with pytest.raises(BadCredentials):
        store.authenticate("somebody", "wrong password!", client="203.0.113.5")

    keys = {row["throttle_key"] for row in counter_rows(tmp_path / "accounts.sqlite")}
    plain = {
        hashlib.sha256(text.encode()).hexdigest()
        for text in ("client:203.0.113.5", "user:somebody", "203.0.113.5", "somebody")
    }
    assert keys == {
        store.throttle_key("login-user", "somebody"),
        store.client_key("login-client", "203.0.113.5"),
    }
    assert not keys & plain


def test_the_old_unkeyed_login_counters_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "accounts.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE login_throttle (throttle_key TEXT PRIMARY KEY, failures INTEGER)"
        )
        leak = hashlib.sha256(b"client:203.0.113.5").hexdigest()
        conn.execute("INSERT INTO login_throttle VALUES (?, 3)", (leak,))

    AccountStore(Database(sqlite_path=path)).close()

    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "login_throttle" not in tables


@pytest.fixture
def proxied(tmp_path: Path, clock: FixedClock) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path, trusted_proxies=PROXY), clock=clock)
    system.accounts.throttle = ThrottlePolicy(client_max_failures=3)
    system.accounts.create_user("zhang", PASSWORD, Role.HANDLER, "张强")
    yield system
    system.stop()


def api_login(client: TestClient, forwarded_for: str, password: str, user: str = "zhang") -> int:
    answer = client.post(
        "/api/v1/auth/token",
        json={"username": user, "password": password},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return answer.status_code


def page_login(client: TestClient, forwarded_for: str, password: str, user: str = "zhang") -> int:
    token = csrf(client)
    answer = client.post(
        "/login",
        data={"username": user, "password": password, "csrf_token": token},
        headers={"X-Forwarded-For": forwarded_for},
        follow_redirects=False,
    )
    return answer.status_code


@pytest.mark.parametrize("login", [api_login, page_login], ids=["api", "page"])
def test_logins_behind_the_proxy_are_counted_per_forwarded_client(
    proxied: EmbeddedSystem, login: Callable[..., int]
) -> None:
    """Behind the reverse proxy every request comes from the proxy: the client counted is
    the one it forwards, so one guesser does not lock out everybody else."""
    with TestClient(proxied.web_app(), client=(PROXY, 4711)) as client:
        guesses = [login(client, "203.0.113.5", "wrong!", user=f"u{i}") for i in range(3)]
        assert guesses[-1] == 429  # the guessing client is locked
        assert login(client, "203.0.113.5", PASSWORD) == 429
        assert login(client, "198.51.100.1", PASSWORD) in (200, 303)  # another is not


# -- item 8: reserve before the work -----------------------------------------------------------


def run_together(count: int, work: Callable[[], Any]) -> list[Any]:
    """``work`` in ``count`` threads released at once; each one's result or exception."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def one(i: int) -> None:
        start.wait()
        try:
            results[i] = work()
        except Exception as error:  # collected: the test looks at each outcome
            results[i] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_parallel_wrong_logins_get_no_more_tries_than_the_limit(store: AccountStore) -> None:
    store.create_user("zhang", PASSWORD, Role.HANDLER, "张强")
    limit = store.throttle.max_failures

    results = run_together(
        12, lambda: store.authenticate("zhang", "wrong password!", client="203.0.113.5")
    )

    checked = [r for r in results if isinstance(r, BadCredentials)]
    refused = [r for r in results if isinstance(r, LoginThrottled)]
    assert len(checked) == limit - 1  # the limit-th try starts the lockout (429)
    assert len(refused) == 12 - (limit - 1)


def test_parallel_mailbox_reservations_get_no_more_than_the_days_limit(
    store: AccountStore,
) -> None:
    limit = store.public_limits.mailbox_per_day

    results = run_together(16, PublicThrottle(store, "203.0.113.9").reserve_mailbox)

    assert sum(r is None for r in results) == limit
    assert all(isinstance(r, TooManyAttempts) for r in results if r is not None)


def test_parallel_mailbox_submissions_over_http_stop_at_the_limit(
    tmp_path: Path, clock: FixedClock
) -> None:
    system = build_embedded(make_settings(tmp_path, mailbox_daily_limit=3), clock=clock)
    body = {
        "channel": "mailbox",
        "reporter": {"anonymous": True},
        "subjects": [{"name": "王建国", "unit": "某县财政局", "position": "局长"}],
        "categories": ["seeking_office"],
        "summary": "反映王建国跑官要官。",
    }
    try:
        with TestClient(system.web_app()) as client:
            answers = run_together(
                10, lambda: client.post("/api/v1/reports", json=body).status_code
            )
        assert sorted(answers) == [201] * 3 + [429] * 7
        assert system.intake.max_position() > 0
    finally:
        system.stop()


def test_a_right_follow_up_gives_its_attempt_back(store: AccountStore) -> None:
    throttle = PublicThrottle(store, "203.0.113.9")
    limit = store.public_limits.follow_up.max_failures
    for _ in range(limit - 1):
        throttle.follow_up_failed(throttle.start_follow_up("AAAA-BBBB-CCCC"))
    for _ in range(3):  # the reporter, with the right password, is never locked out
        throttle.follow_up_succeeded(throttle.start_follow_up("AAAA-BBBB-CCCC"))

    with pytest.raises(TooManyAttempts):
        throttle.follow_up_failed(throttle.start_follow_up("AAAA-BBBB-CCCC"))


# -- item 9: IPv6 per /64, expired counters purged ---------------------------------------------


def test_ipv6_clients_are_counted_per_64_and_ipv4_per_address(store: AccountStore) -> None:
    limit = store.public_limits.mailbox_per_day
    for i in range(limit):
        PublicThrottle(store, f"2001:db8:1:2::{i + 1:x}").reserve_mailbox()

    with pytest.raises(TooManyAttempts):
        PublicThrottle(store, "2001:db8:1:2:ffff:ffff:ffff:fffe").reserve_mailbox()
    PublicThrottle(store, "2001:db8:1:3::1").reserve_mailbox()  # the next /64 is free
    assert store.client_key("k", "::ffff:192.0.2.7") == store.client_key("k", "192.0.2.7")
    assert store.client_key("k", "192.0.2.7") != store.client_key("k", "192.0.2.8")


def test_expired_counters_are_purged_on_write(
    store: AccountStore, clock: FixedClock, tmp_path: Path
) -> None:
    for i in range(5):
        PublicThrottle(store, f"192.0.2.{i}").start_follow_up(f"CODE{i}")
    assert len(counter_rows(tmp_path / "accounts.sqlite")) == 10

    clock.advance(store.public_limits.follow_up.forget_after + dt.timedelta(seconds=1))
    PublicThrottle(store, "198.51.100.1").start_follow_up("OTHER")

    assert len(counter_rows(tmp_path / "accounts.sqlite")) == 2  # only the new attempt's
