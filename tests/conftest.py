"""Shared fixtures: a real throwaway PostgreSQL and a real Tansu (Kafka-protocol) broker.

Both servers are started lazily, once per session, only when a test asks for them,
and failures to start them are errors (never skips). Set ``JIANDU_TEST_POSTGRES_URL``
and/or ``JIANDU_TEST_KAFKA_BOOTSTRAP`` to use servers that are already running.
See docs/decisions/0003-test-infrastructure.md.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Iterator
from typing import NoReturn

import pytest
import time_machine

from services.common.china_time import CHINA_TIME
from tests.support.postgres import ThrowawayPostgres
from tests.support.tansu import TansuBroker

KAFKA_ENV = "JIANDU_TEST_KAFKA_BOOTSTRAP"
TRAVEL_ENV = "JIANDU_TEST_TRAVEL"


def _travel_target(spec: str) -> dt.datetime:
    """``DAYS@HH:MM``: that many days after today (China date), at that time in China."""
    try:
        days, _, at = spec.partition("@")
        hour, minute = (int(part) for part in (at or "10:00").split(":"))
        today = dt.datetime.now(CHINA_TIME).date()  # wall clock ok: where the journey starts
        return dt.datetime.combine(
            today + dt.timedelta(days=int(days)), dt.time(hour, minute), CHINA_TIME
        )
    except ValueError as error:
        raise pytest.UsageError(f"{TRAVEL_ENV}={spec!r}: expected DAYS@HH:MM ({error})") from None


_travel: time_machine.travel | None = None


def pytest_configure(config: pytest.Config) -> None:
    """With ``JIANDU_TEST_TRAVEL`` set, the whole run sees a moved wall clock (``make test``
    runs the unit suite a year ahead at 01:30 Beijing time on a UTC host): a test that
    depends on the day it runs fails there."""
    global _travel  # noqa: PLW0603 - one journey per run
    spec = os.environ.get(TRAVEL_ENV)
    if spec:
        _travel = time_machine.travel(_travel_target(spec), tick=True)
        _travel.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _travel is not None:
        _travel.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    if _travel is None:
        return None
    now = dt.datetime.now(CHINA_TIME)  # wall clock ok: shows the moved clock
    return (
        f"clock moved ({TRAVEL_ENV}): now {now.isoformat(timespec='minutes')}, TZ={time.tzname[0]}"
    )


class ExternalKafkaBroker:
    """Stands in for ``TansuBroker`` when ``JIANDU_TEST_KAFKA_BOOTSTRAP`` is set."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap

    def _unsupported(self) -> NoReturn:
        raise RuntimeError(
            f"The Kafka broker at {self.bootstrap} comes from {KAFKA_ENV}; the tests cannot "
            f"stop, start or restart an external broker. Unset {KAFKA_ENV} to let the "
            "fixtures run their own Tansu broker."
        )

    def start(self) -> NoReturn:
        self._unsupported()

    def stop(self) -> NoReturn:
        self._unsupported()

    def restart(self) -> NoReturn:
        self._unsupported()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres]:
    """A running PostgreSQL server (throwaway, or JIANDU_TEST_POSTGRES_URL)."""
    server = ThrowawayPostgres()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_dsn(postgres_server: ThrowawayPostgres) -> Iterator[str]:
    """DSN of a fresh, empty database ``jt_<hex>``, dropped after the test."""
    with postgres_server.fresh_database() as dsn:
        yield dsn


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[TansuBroker | ExternalKafkaBroker]:
    """A running Kafka-protocol broker; use ``.bootstrap`` ("127.0.0.1:PORT")."""
    external = os.environ.get(KAFKA_ENV)
    if external:
        yield ExternalKafkaBroker(external)
        return
    broker = TansuBroker()
    try:
        broker.start()
        yield broker
    finally:
        broker.close()


@pytest.fixture
def kafka_topic_prefix() -> str:
    """A unique topic-name prefix (``t<hex>.``) so tests sharing the broker never collide."""
    return f"t{uuid.uuid4().hex[:12]}."
