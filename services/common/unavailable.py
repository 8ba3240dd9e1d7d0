"""A database that is away: how to recognise it, and what HTTP answers (503, Retry-After).

PostgreSQL restarting, a connection closed under a request, no connection free within the
pool's timeout, SQLite locked beyond its busy timeout: each is a passing condition, so the
answer is 503 with ``Retry-After``, never a 500, and workers wait and try again. The errors
arrive raw (psycopg, psycopg_pool, sqlite3) or wrapped by eventsourcing (its
``OperationalError`` raised ``from`` the driver's), so the whole chain of causes is read.
See docs/decisions/0018-database-outages.md.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

import psycopg
from eventsourcing.persistence import PersistenceError

# Retry-After of a 503 for a database that is away: a PostgreSQL restart takes a few
# seconds, and a request waits at most the pool's checkout timeout (5 s) for a connection.
RETRY_AFTER_SECONDS = 5
# How long /healthz waits for each database before answering 503.
HEALTH_TIMEOUT_SECONDS = 2.0


class DatabaseUnavailable(Exception):
    """No live database connection: the server refused or did not answer a connection
    attempt, or none became free within the pool's timeout (services.common.pgpool)."""


# The exception types that can carry a database outage to the HTTP shell (whether one does
# is ``is_database_unavailable``); other errors of these types stay 500s.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    DatabaseUnavailable,
    psycopg.Error,
    PersistenceError,
    sqlite3.Error,
)

DETAIL = "The service is temporarily unavailable: its database cannot be reached. Try again later."
DETAIL_ZH = "服务暂时不可用：数据库无法连接，请稍后重试。"

_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and what caused it: explicit causes, and implicit contexts not suppressed."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        if current.__cause__ is not None:
            current = current.__cause__
        elif not current.__suppress_context__:
            current = current.__context__
        else:
            current = None


def is_database_unavailable(error: BaseException) -> bool:
    """Does ``error`` say the database is away or busy for a while (retrying may pass)?

    psycopg's ``OperationalError`` covers a refused or lost connection (``AdminShutdown``
    on a restart, "consuming input failed"), the pool's ``PoolTimeout``/``PoolClosed``/
    ``TooManyRequests``, too many connections, and a cancelled statement or deadlock.
    Programming and data errors are not: they would fail again.
    """
    for cause in causes(error):
        if isinstance(cause, DatabaseUnavailable | psycopg.OperationalError):
            return True
        if isinstance(cause, sqlite3.OperationalError) and str(cause).lower().startswith(
            _SQLITE_BUSY
        ):
            return True
    return False


def unavailable_body() -> dict[str, Any]:
    """The body of a 503 for a database that is away: RFC 9457 problem details, and no
    SQL, no identity, no submitted values."""
    return {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": DETAIL,
        "detail_zh": DETAIL_ZH,
        "retry_after": RETRY_AFTER_SECONDS,
    }


def retry_after_header() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}


class Probe(Protocol):
    """A database whose presence /healthz checks (``Database``, a ``JianduApplication``)."""

    def ping(self, timeout: float) -> None:
        """Return when the database answered within about ``timeout`` seconds; else raise."""


def ping_all(probes: Iterable[Probe], timeout: float = HEALTH_TIMEOUT_SECONDS) -> None:
    """Ping each database; the first that does not answer raises."""
    for probe in probes:
        probe.ping(timeout)
