"""Casework consumer throughput: cases opened/s draining a backlog of intake events.

Fills a Tansu topic (``--partitions``) with ``--n`` reports' intake envelopes, as intake's
relay publishes them with the auto-accept policy: ReportReceived, ReportRegistered,
ReportAccepted per report, keyed by the report; every ``--join-every``-th report is
accepted into the case of the report before it (并案: it joins, it opens no case). Then, in
``--repeat`` rounds, each on a fresh casework database (migrated as `jiandu migrate` does):

* the consumer under test: ``IntakeEventsConsumer.run`` in a thread, with the settings
  ``jiandu casework`` gives it, timed from the group's assignment until every partition's
  tracking row holds the partition's last position (every event processed);
* the baseline, measured in the same round: a bare kafka-python consumer reading the same
  topic (assigned partitions, no group), plus a bare eventsourcing save of one event per
  report (an aggregate with the accepted payload) in transactions of the size the consumer
  under test used in that round (cases opened / its transactions). Baseline time is the sum.

The order of the two alternates between rounds; figures are medians. Every round checks
that each accepted report's case was opened exactly once and each join joined.

Run from the repository root: ``.venv/bin/python bench/casework_consumer.py [--n 3000]``;
``--profile`` prints the consumer thread's cProfile (cumulative) for the first round.
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import base64
import cProfile
import io
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from bench.figures import Figure, emit
from bench.servers import kafka_broker, postgres_server
from schemas.events import EventEnvelope, topic_for
from services.bootstrap import build_casework
from services.casework.consumer import IntakeEventsConsumer, tracking_name
from services.common.eventstore import eventstore_env
from services.common.readiness import ConsumerReadiness
from services.common.settings import Settings
from services.migrate import migrate
from tests.integration.test_faust_worker import EventFactory
from tests.support.tansu import create_topics

KAFKA_ENV = "JIANDU_TEST_KAFKA_BOOTSTRAP"
TIMEOUT_S = 120.0


# -- the backlog ------------------------------------------------------------------------


@dataclass
class Backlog:
    envelopes: list[EventEnvelope]
    opened: set[str]  # case ids that must be opened (once each)
    joins: int  # reports accepted into an earlier report's case
    last: dict[int, int]  # partition -> last intake position on it


def make_envelopes(n: int, join_every: int) -> tuple[list[EventEnvelope], set[str], int]:
    factory = EventFactory()
    out: list[EventEnvelope] = []
    opened: set[str] = set()
    joins, previous_case = 0, None
    for i in range(n):
        received, registered, accepted = factory.report(i)[0][:3]
        if join_every and previous_case is not None and i % join_every == join_every - 1:
            payload = dict(accepted.payload) | {"case_id": previous_case}
            accepted = accepted.model_copy(update={"payload": payload})
            joins += 1
        else:
            previous_case = str(accepted.payload["case_id"])
            opened.add(previous_case)
        out += [received, registered, accepted]
    return out, opened, joins


def publish(bootstrap: str, topic: str, envelopes: list[EventEnvelope]) -> dict[int, int]:
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all", linger_ms=5)
    try:
        futures = [
            (e.position, producer.send(topic, key=e.key(), value=e.to_bytes())) for e in envelopes
        ]
        producer.flush(timeout=TIMEOUT_S)
        last: dict[int, int] = {}
        for position, future in futures:
            partition = future.get(timeout=TIMEOUT_S).partition
            last[partition] = max(last.get(partition, 0), position)
        return last
    finally:
        producer.close(timeout=10)


# -- the consumer under test ------------------------------------------------------------


class TimedReadiness(ConsumerReadiness):
    """Notes when the group's first assignment arrived (the clock starts there)."""

    assigned_at: float | None = None

    def assigned(self, partitions: Iterable[tuple[str, int]]) -> None:
        if self.assigned_at is None:
            self.assigned_at = time.perf_counter()
        super().assigned(partitions)


