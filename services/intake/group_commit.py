"""Group commit at intake (docs/decisions/0023): concurrent submissions, one transaction.

Callers prepare their submission outside any lock — validation, keyed digests, the
vault's encryption and the argon2 hash of a mailbox password — and hand it to the
process's :class:`GroupCommitter`. Its one thread takes every submission waiting (up to
``batch_size``; optionally lingering ``batch_wait`` seconds for more) and stores them in
ONE transaction (:mod:`services.intake.batch_store`), pipelined into two round trips on
PostgreSQL:

1. ``pg_advisory_xact_lock`` per year of the batch (sorted): every intake process
   serializes its batches' allocation and commit on it, so a ledger number is never read
   by two transactions at once — no ledger conflict, no retry (on SQLite, eventsourcing's
   one writer connection serializes the same way); then, under it, the year's last ledger
   event (the next number) and which reports of the batch exist already (retries);
2. each new report's events built with its number, one report at a time (a submission
   that fails here is answered with its own error and takes no number); the vault rows
   (when the vault lives in the event store's database) and the events inserted
   (eventsourcing's own insert: table lock, NOTIFY, rows); COMMIT.

Only when the COMMIT has answered is each caller answered: acknowledged only after
durable. A batch that fails as a whole (the database away) fails each of its callers with
that error (a 503 upstream); nothing of it is stored. A unique violation (a writer outside
the locks stored one of its reports meanwhile) rolls the batch back and retries it, the
stored report answered as a retry.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Mapper, Notification, Recording, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from services.intake.batch_store import BatchStore, batch_transaction
from services.intake.domain import Ledger, Report, ledger_id_for_year
from services.intake.errors import IdempotencyKeyReused, SubmissionContention

if TYPE_CHECKING:
    from schemas.events import Actor
    from schemas.submissions import ReportSubmission, SubmissionReceipt
    from services.intake.vault import VaultRow

log = logging.getLogger(__name__)

BATCH_ATTEMPTS = 5


class BatchOwner(Protocol):
    """What the group committer needs of the application it stores batches for
    (``IntakeApplication``; named here as a protocol so that this module sits below it)."""

    @property
    def env(self) -> Any: ...
    @property
    def keys(self) -> Any: ...  # IntakeKeys
    @property
    def vault(self) -> Any: ...  # ReporterVault
    @property
    def mapper(self) -> Mapper[UUID]: ...
    @property
    def recorder(self) -> Any: ...  # the event store's ApplicationRecorder

    def receipt(self, report: Report) -> SubmissionReceipt: ...
    def _notify(self, recordings: list[Recording[UUID]]) -> None: ...
    def _registered_report(self, item: Prepared, sequence: int) -> Report: ...
    def _existing(self, report_id: UUID) -> Report | None: ...
    def _answer_report(
        self, existing: Report, submission: ReportSubmission
    ) -> SubmissionReceipt: ...
    def _answer_existing(
        self, report_id: UUID, submission: ReportSubmission
    ) -> SubmissionReceipt: ...


@dataclass
class Prepared:
    """One submission, ready to be numbered and stored."""

    report_id: UUID
    reporter_ref: str
    submission: ReportSubmission
    digest: str
    actor: Actor
    today: Any  # dt.date
    vault_rows: list[VaultRow]
    # The report a staff key named before keys were per submitter (decision 0013): the
    # submission is that report's retry when it exists and the same account sent it.
    legacy_id: UUID | None = None
    # Made by the caller (Registration._prepare, registration.py), outside the batch:
    received: Any = None  # the report's Received event
    received_stored: StoredEvent | None = None  # ... encoded
    notice_due: dict[str, Any] | None = None  # the acceptance notice's deadline (real name)
    future: Future[SubmissionReceipt] = field(default_factory=Future)

    @property
    def year(self) -> int:
        return int(self.today.year)


@dataclass
class _Plan:
    events: list[Any] = field(default_factory=list)
    stored: list[StoredEvent] = field(default_factory=list)  # the events, encoded
    vault_rows: list[VaultRow] = field(default_factory=list)
    answers: list[tuple[Prepared, Report]] = field(default_factory=list)
    errors: list[tuple[Prepared, BaseException]] = field(default_factory=list)
    existing: list[Prepared] = field(default_factory=list)  # stored before: retries
    legacy: list[Prepared] = field(default_factory=list)  # their key's legacy report exists
    duplicates: list[tuple[Prepared, Prepared]] = field(default_factory=list)  # same report


def same_database(app: BatchOwner) -> bool:
    """Whether the vault's tables live in the event store's database (and schema): then
    the vault rows are written in the batch's transaction."""
    db = app.vault._db
    recorder = app.recorder
    if isinstance(recorder, PostgresApplicationRecorder):
        from psycopg.conninfo import conninfo_to_dict

        if db.postgres_url is None:
            return False
        info = conninfo_to_dict(db.postgres_url)
        env = app.env
        return bool(
            db.schema == recorder.datastore.schema
            and str(info.get("dbname") or "postgres") == env.get("POSTGRES_DBNAME")
            and str(info.get("host") or "127.0.0.1") == env.get("POSTGRES_HOST")
            and str(info.get("port") or "5432") == env.get("POSTGRES_PORT")
        )
    if isinstance(recorder, SQLiteApplicationRecorder) and db.sqlite_path is not None:
        name = app.env.get("SQLITE_DBNAME") or ""
        return ":memory:" not in name and Path(name).resolve() == db.sqlite_path.resolve()
    return False


