"""The pool skips its liveness check only for a connection handed back moments ago, and
still never hands out a connection a restart killed (docs/decisions/0018)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from services.common import pgpool
from services.common.pgpool import FreshConnectionPool, fresh_pool
from tests.support.postgres import ThrowawayPostgres


@pytest.fixture(scope="module")
def private_server() -> Iterator[ThrowawayPostgres]:
    with ThrowawayPostgres() as server:  # its own: this module restarts it
        yield server


def counting(pool: FreshConnectionPool[Any]) -> list[int]:
    checks = [0]
    check = pool.check_connection

    def counted(conn: Any) -> None:
        checks[0] += 1
        check(conn)

    pool.check_connection = counted  # type: ignore[method-assign]
    return checks


def test_a_connection_reused_at_once_is_not_checked_and_one_idle_a_while_is(
    private_server: ThrowawayPostgres,
) -> None:
    with fresh_pool(private_server.dsn("postgres"), min_size=1, max_size=1) as pool:
        checks = counting(pool)
        for _ in range(20):  # under load: back and out again within milliseconds
            with pool.connection() as conn:
                conn.execute("SELECT 1")
        assert checks[0] == 1  # the first checkout only: that connection had no record
        before = checks[0]
        time.sleep(pgpool.RECENTLY_PROVEN_SECONDS * 1.5)
        with pool.connection() as conn:
            conn.execute("SELECT 1")
        assert checks[0] == before + 1


def test_a_connection_handed_back_inside_a_transaction_is_checked(
    private_server: ThrowawayPostgres,
) -> None:
    with fresh_pool(private_server.dsn("postgres"), min_size=1, max_size=1) as pool:
        checks = counting(pool)
        with pool.connection() as conn:
            conn.execute("SELECT 1")
        before = checks[0]
        conn = pool.getconn()
        conn.autocommit = False
        conn.execute("SELECT 1")  # left in a transaction: the pool resets it; not proven
        pool.putconn(conn)
        with pool.connection() as again:
            again.execute("SELECT 1")
        assert checks[0] == before + 1


def test_after_a_restart_the_first_request_gets_a_live_connection(
    private_server: ThrowawayPostgres,
) -> None:
    with fresh_pool(private_server.dsn("postgres"), min_size=3, max_size=3) as pool:
        pool.wait()
        for _ in range(10):
            with pool.connection() as conn:
                conn.execute("SELECT 1")
        took = private_server.restart()
        assert took > pgpool.RECENTLY_PROVEN_SECONDS  # else this test proves nothing
        for _ in range(5):  # every request after the restart succeeds, none meets a dead one
            with pool.connection() as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
