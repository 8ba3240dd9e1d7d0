"""A real browser (Debian's Chromium through Playwright) against the embedded system.

The system runs with demo accounts under uvicorn on a free port in a thread. Chromium must
be at /usr/bin/chromium (``make chromium``): without it these tests fail, never skip.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
import uvicorn

from schemas import commands as c
from schemas.events import Actor
from schemas.glossary import Role
from schemas.submissions import ReportSubmission
from schemas.views import CadreRecord
from services.accounts.demo import seed_demo_accounts
from services.bootstrap import EmbeddedSystem
from tests.unit.conftest import make_settings

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
PASSWORD = "browser-demo-password"


@dataclass
class Running:
    url: str
    system: EmbeddedSystem


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    settings = make_settings(
        tmp_path_factory.mktemp("browser"), auto_accept=False, follower_poll_seconds=0.1
    )
    system = EmbeddedSystem.build(settings)
    seed_demo_accounts(system.accounts, PASSWORD)
    system.read.register.upsert(
        [
            CadreRecord(
                cadre_id="QS-001", name="欧阳建国", unit="青山县交通运输局", position="局长"
            ),
            CadreRecord(cadre_id="QS-002", name="欧阳红", unit="青山县教育局", position="副局长"),
        ]
    )
    # One accepted case from an earlier call, so that each journey can run on its own.
    operator = Actor(id="operator", role=Role.OPERATOR)
    earlier = system.intake.submit(
        ReportSubmission.model_validate(
            {
                "channel": "letter",
                "reporter": {"anonymous": True},
                "subjects": [{"name": "欧阳红", "unit": "青山县教育局", "cadre_id": "QS-002"}],
                "categories": ["vote_buying"],
                "summary": "来信反映欧阳红在换届期间拉票。",
            }
        ),
        actor=operator,
    )
    system.intake.triage(
        UUID(earlier.report_id), "accept", c.Accept(reason="属于受理范围"), operator
    )
    system.catch_up()
    system.start()
    port = _free_port()
    config = uvicorn.Config(system.web_app(), host="127.0.0.1", port=port, log_level="warning")
    web = uvicorn.Server(config)
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not web.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield Running(f"http://127.0.0.1:{port}", system)
    web.should_exit = True
    thread.join(timeout=10)
    system.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need Chromium at {CHROMIUM}: run `make chromium` "
            "(apt-get install -y chromium fonts-noto-cjk)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield chromium
        chromium.close()
