"""Casework's batch path (docs/decisions/0025) on a real PostgreSQL and a real Tansu topic.

A poll's records are processed per partition in one transaction with one tracking row:
these are the hard paths of that. Several reports for one new case in one batch (并案
in-batch), a redelivered and a partially overlapping batch, a second consumer getting to
part of a batch first (a rebalance mid-batch), the guard in the recorder itself, a commit
whose answer was lost and a database away before the commit, a malformed message inside
a batch, and the offsets not committed after the database commit (a crash between the two).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from kafka import KafkaProducer

from schemas.events import EventEnvelope, topic_for
from services.bootstrap import build_casework
from services.casework.application import CaseworkApplication
from services.casework.consumer import IntakeEventsConsumer, tracking_name
from services.common.process_recorders import (
    TRACKING_FROM,
    BatchPostgresProcessRecorder,
    BatchSQLiteProcessRecorder,
)
from services.common.settings import Settings
from services.common.unavailable import DatabaseUnavailable
from tests.integration.helpers import TEST_KEY, pg_settings
from tests.integration.test_faust_worker import EventFactory
from tests.support.tansu import FAST_CONSUMER_SETTINGS, create_topics

pytestmark = pytest.mark.integration

UPSTREAM = "intake#p0"


def intake_events(
    factory: EventFactory, n: int, *, join: dict[int, int] | None = None
) -> tuple[list[EventEnvelope], list[str]]:
    """``n`` reports' intake envelopes (received, registered, accepted); report ``i`` in
    ``join`` is accepted into report ``join[i]``'s case. Returns the envelopes and the case
    id each report was accepted into."""
    envelopes: list[EventEnvelope] = []
    cases: list[str] = []
    for i in range(n):
        received, registered, accepted = factory.report(i)[0][:3]
        if join and i in join:
            payload = dict(accepted.payload) | {"case_id": cases[join[i]]}
            accepted = accepted.model_copy(update={"payload": payload})
        cases.append(str(accepted.payload["case_id"]))
        envelopes += [received, registered, accepted]
    return envelopes, cases


def case_log(casework: CaseworkApplication) -> list[tuple[str, str, int]]:
    """(event type, case id, version) of every event casework stored, in order."""
    return [
        (e.event_type, str(e.aggregate_id), e.aggregate_version)
        for e in casework.read_envelopes(0, 100_000)[0]
    ]


def expected_log(cases: list[str]) -> list[tuple[str, str, int]]:
    versions: dict[str, int] = {}
    out = []
    for case in cases:
        versions[case] = versions.get(case, 0) + 1
        kind = "CaseOpened" if versions[case] == 1 else "ReportJoined"
        out.append((kind, case, versions[case]))
    return out


@pytest.fixture
def settings(pg_dsn: str, tmp_path: Path) -> Settings:
    return pg_settings(pg_dsn, tmp_path)


@pytest.fixture
def casework(settings: Settings) -> Iterator[CaseworkApplication]:
    app = build_casework(settings)
    try:
        yield app
    finally:
        app.close()


def test_reports_for_one_new_case_in_one_batch_open_it_once_and_join_it(
    casework: CaseworkApplication,
) -> None:
    # Report 0 opens a case; 1 and 3 join it in the same batch; 2 opens its own; 4 joins 2's.
    envelopes, cases = intake_events(EventFactory(), 5, join={1: 0, 3: 0, 4: 2})
    assert casework.handle_batch(envelopes, UPSTREAM) == len(envelopes)
    assert case_log(casework) == expected_log(cases)
    assert [t for t, _, _ in case_log(casework)].count("CaseOpened") == 2
    assert casework.get_case(uuid.UUID(cases[0])).version == 3  # opened, joined twice
    assert casework.position(UPSTREAM) == envelopes[-1].position
    # A later batch joining a case opened in an earlier one reads it from the store.
    more, _ = intake_events(EventFactory(), 1)
    more = [e.model_copy(update={"position": e.position + 1000}) for e in more]
    more[2] = more[2].model_copy(update={"payload": dict(more[2].payload) | {"case_id": cases[0]}})
    assert casework.handle_batch(more, UPSTREAM) == 3
    assert casework.get_case(uuid.UUID(cases[0])).version == 4


def test_a_redelivered_batch_and_an_overlapping_one_change_nothing_twice(
    casework: CaseworkApplication,
) -> None:
    envelopes, cases = intake_events(EventFactory(), 8, join={3: 1, 7: 6})
    first, overlapping = envelopes[:12], envelopes[7:]
    assert casework.handle_batch(first, UPSTREAM) == 12
    assert casework.handle_batch(first, UPSTREAM) == 0  # redelivered: all seen
    assert casework.position(UPSTREAM) == first[-1].position
    # After a crash or a rebalance a batch starts before the recorded position: the
    # events at or below it are skipped one by one, the others processed.
    assert casework.handle_batch(overlapping, UPSTREAM) == len(envelopes) - 12
    assert casework.handle_batch(envelopes, UPSTREAM) == 0
    assert case_log(casework) == expected_log(cases)
    assert casework.position(UPSTREAM) == envelopes[-1].position
    # handle() (one event, the embedded mode's old path) agrees.
    assert casework.handle(envelopes[2], UPSTREAM) is False


def test_a_batch_another_consumer_partly_processed_meanwhile_is_worked_out_again(
    settings: Settings, casework: CaseworkApplication
) -> None:
    """A rebalance mid-batch: B (the partition's new owner) commits events 1..9 while A
    still works on 1..18 from the position it read before. A's commit is refused, and A
    works its batch out again from what is stored now: 10..18 only."""
    other = build_casework(settings)
    envelopes, cases = intake_events(EventFactory(), 6, join={4: 1})
    record = casework._record
    calls = [0]

    def record_after_the_other(processing: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:
            assert other.handle_batch(envelopes[:9], UPSTREAM) == 9
        return record(processing)

    casework._record = record_after_the_other  # type: ignore[method-assign]
    try:
        assert casework.handle_batch(envelopes, UPSTREAM) == 9
    finally:
        other.close()
    assert calls[0] == 2  # refused once, then again from the stored position
    assert case_log(casework) == expected_log(cases)
    assert casework.position(UPSTREAM) == envelopes[-1].position


@pytest.mark.parametrize("kind", ["postgres", "sqlite"])
def test_the_recorder_refuses_a_batch_whose_first_position_was_recorded(
    kind: str, settings: Settings, tmp_path: Path
) -> None:
    """The guard alone (it is what stops a batch of events that cause nothing, or of events
    a future policy would not make idempotent, from being processed twice)."""
    if kind == "sqlite":
        settings = Settings(data_dir=tmp_path / "embedded", secret_key=TEST_KEY)
    app = build_casework(settings)
    try:
        recorder = app.recorder
        assert isinstance(recorder, BatchPostgresProcessRecorder | BatchSQLiteProcessRecorder)

        def stored(version: int) -> StoredEvent:
            return StoredEvent(uuid.uuid4(), version, "bench:Nothing", b"{}")

        def batch(first: int, last: int, *events: StoredEvent) -> None:
            recorder.insert_events(
                list(events),
                tracking=Tracking(UPSTREAM, last),
                **{TRACKING_FROM: Tracking(UPSTREAM, first)},
            )

        batch(1, 5, stored(1))
        assert recorder.max_tracking_id(UPSTREAM) == 5
        for first in (3, 5):  # its first position recorded already: nothing stored
            with pytest.raises(IntegrityError):
                batch(first, 9, stored(1))
        assert recorder.max_tracking_id(UPSTREAM) == 5
        assert len(recorder.select_notifications(start=None, limit=10)) == 1
        batch(6, 9)  # no event at all: the tracking rows still move on
        assert recorder.max_tracking_id(UPSTREAM) == 9
        one, two = stored(1), stored(1)
        batch(10, 12, one)
        found = recorder.events_of([one.originator_id, two.originator_id])
        assert [(e.originator_id, e.originator_version) for e in found] == [(one.originator_id, 1)]
    finally:
        app.close()


def test_a_commit_whose_answer_was_lost_and_a_database_away_before_it(
    casework: CaseworkApplication, caplog: pytest.LogCaptureFixture
) -> None:
    """0018: the batch is retried in place, never skipped; the tracking row written with
    its events makes the retry of a commit that did happen a no-op."""
    envelopes, cases = intake_events(EventFactory(), 4, join={2: 0})
    consumer = IntakeEventsConsumer(casework, "127.0.0.1:9")
    record = casework._record
    calls = [0]

    def flaky(processing: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:  # away before the commit
            raise DatabaseUnavailable("the database cannot be reached")
        if calls[0] == 2:  # committed, but the answer never came
            record(processing)
            raise DatabaseUnavailable("the connection broke")
        return record(processing)

    casework._record = flaky  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="services.casework.consumer"):
        assert consumer.process_until_done(0, envelopes, threading.Event())
    assert calls[0] == 2  # the third attempt found the batch recorded: nothing to save
    assert len([r for r in caplog.records if "database is away" in r.message]) == 2
    assert case_log(casework) == expected_log(cases)
    assert casework.position(tracking_name(0)) == envelopes[-1].position


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


class NoOffsetCommits(IntakeEventsConsumer):
    """Processes and commits to the database, but never commits an offset (a process
    killed between the two, at every batch)."""

    def _consumer(self) -> Any:
        consumer = super()._consumer()
        consumer.commit = lambda *args, **kwargs: None
        return consumer


def run_consumer(consumer: IntakeEventsConsumer, until: Callable[[], bool], what: str) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_until(until, 60, what)
    finally:
        stop.set()
        thread.join(timeout=15)
    assert not thread.is_alive()


def test_over_kafka_a_malformed_message_inside_a_batch_and_a_redelivery_of_everything(
    casework: CaseworkApplication,
    kafka_broker: Any,
    kafka_topic_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bootstrap = kafka_broker.bootstrap
    topic = topic_for("intake", kafka_topic_prefix)
    create_topics(bootstrap, [topic], 1)  # one partition: the whole backlog, one batch
    envelopes, cases = intake_events(EventFactory(), 12, join={1: 0, 5: 0, 9: 8})
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for i, envelope in enumerate(envelopes):
            producer.send(topic, key=envelope.key(), value=envelope.to_bytes())
            if i == 10:  # in the middle of the batch
                producer.send(topic, key=b"x", value=b'{"not": "an envelope"}')
        producer.flush(timeout=15)
    finally:
        producer.close(timeout=5)
    last = envelopes[-1].position
    common: dict[str, Any] = {
        "topic_prefix": kafka_topic_prefix,
        "group_id": f"{kafka_topic_prefix}casework",
        "consumer_settings": FAST_CONSUMER_SETTINGS,
    }
    with caplog.at_level(logging.ERROR, logger="services.casework.consumer"):
        run_consumer(
            NoOffsetCommits(casework, bootstrap, **common),
            lambda: casework.position(tracking_name(0)) == last,
            "every event processed",
        )
    assert case_log(casework) == expected_log(cases)
    assert [r.message for r in caplog.records if "malformed" in r.message]
    assert not [r for r in caplog.records if "consumer failed" in r.message]

    # No offset was committed: the group starts again from the beginning, and every
    # record comes again; all of them were processed before, none is processed twice.
    batches: list[int] = []
    handle_batch = casework.handle_batch

    def counted(envelopes: Any, upstream: str) -> int:
        done = handle_batch(envelopes, upstream)
        batches.append(done)
        return done

    casework.handle_batch = counted  # type: ignore[method-assign]
    run_consumer(
        IntakeEventsConsumer(casework, bootstrap, **common),
        lambda: len(batches) > 0,
        "the redelivered batch",
    )
    assert batches
    assert set(batches) == {0}
    assert case_log(casework) == expected_log(cases)
