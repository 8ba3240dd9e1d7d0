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
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from eventsourcing.persistence import Tracking, TrackingRecorder
from prometheus_client import Counter, Gauge

from schemas.events import topic_for
from services.common.application import JianduApplication, OutboxMessage
from services.common.unavailable import is_database_unavailable

log = logging.getLogger(__name__)

RELAY_TRACKING_NAME = "kafka-relay"

PUBLISHED = Counter("jiandu_relay_published_total", "Events published to Kafka", ["source"])
FAILURES = Counter("jiandu_relay_failures_total", "Failed publication attempts", ["source"])
LAG = Gauge("jiandu_relay_lag_events", "Log positions not yet acknowledged by Kafka", ["source"])
WAKEUPS = Counter(
    "jiandu_relay_commit_notifications_total",
    "Commit notifications (LISTEN) that woke the relay",
    ["source"],
)


class Delivery(Protocol):
    """The broker's acknowledgement of one batch, to come."""

    def done(self) -> bool:
        """Whether every message of the batch was acknowledged or one failed (no waiting)."""

    def wait(self, timeout: float) -> None:
        """Block until the broker acknowledged every message; raise on any failure or after
        ``timeout`` seconds."""


class Publisher(Protocol):
    def send(self, topic: str, messages: Sequence[OutboxMessage]) -> Delivery:
        """Hand the messages to the broker in order, without waiting for acknowledgements."""

    def close(self) -> None: ...


class Delivered:
    """A batch with nothing to send: acknowledged at once."""

    def done(self) -> bool:
        return True

    def wait(self, timeout: float) -> None:
        return None


DELIVERED = Delivered()


class KafkaDelivery:
    """kafka-python's futures of one batch."""

    __slots__ = ("_futures", "_next")

    def __init__(self, futures: list[Any]) -> None:
        self._futures = futures
        self._next = 0  # futures before this one are done (and were checked)

    def done(self) -> bool:
        futures, i = self._futures, self._next
        while i < len(futures) and futures[i].is_done:
            if futures[i].exception is not None:
                break
            i += 1
        self._next = i
        return i == len(futures) or futures[i].is_done

    def notify_when_done(self, callback: Any) -> None:
        """Call ``callback()`` (from the producer's I/O thread) once every message of the
        batch is acknowledged or one failed; at once if that is so already."""
        pending = [f for f in self._futures[self._next :] if not f.is_done]
        if not pending:
            callback()
            return
        remaining = [len(pending)]
        lock = threading.Lock()

        def one_done(_: object) -> None:
            with lock:
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                callback()

        for future in pending:
            future.add_both(one_done)

    def wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for future in self._futures[self._next :]:
            # raises the broker's error, if any, or KafkaTimeoutError
            future.get(timeout=max(0.0, deadline - time.monotonic()))
        self._next = len(self._futures)


KEY_CACHE_SIZE = 100_000  # keys whose partition hash is kept (about 10 MB at most)


def murmur2(key: bytes) -> int:
    from kafka.partitioner.default import murmur2 as kafka_murmur2

    return int(kafka_murmur2(key))


class KafkaPublisher:
    """kafka-python producer, idempotent: acks=all, up to 5 requests in flight per broker
    with sequence numbers (the broker rejects a reordered or repeated batch, so per-key
    order holds across retries); small linger (lag), large batches (throughput). 0024."""

    def __init__(self, bootstrap: str, *, timeout_seconds: float = 15.0) -> None:
        from kafka import KafkaProducer

        self._timeout = timeout_seconds
        timeout_ms = int(timeout_seconds * 1000)
        self._producer: Any = KafkaProducer(
            bootstrap_servers=bootstrap.split(","),
            acks="all",
            enable_idempotence=True,
            max_in_flight_requests_per_connection=5,
            # retries until the delivery timeout; then the relay starts again from its position
            delivery_timeout_ms=timeout_ms,
            request_timeout_ms=max(1000, timeout_ms - 1000),
            max_block_ms=timeout_ms,
            linger_ms=1,
            batch_size=256 * 1024,
            max_request_size=4 * 1024 * 1024,
            client_id="jiandu-relay",
        )
        self._hashes: dict[bytes, int] = {}

    @property
    def timeout_seconds(self) -> float:
        return self._timeout

    def send(self, topic: str, messages: Sequence[OutboxMessage]) -> KafkaDelivery:
        """Each message to the partition kafka-python's default partitioner picks for its key
        (murmur2 of the key modulo the topic's partitions), computed once per aggregate:
        kafka-python's pure-Python murmur2 is a fifth of ``send``; an aggregate's events come
        in runs."""
        send, hashes = self._producer.send, self._hashes
        count = len(self._producer.partitions_for(topic))  # metadata in hand after the first
        futures = []
        for m in messages:
            digest = hashes.get(m.key)
            if digest is None:
                if len(hashes) >= KEY_CACHE_SIZE:
                    hashes.clear()
                digest = hashes[m.key] = murmur2(m.key) & 0x7FFFFFFF
            futures.append(send(topic, key=m.key, value=m.value, partition=digest % count))
        return KafkaDelivery(futures)

    def publish(self, topic: str, messages: Sequence[OutboxMessage]) -> None:
        """Send and wait for every acknowledgement (not pipelined)."""
        self.send(topic, messages).wait(self._timeout)

    def warm(self, topic: str) -> None:
        """Fetch the topic's metadata now rather than on the first send."""
        self._producer.partitions_for(topic)

    def close(self) -> None:
        self._producer.close(timeout=self._timeout)


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
            CommitWaker.for_app(self.app, _Signal(self._committed)) if self.wake_on_commit else None
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


class _Signal:
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
        wake: threading.Event | _Signal,
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
    def for_app(cls, app: JianduApplication, wake: threading.Event | _Signal) -> CommitWaker | None:
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


def sleep_until(predicate: Any, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
