"""``jiandu migrate``: every service's schema and tables, versioned, under an advisory lock.

Processes never change the schema under each other's feet (docs/decisions/0019). One
step, ``jiandu migrate``, creates the PostgreSQL schemas and every table and index of every
service — intake's and casework's event stores (eventsourcing's recorders), the reporter
vault, configuration, accounts, the read models and their bookkeeping — and records in each
service's schema (``jiandu_schema``) the version it reached and a key check value. The
distributed processes create nothing: at start they wait until the schema is there at
their version (:func:`wait_for_schema`), and refuse a schema newer than their code or a
``JIANDU_SECRET_KEY`` other than the one the stores were written with. The embedded mode
(SQLite, one process) migrates itself when it builds (:func:`migrate`).

Each service's version is the number of its steps (``STEPS``); a step's statements are
idempotent (``IF NOT EXISTS``) and each runs in its own short transaction, so a step touches
one table at a time and cannot deadlock against running writers; the version row moves
after the step, so an interrupted run is simply run again. Concurrent runs take turns on a
PostgreSQL advisory lock; the later one finds the versions reached and does nothing.

Projections have a version each (their module's ``version``): migrate resets a projection
that is new or whose version changed (drops and recreates its tables, registered as being
caught up, ``ReadStore.reset``); replaying its rows from the event stores stays with the
projections worker (``services/projections/catchup.py``), which starts only once the
registry is at its code's versions.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment
from psycopg.rows import dict_row

from services.common.china_time import utc_now
from services.common.eventstore import eventstore_env
from services.common.settings import ServiceName, Settings
from services.common.sql import Database

log = logging.getLogger(__name__)

SERVICES: tuple[ServiceName, ...] = ("config", "accounts", "intake", "casework", "projections")

VERSION_DDL = """CREATE TABLE IF NOT EXISTS jiandu_schema (
    service TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    key_check TEXT NOT NULL,
    migrated_at TEXT NOT NULL
)"""

MIGRATE_LOCK = "jiandu-migrate"
KEY_CHECK_LABEL = b"jiandu key check v1"


class SchemaError(RuntimeError):
    """A process must not start on these stores (the message says why and what to do)."""


class SchemaTooNew(SchemaError):
    pass


class KeyMismatch(SchemaError):
    pass


class SchemaNotReady(SchemaError):
    """The schema is missing or older than this code: run ``jiandu migrate``."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(
            f"the database schema is not ready ({'; '.join(problems)}): run `jiandu migrate`"
        )
        self.problems = list(problems)


def key_check_value(settings: Settings) -> str:
    """An HMAC of a fixed label under a key derived from JIANDU_SECRET_KEY: shows whether two
    keys are the same without revealing the key (neither it nor a plain hash of it)."""
    return hmac.new(settings.derived_key("key-check"), KEY_CHECK_LABEL, hashlib.sha256).hexdigest()


def _short(check: str) -> str:
    return check[:12]


# --- the steps -----------------------------------------------------------------------


Step = Callable[[Settings, Database], None]


def _config_v1(settings: Settings, db: Database) -> None:
    from services.common.config import DDL

    _ddl(db, DDL)


def _accounts_v1(settings: Settings, db: Database) -> None:
    from services.accounts.tables import SCHEMA

    _ddl(db, SCHEMA)


def _intake_v1(settings: Settings, db: Database) -> None:
    from services.intake import migrations, vault

    _event_tables(settings, "intake")
    _ddl(db, [*vault.SCHEMA, *migrations.SCHEMA])


def _casework_v1(settings: Settings, db: Database) -> None:
    _event_tables(settings, "casework")


def _projections_v1(settings: Settings, db: Database) -> None:
    from services.projections import store
    from services.projections.archive import register as cadres

    _ddl(db, [*store.ReadStore.schema_statements(store.PROJECTIONS), *cadres.DDL])


def _projections_v2(settings: Settings, db: Database) -> None:
    """Indexes for the queries at scale, and the register's name-and-unit key (0027): added
    to an existing installation here, by `jiandu migrate`, never by a running process."""
    from services.projections import store
    from services.projections.archive import register as cadres

    cadres.upgrade(db)
    _ddl(db, store.query_indexes(store.PROJECTIONS))


def _projections_v3(settings: Settings, db: Database) -> None:
    """The deadline queues' indexes on open and on met deadlines (0027): the queues read
    the few open deadlines of a long history, not all of them."""
    from services.projections import store

    _ddl(db, store.query_indexes(store.PROJECTIONS))


STEPS: dict[ServiceName, tuple[Step, ...]] = {
    # Append a step to change a service's schema; never edit one that shipped.
    "config": (_config_v1,),
    "accounts": (_accounts_v1,),
    "intake": (_intake_v1,),
    "casework": (_casework_v1,),
    "projections": (_projections_v1, _projections_v2, _projections_v3),
}


