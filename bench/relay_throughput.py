"""Relay throughput: events/s published by ``Relay.drain()``, against a bare Kafka producer.

Fills a PostgreSQL intake log with ``--n`` reports (3 published events each, plus one
ledger event that is not published), then measures, in the same run:

* reading the log alone: ``recorder.select_notifications`` (SQL and rows) and
  ``app.read_envelopes`` (rows decoded into public-contract envelopes);
* the baseline: a bare kafka-python ``KafkaProducer(acks='all')`` sending the same number
  of pre-serialized envelopes (the same keys and bytes) and flushing once;
* ``KafkaPublisher.publish`` alone, in the relay's batches (the relay's producer settings);
* ``Relay.drain()``: read, publish, wait for the acks, record the position, per batch;

to a ``--partitions`` Tansu topic, then checks that every topic holds exactly the
expected messages (and that the relay's topic holds every event id of the log).

Run from the repository root: ``.venv/bin/python bench/relay_throughput.py [--n 3000]``.
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg
from eventsourcing.postgres import PostgresTrackingRecorder
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from schemas.events import EventEnvelope, topic_for
from services.bootstrap import build_intake
from services.common.application import OutboxMessage
from services.common.relay import KafkaPublisher, Relay
from services.common.settings import Settings
from services.intake.application import IntakeApplication
from services.migrate import migrate
from tests.integration.helpers import hotline_report
from tests.support.postgres import ThrowawayPostgres
from tests.support.tansu import TansuBroker, create_topics

KAFKA_ENV = "JIANDU_TEST_KAFKA_BOOTSTRAP"
TIMEOUT_S = 30.0


def crc32c_status() -> tuple[bool, str]:
    """Whether kafka-python computes CRC32C with the ``crc32c`` package (else pure Python)."""
    from kafka.record import util

    try:
        import crc32c
    except ImportError:
        return False, "crc32c package NOT installed: kafka-python uses pure-Python CRC32C"
    bound = (util.calc_crc32c.__defaults__ or (None,))[0]
    if bound is not crc32c.crc32c:
        return False, "crc32c installed but NOT used by kafka.record.util.calc_crc32c"
    try:
        from importlib.metadata import version

        release = version("crc32c")
    except Exception:
        release = "?"
    hardware = getattr(crc32c, "hardware_based", None)
    return True, f"crc32c {release} in use by kafka-python (hardware-based: {hardware})"


@contextmanager
def postgres_dsn() -> Iterator[tuple[str, str]]:
    server = ThrowawayPostgres()
    server.start()
    try:
        with server.fresh_database() as dsn:
            with psycopg.connect(dsn) as conn:
                row = conn.execute(
                    "SELECT current_setting('server_version'), current_setting('fsync'), "
                    "current_setting('synchronous_commit')"
                ).fetchone()
            assert row is not None
            origin = "external" if server.external_url else "private"
            yield (
                dsn,
                f"PostgreSQL {row[0]} ({origin}), fsync={row[1]}, synchronous_commit={row[2]}",
            )
    finally:
        server.stop()


@contextmanager
def kafka_bootstrap() -> Iterator[tuple[str, str, bool]]:
    """Bootstrap servers, a description, and whether the broker is external."""
    external = os.environ.get(KAFKA_ENV)
    if external:
        yield external, f"Kafka at {external} (external, {KAFKA_ENV})", True
        return
    broker = TansuBroker()
    try:
        broker.start()
        yield broker.bootstrap, f"Tansu at {broker.bootstrap} (private, memory storage)", False
    finally:
        broker.close()


def populate(intake: IntakeApplication, n: int) -> float:
    """``n`` anonymous hotline reports (no vault row: the log is what matters here)."""
    began = time.perf_counter()
    for i in range(n):
        intake.submit(hotline_report(i, reporter={"anonymous": True}), idempotency_key=f"r{i}")
    return time.perf_counter() - began


def timed_select(intake: IntakeApplication, batch: int) -> tuple[float, int]:
    began, after, rows = time.perf_counter(), 0, 0
    while True:
        page = intake.recorder.select_notifications(
            start=after, limit=batch, inclusive_of_start=False
        )
        if not page:
            return time.perf_counter() - began, rows
        rows += len(page)
        after = page[-1].id


def timed_read(intake: IntakeApplication, batch: int) -> tuple[float, list[OutboxMessage]]:
    began, after, messages = time.perf_counter(), 0, []
    while True:
        page, last = intake.read_messages(after, batch)
        if last == after:
            return time.perf_counter() - began, messages
        messages.extend(page)
        after = last


def timed_bare_producer(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> float:
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all")
    try:
        producer.partitions_for(topic)  # metadata fetched before the clock starts
        began = time.perf_counter()
        futures = [producer.send(topic, key=k, value=v) for k, v in messages]
        producer.flush(timeout=TIMEOUT_S)
        for future in futures:
            future.get(timeout=TIMEOUT_S)
        return time.perf_counter() - began
    finally:
        producer.close(timeout=TIMEOUT_S)


def warm_publisher(bootstrap: str, topic: str) -> KafkaPublisher:
    publisher = KafkaPublisher(bootstrap, timeout_seconds=TIMEOUT_S)
    publisher.warm(topic)  # metadata fetched before the clock starts
    return publisher


def timed_publisher(
    bootstrap: str, topic: str, messages: list[OutboxMessage], batch: int
) -> float:
    """The relay's publisher alone: every batch sent, then every acknowledgement awaited."""
    publisher = warm_publisher(bootstrap, topic)
    try:
        began = time.perf_counter()
        deliveries = [
            publisher.send(topic, messages[start : start + batch])
            for start in range(0, len(messages), batch)
        ]
        for delivery in deliveries:
            delivery.wait(TIMEOUT_S)
        return time.perf_counter() - began
    finally:
        publisher.close()


