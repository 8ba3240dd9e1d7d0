"""The relay and casework's consumer against a real Kafka-protocol broker (Tansu)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from schemas.events import EventEnvelope, topic_for
from services.bootstrap import build_casework, build_intake
from services.casework.consumer import IntakeEventsConsumer
from services.common.kafka_publisher import KafkaPublisher
from services.common.relay import RELAY_TRACKING_NAME, Relay
from tests.integration.helpers import hotline_report, pg_settings
from tests.support.tansu import FAST_CONSUMER_SETTINGS, create_topics

pytestmark = pytest.mark.integration


def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 20.0) -> list[Any]:
    """Every record of the topic (no consumer group), waiting until ``expected`` arrived."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, fetch_max_wait_ms=50, request_timeout_ms=10000
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def test_relay_publishes_every_event_keyed_by_aggregate_in_order(
    pg_dsn: str, tmp_path: Path, kafka_broker: Any, kafka_topic_prefix: str
) -> None:
    intake = build_intake(pg_settings(pg_dsn, tmp_path, auto_accept=True))  # 3 events a report
    topic = topic_for("intake", kafka_topic_prefix)
    create_topics(kafka_broker.bootstrap, [topic], partitions=3)
    for n in range(10):
        intake.submit(hotline_report(n))
    relay = Relay(
        intake,
        Relay.tracking_recorder_for(intake),
        lambda: KafkaPublisher(kafka_broker.bootstrap),
        topic_prefix=kafka_topic_prefix,
    )

    assert relay.drain() == 30
    assert relay.position == intake.max_position()

    records = read_topic(kafka_broker.bootstrap, topic, expected=30)
    published = [EventEnvelope.from_bytes(r.value) for r in records]
    in_log, _ = intake.read_envelopes(0, 1000)
    assert sorted(published, key=lambda e: e.position) == in_log
    for record, envelope in zip(records, published, strict=True):
        assert record.key == str(envelope.aggregate_id).encode()
    by_partition: dict[int, list[int]] = {}
    for record, envelope in zip(records, published, strict=True):
        by_partition.setdefault(record.partition, []).append(envelope.position)
    assert all(p == sorted(p) for p in by_partition.values()), "order broken within a partition"
    assert len(by_partition) > 1, "keys should spread over partitions"


def test_broker_outage_delays_publication_and_loses_nothing(
    pg_dsn: str, tmp_path: Path, kafka_broker: Any, kafka_topic_prefix: str
) -> None:
    intake = build_intake(pg_settings(pg_dsn, tmp_path, auto_accept=True))  # 3 events a report
    topic = topic_for("intake", kafka_topic_prefix)
    create_topics(kafka_broker.bootstrap, [topic], partitions=2)
    relay = Relay(
        intake,
        Relay.tracking_recorder_for(intake),
        lambda: KafkaPublisher(kafka_broker.bootstrap, timeout_seconds=2),
        topic_prefix=kafka_topic_prefix,
        poll_seconds=0.05,
        max_backoff_seconds=0.5,
    )
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        for n in range(3):
            intake.submit(hotline_report(n))
        wait_until(lambda: relay.position == intake.max_position(), 20, "first publication")
        seen = {
            EventEnvelope.from_bytes(r.value).event_id
            for r in read_topic(kafka_broker.bootstrap, topic, expected=9)
        }
        assert len(seen) == 9

        kafka_broker.stop()
        position_before_outage = relay.position
        started = time.monotonic()
        for n in range(3, 6):  # intake keeps accepting while the broker is down
            intake.submit(hotline_report(n))
        assert time.monotonic() - started < 5, "intake waited for the broker"
        time.sleep(3)  # the relay fails and retries meanwhile
        assert relay.position == position_before_outage, "position moved without an ack"

        kafka_broker.start()  # memory storage: the topic comes back empty
        create_topics(kafka_broker.bootstrap, [topic], partitions=2)
        wait_until(lambda: relay.position == intake.max_position(), 30, "publication after outage")
        after = {
            EventEnvelope.from_bytes(r.value).event_id
            for r in read_topic(kafka_broker.bootstrap, topic, expected=9)
        }
    finally:
        stop.set()
        thread.join(timeout=10)
    every_event = {e.event_id for e in intake.read_envelopes(0, 1000)[0]}
    assert seen | after == every_event
    assert len(every_event) == 18


