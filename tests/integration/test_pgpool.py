"""The pool skips its liveness check (a round trip) for a connection handed back in good
order whose socket is quiet, and still never hands out a connection a restart or a
terminated backend killed (docs/decisions/0018)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

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


def test_a_connection_handed_back_in_good_order_is_not_checked_while_its_socket_is_quiet(
    private_server: ThrowawayPostgres,
) -> None:
    with fresh_pool(private_server.dsn("postgres"), min_size=1, max_size=1) as pool:
        checks = counting(pool)
        for _ in range(20):  # under load: back and out again within milliseconds
            with pool.connection() as conn:
                conn.execute("SELECT 1")
        assert checks[0] == 1  # the first checkout only: that connection had no record
        time.sleep(0.3)  # idle a while: still quiet, still not checked
        with pool.connection() as conn:
            conn.execute("SELECT 1")
        assert checks[0] == 1


def test_a_connection_whose_backend_was_terminated_is_checked_and_replaced(
    private_server: ThrowawayPostgres,
) -> None:
    """The server ending one backend (an administrator, an idle timeout) sends its notice and
    closes the socket: the pool sees the socket readable, checks, and hands out a new one."""
    with fresh_pool(private_server.dsn("postgres"), min_size=1, max_size=1) as pool:
        checks = counting(pool)
        with pool.connection() as conn:
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        before = checks[0]
        with psycopg.connect(private_server.dsn("postgres"), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        time.sleep(0.2)  # the notice and the close reach the pool's socket
        with pool.connection() as conn:
            assert conn.execute("SELECT pg_backend_pid()").fetchone()[0] != pid  # type: ignore[index]
        assert checks[0] > before  # the readable socket sent it to the check


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
        private_server.restart()
        for _ in range(5):  # every request after the restart succeeds, none meets a dead one
            with pool.connection() as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
