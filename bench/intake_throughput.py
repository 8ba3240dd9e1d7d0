"""Intake throughput: reports/s through ``IntakeApplication.submit``, against a bare save.

Figures (printed, never asserted):

* PostgreSQL, one thread and ``--threads`` threads; SQLite (the embedded mode).
* Baseline, measured in the same run on the same database and with the same eventsourcing
  environment: an eventsourcing application saving one trivial aggregate (one event) per
  call. The ratio shows what the ledger, the vault, the validation and the extra events of
  a submission cost on top of a bare save.
* p50/p99 latency per submit, overall and per kind: anonymous, real-name (identity sealed
  in the vault), mailbox (vault + argon2 hash of the follow-up password).

Half of the submissions name their reporter; ``--mailbox-share`` of them come through the
mailbox. By default the private PostgreSQL server is switched to durable commits
(``fsync``, ``synchronous_commit``) as in production; ``--fast-pg`` keeps the test
settings (no disk sync). An external server (``JIANDU_TEST_POSTGRES_URL``) is used as is.

Run from the repository root: ``.venv/bin/python bench/intake_throughput.py [--n 600]``.
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import base64
import cProfile
import math
import os
import pstats
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from schemas.submissions import ReportSubmission
from services.bootstrap import EmbeddedSystem, build_intake
from services.common.eventstore import eventstore_env
from services.common.settings import Settings
from services.common.sql import ensure_schema
from services.intake.application import IntakeApplication, SubmissionContention
from services.migrate import migrate
from tests.integration.helpers import hotline_report
from tests.support.postgres import ThrowawayPostgres

BASELINE_SCHEMA = "bench_baseline"
SECRET_KEY = base64.b64encode(os.urandom(32)).decode()
WARMUP = 5


# -- the baseline: a bare eventsourcing save ---------------------------------------------------


class Tick(Aggregate):
    """The trivial aggregate of the baseline: one small event per save."""

    def __init__(self, n: int) -> None:
        self.n = n


class BareApplication(Application[UUID]):
    name = "bench_baseline"


def baseline_env(settings: Settings) -> dict[str, str]:
    """Intake's eventsourcing environment, with its own schema (PostgreSQL) or file (SQLite)."""
    env = eventstore_env(settings, "intake")
    url = settings.database_for("intake")
    if url is None:
        env["SQLITE_DBNAME"] = str(settings.data_dir / f"{BASELINE_SCHEMA}.sqlite")
    else:
        ensure_schema(url, BASELINE_SCHEMA)
        env["POSTGRES_SCHEMA"] = BASELINE_SCHEMA
        env["CREATE_TABLE"] = "y"  # the bench's own schema: `jiandu migrate` knows nothing of it
    return env


# -- the workload ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    kind: str
    run: Callable[[], object]


def submission(i: int, *, real_name: bool, mailbox: bool) -> ReportSubmission:
    changes: dict[str, Any] = {}
    if mailbox:
        changes["channel"] = "mailbox"
    if not real_name:
        changes["reporter"] = {"anonymous": True}
    return hotline_report(i, **changes)


def submit_calls(
    app: IntakeApplication, n: int, mailbox_share: float, tag: str, start: int = 0
) -> list[Call]:
    """``n`` submissions: an even spread of mailbox ones, half of each channel real-name.

    Shuffled (seeded), so that each thread of a concurrent run gets a mix of kinds.
    """
    calls = []
    seen = {True: 0, False: 0}  # submissions so far, by mailbox or not
    for i in range(start, start + n):
        mailbox = math.floor((i + 1) * mailbox_share) != math.floor(i * mailbox_share)
        real_name = seen[mailbox] % 2 == 0
        seen[mailbox] += 1
        kind = "mailbox" if mailbox else ("real-name" if real_name else "anonymous")
        sub = submission(i, real_name=real_name, mailbox=mailbox)
        key = f"{tag}-{i}"
        calls.append(Call(kind, lambda s=sub, k=key: app.submit(s, idempotency_key=k)))
    random.Random(f"{tag}-{n}").shuffle(calls)
    return calls


def save_calls(app: BareApplication, n: int) -> list[Call]:
    return [Call("save", lambda i=i: app.save(Tick(n=i))) for i in range(n)]


@dataclass
class Result:
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=dict)
    failures: int = 0  # SubmissionContention raised to the caller

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def merge(self, other: Result) -> None:
        self.seconds += other.seconds
        self.failures += other.failures
        for kind, values in other.latencies.items():
            self.latencies.setdefault(kind, []).extend(values)

    def all_latencies(self) -> list[float]:
        return [x for v in self.latencies.values() for x in v]


