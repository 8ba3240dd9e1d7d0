"""The distributed projection worker: Faust agents that project both topics into PostgreSQL.

One agent per source topic (concurrency 1, so each partition's events keep their order)
consumes without pause while a writer task takes what has arrived, groups it by partition
(order kept) and applies it in one transaction (``ReadStore.apply_partitions``: each row
written once per batch, a statement per table and column set; decision 0026), run in a
thread so the event loop never blocks on psycopg. A batch is acked only once applied, so
Faust never commits past it. The consumer's fetch wait is short
(``kafka_fetch_max_wait_ms``, 10 ms by default): Tansu holds every fetch that long
even when data has arrived. Idempotence rests on the positions ``ReadStore`` records per
``(consumer, source, partition)`` in the same transaction, not on Kafka offsets: a
redelivered message changes nothing. See docs/decisions/0005.

Before the agents start, projections that are new or changed version are caught up from
the event stores (``catchup.py``); live batches skip, per projection, what it replayed, and
wait (retried) while a projection is being rebuilt. See docs/decisions/0010.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

import faust
import psycopg
from faust.transport.drivers import aiokafka as faust_aiokafka
from pydantic import ValidationError

from schemas.events import SOURCES, EventEnvelope, topic_for
from services.common.kafka import ensure_topics
from services.common.readiness import ConsumerReadiness, serve_health
from services.common.settings import Settings
from services.common.sql import Database
from services.common.unavailable import is_database_unavailable
from services.projections.catchup import catch_up_projections
from services.projections.store import ProjectionsNotReady, ReadStore

log = logging.getLogger(__name__)

CONSUMER = "faust"  # the consumer name of this worker's positions in projection_positions
BATCH_SIZE = 500  # events at most in one transaction
MAX_PENDING = 4 * BATCH_SIZE  # events consumed and not yet applied, at most
MAX_RETRY_SECONDS = 10.0
# Group membership (session timeout and heartbeat: JIANDU_KAFKA_SESSION_TIMEOUT_MS and
# JIANDU_KAFKA_HEARTBEAT_INTERVAL_MS): Tansu answers a join after ~session/2; Apache Kafka
# refuses sessions below its group.min.session.timeout.ms (6 s by default). The rebalance
# timeout bounds how long a member may take to rejoin (finish its batch, revoke).
# docs/decisions/0020.
MIN_REBALANCE_TIMEOUT_SECONDS = 10.0


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust hardcodes ``fetch_max_wait_ms=1500``; Tansu holds every fetch that long."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        wait_ms = getattr(self.app, "fetch_max_wait_ms", None)
        if wait_ms is not None and hasattr(consumer, "_fetch_max_wait_ms"):
            # Read by AIOKafkaConsumer.start() when it builds its Fetcher (aiokafka 0.8-0.14).
            consumer._fetch_max_wait_ms = wait_ms
        elif wait_ms is not None:
            log.warning("cannot lower aiokafka's fetch wait; projections may lag ~1.5 s")
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> Any:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _Transport(faust_aiokafka.Transport):
    Consumer = _Consumer


class ProjectionApp(faust.App):
    """A Faust app whose Kafka consumer waits at most ``fetch_max_wait_ms`` per fetch, and
    that reports its rebalances to ``readiness`` (``/healthz``, ``/metrics``)."""

    fetch_max_wait_ms: int | None = None
    readiness: ConsumerReadiness | None = None
    source_topics: frozenset[str] = frozenset()  # not Faust's own (its leader topic)

    def _new_transport(self) -> Any:
        return _Transport(self.conf.broker_consumer, self)

    def on_rebalance_start(self) -> None:
        # Called from the consumer thread as soon as partitions are revoked.
        super().on_rebalance_start()
        if self.readiness is not None:
            self.readiness.rebalance_started()

    def on_rebalance_end(self) -> None:
        # Called once the new assignment is seeked and the flow resumed.
        super().on_rebalance_end()
        if self.readiness is not None:
            self.readiness.assigned(
                (tp.topic, tp.partition)
                for tp in self.consumer.assignment()
                if tp.topic in self.source_topics
            )

    def report_lag(self, processed: dict[Any, int]) -> None:
        """Lag of the assigned partitions after a batch: highwater minus the offset after
        the last one processed, from what the consumer last fetched (cheap; an estimate)."""
        if self.readiness is None:
            return
        try:
            assignment = self.consumer.assignment()
            lag = 0
            for tp in assignment:
                if tp in processed:
                    lag += max(0, self.consumer.highwater(tp) - processed[tp] - 1)
            self.readiness.lag(lag)
        except Exception:  # metrics never stop the projection
            log.debug("lag not measured", exc_info=True)


def app_id(settings: Settings) -> str:
    """The consumer group: includes the topic prefix, so parallel test runs never share one."""
    return f"{settings.kafka_topic_prefix}jiandu-projections"


def topic_names(settings: Settings) -> list[str]:
    return [topic_for(source, settings.kafka_topic_prefix) for source in SOURCES]


def by_partition(events: Sequence[Any]) -> dict[int, list[EventEnvelope]]:
    """A batch's envelopes by partition, in arrival order; messages not of our contract
    cannot become valid by retrying: logged and skipped."""
    groups: dict[int, list[EventEnvelope]] = {}
    for event in events:
        message = event.message
        try:
            envelope = EventEnvelope.from_bytes(event.value)
        except (ValidationError, ValueError, TypeError) as error:
            log.error("skipping a malformed message on %s[%d]: %s", message.topic,
                      message.partition, error)  # fmt: skip
            continue
        groups.setdefault(message.partition, []).append(envelope)
    return groups


def is_poison(error: Exception) -> bool:
    """Does the error come from the events themselves (else: the database, retry)?

    A projection being caught up or rebuilt (``ProjectionsNotReady``) is waited for.
    """
    if isinstance(error, ProjectionsNotReady) or is_database_unavailable(error):
        return False
    if isinstance(error, psycopg.Error):
        return isinstance(error, psycopg.DataError | psycopg.IntegrityError)
    return True  # the contract's models or a projection refused the event


Batch = dict[int, list[EventEnvelope]]  # a batch's envelopes by partition, in order


class Writer:
    """Applies batches to the store one at a time, each ``store.apply_partitions`` in a thread.

    One at a time: the two agents' transactions touch shared rows (a report's and its case's),
    and PostgreSQL only notices a deadlock after deadlock_timeout (1 s).
    """

    def __init__(self, store: ReadStore) -> None:
        self.store = store
        self.lock = asyncio.Lock()

    async def apply(self, batch: Batch) -> None:
        """If cancelled meanwhile, wait for the thread: a batch is committed or not, never unknown."""
        async with self.lock:
            future = asyncio.ensure_future(
                asyncio.to_thread(self.store.apply_partitions, batch, consumer=CONSUMER)
            )
            try:
                await asyncio.shield(future)
            except asyncio.CancelledError:
                await asyncio.wait([future])
                raise


async def apply_batch(writer: Writer, batch: Batch) -> None:
    """Apply one batch (every partition's share) in one transaction; returns only once applied.

    A database error (an outage, a deadlock with another worker) or a projection being
    rebuilt is retried until it passes: it delays, never loses (decision 0018). An error
    caused by the events is a poison event: the batch is split, partition by partition, then
    event by event, the failing event logged and skipped (a rebuild from the event stores
    brings it back once the projection is fixed), so one bad event cannot stall its
    partition for ever.
    """
    delay = 0.2
    while True:
        try:
            await writer.apply(batch)
            return
        except Exception as error:
            if not is_poison(error):
                log.warning("projection: not applied, retrying in %.1fs: %s", delay, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)
                continue
            if len(batch) > 1:
                for partition, envelopes in batch.items():
                    await apply_batch(writer, {partition: envelopes})
                return
            [(partition, envelopes)] = batch.items()
            if len(envelopes) > 1:
                for envelope in envelopes:
                    await apply_batch(writer, {partition: [envelope]})
                return
            log.exception(
                "projection: skipping event %s (%s #%d) that cannot be projected",
                envelopes[0].event_id,
                envelopes[0].source,
                envelopes[0].position,
            )
            return


async def consume_and_apply(
    app: ProjectionApp, stream: Any, writer: Writer, processed: dict[Any, int]
) -> None:
    """Consume the stream without pause while a writer task applies what has arrived.

    Events are buffered as they come (``noack``: Faust acks nothing by itself); the writer
    takes what is there (at most ``BATCH_SIZE``), applies it in one transaction, and only
    then acks it, so Faust commits no offset past an event not applied, and a rebalance or a
    shutdown waits for the batch in flight (Faust's ``stream_wait_empty``). Consumption
    goes on while a batch is written (the database's work overlaps Faust's), so batches
    grow with the load by themselves; a lone event is applied at once. At most
    ``MAX_PENDING`` events wait: then consumption waits for the writer.
    """
    manual = stream.noack()
    pending: list[Any] = []
    arrived = asyncio.Event()
    room = asyncio.Event()
    room.set()

    async def write() -> None:
        while True:
            await arrived.wait()
            events = pending[:BATCH_SIZE]
            del pending[:BATCH_SIZE]
            if not pending:
                arrived.clear()
            if len(pending) < MAX_PENDING:
                room.set()
            batch = by_partition(events)
            if batch:
                await apply_batch(writer, batch)
            for event in events:  # only now may Faust commit their offsets
                await manual.ack(event)
                processed[event.message.tp] = event.message.offset
            app.report_lag(processed)

    writing = asyncio.ensure_future(write())
    try:
        async for event in manual.events():
            pending.append(event)
            arrived.set()
            if len(pending) >= MAX_PENDING:
                room.clear()
                await room.wait()
            if writing.done():
                writing.result()  # the writer never ends by itself: raise what ended it
    finally:
        writing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writing


def create_app(
    settings: Settings, store: ReadStore | None = None, readiness: ConsumerReadiness | None = None
) -> faust.App:
    """The Faust app projecting both topics into ``store`` (default: the projections database)."""
    data_dir = settings.data_dir / "faust"
    data_dir.mkdir(parents=True, exist_ok=True)
    app = ProjectionApp(
        app_id(settings),
        broker=[f"kafka://{server}" for server in settings.kafka_bootstrap.split(",")],
        store="memory://",
        datadir=str(data_dir),
        web_enabled=False,
        topic_partitions=settings.kafka_partitions,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.kafka_session_timeout_ms / 1000,
        broker_heartbeat_interval=settings.kafka_heartbeat_interval_ms / 1000,
        broker_rebalance_timeout=max(
            MIN_REBALANCE_TIMEOUT_SECONDS, settings.kafka_session_timeout_ms / 1000
        ),
        broker_commit_interval=1.0,
        stream_buffer_maxsize=MAX_PENDING,
    )
    app.fetch_max_wait_ms = settings.kafka_fetch_max_wait_ms
    app.readiness = readiness
    app.source_topics = frozenset(topic_names(settings))
    processed: dict[Any, int] = {}  # the last offset processed, per partition
    writer = Writer(store or ReadStore(Database.for_service(settings, "projections")))

    for name in topic_names(settings):
        topic = app.topic(
            name, key_serializer="raw", value_serializer="raw", partitions=settings.kafka_partitions
        )

        async def project(stream: Any) -> None:
            await consume_and_apply(app, stream, writer, processed)

        project.__qualname__ = project.__name__ = f"project_{name.rsplit('.', 2)[-2]}"
        app.agent(topic, name=f"project-{name}", concurrency=1)(project)
    return app


def run_worker(settings: Settings, readiness: ConsumerReadiness | None = None) -> None:
    """Create the topics, then run the worker in the foreground (like ``faust worker``).

    With ``settings.projections_worker_port``, ``/healthz`` (503 until caught up and
    assigned, and during rebalances) and ``/metrics`` are served from the start (by the
    caller, when it passes its ``readiness``).
    """
    if settings.database_for("projections") is None:
        raise SystemExit("projections-worker needs PostgreSQL: set JIANDU_DATABASE_URL")
    if readiness is None:
        readiness = ConsumerReadiness("projections", catch_up=True)
        serve_health(
            readiness, "projections-worker", settings.host, settings.projections_worker_port
        )
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("kafka").setLevel(logging.WARNING)  # the admin client's chatter
    ensure_topics(settings.kafka_bootstrap, topic_names(settings), settings.kafka_partitions)
    store = ReadStore(Database.for_service(settings, "projections"))
    # A new projection, or one whose version changed, replays the event stores first; the
    # agents then skip for it what it replayed (docs/decisions/0010).
    report = _caught_up(settings, store)
    if report:
        log.info("projections-worker: %s", report.describe())
    readiness.caught_up()
    app = create_app(settings, store, readiness)
    worker = quiet_worker(app, settings.log_level)
    worker.execute_from_commandline()


def _caught_up(settings: Settings, store: ReadStore) -> Any:
    """``catch_up_projections``, waited out while the database is away (0018): a restart
    during start-up is not a reason to exit. Each attempt resumes from the positions the
    last one committed."""
    delay = 0.2
    while True:
        try:
            return catch_up_projections(settings, store)
        except Exception as error:
            if not is_database_unavailable(error):
                raise
            log.warning(
                "projections-worker: the database is away while catching up, retrying in %.1fs: %s",
                delay,
                type(error).__name__,
            )
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def quiet_worker(app: faust.App, log_level: str) -> Any:
    """Faust's worker without its terminal spinner: at a log level of WARNING or above the
    spinner sets the root logger to DEBUG (and never back), so every library's debug call
    builds a log record (measured: a tenth of the worker's CPU)."""
    worker = app.Worker(loglevel=log_level, quiet=True)
    worker.spinner = None
    return worker
