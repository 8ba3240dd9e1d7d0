"""The information base on the demonstration data: projection replay and the views people open.

Seeds the demo county (``services/demo``: 400 reports over two years, every path of the
procedure) into a fresh embedded data folder, then measures, in the same run:

* the baseline: reading both event logs into public-contract envelopes, nothing projected;
* ``rebuild_store``: dropping every read model and replaying both logs through every
  projection (events/s, and its ratio to the baseline read);
* the views: each cadre's archive, one integrity reply for every registered cadre (and as a
  Word document), the liaison statistics over two years, a quarterly report, each work queue.

Run from the repository root: ``.venv/bin/python bench/read_side.py [--count 400]``.
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from schemas.views_archive import IntegrityRequest
from services.bootstrap import EmbeddedSystem
from services.demo import DEMO_TODAY, seed
from services.projections.archive.documents import integrity_reply_docx
from services.projections.archive.integrity import IntegrityReplies
from services.projections.archive.queries import ArchiveQueries
from services.projections.liaison.queries import LiaisonQueries
from services.projections.rebuild import rebuild_store
from tests.unit.conftest import make_settings


def timed(fn: Callable[[], Any], repeat: int = 5) -> tuple[float, Any]:
    """The median wall time of ``repeat`` calls (seconds), and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=400, help="demo reports to seed")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="jiandu-bench-") as folder:
        system = EmbeddedSystem.build(make_settings(Path(folder)))
        try:
            start = time.perf_counter()
            counts = seed(system, count=args.count)
            seeding = time.perf_counter() - start
            logs = {"intake": system.intake, "casework": system.casework}
            events = sum(app.max_position() for app in logs.values())
            print(
                f"demo seed: {counts['reports']} reports, {counts['cases']} cases, "
                f"{events} events in {seeding:.1f} s"
            )

            def read_all() -> int:
                n = 0
                for app in logs.values():
                    position, total = 0, app.max_position()
                    while position < total:
                        envelopes, position = app.read_envelopes(position, 1000)
                        n += len(envelopes)
                return n

            baseline, read = timed(read_all, repeat=3)
            rebuild, _ = timed(
                lambda: rebuild_store(system.read.store, logs, show_progress=False), repeat=3
            )
            print(
                f"baseline, read {read} envelopes: {baseline * 1000:.0f} ms "
                f"({read / baseline:,.0f} events/s)"
            )
            print(
                f"rebuild of every read model: {rebuild * 1000:.0f} ms "
                f"({read / rebuild:,.0f} events/s, {baseline / rebuild:.2f}x the bare read)"
            )

            today = lambda: DEMO_TODAY  # noqa: E731
            archives = ArchiveQueries(system.read.store, system.read.register)
            cadres = [
                r["cadre_id"]
                for r in system.read.store.query("SELECT cadre_id FROM cadres ORDER BY cadre_id")
            ]
            replies = IntegrityReplies(archives, today=today)
            liaison = LiaisonQueries(system.read.store, today=today)
            request = IntegrityRequest(cadre_ids=cadres[:50], as_of=DEMO_TODAY)
            figures: list[tuple[str, Callable[[], Any]]] = [
                ("archive, one cadre (median of all)", lambda: None),
                ("integrity reply, 50 cadres", lambda: replies.reply(request)),
                (
                    "integrity reply, 50 cadres, Word",
                    lambda: integrity_reply_docx(replies.reply(request)),
                ),
                (
                    "liaison statistics, two years, every dimension",
                    lambda: liaison.statistics(dt.date(2024, 11, 1), DEMO_TODAY),
                ),
                ("liaison quarterly report 2026-Q3", lambda: liaison.quarterly_report(2026, 3)),
                ("queue: untriaged", system.read.cases.untriaged),
                ("queue: overdue", system.read.cases.overdue),
                ("queue: due soon", system.read.cases.due_soon),
                ("queue: awaiting approval", system.read.cases.awaiting_approval),
                ("queue: mine (handler)", lambda: system.read.cases.mine("handler")),
            ]
            per_cadre = []
            for cadre_id in cadres:
                seconds, _ = timed(lambda c=cadre_id: archives.archive(c), repeat=3)
                per_cadre.append(seconds)
            print(f"{'view':<50} {'median ms':>10}")
            print(
                f"{figures[0][0]:<50} {statistics.median(per_cadre) * 1000:>10.1f}"
                f"   (max {max(per_cadre) * 1000:.1f} over {len(cadres)} cadres)"
            )
            for name, fn in figures[1:]:
                seconds, result = timed(fn)
                size = f"   ({len(result)} items)" if isinstance(result, list) else ""
                print(f"{name:<50} {seconds * 1000:>10.1f}{size}")
        finally:
            system.stop()


if __name__ == "__main__":
    main()
