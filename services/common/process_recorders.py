"""eventsourcing's process recorders, with what a batch of upstream events needs.

A process application that handles a run of upstream events in one transaction records one
tracking row: the last position it processed. eventsourcing's single-row tracking accepts
that row when it is above the recorded maximum; alone, that would let a batch whose first
events another consumer processed meanwhile (a rebalance mid-batch) go through and cause
them twice. So the batch also names the first position it processed
(``tracking_from=Tracking(name, first)``, passed through ``ProcessingEvent.collect_events``
to ``insert_events``), and the recorder writes that one first, in the same transaction: it
is refused (``IntegrityError``, nothing stored) unless the recorded maximum is below the
batch's first position. Both rows are eventsourcing's own statement
(``INSERT … ON CONFLICT DO UPDATE … WHERE notification_id < new``), which also locks the
tracking row until the commit, so two consumers of one partition take turns.

``events_of`` reads the stored events of several aggregates in one query: a batch asks
once for all its cases (the new ones have none) instead of loading each one by one.

``use_batch_recorders(factory)`` makes a factory build these (PostgreSQL or SQLite).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InfrastructureFactory, StoredEvent, Tracking
from eventsourcing.postgres import PostgresFactory, PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteFactory, SQLiteProcessRecorder
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier

TRACKING_FROM = "tracking_from"

SQLITE_MAX_PARAMETERS = 500


class BatchPostgresProcessRecorder(PostgresProcessRecorder):
    def _insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        guard: Tracking | None = kwargs.get(TRACKING_FROM)
        if guard is not None:
            self._insert_tracking(curs, guard)
        super()._insert_events(curs, stored_events, **kwargs)

    def events_of(self, ids: Iterable[UUID]) -> list[StoredEvent]:
        """Every stored event of these aggregates, by aggregate and version."""
        wanted = list(set(ids))
        if not wanted:
            return []
        statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {0}.{1} "
            "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (wanted,), prepare=True)
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]


class BatchSQLiteProcessRecorder(SQLiteProcessRecorder):
    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        guard: Tracking | None = kwargs.get(TRACKING_FROM)
        if guard is not None:
            self._insert_tracking(c, guard)
        return super()._insert_events(c, stored_events, **kwargs)

    def events_of(self, ids: Iterable[UUID]) -> list[StoredEvent]:
        """Every stored event of these aggregates, by aggregate and version."""
        wanted = [i.hex for i in set(ids)]
        found: list[StoredEvent] = []
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(wanted), SQLITE_MAX_PARAMETERS):
                chunk = wanted[start : start + SQLITE_MAX_PARAMETERS]
                marks = ",".join("?" * len(chunk))
                c.execute(
                    "SELECT originator_id, originator_version, topic, state "
                    f"FROM {self.events_table_name} WHERE originator_id IN ({marks}) "
                    "ORDER BY originator_id, originator_version",
                    chunk,
                )
                found += [
                    StoredEvent(
                        originator_id=UUID(row[0]),
                        originator_version=row[1],
                        topic=row[2],
                        state=bytes(row[3]),
                    )
                    for row in c.fetchall()
                ]
        return found


def use_batch_recorders(factory: InfrastructureFactory[Any]) -> None:
    """Make ``factory.process_recorder()`` build a batch recorder (unless the environment
    names a process recorder class itself)."""
    key = InfrastructureFactory.PROCESS_RECORDER_TOPIC
    if factory.env.get(key):
        return
    if isinstance(factory, PostgresFactory):
        factory.env[key] = get_topic(BatchPostgresProcessRecorder)
    elif isinstance(factory, SQLiteFactory):
        factory.env[key] = get_topic(BatchSQLiteProcessRecorder)
