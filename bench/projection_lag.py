"""The live projection (Faust worker): throughput against a no-op Faust agent, and lag.

Starts a throwaway PostgreSQL and a Tansu broker (or the servers named by
``JIANDU_TEST_POSTGRES_URL`` / ``JIANDU_TEST_KAFKA_BOOTSTRAP``), seeds the demo county in an
embedded system (``--count`` reports) and takes its published events (both logs) as the
stream: realistic envelopes, keyed by aggregate, each aggregate's events in order.

(a) Throughput. The events are published to fresh topics (``--partitions``), then, in
interleaved rounds, each of two Faust workers consumes them from the beginning in a
consumer group of its own, in its own process:

* the projection: ``services/projections/faust_app.create_app`` as ``jiandu
  projections-worker`` runs it (consumed without pause, a writer applying what has arrived
  in one transaction into a fresh read-model schema, positions recorded, acks after the
  commit);
* the baseline, a no-op agent: the same app, topics and settings, its agents doing
  ``async for event in stream.events(): pass`` (Faust's own acks), nothing decoded, nothing
  written.

Each measures events/s from its first event handled (the projection: its first batch
committed) to its last (the group join and the first fetch are left out alike). Goal: the
projection >= 0.8x the no-op.

(b) Lag. The projection worker runs; the events are published at a paced ``--rate``
(events/s) to fresh topics; a poller reads the worker's positions
(``projection_positions``, committed in the same transaction as the rows) every 2 ms. An
event's lag is from just before its ``send`` to the first poll that finds its partition's
position at or past it: p50 and p99 in ms (the poll interval is part of it). Goal: p99 < 100
ms (the whole budget of the issue's 201 → row figure; the projection's share of it).

Run from the repository root: ``.venv/bin/python bench/projection_lag.py [--count 400]
[--rounds 2] [--rate 500] [--lag-events 2000] [--partitions 3]``.
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import base64
import heapq
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kafka import KafkaProducer

from bench.figures import Figure, emit
from bench.servers import kafka_broker, postgres_database
from schemas.events import SOURCES, EventEnvelope, topic_for
from services.common.settings import Settings
from services.common.sql import Database
from services.projections.store import ReadStore
from tests.support.tansu import create_topics

KAFKA_ENV = "JIANDU_TEST_KAFKA_BOOTSTRAP"
SECRET_KEY = base64.b64encode(os.urandom(32)).decode()
CHILD_TIMEOUT_S = 180.0
POLL_SECONDS = 0.002
LOG_DIR = Path(tempfile.gettempdir()) / "jiandu-bench-lag-logs"


# -- servers ---------------------------------------------------------------------------


# -- the stream ------------------------------------------------------------------------


def demo_events(count: int) -> list[EventEnvelope]:
    """The demo county's published events, both logs merged by time (each log in order)."""
    from services.bootstrap import EmbeddedSystem
    from services.demo import seed
    from tests.unit.conftest import make_settings

    with tempfile.TemporaryDirectory(prefix="jiandu-bench-lag-") as folder:
        system = EmbeddedSystem.build(make_settings(Path(folder)))
        try:
            seed(system, count=count)
            logs = [
                system.intake.read_envelopes(0, 10**9)[0],
                system.casework.read_envelopes(0, 10**9)[0],
            ]
        finally:
            system.stop()
    return list(heapq.merge(*logs, key=lambda e: e.occurred_at))


def partition_of(envelope: EventEnvelope, partitions: int) -> int:
    return zlib.crc32(envelope.key()) % partitions


def publish(
    bootstrap: str, prefix: str, events: Sequence[EventEnvelope], partitions: int, rate: float = 0
) -> list[float]:
    """Send the events (paced at ``rate`` events/s when given); the time before each send.

    Unpaced, messages go out in large record batches, as a relay draining a backlog sends
    them; paced, with the relay's own ``linger_ms=5`` (Tansu hands out about one record
    batch per partition and fetch: a message a batch would cap the stream near 100 messages
    a partition and second, whatever the consumer)."""
    batching = {"linger_ms": 5} if rate else {"linger_ms": 50, "batch_size": 512 * 1024}
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", **batching)
    sent: list[float] = []
    try:
        payloads = [(e, e.to_bytes()) for e in events]
        began = time.monotonic()
        for i, (envelope, value) in enumerate(payloads):
            if rate:
                due = began + i / rate
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            sent.append(time.monotonic())
            producer.send(
                topic_for(envelope.source, prefix),
                key=envelope.key(),
                value=value,
                partition=partition_of(envelope, partitions),
            )
        producer.flush(timeout=60)
    finally:
        producer.close(timeout=10)
    return sent


# -- the workers (child processes) -----------------------------------------------------


