"""A group consumer's readiness (services/common/readiness.py): states, metrics, HTTP."""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY

from services.common.readiness import ConsumerReadiness, HealthServer, health_answer


def metric(name: str, consumer: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"consumer": consumer})


def test_ready_only_when_caught_up_assigned_and_not_rebalancing() -> None:
    readiness = ConsumerReadiness("unit-a", catch_up=True)
    assert readiness.state()["status"] == "catching_up"
    readiness.caught_up()
    assert readiness.state()["status"] == "joining"
    readiness.rebalance_started()  # the first join's revocation callback
    assert not readiness.ready
    readiness.assigned(tp for tp in [("t", 0), ("t", 1)])  # any iterable, e.g. a generator
    state = readiness.state()
    assert state["ready"] is True
    assert state["assigned_partitions"] == 2
    assert state["rebalances"] == 1
    assert metric("jiandu_consumer_ready", "unit-a") == 1.0
    assert metric("jiandu_consumer_assigned_partitions", "unit-a") == 2.0
    assert metric("jiandu_consumer_rebalances_total", "unit-a") == 1.0

    readiness.rebalance_started()  # another member joins
    assert readiness.state()["status"] == "rebalancing"
    assert metric("jiandu_consumer_ready", "unit-a") == 0.0
    readiness.assigned([("t", 1)])
    assert readiness.state()["assigned_partitions"] == 1
    assert readiness.state()["rebalances"] == 2
    last = metric("jiandu_consumer_last_rebalance_seconds", "unit-a")
    assert last is not None
    assert last >= 0

    readiness.lag(7)
    assert readiness.state()["lag_messages"] == 7
    assert metric("jiandu_consumer_lag_messages", "unit-a") == 7.0
    readiness.stopped()
    assert readiness.state()["status"] == "stopped"
    assert not readiness.ready


def test_health_server_answers_503_with_retry_after_until_ready() -> None:
    readiness = ConsumerReadiness("unit-b")
    server = HealthServer("127.0.0.1", 0, lambda: health_answer(readiness, "worker")).start()
    try:
        url = f"http://127.0.0.1:{server.port}"
        answer = httpx.get(f"{url}/healthz")
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "1"
        assert answer.json()["status"] == "unavailable"
        assert answer.json()["service"] == "worker"
        readiness.rebalance_started()
        readiness.assigned([("t", 0)])
        answer = httpx.get(f"{url}/healthz")
        assert answer.status_code == 200
        assert answer.json()["status"] == "ok"
        assert answer.json()["consumer"]["ready"] is True
        assert "Retry-After" not in answer.headers
        metrics = httpx.get(f"{url}/metrics")
        assert metrics.status_code == 200
        assert 'jiandu_consumer_ready{consumer="unit-b"} 1.0' in metrics.text
        assert httpx.get(f"{url}/nothing").status_code == 404
    finally:
        server.stop()
