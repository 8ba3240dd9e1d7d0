"""The one transaction a group-commit batch runs in (docs/decisions/0023), per event store.

:class:`BatchStore` is what :mod:`services.intake.group_commit` needs of it: lock the
batch's years' ledgers and read their last events and which of its reports exist already
(:meth:`BatchStore.begin`), then insert the vault rows and the events
(:meth:`BatchStore.write`). On PostgreSQL the whole transaction is pipelined into two round
trips and serialized between processes by ``pg_advisory_xact_lock`` per year; on SQLite by
eventsourcing's one writer connection.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.pq import TransactionStatus
from psycopg.sql import SQL, Identifier

from services.intake.domain import ledger_id_for_year

if TYPE_CHECKING:
    from services.intake.vault import VaultRow

# Key space of the ledger's advisory locks (pg_advisory_xact_lock(int, int): this, year).
LEDGER_LOCK_SPACE = 12380
LOCK_HOLD_SECONDS = 5  # a batch's transaction idle this long is ended by the server
LOCK_WAIT_SECONDS = 10  # a batch waits this long for the ledger's lock, then fails (503)


class BatchStore(Protocol):
    """One transaction of the event store, as a batch needs it."""

    def begin(
        self, years: Sequence[int], report_ids: Sequence[UUID]
    ) -> tuple[dict[int, StoredEvent | None], set[UUID]]:
        """Lock the years' ledgers; their last events, and which reports exist already."""
        ...

    def write(self, rows: Sequence[VaultRow], stored: list[StoredEvent]) -> None:
        """Insert the vault rows and the events."""
        ...

    def sent(self) -> None:
        """Everything so far on the server (tests: before a kill)."""
        ...

    def ids(self) -> Sequence[int]:
        """The events' notification ids, once committed."""
        ...


def _stored_event(row: Any) -> StoredEvent | None:
    if row is None:
        return None
    return StoredEvent(
        originator_id=UUID(str(row["originator_id"])),
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )


class PostgresBatch:
    def __init__(
        self, recorder: PostgresApplicationRecorder, conn: Any, curs: Any, pipeline: Any
    ) -> None:
        self.recorder, self.conn, self.curs, self.pipeline = recorder, conn, curs, pipeline
        self.insert_curs = conn.cursor()
        self.stored: list[StoredEvent] = []
        self.table = Identifier(recorder.datastore.schema, recorder.events_table_name)
        self.schema = recorder.datastore.schema

    def begin(
        self, years: Sequence[int], report_ids: Sequence[UUID]
    ) -> tuple[dict[int, StoredEvent | None], set[UUID]]:
        ordered = sorted(set(years))
        # One round trip (the transaction is pipelined): BEGIN, the locks (in year order: no
        # deadlock between processes), the reads they guard. A batch holding the lock and
        # then stalled (its process stopped, its network gone) is ended by the server after
        # LOCK_HOLD_SECONDS idle; a batch waiting longer than that for the lock gives up
        # (LockNotAvailable: an OperationalError, answered 503 with Retry-After).
        self.curs.execute(
            f"SET LOCAL idle_in_transaction_session_timeout = '{LOCK_HOLD_SECONDS}s'",
            prepare=True,
        )
        self.curs.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT_SECONDS}s'", prepare=True)
        for year in ordered:
            self.curs.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                (LEDGER_LOCK_SPACE, year),
                prepare=True,
            )
        ledger_cursors = {}
        for year in ordered:
            cur = self.conn.cursor()
            cur.execute(
                SQL(
                    "SELECT originator_id, originator_version, topic, state FROM {} "
                    "WHERE originator_id = %s ORDER BY originator_version DESC LIMIT 1"
                ).format(self.table),
                (ledger_id_for_year(year),),
                prepare=True,
            )
            ledger_cursors[year] = cur
        exist = self.conn.cursor()
        exist.execute(
            SQL(
                "SELECT originator_id FROM {} "
                "WHERE originator_id = ANY(%s) AND originator_version = 1"
            ).format(self.table),
            (list(report_ids),),
        )
        last = {year: _stored_event(cur.fetchone()) for year, cur in ledger_cursors.items()}
        found = {UUID(str(r["originator_id"])) for r in exist.fetchall()}
        return last, found

    def write(self, rows: Sequence[VaultRow], stored: list[StoredEvent]) -> None:
        # Queued in the pipeline: sent with the COMMIT, in one round trip.
        self._write_vault(rows)
        if stored:
            self.stored = stored
            # eventsourcing's own insert: LOCK TABLE ... IN EXCLUSIVE MODE, NOTIFY, the rows.
            self.recorder._insert_stored_events(self.insert_curs, stored)

    def sent(self) -> None:
        self.pipeline.sync()

    def ids(self) -> Sequence[int]:
        """The events' notification ids, once committed."""
        if not self.stored:
            return []
        ids = self.recorder._fetch_ids_after_insert_events(self.insert_curs, self.stored)
        assert ids is not None
        assert len(ids) == len(self.stored)
        return ids

    def _write_vault(self, rows: Sequence[VaultRow]) -> None:
        by_table: dict[tuple[str, tuple[str, ...], str], list[tuple[Any, ...]]] = {}
        for row in rows:
            by_table.setdefault((row.table, row.columns, row.conflict), []).append(row.values)
        for (table, columns, conflict), values in by_table.items():
            self.curs.executemany(
                SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO NOTHING").format(
                    Identifier(self.schema, table),
                    SQL(", ").join(map(Identifier, columns)),
                    SQL(", ").join(SQL("%s") for _ in columns),
                    Identifier(conflict),
                ),
                values,
            )


