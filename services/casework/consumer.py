"""Casework's Kafka input: intake's events, processed exactly once per partition position.

Offsets are committed after processing, but correctness does not rest on them: the
tracking record written with each processed event (``intake#p<partition>``) makes a
redelivery a no-op, so a crash between processing and committing loses nothing and
duplicates nothing.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from prometheus_client import Counter
from pydantic import ValidationError

from schemas.events import EventEnvelope, topic_for
from services.casework.application import CaseworkApplication
from services.common.readiness import ConsumerReadiness
from services.common.unavailable import is_database_unavailable

log = logging.getLogger(__name__)

CONSUMED = Counter(
    "jiandu_casework_consumed_total", "Intake events processed by casework", ["outcome"]
)


RETRY_FIRST_SECONDS = 0.2
RETRY_MAX_SECONDS = 5.0


def tracking_name(partition: int) -> str:
    return f"intake#p{partition}"


def _listener(readiness: ConsumerReadiness) -> Any:
    """kafka-python's rebalance callbacks (called inside ``poll``), told to ``readiness``."""
    from kafka import ConsumerRebalanceListener

    class Listener(ConsumerRebalanceListener):  # type: ignore[misc]
        def on_partitions_revoked(self, revoked: Any) -> None:
            readiness.rebalance_started()

        def on_partitions_assigned(self, assigned: Any) -> None:
            readiness.assigned((tp.topic, tp.partition) for tp in assigned)

    return Listener()


class IntakeEventsConsumer:
    def __init__(
        self,
        casework: CaseworkApplication,
        bootstrap: str,
        *,
        topic_prefix: str = "",
        group_id: str = "jiandu-casework",
        consumer_settings: dict[str, Any] | None = None,
        readiness: ConsumerReadiness | None = None,
    ) -> None:
        self.casework = casework
        self.bootstrap = bootstrap
        self.topic = topic_for("intake", topic_prefix)
        self.group_id = group_id
        self.consumer_settings = consumer_settings or {}
        self.readiness = readiness or ConsumerReadiness("casework")

    def _consumer(self) -> Any:
        from kafka import KafkaConsumer

        settings: dict[str, Any] = {
            # Group timings: docs/decisions/0020 (the casework command passes the settings).
            "session_timeout_ms": 6_000,
            "heartbeat_interval_ms": 500,
            "fetch_max_wait_ms": 100,
            "auto_offset_reset": "earliest",
            "client_id": "jiandu-casework",
        } | self.consumer_settings
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap.split(","),
            group_id=self.group_id,
            enable_auto_commit=False,
            **settings,
        )
        consumer.subscribe([self.topic], listener=_listener(self.readiness))
        return consumer

    def process(self, partition: int, value: bytes) -> None:
        try:
            envelope = EventEnvelope.from_bytes(value)
        except (ValidationError, ValueError) as error:
            # A message that is not our contract cannot become valid by retrying.
            CONSUMED.labels("malformed").inc()
            log.error("skipping a malformed message on %s[%d]: %s", self.topic, partition, error)
            return
        done = self.casework.handle(envelope, upstream=tracking_name(partition))
        CONSUMED.labels("processed" if done else "duplicate").inc()

    def process_until_done(self, partition: int, value: bytes, stop: threading.Event) -> bool:
        """``process``, retried with a growing pause while the database is away (0018);
        False if ``stop`` came first (the message is then not processed, its offset not
        committed). Exactly once still: the tracking row is written with the events, so a
        commit whose answer was lost is found by ``has_tracking_id`` on the next attempt."""
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                self.process(partition, value)
                return True
            except Exception as error:
                if not is_database_unavailable(error):
                    raise
                CONSUMED.labels("retried").inc()
                log.warning(
                    "casework consumer: the database is away, retrying %s[%d] in %.1fs: %s",
                    self.topic,
                    partition,
                    delay,
                    type(error).__name__,
                )
                if stop.wait(delay):
                    return False
                delay = min(delay * 2, RETRY_MAX_SECONDS)

    def run(self, stop: threading.Event) -> None:
        consumer = None
        while not stop.is_set():
            try:
                if consumer is None:
                    consumer = self._consumer()
                batches = consumer.poll(timeout_ms=500, max_records=200)
                for partition, records in batches.items():
                    for record in records:
                        if not self.process_until_done(partition.partition, record.value, stop):
                            self.readiness.stopped()
                            _close_quietly(consumer)  # stopped: this batch not committed
                            return
                if batches:
                    consumer.commit()
                    self._report_lag(consumer, batches)
            except Exception:
                log.exception("casework consumer failed; reconnecting")
                self.readiness.stopped()
                if consumer is not None:
                    _close_quietly(consumer)
                    consumer = None
                stop.wait(1.0)
        self.readiness.stopped()
        if consumer is not None:
            _close_quietly(consumer)

    def _report_lag(self, consumer: Any, batches: dict[Any, list[Any]]) -> None:
        """Highwater minus next offset of the partitions just read (as last fetched)."""
        lag = 0
        for tp, records in batches.items():
            highwater = consumer.highwater(tp)
            if highwater is not None and records:
                lag += max(0, highwater - records[-1].offset - 1)
        self.readiness.lag(lag)


def _close_quietly(consumer: Any) -> None:
    try:
        consumer.close(autocommit=False)
    except Exception:
        log.debug("closing the consumer raised", exc_info=True)