def schema_version(service: ServiceName) -> int:
    """The version this code needs (and migrate brings the schema to)."""
    return len(STEPS[service])


def _ddl(db: Database, statements: Sequence[str]) -> None:
    """Each statement in its own transaction on PostgreSQL (under the DDL lock): one table
    locked at a time, never several in an order a writer could cross."""
    db.create_tables(statements)


def _event_tables(settings: Settings, service: ServiceName) -> None:
    """The tables eventsourcing keeps the service's log in: events (with tracking, for the
    process application and the relay), snapshots."""
    env = eventstore_env(settings, service) | {"CREATE_TABLE": "y"}
    factory = InfrastructureFactory.construct(Environment(service, env))
    try:
        if service == "casework":
            factory.process_recorder()  # events, and the tracking of intake's log
        else:
            factory.application_recorder()
        factory.aggregate_recorder("snapshots")
        factory.tracking_recorder()  # the relay's position
    finally:
        factory.close()


# --- reading where a store stands ----------------------------------------------------


@dataclass(frozen=True)
class StoreState:
    service: ServiceName
    version: int  # 0: no version row (never migrated)
    key_check: str | None
    projections: dict[str, int] = field(default_factory=dict)  # name → registered version


def read_state(settings: Settings, service: ServiceName) -> StoreState:
    """Where a service's store stands, without creating anything (not even a SQLite file).

    Raises psycopg.OperationalError while PostgreSQL cannot be reached."""
    url = settings.database_for(service)
    if url is not None:
        with psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=5,
            row_factory=dict_row,
            options=f"-c search_path={service}",
        ) as conn:
            return _state(service, lambda sql: conn.execute(sql.encode()).fetchall(), "postgres")
    path = settings.data_dir / f"{service}.sqlite"
    if not path.exists():
        return StoreState(service, 0, None)
    with closing(sqlite3.connect(path, timeout=30)) as lite:
        lite.row_factory = sqlite3.Row
        return _state(
            service, lambda sql: [dict(r) for r in lite.execute(sql).fetchall()], "sqlite"
        )


