"""The Faust projection worker as a real process, against Tansu and PostgreSQL.

Envelopes are hand-built from the payload models of schemas/events.py; the same envelopes
applied in-process to a reference ReadStore (schema ``expected``) give the exact tables
the worker must produce, through redelivery and a ``kill -9``.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaAdminClient, KafkaProducer, TopicPartition

from schemas import events as ev
from schemas.events import EventEnvelope, topic_for
from schemas.glossary import CaseKind, Category, Channel, Role
from schemas.submissions import ReportedCadre
from services.common.sql import Database
from services.projections.store import ReadStore
from tests.support.postgres import free_port
from tests.support.tansu import create_topics

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
JIANDU = str(ROOT / ".venv" / "bin" / "jiandu")
PARTITIONS = 3
SECRET_KEY = base64.b64encode(os.urandom(32)).decode()


# --- processes ------------------------------------------------------------------------


class ServiceProcess:
    """One ``jiandu`` subcommand in its own process group, its output in a log file."""

    def __init__(self, name: str, args: Sequence[str], env: dict[str, str], log_dir: Path):
        self.name, self.args, self.env = name, list(args), env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        with self.log_path.open("ab") as log:
            log.write(f"\n=== {time.strftime('%H:%M:%S')} start {self.args}\n".encode())
            self.proc = subprocess.Popen(
                [JIANDU, *self.args],
                env=self.env,
                cwd=self.log_path.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            assert self.proc is not None
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def service_env(**values: Any) -> dict[str, str]:
    """The parent's environment without JIANDU_* settings, plus ``values`` as JIANDU_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIANDU_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update({f"JIANDU_{k.upper()}": str(v) for k, v in values.items()})
    return env


