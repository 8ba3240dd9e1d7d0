"""A group consumer's readiness: assigned partitions, rebalances, catch-up, lag.

The projections worker (Faust) and casework's consumer (kafka-python) report here from
their rebalance callbacks; ``/healthz`` and ``/metrics`` read it. Ready means: the
consumer has its assignment from the group, no rebalance is under way, and the start-up
catch-up (if any) is finished. Callbacks may come from the consumer's own thread, so the
state is behind a lock. Durations use ``time.monotonic`` (an interval, not the wall clock).

``serve_health`` gives a process without a FastAPI app (the projections worker) the same
two routes on a port: ``/healthz`` (200, or 503 with ``Retry-After`` while not ready) and
``/metrics`` (Prometheus text).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, generate_latest

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1

READY = Gauge(
    "jiandu_consumer_ready",
    "1 when the consumer has its partitions, is not rebalancing and has caught up",
    ["consumer"],
)
ASSIGNED = Gauge(
    "jiandu_consumer_assigned_partitions", "Partitions assigned to this member", ["consumer"]
)
REBALANCES = Counter(
    "jiandu_consumer_rebalances_total", "Rebalances this member went through", ["consumer"]
)
LAST_REBALANCE = Gauge(
    "jiandu_consumer_last_rebalance_seconds",
    "Duration of the last rebalance: partitions revoked (or the first join) to assigned",
    ["consumer"],
)
LAG = Gauge(
    "jiandu_consumer_lag_messages",
    "Messages between the last one processed and the end of the assigned partitions "
    "(as last fetched; an estimate)",
    ["consumer"],
)


class ConsumerReadiness:
    """What a group consumer knows of its own state, for health checks and metrics."""

    def __init__(self, name: str, *, catch_up: bool = False) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._assigned: frozenset[tuple[str, int]] | None = None  # None: never assigned
        self._rebalancing_since: float | None = None  # set by the first join's callback
        self._caught_up = not catch_up
        self._rebalances = 0
        self._last_rebalance_seconds: float | None = None
        self._lag: int | None = None
        self._publish()

    # --- reported by the consumer ---------------------------------------------------

    def rebalance_started(self) -> None:
        with self._lock:
            if self._rebalancing_since is None:
                self._rebalancing_since = time.monotonic()
            self._publish()

    def assigned(self, partitions: Iterable[tuple[str, int]]) -> None:
        """The group's assignment arrived (and the consumer resumes fetching)."""
        assignment = frozenset(partitions)
        with self._lock:
            if self._rebalancing_since is not None:
                took = time.monotonic() - self._rebalancing_since
                self._last_rebalance_seconds = took
                LAST_REBALANCE.labels(self.name).set(took)
                REBALANCES.labels(self.name).inc()
                self._rebalances += 1
                log.info(
                    "%s: %d partition(s) assigned after a %.2fs rebalance",
                    self.name,
                    len(assignment),
                    took,
                )
            self._rebalancing_since = None
            self._assigned = assignment
            self._publish()

    def caught_up(self) -> None:
        with self._lock:
            self._caught_up = True
            self._publish()

    def lag(self, messages: int | None) -> None:
        with self._lock:
            self._lag = messages
            if messages is not None:
                LAG.labels(self.name).set(messages)

    def stopped(self) -> None:
        with self._lock:
            self._assigned = None
            self._publish()

    # --- read by health checks ------------------------------------------------------

    @property
    def ready(self) -> bool:
        with self._lock:
            return self._ready()

    def _ready(self) -> bool:
        return self._assigned is not None and self._rebalancing_since is None and self._caught_up

    def _publish(self) -> None:
        READY.labels(self.name).set(1 if self._ready() else 0)
        ASSIGNED.labels(self.name).set(len(self._assigned or ()))

    def state(self) -> dict[str, Any]:
        """The health document's part about this consumer."""
        with self._lock:
            if self._ready():
                status = "ready"
            elif not self._caught_up:
                status = "catching_up"
            elif self._assigned is None and self._rebalances == 0:
                status = "joining"
            elif self._rebalancing_since is not None:
                status = "rebalancing"
            else:
                status = "stopped"
            return {
                "ready": self._ready(),
                "status": status,
                "assigned_partitions": len(self._assigned or ()),
                "rebalances": self._rebalances,
                "last_rebalance_seconds": (
                    None
                    if self._last_rebalance_seconds is None
                    else round(self._last_rebalance_seconds, 3)
                ),
                "lag_messages": self._lag,
            }


def health_answer(readiness: ConsumerReadiness, service: str) -> tuple[int, dict[str, Any]]:
    """(status code, body) of a consumer process's ``/healthz``: 503 while not ready."""
    state = readiness.state()
    body = {"status": "ok" if state["ready"] else "unavailable", "service": service,
            "consumer": state}  # fmt: skip
    return (200 if state["ready"] else 503), body


class HealthServer:
    """``/healthz`` and ``/metrics`` on a port, in a daemon thread (stdlib HTTP server)."""

    def __init__(self, host: str, port: int, answer: Callable[[], tuple[int, dict[str, Any]]]):
        self.answer = answer

        class Handler(BaseHTTPRequestHandler):
            def do_GET(handler) -> None:  # noqa: N805 - the server's handler, not self
                path = handler.path.split("?", 1)[0]
                if path == "/healthz":
                    status, body = answer()
                    payload = json.dumps(body).encode()
                    handler.send_response(status)
                    handler.send_header("Content-Type", "application/json")
                    if status == 503:
                        handler.send_header("Retry-After", str(RETRY_AFTER_SECONDS))
                elif path == "/metrics":
                    payload = generate_latest()
                    handler.send_response(200)
                    handler.send_header("Content-Type", CONTENT_TYPE_LATEST)
                else:
                    payload = json.dumps({"detail": "not found"}).encode()
                    handler.send_response(404)
                    handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(payload)))
                handler.end_headers()
                handler.wfile.write(payload)

            def log_message(handler, format: str, *args: Any) -> None:  # noqa: N805
                return  # probes every second would flood the log

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="health-http", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> HealthServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_health(
    readiness: ConsumerReadiness, service: str, host: str, port: int | None
) -> HealthServer | None:
    """Start the health server if a port is given (None: no HTTP)."""
    if port is None:
        return None
    server = HealthServer(host, port, lambda: health_answer(readiness, service)).start()
    log.info("%s: /healthz and /metrics on http://%s:%d", service, host, server.port)
    return server
