"""`jiandu migrate` on the throwaway PostgreSQL, with the real processes (docs/decisions/0019).

Concurrent runs all succeed; processes started before it wait and then work; another key
is refused with the message; and once it ran, no process runs DDL — not even a second
projections worker started while the first one writes (an event trigger records every DDL
statement with the ``application_name`` of its session; each process gets its own through
``PGAPPNAME``).
"""

from __future__ import annotations

import base64
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from schemas import events as ev
from schemas.events import topic_for
from services.common.settings import Settings
from services.common.sql import Database
from services.migrate import SERVICES, schema_version
from services.projections.faust_app import CONSUMER
from services.projections.store import LIVE, ReadStore
from tests.integration.test_faust_worker import (
    JIANDU,
    EventFactory,
    Producer,
    ServiceProcess,
    migrated,
    positions,
    processes,  # noqa: F401  (the fixture)
    run_jiandu,
    service_env,
    table_snapshot,
    wait_for,
)
from tests.support.postgres import free_port
from tests.support.tansu import create_topics

pytestmark = pytest.mark.integration

KEY = base64.b64encode(os.urandom(32)).decode()
PARTITIONS = 3

RECORD_DDL = [
    "CREATE TABLE public.ddl_audit (app TEXT, tag TEXT, statement TEXT)",
    """CREATE FUNCTION public.record_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO public.ddl_audit
        VALUES (current_setting('application_name'), tg_tag, current_query());
    END $$""",
    "CREATE EVENT TRIGGER record_ddl ON ddl_command_start EXECUTE FUNCTION public.record_ddl()",
]


def env_for(pg_dsn: str, tmp_path: Path, app: str, **values: Any) -> dict[str, str]:
    env = service_env(database_url=pg_dsn, data_dir=tmp_path, secret_key=KEY, **values)
    env["PGAPPNAME"] = app  # libpq: the application_name of every connection it opens
    return env


