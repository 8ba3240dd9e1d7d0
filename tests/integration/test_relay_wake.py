"""The relay wakes on a commit made by another process (LISTEN/NOTIFY), and the LISTEN
connection comes back after a PostgreSQL restart (docs/decisions/0024).

Each relay here polls every 30 s: an event published well within that can only have been
woken by the commit's notification. Nothing is timed; the waits are generous bounds.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from services.bootstrap import build_intake
from services.common.application import OutboxMessage
from services.common.kafka_publisher import DELIVERED, Delivered
from services.common.relay import Relay
from services.common.settings import Settings
from tests.integration.helpers import hotline_report, pg_settings
from tests.support.postgres import ThrowawayPostgres

pytestmark = pytest.mark.integration

POLL_SECONDS = 30.0  # never reached in these tests: only a notification wakes the relay
WITHIN_SECONDS = 15.0  # a generous bound, well under the poll interval


class Recording:
    def __init__(self) -> None:
        self.positions: list[int] = []
        self.lock = threading.Lock()

    def connect(self) -> RecordingPublisher:
        return RecordingPublisher(self)


class RecordingPublisher:
    def __init__(self, sink: Recording) -> None:
        self.sink = sink

    def send(self, topic: str, messages: Sequence[OutboxMessage]) -> Delivered:
        with self.sink.lock:
            self.sink.positions.extend(m.position for m in messages)
        return DELIVERED

    def close(self) -> None:
        pass


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = WITHIN_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        time.sleep(0.02)


def submit_in_another_process(settings: Settings, n: int) -> None:
    """Submit one report from a new Python process (its own connections, its own app)."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from services.bootstrap import build_intake\n"
        "from tests.integration.helpers import hotline_report, pg_settings\n"
        "dsn, data_dir = sys.stdin.read().split('\\n')\n"
        "settings = pg_settings(dsn, Path(data_dir), migrated=False, auto_accept=True)\n"
        "intake = build_intake(settings)\n"
        f"intake.submit(hotline_report({n}))\n"
        "intake.close()\n"
        "intake.vault._db.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=f"{settings.database_url}\n{settings.data_dir}",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def running_relay(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    started: list[tuple[threading.Thread, threading.Event, Any]] = []

    def start(settings: Settings) -> tuple[Relay, Recording, Any]:
        intake = build_intake(settings)
        sink = Recording()
        relay = Relay(
            intake,
            Relay.tracking_recorder_for(intake),
            sink.connect,
            poll_seconds=POLL_SECONDS,
            max_backoff_seconds=0.5,
        )
        stop = threading.Event()
        thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
        thread.start()
        started.append((thread, stop, intake))
        wait_for(lambda: relay.waker is not None and relay.waker.listening.is_set(), "LISTEN")
        return relay, sink, intake

    yield start
    for thread, stop, intake in started:
        stop.set()
        thread.join(timeout=10)
        assert not thread.is_alive()
        intake.close()
        intake.vault._db.close()


def test_a_commit_in_another_process_wakes_the_relay_long_before_its_poll(
    pg_dsn: str, tmp_path: Path, running_relay: Callable[..., Any]
) -> None:
    settings = pg_settings(pg_dsn, tmp_path, auto_accept=True)
    relay, sink, intake = running_relay(settings)
    time.sleep(0.5)  # the relay's first look is over: it waits for the next wake

    for n in range(2):
        submit_in_another_process(settings, n)
        expected = 3 * (n + 1)
        wait_for(
            lambda expected=expected: (
                relay.position == intake.max_position() and len(sink.positions) == expected
            ),
            f"report {n} published without waiting for the poll",
        )
    published = [e.position for e in intake.read_envelopes(0, 1000)[0]]
    assert sink.positions == published


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayPostgres]:
    server = ThrowawayPostgres(external_url="")  # this test restarts it
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_listen_connection_comes_back_after_a_postgres_restart(
    own_postgres: ThrowawayPostgres, tmp_path: Path, running_relay: Callable[..., Any]
) -> None:
    settings = pg_settings(own_postgres.dsn(own_postgres.create_database()), tmp_path)
    relay, sink, intake = running_relay(settings)
    submit_in_another_process(settings, 0)
    wait_for(lambda: len(sink.positions) == 3, "publication before the restart")

    own_postgres.restart(mode="fast")
    waker = relay.waker
    assert waker is not None
    wait_for(lambda: waker.connections >= 2 and waker.listening.is_set(), "LISTEN again", 60)
    time.sleep(0.5)

    submit_in_another_process(settings, 1)
    wait_for(
        lambda: len(sink.positions) >= 6, "publication after the restart, without the poll", 30
    )
    published = [e.position for e in intake.read_envelopes(0, 1000)[0]]
    assert sorted(set(sink.positions)) == published  # every event; a repeat would be allowed


class LaterDelivery:
    """An acknowledgement that arrives a moment after the send, as a broker's does."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        threading.Timer(0.01, self._arrive).start()

    def _arrive(self) -> None:
        with self._lock:
            self._done.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float) -> None:
        assert self._done.wait(timeout)

    def notify_when_done(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if not self._done.is_set():
                self._callbacks.append(callback)
                return
        callback()


class LaterRecording(Recording):
    def connect(self) -> LaterPublisher:  # type: ignore[override]
        return LaterPublisher(self)


class LaterPublisher(RecordingPublisher):
    def send(self, topic: str, messages: Sequence[OutboxMessage]) -> LaterDelivery:  # type: ignore[override]
        super().send(topic, messages)
        return LaterDelivery()


def test_an_acknowledgement_alone_does_not_make_the_relay_read_the_log_again(
    pg_dsn: str, tmp_path: Path
) -> None:
    """While the relay LISTENs, the acknowledgement of its last batch wakes it (to record
    the position) but is no commit: once a read found the log empty, it reads again only
    for a notified commit (or its poll), so each commit costs one read with data and at most
    one that finds nothing — and every event is still published, in order."""
    settings = pg_settings(pg_dsn, tmp_path, auto_accept=True)
    intake = build_intake(settings)
    writer = build_intake(settings)  # commits that only a notification tells the relay of
    sink = LaterRecording()
    relay = Relay(
        intake, Relay.tracking_recorder_for(intake), sink.connect, poll_seconds=POLL_SECONDS
    )
    reads = {"data": 0, "nothing": 0}
    read = intake.read_messages

    def counted(after: int, limit: int) -> tuple[list[OutboxMessage], int]:
        messages, last = read(after, limit)
        reads["nothing" if last == after else "data"] += 1
        return messages, last

    intake.read_messages = counted  # type: ignore[method-assign]
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: relay.waker is not None and relay.waker.listening.is_set(), "LISTEN")
        time.sleep(0.3)  # the first look is over
        before = dict(reads)
        commits = 10
        for n in range(commits):
            writer.submit(hotline_report(n))
            wait_for(lambda: relay.position == writer.max_position(), f"report {n} published")
        found_nothing = reads["nothing"] - before["nothing"]
        assert reads["data"] - before["data"] >= commits
        assert found_nothing <= commits + 2  # without the commit flag: two a commit
        published = [e.position for e in intake.read_envelopes(0, 1000)[0]]
        assert sink.positions == published
    finally:
        stop.set()
        thread.join(timeout=10)
        for app in (intake, writer):
            app.close()
            app.vault._db.close()
