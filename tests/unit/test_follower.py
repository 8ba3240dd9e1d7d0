"""The embedded mode's log follower: hands every event over in order, and waits quietly while
the read side asks it to retry later (a rebuild in progress)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import pytest

from schemas.events import EventEnvelope
from services.common.follower import LogFollower
from services.intake.application import IntakeApplication
from services.projections.store import ProjectionsNotReady
from tests.unit.conftest import submission


def test_a_follower_waits_quietly_while_asked_to_retry_later_then_hands_everything_over(
    intake: IntakeApplication, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        intake.submit(submission())
    handled: list[int] = []
    refusals = 4

    def handler(envelopes: Sequence[EventEnvelope]) -> None:
        nonlocal refusals
        if refusals:
            refusals -= 1
            raise ProjectionsNotReady(["timeline: being rebuilt"])
        handled.extend(e.position for e in envelopes)

    follower = LogFollower(
        intake, handler, lambda: handled[-1] if handled else 0, name="test", poll_seconds=0.01
    )
    stop = threading.Event()
    thread = threading.Thread(target=follower.run, args=(stop,), daemon=True)
    with caplog.at_level(logging.INFO, logger="services.common.follower"):
        thread.start()
        deadline = time.monotonic() + 10
        while len(handled) < len(intake.read_envelopes(0, 100)[0]) and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()
        thread.join(timeout=5)

    published = [e.position for e in intake.read_envelopes(0, 100)[0]]
    assert handled == published
    # Only the follower's own records: a Kafka client left running by another test may log
    # into the same capture.
    ours = [r for r in caplog.records if r.name == "services.common.follower"]
    warnings = [r for r in ours if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "test: waiting: projections not ready: timeline: being rebuilt"
    ]
    assert not [r for r in ours if r.levelno >= logging.ERROR]
    assert any(r.getMessage() == "test: going on" for r in ours)