class GroupCommitter:
    """Collects prepared submissions and stores them a batch (one transaction) at a time."""

    def __init__(
        self,
        app: BatchOwner,
        *,
        batch_size: int = 200,
        batch_wait: float = 0.0,
    ) -> None:
        self.app = app
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.vault_in_batch = same_database(app)
        self._queue: list[Prepared] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        # Counters, for the bench and the tests: batches committed, reports stored.
        self.batches = 0
        self.stored = 0
        self.batch_retries = 0
        self.transaction_seconds = 0.0  # time inside batch transactions (the lock held)
        # Tests: called inside the transaction, before the commit (kill -9 mid-batch).
        self.before_commit: Callable[[list[Prepared]], None] | None = None

    def submit(self, item: Prepared) -> SubmissionReceipt:
        with self._cond:
            if self._closed:
                raise RuntimeError("intake is closing")
            self._queue.append(item)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="intake-group-commit", daemon=True
                )
                self._thread.start()
            self._cond.notify()
        return item.future.result()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=10)

    # -- the committer thread ------------------------------------------------------------------

    def _take(self) -> list[Prepared] | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if not self._queue:
                return None
            if self.batch_wait > 0 and len(self._queue) < self.batch_size:
                deadline = time.monotonic() + self.batch_wait
                while len(self._queue) < self.batch_size and not self._closed:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            batch, self._queue = self._queue[: self.batch_size], self._queue[self.batch_size :]
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            try:
                self._store(batch)
            except BaseException as error:  # every caller hears of it; the thread goes on
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(error)

    def _store(self, batch: list[Prepared]) -> None:
        pending = list(batch)
        for _ in range(BATCH_ATTEMPTS):
            try:
                self._attempt(pending)
                return
            except IntegrityError:
                # Another writer stored one of these reports meanwhile (outside our locks):
                # nothing of this batch was stored; the next attempt sees it as existing.
                self.batch_retries += 1
                pending = [item for item in pending if not item.future.done()]
            if not pending:
                return
        for item in pending:
            if not item.future.done():
                item.future.set_exception(SubmissionContention())

    def _attempt(self, batch: list[Prepared]) -> None:
        began = time.perf_counter()
        with batch_transaction(self.app.recorder) as store:
            plan = self._plan(store, batch)
            stored = plan.stored
            store.write(plan.vault_rows, stored)
            if self.before_commit is not None:
                store.sent()
                self.before_commit(batch)
        # Committed (durable): now, and only now, answer.
        self.transaction_seconds += time.perf_counter() - began
        ids = store.ids()
        self.batches += 1
        self.stored += len(plan.answers)
        # As after a save: the embedded followers woken, then the callers answered.
        try:
            if stored:
                self.app._notify(
                    [
                        Recording(
                            e,
                            Notification(
                                originator_id=s.originator_id,
                                originator_version=s.originator_version,
                                topic=s.topic,
                                state=s.state,
                                id=n,
                            ),
                        )
                        for e, s, n in zip(plan.events, stored, ids, strict=True)
                    ]
                )
        except Exception:  # a listener's failure is not the submitters' (all is stored)
            log.exception("waking the followers after an intake batch failed")
        self._answer(plan)

    def _plan(self, store: BatchStore, batch: list[Prepared]) -> _Plan:
        """The batch's events, numbered from the ledgers as stored (read under the locks)."""
        plan = _Plan()
        first: dict[UUID, Prepared] = {}
        for item in batch:
            if item.report_id in first:
                plan.duplicates.append((item, first[item.report_id]))
            else:
                first[item.report_id] = item
        legacy_ids = [item.legacy_id for item in first.values() if item.legacy_id is not None]
        last, exist = store.begin([item.year for item in batch], [*first, *legacy_ids])
        ledgers: dict[int, tuple[UUID, int, int]] = {}  # year: (ledger id, version, number)
        encode = self.app.mapper.to_stored_event
        for item in first.values():
            if item.legacy_id is not None and item.legacy_id in exist:
                plan.legacy.append(item)
                continue
            if item.report_id in exist:
                plan.existing.append(item)
                continue
            if item.year not in ledgers:
                ledgers[item.year] = self._ledger_position(item.year, last[item.year], plan)
            ledger_id, version, sequence = ledgers[item.year]
            assert item.received_stored is not None  # Registration._prepare
            try:
                report = self.app._registered_report(item, sequence + 1)
                allocated = Ledger.NumberAllocated(  # type: ignore[call-arg]
                    originator_id=ledger_id,
                    originator_version=version + 1,
                    timestamp=Ledger.NumberAllocated.create_timestamp(),
                    sequence=sequence + 1,
                    report_id=item.report_id,
                )
                events = report.collect_events()
                stored = [encode(e) for e in events]
                allocated_stored = encode(allocated)
            except Exception as error:  # this submission only: no number taken
                plan.errors.append((item, error))
                continue
            ledgers[item.year] = (ledger_id, version + 1, sequence + 1)
            # The log as a one-by-one save wrote it: the ledger's event, then the report's.
            plan.events += [allocated, item.received, *events]
            plan.stored += [allocated_stored, item.received_stored, *stored]
            if self.vault_in_batch:
                plan.vault_rows.extend(item.vault_rows)
            plan.answers.append((item, report))
        return plan

    def _answer(self, plan: _Plan) -> None:
        app = self.app
        for item, failure in plan.errors:
            item.future.set_exception(failure)
        for item, report in plan.answers:
            item.future.set_result(app.receipt(report))
        for item in plan.existing:
            _answer_from_store(app, item)
        for item in plan.legacy:
            self._answer_legacy(item)
        for item, original in plan.duplicates:
            if original.future.done():
                _answer_duplicate(app, item, original)
            else:  # its original went on to the next batch (a legacy key): so does it
                self._requeue(item)

    def _answer_legacy(self, item: Prepared) -> None:
        """The key's legacy report exists: the answer, when the same account sent it; else
        the submission is a new one (next batch)."""
        assert item.legacy_id is not None
        try:
            legacy = self.app._existing(item.legacy_id)
            if legacy is not None and legacy.received_by.get("id") == item.actor.id:
                item.future.set_result(self.app._answer_report(legacy, item.submission))
                return
        except BaseException as error:
            item.future.set_exception(error)
            return
        item.legacy_id = None
        self._requeue(item)

    def _requeue(self, item: Prepared) -> None:
        with self._cond:
            self._queue.insert(0, item)
            self._cond.notify()

    def _ledger_position(
        self, year: int, last: StoredEvent | None, plan: _Plan
    ) -> tuple[UUID, int, int]:
        """The year's ledger as stored (read under the year's lock): its id, version and last
        number. A year without a ledger gets one opened in this batch."""
        ledger_id = ledger_id_for_year(year)
        if last is None:
            ledger = Ledger.open(year)
            for opened in ledger.collect_events():
                plan.events.append(opened)
                plan.stored.append(self.app.mapper.to_stored_event(opened))
            return ledger_id, ledger.version, 0
        event = self.app.mapper.to_domain_event(last)
        sequence = getattr(event, "sequence", 0)  # Opened: none yet
        return ledger_id, last.originator_version, int(sequence)


def _answer_from_store(app: BatchOwner, item: Prepared) -> None:
    """A report already stored (a retry that raced its first attempt): its first receipt,
    when the body is the same; refused when the key was reused for another body."""
    try:
        item.future.set_result(app._answer_existing(item.report_id, item.submission))
    except BaseException as error:
        item.future.set_exception(error)


def _answer_duplicate(app: BatchOwner, item: Prepared, original: Prepared) -> None:
    """The same report twice in one batch (a retry while the first attempt waited)."""
    error = original.future.exception()
    if error is not None:
        item.future.set_exception(error)
        return
    if not app.keys.matches(original.digest, item.submission):
        item.future.set_exception(IdempotencyKeyReused())
        return
    item.future.set_result(original.future.result())
