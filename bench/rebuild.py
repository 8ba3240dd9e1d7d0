"""Rebuild of the read models: events/s against a bare read of the logs, in the same run.

Seeds the demo county (``services/demo``: ``--count`` reports over two years, every path of
the procedure) into a fresh system, in each mode asked for:

* ``sqlite``: the embedded mode (SQLite event stores and read models in a data folder);
* ``postgres``: the same applications on PostgreSQL (a throwaway server, or the one named by
  ``JIANDU_TEST_POSTGRES_URL``), event stores and read models in their own schemas, as the
  distributed mode keeps them.

Then, ``--rounds`` times, interleaved (the machine is shared: only a ratio from the same run
is worth reading):

* the baseline: reading both event logs into public-contract envelopes, batch by batch,
  nothing projected (``read_envelopes``, as the rebuild reads them);
* ``rebuild_store``: dropping every read model and replaying both logs through every
  projection (``jiandu rebuild-projections`` without its progress bar).

Figures: the median of each over the rounds, events/s, and the ratio (goal: >= 0.5).

Run from the repository root: ``.venv/bin/python bench/rebuild.py [--count 400]
[--mode both|sqlite|postgres] [--rounds 3]``.
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from bench.figures import Figure, emit
from bench.servers import postgres_database
from services.bootstrap import EmbeddedSystem
from services.common.application import JianduApplication
from services.demo import seed
from services.projections.catchup import BATCH
from services.projections.rebuild import rebuild_store
from tests.integration.helpers import pg_settings
from tests.unit.conftest import make_settings

BASELINE = "bare read of both logs (decoded envelopes), same run"


@contextmanager
def embedded(folder: Path) -> Iterator[tuple[EmbeddedSystem, str]]:
    system = EmbeddedSystem.build(make_settings(folder / "data"))
    try:
        yield system, "SQLite (embedded mode)"
    finally:
        system.stop()


@contextmanager
def on_postgres(folder: Path) -> Iterator[tuple[EmbeddedSystem, str]]:
    with postgres_database() as (dsn, described):
        system = EmbeddedSystem.build(pg_settings(dsn, folder))
        try:
            yield system, described
        finally:
            system.stop()


def read_all(logs: dict[str, JianduApplication], batch: int) -> int:
    """The baseline: every published event of both logs as an envelope, nothing else."""
    n = 0
    for app in logs.values():
        position = 0
        while True:
            envelopes, last = app.read_envelopes(position, batch)
            if last == position:
                break
            n += len(envelopes)
            position = last
    return n


def measure(mode: str, count: int, rounds: int) -> Figure:
    with tempfile.TemporaryDirectory(prefix="jiandu-bench-rebuild-") as folder:
        factory = embedded if mode == "sqlite" else on_postgres
        with factory(Path(folder)) as (system, what):
            began = time.perf_counter()
            counts = seed(system, count=count)
            logs: dict[str, JianduApplication] = {
                "intake": system.intake,
                "casework": system.casework,
            }
            events = read_all(logs, BATCH)
            print(
                f"{what}: {counts['reports']} reports, {counts['cases']} cases, "
                f"{events} published events, seeded in {time.perf_counter() - began:.1f} s",
                flush=True,
            )
            reads, rebuilds = [], []
            for round_ in range(rounds):
                start, cpu = time.perf_counter(), time.process_time()
                read_all(logs, BATCH)
                reads.append(time.perf_counter() - start)
                read_cpu = time.process_time() - cpu
                start, cpu = time.perf_counter(), time.process_time()
                report = rebuild_store(system.read.store, logs, show_progress=False)
                rebuilds.append(time.perf_counter() - start)
                rebuild_cpu = time.process_time() - cpu
                assert sum(report.events.values()) == events, report.events
                # This process's CPU time too: steadier than wall time on a busy machine
                # (the database server's CPU is not in it).
                print(
                    f"  round {round_ + 1}: read {reads[-1] * 1000:.0f} ms, "
                    f"rebuild {rebuilds[-1] * 1000:.0f} ms "
                    f"({reads[-1] / rebuilds[-1]:.2f}x; this process's CPU: read "
                    f"{read_cpu * 1000:.0f} ms, rebuild {rebuild_cpu * 1000:.0f} ms, "
                    f"{read_cpu / rebuild_cpu:.2f}x)",
                    flush=True,
                )
            read, rebuild = statistics.median(reads), statistics.median(rebuilds)
            return Figure(
                bench="rebuild",
                name="rebuild of every read model, "
                + ("embedded (SQLite)" if mode == "sqlite" else "distributed (PostgreSQL)"),
                value=events / rebuild,
                unit="events/s",
                baseline=events / read,
                baseline_name=BASELINE,
                goal="ratio>=0.5",
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=400, help="demo reports to seed")
    parser.add_argument("--mode", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    args = parser.parse_args()
    modes = ["sqlite", "postgres"] if args.mode == "both" else [args.mode]
    emit([measure(mode, args.count, args.rounds) for mode in modes])


if __name__ == "__main__":
    main()
