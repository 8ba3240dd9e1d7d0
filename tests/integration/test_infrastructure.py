"""The test infrastructure itself: a real throwaway PostgreSQL and a real Tansu broker."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

import psycopg
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from tests.support.postgres import ThrowawayPostgres, free_port
from tests.support.tansu import FAST_CONSUMER_SETTINGS, TansuBroker, create_topics
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration


def _produce(bootstrap: str, topic: str, items: Iterable[tuple[bytes, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    try:
        futures = [producer.send(topic, key=key, value=value) for key, value in items]
        producer.flush(timeout=20)
        for future in futures:
            future.get(timeout=10)
    finally:
        producer.close(timeout=5)


def _drain(consumer: KafkaConsumer, expected: int, timeout_s: float) -> list[bytes]:
    values: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    while len(values) < expected and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=200).values():
            values.extend(record.value for record in records)
    return values


def test_postgres_database_roundtrip_and_isolation(
    pg_dsn: str, postgres_server: ThrowawayPostgres
) -> None:
    assert urlsplit(pg_dsn).path.startswith("/jt_")
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)")
        conn.execute("INSERT INTO notes VALUES (1, '简牍'), (2, 'bamboo slips')")
        conn.commit()
        rows = conn.execute("SELECT id, body FROM notes ORDER BY id").fetchall()
        assert rows == [(1, "简牍"), (2, "bamboo slips")]
        assert conn.execute("SHOW server_encoding").fetchone() == ("UTF8",)

    with postgres_server.fresh_database() as other_dsn, psycopg.connect(other_dsn) as other:
        assert other_dsn != pg_dsn
        name = other.execute("SELECT current_database()").fetchone()
        assert name is not None
        assert name[0] == urlsplit(other_dsn).path.lstrip("/")
        assert other.execute("SELECT to_regclass('notes')").fetchone() == (None,)

    with psycopg.connect(postgres_server.admin_dsn) as admin:
        gone = admin.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (name[0],)
        ).fetchone()
        assert gone == (0,)


def test_produce_and_consume_keyed_messages(kafka_broker, kafka_topic_prefix: str) -> None:
    topic = f"{kafka_topic_prefix}keyed"
    create_topics(kafka_broker.bootstrap, [topic], partitions=3)
    create_topics(kafka_broker.bootstrap, [topic], partitions=3)  # idempotent
    sent = {f"value-{i}".encode() for i in range(100)}
    keyed = [(f"key-{i % 7}".encode(), f"value-{i}".encode()) for i in range(100)]
    _produce(kafka_broker.bootstrap, topic, keyed)

    consumer = KafkaConsumer(
        bootstrap_servers=kafka_broker.bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50
    )
    try:
        partitions = [TopicPartition(topic, p) for p in range(3)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        values = _drain(consumer, expected=100, timeout_s=20)
    finally:
        consumer.close()

    assert len(values) == 100
    assert set(values) == sent


def test_consumer_group_receives_messages_quickly(kafka_broker, kafka_topic_prefix: str) -> None:
    topic = f"{kafka_topic_prefix}grouped"
    create_topics(kafka_broker.bootstrap, [topic], partitions=3)
    _produce(
        kafka_broker.bootstrap, topic, ((f"k{i}".encode(), f"v{i}".encode()) for i in range(10))
    )

    started = time.monotonic()
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_broker.bootstrap,
        group_id=f"{kafka_topic_prefix}group",
        **FAST_CONSUMER_SETTINGS,
    )
    try:
        consumer.subscribe([topic])
        values = _drain(consumer, expected=10, timeout_s=20)
        elapsed = time.monotonic() - started
        assert consumer.assignment() == {TopicPartition(topic, p) for p in range(3)}
    finally:
        consumer.close()

    assert sorted(values) == sorted(f"v{i}".encode() for i in range(10))
    assert elapsed < 15, f"group join + fetch took {elapsed:.1f}s"


def test_broker_restart_keeps_the_port(kafka_broker, kafka_topic_prefix: str) -> None:
    bootstrap = kafka_broker.bootstrap
    topic = f"{kafka_topic_prefix}restart"
    create_topics(bootstrap, [topic], partitions=1)

    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        max_block_ms=2000,
        request_timeout_ms=1000,
        delivery_timeout_ms=1500,
        retry_backoff_ms=100,
        reconnect_backoff_max_ms=200,
    )
    try:
        producer.send(topic, b"before").get(timeout=10)
        kafka_broker.stop()
        try:
            with pytest.raises(KafkaError):
                producer.send(topic, b"while-down").get(timeout=10)
        finally:
            kafka_broker.start()
    finally:
        producer.close(timeout=2)

    assert kafka_broker.bootstrap == bootstrap
    # Memory storage: the restarted broker starts empty, so topics must be re-created.
    create_topics(bootstrap, [topic], partitions=1)
    _produce(bootstrap, topic, [(b"k", b"after")])


def test_postgres_fast_restart_keeps_the_port_and_the_data() -> None:
    """A private server (the fault suite's): clients are cut, the data and the port stay."""
    server = ThrowawayPostgres(external_url="").start()
    try:
        dsn = server.dsn(server.create_database())
        port = server.port
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (n int)")
            conn.execute("INSERT INTO kept VALUES (7)")
            took = server.restart("fast")
            with pytest.raises(psycopg.OperationalError):
                conn.execute("SELECT 1")  # cut by the restart
        assert server.port == port
        assert took < 30
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT n FROM kept").fetchall() == [(7,)]
    finally:
        server.stop()


def test_a_broker_behind_a_proxy_is_cut_and_reached_again(kafka_topic_prefix: str) -> None:
    """Tansu advertises the proxy: every connection goes through it, and pausing it cuts the
    clients off while the broker keeps its topics."""
    proxy = TcpProxy(target_port=free_port()).start()
    broker = TansuBroker(port=proxy.target[1], advertised_port=proxy.port)
    try:
        broker.start()
        topic = f"{kafka_topic_prefix}proxied"
        create_topics(proxy.address, [topic], 1)
        producer = KafkaProducer(bootstrap_servers=proxy.address, acks="all", retries=10)
        producer.send(topic, b"before").get(timeout=15)
        assert proxy.accepted > 0
        proxy.pause()
        assert proxy.dropped > 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", proxy.port), timeout=2).close()
        proxy.resume()
        producer.send(topic, b"after").get(timeout=30)  # reconnects through the proxy
        producer.close(timeout=5)
        consumer = KafkaConsumer(bootstrap_servers=proxy.address, **FAST_CONSUMER_SETTINGS)
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        values: list[bytes] = []
        deadline = time.monotonic() + 15
        while len(values) < 2 and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                values += [r.value for r in records]
        consumer.close()
        assert values == [b"before", b"after"]
    finally:
        broker.close()
        proxy.close()
