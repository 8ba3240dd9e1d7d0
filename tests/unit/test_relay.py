"""The relay: publishes the log in order, and moves its position only after the broker acked."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import pytest
from prometheus_client import REGISTRY

from schemas.events import EventEnvelope
from services.common.application import OutboxMessage
from services.common.relay import Relay, sleep_until
from services.intake.application import IntakeApplication
from services.intake.domain import Ledger
from tests.unit.conftest import all_envelopes, submission

TOPIC = "t.jiandu.intake.events"


class BrokerDown(ConnectionError):
    pass


class FakeBroker:
    """What the broker acknowledged: (topic, key, envelope), in order."""

    def __init__(self, *, failures: int = 0, deliver_before_failing: int = 0) -> None:
        self.acked: list[tuple[str, bytes, EventEnvelope]] = []
        self.attempts: list[list[EventEnvelope]] = []
        self.failed_batches: list[list[EventEnvelope]] = []
        self.failures_left = failures
        self.deliver_before_failing = deliver_before_failing
        self.connections = 0
        self.closed = 0
        self.positions_seen: list[int] = []
        self.relay: Relay | None = None
        self.lock = threading.Lock()

    def connect(self) -> FakePublisher:
        self.connections += 1
        return FakePublisher(self)

    def event_ids(self) -> list[UUID]:
        return [e.event_id for _, _, e in self.acked]


class FakeDelivery:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    def done(self) -> bool:
        return True

    def wait(self, timeout: float) -> None:
        if self.error is not None:
            raise self.error


class FakePublisher:
    def __init__(self, broker: FakeBroker) -> None:
        self.broker = broker

    def send(self, topic: str, messages: Sequence[OutboxMessage]) -> FakeDelivery:
        try:
            self.publish(topic, [m.envelope() for m in messages])
        except BrokerDown as error:
            return FakeDelivery(error)
        return FakeDelivery()

    def publish(self, topic: str, envelopes: Sequence[EventEnvelope]) -> None:
        broker = self.broker
        with broker.lock:
            batch = list(envelopes)
            broker.attempts.append(batch)
            if broker.relay is not None:
                broker.positions_seen.append(broker.relay.position)
            if broker.failures_left:
                broker.failures_left -= 1
                # Part of the batch may reach the broker before the failure (a timeout).
                for e in batch[: broker.deliver_before_failing]:
                    broker.acked.append((topic, e.key(), e))
                broker.failed_batches.append(batch)
                raise BrokerDown("broker unavailable")
            broker.acked.extend((topic, e.key(), e) for e in batch)

    def close(self) -> None:
        self.broker.closed += 1


def make_relay(intake: IntakeApplication, broker: FakeBroker, **options: float) -> Relay:
    relay = Relay(
        intake, Relay.tracking_recorder_for(intake), broker.connect, topic_prefix="t.", **options
    )
    broker.relay = relay
    return relay


def submit(intake: IntakeApplication, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        intake.submit(submission(summary=f"第{i}件"))


def test_the_log_is_published_in_position_order_keyed_by_aggregate_id(
    intake: IntakeApplication,
) -> None:
    submit(intake, 3)
    broker = FakeBroker()
    relay = make_relay(intake, broker)

    assert relay.drain() == 9

    log = all_envelopes(intake)
    assert [e for _, _, e in broker.acked] == log
    assert {topic for topic, _, _ in broker.acked} == {TOPIC}
    for _, key, event in broker.acked:
        assert key == str(event.aggregate_id).encode()
    positions = [e.position for _, _, e in broker.acked]
    assert positions == sorted(set(positions))
    assert relay.position == intake.max_position()


def test_the_position_is_recorded_only_after_publish_returns(intake: IntakeApplication) -> None:
    submit(intake, 2)
    broker = FakeBroker()
    relay = make_relay(intake, broker, batch_size=4)

    relay.publish_pending()
    after_first = relay.position
    relay.publish_pending()

    assert broker.positions_seen == [0, after_first]  # during each publish: the old position
    assert after_first == broker.attempts[0][-1].position
    assert relay.position == broker.attempts[1][-1].position


def test_a_failed_publication_keeps_the_position_and_the_batch_is_sent_again(
    intake: IntakeApplication,
) -> None:
    submit(intake, 2)
    broker = FakeBroker(failures=1)
    relay = make_relay(intake, broker)

    with pytest.raises(BrokerDown):
        relay.publish_pending()
    assert relay.position == 0
    assert broker.acked == []

    relay.publish_pending()

    assert broker.attempts[1] == broker.attempts[0]
    assert [e for _, _, e in broker.acked] == all_envelopes(intake)
    assert relay.position == intake.max_position()


def test_drain_stops_at_the_first_failure(intake: IntakeApplication) -> None:
    submit(intake, 2)
    broker = FakeBroker(failures=1)
    relay = make_relay(intake, broker)

    with pytest.raises(BrokerDown):
        relay.drain()
    assert relay.position == 0


def test_internal_events_move_the_position_without_being_published(
    intake: IntakeApplication,
) -> None:
    intake.save(Ledger.open(2031))  # an internal event only
    broker = FakeBroker()
    relay = make_relay(intake, broker)

    assert relay.publish_pending() == 0

    assert relay.position == intake.max_position() == 1
    assert broker.attempts == []
    assert broker.connections == 0  # nothing to send: no connection either


def test_internal_events_between_published_ones_are_skipped_one_batch_at_a_time(
    intake: IntakeApplication,
) -> None:
    submit(intake, 1)  # the ledger's two internal events, then the report's three
    broker = FakeBroker()
    relay = make_relay(intake, broker, batch_size=1)

    published = [relay.publish_pending() for _ in range(5)]

    assert published == [0, 0, 1, 1, 1]
    assert [e for _, _, e in broker.acked] == all_envelopes(intake)
    assert relay.publish_pending() == 0


def failures_so_far() -> float:
    return REGISTRY.get_sample_value("jiandu_relay_failures_total", {"source": "intake"}) or 0.0


def test_running_through_an_outage_publishes_every_event_as_in_the_log(
    intake: IntakeApplication,
) -> None:
    submit(intake, 4)
    broker = FakeBroker(failures=3, deliver_before_failing=2)
    relay = make_relay(intake, broker, batch_size=5, poll_seconds=0.01, max_backoff_seconds=0.02)
    failures_before = failures_so_far()
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert sleep_until(lambda: relay.position == intake.max_position(), timeout=10)
        submit(intake, 2, start=4)  # saved while the relay runs: it wakes and publishes them
        assert sleep_until(lambda: relay.position == intake.max_position(), timeout=10)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()

    log = all_envelopes(intake)
    delivered = broker.event_ids()
    first_seen = list(dict.fromkeys(delivered))
    assert first_seen == [e.event_id for e in log]  # everything, in log order
    duplicated = {i for i in delivered if delivered.count(i) > 1}
    in_failed_batches = {e.event_id for batch in broker.failed_batches for e in batch}
    assert duplicated  # the partial deliveries were sent again...
    assert duplicated <= in_failed_batches  # ...and only those
    assert len(broker.failed_batches) == 3
    assert broker.connections == 4  # a new connection after each failure
    assert broker.closed == 4  # each failed one closed, and the last one on stop
    assert failures_so_far() - failures_before == 3


# -- the pipeline (0024) ---------------------------------------------------------------


class HeldDelivery:
    """An acknowledgement that arrives only when the relay waits for it (or fails then)."""

    def __init__(self, broker: PipelineBroker, number: int, error: Exception | None) -> None:
        self.broker, self.log, self.number, self.error = broker, broker.log, number, error

    def done(self) -> bool:
        return self.number <= self.broker.acked_upto

    def wait(self, timeout: float) -> None:
        if self.broker.ack_all_on_wait:
            self.broker.acked_upto = self.broker.sent
        self.log.append(f"ack {self.number}")
        if self.error is not None:
            raise self.error


class PipelineBroker:
    """Acknowledges each batch only when waited for; batch numbers in ``failing`` fail (the
    events of the others are acked, even after a failed one: a partition's leader that
    failed while the others answered); with ``dead_after_failure`` a publisher whose batch
    failed fails every later batch too (a lost connection)."""

    def __init__(
        self,
        failing: set[int] = frozenset(),
        dead_after_failure: bool = False,
        ack_all_on_wait: bool = False,
    ) -> None:
        self.failing = set(failing)
        self.ack_all_on_wait = ack_all_on_wait
        self.acked_upto = 0  # batches up to this one are acknowledged (done)
        self.dead_after_failure = dead_after_failure
        self.log: list[str] = []
        self.sent = 0
        self.acked: list[EventEnvelope] = []
        self.connections = 0

    def connect(self) -> PipelinePublisher:
        self.connections += 1
        return PipelinePublisher(self)


class PipelinePublisher:
    def __init__(self, broker: PipelineBroker) -> None:
        self.broker = broker
        self.dead = False

    def send(self, topic: str, messages: Sequence[OutboxMessage]) -> HeldDelivery:
        broker = self.broker
        broker.sent += 1
        number = broker.sent
        broker.log.append(f"send {number}")
        if number in broker.failing or self.dead:
            self.dead = self.broker.dead_after_failure
            return HeldDelivery(broker, number, BrokerDown(f"batch {number} failed"))
        broker.acked.extend(m.envelope() for m in messages)
        return HeldDelivery(broker, number, None)

    def close(self) -> None:
        pass


class CheckedPositions:
    """The relay's tracking recorder, checking at each insert that every published event up
    to the new position was acknowledged by the broker."""

    def __init__(self, inner: Any, intake: IntakeApplication, broker: PipelineBroker) -> None:
        self.inner, self.intake, self.broker = inner, intake, broker
        self.recorded: list[int] = []

    def insert_tracking(self, tracking: Any) -> None:
        acked = {e.event_id for e in self.broker.acked}
        upto = [e for e in all_envelopes(self.intake) if e.position <= tracking.notification_id]
        missing = [e.position for e in upto if e.event_id not in acked]
        assert not missing, f"position {tracking.notification_id} passes unacked {missing}"
        self.recorded.append(tracking.notification_id)
        self.inner.insert_tracking(tracking)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def pipelined_relay(
    intake: IntakeApplication, broker: PipelineBroker, **options: Any
) -> tuple[Relay, CheckedPositions]:
    positions = CheckedPositions(Relay.tracking_recorder_for(intake), intake, broker)
    relay = Relay(intake, positions, broker.connect, topic_prefix="t.", **options)  # type: ignore[arg-type]
    return relay, positions


def test_the_next_batch_is_sent_before_the_last_one_is_acknowledged(
    intake: IntakeApplication,
) -> None:
    submit(intake, 6)  # 2 ledger events, then 3 published events a report
    broker = PipelineBroker()
    relay, _ = pipelined_relay(intake, broker, batch_size=3, depth=3)

    assert relay.drain() == 18

    assert broker.log[:4] == ["send 1", "send 2", "send 3", "ack 1"]  # three in flight
    assert [e.event_id for e in broker.acked] == [e.event_id for e in all_envelopes(intake)]
    assert relay.position == intake.max_position()


def test_only_published_events_are_decoded(
    intake: IntakeApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    submit(intake, 4)
    decoded: list[str] = []
    original = intake.mapper.to_domain_event

    def counting(stored: Any) -> Any:
        decoded.append(stored.topic)
        return original(stored)

    monkeypatch.setattr(intake.mapper, "to_domain_event", counting)
    messages, last = intake.read_messages(0, 1000)

    assert last == intake.max_position() > len(messages) == 12
    assert len(decoded) == 12  # the ledger's internal events were skipped by their topic
    assert not any("Ledger" in topic for topic in decoded)


@pytest.mark.parametrize("failing", [1, 2, 4])
def test_a_batch_failing_mid_pipeline_never_lets_the_position_pass_it(
    intake: IntakeApplication, failing: int
) -> None:
    submit(intake, 8)
    broker = PipelineBroker(failing={failing})  # the batches after it are acknowledged
    relay, positions = pipelined_relay(intake, broker, batch_size=4, depth=4)

    with pytest.raises(BrokerDown):
        relay.drain()
    first_failed = min(
        e.position
        for e in all_envelopes(intake)
        if e.event_id not in {a.event_id for a in broker.acked}
    )
    assert relay.position < first_failed  # checked at every record, too (CheckedPositions)

    assert relay.drain() > 0  # from the recorded position: the failed batch and what followed
    assert relay.position == intake.max_position()
    assert {e.event_id for e in broker.acked} == {e.event_id for e in all_envelopes(intake)}
    assert positions.recorded == sorted(positions.recorded)


def test_a_lost_connection_mid_pipeline_publishes_every_event_first_in_log_order(
    intake: IntakeApplication,
) -> None:
    """Exactly once or duplicated, never lost, and in log order (so per aggregate) as first
    seen: the connection dies at the 3rd batch; everything in flight is sent again."""
    submit(intake, 10)
    broker = PipelineBroker(failing={3}, dead_after_failure=True)
    relay, _ = pipelined_relay(
        intake, broker, batch_size=4, depth=4, poll_seconds=0.01, max_backoff_seconds=0.02
    )
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert sleep_until(lambda: relay.position == intake.max_position(), timeout=10)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()

    log = all_envelopes(intake)
    delivered = [e.event_id for e in broker.acked]
    assert list(dict.fromkeys(delivered)) == [e.event_id for e in log]
    assert len(delivered) == len(log)  # the dead connection acked nothing after the failure
    assert broker.log.index("ack 3") > broker.log.index("send 4")  # it failed mid-pipeline
    assert broker.connections == 2
    per_aggregate: dict[UUID, list[int]] = {}
    first_seen = {e.event_id: e for e in reversed(broker.acked)}  # the first of each id
    for e in sorted(first_seen.values(), key=lambda e: delivered.index(e.event_id)):
        per_aggregate.setdefault(e.aggregate_id, []).append(e.aggregate_version)
    assert all(v == sorted(v) for v in per_aggregate.values())


def test_a_full_pipeline_acknowledged_at_once_is_not_mistaken_for_the_end_of_the_log(
    intake: IntakeApplication,
) -> None:
    submit(intake, 5)
    broker = PipelineBroker(ack_all_on_wait=True)  # waiting for one: all in flight are acked
    relay, _ = pipelined_relay(intake, broker, batch_size=2, depth=2)

    assert relay.drain() == 15

    assert relay.position == intake.max_position()
    assert [e.event_id for e in broker.acked] == [e.event_id for e in all_envelopes(intake)]


class AckOnRelease:
    """A delivery acknowledged only when the test releases it; it says so to a callback."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.callbacks: list[Any] = []

    def done(self) -> bool:
        return self.released.is_set()

    def wait(self, timeout: float) -> None:
        assert self.released.wait(timeout), "not acknowledged"

    def notify_when_done(self, callback: Any) -> None:
        if self.released.is_set():
            callback()
        else:
            self.callbacks.append(callback)

    def release(self) -> None:
        self.released.set()
        for callback in self.callbacks:
            callback()


