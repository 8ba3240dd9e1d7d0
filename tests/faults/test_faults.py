"""The fault suite: the distributed processes under paced load, through one fault at a time.

Every process of the README's distributed mode runs on a private PostgreSQL and Tansu (behind
a proxy the test can cut); two threads post hotline reports to intake-api (accepted at
registration, ``JIANDU_AUTO_ACCEPT``) and one reads the case list, archives and a page. In
turn: ``kill -9`` of each process and its restart, a PostgreSQL fast restart, the broker out
of reach, a second casework consumer and a second projections worker joining and leaving.
Each phase asserts what the clients saw (201, 409, 429 or 503; 200 for reads; refused or cut
connections only from the process that is down) and that the pipeline caught up; at the end,
every acknowledged report is in intake's store with exactly one case, and every read model
equals a rebuild. The figures per phase are printed at the end of the run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.faults.harness import FaultSystem, ServiceProcess
from tests.support.postgres import free_port

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.integration]

DOWN_S = 2.0  # how long a killed process stays down under load before its restart
WATCH_S = 3.0  # load watched before and after each fault


def since(moment: float, system: FaultSystem) -> float:
    """Seconds from ``moment`` until casework had opened every case of the last wait."""
    assert system.opened_at is not None
    return system.opened_at - moment


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultSystem]:
    faults = FaultSystem(tmp_path_factory.mktemp("faults"))
    try:
        faults.start()
    except BaseException as error:
        tails = faults.log_tails()
        faults.stop()
        raise AssertionError(f"the distributed system did not start: {error}{tails}") from error
    yield faults
    faults.stop()


def test_baseline(system: FaultSystem) -> None:
    with system.phase("baseline", "none: the load alone") as result:
        result.timings["first cases listed"] = system.wait_recovered()
        result.timings["worst lag"] = system.watch(WATCH_S)


@pytest.mark.parametrize(
    "name",
    [
        "intake-api",
        "relay-intake",
        "casework",
        "relay-casework",
        "projections-worker",
        "web",
    ],
)
def test_kill_9_and_restart(system: FaultSystem, name: str) -> None:
    with system.phase(f"kill -9 {name}", f"SIGKILL, {DOWN_S:.0f} s down, restart") as result:
        system.watch(WATCH_S)
        system.kill(name)
        time.sleep(DOWN_S)
        restarted = time.monotonic()
        system.restart(name)
        result.timings["healthy"] = system.wait_healthy([name])
        system.wait_recovered()
        result.timings["caught up"] = time.monotonic() - restarted
        result.timings["of which cases opened"] = since(restarted, system)
        result.timings["worst lag after"] = system.watch(WATCH_S)


def test_postgres_fast_restart(system: FaultSystem) -> None:
    with system.phase("postgres restart", "pg_ctl restart -m fast") as result:
        system.watch(WATCH_S)
        result.timings["restart"] = system.postgres.restart("fast")
        back = time.monotonic()
        result.timings["healthy"] = system.wait_healthy(list(system.processes))
        system.wait_recovered()
        result.timings["caught up"] = time.monotonic() - back
        result.timings["of which cases opened"] = since(back, system)
        # The issue saw 500s minutes after PostgreSQL was back: keep the load on a while.
        result.timings["worst lag after"] = system.watch(3 * WATCH_S)


def test_broker_unreachable(system: FaultSystem) -> None:
    cut_s = 8.0
    with system.phase("broker unreachable", f"clients' route to Tansu cut {cut_s:.0f} s") as result:
        system.watch(WATCH_S)
        accepted = system.proxy.accepted
        system.proxy.pause()
        time.sleep(cut_s)
        system.proxy.resume()
        result.fault += f": {system.proxy.dropped} open connections cut"
        assert accepted > 0, "no client went through the proxy: the fault cut nothing"
        assert system.proxy.dropped > 0, "no connection was open when the route was cut"
        back = time.monotonic()
        result.timings["healthy"] = system.wait_healthy(list(system.processes))
        system.wait_recovered()
        result.timings["caught up"] = time.monotonic() - back
        result.timings["of which cases opened"] = since(back, system)
        result.timings["worst lag after"] = system.watch(WATCH_S)


def joined(process: ServiceProcess, port: int, timeout: float = 60.0) -> float:
    """Seconds until the process's consumer says, on its /healthz, that it is ready with
    partitions of its own: a member that never gets any has not joined."""
    started = time.monotonic()
    state: dict[str, Any] = {}
    while time.monotonic() - started < timeout:
        assert process.alive(), f"{process.name} died:\n{process.log_tail()}"
        try:
            state = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json()["consumer"]
        except (httpx.TransportError, ValueError, KeyError):
            state = {}
        if state.get("ready") and state.get("assigned_partitions", 0) > 0:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(
        f"{process.name} never joined with partitions ({state}):\n{process.log_tail()}"
    )


def test_a_second_casework_consumer_joins_and_leaves(system: FaultSystem) -> None:
    with system.phase("second casework", "a second casework joins, then leaves") as result:
        system.watch(WATCH_S)
        port = free_port()
        second = system.start_extra("casework-2", ["casework", "--port", str(port)])
        result.timings["healthy"] = system.wait_healthy(["casework-2"])
        result.timings["joined"] = joined(second, port)
        result.timings["worst lag, two members"] = system.watch(6.0)
        assert second.alive(), f"the second casework died:\n{second.log_tail()}"
        stopping = time.monotonic()
        second.stop()  # SIGTERM; SIGKILL after 10 s
        assert second.proc is not None
        result.fault += (
            f"; on SIGTERM it exited with {second.proc.returncode} "
            f"after {time.monotonic() - stopping:.1f}s"
        )
        result.timings["worst lag after it left"] = system.watch(6.0)
        assert "Traceback" not in second.log_path.read_text(errors="replace"), second.log_tail()


def test_a_second_projections_worker_joins_and_leaves(system: FaultSystem) -> None:
    with system.phase("second projections worker", "a second worker joins, then leaves") as result:
        system.watch(WATCH_S)
        # Its own data folder, as on another host (Faust keeps its state there).
        port = free_port()
        second = system.start_extra(
            "projections-worker-2",
            ["projections-worker", "--port", str(port)],
            data_dir=system.workdir / "worker-2",
        )
        result.timings["joined"] = joined(second, port)
        result.timings["worst lag, two members"] = system.watch(10.0)
        assert second.alive(), f"the second worker died:\n{second.log_tail()}"
        stopping = time.monotonic()
        second.stop()  # SIGTERM; SIGKILL after 10 s
        assert second.proc is not None
        result.fault += (
            f"; on SIGTERM it exited with {second.proc.returncode} "
            f"after {time.monotonic() - stopping:.1f}s"
        )
        result.timings["worst lag after it left"] = system.watch(10.0)
        assert "Traceback" not in second.log_path.read_text(errors="replace"), second.log_tail()


def test_after_settling_nothing_is_lost_duplicated_or_different(system: FaultSystem) -> None:
    assert system.load is not None
    with system.phase("settled", "the load stops; everything checked") as result:
        system.load.stop()
        result.timings["caught up"] = system.wait_recovered()
        started = time.monotonic()
        figures = system.verify()
        result.timings["verified"] = time.monotonic() - started
        result.fault += ": " + ", ".join(f"{k} {v}" for k, v in figures.items())
        assert not system.load.without_case, (
            f"201 receipts without a case (auto-accept): {system.load.without_case[:5]}"
        )
        assert not system.load.gave_up, (
            f"submissions without a final answer: {system.load.gave_up[:5]}"
        )
        assert figures["acknowledged"] > 0
