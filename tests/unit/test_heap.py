"""A serving process settles its heap once its app is built (services/common/heap.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from services.cli import base
from services.common.heap import THRESHOLDS, settle_heap


@pytest.fixture
def restored_collector() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restored_collector")
def test_the_heap_is_frozen_out_of_the_collectors_walks_and_collected_less_often() -> None:
    frozen = gc.get_freeze_count()
    long_lived = [{"n": n} for n in range(1000)]
    settle_heap()
    assert gc.get_freeze_count() >= frozen + len(long_lived)
    assert gc.get_threshold() == THRESHOLDS
    # Cycles made afterwards are still collected.
    cycle: list[Any] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1


@pytest.mark.usefixtures("restored_collector")
def test_serve_settles_the_heap_before_it_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def run(app: object, **options: object) -> None:
        seen["threshold"] = gc.get_threshold()
        seen["frozen"] = gc.get_freeze_count()

    monkeypatch.setattr(base.uvicorn, "run", run)
    monkeypatch.setattr(base, "exit_cleanly_on_sigterm", lambda: None)
    base.serve(object(), base.Settings(_env_file=None))  # type: ignore[call-arg]
    assert seen["threshold"] == THRESHOLDS
    assert seen["frozen"] > 0
