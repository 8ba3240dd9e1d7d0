"""Catch projections up from the event stores: a new projection, a changed version, a rebuild.

The event stores are the source of truth. A projection missing from the registry, or
registered at another ``version`` than its module's, has its tables dropped and recreated
and is replayed from the beginning of both logs on its own, the other projections keeping
their tables; then it goes live, and live batches (embedded followers, the Faust worker)
skip for it the events at or below where its replay reached. ``jiandu rebuild-projections``
is the same with every projection forced. Both run before a process applies live batches:
``EmbeddedSystem.build`` and the ``projections-worker`` before Faust starts. See
docs/decisions/0010.

In the distributed mode the reset (the DDL) is ``jiandu migrate``'s: the worker starts only
once every projection is registered at its code's version, so its catch-up finds nothing to
reset and only replays rows (docs/decisions/0019).
"""

from __future__ import annotations

import gc
import logging
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from schemas.events import CURRENT_VERSION, SOURCES, EventEnvelope, Source
from services.common.application import JianduApplication
from services.common.application import log_reader as read_only_log
from services.common.eventstore import eventstore_env
from services.common.settings import Settings
from services.projections.rows import Parsed, parsed_beforehand
from services.projections.store import Prepared, ReadStore

log = logging.getLogger(__name__)

# Events read, projected and written per transaction. A batch's rows are merged in memory
# (each row written once per batch: ``writes.write_rows``), so larger batches write less; 2,000
# keeps a batch's memory small (a few MB) whatever the size of the logs.
BATCH = 2000
# The automatic garbage collector is paused during a catch-up (``_few_gc_pauses``); the young
# generations are collected every so many batches (each collection walks the live batches).
GC_EVERY_BATCHES = 25
# Without a TTY, the plain progress line is printed at most this often (seconds).
PLAIN_PROGRESS_EVERY = 5.0

Logs = Mapping[str, JianduApplication]


@dataclass
class CatchUpReport:
    """What a catch-up did: projections reset and gone live, events replayed per source."""

    reset: list[str] = field(default_factory=list)
    live: list[str] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)  # still being caught up by another process

    def __bool__(self) -> bool:
        return bool(self.reset or self.live or self.pending)

    def describe(self) -> str:
        counts = ", ".join(f"{source}: {n} events" for source, n in self.events.items())
        text = f"{', '.join(self.live) or 'no projection'} caught up ({counts or 'nothing read'})"
        if self.pending:
            text += f"; still being caught up elsewhere: {', '.join(self.pending)}"
        return text


def catch_up(
    store: ReadStore,
    logs: Logs,
    *,
    force: bool = False,
    show_progress: bool = False,
    batch: int = BATCH,
) -> CatchUpReport:
    """Bring every stale projection of ``store`` (every one with ``force``) up to the logs' ends.

    Resumable: a catch-up interrupted midway goes on from where its batches reached. Safe to
    run from several processes at once (each event reaches each projection once).
    """
    chosen = store.projections if force else store.stale()
    report = CatchUpReport()
    if not chosen:
        return report
    missing = [s for s in SOURCES if s not in logs]
    if missing:
        raise ValueError(f"catching up needs every event store; missing: {', '.join(missing)}")
    report.reset = store.reset(chosen, force=force)
    replayed = store.replayed()
    reached: dict[str, int] = {}
    with (
        _progress(show_progress) as progress,
        _few_gc_pauses(),
        ThreadPoolExecutor(1, thread_name_prefix="catch-up-writer") as writer,
    ):
        for source in SOURCES:
            app = logs[source]
            position = min(replayed.get((p.name, source), 0) for p in chosen)
            # Counted in log positions (published events and the log's internal ones).
            task = progress.add_task(f"{source} log", total=app.max_position())
            progress.update(task, completed=position)
            applied = 0
            # One stretch is written (in its transaction, on the writer thread) while the next
            # is read and projected: PostgreSQL's or SQLite's work overlaps Python's.
            writing: Future[int] | None = None
            batches = 0
            while True:
                envelopes, known, last = read_parsed(app, position, batch)
                if last == position:
                    break
                with parsed_beforehand(known):
                    prepared = store.prepare(envelopes, chosen)
                if writing is not None:
                    applied += writing.result()  # in order: each stretch after the last
                writing = writer.submit(
                    _replay, store, envelopes, chosen, source, position, last, prepared
                )
                position = last
                progress.update(task, completed=position, total=max(position, app.max_position()))
                batches += 1
                if batches % GC_EVERY_BATCHES == 0:
                    gc.collect(1)  # the young objects only (what cycles the batches left)
            if writing is not None:
                applied += writing.result()
            reached[source] = position
            report.events[source] = applied
    if any(report.events.values()):
        store.analyze(chosen)  # before they go live: their first queries plan on the new rows
    report.live = store.mark_live(chosen, reached)
    report.pending = [p.name for p in store.stale() if p in chosen]
    if report.live or report.pending:
        log.info("projections: %s", report.describe())
    return report