def _state(
    service: ServiceName, query: Callable[[str], list[dict[str, Any]]], dialect: str
) -> StoreState:
    def exists(table: str) -> bool:
        if dialect == "postgres":
            return bool(
                query(f"SELECT to_regclass('{table}') IS NOT NULL AS present")[0]["present"]
            )
        return bool(query(f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{table}'"))

    if not exists("jiandu_schema"):
        return StoreState(service, 0, None)
    rows = query(f"SELECT version, key_check FROM jiandu_schema WHERE service = '{service}'")
    if not rows:
        return StoreState(service, 0, None)
    projections: dict[str, int] = {}
    if service == "projections" and exists("projection_registry"):
        projections = {
            r["name"]: int(r["version"])
            for r in query("SELECT name, version FROM projection_registry")
        }
    return StoreState(service, int(rows[0]["version"]), rows[0]["key_check"], projections)


def problems_of(settings: Settings, state: StoreState) -> list[str]:
    """What keeps a process from starting on this store: nothing, or what migrate will do.

    Raises :class:`KeyMismatch` and :class:`SchemaTooNew`: no migrate helps there."""
    if state.key_check is not None and state.key_check != key_check_value(settings):
        raise KeyMismatch(
            "JIANDU_SECRET_KEY does not match the key this installation's stores were written "
            f"with (key check {_short(state.key_check)} in the {state.service} store, this key "
            f"gives {_short(key_check_value(settings))}); use the original key"
        )
    need = schema_version(state.service)
    if state.version > need:
        raise SchemaTooNew(
            f"the {state.service} schema is at version {state.version}, newer than this "
            f"code's {need}: run the newer release (or restore the database it was migrated "
            "from)"
        )
    problems = []
    if state.version < need:
        problems.append(f"{state.service} schema version {state.version}, need {need}")
    if state.service == "projections" and state.version == need:
        from services.projections.store import PROJECTIONS

        for projection in PROJECTIONS:
            registered = state.projections.get(projection.name)
            if registered is not None and registered > projection.version:
                raise SchemaTooNew(
                    f"projection {projection.name} is registered at version {registered}, "
                    f"newer than this code's {projection.version}: run the newer release"
                )
            if registered is None or registered < projection.version:
                problems.append(
                    f"projection {projection.name} at version {registered or 0}, "
                    f"need {projection.version}"
                )
    return problems


def check_schema(settings: Settings) -> list[str]:
    """Every service's store, as a process needs it: [] when it may start."""
    problems: list[str] = []
    for service in SERVICES:
        problems += problems_of(settings, read_state(settings, service))
    return problems


def schema_problems(settings: Settings) -> list[str]:
    """:func:`check_schema`, with an unreachable database as one more thing to wait for."""
    try:
        return check_schema(settings)
    except psycopg.OperationalError as error:
        return [f"database unreachable: {str(error).strip().splitlines()[0]}"]


def wait_for_schema(
    settings: Settings,
    *,
    wait: bool = True,
    poll_seconds: float = 1.0,
    log_every_seconds: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    on_problems: Callable[[list[str]], None] | None = None,
) -> None:
    """Return once every store is migrated to this code's versions and written with this
    key; meanwhile log what is missing every few seconds (and tell ``on_problems``).
    Without ``wait``: raise :class:`SchemaNotReady` instead. A newer schema or another key
    raise at once."""
    last_logged = float("-inf")
    while True:
        problems = schema_problems(settings) if wait else check_schema(settings)
        if not problems:
            return
        if not wait:
            raise SchemaNotReady(problems)
        if on_problems is not None:
            on_problems(problems)
        now = time.monotonic()
        if now - last_logged >= log_every_seconds:
            log.warning("waiting for `jiandu migrate` (%s)", "; ".join(problems))
            last_logged = now
        sleep(poll_seconds)


# --- migrate -------------------------------------------------------------------------


@dataclass
class MigrateReport:
    lines: list[str] = field(default_factory=list)
    changed: bool = False


@contextmanager
def _advisory_locks(settings: Settings) -> Iterator[None]:
    """The migrate lock on every PostgreSQL database the services use (sorted: two runs
    take them in the same order); held until the run ends."""
    urls = sorted({u for s in SERVICES if (u := settings.database_for(s)) is not None})
    with ExitStack() as stack:
        for url in urls:
            conn = stack.enter_context(psycopg.connect(url, autocommit=True, connect_timeout=5))
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (MIGRATE_LOCK,))
            # Closing the connection releases the lock too; unlock explicitly anyway.
            stack.callback(conn.execute, "SELECT pg_advisory_unlock(hashtext(%s))", (MIGRATE_LOCK,))
        yield


def _database(settings: Settings, service: ServiceName, *, create: bool) -> Database:
    """The service's database; with ``create``, its PostgreSQL schema made first."""
    url = settings.database_for(service)
    if url is not None:
        return Database(postgres_url=url, schema=service, pool_size=2, ddl_allowed=create)
    return Database(sqlite_path=settings.data_dir / f"{service}.sqlite")


def migrate(settings: Settings) -> MigrateReport:
    """Bring every service's schema to this code's version (idempotent; concurrent runs
    take turns). Refuses, changing nothing, a key other than the stores' or a newer schema."""
    for service in SERVICES:  # before any change: the key and the versions
        problems_of(settings, read_state(settings, service))
    report = MigrateReport()
    check = key_check_value(settings)
    with _advisory_locks(settings):
        for service in SERVICES:
            state = read_state(settings, service)
            problems_of(settings, state)  # another run may have finished meanwhile
            db = _database(settings, service, create=state.version < schema_version(service))
            try:
                report.lines.append(_migrate_service(settings, db, state, check, report))
            finally:
                db.close()
    return report


def _migrate_service(
    settings: Settings, db: Database, state: StoreState, check: str, report: MigrateReport
) -> str:
    service = state.service
    need = schema_version(service)
    done = f"{service}: schema version {need}"
    if state.version < need:
        db.execute_script([VERSION_DDL])
        for number, step in enumerate(STEPS[service][state.version :], start=state.version + 1):
            step(settings, db)
            with db.transaction() as cur:
                cur.execute(
                    "INSERT INTO jiandu_schema (service, version, key_check, migrated_at) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (service) DO UPDATE SET "
                    "version = excluded.version, migrated_at = excluded.migrated_at",
                    (service, number, check, utc_now().isoformat(timespec="seconds")),
                )
        report.changed = True
        done += f" (from {state.version})"
    if service == "projections":
        reset = _reset_projections(db)
        if reset:
            report.changed = True
            done += (
                f"; to be replayed by the projections worker (or `jiandu up`): {', '.join(reset)}"
            )
    return done


def _reset_projections(db: Database) -> list[str]:
    """Projections new or at an older version than the code's: tables dropped and recreated,
    registered as being caught up (the worker replays them)."""
    from services.projections.store import PROJECTIONS, ReadStore

    store = ReadStore(db, create=False)  # the step made them; no lock taken again
    registered = store.registrations()
    stale = [
        p
        for p in PROJECTIONS
        if (entry := registered.get(p.name)) is None or entry.version < p.version
    ]
    return store.reset(stale) if stale else []
