"""The read-model store: applies projections' rows and the consumer's position atomically.

Each batch runs in one transaction: events at or below the position recorded for
``(consumer, source, partition)`` are skipped, the rest are projected and the position
moves on, so a redelivered event changes nothing. Rows are upserts keyed by the event's
identity or the entity's, writing only the columns an event knows, so events of different
aggregates may arrive in any order; a full replay in log order rebuilds the same tables.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any

from prometheus_client import Counter

from schemas.events import EventEnvelope, UnknownEventType
from services.common.sql import Cursor, Database, check_identifier
from services.projections import archive, cases, liaison, timeline
from services.projections.rows import Upsert

log = logging.getLogger(__name__)

PROJECTIONS: tuple[ModuleType, ...] = (timeline, archive, cases, liaison)

PROJECTED = Counter("jiandu_projected_events_total", "Events applied to read models", ["source"])
SKIPPED = Counter("jiandu_projection_duplicates_total", "Redelivered events skipped", ["source"])

POSITIONS_DDL = """CREATE TABLE IF NOT EXISTS projection_positions (
    consumer TEXT NOT NULL,
    source TEXT NOT NULL,
    partition INTEGER NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (consumer, source, partition)
)"""


class ReadStore:
    def __init__(self, db: Database, projections: Sequence[ModuleType] = PROJECTIONS) -> None:
        self.db = db
        self.projections = tuple(projections)
        self.create_tables()

    def create_tables(self) -> None:
        statements = [POSITIONS_DDL]
        for projection in self.projections:
            statements.extend(projection.ddl)
        self.db.execute_script(statements)

    def drop_tables(self) -> None:
        """Drop every read model and every consumer position (for a rebuild)."""
        statements = ["DROP TABLE IF EXISTS projection_positions"]
        for projection in self.projections:
            statements += [f"DROP TABLE IF EXISTS {check_identifier(t)}" for t in projection.tables]
        self.db.execute_script(statements)

    def position(self, consumer: str, source: str, partition: int = 0) -> int:
        with self.db.transaction() as cur:
            return _position(cur, consumer, source, partition)

    def apply(
        self, envelopes: Iterable[EventEnvelope], *, consumer: str, partition: int = 0
    ) -> int:
        """Project a batch of one partition's events in one transaction; returns how many applied.

        The position rows are locked first, so two workers briefly sharing a partition during
        a rebalance take turns and a position never moves backwards; the batch's rows are then
        written in one global order (table, key), so concurrent batches cannot deadlock.
        """
        applied = 0
        postgres = self.db.dialect == "postgres"
        with self.db.transaction() as cur:
            positions: dict[str, int] = {}  # by source
            rows: list[Upsert] = []
            for envelope in envelopes:
                source: str = envelope.source
                if source not in positions:
                    positions[source] = _locked_position(
                        cur, consumer, source, partition, postgres=postgres
                    )
                if envelope.position <= positions[source]:
                    SKIPPED.labels(source).inc()
                    continue
                rows.extend(self.rows_for(envelope))
                positions[source] = envelope.position
                applied += 1
                PROJECTED.labels(source).inc()
            # Stable sort: writes to one row keep their event order.
            for row in sorted(rows, key=lambda r: (r.table, tuple(str(v) for v in r.key.values()))):
                _upsert(cur, row)
            greatest = "GREATEST" if postgres else "MAX"
            for source, position in positions.items():
                cur.execute(
                    f"UPDATE projection_positions SET position = {greatest}(position, %s) "
                    "WHERE consumer = %s AND source = %s AND partition = %s",
                    (position, consumer, source, partition),
                )
        return applied

    def rows_for(self, envelope: EventEnvelope) -> list[Upsert]:
        rows: list[Upsert] = []
        for projection in self.projections:
            try:
                rows.extend(projection.project(envelope))
            except UnknownEventType:
                log.warning(
                    "skipping event of unknown type %s from %s (a newer producer?)",
                    envelope.event_type,
                    envelope.source,
                )
                return []
        return rows

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.db.transaction() as cur:
            cur.execute(sql, params)
            return cur.fetchall()


def _locked_position(
    cur: Cursor, consumer: str, source: str, partition: int, *, postgres: bool
) -> int:
    cur.execute(
        "INSERT INTO projection_positions (consumer, source, partition, position) "
        "VALUES (%s, %s, %s, 0) ON CONFLICT (consumer, source, partition) DO NOTHING",
        (consumer, source, partition),
    )
    lock = " FOR UPDATE" if postgres else ""  # SQLite serializes writers anyway
    cur.execute(
        "SELECT position FROM projection_positions WHERE consumer = %s AND source = %s "
        f"AND partition = %s{lock}",
        (consumer, source, partition),
    )
    row = cur.fetchone()
    return int(row["position"]) if row else 0


def _position(cur: Cursor, consumer: str, source: str, partition: int) -> int:
    cur.execute(
        "SELECT position FROM projection_positions WHERE consumer = %s AND source = %s "
        "AND partition = %s",
        (consumer, source, partition),
    )
    row = cur.fetchone()
    return int(row["position"]) if row else 0


def _upsert(cur: Cursor, row: Upsert) -> None:
    table = check_identifier(row.table)
    columns = [check_identifier(c) for c in (*row.key, *row.values)]
    placeholders = ", ".join(["%s"] * len(columns))
    conflict = ", ".join(row.key)
    if row.values:
        updates = ", ".join(f"{c} = excluded.{c}" for c in row.values)
        action = f"DO UPDATE SET {updates}"
    else:
        action = "DO NOTHING"
    cur.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) "
        f"ON CONFLICT ({conflict}) {action}",
        (*row.key.values(), *row.values.values()),
    )
