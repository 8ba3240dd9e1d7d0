"""Exactness on PostgreSQL: random incremental projection equals a rebuild; and the Faust
worker, fed by relays from real event stores and killed with SIGKILL mid-stream, leaves every
table equal to a rebuild from the event stores.

The history and the dump-and-compare helpers are tests/unit/test_rebuild.py's.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from random import Random
from typing import Any

import pytest

from schemas.events import SOURCES, topic_for
from services.bootstrap import build_casework, build_config, build_intake
from services.common.application import JianduApplication
from services.common.kafka_publisher import KafkaPublisher
from services.common.relay import Relay
from services.common.sql import Database
from services.projections import store as store_module
from services.projections.rebuild import rebuild_store
from services.projections.store import LIVE, ReadStore
from tests.integration.helpers import TEST_KEY, pg_settings
from tests.integration.test_faust_worker import (
    ServiceProcess,
    processes,  # noqa: F401  (the fixture)
    service_env,
    wait_for,
)
from tests.support.tansu import create_topics
from tests.unit.conftest import build_embedded, stand_in_handlers
from tests.unit.test_batched_writes import check_merged_writes_equal_one_by_one
from tests.unit.test_rebuild import (
    Dump,
    HistoryWriter,
    RandomDelivery,
    assert_no_reporter_identity,
    assert_same,
    dump,
)

pytestmark = pytest.mark.integration

PARTITIONS = 3


def test_random_incremental_projection_equals_a_rebuild_on_postgres(
    pg_dsn: str, tmp_path: Path
) -> None:
    system = build_embedded(pg_settings(pg_dsn, tmp_path))
    stand_in_handlers(system)
    try:
        logs: dict[str, JianduApplication] = {"intake": system.intake, "casework": system.casework}
        writer = HistoryWriter(system.intake, system.casework, seed=4)
        incremental = ReadStore(Database(postgres_url=pg_dsn, schema="incremental"))
        delivery = RandomDelivery(incremental, logs, Random(4))
        for _ in range(2):
            writer.write(60)
            delivery.deliver_all()
            system.catch_up()
        assert writer.accepted["case"] >= 15
        assert delivery.redeliveries > 0
        before = dump(incremental, store_module.PROJECTIONS)
        assert_no_reporter_identity(before)
        rebuild_store(incremental, logs, show_progress=False, batch=25)
        after = dump(incremental, store_module.PROJECTIONS)
        assert_same(before, after)
        assert_same(dump(system.read.store, store_module.PROJECTIONS), after)
        incremental.db.close()
    finally:
        system.stop()


def test_merged_batched_upserts_equal_writing_each_upsert_in_order_on_postgres(
    pg_dsn: str,
) -> None:
    """PostgreSQL gets a batch's rows as executemany pipelines of upserts: NULLs
    in INTEGER columns, rows naming different columns, keys in another order."""
    check_merged_writes_equal_one_by_one(
        lambda name: Database(postgres_url=pg_dsn, schema=name, pool_size=1), attempts=10
    )


def paced_relay(relay: Relay, done: threading.Event, failures: list[BaseException]) -> None:
    """Publish in small batches, a little at a time, until the history is written and sent."""
    try:
        while not (done.is_set() and relay.position >= relay.app.max_position()):
            time.sleep(0.02 if relay.publish_pending() else 0.05)
    except BaseException as error:  # reported by the test
        failures.append(error)
    finally:
        relay._discard_publisher()


def test_the_worker_killed_mid_stream_leaves_every_table_equal_to_a_rebuild(
    pg_dsn: str,
    tmp_path: Path,
    kafka_broker: Any,
    kafka_topic_prefix: str,
    processes: list[ServiceProcess],  # noqa: F811
) -> None:
    bootstrap = kafka_broker.bootstrap
    create_topics(bootstrap, [topic_for(s, kafka_topic_prefix) for s in SOURCES], PARTITIONS)
    settings = pg_settings(pg_dsn, tmp_path)
    config = build_config(settings)
    intake, casework = build_intake(settings, config), build_casework(settings, config)
    logs: dict[str, JianduApplication] = {"intake": intake, "casework": casework}
    actual = ReadStore(Database(postgres_url=pg_dsn, schema="projections"))
    expected = ReadStore(Database(postgres_url=pg_dsn, schema="expected"))
    env = service_env(
        database_url=pg_dsn,
        kafka_bootstrap=bootstrap,
        kafka_topic_prefix=kafka_topic_prefix,
        kafka_partitions=PARTITIONS,
        kafka_fetch_max_wait_ms=20,
        data_dir=tmp_path,
        secret_key=TEST_KEY,
        log_level="INFO",
    )
    worker = ServiceProcess("projections-worker", ["projections-worker"], env, tmp_path)
    processes.append(worker)
    relays = [
        Relay(
            app,
            Relay.tracking_recorder_for(app),
            lambda: KafkaPublisher(bootstrap),
            topic_prefix=kafka_topic_prefix,
            batch_size=10,
        )
        for app in (intake, casework)
    ]
    done, failures = threading.Event(), list[BaseException]()
    try:
        # Some history before the worker ever ran: its start-up catch-up replays it from the
        # event stores; Kafka later brings the same events again, skipped.
        writer = HistoryWriter(intake, casework, seed=21)
        writer.write(30)
        replayed_steps = sum(len(logs[s].read_envelopes(0, 10**6)[0]) for s in SOURCES)
        worker.start()
        wait_for(
            lambda: (
                {r.status for r in actual.registrations().values()} == {LIVE}
                and len(actual.registrations()) == len(store_module.PROJECTIONS)
            ),
            30,
            "the worker's catch-up",
            worker,
        )
        assert len(actual.query("SELECT event_id FROM timeline_steps")) == replayed_steps

        # The stream: history written while the relays publish it, a little at a time.
        threads = [
            threading.Thread(target=paced_relay, args=(r, done, failures), daemon=True)
            for r in relays
        ]
        for thread in threads:
            thread.start()

        killed = threading.Event()

        def more_history() -> None:
            try:
                writer.write(70)
                # The rest only once the worker is killed: the stream goes on past the kill
                # however fast the pipeline runs.
                if not killed.wait(timeout=120):
                    raise TimeoutError("the worker was never killed")
                writer.write(100)
            except BaseException as error:
                failures.append(error)
            finally:
                done.set()

        history = threading.Thread(target=more_history, daemon=True)
        history.start()

        def steps() -> int:
            return len(actual.query("SELECT event_id FROM timeline_steps"))

        wait_for(lambda: steps() > replayed_steps + 40, 40, "events projected from Kafka", worker)
        worker.kill()  # SIGKILL, mid-stream
        at_kill = steps()
        killed.set()
        faust_positions = actual.query(
            "SELECT count(*) AS n FROM projection_positions WHERE consumer = 'faust'"
        )[0]["n"]
        worker.start()
        history.join(timeout=60)
        for thread in threads:
            thread.join(timeout=60)
        assert not failures, failures
        assert not history.is_alive()
        total = sum(len(logs[s].read_envelopes(0, 10**6)[0]) for s in SOURCES)
        print(f"\nkilled at {at_kill} of {total} timeline steps ({replayed_steps} caught up)")
        assert faust_positions > 0
        assert at_kill < total, "the stream was over before the kill: write more history"

        rebuild_store(expected, logs, show_progress=False)
        reference: Dump = dump(expected)
        took = wait_for(lambda: dump(actual) == reference, 60, "the restarted worker", worker)
        print(f"restarted worker exact {took:.1f}s after the stream ended")
        assert_same(dump(actual), reference)
        assert len(reference["timeline_steps"]) == total
        assert_no_reporter_identity(reference)
    finally:
        done.set()
        intake.close()
        casework.close()
        actual.db.close()
        expected.db.close()
