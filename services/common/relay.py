"""The relay: publishes an application's log to Kafka, recording its position only after acks.

It follows the notification log (the transactional outbox) from the last position the
broker acknowledged and publishes each published event's envelope keyed by aggregate id
with ``acks=all``. It is pipelined (docs/decisions/0024): while the broker acknowledges one
batch, the next is read and handed to the producer, up to ``depth`` batches in flight. The
position moves only past a prefix of batches every event of which the broker acknowledged;
after any failure everything in flight is dropped and the relay starts again from the
recorded position. A broker outage delays publication and never loses an event (a crash
between ack and record republishes, and consumers, being idempotent, ignore the
duplicates). Intake never waits for the relay.

New events wake it: in the same process the application's listener; across processes, on
PostgreSQL, the ``NOTIFY`` eventsourcing's recorder sends in every transaction that inserts
events (delivered on commit), which :class:`CommitWaker` LISTENs for. The poll every
``poll_seconds`` stays as the fallback (a lost LISTEN connection, a restart).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

from eventsourcing.persistence import Tracking, TrackingRecorder
from prometheus_client import Counter, Gauge

from schemas.events import topic_for
from services.common.application import JianduApplication
from services.common.commit_waker import CommitWaker, Signal
from services.common.kafka_publisher import DELIVERED, Delivery, Publisher
from services.common.unavailable import is_database_unavailable

log = logging.getLogger(__name__)

RELAY_TRACKING_NAME = "kafka-relay"

PUBLISHED = Counter("jiandu_relay_published_total", "Events published to Kafka", ["source"])
FAILURES = Counter("jiandu_relay_failures_total", "Failed publication attempts", ["source"])
LAG = Gauge("jiandu_relay_lag_events", "Log positions not yet acknowledged by Kafka", ["source"])


class Relay:
    # The acknowledged position is recorded at most this often (one short transaction, a
    # durable commit) while ``run`` runs: at a few commits a second, recording after every
    # acknowledgement was a transaction per commit of the log. A crash republishes at most
    # this much (consumers skip what they have seen). ``drain`` and ``publish_pending``
    # record as soon as their pipeline is empty.
    RECORD_EVERY_SECONDS = 0.1
    STOP_CHECK_SECONDS = 0.25  # an idle relay sees ``stop`` within this

    def __init__(
        self,
        app: JianduApplication,
        positions: TrackingRecorder,
        connect: Any,
        *,
        topic_prefix: str = "",
        batch_size: int = 500,
        poll_seconds: float = 0.2,
        max_backoff_seconds: float = 10.0,
        depth: int = 4,
        ack_timeout_seconds: float = 30.0,
        wake_on_commit: bool = True,
    ) -> None:
        """``connect()`` returns a :class:`Publisher`; it is called again after failures.

        ``depth``: how many batches may wait for the broker's acknowledgement at once.
        ``wake_on_commit``: on PostgreSQL, ``run`` LISTENs for commits of other processes."""
        self.app = app
        self.positions = positions
        self.topic = topic_for(app.source, topic_prefix)
        self._connect = connect
        self._publisher: Publisher | None = None
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.depth = max(1, depth)
        self.ack_timeout_seconds = ack_timeout_seconds
        self.wake_on_commit = wake_on_commit
        # The pipeline: batches handed to the publisher, oldest first: (last position, delivery,
        # messages); and the read cursor (None: start at the recorded position).
        self._in_flight: deque[tuple[int, Delivery, int]] = deque()
        self._cursor: int | None = None
        self._acked_to = 0  # every event up to here was acknowledged (this run)
        self._recorded = 0  # the position recorded (as far as this relay knows)
        self._recorded_at = float("-inf")
        self._wake = threading.Event()
        # A commit seen (a save here, a notification of one elsewhere) since the last read:
        # set with the wake event by commits only, not by acknowledgements.
        self._commit = threading.Event()
        self._found_nothing_at = float("-inf")  # when a read last found the log empty
        app.add_listener(self._committed)
        self.waker: CommitWaker | None = None  # while ``run`` runs on PostgreSQL
        # The last step found the log empty and asked the oldest delivery to wake it.
        self.awaiting_ack = False
        self._record_at_once = True  # ``run`` records at most every RECORD_EVERY_SECONDS

    def _committed(self) -> None:
        self._commit.set()
        self._wake.set()

    @classmethod
    def tracking_recorder_for(cls, app: JianduApplication) -> TrackingRecorder:
        # The factory creates the table where the environment lets it (SQLite, embedded);
        # on PostgreSQL `jiandu migrate` did (services/migrate.py).
        return app.factory.tracking_recorder()

    @property
    def position(self) -> int:
        """The recorded position: every event up to it was acknowledged by the broker."""
        return self.positions.max_tracking_id(RELAY_TRACKING_NAME) or 0

    # -- the pipeline ----------------------------------------------------------------

    def _fill(self) -> bool:
        """Read the batch after the cursor and hand it to the publisher (no waiting for the
        broker); False when the log holds nothing after the cursor."""
        if self._cursor is None:  # (re)start at the recorded position
            self._cursor = self._acked_to = self._recorded = self.position
        if self._nothing_new():
            return False
        start = self._cursor
        self._commit.clear()  # a commit after this point is read next time
        messages, last = self.app.read_messages(start, self.batch_size)
        if last == start:
            self._found_nothing_at = time.monotonic()
            return False
        self._found_nothing_at = float("-inf")
        if messages:
            if self._publisher is None:
                self._publisher = self._connect()
            delivery: Delivery = self._publisher.send(self.topic, messages)
        else:  # internal events only: the position moves once the batches before are acked
            delivery = DELIVERED
        self._in_flight.append((last, delivery, len(messages)))
        self._cursor = last
        return True

    def _nothing_new(self) -> bool:
        """Whether the log surely holds nothing after the cursor, without reading it: while
        ``run`` LISTENs, the last read found nothing, no commit was notified since, and the
        poll is not due (an acknowledgement alone wakes the relay without a new commit)."""
        waker = self.waker
        return (
            not self._record_at_once
            and waker is not None
            and waker.listening.is_set()
            and not self._commit.is_set()
            and time.monotonic() - self._found_nothing_at < self.poll_seconds
        )

    def _settle(self, block: bool) -> int:
        """Take the acknowledged batches off the front of the pipeline (with ``block``, wait
        for the oldest first) and record the position after them: at once when the pipeline
        is empty (outside ``run``), else at most every ``RECORD_EVERY_SECONDS``. Raises the
        first failure. Returns the events acknowledged."""
        count = 0
        while self._in_flight:
            last, delivery, n = self._in_flight[0]
            if not block and not delivery.done():
                break
            delivery.wait(self.ack_timeout_seconds)  # raises if the batch failed
            block = False
            self._in_flight.popleft()
            self._acked_to, count = last, count + n
        if count:
            PUBLISHED.labels(self.app.source).inc(count)
        if self._acked_to > self._recorded and (
            (self._record_at_once and not self._in_flight) or self._record_due() <= 0
        ):
            self._record()
        return count

    def _record_due(self) -> float:
        """Seconds until the acknowledged position may be recorded again (≤ 0: now)."""
        return self._recorded_at + self.RECORD_EVERY_SECONDS - time.monotonic()

    def _record(self) -> None:
        """Record the acknowledged position (every event up to it is on the broker)."""
        acked_to = self._acked_to
        self.positions.insert_tracking(Tracking(RELAY_TRACKING_NAME, acked_to))
        self._recorded, self._recorded_at = acked_to, time.monotonic()
        LAG.labels(self.app.source).set(max(0, (self._cursor or acked_to) - acked_to))

    def _step(self, *, wake_on_ack: bool = False) -> tuple[int, bool]:
        """Read and send a batch if the pipeline has room, record what was acknowledged.
        Returns (events acknowledged, whether the log and the pipeline are empty).

        With ``wake_on_ack`` (``run``), when the log holds nothing new the step does not
        block on the oldest acknowledgement: it asks the delivery to set the wake event when
        it is done and returns, so that a commit meanwhile is read at once (lag), not after
        the acknowledgement. Deliveries without ``notify_when_done`` are waited for."""
        self.awaiting_ack = False
        if len(self._in_flight) >= self.depth:  # full: wait for the oldest
            return self._settle(block=True), False
        if self._fill():
            return self._settle(block=False), False
        published = self._settle(block=False)
        if self._in_flight:  # nothing new in the log: the oldest batch is what is awaited
            notify = getattr(self._in_flight[0][1], "notify_when_done", None)
            if wake_on_ack and notify is not None:
                self.awaiting_ack = True
                notify(self._wake.set)
                return published, False
            published += self._settle(block=True)
        return published, not self._in_flight

    def _reset(self, *, after_failure: bool = False) -> None:
        """Forget what is in flight; the next read starts at the recorded position. After a
        failure of the broker, what was acknowledged before it is recorded first if the
        database lets us (else it is published again: consumers are idempotent)."""
        if after_failure and self._acked_to > self._recorded:
            try:
                self._record()
            except Exception:
                log.debug("recording the acknowledged position failed", exc_info=True)
        self._in_flight.clear()
        self._cursor = None
        self._acked_to = self._recorded = 0

    def publish_pending(self) -> int:
        """Publish one batch after the recorded position and wait for its acknowledgement
        (not pipelined); returns how many were published. Raises on failure."""
        try:
            self._reset()
            if self._fill():
                return self._settle(block=True)
            LAG.labels(self.app.source).set(0)
            return 0
        except Exception as error:
            self._reset(after_failure=not is_database_unavailable(error))
            raise

    def drain(self) -> int:
        """Publish until nothing is pending, pipelined (raises on the first failure, the
        position recorded up to the last event before which everything was acknowledged)."""
        total = 0
        self._reset()
        try:
            while True:
                published, idle = self._step()
                total += published
                if idle:
                    return total
        except Exception as error:
            self._reset(after_failure=not is_database_unavailable(error))
            raise

    def run(self, stop: threading.Event) -> None:
        """Publish until ``stop``; a broker or database that is away is waited for with a
        growing pause (up to ``max_backoff_seconds``), never a reason to exit (0018)."""
        waker = (
            CommitWaker.for_app(self.app, Signal(self._committed)) if self.wake_on_commit else None
        )
        self.waker = waker
        if waker is not None:
            waker.start()
        first_backoff = min(self.poll_seconds, self.max_backoff_seconds)
        backoff = first_backoff
        self._reset()
        self._record_at_once = False
        try:
            while not stop.is_set():
                self._wake.clear()  # before reading: a commit after this point wakes the wait
                try:
                    _, idle = self._step(wake_on_ack=True)
                    backoff = first_backoff
                except Exception as error:
                    FAILURES.labels(self.app.source).inc()
                    database = is_database_unavailable(error)
                    self._reset(after_failure=not database)
                    log.warning(
                        "relay %s: %s, retrying in %.1fs: %s",
                        self.app.source,
                        "the database is away" if database else "publication failed",
                        backoff,
                        error,
                    )
                    if not database:  # the producer may be what failed: a new one next time
                        self._discard_publisher()
                    stop.wait(backoff)
                    backoff = min(backoff * 2, self.max_backoff_seconds)
                    continue
                if idle:
                    LAG.labels(self.app.source).set(0)
                    self._idle(stop)
                elif self.awaiting_ack and not self._wake.is_set():
                    # An acknowledgement or a commit sets the wake event; the poll interval
                    # bounds the wait (a delivery fails by its timeout at the latest).
                    self._idle(stop)
        finally:
            self._record_at_once = True
            if waker is not None:
                waker.stop()
            self._reset(after_failure=True)  # what was acknowledged is recorded, if it can be
            self._discard_publisher()

    def _idle(self, stop: threading.Event) -> None:
        """Wait for a wake (a save here, a commit elsewhere), the poll interval, or ``stop``;
        no longer than until an acknowledged position not yet recorded is due to be."""
        wait = self.poll_seconds
        if self._acked_to > self._recorded:
            wait = min(wait, max(0.0, self._record_due()))
        deadline = time.monotonic() + wait
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._wake.wait(min(remaining, self.STOP_CHECK_SECONDS)):
                return

    def close(self) -> None:
        """Close the producer (after ``drain``; ``run`` closes it when stopped)."""
        self._discard_publisher()

    def _discard_publisher(self) -> None:
        if self._publisher is not None:
            try:
                self._publisher.close()
            except Exception:
                log.debug("closing the failed producer raised", exc_info=True)
            self._publisher = None


def sleep_until(predicate: Any, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
