"""Queries at scale: p50/p99 of every read the offices make, at 10k, 100k and 1M events.

For each size a history is written by ``jiandu demo --scale`` (services/demo/scale.py) into
a fresh PostgreSQL database (a throwaway server, or the one named by
``JIANDU_TEST_POSTGRES_URL``), in a child process, then the read models are rebuilt by
``jiandu rebuild-projections`` in another: the peak RSS of each child is printed (its own
VmHWM, written at its exit), and this process's after the queries. Then, signed in with the right role, each read is
timed through the application (FastAPI's TestClient, in-process: the API's JSON and the
pages' HTML), ``--calls`` times on varied arguments (at most ``--budget`` seconds a read):

* the case timeline, a cadre's archive, an integrity reply for 100 cadres;
* each work queue (unregistered, untriaged, mine, section, awaiting approval, due soon,
  overdue) and a page of the case list;
* the liaison statistics for a year and the quarterly report;
* the pages that show them.

Figures: each read's p99 at the largest size, goal < 50 ms; and its growth from the
smallest size (the baseline, same run) to the largest, goal ratio <= 1.2.

Run from the repository root: ``.venv/bin/python bench/queries.py [--quick]
[--sizes 10000,100000,1000000] [--calls 40] [--budget 20]``.
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from bench.figures import Figure, emit
from schemas.glossary import MemberUnit, Role
from services.bootstrap import EmbeddedSystem
from services.common.china_time import FixedClock
from services.common.heap import settle_heap
from services.common.settings import Settings
from tests.integration.helpers import TEST_KEY
from tests.support.postgres import ThrowawayPostgres

TODAY = dt.date(2026, 11, 30)
EVENTS_PER_REPORT = 12.5  # what the generator writes on average (measured: 12.4-12.6)
SECTION = "干部监督科"
PEOPLE: dict[str, tuple[Role, str | None]] = {
    "operator": (Role.OPERATOR, None),
    "handler": (Role.HANDLER, None),
    "leader": (Role.LEADER, None),
    "liaison": (Role.LIAISON, MemberUnit.DISCIPLINE_COMMISSION.zh),
    "auditor": (Role.AUDITOR, None),
}
SECTION_HANDLERS = ("handler-2", "handler-3", "handler-4")


def mib(kib: float) -> float:
    return kib / 1024  # ru_maxrss and VmHWM are in KiB on Linux


def peak_rss_here() -> float:
    """This process's peak RSS (MiB) since the last ``reset_peak_rss``."""
    status = Path("/proc/self/status").read_text()
    return mib(float(status.split("VmHWM:")[1].split()[0]))


def reset_peak_rss() -> None:
    """Start this process's peak RSS afresh (Linux: 5 to clear_refs), so each size's figure is
    its own, not the largest of the sizes before it."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


@dataclass
class Sized:
    """What one size measured: the history, the memory, and each read's latencies (ms)."""

    events: int
    reports: int
    rss: dict[str, float] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)


# The child's own high-water mark, written at its exit: ``wait4``'s ru_maxrss would count the
# memory of this process at the fork too (Linux keeps the pre-exec high-water mark).
CHILD = (
    "import atexit, os\n"
    "def hwm():\n"
    "    status = open('/proc/self/status').read()\n"
    "    kib = status.split('VmHWM:')[1].split()[0]\n"
    "    open(os.environ['JIANDU_BENCH_HWM'], 'w').write(kib)\n"
    "atexit.register(hwm)\n"
    "from services.cli import app\n"
    "app(prog_name='jiandu')\n"
)