def run_calls(calls: list[Call], threads: int, profile: cProfile.Profile | None = None) -> Result:
    """Run ``calls`` over ``threads`` threads (round robin); wall time and per-call latency."""
    chunks = [calls[t::threads] for t in range(threads)]
    latencies: list[list[tuple[str, float]]] = [[] for _ in range(threads)]
    failures = [0] * threads
    errors: list[BaseException] = []
    profiled = threads == 1 and profile is not None
    barrier = threading.Barrier(threads if profiled else threads + 1)

    def work(t: int) -> None:
        barrier.wait()
        try:
            for call in chunks[t]:
                began = time.perf_counter()
                try:
                    call.run()
                except SubmissionContention:
                    failures[t] += 1
                    continue
                latencies[t].append((call.kind, time.perf_counter() - began))
        except BaseException as error:
            errors.append(error)

    if profiled:
        assert profile is not None
        began = time.perf_counter()
        profile.runcall(work, 0)
        seconds = time.perf_counter() - began
    else:
        workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for worker in workers:
            worker.start()
        barrier.wait()
        began = time.perf_counter()
        for worker in workers:
            worker.join()
        seconds = time.perf_counter() - began
    if errors:
        raise errors[0]
    result = Result(seconds, failures=sum(failures))
    for per_thread in latencies:
        for kind, latency in per_thread:
            result.latencies.setdefault(kind, []).append(latency)
    return result


def count_attempts(app: IntakeApplication) -> list[int]:
    """Count registration attempts (a retry follows each ledger conflict)."""
    counter = [0]
    register = app._register
    lock = threading.Lock()

    def counted(*args: Any, **kwargs: Any) -> Any:
        with lock:
            counter[0] += 1
        return register(*args, **kwargs)

    app._register = counted  # type: ignore[method-assign]
    return counter


# -- reporting ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []

    def add(self, figure: str, value: str, ratio: float | None = None) -> None:
        self.rows.append((figure, value, f"{ratio:.2f}x" if ratio is not None else ""))

    def section(self, title: str) -> None:
        self.rows.append((title, "", ""))

    def print(self) -> None:
        width = max(len(r[0]) for r in self.rows) + 2
        print(f"{'figure':<{width}}{'value':>16}  vs baseline")
        print("-" * (width + 30))
        for figure, value, ratio in self.rows:
            if not value and not ratio:
                print(f"{figure}")
            else:
                print(f"{figure:<{width}}{value:>16}  {ratio}")


def report(table: Table, where: str, base: Result, subject: Result, threads: int) -> None:
    label = f"{threads} thread{'s' if threads > 1 else ''}"
    table.section(f"[{where}, {label}]")
    table.add("baseline: bare save, 1 event", f"{base.rate:,.0f} saves/s", 1.0)
    table.add("intake submit", f"{subject.rate:,.0f} reports/s", subject.rate / base.rate)
    if threads == 1 and subject.latencies.get("mailbox"):
        others = [x for k, v in subject.latencies.items() if k != "mailbox" for x in v]
        rate = len(others) / sum(others)
        table.add("intake submit, mailbox left out", f"{rate:,.0f} reports/s", rate / base.rate)
    base_all = base.all_latencies()
    for q, name in ((0.5, "p50"), (0.99, "p99")):
        b = percentile(base_all, q)
        table.add(f"baseline save {name}", f"{b * 1000:.2f} ms", 1.0)
        v = percentile(subject.all_latencies(), q)
        table.add(f"submit {name}, all kinds", f"{v * 1000:.2f} ms", v / b)
        for kind in ("anonymous", "real-name", "mailbox"):
            values = subject.latencies.get(kind, [])
            if values:
                v = percentile(values, q)
                table.add(f"submit {name}, {kind} (n={len(values)})", f"{v * 1000:.2f} ms", v / b)


# -- the phases ----------------------------------------------------------------------------------


@dataclass
class Phase:
    where: str
    base: Result
    subject: Result
    threads: int
    attempts: int
    events_per_report: float


def measure(
    intake: IntakeApplication,
    bare: BareApplication,
    where: str,
    *,
    n: int,
    threads: int,
    mailbox_share: float,
    tag: str,
    rounds: int,
    profile: cProfile.Profile | None = None,
) -> Phase:
    # Warm up both (connections, the year's ledger, imports); not measured.
    run_calls(save_calls(bare, WARMUP), 1)
    run_calls(submit_calls(intake, WARMUP, 0.5, f"{tag}-warm"), 1)
    attempts = count_attempts(intake)
    before = intake.max_position()
    # Baseline and subject take turns, in `rounds` slices each, so that the machine's
    # drift (a shared, noisy host) weighs on both alike.
    saves, submits = save_calls(bare, n), submit_calls(intake, n, mailbox_share, tag)
    base, subject = Result(0.0), Result(0.0)
    for r in range(rounds):
        base.merge(run_calls(saves[r::rounds], threads))
        subject.merge(run_calls(submits[r::rounds], threads, profile))
    stored = intake.recorder.select_notifications(
        start=before, limit=100 * n, inclusive_of_start=False
    )  # counted, not max_position() - before: PostgreSQL's ids have gaps after conflicts
    events = len(stored) / max(1, subject.count)
    del intake._register  # back to the class's method
    return Phase(where, base, subject, threads, attempts[0], events)


