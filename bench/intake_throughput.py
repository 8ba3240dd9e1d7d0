"""Intake throughput with group commit (decision 0023), against the bare save and the machine.

Figures, through ``bench/figures.py`` (``emit``), each beside its baseline from the same
run (baseline and subject take turns in ``--rounds`` slices, so a noisy shared host weighs
on both alike):

* PostgreSQL (durable: ``fsync``, ``synchronous_commit`` on), 1 thread: reports/s through
  ``IntakeApplication.submit`` vs a bare eventsourcing save (one trivial aggregate, one
  event) per call, same database, same environment;
* ``--threads`` (16) concurrent submitters — what group commit needs — vs the bare save
  from as many threads; p50/p99 submit latency vs the bare save's;
* two intake processes (each ``--threads`` submitters) vs one, on the same database:
  the ratio (goal ≥ 1.6) and the ledger-conflict retries any client saw (goal 0);
* references: durable single-row commits/s, rows/s at 100 rows a commit (raw psycopg);
* SQLite (the embedded mode), 1 thread and ``--threads``, vs its bare save.

Half of the submissions name their reporter (identity sealed in the vault);
``--mailbox-share`` come through the mailbox (argon2 hash of the follow-up password).
``--fast-pg`` keeps the private server's test settings (no disk sync). An external server
(``JIANDU_TEST_POSTGRES_URL``) is used as is.

Run from the repository root: ``.venv/bin/python bench/intake_throughput.py [--n 600]``.
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import base64
import cProfile
import json
import math
import os
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
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

from bench.figures import Figure, emit
from bench.servers import postgres_database
from schemas.submissions import ReportSubmission
from services.bootstrap import EmbeddedSystem, build_intake
from services.common.eventstore import eventstore_env
from services.common.settings import Settings
from services.common.sql import ensure_schema
from services.intake.application import IntakeApplication
from services.intake.errors import SubmissionContention
from services.migrate import migrate
from tests.integration.helpers import hotline_report

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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


@dataclass
class Pair:
    """A figure and its baseline, measured taking turns."""

    base: Result
    subject: Result
    retries: int = 0  # ledger-conflict retries: internal (batch) and seen by clients


def measure(
    intake: IntakeApplication,
    bare: BareApplication,
    *,
    n: int,
    threads: int,
    mailbox_share: float,
    tag: str,
    rounds: int,
    profile: cProfile.Profile | None = None,
) -> Pair:
    # Warm up both (connections, the year's ledger, imports); not measured.
    run_calls(save_calls(bare, WARMUP), 1)
    run_calls(submit_calls(intake, WARMUP, 0.5, f"{tag}-warm"), 1)
    committer = intake._committer
    retries_before = committer.batch_retries if committer else 0
    saves, submits = save_calls(bare, n), submit_calls(intake, n, mailbox_share, tag)
    base, subject = Result(0.0), Result(0.0)
    for r in range(rounds):
        base.merge(run_calls(saves[r::rounds], threads))
        subject.merge(run_calls(submits[r::rounds], threads, profile))
    retries = (committer.batch_retries if committer else 0) - retries_before
    return Pair(base, subject, retries + subject.failures)


# -- the machine's limits (references) ----------------------------------------------------------


def commit_limits(dsn: str, seconds: float) -> tuple[float, float]:
    """Durable single-row commits/s, and rows/s at 100 rows a commit (raw psycopg)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_rows (id bigserial, body text)")
        body = "x" * 200
        count, began = 0, time.perf_counter()
        while time.perf_counter() - began < seconds:
            conn.execute("INSERT INTO bench_rows (body) VALUES (%s)", (body,))
            count += 1
        single = count / (time.perf_counter() - began)
        count, began = 0, time.perf_counter()
        while time.perf_counter() - began < seconds:
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany("INSERT INTO bench_rows (body) VALUES (%s)", [(body,)] * 100)
            count += 100
        batched = count / (time.perf_counter() - began)
        conn.execute("DROP TABLE bench_rows")
    return single, batched