class SqliteBatch:
    def __init__(self, recorder: SQLiteApplicationRecorder, curs: Any) -> None:
        self.recorder, self.curs = recorder, curs
        self.table = recorder.events_table_name

    def begin(
        self, years: Sequence[int], report_ids: Sequence[UUID]
    ) -> tuple[dict[int, StoredEvent | None], set[UUID]]:
        # No lock to take: the datastore's one writer connection, held for the transaction.
        last = {}
        for year in set(years):
            self.curs.execute(
                f"SELECT originator_id, originator_version, topic, state FROM {self.table} "
                "WHERE originator_id = ? ORDER BY originator_version DESC LIMIT 1",
                (ledger_id_for_year(year).hex,),
            )
            last[year] = _stored_event(self.curs.fetchone())
        found = set()
        for report_id in report_ids:
            self.curs.execute(
                f"SELECT 1 FROM {self.table} WHERE originator_id = ? AND originator_version = 1",
                (report_id.hex,),
            )
            if self.curs.fetchone() is not None:
                found.add(report_id)
        return last, found

    def write(self, rows: Sequence[VaultRow], stored: list[StoredEvent]) -> None:
        for row in rows:
            self.curs.execute(
                f"INSERT INTO {row.table} ({', '.join(row.columns)}) "
                f"VALUES ({', '.join('?' for _ in row.columns)}) "
                f"ON CONFLICT ({row.conflict}) DO NOTHING",
                row.values,
            )

        self._ids: Sequence[int] = []
        if stored:
            ids = self.recorder._insert_events(self.curs, stored)
            assert ids is not None
            assert len(ids) == len(stored)
            self._ids = ids

    def sent(self) -> None:
        pass

    def ids(self) -> Sequence[int]:
        return self._ids


def supported(recorder: Any) -> bool:
    """Whether group commit knows this event store (else one save a submission)."""
    return isinstance(recorder, PostgresApplicationRecorder | SQLiteApplicationRecorder)


@contextmanager
def batch_transaction(recorder: Any) -> Iterator[BatchStore]:
    """One transaction of the event store (PostgreSQL or SQLite), committed on exit."""
    if isinstance(recorder, PostgresApplicationRecorder):
        datastore = recorder.datastore
        with datastore.get_connection() as conn:
            try:
                # The whole transaction pipelined: two round trips (BEGIN and the reads;
                # the writes and COMMIT), the pipeline's exit waiting for the COMMIT.
                with conn.pipeline() as pipeline, conn.transaction(), conn.cursor() as curs:
                    yield PostgresBatch(recorder, conn, curs, pipeline)
            except BaseException:
                if conn.info.transaction_status != TransactionStatus.IDLE:
                    conn.rollback()  # a failure at the COMMIT's sync leaves it open
                raise
        return
    assert isinstance(recorder, SQLiteApplicationRecorder)
    with recorder.datastore.transaction(commit=True) as curs:
        yield SqliteBatch(recorder, curs)