def child(args: argparse.Namespace) -> None:
    """A Faust worker in this process: the projection or the no-op; reports and exits once
    ``args.expect`` events were handled (never, with 0: the lag run stops it)."""
    from services.projections import faust_app

    logging.basicConfig(level=logging.WARNING)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=args.dsn,
        data_dir=Path(args.data),
        secret_key=SECRET_KEY,
        kafka_bootstrap=args.bootstrap,
        kafka_topic_prefix=args.prefix,
        kafka_partitions=args.partitions,
        kafka_session_timeout_ms=2000,
        kafka_heartbeat_interval_ms=500,
        kafka_fetch_max_wait_ms=args.fetch_wait_ms,
    )
    store = ReadStore(Database(postgres_url=args.dsn, schema=args.schema))
    faust_app.app_id = lambda _settings: f"{args.prefix}bench-{args.child}-{args.schema}"  # type: ignore[assignment]
    handled = 0
    marks: dict[str, float] = {}
    projecting = faust_app.apply_batch

    def count(n: int) -> None:
        nonlocal handled
        handled += n
        marks["batches"] = marks.get("batches", 0) + 1
        now = time.monotonic()
        if "first" not in marks:
            marks["first"], marks["first_events"] = now, handled
        if args.expect and handled >= args.expect:
            result = {
                "events": handled - marks["first_events"],
                "seconds": now - marks["first"],
                "batches": marks["batches"],
            }
            # Faust sends sys.stdout to its log: a file of its own.
            Path(args.data, f"{args.schema}.result").write_text(json.dumps(result))
            os._exit(0)

    async def timed(writer: Any, batch: dict[int, list[Any]]) -> None:
        await projecting(writer, batch)
        count(sum(len(events) for events in batch.values()))

    async def noop(app: Any, stream: Any, writer: Any, processed: Any) -> None:
        async for _event in stream.events():
            count(1)

    if args.child == "project":
        faust_app.apply_batch = timed  # type: ignore[assignment]
    else:
        faust_app.consume_and_apply = noop  # type: ignore[assignment]
    app = faust_app.create_app(settings, store)
    faust_app.quiet_worker(app, "WARNING").execute_from_commandline()


def start_child(
    mode: str, *, dsn: str, schema: str, bootstrap: str, prefix: str, partitions: int,
    expect: int, data: Path, fetch_wait_ms: int,
) -> subprocess.Popen[str]:  # fmt: skip
    command = [
        sys.executable, __file__, "--child", mode, "--dsn", dsn, "--schema", schema,
        "--bootstrap", bootstrap, "--prefix", prefix, "--partitions", str(partitions),
        "--expect", str(expect), "--data", str(data), "--fetch-wait-ms", str(fetch_wait_ms),
    ]  # fmt: skip
    (data / f"{schema}.result").unlink(missing_ok=True)
    return subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=(LOG_DIR / f"{mode}-{schema}.log").open("w"),
        text=True,
        start_new_session=True,
        cwd=ROOT,
    )


def child_result(proc: subprocess.Popen[str], path: Path) -> dict[str, float]:
    try:
        proc.wait(timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    if not path.exists():
        raise RuntimeError(
            f"the {proc.args[3]} worker reported nothing (exit {proc.returncode}); see {LOG_DIR}"
        )
    result: dict[str, float] = json.loads(path.read_text())
    return result


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- (a) throughput ---------------------------------------------------------------------


def throughput(
    dsn: str, bootstrap: str, events: list[EventEnvelope], args: argparse.Namespace, data: Path
) -> list[Figure]:
    prefix = f"b{uuid.uuid4().hex[:8]}."
    create_topics(bootstrap, [topic_for(s, prefix) for s in SOURCES], args.partitions)
    publish(bootstrap, prefix, events, args.partitions)
    rates: dict[str, list[float]] = {"noop": [], "project": []}
    for round_ in range(args.rounds):
        for mode in ("noop", "project"):
            proc = start_child(
                mode, dsn=dsn, schema=f"tput_{mode}_{round_}", bootstrap=bootstrap,
                prefix=prefix, partitions=args.partitions, expect=len(events), data=data,
                fetch_wait_ms=args.fetch_wait_ms,
            )  # fmt: skip
            try:
                result = child_result(proc, data / f"tput_{mode}_{round_}.result")
            finally:
                stop(proc)
            rate = result["events"] / result["seconds"] if result["seconds"] else 0.0
            rates[mode].append(rate)
            batches = f" ({len(events) / result['batches']:.0f} events a batch)"
            print(
                f"  round {round_ + 1}, {mode:>7}: {rate:,.0f} events/s"
                + (batches if mode == "project" else ""),
                flush=True,
            )
    return [
        Figure(
            bench="lag",
            name="Faust projection throughput (one transaction a batch)",
            value=statistics.median(rates["project"]),
            unit="events/s",
            baseline=statistics.median(rates["noop"]),
            baseline_name="no-op Faust agent, same topics and settings, same run",
            goal="ratio>=0.8",
        )
    ]


# -- (b) lag ----------------------------------------------------------------------------


class Positions:
    """The worker's positions, read as a reader of the read model reads them."""

    def __init__(self, dsn: str, schema: str, partitions: int) -> None:
        self.db = Database(postgres_url=dsn, schema=schema, pool_size=1, ddl_allowed=False)
        self.partitions = partitions

    def now(self) -> dict[tuple[str, int], int]:
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT source, partition, position FROM projection_positions "
                "WHERE consumer = 'faust'"
            )
            return {(r["source"], r["partition"]): int(r["position"]) for r in cur.fetchall()}

    def wait_until_applied(self, batch: Sequence[EventEnvelope], timeout: float) -> None:
        last = {(e.source, partition_of(e, self.partitions)): e.position for e in batch}
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            try:
                seen = self.now()
            except Exception:  # the worker has not created its tables yet
                seen = {}
            if all(seen.get(k, 0) >= p for k, p in last.items()):
                return
            time.sleep(0.05)
        raise RuntimeError(f"the worker did not apply the events within {timeout:.0f}s")

    def watch(self, events: Sequence[EventEnvelope], seen_at: list[float | None]) -> None:
        """Poll every POLL_SECONDS until every event is applied: when each was first seen."""
        pending = [(e.source, partition_of(e, self.partitions), e.position) for e in events]
        first_open = 0
        deadline = time.monotonic() + 120
        while first_open < len(pending) and time.monotonic() < deadline:
            positions = self.now()
            now = time.monotonic()
            for i in range(first_open, len(pending)):
                source, partition, position = pending[i]
                if seen_at[i] is None and positions.get((source, partition), 0) >= position:
                    seen_at[i] = now
            while first_open < len(pending) and seen_at[first_open] is not None:
                first_open += 1
            time.sleep(POLL_SECONDS)


