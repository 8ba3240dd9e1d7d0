"""Casework's Kafka input: intake's events, processed exactly once per partition position.

Each poll's records are processed per partition in ONE transaction
(``CaseworkApplication.handle_batch``): the events they cause and one tracking row
(``intake#p<partition>``, the last position processed). Offsets are committed after
processing, but correctness does not rest on them: the tracking row makes a redelivered
batch, or the overlapping part of one, a no-op event by event, so a crash between the
database commit and the offset commit loses nothing and duplicates nothing; and the
batch's guard (services/common/process_recorders.py) refuses a batch another consumer
got to first during a rebalance. docs/decisions/0025.
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

# A lone event is not held back (Tansu holds every fetch until its maximum wait, even
# with data; Apache Kafka answers as soon as ``fetch_min_bytes`` arrived); a backlog comes
# in polls of up to this many records, one transaction per partition. docs/decisions/0025.
FETCH_MAX_WAIT_MS = 10
MAX_POLL_RECORDS = 1000


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
        max_poll_records: int = MAX_POLL_RECORDS,
    ) -> None:
        self.casework = casework
        self.bootstrap = bootstrap
        self.topic = topic_for("intake", topic_prefix)
        self.group_id = group_id
        self.consumer_settings = consumer_settings or {}
        self.readiness = readiness or ConsumerReadiness("casework")
        self.max_poll_records = max_poll_records

    def _consumer(self) -> Any:
        from kafka import KafkaConsumer

        settings: dict[str, Any] = {
            # Group timings: docs/decisions/0020 (the casework command passes the settings).
            "session_timeout_ms": 6_000,
            "heartbeat_interval_ms": 500,
            "fetch_max_wait_ms": FETCH_MAX_WAIT_MS,
            "max_poll_records": self.max_poll_records,
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

    def decode(self, partition: int, values: list[bytes]) -> list[EventEnvelope]:
        """The records' envelopes, in order; a message that is not our contract is logged
        and left out (it cannot become valid by retrying), the rest of its batch goes on."""
        envelopes = []
        for value in values:
            try:
                envelopes.append(EventEnvelope.from_bytes(value))
            except (ValidationError, ValueError) as error:
                CONSUMED.labels("malformed").inc()
                log.error(
                    "skipping a malformed message on %s[%d]: %s", self.topic, partition, error
                )
        return envelopes

    def process(self, partition: int, envelopes: list[EventEnvelope]) -> None:
        """One partition's run of envelopes, in one transaction (or none, if all seen)."""
        if not envelopes:
            return
        done = self.casework.handle_batch(envelopes, upstream=tracking_name(partition))
        CONSUMED.labels("processed").inc(done)
        CONSUMED.labels("duplicate").inc(len(envelopes) - done)

    def process_until_done(
        self, partition: int, batch: bytes | list[EventEnvelope], stop: threading.Event
    ) -> bool:
        """``process``, the whole batch retried in place with a growing pause while the
        database is away (0018: never skipped); False if ``stop`` came first (the batch is
        then not processed, its offsets not committed). Exactly once still: the tracking
        row is written with the events, so a commit whose answer was lost is found on the
        next attempt and its events skipped. ``batch``: envelopes, or one raw message."""
        envelopes = self.decode(partition, [batch]) if isinstance(batch, bytes) else batch
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                self.process(partition, envelopes)
                return True
            except Exception as error:
                if not is_database_unavailable(error):
                    raise
                CONSUMED.labels("retried").inc()
                log.warning(
                    "casework consumer: the database is away, retrying %s[%d] (%d events) "
                    "in %.1fs: %s",
                    self.topic,
                    partition,
                    len(envelopes),
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
                batches = consumer.poll(timeout_ms=500, max_records=self.max_poll_records)
                for partition, records in batches.items():
                    envelopes = self.decode(partition.partition, [r.value for r in records])
                    if not self.process_until_done(partition.partition, envelopes, stop):
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
