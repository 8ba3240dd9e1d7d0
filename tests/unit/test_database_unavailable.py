"""A database that is away: which errors say so, and the 503 with Retry-After every HTTP
process answers for them (JSON for the API, a page for the pages), never a 500; workers
that wait for it and go on (docs/decisions/0018)."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import psycopg.errors
import pytest
from eventsourcing.persistence import OperationalError as StoreOperationalError
from eventsourcing.persistence import ProgrammingError as StoreProgrammingError
from fastapi import APIRouter
from fastapi.testclient import TestClient
from psycopg_pool import PoolTimeout

from schemas.events import EventEnvelope
from services.casework.consumer import IntakeEventsConsumer
from services.common.follower import LogFollower
from services.common.unavailable import (
    RETRY_AFTER_SECONDS,
    DatabaseUnavailable,
    is_database_unavailable,
)
from services.common.web import create_app
from services.intake.application import IntakeApplication
from tests.unit.conftest import submission
from tests.unit.pages_support import build_system, sign_in


def _raised(error: BaseException, cause: BaseException | None = None) -> BaseException:
    try:
        if cause is None:
            raise error
        raise error from cause
    except BaseException as caught:
        return caught


def _wrapped_by_handling(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException:
            raise outer  # noqa: B904 - an implicit context, as careless code makes it
    except BaseException as caught:
        return caught


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.OperationalError("consuming input failed: server closed the connection"),
        PoolTimeout("couldn't get a connection after 5.00 sec"),
        DatabaseUnavailable("the database cannot be reached"),
        _raised(StoreOperationalError("connection refused"), psycopg.OperationalError("refused")),
        _raised(StoreOperationalError("locked"), sqlite3.OperationalError("database is locked")),
        sqlite3.OperationalError("database is locked"),
        _raised(RuntimeError("reading the case failed"), DatabaseUnavailable("away")),
        _wrapped_by_handling(KeyError("x"), psycopg.errors.AdminShutdown("shutdown")),
    ],
    ids=lambda e: f"{type(e).__name__}:{e}",
)
def test_an_outage_is_recognised_raw_wrapped_or_chained(error: BaseException) -> None:
    assert is_database_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.UniqueViolation("duplicate key value violates unique constraint"),
        psycopg.errors.UndefinedTable('relation "case_list" does not exist'),
        psycopg.ProgrammingError("syntax error"),
        _raised(StoreProgrammingError("no such table"), psycopg.ProgrammingError("no table")),
        StoreOperationalError("Can't do multi-row tracking with single-row tracking table"),
        sqlite3.OperationalError("no such table: case_list"),
        ValueError("not a case id"),
    ],
    ids=lambda e: f"{type(e).__name__}:{e}",
)
def test_errors_that_would_fail_again_are_not_an_outage(error: BaseException) -> None:
    assert not is_database_unavailable(error)


def _suppressed() -> BaseException:
    try:
        try:
            raise psycopg.errors.AdminShutdown("shutdown")
        except psycopg.Error:
            raise LookupError("no such report") from None
    except LookupError as error:
        return error


def test_a_context_suppressed_with_from_none_is_not_followed() -> None:
    assert not is_database_unavailable(_suppressed())


# -- the HTTP shell --------------------------------------------------------------------------


class _Probe:
    def __init__(self) -> None:
        self.error: Exception | None = None

    def ping(self, timeout: float) -> None:
        if self.error is not None:
            raise self.error


def _app(error: Exception, probe: _Probe) -> TestClient:
    router = APIRouter()

    @router.get("/api/v1/thing")
    def thing() -> dict[str, str]:
        raise error

    app = create_app("test", [router], lambda: {"service": "test"}, databases=[probe])
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.AdminShutdown("terminating connection; SELECT secret FROM vault"),
        _raised(
            StoreOperationalError("consuming input failed"),
            psycopg.OperationalError("consuming input failed"),
        ),
        DatabaseUnavailable("the database cannot be reached"),
        PoolTimeout("couldn't get a connection after 5.00 sec"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_the_api_answers_503_with_retry_after_and_says_nothing_of_the_error(
    error: Exception,
) -> None:
    answer = _app(error, _Probe()).get("/api/v1/thing")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["status"] == 503
    assert "temporarily unavailable" in body["detail"]
    assert "SELECT" not in answer.text
    assert "secret" not in answer.text
    assert "consuming" not in answer.text


def test_any_other_database_error_stays_a_500() -> None:
    answer = _app(psycopg.errors.UndefinedTable("no table"), _Probe()).get("/api/v1/thing")
    assert answer.status_code == 500
    assert "Retry-After" not in answer.headers


def test_healthz_pings_the_databases_and_answers_503_when_one_is_away() -> None:
    probe = _Probe()
    client = _app(ValueError("unused"), probe)
    assert client.get("/healthz").status_code == 200
    probe.error = DatabaseUnavailable("the database cannot be reached")
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    probe.error = None
    assert client.get("/healthz").json()["status"] == "ok"


def test_a_page_answers_a_503_page_with_retry_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = build_system(tmp_path)
    client = TestClient(system.web_app(), raise_server_exceptions=False)
    sign_in(client, system, "operator")
    assert client.get("/ledger").status_code == 200

    def away(*_: Any, **__: Any) -> None:
        raise DatabaseUnavailable("the database cannot be reached")

    # The session lookup itself: the first thing every signed-in page asks the database.
    monkeypatch.setattr(system.accounts, "principal_for_session", away)
    page = client.get("/ledger")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert page.headers["content-type"].startswith("text/html")
    assert "服务暂时不可用" in page.text
    # An error page rendered meanwhile is still that page, as to nobody signed in.
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    monkeypatch.setattr(system.accounts, "principal_for_token", away)
    api = client.get(f"/api/v1/reports/{uuid4()}", headers={"Authorization": "Bearer x"})
    assert api.status_code == 503
    assert api.headers["content-type"].startswith("application/problem+json")
    system.stop()


# -- workers ----------------------------------------------------------------------------------


def test_the_follower_waits_for_the_database_with_one_warning_and_goes_on(
    intake: IntakeApplication, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(2):
        intake.submit(submission())
    handled: list[int] = []
    outages = 3

    def handler(envelopes: Sequence[EventEnvelope]) -> None:
        nonlocal outages
        if outages:
            outages -= 1
            raise StoreOperationalError("database is locked") from sqlite3.OperationalError(
                "database is locked"
            )
        handled.extend(e.position for e in envelopes)

    follower = LogFollower(
        intake, handler, lambda: handled[-1] if handled else 0, name="test", poll_seconds=0.01
    )
    stop = threading.Event()
    thread = threading.Thread(target=follower.run, args=(stop,), daemon=True)
    published = [e.position for e in intake.read_envelopes(0, 100)[0]]
    with caplog.at_level(logging.INFO, logger="services.common.follower"):
        thread.start()
        deadline = time.monotonic() + 10
        while handled != published and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()
        thread.join(timeout=5)
    assert handled == published
    ours = [r for r in caplog.records if r.name == "services.common.follower"]
    assert [r.levelno for r in ours if r.levelno >= logging.WARNING] == [logging.WARNING]
    assert thread.is_alive() is False


class _Casework:
    """Casework's ``handle_batch`` failing the first ``failures`` times with ``error``."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error = failures, error
        self.calls: list[int] = []

    def handle_batch(self, envelopes: list[EventEnvelope], upstream: str) -> int:
        self.calls.extend(e.position for e in envelopes)
        if len(self.calls) <= self.failures:
            raise self.error
        return len(envelopes)


