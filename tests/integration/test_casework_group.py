"""Casework's consumer group: a second ``jiandu casework`` joining and leaving under a
stream of intake events. Every accepted report opens exactly one case, no process logs an
error, and each process's ``/healthz`` shows its consumer's readiness and assignment.
The pauses are printed (bench/rebalance.py --casework measures them), never asserted.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from schemas import events as ev
from schemas.events import topic_for
from tests.integration.test_faust_worker import (
    PARTITIONS,
    SECRET_KEY,
    EventFactory,
    Producer,
    ServiceProcess,
    migrated,
    processes,  # noqa: F401  (the fixture)
    service_env,
    wait_for,
)
from tests.support.postgres import free_port
from tests.support.tansu import create_topics

pytestmark = pytest.mark.integration


def consumer_state(port: int) -> dict[str, Any]:
    """The ``consumer`` part of a casework process's /healthz ({} if not answering)."""
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    except httpx.TransportError:
        return {}
    if answer.status_code != 200:
        return {}
    state: dict[str, Any] = answer.json().get("consumer", {})
    return state


def opened_cases(dsn: str) -> list[str]:
    """The ids of the cases casework opened (one per Case.Opened event stored)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'casework' "
            "AND table_name LIKE '%%events' ORDER BY table_name LIMIT 1"
        ).fetchone()
        if row is None:
            return []
        rows = conn.execute(
            f"SELECT originator_id FROM casework.{row[0]} WHERE topic LIKE '%%Opened'"
        ).fetchall()
    return [str(r[0]) for r in rows]


def test_a_second_casework_consumer_joins_and_leaves_under_a_stream(
    pg_dsn: str,
    tmp_path: Path,
    kafka_broker: Any,
    kafka_topic_prefix: str,
    processes: list[ServiceProcess],  # noqa: F811
) -> None:
    bootstrap = kafka_broker.bootstrap
    create_topics(bootstrap, [topic_for(s, kafka_topic_prefix) for s in ev.SOURCES], PARTITIONS)
    env = service_env(
        database_url=pg_dsn,
        kafka_bootstrap=bootstrap,
        kafka_topic_prefix=kafka_topic_prefix,
        kafka_partitions=PARTITIONS,
        kafka_fetch_max_wait_ms=20,
        data_dir=tmp_path,
        secret_key=SECRET_KEY,
        log_level="INFO",
    )
    migrated(env, tmp_path)  # as deploy does: the processes create no table (0019)
    ports = [free_port(), free_port()]
    first, second = (
        ServiceProcess(name, ["casework", "--port", str(port)], env, tmp_path)
        for name, port in zip(("casework-a", "casework-b"), ports, strict=True)
    )
    processes += [first, second]
    factory, producer = EventFactory(), Producer(bootstrap, kafka_topic_prefix)
    accepted: list[str] = []  # case ids of the ReportAccepted events published
    stop = threading.Event()

    def keep_producing() -> None:
        n = 0
        while not stop.is_set():
            intake, _ = factory.report(n)
            producer.send(intake)
            accepted.append(str(intake[2].payload["case_id"]))
            n += 1
            time.sleep(0.05)

    producing = threading.Thread(target=keep_producing, daemon=True)
    try:
        first.start()
        wait_for(lambda: consumer_state(ports[0]).get("ready") is True, 60,
                 "casework A's consumer ready", first)  # fmt: skip
        producing.start()
        wait_for(lambda: len(opened_cases(pg_dsn)) > 10, 30, "A to open cases", first)

        second.start()
        took = wait_for(lambda: consumer_state(ports[1]).get("ready") is True, 60,
                        "casework B's consumer ready", first, second)  # fmt: skip
        b_state = consumer_state(ports[1])
        assert b_state["assigned_partitions"] > 0
        wait_for(lambda: consumer_state(ports[0]).get("ready") is True
                 and consumer_state(ports[0])["rebalances"] >= 2, 30,
                 "A ready again after B joined", first)  # fmt: skip
        both = consumer_state(ports[0])["assigned_partitions"] + b_state["assigned_partitions"]
        assert both == PARTITIONS  # casework reads the intake topic only
        time.sleep(1.0)  # both process the stream for a while

        second.stop()
        wait_for(lambda: consumer_state(ports[0]).get("assigned_partitions") == PARTITIONS,
                 30, "A to take every partition back", first)  # fmt: skip
        stop.set()
        producing.join(timeout=30)
        assert not producing.is_alive()

        wait_for(lambda: len(opened_cases(pg_dsn)) >= len(accepted), 60,
                 "every accepted report's case", first)  # fmt: skip
        time.sleep(1.0)  # a duplicate would show up late
        cases = opened_cases(pg_dsn)
        assert sorted(cases) == sorted(accepted)  # one case per accepted report, no duplicate
        for process in (first, second):
            log = process.log_path.read_text()
            assert "Traceback" not in log, process.log_tail()
            assert "casework consumer failed" not in log
        print(f"\ncasework B ready {took:.1f}s after its start; {len(cases)} cases, once each")
    finally:
        stop.set()
        producer.close()
