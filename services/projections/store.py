"""The read-model store: applies projections' rows and the consumer's position atomically.

Each batch runs in one transaction: events at or below the position recorded for
``(consumer, source, partition)`` are skipped, the rest are projected and the position
moves on, so a redelivered event changes nothing. Rows are upserts keyed by the event's
identity or the entity's, writing only the columns an event knows, so events of different
aggregates may arrive in any order; a full replay in log order rebuilds the same tables.

Each projection is registered (``projection_registry``: name, version, status) with how far
it was replayed from the event stores (``projection_replayed``: projection, source →
position). A projection that is new, or whose module ``version`` changed, is dropped,
recreated and replayed from the beginning of both logs on its own
(``services/projections/catchup.py``), while the others keep their tables. Live batches skip,
for each projection, the events at or below its replayed position: those it already has.
See docs/decisions/0010.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from prometheus_client import Counter

from schemas.events import SOURCES, EventEnvelope, UnknownEventType
from services.common.china_time import utc_now
from services.common.sql import DDL_LOCK, Cursor, Database, check_identifier
from services.projections.archive import projection as archive
from services.projections.cases import projection as cases
from services.projections.liaison import projection as liaison
from services.projections.projects import projection as projects
from services.projections.rows import Upsert
from services.projections.selections import projection as selections
from services.projections.timeline import projection as timeline
from services.projections.writes import Groups, merge_rows, send_groups, write_rows

log = logging.getLogger(__name__)

PROJECTIONS: tuple[ModuleType, ...] = (timeline, archive, cases, liaison, selections, projects)


# The indexes the queries at scale need (0027), each projection's own (in its ``ddl`` too):
# ``jiandu migrate`` adds them to an existing installation (projections schema version 2).
def query_indexes(projections: Iterable[ModuleType]) -> tuple[str, ...]:
    return tuple(index for p in projections for index in getattr(p, "QUERY_INDEXES", ()))


QUERY_INDEXES = query_indexes(PROJECTIONS)

PROJECTED = Counter("jiandu_projected_events_total", "Events applied to read models", ["source"])
SKIPPED = Counter("jiandu_projection_duplicates_total", "Redelivered events skipped", ["source"])

POSITIONS_DDL = """CREATE TABLE IF NOT EXISTS projection_positions (
    consumer TEXT NOT NULL,
    source TEXT NOT NULL,
    partition INTEGER NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (consumer, source, partition)
)"""
REGISTRY_DDL = """CREATE TABLE IF NOT EXISTS projection_registry (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    caught_up_at TEXT
)"""
REPLAYED_DDL = """CREATE TABLE IF NOT EXISTS projection_replayed (
    projection TEXT NOT NULL,
    source TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (projection, source)
)"""
BOOKKEEPING = ("projection_positions", "projection_registry", "projection_replayed")

CATCHING_UP = "catching_up"
LIVE = "live"


class ProjectionsNotReady(RuntimeError):
    """A live batch met a projection being rebuilt, or registered at another version.

    Nothing was written and no position moved: retry later. It clears when the catch-up or
    rebuild in progress finishes; a worker whose code has an older version than the one
    registered stays stalled (stop it: the newer code rebuilt the projection).
    """

    retry_later = True  # followers wait without a traceback at every poll

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("projections not ready: " + "; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Prepared:
    """A stretch of a log projected ahead of its transaction (``ReadStore.prepare``)."""

    projections: frozenset[str]
    groups: Groups


@dataclass(frozen=True)
class Registration:
    name: str
    version: int
    status: str
    caught_up_at: str | None


class ReadStore:
    def __init__(
        self,
        db: Database,
        projections: Sequence[ModuleType] | None = None,
        *,
        create: bool = True,
    ) -> None:
        """``create``: run the tables' ``CREATE ... IF NOT EXISTS`` where ``db`` allows DDL
        (not on a distributed service's database: ``jiandu migrate`` made them)."""
        self.db = db
        self.projections = tuple(PROJECTIONS if projections is None else projections)
        names = [p.name for p in self.projections]
        if len(set(names)) != len(names):
            raise ValueError(f"two projections share a name: {names}")
        if create:
            self.create_tables()

    @property
    def postgres(self) -> bool:
        return self.db.dialect == "postgres"

    @staticmethod
    def schema_statements(projections: Iterable[ModuleType]) -> list[str]:
        """The bookkeeping tables and these projections' tables (``jiandu migrate``)."""
        statements = [POSITIONS_DDL, REGISTRY_DDL, REPLAYED_DDL]
        for projection in projections:
            statements.extend(projection.ddl)
        return statements

    def create_tables(self) -> None:
        self.db.create_tables(self.schema_statements(self.projections))

    def drop_tables(self) -> None:
        """Drop every read model, every consumer position and the registry."""
        statements = [f"DROP TABLE IF EXISTS {t}" for t in BOOKKEEPING]
        for projection in self.projections:
            statements += [f"DROP TABLE IF EXISTS {check_identifier(t)}" for t in projection.tables]
        self.db.execute_script(statements)

    def analyze(self, projections: Sequence[ModuleType]) -> None:
        """Refresh the planner's statistics of these projections' tables, after a catch-up
        wrote them in bulk. Until the autovacuum daemon gets round to it (a minute at best;
        never where it is off), PostgreSQL plans on tables it has never sampled and takes a
        sequential scan for a look-up by an indexed column (an integrity reply at a million
        events: 1.6 s before, 1.0 s after). On SQLite, ``ANALYZE`` fills ``sqlite_stat1``."""
        tables = [check_identifier(t) for p in projections for t in p.tables]
        if not tables:
            return
        with self.db.transaction() as cur:
            if self.postgres:
                cur.execute(f"ANALYZE {', '.join(tables)}")
            else:
                for table in tables:
                    cur.execute(f"ANALYZE {table}")

    def position(self, consumer: str, source: str, partition: int = 0) -> int:
        with self.db.transaction() as cur:
            return _position(cur, consumer, source, partition)

    # -- live batches ---------------------------------------------------------------------

    def apply(
        self, envelopes: Iterable[EventEnvelope], *, consumer: str, partition: int = 0
    ) -> int:
        """Project a batch of one partition's events in one transaction; returns how many
        applied. See :meth:`apply_partitions`."""
        return self.apply_partitions({partition: list(envelopes)}, consumer=consumer)

    def apply_partitions(
        self, batch: Mapping[int, Sequence[EventEnvelope]], *, consumer: str
    ) -> int:
        """Project a batch of several partitions' events (each partition's in its order) in
        one transaction; returns how many applied.

        The registry rows are read first (shared lock: a rebuild starting waits for this batch,
        a batch waits for a rebuild's reset), then the batch's position rows are locked, in
        (source, partition) order, so two workers briefly sharing a partition during a
        rebalance take turns and a position never moves backwards; an event at or below its
        partition's position is skipped (a redelivery). The batch's rows are merged and
        written in one global order (``writes.write_rows``), so concurrent batches do not deadlock.
        Raises :class:`ProjectionsNotReady` (nothing written) while one of the store's
        projections is being caught up or rebuilt.
        """
        applied = 0
        postgres = self.postgres
        with self.db.transaction() as cur:
            replayed = self._live_state(cur)
            positions: dict[tuple[str, int], int] = {}  # by source and partition
            for source, partition in sorted(
                {(e.source, partition) for partition, events in batch.items() for e in events}
            ):
                positions[(source, partition)] = _locked_position(
                    cur, consumer, source, partition, postgres=postgres
                )
            rows: list[Upsert] = []
            for partition, envelopes in batch.items():
                for envelope in envelopes:
                    source = envelope.source
                    if envelope.position <= positions[(source, partition)]:
                        SKIPPED.labels(source).inc()
                        continue
                    wanted = [
                        p
                        for p in self.projections
                        if envelope.position > replayed.get((p.name, source), 0)
                    ]
                    rows.extend(self.rows_for(envelope, wanted))
                    positions[(source, partition)] = envelope.position
                    applied += 1
                    PROJECTED.labels(source).inc()
            write_rows(cur, rows, postgres=postgres)
            greatest = "GREATEST" if postgres else "MAX"
            cur.executemany(
                f"UPDATE projection_positions SET position = {greatest}(position, %s) "
                "WHERE consumer = %s AND source = %s AND partition = %s",
                [
                    (position, consumer, source, partition)
                    for (source, partition), position in sorted(positions.items())
                ],
            )
        return applied

    def _live_state(self, cur: Cursor) -> dict[tuple[str, str], int]:
        """Each projection's replayed position per source; refuses if one is not live.

        A projection never registered (a bare store no catch-up ran on) counts as live from
        the beginning.
        """
        lock = " FOR SHARE" if self.postgres else ""
        cur.execute(f"SELECT name, version, status FROM projection_registry ORDER BY name{lock}")
        registered = {r["name"]: r for r in cur.fetchall()}
        problems = []
        for projection in self.projections:
            entry = registered.get(projection.name)
            if entry is None:
                continue
            if int(entry["version"]) != projection.version:
                problems.append(
                    f"{projection.name} is registered at version {entry['version']}, "
                    f"this code has version {projection.version}"
                )
            elif entry["status"] != LIVE:
                problems.append(f"{projection.name} is being caught up from the event stores")
        if problems:
            raise ProjectionsNotReady(problems)
        cur.execute("SELECT projection, source, position FROM projection_replayed")
        return {(r["projection"], r["source"]): int(r["position"]) for r in cur.fetchall()}

    def rows_for(
        self, envelope: EventEnvelope, projections: Sequence[ModuleType] | None = None
    ) -> list[Upsert]:
        rows: list[Upsert] = []
        for projection in self.projections if projections is None else projections:
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

    # -- the registry and catch-up (services/projections/catchup.py drives these) ---------

    def registrations(self) -> dict[str, Registration]:
        rows = self.query("SELECT name, version, status, caught_up_at FROM projection_registry")
        return {
            r["name"]: Registration(r["name"], int(r["version"]), r["status"], r["caught_up_at"])
            for r in rows
        }

    def replayed(self) -> dict[tuple[str, str], int]:
        """How far each projection was replayed from each event store."""
        rows = self.query("SELECT projection, source, position FROM projection_replayed")
        return {(r["projection"], r["source"]): int(r["position"]) for r in rows}

    def stale(self) -> tuple[ModuleType, ...]:
        """Projections that must be (re)built from the event stores before going live."""
        registered = self.registrations()
        return tuple(
            p
            for p in self.projections
            if (entry := registered.get(p.name)) is None
            or entry.version != p.version
            or entry.status != LIVE
        )

    def reset(self, projections: Sequence[ModuleType], *, force: bool = False) -> list[str]:
        """Drop and recreate these projections' tables, replayed from position 0, in one transaction.

        Without ``force``, a projection already registered at its version (live, or being
        caught up by another process) or at a newer one is left alone. Returns the names reset.
        """
        done: list[str] = []
        with self.db.transaction() as cur:
            if self.postgres:
                cur.execute(DDL_LOCK)
            for projection in sorted(projections, key=lambda p: p.name):
                name = projection.name
                cur.execute(
                    "INSERT INTO projection_registry (name, version, status) "
                    "VALUES (%s, %s, %s) ON CONFLICT (name) DO NOTHING",
                    (name, -1, CATCHING_UP),
                )
                lock = " FOR UPDATE" if self.postgres else ""
                cur.execute(
                    f"SELECT version, status FROM projection_registry WHERE name = %s{lock}",
                    (name,),
                )
                entry = cur.fetchone()
                assert entry is not None
                if not force and int(entry["version"]) >= projection.version:
                    # At its version; or newer (a newer release migrated it: this older
                    # code must not put its tables back, docs/decisions/0019).
                    continue
                for table in projection.tables:
                    cur.execute(f"DROP TABLE IF EXISTS {check_identifier(table)}")
                for statement in projection.ddl:
                    cur.execute(statement)
                cur.execute(
                    "UPDATE projection_registry SET version = %s, status = %s, "
                    "caught_up_at = NULL WHERE name = %s",
                    (projection.version, CATCHING_UP, name),
                )
                cur.execute("DELETE FROM projection_replayed WHERE projection = %s", (name,))
                cur.executemany(
                    "INSERT INTO projection_replayed (projection, source, position) "
                    "VALUES (%s, %s, 0)",
                    [(name, source) for source in SOURCES],
                )
                done.append(name)
        return done

    def prepare(
        self, envelopes: Sequence[EventEnvelope], projections: Sequence[ModuleType]
    ) -> Prepared:
        """A stretch's rows for these projections, merged and grouped, outside any
        transaction (a catch-up prepares the next stretch while the last one is written)."""
        rows: list[Upsert] = []
        for envelope in envelopes:
            rows.extend(self.rows_for(envelope, projections))
        groups, _ = merge_rows(rows)
        return Prepared(frozenset(p.name for p in projections), groups)

    def replay(
        self,
        envelopes: Sequence[EventEnvelope],
        projections: Sequence[ModuleType],
        *,
        source: str,
        after: int,
        through: int,
        prepared: Prepared | None = None,
    ) -> int:
        """Apply the stretch of ``source``'s log after position ``after`` up to ``through`` to
        the projections being caught up, in one transaction; returns how many events were new
        to at least one of them.

        Each projection skips what it already has (its replayed position, locked), so processes
        catching up the same projection at once, or a resumed catch-up, apply each event once;
        a projection replayed only up to before ``after`` (reset meanwhile by another process)
        would get a gap, and is left alone, as is one no longer being caught up at its version.

        ``prepared`` (:meth:`prepare` of these envelopes and projections) is written as it is
        when, as found under the locks, every one of these projections is being caught up and
        replayed exactly up to ``after`` (each wants every event of the stretch: the usual
        case); otherwise the rows are projected here again for what each one still wants.
        """
        postgres = self.postgres
        applied = 0
        with self.db.transaction() as cur:
            share, update = (" FOR SHARE", " FOR UPDATE") if postgres else ("", "")
            cur.execute(
                f"SELECT name, version, status FROM projection_registry ORDER BY name{share}"
            )
            registered = {r["name"]: r for r in cur.fetchall()}
            mine = [
                p
                for p in sorted(projections, key=lambda p: p.name)
                if (entry := registered.get(p.name)) is not None
                and int(entry["version"]) == p.version
                and entry["status"] == CATCHING_UP
            ]
            replayed: dict[str, int] = {}
            for projection in mine:
                cur.execute(
                    "SELECT position FROM projection_replayed WHERE projection = %s "
                    f"AND source = %s{update}",
                    (projection.name, source),
                )
                row = cur.fetchone()
                if row is not None and int(row["position"]) >= after:
                    replayed[projection.name] = int(row["position"])
            mine = [p for p in mine if p.name in replayed]
            if (
                prepared is not None
                and prepared.projections == {p.name for p in mine}
                and all(replayed[p.name] == after for p in mine)
            ):
                send_groups(cur, prepared.groups, postgres=postgres)
                applied = len(envelopes)
            else:
                rows: list[Upsert] = []
                for envelope in envelopes:
                    wanted = [p for p in mine if envelope.position > replayed[p.name]]
                    if wanted:
                        rows.extend(self.rows_for(envelope, wanted))
                        applied += 1
                write_rows(cur, rows, postgres=postgres)
            greatest = "GREATEST" if postgres else "MAX"
            cur.executemany(
                "INSERT INTO projection_replayed (projection, source, position) VALUES (%s, %s, %s) "
                f"ON CONFLICT (projection, source) DO UPDATE SET position = "
                f"{greatest}(projection_replayed.position, excluded.position)",
                [(p.name, source, through) for p in mine],
            )
        return applied

    def mark_live(self, projections: Sequence[ModuleType], reached: dict[str, int]) -> list[str]:
        """Projections replayed at least up to ``reached`` (source → the end of its log as read)
        go live: live batches include them from now on. Returns the names marked live; one
        still behind (another process reset it meanwhile) stays being caught up."""
        now = utc_now().isoformat(timespec="seconds")
        lock = " FOR UPDATE" if self.postgres else ""
        done = []
        with self.db.transaction() as cur:
            for projection in sorted(projections, key=lambda p: p.name):
                cur.execute(
                    f"SELECT version, status FROM projection_registry WHERE name = %s{lock}",
                    (projection.name,),
                )
                entry = cur.fetchone()
                if (
                    entry is None
                    or int(entry["version"]) != projection.version
                    or entry["status"] != CATCHING_UP
                ):
                    continue
                cur.execute(
                    "SELECT source, position FROM projection_replayed WHERE projection = %s",
                    (projection.name,),
                )
                replayed = {r["source"]: int(r["position"]) for r in cur.fetchall()}
                if any(replayed.get(s, 0) < end for s, end in reached.items()):
                    continue
                cur.execute(
                    "UPDATE projection_registry SET status = %s, caught_up_at = %s WHERE name = %s",
                    (LIVE, now, projection.name),
                )
                done.append(projection.name)
        return done

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
