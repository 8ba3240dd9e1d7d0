"""One small SQL adapter over SQLite (embedded) and PostgreSQL (distributed).

The services write their own non-event tables (the reporter vault, read models, relay
bookkeeping) in one dialect: ``%s`` placeholders and ``INSERT ... ON CONFLICT``, which both
databases understand. Rows come back as dicts.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, Protocol

import psycopg
from psycopg.rows import dict_row
from psycopg.sql import SQL, Identifier
from psycopg_pool import ConnectionPool

from services.common.pgpool import CONNECT_TIMEOUT_SECONDS, fresh_pool
from services.common.settings import ServiceName, Settings

Row = dict[str, Any]
Params = Sequence[Any]


class Cursor(Protocol):
    def execute(self, sql: str, params: Params = ()) -> None: ...
    def executemany(self, sql: str, rows: Sequence[Params]) -> None: ...
    def fetchone(self) -> Row | None: ...
    def fetchall(self) -> list[Row]: ...
    @property
    def rowcount(self) -> int: ...


_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


def check_identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


class Database:
    """A database with transactions; ``%s`` placeholders in both dialects."""

    dialect: Literal["sqlite", "postgres"]

    def __init__(
        self,
        *,
        sqlite_path: Path | None = None,
        postgres_url: str | None = None,
        schema: str | None = None,
        pool_size: int = 4,
        ddl_allowed: bool = True,
    ) -> None:
        """``ddl_allowed``: whether this handle may create its schema and tables. A service's
        database in the distributed mode (:meth:`for_service` on PostgreSQL) may not: there
        ``jiandu migrate`` owns every table (services/migrate.py), and stores built on it
        skip their ``CREATE`` statements (:meth:`create_tables`)."""
        if (sqlite_path is None) == (postgres_url is None):
            raise ValueError("give exactly one of sqlite_path and postgres_url")
        self._local = threading.local()
        self._pool: ConnectionPool[psycopg.Connection[Row]] | None = None
        self.sqlite_path = sqlite_path
        self.postgres_url = postgres_url
        self.schema = check_identifier(schema) if schema else None
        self.ddl_allowed = ddl_allowed
        if postgres_url is not None:
            self.dialect = "postgres"
            if self.schema and ddl_allowed:
                ensure_schema(postgres_url, self.schema)
            options = f"-c search_path={self.schema}" if self.schema else ""
            # Never a dead connection, and a few seconds at most to get one (0018).
            self._pool = fresh_pool(
                postgres_url,
                min_size=1,
                max_size=pool_size,
                kwargs={"row_factory": dict_row, "options": options},
                open=True,
            )
        else:
            assert sqlite_path is not None
            self.dialect = "sqlite"
            sqlite_path.parent.mkdir(parents=True, exist_ok=True)

    @classmethod
    def for_service(cls, settings: Settings, service: ServiceName) -> Database:
        url = settings.database_for(service)
        if url:
            return cls(postgres_url=url, schema=service, ddl_allowed=False)
        return cls(sqlite_path=settings.data_dir / f"{service}.sqlite")

    def ping(self, timeout: float) -> None:
        """Raise (``DatabaseUnavailable``, psycopg's ``OperationalError``) unless the
        database answers within about ``timeout`` seconds."""
        if self._pool is None:
            with self.transaction() as cur:
                cur.execute("SELECT 1")
            return
        with self._pool.connection(timeout=timeout) as pg:
            pg.execute(b"SELECT 1")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        if self._pool is not None:
            with self._pool.connection() as pg, pg.transaction(), pg.cursor() as cur:
                yield _PostgresCursor(cur)
            return
        lite = self._sqlite_connection()
        try:
            lite.execute("BEGIN IMMEDIATE")
            yield _SqliteCursor(lite.cursor())
            lite.execute("COMMIT")
        except BaseException:
            lite.execute("ROLLBACK")
            raise

    def _sqlite_connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            assert self.sqlite_path is not None
            conn = sqlite3.connect(
                self.sqlite_path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    def run_outside_transaction(self, statements: Sequence[str]) -> None:
        """Maintenance that cannot run in a transaction (``VACUUM``, some pragmas): on
        this thread's SQLite connection, or on a fresh autocommit PostgreSQL connection (a
        pooled one must not be left in autocommit)."""
        if self.postgres_url is not None:
            options = f"-c search_path={self.schema}" if self.schema else ""
            with psycopg.connect(self.postgres_url, autocommit=True, options=options) as conn:
                for statement in statements:
                    conn.execute(statement.encode())
            return
        lite = self._sqlite_connection()
        for statement in statements:
            lite.execute(statement)

    def create_tables(self, statements: Sequence[str]) -> None:
        """A store's ``CREATE ... IF NOT EXISTS`` statements, where this handle may run DDL
        (SQLite, a test's own schema); a no-op on a distributed service's database, whose
        tables ``jiandu migrate`` created before the process started (it waited for them)."""
        if not self.ddl_allowed:
            return
        if self.dialect == "sqlite":
            self.execute_script(statements)  # SQLite locks the whole file anyway
            return
        for statement in statements:
            # One statement a transaction: one table locked at a time. All of them in one
            # transaction deadlocked against a running writer's upserts (issue 11).
            self.execute_script([statement])

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """SQL true when ``column`` is one of ``values``, with one parameter however many
        there are: an array on PostgreSQL (``= ANY``, read by the column's index), a JSON
        array on SQLite (``json_each``). A long ``IN (%s, ...)`` costs a placeholder each to
        parse and to plan."""
        if self.dialect == "postgres":
            return f"{column} = ANY(%s)", [list(values)]
        return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(list(values))]

    def execute_script(self, statements: Sequence[str]) -> None:
        with self.transaction() as cur:
            if self.dialect == "postgres":
                cur.execute(DDL_LOCK)
            for statement in statements:
                cur.execute(statement)


DDL_LOCK = "SELECT pg_advisory_xact_lock(hashtext('jiandu-ddl'))"


def ensure_schema(postgres_url: str, schema: str) -> None:
    # Processes starting together would race on the catalog: serialize the DDL.
    with (
        psycopg.connect(postgres_url, connect_timeout=CONNECT_TIMEOUT_SECONDS) as conn,
        conn.transaction(),
    ):
        conn.execute(DDL_LOCK)
        conn.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(schema)))


class _PostgresCursor:
    def __init__(self, cur: psycopg.Cursor[Row]) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Params = ()) -> None:
        self._cur.execute(sql.encode(), params)  # bytes: our SQL is a literal, not a template

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        self._cur.executemany(sql.encode(), rows)

    def fetchone(self) -> Row | None:
        return self._cur.fetchone()

    def fetchall(self) -> list[Row]:
        return self._cur.fetchall()

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount


class _SqliteCursor:
    def __init__(self, cur: sqlite3.Cursor) -> None:
        self._cur = cur

    @staticmethod
    def _translate(sql: str) -> str:
        return sql.replace("%s", "?")

    def execute(self, sql: str, params: Params = ()) -> None:
        self._cur.execute(self._translate(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        self._cur.executemany(self._translate(sql), [tuple(r) for r in rows])

    def fetchone(self) -> Row | None:
        row = self._cur.fetchone()
        return dict(row) if row is not None else None

    def fetchall(self) -> list[Row]:
        return [dict(r) for r in self._cur.fetchall()]

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount
