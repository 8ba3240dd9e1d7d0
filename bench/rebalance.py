"""Rebalance pauses: how long a projections worker (or casework consumer) joining or leaving
its consumer group stops the stream, under a paced load.

Starts a throwaway PostgreSQL and a Tansu broker (or the servers named by
``JIANDU_TEST_POSTGRES_URL`` / ``JIANDU_TEST_KAFKA_BOOTSTRAP``), one ``jiandu
projections-worker`` (A), and a producer that publishes one report's five envelopes
(both topics) every ``--pace`` seconds, as tests/integration/test_faust_worker.py does.
Once A keeps up, in turn:

1. ``join``: a second worker (B) starts;
2. ``leave (SIGTERM)``: B is stopped;
3. ``join again``, then ``leave (SIGKILL)``: B is killed.

For each event it prints, over the following ``--window`` seconds:

* ``pause``: the longest time the projected row count stood still while events were
  waiting (produced, not yet projected) — the stop the rebalance causes;
* ``max lag``: the longest time from a batch's publication to its rows being projected;
* ``ready``: for a starting worker, when its ``/healthz`` said ready.

With ``--casework`` it measures the casework process's consumer instead: ``jiandu
casework`` A, then B joining, B stopped, B joining, B killed; only intake events are
published (ReportAccepted opens a case) and progress is the number of cases opened.

Run from the repository root: ``.venv/bin/python bench/rebalance.py [--casework]``.
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg

from schemas.events import SOURCES, topic_for
from tests.integration.test_faust_worker import (
    EventFactory,
    Producer,
    ServiceProcess,
    migrated,
    service_env,
)
from tests.support.postgres import ThrowawayPostgres, free_port
from tests.support.tansu import TansuBroker, create_topics

KAFKA_ENV = "JIANDU_TEST_KAFKA_BOOTSTRAP"


@contextmanager
def servers() -> Iterator[tuple[str, str]]:
    """A fresh database's DSN and a broker's bootstrap."""
    pg = ThrowawayPostgres()
    pg.start()
    broker: TansuBroker | None = None
    try:
        with pg.fresh_database() as dsn:
            external = os.environ.get(KAFKA_ENV)
            if external:
                yield dsn, external
                return
            broker = TansuBroker()
            broker.start()
            yield dsn, broker.bootstrap
    finally:
        if broker is not None:
            broker.close()
        pg.stop()


@dataclass
class Timeline:
    """What was produced when (cumulative units) and what was projected when."""

    sent: list[tuple[float, int]] = field(default_factory=list)
    seen: list[tuple[float, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def produced(self, at: float) -> int:
        with self.lock:
            return max((n for t, n in self.sent if t <= at), default=0)

    def figures(self, start: float, end: float) -> tuple[float, float]:
        """(longest stall while work was pending, longest publication → projection lag)."""
        with self.lock:
            seen = [(t, n) for t, n in self.seen if start <= t <= end]
            sent = [(t, n) for t, n in self.sent if start <= t <= end]
        stall, longest, last_change, last_n = 0.0, 0.0, None, None
        for t, n in seen:
            if n != last_n:
                last_change, last_n = t, n
                stall = 0.0
            elif last_change is not None and n < self.produced(t):
                stall = t - last_change
                longest = max(longest, stall)
        lag = 0.0
        for t_sent, cumulative in sent:
            done = next((t for t, n in self.seen if t >= t_sent and n >= cumulative), None)
            lag = max(lag, (done if done is not None else end) - t_sent)
        return longest, lag


def healthy(port: int) -> bool:
    """Is the process ready: /healthz 200, and (casework) its consumer ready?"""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            body = json.loads(answer.read())
            return bool(answer.status == 200 and body.get("consumer", body).get("ready"))
    except (urllib.error.URLError, OSError, TimeoutError, ValueError):
        return False


def wait_until(predicate: Callable[[], bool], timeout: float) -> float | None:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if predicate():
            return time.monotonic() - began
        time.sleep(0.05)
    return None


def main() -> None:  # noqa: PLR0915 - one straight script
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--casework", action="store_true", help="measure casework's consumer")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--pace", type=float, default=0.1, help="seconds between reports")
    parser.add_argument("--window", type=float, default=25.0, help="seconds observed per event")
    parser.add_argument(
        "--static",
        action="store_true",
        help="static membership: a group.instance.id per worker (projections worker only)",
    )
    parser.add_argument(
        "--env", action="append", default=[], help="extra JIANDU_X=Y for the processes"
    )
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.env)

    with servers() as (dsn, bootstrap), tempfile.TemporaryDirectory() as tmp:
        prefix = f"b{uuid.uuid4().hex[:8]}."
        create_topics(bootstrap, [topic_for(s, prefix) for s in SOURCES], args.partitions)
        env = service_env(
            database_url=dsn,
            kafka_bootstrap=bootstrap,
            kafka_topic_prefix=prefix,
            kafka_partitions=args.partitions,
            kafka_fetch_max_wait_ms=20,
            data_dir=tmp,
            secret_key=base64.b64encode(os.urandom(32)).decode(),
            log_level="INFO",
        )
        env.update(extra)
        migrated(env, Path(tmp))  # as deploy does: the processes create no table (0019)
        command = "casework" if args.casework else "projections-worker"
        ports = [free_port(), free_port()]

        def process(name: str, port: int) -> ServiceProcess:
            own = dict(env)
            if args.static:  # Faust reads it from the environment (faust-streaming 0.15)
                own["CONSUMER_GROUP_INSTANCE_ID"] = f"bench-{name}"
            return ServiceProcess(name, [command, "--port", str(port)], own, Path(tmp))

        a, b = process("A", ports[0]), process("B", ports[1])
        # Progress: rows projected, or (casework) events stored by casework.
        query = "SELECT count(*) FROM projections.timeline_steps"
        factory, producer = EventFactory(), Producer(bootstrap, prefix)
        timeline, stop = Timeline(), threading.Event()
        per_report = 1 if args.casework else 5

        def produce() -> None:
            n, total = 0, 0
            while not stop.is_set():
                intake, casework = factory.report(n)
                producer.send(intake if args.casework else intake + casework)
                n, total = n + 1, total + per_report
                with timeline.lock:
                    timeline.sent.append((time.monotonic(), total))
                time.sleep(args.pace)

        def query_for_casework(conn: psycopg.Connection[Any]) -> None:
            nonlocal query
            row = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                "'casework' AND table_name LIKE '%%events' ORDER BY table_name LIMIT 1"
            ).fetchone()
            if row:
                query = f"SELECT count(*) FROM casework.{row[0]} WHERE topic LIKE '%%Opened'"

        def sample() -> None:
            with psycopg.connect(dsn, autocommit=True) as conn:
                while not stop.is_set():
                    if args.casework and "casework." not in query:
                        query_for_casework(conn)
                    try:
                        row = conn.execute(query).fetchone()
                        count = int(row[0]) if row else 0
                    except psycopg.errors.UndefinedTable:
                        count = 0
                    with timeline.lock:
                        timeline.seen.append((time.monotonic(), count))
                    time.sleep(0.02)

        print(f"{command}: {args.partitions} partitions, one report every {args.pace}s; "
              f"extra settings: {extra or 'none'}"
              f"{'; static membership' if args.static else ''}")  # fmt: skip
        threads = [threading.Thread(target=f, daemon=True) for f in (produce, sample)]
        a.start()
        try:
            for thread in threads:
                thread.start()
            began = time.monotonic()
            caught_up = wait_until(
                lambda: (
                    bool(timeline.seen)
                    and timeline.seen[-1][1] >= timeline.produced(time.monotonic() - 1.0) > 0
                ),
                90,
            )
            if caught_up is None:
                raise SystemExit(f"A never caught up\n{a.log_tail()}")
            print(f"A projecting {time.monotonic() - began:.1f}s after start")
            time.sleep(5)

            def start_b() -> None:
                b.start()

            def observe(what: str, act: Callable[[], None], ready: bool = False) -> None:
                t0 = time.monotonic()
                act()
                became_ready = wait_until(lambda: healthy(ports[1]), args.window) if ready else None
                time.sleep(max(0.0, t0 + args.window - time.monotonic()))
                pause, lag = timeline.figures(t0, t0 + args.window)
                ready_text = f", B ready after {became_ready:.1f}s" if became_ready else ""
                if ready and not b.alive():
                    ready_text = " — B EXITED (see its log with BENCH_LOGS=1)"
                print(f"{what:<18} pause {pause:5.1f}s   max lag {lag:5.1f}s{ready_text}")

            observe("join", start_b, ready=True)
            observe("leave (SIGTERM)", b.stop)
            observe("join again", start_b, ready=True)
            observe("leave (SIGKILL)", b.kill)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=5)
            for p in (a, b):
                p.stop()
            producer.close()
            if os.environ.get("BENCH_LOGS"):
                for p in (a, b):
                    print(f"----- {p.name} -----\n{p.log_tail(80)}")


if __name__ == "__main__":
    main()