@contextmanager
def postgres_dsn(durable: bool) -> Iterator[tuple[str, str]]:
    """A fresh database on the private (or external) server: its DSN and a description."""
    server = ThrowawayPostgres()
    server.start()
    try:
        if durable and not server.external_url:
            with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
                conn.execute("ALTER SYSTEM SET fsync = on")
                conn.execute("ALTER SYSTEM SET synchronous_commit = on")
                conn.execute("SELECT pg_reload_conf()")
        with server.fresh_database() as dsn:
            deadline = time.monotonic() + 5
            while True:
                with psycopg.connect(dsn) as conn:
                    row = conn.execute(
                        "SELECT current_setting('server_version'), current_setting('fsync'), "
                        "current_setting('synchronous_commit')"
                    ).fetchone()
                assert row is not None
                if (
                    not durable
                    or server.external_url
                    or row[1] == "on"
                    or time.monotonic() > deadline
                ):
                    break
                time.sleep(0.05)  # the reload is asynchronous
            origin = "external" if server.external_url else "private"
            yield (
                dsn,
                f"PostgreSQL {row[0]} ({origin}), fsync={row[1]}, synchronous_commit={row[2]}",
            )
    finally:
        server.stop()


def settings_for(data_dir: Path, dsn: str | None) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=dsn,
        intake_database_url=None,
        casework_database_url=None,
        projections_database_url=None,
        secret_key=SECRET_KEY,
        auto_accept=True,
    )


def close_intake(intake: IntakeApplication) -> None:
    intake.close()
    intake.vault._db.close()  # IntakeApplication.close() leaves the vault's pool open


def run_postgres(
    args: argparse.Namespace, tmp: Path, profile: cProfile.Profile | None
) -> tuple[str, list[Phase]]:
    phases = []
    with postgres_dsn(durable=not args.fast_pg) as (dsn, described):
        settings = settings_for(tmp / "pg", dsn)
        migrate(settings)
        intake, bare = build_intake(settings), BareApplication(baseline_env(settings))
        try:
            phases.append(
                measure(
                    intake,
                    bare,
                    "PostgreSQL",
                    n=args.n,
                    threads=1,
                    mailbox_share=args.mailbox_share,
                    tag="pg1",
                    rounds=args.rounds,
                    profile=profile,
                )
            )
            if args.threads > 1:
                phases.append(
                    measure(
                        intake,
                        bare,
                        "PostgreSQL",
                        n=args.n,
                        threads=args.threads,
                        mailbox_share=args.mailbox_share,
                        tag=f"pg{args.threads}",
                        rounds=args.rounds,
                    )
                )
        finally:
            close_intake(intake)
            bare.close()
    return described, phases


def run_sqlite(args: argparse.Namespace, tmp: Path) -> Phase:
    settings = settings_for(tmp / "sqlite", None)
    system = EmbeddedSystem.build(settings)  # followers not started: intake alone is measured
    bare = BareApplication(baseline_env(settings))
    try:
        return measure(
            system.intake,
            bare,
            "SQLite embedded",
            n=args.n,
            threads=1,
            mailbox_share=args.mailbox_share,
            tag="lite",
            rounds=args.rounds,
        )
    finally:
        system.stop()
        system.intake.vault._db.close()
        bare.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=600, help="submissions (and saves) per figure")
    parser.add_argument(
        "--rounds", type=int, default=3, help="turns baseline and subject take, alternating"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads of the concurrent figure")
    parser.add_argument(
        "--mailbox-share", type=float, default=0.1, help="share of mailbox submissions"
    )
    parser.add_argument(
        "--fast-pg", action="store_true", help="keep the private server's test settings (fsync off)"
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the 1-thread PostgreSQL submits"
    )
    args = parser.parse_args()

    profile = cProfile.Profile() if args.profile else None
    tmp = Path(tempfile.mkdtemp(prefix="jiandu-bench-intake-"))
    started = time.perf_counter()
    try:
        described, phases = run_postgres(args, tmp, profile)
        if not args.skip_sqlite:
            phases.append(run_sqlite(args, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"intake throughput: {args.n} submissions (and bare saves) per figure, taking turns "
        f"in {args.rounds} rounds; {os.cpu_count()} CPUs"
    )
    print(f"  {described}")
    print(
        f"  mix: half real-name (identity sealed in the vault), "
        f"{args.mailbox_share:.0%} mailbox (argon2-hashed follow-up password)"
    )
    table = Table()
    for phase in phases:
        report(table, phase.where, phase.base, phase.subject, phase.threads)
    table.print()
    print()
    for phase in phases:
        retries = phase.attempts - phase.subject.count - phase.subject.failures
        print(
            f"{phase.where}, {phase.threads} thread(s): {phase.events_per_report:.2f} events stored "
            f"per report, {retries} ledger-conflict retries, "
            f"{phase.subject.failures} SubmissionContention failures"
        )
    print(f"total wall time {time.perf_counter() - started:.1f}s")
    if profile is not None:
        print("\ncProfile of the 1-thread PostgreSQL submits (top 30 by cumulative time):")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