def event_ids_on(bootstrap: str, topic: str, expected: int) -> list[str]:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap.split(","), fetch_max_wait_ms=50, request_timeout_ms=10000
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ids: list[str] = []
        deadline = time.monotonic() + TIMEOUT_S
        while len(ids) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                ids.extend(EventEnvelope.from_bytes(r.value).event_id.hex for r in records)
        return ids
    finally:
        consumer.close()


@contextmanager
def timing(parts: dict[str, float], calls: list[tuple[Any, str, str]]) -> Iterator[None]:
    """Add each wrapped method's time to ``parts[label]`` (instance attributes, removed after)."""

    def wrap(method: Any, label: str) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                parts[label] = parts.get(label, 0.0) + time.perf_counter() - began

        return timed

    for obj, name, label in calls:
        setattr(obj, name, wrap(getattr(obj, name), label))
    try:
        yield
    finally:
        for obj, name, _ in calls:
            delattr(obj, name)


def timed_drain(
    intake: IntakeApplication,
    bootstrap: str,
    prefix: str,
    tracking_table: str,
    batch: int,
    profile: cProfile.Profile | None,
) -> tuple[float, int, dict[str, float]]:
    """``Relay.drain()`` from position 0 (a fresh tracking table, a warm producer).

    Returns the time, the events published, and the time spent in each part inside the drain.
    """
    positions = PostgresTrackingRecorder(
        datastore=intake.factory.datastore, tracking_table_name=tracking_table
    )
    positions.create_table()
    publisher = warm_publisher(bootstrap, topic_for("intake", prefix))
    relay = Relay(intake, positions, lambda: publisher, topic_prefix=prefix, batch_size=batch)
    parts: dict[str, float] = {}
    inside = [
        (intake, "read_messages", "read"),
        (publisher, "send", "publish"),
        (intake, "max_position", "positions"),
        (positions, "max_tracking_id", "positions"),
        (positions, "insert_tracking", "positions"),
    ]
    try:
        with timing(parts, inside):
            began = time.perf_counter()
            published = profile.runcall(relay.drain) if profile else relay.drain()
            seconds = time.perf_counter() - began
    finally:
        relay._discard_publisher()
    assert relay.position == intake.max_position(), (relay.position, intake.max_position())
    return seconds, published, parts


@dataclass
class Repeat:
    select: float = 0.0
    read: float = 0.0
    bare: float = 0.0
    publisher: float = 0.0
    drain: float = 0.0
    inside: dict[str, float] = field(default_factory=dict)  # the drain's parts
    topics: list[str] = field(default_factory=list)


