"""A process served by uvicorn stops its background work on SIGTERM (its ``finally`` runs)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import httpx

from tests.support.postgres import free_port

SCRIPT = textwrap.dedent(
    """
    import sys
    from fastapi import FastAPI
    from services.cli import serve as _serve
    from services.common.settings import Settings

    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    try:
        _serve(app, Settings(host="127.0.0.1", port=int(sys.argv[1])))
    finally:
        print("background work stopped", flush=True)
    """
)


def test_sigterm_lets_the_command_stop_its_background_work_and_exit_0() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not come up: " + process.stderr.read())
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert "background work stopped" in out, err
    assert process.returncode == 0, err