def _child(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a ``jiandu`` child; its wall time (s) and its own peak RSS (MiB)."""
    with tempfile.NamedTemporaryFile(prefix="jiandu-hwm-") as hwm:
        began = time.perf_counter()
        done = subprocess.run(
            [*args], check=False, env=env | {"JIANDU_BENCH_HWM": hwm.name}, cwd=ROOT
        )
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed ({done.returncode})")
        seconds = time.perf_counter() - began
        return seconds, mib(float(Path(hwm.name).read_text() or 0))


def build_history(dsn: str, folder: Path, events: int, seed: int) -> Sized:
    reports = max(1, round(events / EVENTS_PER_REPORT))
    env = os.environ | {
        "JIANDU_DATABASE_URL": dsn,
        "JIANDU_DATA_DIR": str(folder),
        "JIANDU_SECRET_KEY": TEST_KEY,
        "JIANDU_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),  # this tree's code, whichever tree the venv was installed from
    }
    jiandu = [sys.executable, "-c", CHILD]
    subprocess.run([*jiandu, "migrate"], env=env, check=True, capture_output=True)
    sized = Sized(events=events, reports=reports)
    seconds, rss = _child(
        [*jiandu, "demo", "--scale", str(reports), "--today", TODAY.isoformat(),
         "--seed", str(seed), "--no-project"],
        env,
    )  # fmt: skip
    sized.rss["generator"] = rss
    print(f"  generated {reports} reports in {seconds:.1f} s (peak RSS {rss:.0f} MiB)", flush=True)
    seconds, rss = _child([*jiandu, "rebuild-projections"], env)
    sized.rss["catch-up (rebuild-projections)"] = rss
    print(f"  read models rebuilt in {seconds:.1f} s (peak RSS {rss:.0f} MiB)", flush=True)
    return sized


@contextmanager
def serving(dsn: str, folder: Path) -> Iterator[tuple[EmbeddedSystem, TestClient]]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=dsn, data_dir=folder, secret_key=TEST_KEY
    )
    system = EmbeddedSystem.build(settings, clock=FixedClock.on(TODAY))
    system.accounts._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    for username, (role, unit) in PEOPLE.items():
        system.accounts.create_user(
            username, "bench password 1", role, username, unit=unit, section=SECTION,
            enforce_policy=False,
        )  # fmt: skip
    for username in SECTION_HANDLERS:
        system.accounts.create_user(
            username, "bench password 1", Role.HANDLER, username, section=SECTION,
            enforce_policy=False,
        )  # fmt: skip
    try:
        with TestClient(system.web_app()) as client:
            settle_heap()  # as a serving process does once its app is built (cli.base.serve)
            yield system, client
    finally:
        system.stop()


class Reads:
    """Every read, as a function of a random generator (varied arguments) to one request."""

    def __init__(self, system: EmbeddedSystem, client: TestClient, rng: random.Random) -> None:
        self.system, self.client, self.rng = system, client, rng
        store = system.read.store
        # Samples (random ids: the first 2,000 in their order are any 2,000), not every row.
        sample = "SELECT {0} FROM {1} ORDER BY {0} LIMIT 2000"
        self.cases = [r["case_id"] for r in store.query(sample.format("case_id", "case_list"))]
        self.cadres = [r["cadre_id"] for r in store.query("SELECT cadre_id FROM cadres")]
        self.years = [
            int(r["y"])
            for r in store.query(
                "SELECT DISTINCT substr(received_on, 1, 4) AS y FROM case_list ORDER BY y"
            )
        ]
        accounts = system.accounts
        self.cookies = {n: accounts.start_session(accounts.principal(n)) for n in PEOPLE}
        self.tokens = {
            n: {"Authorization": f"Bearer {accounts.issue_token(accounts.principal(n))}"}
            for n in PEOPLE
        }

    def get(self, who: str, path: str, params: Any = None) -> Callable[[], None]:
        def call() -> None:
            if path.startswith("/api/"):
                self.client.cookies.clear()
                response = self.client.get(path, params=params, headers=self.tokens[who])
            else:
                self.client.cookies.set("jiandu_session", self.cookies[who])
                response = self.client.get(path, params=params)
            if response.status_code != 200:
                raise SystemExit(f"GET {path} as {who}: {response.status_code} {response.text}")

        return call

    def post(self, who: str, path: str, body: Any) -> Callable[[], None]:
        def call() -> None:
            self.client.cookies.clear()
            response = self.client.post(path, json=body, headers=self.tokens[who])
            if response.status_code != 200:
                raise SystemExit(f"POST {path} as {who}: {response.status_code} {response.text}")

        return call

    def case(self) -> str:
        return self.rng.choice(self.cases)

    def cadre(self) -> str:
        return self.rng.choice(self.cadres)

    def hundred(self) -> list[str]:
        return self.rng.sample(self.cadres, k=min(100, len(self.cadres)))

    def year(self) -> int:
        return self.rng.choice(self.years)

    def quarter(self) -> dict[str, int]:
        return {"year": self.year(), "quarter": self.rng.randint(1, 4)}

    def all(self) -> dict[str, Callable[[], Callable[[], None]]]:
        """Name -> a maker of one call (new arguments each time)."""
        api = "/api/v1"
        return {
            "API case timeline": lambda: self.get("leader", f"{api}/cases/{self.case()}/timeline"),
            "API cadre archive": lambda: self.get(
                "auditor", f"{api}/cadres/{self.cadre()}/archive"
            ),
            "API integrity reply, 100 cadres": lambda: self.post(
                "auditor", f"{api}/integrity-replies", {"cadre_ids": self.hundred()}
            ),
            "API queue unregistered": lambda: self.get("operator", f"{api}/queues/unregistered"),
            "API queue untriaged": lambda: self.get("operator", f"{api}/queues/untriaged"),
            "API queue mine": lambda: self.get("handler", f"{api}/queues/mine"),
            "API queue section": lambda: self.get("leader", f"{api}/queues/section"),
            "API queue awaiting approval": lambda: self.get(
                "leader", f"{api}/queues/awaiting-approval"
            ),
            "API queue due soon": lambda: self.get("leader", f"{api}/queues/due-soon"),
            "API queue overdue": lambda: self.get("leader", f"{api}/queues/overdue"),
            "API case list, a page": lambda: self.get(
                "leader", f"{api}/cases", {"page": self.rng.randint(1, 5)}
            ),
            "API liaison statistics, a year": lambda: self.get(
                "liaison",
                f"{api}/liaison/statistics",
                {"start": f"{(y := self.year())}-01-01", "end": f"{y}-12-31"},
            ),
            "API quarterly report": lambda: self.get(
                "liaison", f"{api}/liaison/quarterly-report", self.quarter()
            ),
            "page case": lambda: self.get("leader", f"/cases/{self.case()}"),
            "page cadre archive": lambda: self.get("auditor", f"/cadres/{self.cadre()}"),
            "page integrity, 100 cadres": lambda: self.get(
                "auditor", "/integrity", {"ids": ",".join(self.hundred())}
            ),
            "page queues (operator)": lambda: self.get("operator", "/queues"),
            "page queues (leader)": lambda: self.get("leader", "/queues"),
            "page my cases": lambda: self.get("handler", "/cases/mine"),
            "page approvals": lambda: self.get("leader", "/approvals"),
            "page liaison, a year": lambda: self.get(
                "liaison", "/liaison", {"start": f"{(y := self.year())}-01-01", "end": f"{y}-12-31"}
            ),
            "page quarterly report": lambda: self.get(
                "liaison", "/liaison/quarterly", self.quarter()
            ),
        }


def time_reads(reads: Reads, calls: int, budget: float) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for name, make in reads.all().items():
        make()()  # a first call (plans cached, pages' templates compiled): not counted
        took: list[float] = []
        began = time.perf_counter()
        while len(took) < calls and (len(took) < 3 or time.perf_counter() - began < budget):
            call = make()
            start = time.perf_counter()
            call()
            took.append((time.perf_counter() - start) * 1000)
        out[name] = took
        print(f"    {name}: p50 {p(took, 50):.1f} ms, p99 {p(took, 99):.1f} ms ({len(took)} calls)",
              flush=True)  # fmt: skip
    return out


def p(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def measure(events: int, calls: int, budget: float, seed: int) -> Sized:
    server = ThrowawayPostgres()
    server.start()
    try:
        with (
            server.fresh_database() as dsn,
            tempfile.TemporaryDirectory(prefix="jiandu-bench-queries-") as folder,
        ):
            print(f"{events:,} events:", flush=True)
            sized = build_history(dsn, Path(folder), events, seed)
            reset_peak_rss()
            with serving(dsn, Path(folder)) as (system, client):
                sized.rss["bench process, history opened"] = peak_rss_here()
                sized.latencies = time_reads(
                    Reads(system, client, random.Random(seed)), calls, budget
                )
                sized.rss["bench process, after the queries"] = peak_rss_here()
            for what, value in sized.rss.items():
                print(f"  peak RSS, {what}: {value:.0f} MiB", flush=True)
            return sized
    finally:
        server.stop()


def figures(sizes: list[Sized]) -> list[Figure]:
    first, last = sizes[0], sizes[-1]
    out = []
    for name, took in last.latencies.items():
        base = p(first.latencies[name], 99)
        now = p(took, 99)
        out.append(
            Figure(
                bench="queries",
                name=f"{name}: p99 at {last.events:,} events",
                value=now,
                unit="ms",
                goal="<50",
                higher_is_better=False,
            )
        )
        if last is not first:
            out.append(
                Figure(
                    bench="queries",
                    name=f"{name}: p99 growth {first.events:,} -> {last.events:,} events",
                    value=now,
                    unit="ms",
                    baseline=base,
                    baseline_name=f"the same read at {first.events:,} events, same run",
                    goal="ratio<=1.2",
                    higher_is_better=False,
                )
            )
    for what, value in last.rss.items():
        out.append(
            Figure(
                bench="queries",
                name=f"peak RSS, {what}, {last.events:,} events",
                value=value,
                unit="MiB",
                baseline=first.rss.get(what),
                baseline_name=f"the same at {first.events:,} events, same run",
                goal="ratio<=1.2",
                higher_is_better=False,
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="events, comma-separated")
    parser.add_argument("--quick", action="store_true", help="10k and 100k events only")
    parser.add_argument("--calls", type=int, default=40, help="calls per read")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per read at most")
    parser.add_argument("--seed", type=int, default=12380)
    args = parser.parse_args()
    sizes = [10_000, 100_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    measured = [measure(n, args.calls, args.budget, args.seed) for n in sorted(sizes)]
    emit(figures(measured))


if __name__ == "__main__":
    main()
