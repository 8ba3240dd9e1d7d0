"""PostgreSQL connection pools that never hand out a dead connection and give up quickly.

A PostgreSQL restart closes every connection a pool holds, and psycopg_pool only notices
when a connection is used: without a check, each pooled connection fails one request
(``AdminShutdown``, "consuming input failed") before it is replaced. psycopg_pool's own
``check=`` callback checks one connection at a time and sleeps 1, 2, 4… s between failed
checks, so the first request after a restart still times out while dead connections are
tried one by one; and its reconnection attempts back off up to ``reconnect_timeout``
(5 minutes by default), so a pool can stay empty long after the database is back.

``FreshConnectionPool`` checks the connection it hands out (one empty query); when that
one is dead it checks every idle connection at once (a restart killed them together),
discards the dead ones and waits for a new connection. A caller waiting for a connection
gives up as soon as an attempt to connect fails meanwhile (``DatabaseUnavailable``, within
a second or two while the server is down), or at the checkout timeout. Reconnection
attempts give up after ``RECONNECT_TIMEOUT_SECONDS``; the next request then starts a new
attempt at once, so the first request after the server is back gets a connection. Both
our SQL adapter (``services.common.sql``) and eventsourcing's PostgreSQL datastore
(``PostgresFactory`` below, named in ``PERSISTENCE_MODULE``) use it. See
docs/decisions/0018-database-outages.md.
"""

from __future__ import annotations

import logging
import select
import time
import weakref
from typing import Any, TypeVar

import psycopg
from eventsourcing.postgres import ConnectionPool, PostgresDatastore
from eventsourcing.postgres import PostgresFactory as _EventsourcingPostgresFactory
from eventsourcing.utils import Environment, EnvType
from psycopg.pq import TransactionStatus
from psycopg_pool import PoolTimeout

from services.common.unavailable import DatabaseUnavailable

log = logging.getLogger(__name__)

# How long a request waits for a connection before PoolTimeout (answered 503).
CHECKOUT_TIMEOUT_SECONDS = 5.0
# libpq's connect_timeout for each new connection (an unreachable host does not hang).
CONNECT_TIMEOUT_SECONDS = 3
# Background reconnection gives up after this; a waiting request then asks for a new one.
RECONNECT_TIMEOUT_SECONDS = 5.0
# A waiting caller looks this often whether a connection attempt has failed meanwhile.
WAIT_SLICE_SECONDS = 0.25
# A connection handed back in good order is handed out again unchecked while its socket is
# quiet: nothing to read on an idle connection means the server has neither closed it nor
# sent anything (a restart or a terminated backend sends its error and closes the socket, so
# the socket turns readable at once). Under load a connection is reused every few
# milliseconds and the check (a round trip) was a quarter of the casework consumer's time; a
# time window (0.1 s, the first amendment of 0018) still checked every connection of a pool
# cycling through a dozen of them. A server gone without closing (a host lost on the network)
# costs one request a 503, never a 500, and that failure checks the rest.

CT = TypeVar("CT", bound=psycopg.Connection[Any])


class FreshConnectionPool(ConnectionPool[CT]):
    """A pool whose ``getconn`` (and so ``connection()``) only returns a live connection,
    or raises ``DatabaseUnavailable`` soon: as soon as a connection attempt made while the
    caller waits has failed (the server refuses or does not answer), else at the timeout.

    ``DatabaseUnavailable`` is not a psycopg error on purpose: eventsourcing retries its
    recorder calls ten times on psycopg's ``OperationalError`` (``PoolTimeout`` included),
    which would turn a 5 s wait into 50 s; an error of another type passes through at once.
    """

    _connect_failed_at = float("-inf")
    _connect_error = ""  # its type only: keeping the error would tie the pool to a traceback

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # When each idle connection was handed back in good order (weakly: a connection the
        # pool discards takes its entry with it).
        self._proven_at: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
        super().__init__(*args, **kwargs)

    def _connect(self, timeout: float | None = None) -> CT:
        try:
            return super()._connect(timeout)
        except Exception as error:  # noted for the callers waiting meanwhile
            self._connect_error, self._connect_failed_at = type(error).__name__, time.monotonic()
            raise

    def getconn(self, timeout: float | None = None) -> CT:
        started = time.monotonic()
        deadline = started + (self.timeout if timeout is None else timeout)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DatabaseUnavailable("no database connection became free in time")
            try:
                conn = super().getconn(min(remaining, WAIT_SLICE_SECONDS))
            except PoolTimeout:
                if self._connect_failed_at >= started:
                    raise DatabaseUnavailable(
                        f"the database cannot be reached ({self._connect_error})"
                    ) from None
                continue
            if self._proven_and_quiet(conn) or self._alive(conn):
                return conn
            # A restart closes every connection at once: discard the other dead ones now,
            # rather than failing (or sleeping) once for each of them.
            self.check()

    def putconn(self, conn: CT) -> None:
        if not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE:
            self._proven_at[conn] = time.monotonic()
        else:
            self._proven_at.pop(conn, None)
        super().putconn(conn)

    def _proven_and_quiet(self, conn: CT) -> bool:
        """Handed back in good order, and nothing waits on its socket (no round trip)."""
        proven = self._proven_at.pop(conn, None) is not None
        return proven and not conn.closed and _quiet(conn)

    def _alive(self, conn: CT) -> bool:
        try:
            self.check_connection(conn)
        except psycopg.Error as error:
            log.info("discarding a dead database connection: %s", type(error).__name__)
            conn.close()
            self.putconn(conn)  # closed: the pool drops it and opens a replacement
            return False
        return True


def _quiet(conn: psycopg.Connection[Any]) -> bool:
    """Nothing to read on an idle connection's socket: the server has neither closed it nor
    sent anything (its shutdown notice, a termination) since it was handed back."""
    try:
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
    except (OSError, ValueError, psycopg.Error):
        return False


def fresh_pool(conninfo: str = "", **kwargs: Any) -> FreshConnectionPool[Any]:
    """A ``FreshConnectionPool`` with our timeouts; ``kwargs`` as psycopg_pool's."""
    connect_kwargs = {"connect_timeout": CONNECT_TIMEOUT_SECONDS} | dict(kwargs.pop("kwargs", {}))
    return FreshConnectionPool(
        conninfo,
        kwargs=connect_kwargs,
        timeout=kwargs.pop("timeout", CHECKOUT_TIMEOUT_SECONDS),
        reconnect_timeout=RECONNECT_TIMEOUT_SECONDS,
        **kwargs,
    )


def refresh_datastore_pool(datastore: PostgresDatastore) -> None:
    """Replace eventsourcing's pool (not opened yet) by a ``FreshConnectionPool`` with the
    same connection settings, size, lifetime and after-connect configuration."""
    old = datastore.pool
    assert isinstance(old.kwargs, dict)
    datastore.pool = fresh_pool(
        old.conninfo if isinstance(old.conninfo, str) else "",
        kwargs=old.kwargs,
        connection_class=old.connection_class,
        min_size=old.min_size,
        max_size=old.max_size,
        open=False,
        configure=datastore.after_connect_func(),
        timeout=old.timeout,
        max_waiting=old.max_waiting,
        max_lifetime=old.max_lifetime,
        get_password_func=old.get_password_func,
    )


class PostgresFactory(_EventsourcingPostgresFactory):
    """eventsourcing's PostgreSQL persistence, its datastore on a ``FreshConnectionPool``."""

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        refresh_datastore_pool(self.datastore)
