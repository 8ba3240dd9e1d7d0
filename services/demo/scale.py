"""``jiandu demo --scale N``: a large, realistic history written in bulk (docs/decisions/0027).

N reports over several years (about ``REPORTS_PER_YEAR`` a year, at least two years), about
a register that grows with N (imported the way ``jiandu import-cadres`` does), each report
naming one cadre or several, most of them accepted into a case that goes through the
procedure as the demo's cases do (``stories/plot.py``: dispositions, inquiries, findings,
conclusions, handlings, clearings, closures, feedback, parked reviews …), the steps dated
after ``today`` not taken, so cases stand at every stage and some are overdue.

The events are made by the real aggregates (``Report``, ``Ledger``, ``Case``) and the
casework application's own command handlers (which compute the deadlines), in memory, on
injected business days; then saved through each application's recorder ``CHUNK`` reports at
a time (their reports, ledgers and cases in one transaction per store), never over HTTP and
never one transaction per report. Memory stays bounded: only the chunk being made, the
register and one ledger per year are held. Casework's position in intake's log is recorded
last (its consumer does not open the cases again), then the read models are rebuilt by the
ordinary catch-up (``rebuild_store``: streamed, batch by batch).

This module writes and projects; the history itself (its shape, register, reports and
cases) is made by ``scale_history.py``. Deterministic for a given N, seed and today (the
aggregates' ids and every choice; only the recording timestamps differ). Refuses event
stores that hold anything: it adds a history, it does not merge one into another (a ledger
year already begun, the same seed's ids again).
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Tracking

from schemas.views import CadreRecord
from services.casework.application import CaseworkApplication
from services.common.settings import Settings
from services.demo.scale_history import HistoryMaker, Shape, recording_on, register_rows, rng_of
from services.intake.application import IntakeApplication

DEFAULT_SEED = 12380
CHUNK = 500  # reports made and saved per transaction (with their ledgers and cases): see below


class StoresNotEmpty(Exception):
    """The event stores already hold events: the generator writes into empty ones only."""

    def __init__(self, counts: dict[str, int]) -> None:
        held = ", ".join(f"{source}: position {n}" for source, n in counts.items() if n)
        super().__init__(
            f"the event stores are not empty ({held}); `jiandu demo --scale` writes a history "
            "into empty stores only (a fresh --data folder or fresh databases)"
        )


@dataclass
class Written:
    """What the generator wrote, and how fast."""

    shape: Shape
    events: dict[str, int] = field(default_factory=dict)
    tally: Counter[str] = field(default_factory=Counter)
    seconds_writing: float = 0.0
    seconds_projecting: float = 0.0
    projected: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.events.values())

    def describe(self) -> list[str]:
        t = self.tally
        rate = self.total / self.seconds_writing if self.seconds_writing else 0.0
        lines = [
            f"{self.shape.reports} reports over {self.shape.years} years to {self.shape.today}, "
            f"{self.shape.cadres} cadres, {self.shape.handlers} handlers",
            f"{t['accepted']} cases opened, {t['registered_only']} reports waiting for triage, "
            f"{t['received_only']} waiting for registration, "
            f"{t['triaged:transfer_down'] + t['triaged:refer_out']} sent elsewhere; {t['steps']} procedure steps "
            f"({t['stopped']} stories stopped by a rule)",
            f"events written: {self.total} ("
            + ", ".join(f"{s}: {n}" for s, n in self.events.items())
            + f") in {self.seconds_writing:.1f} s, {rate:,.0f} events/s",
        ]
        if self.projected:
            lines.append(
                f"read models rebuilt in {self.seconds_projecting:.1f} s ("
                + ", ".join(f"{s}: {n} events" for s, n in self.projected.items())
                + ")"
            )
        return lines


def import_register(settings: Settings, rows: Sequence[CadreRecord]) -> int:
    """Into the register as ``jiandu import-cadres`` imports a CSV (all rows or none)."""
    from services.bootstrap import build_read_side

    read = build_read_side(settings)
    try:
        with tempfile.TemporaryDirectory(prefix="jiandu-scale-") as folder:
            path = Path(folder) / "cadres.csv"
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(("cadre_id", "name", "unit", "position", "management_level"))
                for r in rows:
                    writer.writerow(
                        (r.cadre_id, r.name, r.unit, r.position, r.management_level.value)
                    )
            return read.register.import_csv(path)
    finally:
        read.store.db.close()


# -- the generator -----------------------------------------------------------------------------


def _counts(intake: IntakeApplication, casework: CaseworkApplication) -> dict[str, int]:
    return {"intake": intake.max_position(), "casework": casework.max_position()}


def generate(
    settings: Settings,
    reports: int,
    *,
    today: dt.date,
    seed: int = DEFAULT_SEED,
    chunk: int = CHUNK,
    project: bool = True,
    progress: Callable[[str], None] = print,
    show_progress: bool = False,
) -> Written:
    """Write a history of ``reports`` reports into the (empty) event stores of ``settings``,
    then rebuild the read models from them (``project``)."""
    from services.bootstrap import build_casework, build_config, build_intake
    from services.migrate import migrate

    if reports < 1:
        raise ValueError("--scale needs at least one report")
    if not settings.distributed:
        migrate(settings)  # embedded: this process makes its stores; distributed: `jiandu migrate`
    config = build_config(settings)
    intake = build_intake(settings, config, case_states=lambda _case_id: None)
    casework = build_casework(settings, config)
    # Nothing is read back: the repositories' aggregate caches would only hold the last
    # thousand aggregates saved (memory that a history's size should not change).
    intake.repository.cache = None
    casework.repository.cache = None
    written = Written(Shape.of(reports, today))
    try:
        before = _counts(intake, casework)
        if any(before.values()):
            raise StoresNotEmpty(before)
        cadres = register_rows(written.shape.cadres, rng_of(seed, "register"))
        progress(f"register: {import_register(settings, cadres)} cadres imported")
        maker = HistoryMaker(written.shape, seed, cadres, intake, casework)
        with recording_on(maker.clock):
            _write(maker, written, chunk, progress)
    finally:
        intake.close()
        casework.close()
    if project:
        _project(settings, written, show_progress)
    return written


def _write(
    maker: HistoryMaker, written: Written, chunk: int, progress: Callable[[str], None]
) -> None:
    """Every report made and saved, ``chunk`` at a time: one transaction per store each."""
    intake, casework, reports = maker.intake, maker.casework, written.shape.reports
    saved: Counter[str] = Counter(intake=0, casework=0)
    began = time.perf_counter()
    for start in range(0, reports, chunk):
        made_reports: list[Any] = []
        made_cases: list[Any] = []
        for n in range(start, min(start + chunk, reports)):
            report, case = maker.make(n, written.tally)
            made_reports.append(report)
            if case is not None:
                made_cases.append(case)
        ledgers = [ledger for ledger in maker.ledgers.values() if ledger.pending_events]
        saved["intake"] += len(intake.save(*ledgers, *made_reports))
        if made_cases:
            saved["casework"] += len(casework.save(*made_cases))
        events = sum(saved.values())
        elapsed = time.perf_counter() - began
        progress(
            f"  {min(start + chunk, reports)}/{reports} reports, {events} events, "
            f"{events / max(elapsed, 1e-9):,.0f} events/s"
        )
    # Casework has seen every acceptance: its consumer goes on after them, not through them.
    casework.process_recorder.insert_events([], tracking=Tracking("intake", intake.max_position()))
    written.seconds_writing = time.perf_counter() - began
    written.events = dict(saved)


def _project(settings: Settings, written: Written, show_progress: bool) -> None:
    """The read models rebuilt from the logs (the catch-up ``jiandu rebuild-projections`` runs)."""
    from services.common.sql import Database
    from services.projections.catchup import open_logs
    from services.projections.rebuild import rebuild_store
    from services.projections.store import ReadStore

    began = time.perf_counter()
    store = ReadStore(Database.for_service(settings, "projections"))
    try:
        with open_logs(settings) as logs:
            report = rebuild_store(store, logs, show_progress=show_progress)
    finally:
        store.db.close()
    written.projected = report.events
    written.seconds_projecting = time.perf_counter() - began
