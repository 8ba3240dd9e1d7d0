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
from services.common.relay import RELAY_TRACKING_NAME, KafkaPublisher, Relay
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
    intake = build_intake(pg_settings(pg_dsn, tmp_path, auto_accept=True))  # 3 events each
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
    intake = build_intake(pg_settings(pg_dsn, tmp_path, auto_accept=True))  # 3 events each
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
