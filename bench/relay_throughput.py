"""Relay throughput and lag: ``Relay.drain()`` and one relay hop, against a bare producer.

Fills a PostgreSQL intake log with ``--n`` reports (3 published events each, plus one
ledger event that is not published), then measures, in the same run:

* reading the log alone: ``recorder.select_notifications`` (SQL and rows) and
  ``app.read_messages`` (rows to the bytes the relay sends; ledger rows skipped);
* the baseline: a bare kafka-python ``KafkaProducer(acks='all')`` sending the same number
  of pre-serialized envelopes (the same keys and bytes) and flushing once;
* the relay's ``KafkaPublisher`` alone: every batch sent, then every acknowledgement;
* ``Relay.drain()``: pipelined read, publish, acknowledgements, position (0024);

to a ``--partitions`` Tansu topic, then checks that every topic holds exactly the
expected messages (and that the relay's topic holds every event id of the log).

Then the lag of one relay hop (``--lag-reports`` at ``--rate`` reports/s; 0 to skip): this
process commits each report's 3 events in one transaction, paced; a relay in **another
process** (this script with ``--serve-relay``, as ``jiandu relay`` runs) publishes them; a
consumer here notes when a report's 3rd event arrives. Lag = commit returned -> consumed,
p50/p99, for the relay woken by LISTEN/NOTIFY, for the relay with its poll only (before
0024), and for the baseline: a bare producer sending the same 3 messages a report at the
same pace (send -> consumed).

Figures go through ``bench/figures.py`` (``make bench``). Run from the repository root:
``.venv/bin/python bench/relay_throughput.py [--n 3000] [--repeat 3] [--lag-reports 900]``.
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
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

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresTrackingRecorder
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from bench.figures import Figure, emit
from bench.servers import kafka_broker, postgres_database
from schemas.events import EventEnvelope, topic_for
from services.bootstrap import build_intake
from services.common.application import OutboxMessage, is_published
from services.common.kafka_publisher import KafkaPublisher
from services.common.relay import Relay
from services.common.settings import Settings
from services.intake.application import IntakeApplication
from services.migrate import migrate
from tests.integration.helpers import hotline_report
from tests.support.tansu import create_topics

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


def timed_publisher(bootstrap: str, topic: str, messages: list[OutboxMessage], batch: int) -> float:
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


# -- lag: a commit in one process -> the message on the topic --------------------------


@dataclass
class LagRun:
    """One paced run: per report, from its commit (or send) to its last event on the topic."""

    name: str
    lags_ms: list[float]
    offered: float  # reports/s asked for
    achieved: float  # reports/s the writer reached
    missing: int  # reports whose events did not all arrive


def report_templates(intake: IntakeApplication, count: int) -> list[list[StoredEvent]]:
    """The published events of ``count`` reports of the log, as stored (ledger's left out)."""
    by_report: dict[uuid.UUID, list[StoredEvent]] = {}
    for n in intake.recorder.select_notifications(start=0, limit=10**6):
        if is_published(n.topic):
            by_report.setdefault(n.originator_id, []).append(
                StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
            )
        if len(by_report) > count:
            break
    return [events for events in by_report.values() if len(events) == 3][:count]


def copy_report(template: list[StoredEvent]) -> tuple[uuid.UUID, list[StoredEvent]]:
    """The template's events under a new aggregate id (a new report, as far as the relay goes)."""
    new_id = uuid.uuid4()
    return new_id, [StoredEvent(new_id, e.originator_version, e.topic, e.state) for e in template]


class Arrivals:
    """A consumer thread noting when each key's ``per_key``-th message arrived (monotonic)."""

    def __init__(self, bootstrap: str, topic: str, per_key: int) -> None:
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap.split(","),
            fetch_max_wait_ms=5,
            fetch_min_bytes=1,
            request_timeout_ms=10000,
            enable_auto_commit=False,
        )
        partitions = [TopicPartition(topic, p) for p in self.consumer.partitions_for_topic(topic)]
        self.consumer.assign(partitions)
        self.consumer.seek_to_beginning()  # a fresh topic: empty
        self.per_key = per_key
        self.counts: dict[bytes, int] = {}
        self.complete: dict[bytes, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            for records in self.consumer.poll(timeout_ms=50).values():
                now = time.monotonic()
                for r in records:
                    count = self.counts.get(r.key, 0) + 1
                    self.counts[r.key] = count
                    if count == self.per_key:
                        self.complete[r.key] = now

    def __enter__(self) -> Arrivals:
        self.consumer.poll(timeout_ms=100)  # joined and fetching before the clock starts
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.consumer.close()

    def wait_for(self, keys: list[bytes], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not all(k in self.complete for k in keys):
            time.sleep(0.02)


def paced(count: int, rate: float, action: Any) -> float:
    """Call ``action(i)`` ``count`` times at ``rate`` a second; returns the rate reached."""
    began = time.monotonic()
    for i in range(count):
        delay = began + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        action(i)
    return count / max(time.monotonic() - began, 1e-9)


def lag_of(
    name: str, sent: dict[bytes, float], arrivals: Arrivals, offered: float, achieved: float
) -> LagRun:
    lags = [(arrivals.complete[k] - t) * 1000 for k, t in sent.items() if k in arrivals.complete]
    return LagRun(name, lags, offered, achieved, len(sent) - len(lags))


def relay_lag(
    intake: IntakeApplication,
    relay_process: subprocess.Popen[str],
    bootstrap: str,
    topic: str,
    templates: list[list[StoredEvent]],
    count: int,
    rate: float,
    name: str,
) -> LagRun:
    """Reports committed by this process (3 events, one transaction each, paced), published
    by the relay in ``relay_process``; lag = commit returned -> its 3rd event consumed."""
    committed: dict[bytes, float] = {}

    def commit(i: int) -> None:
        report_id, events = copy_report(templates[i % len(templates)])
        intake.recorder.insert_events(events)
        committed[str(report_id).encode()] = time.monotonic()

    with Arrivals(bootstrap, topic, per_key=3) as arrivals:
        achieved = paced(count, rate, commit)
        arrivals.wait_for(list(committed), TIMEOUT_S)
    assert relay_process.poll() is None, "the relay process exited"
    return lag_of(name, committed, arrivals, rate, achieved)


def bare_lag(
    bootstrap: str, topic: str, messages: list[OutboxMessage], count: int, rate: float
) -> LagRun:
    """The baseline: the same 3 pre-serialized messages a report sent by a bare producer
    (acks=all, defaults) at the same pace; lag = send -> the 3rd message consumed."""
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all")
    producer.partitions_for(topic)
    sent: dict[bytes, float] = {}

    def send(i: int) -> None:
        key = str(uuid.uuid4()).encode()
        sent[key] = time.monotonic()
        for m in messages[3 * (i % (len(messages) // 3)) : 3 * (i % (len(messages) // 3)) + 3]:
            producer.send(topic, key=key, value=m.value)

    try:
        with Arrivals(bootstrap, topic, per_key=3) as arrivals:
            achieved = paced(count, rate, send)
            producer.flush(timeout=TIMEOUT_S)
            arrivals.wait_for(list(sent), TIMEOUT_S)
    finally:
        producer.close(timeout=TIMEOUT_S)
    return lag_of("bare producer", sent, arrivals, rate, achieved)


def start_relay_process(config: dict[str, Any]) -> subprocess.Popen[str]:
    """``jiandu relay`` as the distributed mode runs it, in its own process (this script
    with ``--serve-relay``); returns once it is publishing (and LISTENing, if asked)."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve-relay"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(json.dumps(config) + "\n")
    process.stdin.flush()
    line = process.stdout.readline()
    assert line.strip() == "ready", f"the relay process said {line!r}"
    return process


def stop_relay_process(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.close()  # the relay stops when its stdin closes
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve_relay() -> None:
    """The relay process of the lag figure: one JSON line of settings on stdin; "ready" on
    stdout once publishing; stops when stdin closes."""
    from eventsourcing.persistence import Tracking

    from services.common.relay import RELAY_TRACKING_NAME

    config = json.loads(sys.stdin.readline())
    settings = Settings(
        data_dir=Path(config["data_dir"]),
        database_url=config["dsn"],
        intake_database_url=None,
        secret_key=config["secret_key"],
        auto_accept=True,
    )
    intake = build_intake(settings)
    positions = Relay.tracking_recorder_for(intake)
    end = intake.max_position()
    if (positions.max_tracking_id(RELAY_TRACKING_NAME) or 0) < end:  # start at the log's end
        positions.insert_tracking(Tracking(RELAY_TRACKING_NAME, end))
    publisher = KafkaPublisher(config["bootstrap"], timeout_seconds=TIMEOUT_S)
    relay = Relay(
        intake,
        positions,
        lambda: KafkaPublisher(config["bootstrap"], timeout_seconds=TIMEOUT_S),
        topic_prefix=config["prefix"],
        batch_size=settings.relay_batch_size,
        poll_seconds=settings.relay_poll_seconds,
        wake_on_commit=config["listen"],
    )
    publisher.warm(relay.topic)
    relay._publisher = publisher  # warm: metadata fetched before the clock starts
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT_S
    while config["listen"] and time.monotonic() < deadline:
        if relay.waker is not None and relay.waker.listening.is_set():
            break
        time.sleep(0.01)
    print("ready", flush=True)
    sys.stdin.read()  # until the bench closes it
    stop.set()
    thread.join(timeout=TIMEOUT_S)
    intake.close()
    intake.vault._db.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:  # noqa: PLR0912, PLR0915 - one straight script
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
    parser.add_argument(
        "--lag-reports", type=int, default=900, help="reports per lag run (0: no lag figure)"
    )
    parser.add_argument("--rate", type=float, default=300.0, help="reports/s of the lag runs")
    parser.add_argument("--serve-relay", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_relay:
        serve_relay()
        return

    crc_ok, crc_text = crc32c_status()
    tmp = Path(tempfile.mkdtemp(prefix="jiandu-bench-relay-"))
    run_id = uuid.uuid4().hex[:8]
    prefixes = [f"bench-{run_id}-{r}." for r in range(args.repeat)]
    repeats = [
        Repeat(topics=[topic_for("intake", p), f"{p}bare-producer", f"{p}publisher-alone"])
        for p in prefixes
    ]
    lag_runs = ("relay, LISTEN", "relay, poll only", "bare producer")
    lag_topics = {
        name: f"bench-{run_id}-lag{i}.jiandu.intake.events" for i, name in enumerate(lag_runs)
    }
    every_topic = [t for rep in repeats for t in rep.topics] + list(lag_topics.values())
    secret_key = base64.b64encode(os.urandom(32)).decode()
    lags: dict[str, LagRun] = {}
    profile = cProfile.Profile() if args.profile else None
    expected = 3 * args.n
    started = time.perf_counter()
    try:
        with postgres_database() as (dsn, pg_text), kafka_broker() as (bootstrap, kafka_text, ext):
            settings = Settings(
                data_dir=tmp,
                database_url=dsn,
                intake_database_url=None,
                secret_key=secret_key,
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
                if args.lag_reports:
                    templates = report_templates(intake, min(args.n, 500))
                    for name in lag_runs:
                        topic = lag_topics[name]
                        if name == "bare producer":
                            lags[name] = bare_lag(
                                bootstrap, topic, envelopes, args.lag_reports, args.rate
                            )
                            continue
                        process = start_relay_process(
                            {
                                "dsn": dsn,
                                "bootstrap": bootstrap,
                                "prefix": topic.removesuffix("jiandu.intake.events"),
                                "data_dir": str(tmp),
                                "secret_key": secret_key,
                                "listen": name == "relay, LISTEN",
                            }
                        )
                        try:
                            lags[name] = relay_lag(
                                intake,
                                process,
                                bootstrap,
                                topic,
                                templates,
                                args.lag_reports,
                                args.rate,
                                name,
                            )
                        finally:
                            stop_relay_process(process)

                # Counted by reading every record back: this Tansu build answers ListOffsets
                # (end_offsets) with the base offset of a partition's last batch, not its end.
                wanted = {m.envelope().event_id.hex for m in envelopes}
                for topic in every_topic:
                    if topic in lag_topics.values():
                        continue
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
    line("read log alone: read_messages", expected, "read", "events/s", False)
    line("baseline: bare KafkaProducer(acks=all)", expected, "bare", "msgs/s", True)
    line("KafkaPublisher alone (pipelined)", expected, "publisher", "events/s", True)
    line("Relay.drain()", expected, "drain", "events/s", True)
    drain_s = median([rep.drain for rep in repeats])
    inside = {
        label: median([rep.inside.get(label, 0.0) for rep in repeats])
        for label in ("read", "publish", "positions")
    }
    other = max(0.0, drain_s - sum(inside.values()))
    print(
        f"inside Relay.drain() (medians): read_messages {inside['read']:.2f}s "
        f"({inside['read'] / drain_s:.0%}), KafkaPublisher.send {inside['publish']:.2f}s "
        f"({inside['publish'] / drain_s:.0%}), positions and tracking {inside['positions']:.2f}s "
        f"({inside['positions'] / drain_s:.0%}), other {other:.2f}s (waiting for acks, etc.)"
    )
    print(
        f"verified (read back): each of the {len(every_topic)} topics holds {expected} "
        f"messages, every event id of the log exactly once"
    )
    for run in lags.values():
        print(
            f"lag, {run.name:<17}: p50 {percentile(run.lags_ms, 0.5):7.1f} ms, p99 "
            f"{percentile(run.lags_ms, 0.99):7.1f} ms, max {max(run.lags_ms, default=0):7.1f} ms"
            f" over {len(run.lags_ms)} reports at {run.achieved:,.0f}/s "
            f"(offered {run.offered:,.0f}/s), {run.missing} missing"
        )
    print(f"total wall time {time.perf_counter() - started:.1f}s")
    if profile is not None:
        print("\ncProfile of Relay.drain() (top 30 by cumulative time):")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    emit(figures(repeats, expected, rows, lags, args.rate))


def figures(
    repeats: list[Repeat], expected: int, rows: int, lags: dict[str, LagRun], rate: float
) -> list[Figure]:
    """The figures of issue 12 (item 3 and the relay's share of item 5), medians of the
    repeats, each beside the bare kafka-python producer of the same run."""
    bare = expected / median([rep.bare for rep in repeats])
    base = {"baseline": bare, "baseline_name": "bare kafka-python producer, same run"}
    out = [
        Figure(
            "relay",
            "Relay.drain(): read, publish, acks, position",
            expected / median([rep.drain for rep in repeats]),
            "events/s",
            goal="ratio>=0.8",
            **base,
        ),
        Figure(
            "relay",
            "relay publisher alone (pipelined batches)",
            expected / median([rep.publisher for rep in repeats]),
            "events/s",
            **base,
        ),
        Figure(
            "relay",
            "relay read alone (read_messages: rows to bytes)",
            expected / median([rep.read for rep in repeats]),
            "events/s",
            **base,
        ),
    ]
    bare_run = lags.get("bare producer")
    for name, label, goal in (
        ("relay, LISTEN", "relay hop lag, commit in another process to topic", "<20"),
        ("relay, poll only", "the same, poll only (before 0024)", ""),
    ):
        run = lags.get(name)
        if run is None:
            continue
        for q in (0.5, 0.99):
            out.append(
                Figure(
                    "relay",
                    f"{label}, p{round(q * 100)} at {rate:,.0f} reports/s",
                    percentile(run.lags_ms, q),
                    "ms",
                    baseline=percentile(bare_run.lags_ms, q) if bare_run else None,
                    baseline_name="bare producer send to consumed, same pace",
                    goal=goal if q == 0.99 else "",
                    higher_is_better=False,
                )
            )
    return out


if __name__ == "__main__":
    main()