def lag(
    dsn: str, bootstrap: str, events: list[EventEnvelope], args: argparse.Namespace, data: Path
) -> list[Figure]:
    prefix = f"l{uuid.uuid4().hex[:8]}."
    create_topics(bootstrap, [topic_for(s, prefix) for s in SOURCES], args.partitions)
    warmup, paced = events[:50], events[50 : 50 + args.lag_events]
    proc = start_child(
        "project", dsn=dsn, schema="lag", bootstrap=bootstrap, prefix=prefix,
        partitions=args.partitions, expect=0, data=data, fetch_wait_ms=args.fetch_wait_ms,
    )  # fmt: skip
    positions = Positions(dsn, "lag", args.partitions)
    seen_at: list[float | None] = [None] * len(paced)
    try:
        publish(bootstrap, prefix, warmup, args.partitions)  # the group joined, warm
        positions.wait_until_applied(warmup, 120)
        poller = threading.Thread(target=positions.watch, args=(paced, seen_at), daemon=True)
        poller.start()
        sent = publish(bootstrap, prefix, paced, args.partitions, rate=args.rate)
        poller.join(timeout=150)
    finally:
        stop(proc)
        positions.db.close()
    lags = sorted(
        (seen - at) * 1000 for seen, at in zip(seen_at, sent, strict=True) if seen is not None
    )
    if len(lags) < len(paced):
        print(f"  {len(paced) - len(lags)} events not seen in the read model", flush=True)
    p50 = lags[len(lags) // 2]
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
    print(
        f"  lag at {args.rate:.0f} events/s over {len(lags)} events: p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms, max {lags[-1]:.1f} ms",
        flush=True,
    )
    label = f"at {args.rate:.0f} events/s, publication → read model"
    return [
        Figure("lag", f"projection lag p50 {label}", p50, "ms", higher_is_better=False),
        Figure(
            "lag", f"projection lag p99 {label}", p99, "ms", goal="<100", higher_is_better=False
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=400, help="demo reports (events: ~10x)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved throughput rounds")
    parser.add_argument("--rate", type=float, default=500.0, help="paced events/s for the lag")
    parser.add_argument("--lag-events", type=int, default=2000, help="events in the lag run")
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--fetch-wait-ms", type=int, default=Settings.model_fields[
        "kafka_fetch_max_wait_ms"].default)  # fmt: skip
    parser.add_argument("--skip", choices=("throughput", "lag"), help="leave one part out")
    # The child processes' own arguments.
    parser.add_argument("--child", choices=("noop", "project"), help=argparse.SUPPRESS)
    for name in ("--dsn", "--schema", "--bootstrap", "--prefix", "--data"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    began = time.monotonic()
    events = demo_events(args.count)
    print(f"demo stream: {len(events)} events ({time.monotonic() - began:.1f} s to seed)")
    figures: list[Figure] = []
    with (
        tempfile.TemporaryDirectory(prefix="jiandu-bench-lag-") as folder,
        postgres_database() as (dsn, _),
        kafka_broker() as (bootstrap, _, _),
    ):
        data = Path(folder)
        LOG_DIR.mkdir(exist_ok=True)
        print(
            f"Faust fetch wait {args.fetch_wait_ms} ms, {args.partitions} partitions; "
            f"the workers' logs in {LOG_DIR}"
        )
        if args.skip != "throughput":
            figures += throughput(dsn, bootstrap, events, args, data)
        if args.skip != "lag":
            figures += lag(dsn, bootstrap, events, args, data)
    emit(figures)


if __name__ == "__main__":
    main()