def run_jiandu(
    args: Sequence[str], env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """A one-shot ``jiandu`` command (``migrate``, ``import-cadres``…), its output captured."""
    return subprocess.run(
        [JIANDU, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip


def migrated(env: dict[str, str], cwd: Path) -> None:
    """`jiandu migrate`, as deploy runs it before the processes (docs/decisions/0019)."""
    done = run_jiandu(["migrate"], env, cwd)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def processes(request: pytest.FixtureRequest) -> Iterator[list[ServiceProcess]]:
    """Every process appended here is killed at teardown; logs are printed on failure."""
    failures_before = request.session.testsfailed
    started: list[ServiceProcess] = []
    yield started
    for process in started:
        process.stop()
    if request.session.testsfailed > failures_before:  # the call phase is reported by now
        for process in started:
            print(f"\n----- {process.name} log tail -----\n{process.log_tail()}", file=sys.stderr)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, *logs: Any) -> float:
    """Seconds it took until ``predicate()``; fails with the processes' logs otherwise."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            tails = "".join(f"\n----- {p.name} -----\n{p.log_tail()}" for p in logs)
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{tails}")
        time.sleep(0.05)
    return time.monotonic() - started


# --- envelopes ------------------------------------------------------------------------


class EventFactory:
    """Valid envelopes of both sources with increasing positions per source."""

    def __init__(self) -> None:
        self.positions = {"intake": 0, "casework": 0}
        self.now = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)

    def envelope(
        self, source: ev.Source, aggregate: uuid.UUID, version: int, payload: ev.Payload
    ) -> EventEnvelope:
        self.positions[source] += 1
        self.now += dt.timedelta(seconds=1)
        return EventEnvelope(
            source=source,
            position=self.positions[source],
            event_id=uuid.uuid4(),
            event_type=type(payload).__name__.removesuffix("V1"),
            version=1,
            aggregate_id=aggregate,
            aggregate_version=version,
            occurred_at=self.now,
            payload=payload.model_dump(mode="json"),
        )

    def report(self, n: int) -> tuple[list[EventEnvelope], list[EventEnvelope]]:
        """A real-name report received, registered, accepted, noticed; and its case opened.

        Registration starts the acceptance-notice deadline and the notice meets it: a
        registration re-applied after the notice would wrongly reopen the deadline.
        """
        report_id, case_id = uuid.uuid4(), uuid.uuid4()
        operator = ev.Actor(id="intake-desk", role=Role.OPERATOR)
        ledger, received_on = f"2025-{n:05d}", dt.date(2025, 3, 1)
        subject = ReportedCadre(name=f"干部{n}", unit="青山县交通运输局", cadre_id=f"QS-{n:04d}")
        reporter = ev.ReporterRef(ref=f"ref-{n}", anonymous=False)
        common: dict[str, Any] = {
            "channel": Channel.HOTLINE,
            "categories": [Category.VOTE_BUYING],
            "received_on": received_on,
            "reporter": reporter,
        }
        due = ev.DueDate(due=dt.date(2025, 3, 21), started_on=received_on, working_days=15)
        intake = [
            self.envelope("intake", report_id, 1, ev.ReportReceivedV1(
                subjects=[subject], summary=f"反映拉票（第{n}件）", referral=None,
                actor=operator, **common)),
            self.envelope("intake", report_id, 2, ev.ReportRegisteredV1(
                ledger_number=ledger, acceptance_notice_due=due, actor=operator)),
            self.envelope("intake", report_id, 3, ev.ReportAcceptedV1(
                case_id=case_id, ledger_number=ledger, subjects=[subject], summary="拉票",
                actor=operator, reason="属于受理范围", **common)),
            self.envelope("intake", report_id, 4, ev.AcceptanceNoticeSentV1(
                sent_on=dt.date(2025, 3, 3), actor=operator)),
        ]  # fmt: skip
        casework = [
            self.envelope("casework", case_id, 1, ev.CaseOpenedV1(
                kind=CaseKind.REPORT, report_id=report_id, ledger_number=ledger,
                subjects=[ev.NamedCadre(name=subject.name, unit=subject.unit,
                                        cadre_id=subject.cadre_id)],
                linked_case_id=None, routing=None,
                actor=ev.Actor(id="casework", role=Role.SYSTEM), **common)),
        ]  # fmt: skip
        return intake, casework


# --- Kafka and tables -----------------------------------------------------------------


class Producer:
    """Sends envelopes keyed by aggregate; remembers where each landed."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.prefix = prefix
        self.kafka = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
        self.last_position: dict[tuple[str, int], int] = {}  # (source, partition) → max
        # Where each partition ends, from the broker's own acks: Tansu's end_offsets()
        # reports the base offset of the last record batch + 1, not the true end.
        self.ends: dict[TopicPartition, int] = {}

    def send(self, envelopes: Sequence[EventEnvelope]) -> None:
        futures = [
            (e, self.kafka.send(topic_for(e.source, self.prefix), key=e.key(), value=e.to_bytes()))
            for e in envelopes
        ]
        self.kafka.flush(timeout=15)
        for envelope, future in futures:
            metadata = future.get(timeout=15)
            partition = metadata.partition
            tp = TopicPartition(metadata.topic, partition)
            self.ends[tp] = max(self.ends.get(tp, 0), metadata.offset + 1)
            key = (envelope.source, partition)
            self.last_position[key] = max(self.last_position.get(key, 0), envelope.position)

    def send_raw(self, source: ev.Source, key: bytes, value: bytes) -> None:
        """A message that must be skipped: its partition's position is not tracked."""
        metadata = self.kafka.send(topic_for(source, self.prefix), key=key, value=value).get(
            timeout=15
        )
        tp = TopicPartition(metadata.topic, metadata.partition)
        self.ends[tp] = max(self.ends.get(tp, 0), metadata.offset + 1)

    def close(self) -> None:
        self.kafka.close(timeout=5)


def table_snapshot(store: ReadStore) -> dict[str, list[tuple[Any, ...]]]:
    snapshot = {}
    for projection in store.projections:
        for table in projection.tables:
            rows = store.query(f"SELECT * FROM {table}")
            snapshot[table] = sorted((tuple(sorted(r.items())) for r in rows), key=repr)
    return snapshot


def positions(store: ReadStore, consumer: str) -> dict[tuple[str, int], int]:
    rows = store.query(
        "SELECT source, partition, position FROM projection_positions WHERE consumer = %s",
        (consumer,),
    )
    return {(r["source"], r["partition"]): r["position"] for r in rows}


class GroupOffsets:
    """Compares a consumer group's committed offsets with the ends of its topics."""

    def __init__(self, bootstrap: str, group: str, ends: dict[TopicPartition, int]) -> None:
        self.group = group
        self.ends = dict(ends)
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)

    def caught_up(self) -> bool:
        """Has the group committed up to the end of every partition written to?"""
        committed = self.admin.list_group_offsets({self.group: list(self.ends)})[self.group]
        return all(
            committed.get(tp) is not None and committed[tp].offset >= end
            for tp, end in self.ends.items()
        )

    def close(self) -> None:
        self.admin.close()


# --- the test -------------------------------------------------------------------------


def test_worker_projects_both_topics_once_through_redelivery_and_kill_9(
    pg_dsn: str,
    tmp_path: Path,
    kafka_broker: Any,
    kafka_topic_prefix: str,
    processes: list[ServiceProcess],
) -> None:
    bootstrap = kafka_broker.bootstrap
    topics = [topic_for(s, kafka_topic_prefix) for s in ev.SOURCES]
    create_topics(bootstrap, topics, PARTITIONS)
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
    migrated(env, tmp_path)
    actual = ReadStore(Database(postgres_url=pg_dsn, schema="projections"))
    expected = ReadStore(Database(postgres_url=pg_dsn, schema="expected"))
    factory, producer = EventFactory(), Producer(bootstrap, kafka_topic_prefix)

    def produce(count: int, first: int) -> list[EventEnvelope]:
        batch: list[EventEnvelope] = []
        for n in range(first, first + count):
            intake, casework = factory.report(n)
            batch += intake + casework
        expected.apply([e for e in batch if e.source == "intake"], consumer="reference")
        expected.apply([e for e in batch if e.source == "casework"], consumer="reference")
        producer.send(batch)
        return batch

    worker = ServiceProcess("projections-worker", ["projections-worker"], env, tmp_path)
    processes.append(worker)
    try:
        # 1. Events produced before the worker starts are all projected; messages that are
        # not our contract, or whose payload cannot be projected, are logged and skipped.
        producer.send_raw("intake", b"k", b"not json")
        producer.send_raw("casework", b"k", b'{"source": "casework"}')
        poison = factory.report(99)[0][1].model_copy(update={"payload": {"ledger_number": 5}})
        producer.send_raw("intake", poison.key(), poison.to_bytes())
        first = produce(12, 0)
        worker.start()
        took = wait_for(lambda: table_snapshot(actual) == table_snapshot(expected), 60,
                        "the first projection", worker)  # fmt: skip
        print(f"\nfirst batch projected {took:.1f}s after the worker started (incl. group join)")
        steps = actual.query("SELECT count(*) AS n FROM timeline_steps")[0]["n"]
        assert steps == len(first) == 60
        archive = actual.query("SELECT case_id FROM archive_reports WHERE case_id IS NOT NULL")
        assert len(archive) == 12
        deadlines = actual.query("SELECT met_on FROM case_deadlines")
        assert len(deadlines) == 12
        assert all(d["met_on"] == "2025-03-03" for d in deadlines)
        log = worker.log_path.read_text()
        assert log.count("skipping a malformed message") == 2
        assert f"skipping event {poison.event_id}" in log

        # 2. Live lag of single reports, then a redelivery of everything: nothing changes.
        lags = []
        for n in range(12, 17):
            sent = time.monotonic()
            produce(1, n)
            wait_for(lambda: table_snapshot(actual) == table_snapshot(expected), 20,
                     "a live event", worker)  # fmt: skip
            lags.append(time.monotonic() - sent)
        print("live lag (produce → both tables exact): "
              + ", ".join(f"{t * 1000:.0f}" for t in lags) + " ms")  # fmt: skip
        before, before_positions = table_snapshot(actual), positions(actual, "faust")
        producer.send(first)
        offsets = GroupOffsets(bootstrap, f"{kafka_topic_prefix}jiandu-projections",
                               producer.ends)  # fmt: skip
        try:
            wait_for(offsets.caught_up, 30, "the worker to consume the redelivery", worker)
        finally:
            offsets.close()
        assert table_snapshot(actual) == before
        assert positions(actual, "faust") == before_positions == producer.last_position

        # 3. kill -9 mid-stream; the restarted worker converges to the exact tables.
        stop = threading.Event()
        produced: list[EventEnvelope] = []

        def keep_producing() -> None:
            n = 100
            while not stop.is_set() and n < 300:
                produced.extend(produce(5, n))
                n += 5
                time.sleep(0.05)

        thread = threading.Thread(target=keep_producing, daemon=True)
        thread.start()
        baseline = len(before["timeline_steps"])
        wait_for(lambda: actual.query("SELECT count(*) AS n FROM timeline_steps")[0]["n"]
                 > baseline + 100, 30, "the worker to project the stream", worker)  # fmt: skip
        worker.kill()
        at_kill = actual.query("SELECT count(*) AS n FROM timeline_steps")[0]["n"]
        worker.start()
        thread.join(timeout=60)
        assert not thread.is_alive()
        total = baseline + len(produced)
        print(f"killed at {at_kill} of {total} steps")
        assert at_kill < total, "the stream was over before the kill: produce more, or slower"
        took = wait_for(lambda: table_snapshot(actual) == table_snapshot(expected), 60,
                        "the restarted worker to catch up", worker)  # fmt: skip
        print(f"restarted worker caught up in {took:.1f}s")
        assert len(table_snapshot(actual)["timeline_steps"]) == total
        assert positions(actual, "faust") == producer.last_position
    finally:
        producer.close()
        actual.db.close()
        expected.db.close()


# --- a second worker under a stream ---------------------------------------------------


def health(port: int) -> tuple[int, dict[str, Any], str | None]:
    """(status, body, Retry-After) of a worker's /healthz; (0, {}, None) if not listening."""
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    except httpx.TransportError:
        return 0, {}, None
    return answer.status_code, answer.json(), answer.headers.get("Retry-After")


class ProgressSampler:
    """Samples a row count every 20 ms; the longest stand-still while rows were due is the
    pause a rebalance caused (printed, never asserted)."""

    def __init__(self, store: ReadStore, due: Callable[[], int]) -> None:
        self.store, self.due = store, due
        self.samples: list[tuple[float, int, int]] = []  # (time, projected, due)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            due = self.due()
            count = self.store.query("SELECT count(*) AS n FROM timeline_steps")[0]["n"]
            self.samples.append((time.monotonic(), count, due))
            time.sleep(0.02)

    def longest_pause(self, since: float) -> float:
        longest, changed, last = 0.0, None, None
        for at, count, due in self.samples:
            if at < since:
                continue
            if count != last:
                changed, last = at, count
            elif changed is not None and count < due:
                longest = max(longest, at - changed)
        return longest


def test_a_second_worker_joins_and_leaves_under_a_stream_each_event_projected_once(
    pg_dsn: str,
    tmp_path: Path,
    kafka_broker: Any,
    kafka_topic_prefix: str,
    processes: list[ServiceProcess],
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
    migrated(env, tmp_path)  # as deploy does: the workers create no table (0019)
    actual = ReadStore(Database(postgres_url=pg_dsn, schema="projections"))
    expected = ReadStore(Database(postgres_url=pg_dsn, schema="expected"))
    factory, producer = EventFactory(), Producer(bootstrap, kafka_topic_prefix)
    sent = [0]  # timeline steps published so far

    def produce(first: int) -> None:
        intake, casework = factory.report(first)
        expected.apply(intake, consumer="reference")
        expected.apply(casework, consumer="reference")
        producer.send(intake + casework)
        sent[0] += len(intake) + len(casework)

    ports = [free_port(), free_port()]
    first, second = (
        ServiceProcess(name, ["projections-worker", "--port", str(port)], env, tmp_path)
        for name, port in zip(("worker-a", "worker-b"), ports, strict=True)
    )
    processes += [first, second]
    sampler = ProgressSampler(actual, lambda: sent[0])
    stop = threading.Event()

    def keep_producing() -> None:
        n = 0
        while not stop.is_set():
            produce(n)
            n += 1
            time.sleep(0.05)

    producing = threading.Thread(target=keep_producing, daemon=True)
    try:
        first.start()
        wait_for(lambda: health(ports[0])[0] == 200, 60, "worker A ready", first)
        producing.start()
        sampler.thread.start()
        wait_for(lambda: sampler.samples and sampler.samples[-1][1] > 50, 30,
                 "worker A to project the stream", first)  # fmt: skip

        # B starts under the stream: not ready (503, Retry-After) until it has partitions.
        joined = time.monotonic()
        second.start()
        answers: list[tuple[int, dict[str, Any], str | None]] = []

        def b_ready() -> bool:
            answers.append(health(ports[1]))
            return answers[-1][0] == 200

        took = wait_for(b_ready, 60, "worker B's /healthz to go ready", first, second)
        not_ready = [a for a in answers if a[0] == 503]
        assert not_ready, f"B was never seen not ready: {answers[:5]}"
        assert all(a[2] == "1" and a[1]["consumer"]["ready"] is False for a in not_ready)
        body = answers[-1][1]["consumer"]
        assert body["ready"] is True
        assert body["status"] == "ready"
        assert 0 < body["assigned_partitions"] < 2 * PARTITIONS  # A holds the others
        metrics = httpx.get(f"http://127.0.0.1:{ports[1]}/metrics", timeout=2).text
        assert 'jiandu_consumer_ready{consumer="projections"} 1.0' in metrics
        assert 'jiandu_consumer_rebalances_total{consumer="projections"} 1.0' in metrics
        assert "jiandu_consumer_last_rebalance_seconds" in metrics
        # A went through the rebalance too and is ready again with the rest.
        wait_for(lambda: health(ports[0])[1].get("consumer", {}).get("rebalances", 0) >= 2
                 and health(ports[0])[0] == 200, 30, "worker A ready again", first)  # fmt: skip
        a_partitions = health(ports[0])[1]["consumer"]["assigned_partitions"]
        assert a_partitions + body["assigned_partitions"] == 2 * PARTITIONS
        target = sent[0]
        wait_for(lambda: sampler.samples[-1][1] >= target, 30, "both to keep up", first, second)
        join_pause = sampler.longest_pause(joined)

        # B leaves (SIGTERM) under the stream; A takes every partition back.
        left = time.monotonic()
        second.stop()
        wait_for(lambda: health(ports[0])[1].get("consumer", {}).get("assigned_partitions")
                 == 2 * PARTITIONS
                 and health(ports[0])[0] == 200, 30, "A to hold every partition", first)  # fmt: skip
        target = sent[0]
        wait_for(lambda: sampler.samples[-1][1] >= target, 30, "A to keep up", first)
        leave_pause = sampler.longest_pause(left)
        stop.set()
        producing.join(timeout=30)
        assert not producing.is_alive()

        wait_for(lambda: table_snapshot(actual) == table_snapshot(expected), 60,
                 "the tables to equal the reference", first)  # fmt: skip
        assert len(table_snapshot(actual)["timeline_steps"]) == sent[0]
        assert positions(actual, "faust") == producer.last_position
        for worker in (first, second):
            log = worker.log_path.read_text()
            assert "Traceback" not in log, worker.log_tail()
        print(f"\nB ready {took:.1f}s after its start; longest projection pause: "
              f"join {join_pause:.1f}s, leave (SIGTERM) {leave_pause:.1f}s "
              f"({sent[0]} events)")  # fmt: skip
    finally:
        stop.set()
        sampler.stop.set()
        producer.close()
        actual.db.close()
        expected.db.close()
