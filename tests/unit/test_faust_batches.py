"""The Faust worker's batches, in-process: one transaction for several partitions, and a
poison event split out of such a batch without losing its neighbours (decision 0026; the
worker as a real process is tests/integration/test_faust_worker.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from services.common.sql import Database
from services.projections.faust_app import CONSUMER, Writer, apply_batch
from services.projections.store import ReadStore
from tests.integration.test_faust_worker import EventFactory


def test_a_batch_of_several_partitions_is_applied_with_each_position(tmp_path: Path) -> None:
    store = ReadStore(Database(sqlite_path=tmp_path / "r.sqlite"))
    factory = EventFactory()
    (a, case_a), (b, case_b) = factory.report(1), factory.report(2)
    asyncio.run(apply_batch(Writer(store), {0: a + case_a, 2: b + case_b}))
    assert store.position(CONSUMER, "intake", 0) == a[-1].position
    assert store.position(CONSUMER, "intake", 2) == b[-1].position
    assert store.position(CONSUMER, "casework", 2) == case_b[-1].position
    assert store.position(CONSUMER, "intake", 1) == 0
    steps = store.query("SELECT event_id FROM timeline_steps")
    assert len(steps) == len(a + case_a + b + case_b)
    # Redelivered, even mixed with new partitions' events: nothing changes.
    before = store.query("SELECT * FROM timeline_steps ORDER BY event_id")
    asyncio.run(apply_batch(Writer(store), {2: b, 0: a}))
    assert store.query("SELECT * FROM timeline_steps ORDER BY event_id") == before


def test_a_poison_event_is_split_out_of_a_batch_of_several_partitions(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = ReadStore(Database(sqlite_path=tmp_path / "r.sqlite"))
    factory = EventFactory()
    (a, _), (b, _) = factory.report(1), factory.report(2)
    poison = b[1].model_copy(update={"payload": {"ledger_number": 5}})  # not the contract's
    batch = {0: a, 1: [b[0], poison, *b[2:]]}
    asyncio.run(apply_batch(Writer(store), batch))
    assert f"skipping event {poison.event_id}" in caplog.text
    assert store.position(CONSUMER, "intake", 0) == a[-1].position
    assert store.position(CONSUMER, "intake", 1) == b[-1].position
    steps = {r["event_id"] for r in store.query("SELECT event_id FROM timeline_steps")}
    assert steps == {str(e.event_id) for e in [*a, b[0], *b[2:]]}
