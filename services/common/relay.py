"""The relay: publishes an application's log to Kafka, recording its position only after acks.

It follows the notification log (the transactional outbox) from the last position the
broker acknowledged, publishes each published event's envelope keyed by aggregate id with
``acks=all``, waits for every acknowledgement, and only then records the new position.
A broker outage delays publication and never loses an event: the relay retries from the
recorded position (so a crash between ack and record republishes, and consumers, being
idempotent, ignore the duplicates). Intake never waits for the relay.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

from eventsourcing.persistence import Tracking, TrackingRecorder
from prometheus_client import Counter, Gauge

from schemas.events import EventEnvelope, topic_for
from services.common.application import JianduApplication
from services.common.unavailable import is_database_unavailable

log = logging.getLogger(__name__)

RELAY_TRACKING_NAME = "kafka-relay"

PUBLISHED = Counter("jiandu_relay_published_total", "Events published to Kafka", ["source"])
FAILURES = Counter("jiandu_relay_failures_total", "Failed publication attempts", ["source"])
LAG = Gauge("jiandu_relay_lag_events", "Log positions not yet acknowledged by Kafka", ["source"])


class Publisher(Protocol):
    def publish(self, topic: str, envelopes: Sequence[EventEnvelope]) -> None:
        """Send all, block until the broker acknowledged every one; raise on any failure."""

    def close(self) -> None: ...


class KafkaPublisher:
    """kafka-python producer: acks=all, one request in flight (keeps per-key order on retry)."""

    def __init__(self, bootstrap: str, *, timeout_seconds: float = 15.0) -> None:
        from kafka import KafkaProducer

        self._timeout = timeout_seconds
        self._producer: Any = KafkaProducer(
            bootstrap_servers=bootstrap.split(","),
            acks="all",
            retries=5,
            max_in_flight_requests_per_connection=1,
            linger_ms=5,
            request_timeout_ms=int(timeout_seconds * 1000),
            max_block_ms=int(timeout_seconds * 1000),
            client_id="jiandu-relay",
        )

    def publish(self, topic: str, envelopes: Sequence[EventEnvelope]) -> None:
        futures = [self._producer.send(topic, key=e.key(), value=e.to_bytes()) for e in envelopes]
        self._producer.flush(timeout=self._timeout)
        for future in futures:
            future.get(timeout=self._timeout)  # raises the broker's error, if any

    def close(self) -> None:
        self._producer.close(timeout=self._timeout)


class Relay:
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
    ) -> None:
        """``connect()`` returns a :class:`Publisher`; it is called again after failures."""
        self.app = app
        self.positions = positions
        self.topic = topic_for(app.source, topic_prefix)
        self._connect = connect
        self._publisher: Publisher | None = None
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self._wake = threading.Event()
        app.add_listener(self._wake.set)

    @classmethod
    def tracking_recorder_for(cls, app: JianduApplication) -> TrackingRecorder:
        # The factory creates the table where the environment lets it (SQLite, embedded);
        # on PostgreSQL `jiandu migrate` did (services/migrate.py).
        return app.factory.tracking_recorder()

    @property
    def position(self) -> int:
        return self.positions.max_tracking_id(RELAY_TRACKING_NAME) or 0

    def publish_pending(self) -> int:
        """Publish one batch after the recorded position; returns how many were published."""
        start = self.position
        envelopes, last = self.app.read_envelopes(start, self.batch_size)
        if last == start:
            LAG.labels(self.app.source).set(0)
            return 0
        if envelopes:
            if self._publisher is None:
                self._publisher = self._connect()
            self._publisher.publish(self.topic, envelopes)
        self.positions.insert_tracking(Tracking(RELAY_TRACKING_NAME, last))
        PUBLISHED.labels(self.app.source).inc(len(envelopes))
        LAG.labels(self.app.source).set(max(0, self.app.max_position() - last))
        return len(envelopes)

    def drain(self) -> int:
        """Publish until nothing is pending (raises on the first failure)."""
        total = 0
        while self.position < self.app.max_position():
            total += self.publish_pending()
        return total

    def run(self, stop: threading.Event) -> None:
        """Publish until ``stop``; a broker or database that is away is waited for with a
        growing pause (up to ``max_backoff_seconds``), never a reason to exit (0018)."""
        backoff = self.poll_seconds
        while not stop.is_set():
            self._wake.clear()  # before reading: a save after this point wakes the next wait
            try:
                published = self.publish_pending()
                idle = published == 0 and self.position >= self.app.max_position()
                backoff = self.poll_seconds
            except Exception as error:
                FAILURES.labels(self.app.source).inc()
                database = is_database_unavailable(error)
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
                self._wake.wait(self.poll_seconds)
        self._discard_publisher()

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
