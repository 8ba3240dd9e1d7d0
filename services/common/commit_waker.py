"""Waking the relay on a commit made by another process: LISTEN for the ``NOTIFY``
eventsourcing's PostgreSQL recorder sends in every transaction that inserts events
(docs/decisions/0024)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter

from services.common.application import JianduApplication

log = logging.getLogger(__name__)

WAKEUPS = Counter(
    "jiandu_relay_commit_notifications_total",
    "Commit notifications (LISTEN) that woke the relay",
    ["source"],
)


class Signal:
    """What a waker sets on a commit: here, the relay's commit flag and its wake event."""

    def __init__(self, action: Callable[[], None]) -> None:
        self.set = action


class CommitWaker:
    """LISTENs on a PostgreSQL channel and sets ``wake`` on every notification.

    eventsourcing's PostgreSQL application recorder executes ``NOTIFY <events table>`` in
    every transaction that inserts events; PostgreSQL delivers it when (and only if) the
    transaction commits, once per transaction. A lost connection (a restart, a network
    failure) is reconnected with a growing pause; after each (re)connection ``wake`` is set,
    as commits may have been missed meanwhile (the relay's poll covers that time too)."""

    IDLE_CHECK_SECONDS = 5.0  # a silent connection is checked this often (a dead peer)
    SLICE_SECONDS = 0.5  # how long one wait for notifications lasts (``stop`` is seen after)

    def __init__(
        self,
        connect: Any,
        channel: str,
        wake: threading.Event | Signal,
        *,
        name: str = "",
        max_backoff_seconds: float = 5.0,
        on_notify: Any = None,
    ) -> None:
        """``connect()`` returns a new psycopg connection in autocommit mode."""
        self._connect = connect
        self.channel = channel
        self._wake = wake
        self._name = name or channel
        self._max_backoff = max_backoff_seconds
        self._on_notify = on_notify
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while LISTENing (tests wait for it)
        self.connections = 0  # successful LISTENs so far

    @classmethod
    def for_app(cls, app: JianduApplication, wake: threading.Event | Signal) -> CommitWaker | None:
        """A waker for the application's log, or None when it is not on PostgreSQL."""
        recorder = app.recorder
        channel = getattr(recorder, "channel_name", None)
        pool = getattr(getattr(recorder, "datastore", None), "pool", None)
        if channel is None or pool is None or not isinstance(getattr(pool, "kwargs", None), dict):
            return None  # SQLite: the in-process listener is all there is
        import psycopg

        from services.common.pgpool import CONNECT_TIMEOUT_SECONDS

        kwargs = {k: v for k, v in pool.kwargs.items() if k != "row_factory"}
        kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
        conninfo = pool.conninfo if isinstance(pool.conninfo, str) else ""

        def connect() -> Any:
            return psycopg.connect(conninfo, autocommit=True, **kwargs)

        counter = WAKEUPS.labels(app.source)
        return cls(connect, channel, wake, name=app.source, on_notify=counter.inc)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"listen-{self._name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg
        from psycopg import sql

        backoff = 0.1
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    self.connections += 1
                    self.listening.set()
                    backoff = 0.1
                    self._wake.set()  # commits while not listening: look once
                    self._listen(conn)
            except (psycopg.Error, OSError) as error:
                if self._stop.is_set():
                    break
                # INFO: the poll covers the time, and a database that is away is the
                # relay's own warning already (0018).
                log.info(
                    "relay %s: LISTEN %s lost (%s), reconnecting in %.1fs; polling meanwhile",
                    self._name,
                    self.channel,
                    type(error).__name__,
                    backoff,
                )
            finally:
                self.listening.clear()
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    def _listen(self, conn: Any) -> None:
        checked = time.monotonic()
        while not self._stop.is_set():
            # Short slices: ``stop`` is noticed soon; notifications arriving between two
            # slices wait in psycopg's backlog.
            for _ in conn.notifies(timeout=self.SLICE_SECONDS, stop_after=1):
                checked = time.monotonic()
                self._wake.set()
                if self._on_notify is not None:
                    self._on_notify()
            if time.monotonic() - checked >= self.IDLE_CHECK_SECONDS:
                conn.execute("SELECT 1")  # a silent connection: a dead server raises here
                checked = time.monotonic()