def _replay(
    store: ReadStore,
    envelopes: Sequence[EventEnvelope],
    projections: Sequence[ModuleType],
    source: str,
    after: int,
    through: int,
    prepared: Prepared,
) -> int:
    return store.replay(
        envelopes, projections, source=source, after=after, through=through, prepared=prepared
    )


def read_parsed(
    app: JianduApplication, after: int, limit: int
) -> tuple[list[EventEnvelope], dict[int, Parsed], int]:
    """``app.read_envelopes(after, limit)``, keeping each payload as validated on the way
    (at the current version: an older one is upcast by the projections, as they get it from
    Kafka), so the projections do not validate it again (``rows.parsed_beforehand``).

    A log that is not a :class:`JianduApplication` (a test's stand-in) is read through its
    ``read_envelopes``.
    """
    if not isinstance(app, JianduApplication):
        read, last = app.read_envelopes(after, limit)
        return read, {}, last
    notifications = app.recorder.select_notifications(
        start=after, limit=limit, inclusive_of_start=False
    )
    if not notifications:
        return [], {}, after
    envelopes: list[EventEnvelope] = []
    known: dict[int, Parsed] = {}
    for notification in notifications:
        parsed = app.to_parsed(notification)
        if parsed is None:
            continue
        envelope = parsed[0]
        envelopes.append(envelope)
        if CURRENT_VERSION.get(envelope.event_type) == envelope.version:
            known[id(envelope)] = parsed
    return envelopes, known, notifications[-1].id


@contextmanager
def _progress(show: bool) -> Iterator[Progress | _PlainProgress]:
    """A progress bar with rate and ETA on stderr when it is a terminal; else (``show``
    still asked) a plain line on stderr every few seconds; nothing without ``show``."""
    console = Console(stderr=True)
    if show and not console.is_terminal:
        yield _PlainProgress()
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, disable=not show) as progress:
        yield progress


class _RateColumn(ProgressColumn):
    """Events per second (rich's own speed column counts bytes)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "", style="progress.data.speed")


class _PlainProgress:
    """The progress as a plain line on stderr (no terminal: a log, a pipe), every few seconds."""

    def __init__(self) -> None:
        # description, total, when and where it started (the first update: maybe resumed)
        self.tasks: dict[TaskID, tuple[str, int, float, int | None]] = {}
        self.last = 0.0

    def add_task(self, description: str, total: int) -> TaskID:
        task = TaskID(len(self.tasks))
        self.tasks[task] = (description, total, time.monotonic(), None)
        self.last = time.monotonic()  # the first line after a few seconds, or at the end
        return task

    def update(self, task: TaskID, *, completed: int, total: int | None = None) -> None:
        description, old_total, started, first = self.tasks[task]
        total = old_total if total is None else total
        if first is None:
            first, started = completed, time.monotonic()
        self.tasks[task] = (description, total, started, first)
        now = time.monotonic()
        if now - self.last < PLAIN_PROGRESS_EVERY and completed < total:
            return
        self.last = now
        rate = (completed - first) / max(now - started, 1e-9)
        eta = f"{(total - completed) / rate:.0f} s" if rate > 0 else "?"
        print(
            f"{description}: {completed}/{total} ({rate:,.0f}/s, ETA {eta})",
            file=sys.stderr,
            flush=True,
        )


@contextmanager
def _few_gc_pauses() -> Iterator[None]:
    """Pause Python's automatic garbage collector while batches are replayed.

    A batch allocates hundreds of thousands of short-lived objects, each freed by its
    reference count; the automatic collector still triggers full collections that walk the
    whole heap (every module, every pydantic schema): about a third of a rebuild's time. The
    heap as it is is frozen (never walked again until the end), the young generations are
    collected every ``GC_EVERY_BATCHES`` batches (memory stays bounded should a batch leave
    cycles), and everything is restored afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def log_reader(settings: Settings, source: Source) -> JianduApplication:
    """A read-only view of a service's event store (for relays, catch-ups and rebuilds)."""
    return read_only_log(eventstore_env(settings, source), source)


@contextmanager
def open_logs(settings: Settings, sources: Sequence[Source] = SOURCES) -> Iterator[Logs]:
    readers: dict[str, JianduApplication] = {s: log_reader(settings, s) for s in sources}
    try:
        yield readers
    finally:
        for reader in readers.values():
            reader.close()


def catch_up_projections(
    settings: Settings, store: ReadStore, *, show_progress: bool = False
) -> CatchUpReport:
    """The distributed mode's catch-up: read the event stores named by ``settings``."""
    if not store.stale():
        return CatchUpReport()
    with open_logs(settings) as logs:
        return catch_up(store, logs, show_progress=show_progress)