def test_casework_consumes_each_intake_event_once_despite_redelivery(
    pg_dsn: str, tmp_path: Path, kafka_broker: Any, kafka_topic_prefix: str
) -> None:
    settings = pg_settings(pg_dsn, tmp_path, auto_accept=True)  # the option: accept at once
    intake, casework = build_intake(settings), build_casework(settings)
    topic = topic_for("intake", kafka_topic_prefix)
    create_topics(kafka_broker.bootstrap, [topic], partitions=3)
    receipts = [intake.submit(hotline_report(n)) for n in range(8)]
    positions = Relay.tracking_recorder_for(intake)
    relay = Relay(
        intake,
        positions,
        lambda: KafkaPublisher(kafka_broker.bootstrap),
        topic_prefix=kafka_topic_prefix,
    )
    relay.drain()
    # A relay that crashed before recording its position publishes everything again.
    with intake.recorder.datastore.transaction(commit=True) as curs:  # type: ignore[attr-defined]
        curs.execute(
            f"DELETE FROM intake.{intake.name}_tracking WHERE application_name = %s",
            (RELAY_TRACKING_NAME,),
        )
    assert positions.max_tracking_id(RELAY_TRACKING_NAME) is None
    relay.drain()
    relay.close()
    assert len(read_topic(kafka_broker.bootstrap, topic, expected=48)) == 48

    consumer = IntakeEventsConsumer(
        casework,
        kafka_broker.bootstrap,
        topic_prefix=kafka_topic_prefix,
        group_id=f"{kafka_topic_prefix}casework",
        consumer_settings=FAST_CONSUMER_SETTINGS,
    )
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: casework.max_position() >= 8, 40, "casework to open the cases")
        last = intake.max_position()
        wait_until(
            lambda: max(casework.position(f"intake#p{p}") for p in range(3)) == last,
            20,
            "casework to track the last intake event",
        )
        time.sleep(1.5)  # the duplicates come after the originals in each partition
    finally:
        stop.set()
        thread.join(timeout=10)
    opened = [e for e in casework.read_envelopes(0, 1000)[0] if e.event_type == "CaseOpened"]
    assert sorted(str(e.aggregate_id) for e in opened) == sorted(r.case_id or "" for r in receipts)


class _AckLog:
    """What the broker acknowledged, by log position, as the relay's deliveries report it."""

    def __init__(self) -> None:
        self.positions: set[int] = set()
        self.sends = 0


class _WatchedDelivery:
    def __init__(self, inner: Any, positions: list[int], acks: _AckLog) -> None:
        self.inner, self.batch, self.acks = inner, positions, acks

    def done(self) -> bool:
        return bool(self.inner.done())

    def wait(self, timeout: float) -> None:
        self.inner.wait(timeout)
        self.acks.positions.update(self.batch)


class _WatchedPublisher:
    """The real KafkaPublisher; cuts the route to the broker at the ``cut_at``-th send."""

    def __init__(self, inner: KafkaPublisher, acks: _AckLog, cut: Callable[[int], None]) -> None:
        self.inner, self.acks, self.cut = inner, acks, cut

    def send(self, topic: str, messages: Any) -> _WatchedDelivery:
        self.acks.sends += 1
        self.cut(self.acks.sends)
        delivery = self.inner.send(topic, messages)
        return _WatchedDelivery(delivery, [m.position for m in messages], self.acks)

    def close(self) -> None:
        self.inner.close()


