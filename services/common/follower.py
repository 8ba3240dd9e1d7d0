"""The embedded mode's transport: follow an application's log in-process, in order.

It does what Kafka does in the distributed mode, with the same envelopes and the same
handlers: read published events after the consumer's tracked position, hand them over in
batches, and wait to be woken by the next save (or poll, as a fallback).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from schemas.events import EventEnvelope
from services.common.application import JianduApplication
from services.common.unavailable import is_database_unavailable

log = logging.getLogger(__name__)

Handler = Callable[[Sequence[EventEnvelope]], None]

MAX_RETRY_SECONDS = 5.0


class LogFollower:
    def __init__(
        self,
        app: JianduApplication,
        handler: Handler,
        tracked_position: Callable[[], int],
        *,
        name: str,
        batch_size: int = 500,
        poll_seconds: float = 0.5,
    ) -> None:
        self.app = app
        self.handler = handler
        self.tracked_position = tracked_position
        self.name = name
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._cursor: int | None = None
        app.add_listener(self._wake.set)

    def catch_up(self) -> int:
        """Hand over everything pending; returns how many events were handled."""
        handled = 0
        if self._cursor is None:
            self._cursor = self.tracked_position()
        while True:
            envelopes, last = self.app.read_envelopes(self._cursor, self.batch_size)
            if last == self._cursor:
                return handled
            if envelopes:
                self.handler(envelopes)
                handled += len(envelopes)
            self._cursor = last

    def run(self, stop: threading.Event) -> None:
        """Follow until ``stop``. A rebuild in progress is waited for; a database that is
        away (locked, restarting) is retried with a growing pause, logged once as a warning
        (0018); anything else is logged with its traceback and retried from the tracked
        position. The follower never exits before ``stop``."""
        waiting = False  # on an error that says to retry later (a rebuild, a database away)
        delay = self.poll_seconds
        while not stop.is_set():
            self._wake.clear()  # before reading: a save after this point wakes the next wait
            try:
                self.catch_up()
            except Exception as error:
                database_away = is_database_unavailable(error)
                if getattr(error, "retry_later", False) or database_away:
                    if not waiting:  # once, not at every poll of a long rebuild or outage
                        log.warning("%s: waiting: %s", self.name, error)
                    waiting = True
                else:
                    log.exception(
                        "%s: handling failed; retrying from the tracked position", self.name
                    )
                self._cursor = None
                stop.wait(delay)
                # A database away: a growing pause; a rebuild: the usual poll.
                delay = min(delay * 2, MAX_RETRY_SECONDS) if database_away else self.poll_seconds
                continue
            delay = self.poll_seconds
            if waiting:
                log.info("%s: going on", self.name)
                waiting = False
            self._wake.wait(self.poll_seconds)