class PerEventConsumer(IntakeEventsConsumer):
    """The path before decision 0025, for comparison: one transaction per event (its
    position read, its case loaded, its tracking row written), 100 ms fetch wait."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["consumer_settings"] = kwargs["consumer_settings"] | {"fetch_max_wait_ms": 100}
        kwargs["max_poll_records"] = 200
        super().__init__(*args, **kwargs)

    def process(self, partition: int, envelopes: list[EventEnvelope]) -> None:
        for envelope in envelopes:
            self.casework.handle(envelope, upstream=tracking_name(partition))


def tracked(dsn: str, partitions: Iterable[int]) -> dict[int, int]:
    names = {tracking_name(p): p for p in partitions}
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT application_name, notification_id FROM casework.casework_tracking "
            "WHERE application_name = ANY(%s)",
            (list(names),),
        ).fetchall()
    return {names[name]: position for name, position in rows}


def opened_and_joined(dsn: str) -> tuple[list[str], int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        opened = [
            str(r[0])
            for r in conn.execute(
                "SELECT originator_id FROM casework.casework_events WHERE topic LIKE '%%Opened'"
            )
        ]
        row = conn.execute(
            "SELECT count(*) FROM casework.casework_events WHERE topic LIKE '%%ReportJoined'"
        ).fetchone()
    assert row is not None
    return opened, int(row[0])


@dataclass
class Run:
    seconds: float
    transactions: int


def timed_consumer(
    settings: Settings,
    dsn: str,
    bootstrap: str,
    prefix: str,
    backlog: Backlog,
    profile: cProfile.Profile | None,
    *,
    per_event: bool = False,
) -> Run:
    casework = build_casework(settings)
    transactions = [0]
    record = casework._record

    def counted(processing: Any) -> Any:
        transactions[0] += 1
        return record(processing)

    casework._record = counted  # type: ignore[method-assign]
    readiness = TimedReadiness(f"bench-{uuid.uuid4().hex[:6]}")
    defaults = Settings.model_fields
    consumer = (PerEventConsumer if per_event else IntakeEventsConsumer)(
        casework,
        bootstrap,
        topic_prefix=prefix,
        group_id=f"{prefix}jiandu-casework-{uuid.uuid4().hex[:6]}",
        # As `jiandu casework` sets them (services/cli/processes.py).
        consumer_settings={
            "fetch_max_wait_ms": defaults["kafka_fetch_max_wait_ms"].default,
            "session_timeout_ms": defaults["kafka_session_timeout_ms"].default,
            "heartbeat_interval_ms": defaults["kafka_heartbeat_interval_ms"].default,
        },
        readiness=readiness,
        max_poll_records=defaults["casework_max_poll_records"].default,
    )
    stop = threading.Event()

    def run() -> None:
        if profile is not None:
            profile.runcall(consumer.run, stop)
        else:
            consumer.run(stop)

    thread = threading.Thread(target=run, name="bench-casework-consumer", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            if tracked(dsn, backlog.last) == backlog.last:
                done = time.perf_counter()
                break
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"the consumer did not drain: {tracked(dsn, backlog.last)}")
            time.sleep(0.01)
        assert readiness.assigned_at is not None
        return Run(done - readiness.assigned_at, transactions[0])
    finally:
        stop.set()
        thread.join(timeout=30)
        casework.close()


# -- the baseline -----------------------------------------------------------------------


def timed_bare_read(bootstrap: str, topic: str, expected: int) -> float:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap.split(","),
        fetch_max_wait_ms=10,
        max_poll_records=2000,
        enable_auto_commit=False,
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        began, read = time.perf_counter(), 0
        deadline = time.monotonic() + TIMEOUT_S
        while read < expected:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the bare consumer read {read} of {expected}")
            for records in consumer.poll(timeout_ms=200).values():
                read += len(records)
        return time.perf_counter() - began
    finally:
        consumer.close()


class Accepted(Aggregate):
    """One event per report, carrying what casework's CaseOpened carries."""

    @event("Opened")
    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload


class BareStore(Application[uuid.UUID]):
    name = "bare"


def timed_bare_save(store: BareStore, payloads: list[dict[str, Any]], batch: int) -> float:
    began = time.perf_counter()
    for start in range(0, len(payloads), batch):
        store.save(*(Accepted(payload=p) for p in payloads[start : start + batch]))
    return time.perf_counter() - began


def bare_store(settings: Settings, dsn: str) -> BareStore:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS bare")
    env = eventstore_env(settings, "casework") | {"POSTGRES_SCHEMA": "bare", "CREATE_TABLE": "y"}
    env.pop("IS_SNAPSHOTTING_ENABLED", None)
    return BareStore(env)


# -- the run ----------------------------------------------------------------------------