class _CheckedPositions:
    def __init__(self, inner: Any, published: set[int], acks: _AckLog) -> None:
        self.inner, self.published, self.acks = inner, published, acks
        self.recorded: list[int] = []

    def insert_tracking(self, tracking: Any) -> None:
        position = tracking.notification_id
        unacked = {p for p in self.published if p <= position} - self.acks.positions
        assert not unacked, f"position {position} recorded past unacknowledged {sorted(unacked)}"
        self.recorded.append(position)
        self.inner.insert_tracking(tracking)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_broker_cut_off_mid_pipeline_loses_nothing_and_keeps_per_key_order(
    pg_dsn: str, tmp_path: Path, kafka_topic_prefix: str
) -> None:
    """The route to a (private) Tansu broker is cut while batches are in flight, for longer
    than the producer's delivery timeout; the position never passes an unacknowledged
    event, and afterwards the topic holds every event, each aggregate's first in order."""
    from tests.support.postgres import free_port
    from tests.support.tansu import TansuBroker
    from tests.support.tcp_proxy import TcpProxy

    proxy = TcpProxy(target_port=free_port())
    broker = TansuBroker(port=proxy.target[1], advertised_port=proxy.port)
    intake = build_intake(pg_settings(pg_dsn, tmp_path, auto_accept=True))
    topic = topic_for("intake", kafka_topic_prefix)
    for n in range(40):
        intake.submit(hotline_report(n))
    published = {e.position for e in intake.read_envelopes(0, 1000)[0]}
    acks = _AckLog()
    restored = threading.Event()

    def cut(send: int) -> None:
        if send == 4:
            proxy.pause()
            threading.Timer(4.0, lambda: (proxy.resume(), restored.set())).start()

    positions = _CheckedPositions(Relay.tracking_recorder_for(intake), published, acks)
    relay = Relay(
        intake,
        positions,  # type: ignore[arg-type]
        lambda: _WatchedPublisher(KafkaPublisher(proxy.address, timeout_seconds=2), acks, cut),
        topic_prefix=kafka_topic_prefix,
        batch_size=10,
        depth=4,
        poll_seconds=0.05,
        max_backoff_seconds=0.5,
    )
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    try:
        proxy.start()
        broker.start()
        create_topics(proxy.address, [topic], partitions=3)
        thread.start()
        wait_until(restored.is_set, 30, "the route back")
        wait_until(lambda: relay.position == intake.max_position(), 60, "publication after the cut")
        records = read_topic(proxy.address, topic, expected=len(published))
    finally:
        stop.set()
        if thread.is_alive():
            thread.join(timeout=10)
        broker.close()
        proxy.close()
    assert acks.sends > 4
    envelopes = [EventEnvelope.from_bytes(r.value) for r in records]
    assert {e.position for e in envelopes} == published  # nothing lost (repeats allowed)
    first: dict[str, list[tuple[int, int]]] = {}
    seen: set[int] = set()
    for record, envelope in zip(records, envelopes, strict=True):
        assert record.key == str(envelope.aggregate_id).encode()
        if envelope.position not in seen:
            seen.add(envelope.position)
            first.setdefault(str(envelope.aggregate_id), []).append(
                (envelope.aggregate_version, envelope.position)
            )
    assert all(v == sorted(v) for v in first.values()), "an aggregate's events out of order"
    assert positions.recorded == sorted(positions.recorded)


def test_a_pipelined_drain_publishes_each_event_once_in_order_per_partition(
    pg_dsn: str, tmp_path: Path, kafka_broker: Any, kafka_topic_prefix: str
) -> None:
    intake = build_intake(pg_settings(pg_dsn, tmp_path, auto_accept=True))
    topic = topic_for("intake", kafka_topic_prefix)
    create_topics(kafka_broker.bootstrap, [topic], partitions=3)
    for n in range(30):
        intake.submit(hotline_report(n))
    relay = Relay(
        intake,
        Relay.tracking_recorder_for(intake),
        lambda: KafkaPublisher(kafka_broker.bootstrap),
        topic_prefix=kafka_topic_prefix,
        batch_size=7,  # batches cut across reports and ledger events
        depth=5,
    )

    assert relay.drain() == 90
    relay.close()

    records = read_topic(kafka_broker.bootstrap, topic, expected=90)
    envelopes = [EventEnvelope.from_bytes(r.value) for r in records]
    assert sorted(e.position for e in envelopes) == [
        e.position for e in intake.read_envelopes(0, 1000)[0]
    ]  # each exactly once
    by_partition: dict[int, list[int]] = {}
    for record, envelope in zip(records, envelopes, strict=True):
        by_partition.setdefault(record.partition, []).append(envelope.position)
    assert all(p == sorted(p) for p in by_partition.values())
