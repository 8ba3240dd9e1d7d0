"""The read-model store: applies projections' rows and the consumer's position atomically.

Each batch runs in one transaction: events at or below the position recorded for
``(consumer, source, partition)`` are skipped, the rest are projected and the position
moves on, so a redelivered event changes nothing. Rows are upserts keyed by the event's
identity or the entity's, so even a replay without positions converges to the same tables.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any

from prometheus_client import Counter

from schemas.events import EventEnvelope, UnknownEventType
from services.common.sql import Cursor, Database, check_identifier
from services.projections import archive, timeline
from services.projections.rows import Upsert

log = logging.getLogger(__name__)

PROJECTIONS: tuple[ModuleType, ...] = (timeline, archive)

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
        """Project a batch of one partition's events in one transaction; returns how many applied."""
        applied = 0
        with self.db.transaction() as cur:
            positions: dict[str, int] = {}  # by source
            for envelope in envelopes:
                source: str = envelope.source
                if source not in positions:
                    positions[source] = _position(cur, consumer, source, partition)
                if envelope.position <= positions[source]:
                    SKIPPED.labels(source).inc()
                    continue
                for row in self.rows_for(envelope):
                    _upsert(cur, row)
                positions[source] = envelope.position
                applied += 1
                PROJECTED.labels(source).inc()
            for source, position in positions.items():
                cur.execute(
                    "INSERT INTO projection_positions (consumer, source, partition, position) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (consumer, source, partition) "
                    "DO UPDATE SET position = excluded.position",
                    (consumer, source, partition, position),
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