class HeldAcks:
    def __init__(self) -> None:
        self.batches: list[tuple[list[int], AckOnRelease]] = []

    def connect(self) -> HeldAcks:
        return self

    def send(self, topic: str, messages: Sequence[OutboxMessage]) -> AckOnRelease:
        delivery = AckOnRelease()
        self.batches.append(([m.position for m in messages], delivery))
        return delivery

    def close(self) -> None:
        pass


def test_a_running_relay_reads_a_new_commit_while_the_last_batch_awaits_its_ack(
    intake: IntakeApplication,
) -> None:
    """Lag: with the log found empty and a batch unacknowledged, ``run`` waits for a wake
    (a commit, or the ack), not for the ack: the next commit is sent before the last ack."""
    held = HeldAcks()
    relay = Relay(intake, Relay.tracking_recorder_for(intake), held.connect, poll_seconds=30.0)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        submit(intake, 1)
        assert sleep_until(lambda: len(held.batches) == 1, timeout=10)
        submit(intake, 1, start=1)  # the first batch is still unacknowledged
        assert sleep_until(lambda: len(held.batches) == 2, timeout=10)
        assert not held.batches[0][1].done()
        assert relay.position == 0  # nothing acknowledged, nothing recorded

        held.batches[1][1].release()  # the newer first: the position must wait for the older
        time.sleep(0.2)
        assert relay.position == 0
        held.batches[0][1].release()
        assert sleep_until(lambda: relay.position == intake.max_position(), timeout=10)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    sent = [p for positions, _ in held.batches for p in positions]
    assert sent == [e.position for e in all_envelopes(intake)]


