"""The servers a bench runs against: a throwaway PostgreSQL and a Tansu broker.

Each context manager starts its server and removes it at the end, as the test fixtures
do (``tests/support/postgres.py``, ``tests/support/tansu.py``), or uses one that is
already running when ``JIANDU_TEST_POSTGRES_URL`` / ``JIANDU_TEST_KAFKA_BOOTSTRAP`` name
it (then only a fresh database, or uniquely named topics, are made and dropped). Each
yields a description of what it runs on, for the bench's printout.

``end_to_end.py`` and ``rebalance.py`` start their own private servers: they measure
the servers' CPU, or restart them, which a shared server does not allow.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import psycopg

from tests.support.postgres import ThrowawayPostgres
from tests.support.tansu import TansuBroker

KAFKA_ENV = "JIANDU_TEST_KAFKA_BOOTSTRAP"


@contextmanager
def postgres_server(*, durable: bool = False) -> Iterator[ThrowawayPostgres]:
    """A running server (private, or the external one). ``durable``: a private server is
    switched to durable commits (``fsync``, ``synchronous_commit`` on, as in production;
    the test server runs without); an external one is used as it is configured."""
    server = ThrowawayPostgres()
    server.start()
    try:
        if durable and not server.external_url:
            with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
                conn.execute("ALTER SYSTEM SET fsync = on")
                conn.execute("ALTER SYSTEM SET synchronous_commit = on")
                conn.execute("SELECT pg_reload_conf()")
        yield server
    finally:
        server.stop()


def describe_postgres(server: ThrowawayPostgres, dsn: str, *, durable: bool = False) -> str:
    """Version, origin and commit settings, as the server answers them (after waiting for
    a ``durable`` reload to take effect: it is asynchronous)."""
    deadline = time.monotonic() + 5
    while True:
        with psycopg.connect(dsn) as conn:
            row = conn.execute(
                "SELECT current_setting('server_version'), current_setting('fsync'), "
                "current_setting('synchronous_commit')"
            ).fetchone()
        assert row is not None
        if not durable or server.external_url or row[1] == "on" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    origin = "external" if server.external_url else "private"
    return f"PostgreSQL {row[0]} ({origin}), fsync={row[1]}, synchronous_commit={row[2]}"


@contextmanager
def postgres_database(*, durable: bool = False) -> Iterator[tuple[str, str]]:
    """A fresh database on a server of :func:`postgres_server`: its DSN and a description."""
    with postgres_server(durable=durable) as server, server.fresh_database() as dsn:
        yield dsn, describe_postgres(server, dsn, durable=durable)


class Broker(NamedTuple):
    bootstrap: str
    description: str
    external: bool


@contextmanager
def kafka_broker() -> Iterator[Broker]:
    """A private Tansu broker (memory storage), or the external Kafka of ``KAFKA_ENV``."""
    external = os.environ.get(KAFKA_ENV)
    if external:
        yield Broker(external, f"Kafka at {external} (external, {KAFKA_ENV})", True)
        return
    broker = TansuBroker()
    try:
        broker.start()
        yield Broker(
            broker.bootstrap, f"Tansu at {broker.bootstrap} (private, memory storage)", False
        )
    finally:
        broker.close()