def main() -> None:  # noqa: PLR0915 - one straight script
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="reports in the backlog")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--join-every", type=int, default=10, help="every k-th report joins")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (medians)")
    parser.add_argument("--profile", action="store_true", help="cProfile the consumer")
    parser.add_argument(
        "--per-event",
        action="store_true",
        help="also time the old path (a transaction per event) in each round (slow)",
    )
    args = parser.parse_args()

    envelopes, opened, joins = make_envelopes(args.n, args.join_every)
    payloads = [e.payload for e in envelopes if e.event_type == "ReportAccepted"]  # one per report
    tmp = Path(tempfile.mkdtemp(prefix="jiandu-bench-casework-"))
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    topic = topic_for("intake", prefix)
    profile = cProfile.Profile() if args.profile else None
    key = base64.b64encode(os.urandom(32)).decode()
    consumer_runs: list[Run] = []
    baseline_reads: list[float] = []
    baseline_saves: list[float] = []
    per_event_runs: list[Run] = []
    try:
        with postgres_server() as server, kafka_broker() as (bootstrap, kafka_text, _):
            create_topics(bootstrap, [topic], partitions=args.partitions)
            last = publish(bootstrap, topic, envelopes)
            backlog = Backlog(envelopes, opened, joins, last)
            for r in range(args.repeat):
                name = server.create_database()
                dsn = server.dsn(name)
                settings = Settings(data_dir=tmp, database_url=dsn, secret_key=key)
                migrate(settings)
                store = bare_store(settings, dsn)
                try:

                    def under_test(
                        r: int = r, dsn: str = dsn, settings: Settings = settings
                    ) -> None:
                        run = timed_consumer(
                            settings,
                            dsn,
                            bootstrap,
                            prefix,
                            backlog,
                            profile if r == 0 else None,
                        )
                        consumer_runs.append(run)
                        cases, joined = opened_and_joined(dsn)
                        assert len(cases) == len(set(cases)), "a case opened twice"
                        assert set(cases) == backlog.opened, "a case missing or unexpected"
                        assert joined == backlog.joins, (joined, backlog.joins)

                    def baseline(store: BareStore = store) -> None:
                        baseline_reads.append(timed_bare_read(bootstrap, topic, len(envelopes)))
                        batch = max(1, round(len(opened) / max(1, consumer_runs[-1].transactions)))
                        baseline_saves.append(timed_bare_save(store, payloads, batch))

                    def per_event(r: int = r) -> None:
                        second = server.create_database()
                        try:
                            other = Settings(
                                data_dir=tmp, database_url=server.dsn(second), secret_key=key
                            )
                            migrate(other)
                            per_event_runs.append(
                                timed_consumer(
                                    other,
                                    server.dsn(second),
                                    bootstrap,
                                    prefix,
                                    backlog,
                                    None,
                                    per_event=True,
                                )
                            )
                        finally:
                            server.drop_database(second)

                    # The baseline's batch size comes from the consumer's transactions: in
                    # the first round the consumer goes first, then the order alternates.
                    parts = [under_test, baseline] if r % 2 == 0 else [baseline, under_test]
                    if args.per_event:
                        parts.insert(r % 3, per_event)
                    for part in parts:
                        part()
                finally:
                    store.close()
                    server.drop_database(name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    seconds = statistics.median(run.seconds for run in consumer_runs)
    transactions = statistics.median(run.transactions for run in consumer_runs)
    read = statistics.median(baseline_reads)
    save = statistics.median(baseline_saves)
    cases = len(opened)
    print(
        f"casework consumer: {args.n} reports ({len(envelopes)} intake events, {joins} joins "
        f"-> {cases} cases), {args.partitions} partitions, medians of {args.repeat} rounds, "
        f"{os.cpu_count()} CPUs; {kafka_text}"
    )
    print(
        f"  consumer: {seconds:.2f} s from assignment to drained, {transactions:.0f} "
        f"transactions ({cases / max(1, transactions):.1f} cases each)"
    )
    print(
        f"  baseline: bare kafka-python read {read:.2f} s + bare eventsourcing save "
        f"{save:.2f} s = {read + save:.2f} s"
    )
    if per_event_runs:
        old = statistics.median(run.seconds for run in per_event_runs)
        print(
            f"  before 0025 (a transaction per event, 100 ms fetch wait): {old:.2f} s, "
            f"{cases / old:,.0f} cases/s; the batch path is {old / seconds:.1f}x faster"
        )
    if profile is not None:
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
        stats.print_stats(45)
        stats.print_stats("config.py|accounts")  # per-event reads of configuration? (none)
        print(out.getvalue())
    baseline_name = "bare kafka-python read + eventsourcing save, 1 event/report, same batches"
    emit(
        [
            Figure(
                "casework",
                "cases opened/s, draining a backlog",
                cases / seconds,
                "cases/s",
                baseline=cases / (read + save),
                baseline_name=baseline_name,
                goal=">=300",
            ),
            Figure(
                "casework",
                "intake events consumed/s, draining a backlog",
                len(envelopes) / seconds,
                "events/s",
                baseline=len(envelopes) / (read + save),
                baseline_name=baseline_name,
            ),
        ]
    )


if __name__ == "__main__":
    main()