def record_ddl(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        for statement in RECORD_DDL:
            conn.execute(statement.encode())


def recorded_ddl(pg_dsn: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute("SELECT app, tag, statement FROM public.ddl_audit").fetchall()
    return [(str(a), str(t), str(s)) for a, t, s in rows]


def versions(pg_dsn: str) -> dict[str, int]:
    found = {}
    with psycopg.connect(pg_dsn) as conn:
        for service in SERVICES:
            row = conn.execute(
                f"SELECT version FROM {service}.jiandu_schema WHERE service = %s".encode(),
                (service,),
            ).fetchone()
            found[service] = int(row[0]) if row else 0
    return found


def test_concurrent_migrate_runs_all_succeed_and_one_does_the_work(
    pg_dsn: str, tmp_path: Path
) -> None:
    env = env_for(pg_dsn, tmp_path, "migrate")
    runs = [
        subprocess.Popen(
            [JIANDU, "migrate"],
            env=env,
            cwd=tmp_path,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=180) for run in runs]
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, out + err
    last_lines = sorted(out.strip().splitlines()[-1] for out, _ in outputs)
    assert last_lines == ["schema already up to date"] * 3 + ["schema migrated"]
    assert versions(pg_dsn) == {s: schema_version(s) for s in SERVICES}
    again = run_jiandu(["migrate"], env, tmp_path)
    assert again.returncode == 0
    assert "schema already up to date" in again.stdout


def test_processes_started_before_migrate_wait_and_then_work(
    pg_dsn: str,
    tmp_path: Path,
    kafka_broker: Any,
    kafka_topic_prefix: str,
    processes: list[ServiceProcess],  # noqa: F811
) -> None:
    values: dict[str, Any] = {
        "kafka_bootstrap": kafka_broker.bootstrap,
        "kafka_topic_prefix": kafka_topic_prefix,
        "kafka_partitions": PARTITIONS,
        "log_level": "INFO",
    }
    port = free_port()
    worker = ServiceProcess(
        "projections-worker", ["projections-worker"],
        env_for(pg_dsn, tmp_path, "worker", **values), tmp_path,
    )  # fmt: skip
    intake = ServiceProcess(
        "intake-api", ["intake-api", "--port", str(port)],
        env_for(pg_dsn, tmp_path, "intake-api", **values), tmp_path,
    )  # fmt: skip
    processes += [worker, intake]
    worker.start()  # the reverse of the README's order, and before `jiandu migrate`
    intake.start()
    for process in (worker, intake):
        wait_for(lambda p=process: "waiting for `jiandu migrate`" in p.log_tail(), 60,  # type: ignore[misc]
                 f"{process.name} to wait for migrate", process)  # fmt: skip
    assert "intake schema version 0, need 1" in intake.log_tail()
    with httpx.Client() as client:
        waiting = client.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert waiting.status_code == 503, waiting.text
        assert waiting.headers["Retry-After"] == "5"
        assert "waiting for `jiandu migrate` (" in waiting.json()["detail"]
        refused = client.post(f"http://127.0.0.1:{port}/api/v1/reports", json={}, timeout=5)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "5"
        assert worker.alive()
        assert intake.alive()

        migrated(env_for(pg_dsn, tmp_path, "migrate"), tmp_path)

        def healthy() -> bool:
            try:
                return client.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        took = wait_for(healthy, 60, "intake-api healthy after migrate", intake, worker)
        print(f"\nintake-api healthy {took:.1f}s after `jiandu migrate` finished")
    settings = Settings(database_url=pg_dsn, data_dir=tmp_path, secret_key=KEY)
    store = ReadStore(Database.for_service(settings, "projections"))

    def caught_up() -> bool:
        registered = store.registrations()
        return bool(registered) and all(r.status == LIVE for r in registered.values())

    wait_for(caught_up, 60, "the worker to catch the projections up", worker)
    time.sleep(1)
    for process in (worker, intake):
        assert process.alive(), process.log_tail()
        log = process.log_tail(200)
        assert "Traceback" not in log, log
        assert "concurrently" not in log, log


def test_another_key_or_a_newer_schema_is_refused_with_a_message(
    pg_dsn: str, tmp_path: Path
) -> None:
    migrated(env_for(pg_dsn, tmp_path, "migrate"), tmp_path)
    other = env_for(pg_dsn, tmp_path, "other")
    other["JIANDU_SECRET_KEY"] = base64.b64encode(os.urandom(32)).decode()
    for args in (["migrate"], ["relay", "--source", "intake"], ["intake-api"]):
        refused = run_jiandu(args, other, tmp_path, timeout=60)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert (
            "JIANDU_SECRET_KEY does not match the key this installation's stores were written "
            "with (key check "
        ) in refused.stderr
        assert "use the original key" in refused.stderr
    assert versions(pg_dsn) == {s: schema_version(s) for s in SERVICES}

    with psycopg.connect(pg_dsn) as conn:
        conn.execute("UPDATE intake.jiandu_schema SET version = 99")
    newer = run_jiandu(
        ["relay", "--source", "intake"], env_for(pg_dsn, tmp_path, "relay"), tmp_path
    )
    assert newer.returncode == 1
    assert "intake schema is at version 99, newer than this code's 1" in newer.stderr


@pytest.fixture
def writes_stop() -> Iterator[threading.Event]:
    stop = threading.Event()
    yield stop
    stop.set()


def test_a_second_projections_worker_started_under_writes_does_no_ddl(
    pg_dsn: str,
    tmp_path: Path,
    kafka_broker: Any,
    kafka_topic_prefix: str,
    processes: list[ServiceProcess],  # noqa: F811
    writes_stop: threading.Event,
) -> None:
    bootstrap = kafka_broker.bootstrap
    create_topics(bootstrap, [topic_for(s, kafka_topic_prefix) for s in ev.SOURCES], PARTITIONS)
    values: dict[str, Any] = {
        "kafka_bootstrap": bootstrap,
        "kafka_topic_prefix": kafka_topic_prefix,
        "kafka_partitions": PARTITIONS,
        "kafka_fetch_max_wait_ms": 20,
        "log_level": "INFO",
    }
    migrated(env_for(pg_dsn, tmp_path, "migrate"), tmp_path)
    actual = ReadStore(Database(postgres_url=pg_dsn, schema="projections"))
    expected = ReadStore(Database(postgres_url=pg_dsn, schema="expected"))
    record_ddl(pg_dsn)  # from here on, every DDL statement is recorded
    factory, producer = EventFactory(), Producer(bootstrap, kafka_topic_prefix)
    sent = [0]
    lock = threading.Lock()

    def produce(count: int) -> None:
        with lock:
            batch = []
            for _ in range(count):
                intake, casework = factory.report(sent[0])
                batch += intake + casework
                sent[0] += 1
            expected.apply([e for e in batch if e.source == "intake"], consumer="reference")
            expected.apply([e for e in batch if e.source == "casework"], consumer="reference")
            producer.send(batch)

    def keep_writing() -> None:
        while not writes_stop.is_set():
            produce(3)
            time.sleep(0.05)

    first = ServiceProcess("worker-1", ["projections-worker"],
                           env_for(pg_dsn, tmp_path, "worker-1", **values), tmp_path)  # fmt: skip
    second = ServiceProcess("worker-2", ["projections-worker"],
                            env_for(pg_dsn, tmp_path, "worker-2", **values), tmp_path)  # fmt: skip
    processes += [first, second]
    writer = threading.Thread(target=keep_writing, name="writes", daemon=True)
    try:
        produce(10)
        first.start()
        wait_for(lambda: sum(positions(actual, CONSUMER).values()) > 0, 90,
                 "the first worker to project", first)  # fmt: skip
        writer.start()
        time.sleep(1)  # upserts under way
        second.start()  # its start-up deadlocked against them before migrate (issue 11)
        time.sleep(15)  # long enough for the second worker to join the group and project
    finally:
        writes_stop.set()
        if writer.is_alive():
            writer.join(timeout=30)
    producer.close()
    wait_for(lambda: table_snapshot(actual) == table_snapshot(expected), 120,
             "both workers to project every write", first, second)  # fmt: skip
    print(f"\n{sent[0]} reports written while the second worker started")
    for worker in (first, second):
        assert worker.alive(), worker.log_tail()
        log = worker.log_path.read_text()
        assert "Deadlock" not in log, log[-4000:]
        assert "Traceback" not in log, log[-4000:]
        assert "waiting for `jiandu migrate`" not in log
    again = run_jiandu(["migrate"], env_for(pg_dsn, tmp_path, "migrate-again"), tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "schema already up to date" in again.stdout
    assert recorded_ddl(pg_dsn) == []  # not even migrate again, on a running system
