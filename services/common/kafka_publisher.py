"""The relay's side of Kafka: a batch handed to the producer and its acknowledgements
(``Delivery``), the producer keyed by aggregate id with ``acks=all`` (``KafkaPublisher``),
and the stand-ins the tests and the embedded mode use (``DELIVERED``)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

from services.common.application import OutboxMessage

log = logging.getLogger(__name__)


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