def _first_envelope(intake: IntakeApplication) -> EventEnvelope:
    intake.submit(submission())
    return intake.read_envelopes(0, 10)[0][0]


def test_the_casework_consumer_retries_a_message_while_the_database_is_away(
    intake: IntakeApplication,
) -> None:
    message = _first_envelope(intake)
    casework = _Casework(2, DatabaseUnavailable("the database cannot be reached"))
    consumer = IntakeEventsConsumer(casework, "127.0.0.1:9")  # type: ignore[arg-type]
    assert consumer.process_until_done(0, message.to_bytes(), threading.Event())
    assert casework.calls == [message.position] * 3

    # Stopped while waiting: reported as not processed (its offset is not committed).
    stop = threading.Event()
    stop.set()
    casework = _Casework(1, DatabaseUnavailable("the database cannot be reached"))
    consumer = IntakeEventsConsumer(casework, "127.0.0.1:9")  # type: ignore[arg-type]
    assert not consumer.process_until_done(0, message.to_bytes(), stop)
    assert casework.calls == [message.position]


def test_the_casework_consumer_does_not_retry_other_errors(intake: IntakeApplication) -> None:
    message = _first_envelope(intake)
    casework = _Casework(5, psycopg.errors.UndefinedTable("no table"))
    consumer = IntakeEventsConsumer(casework, "127.0.0.1:9")  # type: ignore[arg-type]
    with pytest.raises(psycopg.errors.UndefinedTable):
        consumer.process_until_done(0, message.to_bytes(), threading.Event())
    assert casework.calls == [message.position]