# -- two processes vs one ---------------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    """One intake process of the scale-out figure: warms up, says "ready", waits for "go"
    on stdin, submits ``--n`` reports over ``--threads`` threads, prints what it saw."""
    settings = settings_for(Path(args.child_dir), args.child_dsn, args.child_key)
    intake = build_intake(settings)
    run_calls(submit_calls(intake, WARMUP, 0.5, f"{args.child_tag}-warm"), 1)
    calls = submit_calls(intake, args.n, args.mailbox_share, args.child_tag)
    print("ready", flush=True)
    sys.stdin.readline()
    began = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process of the host
    cpu = time.process_time()
    result = run_calls(calls, args.threads)
    ended = time.monotonic()
    cpu = time.process_time() - cpu
    committer = intake._committer
    print(
        json.dumps(
            {
                "began": began,
                "ended": ended,
                "count": result.count,
                "cpu": cpu,
                "contention": result.failures,
                "batch_retries": committer.batch_retries if committer else 0,
                "batches": committer.batches if committer else 0,
                "in_transaction": committer.transaction_seconds if committer else 0.0,
                "latencies": result.all_latencies(),
            }
        ),
        flush=True,
    )
    close_intake(intake)


def run_processes(
    dsn: str,
    tmp: Path,
    processes: int,
    n: int,
    args: argparse.Namespace,
    tag: str,
    mailbox_share: float,
) -> dict[str, Any]:
    """``processes`` intake processes submitting ``n`` reports each, started together."""
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                "--child-dsn",
                dsn,
                "--child-dir",
                str(tmp / f"child-{tag}-{i}"),
                "--child-key",
                SECRET_KEY,
                "--child-tag",
                f"{tag}-{i}",
                "--n",
                str(n),
                "--threads",
                str(args.threads),
                "--mailbox-share",
                str(mailbox_share),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for i in range(processes)
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))
    seconds = max(r["ended"] for r in results) - min(r["began"] for r in results)
    count = sum(r["count"] for r in results)
    return {
        "seconds": seconds,
        "count": count,
        "rate": count / seconds,
        "retries": sum(r["contention"] + r["batch_retries"] for r in results),
        "batches": sum(r["batches"] for r in results),
        "cpu": sum(r["cpu"] for r in results),
        "in_transaction": sum(r["in_transaction"] for r in results),
        "latencies": [x for r in results for x in r["latencies"]],
    }


def scale_out(
    dsn: str, tmp: Path, args: argparse.Namespace, mailbox_share: float
) -> tuple[float, float, int, dict[str, Any]]:
    """Rates of one process and of two, taking turns; their ledger-conflict retries."""
    one: dict[str, Any] = {
        "seconds": 0.0,
        "count": 0,
        "retries": 0,
        "batches": 0,
        "cpu": 0.0,
        "in_transaction": 0.0,
    }
    two: dict[str, Any] = {
        "seconds": 0.0,
        "count": 0,
        "retries": 0,
        "batches": 0,
        "cpu": 0.0,
        "in_transaction": 0.0,
        "latencies": [],
    }
    per = max(args.threads, args.n)  # each process: as many as a 1-thread figure
    for r in range(args.process_rounds):
        for procs, into in ((1, one), (2, two)):
            tag = f"p{procs}r{r}m{mailbox_share:g}"
            got = run_processes(dsn, tmp, procs, per, args, tag, mailbox_share)
            for key in into:
                into[key] += got[key]
    for name, got in (("1 process", one), ("2 processes", two)):
        print(
            f"  scale-out ({mailbox_share:.0%} mailbox), {name}: {got['count']} reports in {got['seconds']:.1f}s, "
            f"{got['batches']} batches, intake CPU {got['cpu'] / got['count'] * 1000:.2f} ms "
            f"a report ({got['cpu'] / got['seconds']:.2f} cores busy with intake); batch "
            f"transactions open {got['in_transaction'] / got['seconds']:.0%} of the time "
            "(summed over processes; the ledger lock is held for part of it)",
            flush=True,
        )
    return (
        one["count"] / one["seconds"],
        two["count"] / two["seconds"],
        int(one["retries"] + two["retries"]),
        two,
    )


# -- the run -----------------------------------------------------------------------------------


def settings_for(data_dir: Path, dsn: str | None, secret_key: str = SECRET_KEY) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=dsn,
        intake_database_url=None,
        casework_database_url=None,
        projections_database_url=None,
        secret_key=secret_key,
        auto_accept=True,
    )


def close_intake(intake: IntakeApplication) -> None:
    intake.close()
    intake.vault._db.close()  # IntakeApplication.close() leaves the vault's pool open


def run_postgres(
    args: argparse.Namespace, tmp: Path, profile: cProfile.Profile | None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with postgres_database(durable=not args.fast_pg) as (dsn, described):
        out["described"] = described
        settings = settings_for(tmp / "pg", dsn)
        migrate(settings)
        out["limits"] = commit_limits(dsn, args.limit_seconds)
        intake, bare = build_intake(settings), BareApplication(baseline_env(settings))
        try:
            out["one"] = measure(
                intake,
                bare,
                n=args.n,
                threads=1,
                mailbox_share=args.mailbox_share,
                tag="pg1",
                rounds=args.rounds,
                profile=profile,
            )
            out["many"] = measure(
                intake,
                bare,
                n=args.n * 2,
                threads=args.threads,
                mailbox_share=args.mailbox_share,
                tag=f"pg{args.threads}",
                rounds=args.rounds,
            )
            committer = intake._committer
            out["batches"] = committer.batches if committer else 0
            out["stored"] = committer.stored if committer else 0
        finally:
            close_intake(intake)
            bare.close()
        if not args.skip_processes:
            out["scale"] = scale_out(dsn, tmp, args, args.mailbox_share)
            out["scale_no_mailbox"] = scale_out(dsn, tmp, args, 0.0)
    return out


def run_sqlite(args: argparse.Namespace, tmp: Path) -> tuple[Pair, Pair]:
    settings = settings_for(tmp / "sqlite", None)
    system = EmbeddedSystem.build(settings)  # followers not started: intake alone is measured
    bare = BareApplication(baseline_env(settings))
    try:
        common = {"mailbox_share": args.mailbox_share, "rounds": args.rounds}
        one = measure(system.intake, bare, n=args.n, threads=1, tag="lite1", **common)
        many = measure(
            system.intake, bare, n=args.n, threads=args.threads, tag="lite-many", **common
        )
        return one, many
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
    parser.add_argument("--threads", type=int, default=16, help="concurrent submitters")
    parser.add_argument(
        "--process-rounds", type=int, default=2, help="turns of one process and two processes"
    )
    parser.add_argument(
        "--mailbox-share", type=float, default=0.1, help="share of mailbox submissions"
    )
    parser.add_argument("--limit-seconds", type=float, default=1.0, help="per reference limit")
    parser.add_argument(
        "--fast-pg", action="store_true", help="keep the private server's test settings (fsync off)"
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-processes", action="store_true")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the 1-thread PostgreSQL submits"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-dsn", help=argparse.SUPPRESS)
    parser.add_argument("--child-dir", help=argparse.SUPPRESS)
    parser.add_argument("--child-key", help=argparse.SUPPRESS)
    parser.add_argument("--child-tag", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    profile = cProfile.Profile() if args.profile else None
    tmp = Path(tempfile.mkdtemp(prefix="jiandu-bench-intake-"))
    started = time.perf_counter()
    lite: tuple[Pair, Pair] | None = None
    try:
        pg = run_postgres(args, tmp, profile)
        if not args.skip_sqlite:
            lite = run_sqlite(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"intake throughput (group commit): {args.n} submissions per 1-thread figure, "
        f"{2 * args.n} per {args.threads}-thread figure, turns in {args.rounds} rounds; "
        f"{os.cpu_count()} CPUs"
    )
    print(f"  {pg['described']}")
    print(
        f"  mix: half real-name (identity sealed in the vault), "
        f"{args.mailbox_share:.0%} mailbox (argon2-hashed follow-up password)"
    )
    print(
        f"  {args.threads} threads: {pg['stored']} reports in {pg['batches']} batches "
        f"(both PostgreSQL phases and warm-ups)"
    )
    figures = figures_of(args, pg, lite)
    emit(figures)
    print(f"total wall time {time.perf_counter() - started:.1f}s")
    if profile is not None:
        print("\ncProfile of the 1-thread PostgreSQL submits (top 30 by cumulative time):")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)


def figures_of(
    args: argparse.Namespace, pg: dict[str, Any], lite: tuple[Pair, Pair] | None
) -> list[Figure]:
    bare = "bare eventsourcing save (1 event)"
    t = args.threads
    one, many = pg["one"], pg["many"]
    figures = [
        Figure(
            "intake",
            "PG durable, 1 thread: submit",
            one.subject.rate,
            "reports/s",
            one.base.rate,
            f"{bare}, 1 thread",
        ),
        Figure(
            "intake",
            f"PG durable, {t} threads: submit",
            many.subject.rate,
            "reports/s",
            many.base.rate,
            f"{bare}, {t} threads",
        ),
    ]
    for q, name in ((0.5, "p50"), (0.99, "p99")):
        figures.append(
            Figure(
                "intake",
                f"PG, {t} threads: submit latency {name}",
                percentile(many.subject.all_latencies(), q) * 1000,
                "ms",
                percentile(many.base.all_latencies(), q) * 1000,
                f"{bare} {name}, {t} threads",
                higher_is_better=False,
            )
        )
    retries = one.retries + many.retries
    if "scale" in pg:
        rate_one, rate_two, scale_retries, two = pg["scale"]
        retries += scale_retries
        figures.append(
            Figure(
                "intake",
                f"PG, 2 intake processes x {t} threads",
                rate_two,
                "reports/s",
                rate_one,
                f"1 intake process x {t} threads",
                goal="ratio>=1.6",
            )
        )
        rate_one, rate_two, scale_retries, _ = pg["scale_no_mailbox"]
        retries += scale_retries
        figures.append(
            Figure(
                "intake",
                f"PG, 2 intake processes x {t} threads, no mailbox (no argon2)",
                rate_two,
                "reports/s",
                rate_one,
                f"1 intake process x {t} threads, no mailbox",
                goal="ratio>=1.6",
            )
        )
        figures.append(
            Figure(
                "intake",
                "PG, 2 processes: submit latency p99",
                percentile(two["latencies"], 0.99) * 1000,
                "ms",
                higher_is_better=False,
            )
        )
    figures.append(
        Figure(
            "intake",
            "ledger-conflict retries seen by clients (all PG phases)",
            retries,
            "retries",
            goal="<=0",
            higher_is_better=False,
        )
    )
    single, batched = pg["limits"]
    figures += [
        Figure(
            "intake",
            "reference: durable single-row commits",
            single,
            "commits/s",
            baseline_name="raw psycopg, 1 connection",
        ),
        Figure(
            "intake",
            "reference: rows at 100 rows a commit",
            batched,
            "rows/s",
            baseline_name="raw psycopg, 1 connection",
        ),
    ]
    if lite is not None:
        l1, lm = lite
        figures += [
            Figure(
                "intake",
                "SQLite embedded, 1 thread: submit",
                l1.subject.rate,
                "reports/s",
                l1.base.rate,
                f"{bare}, 1 thread",
            ),
            Figure(
                "intake",
                f"SQLite embedded, {t} threads: submit",
                lm.subject.rate,
                "reports/s",
                lm.base.rate,
                f"{bare}, {t} threads",
            ),
        ]
    return figures


if __name__ == "__main__":
    main()