class CountedPositions:
    """The relay's tracking recorder, counting the positions it records."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.recorded = inner, []

    def insert_tracking(self, tracking: Any) -> None:
        self.recorded.append(tracking.notification_id)
        self.inner.insert_tracking(tracking)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_running_relay_records_its_position_at_most_every_interval(
    intake: IntakeApplication,
) -> None:
    """Running, the relay records the acknowledged position at most every
    RECORD_EVERY_SECONDS, not once a commit (a durable transaction each), and still records
    the last one soon after the log goes quiet; everything is published in order."""
    broker = FakeBroker()
    relay = make_relay(intake, broker, poll_seconds=0.05)
    counted = CountedPositions(relay.positions)
    relay.positions = counted
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    began = time.monotonic()
    try:
        for n in range(40):  # forty commits, a few milliseconds apart
            submit(intake, 1, start=n)
            time.sleep(0.005)
        assert sleep_until(lambda: relay.position == intake.max_position(), timeout=10)
    finally:
        stop.set()
        thread.join(timeout=5)
    took = time.monotonic() - began
    assert not thread.is_alive()
    assert counted.recorded == sorted(counted.recorded)  # never backwards
    assert counted.recorded[-1] == intake.max_position()
    assert len(counted.recorded) <= took / Relay.RECORD_EVERY_SECONDS + 2 < 40
    assert list(dict.fromkeys(broker.event_ids())) == [e.event_id for e in all_envelopes(intake)]