def measure_publication(
    rep: Repeat,
    turn: int,
    intake: IntakeApplication,
    bootstrap: str,
    envelopes: list[OutboxMessage],
    *,
    prefix: str,
    tracking_table: str,
    batch: int,
    profile: cProfile.Profile | None,
) -> int:
    """Baseline, publisher alone and drain, in an order rotated by ``turn``; events drained."""
    _, bare_topic, publisher_topic = rep.topics
    messages = [(m.key, m.value) for m in envelopes]  # pre-serialized for the baseline
    drained: list[int] = []

    def bare() -> None:
        rep.bare = timed_bare_producer(bootstrap, bare_topic, messages)

    def publisher() -> None:
        rep.publisher = timed_publisher(bootstrap, publisher_topic, envelopes, batch)

    def drain() -> None:
        rep.drain, published, rep.inside = timed_drain(
            intake, bootstrap, prefix, tracking_table, batch, profile
        )
        drained.append(published)

    parts = [bare, publisher, drain]
    for part in parts[turn % 3 :] + parts[: turn % 3]:
        part()
    return drained[0]


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:  # noqa: PLR0915 - one straight script
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="reports in the log (3 events each)")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument(
        "--batch-size", type=int, default=Settings.model_fields["relay_batch_size"].default
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="measure every figure this many times (medians)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile Relay.drain()")
    args = parser.parse_args()

    crc_ok, crc_text = crc32c_status()
    tmp = Path(tempfile.mkdtemp(prefix="jiandu-bench-relay-"))
    run_id = uuid.uuid4().hex[:8]
    prefixes = [f"bench-{run_id}-{r}." for r in range(args.repeat)]
    repeats = [
        Repeat(topics=[topic_for("intake", p), f"{p}bare-producer", f"{p}publisher-alone"])
        for p in prefixes
    ]
    every_topic = [t for rep in repeats for t in rep.topics]
    profile = cProfile.Profile() if args.profile else None
    expected = 3 * args.n
    started = time.perf_counter()
    try:
        with postgres_dsn() as (dsn, pg_text), kafka_bootstrap() as (bootstrap, kafka_text, ext):
            settings = Settings(
                data_dir=tmp,
                database_url=dsn,
                intake_database_url=None,
                secret_key=base64.b64encode(os.urandom(32)).decode(),
                auto_accept=True,
            )
            migrate(settings)
            intake = build_intake(settings)
            try:
                create_topics(bootstrap, every_topic, partitions=args.partitions)
                populated = populate(intake, args.n)
                timed_read(intake, args.batch_size)  # warm up (server cache, decoders); not shown
                for r, rep in enumerate(repeats):
                    rep.select, rows = timed_select(intake, args.batch_size)
                    rep.read, envelopes = timed_read(intake, args.batch_size)
                    assert len(envelopes) == expected, (len(envelopes), expected)
                    published = measure_publication(
                        rep,
                        r,
                        intake,
                        bootstrap,
                        envelopes,
                        prefix=prefixes[r],
                        tracking_table=f"bench_relay_{run_id}_{r}_tracking",
                        batch=args.batch_size,
                        profile=profile,
                    )
                    assert published == expected, (published, expected)
                sizes = [len(m.value) for m in envelopes]

                # Counted by reading every record back: this Tansu build answers ListOffsets
                # (end_offsets) with the base offset of a partition's last batch, not its end.
                wanted = {m.envelope().event_id.hex for m in envelopes}
                for topic in every_topic:
                    ids = event_ids_on(bootstrap, topic, expected)
                    assert len(ids) == expected, (topic, len(ids), expected)
                    assert set(ids) == wanted, topic
                if ext:
                    with contextlib.suppress(Exception):
                        admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","))
                        admin.delete_topics(every_topic)
                        admin.close()
            finally:
                intake.close()
                intake.vault._db.close()  # IntakeApplication.close() leaves the vault's pool open
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"relay throughput: {args.n} reports -> {expected} events ({rows} log rows with the "
        f"ledger's), {args.partitions} partitions, batch {args.batch_size}, "
        f"medians of {args.repeat} repeats, {os.cpu_count()} CPUs"
    )
    print(f"  {pg_text}")
    print(f"  {kafka_text}")
    print(f"  {'OK ' if crc_ok else 'WARNING '}{crc_text}")
    print(
        f"  envelope size: mean {sum(sizes) / len(sizes):,.0f} B, min {min(sizes):,} B, "
        f"max {max(sizes):,} B; log filled at {args.n / populated:,.0f} reports/s "
        f"(not a figure: see intake_throughput)"
    )

    def line(figure: str, count: int, attr: str, unit: str, ratio: bool) -> None:
        times = [getattr(rep, attr) for rep in repeats]
        rates = sorted(count / t for t in times)
        shown = (
            f"{median([rep.bare / getattr(rep, attr) for rep in repeats]):.2f}x" if ratio else ""
        )
        spread = f"{rates[0]:,.0f}-{rates[-1]:,.0f}"
        print(
            f"{figure:<40}{count / median(times):>10,.0f} {unit:<9}{median(times):>7.2f}s"
            f"{spread:>17}  {shown}"
        )

    print(f"{'figure':<40}{'rate (median)':>20}{'time':>8}{'range':>17}  vs baseline")
    print("-" * 100)
    line("read log alone: select_notifications", rows, "select", "rows/s", False)
    line("read log alone: read_envelopes", expected, "read", "events/s", False)
    line("baseline: bare KafkaProducer(acks=all)", expected, "bare", "msgs/s", True)
    line("KafkaPublisher.publish alone", expected, "publisher", "events/s", True)
    line("Relay.drain()", expected, "drain", "events/s", True)
    drain_s = median([rep.drain for rep in repeats])
    inside = {
        label: median([rep.inside.get(label, 0.0) for rep in repeats])
        for label in ("read", "publish", "positions")
    }
    other = max(0.0, drain_s - sum(inside.values()))
    print(
        f"inside Relay.drain() (medians): read_envelopes {inside['read']:.2f}s "
        f"({inside['read'] / drain_s:.0%}), KafkaPublisher.publish {inside['publish']:.2f}s "
        f"({inside['publish'] / drain_s:.0%}), positions and tracking {inside['positions']:.2f}s "
        f"({inside['positions'] / drain_s:.0%}), other {other:.2f}s; no overlap between them"
    )
    print(
        f"verified (read back): each of the {len(every_topic)} topics holds {expected} "
        f"messages, every event id of the log exactly once"
    )
    print(f"total wall time {time.perf_counter() - started:.1f}s")
    if profile is not None:
        print("\ncProfile of Relay.drain() (top 30 by cumulative time):")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
