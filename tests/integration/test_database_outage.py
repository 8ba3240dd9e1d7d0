"""PostgreSQL restarted and stopped under the distributed processes (docs/decisions/0018).

Every HTTP process (intake-api, casework, projections-api, web) answers 503 with
Retry-After while the database is away — a token check, a report submitted, a read-model
query, a page, /healthz — never a 500 and never a hang; the first request after the
database is back succeeds, whether the pools held connections killed by a restart or
had given up reconnecting during a longer outage. The workers (both relays, casework's
consumer, the Faust projections worker) outlive both and carry the reports accepted after
them through to the read models, exactly one case per accepted report.

The test runs its own PostgreSQL server (it stops it), never the session's.
"""

from __future__ import annotations

import logging
import re
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.events import SOURCES, EventEnvelope, topic_for
from services.bootstrap import build_intake
from services.common.application import OutboxMessage
from services.common.kafka_publisher import DELIVERED, Delivered
from services.common.relay import Relay
from services.common.unavailable import RETRY_AFTER_SECONDS
from tests.e2e.test_distributed import poll, wait_healthy
from tests.integration.helpers import hotline_report, pg_settings
from tests.integration.test_faust_worker import (
    JIANDU,
    SECRET_KEY,
    ServiceProcess,
    migrated,
    processes,  # noqa: F401  (the fixture)
    service_env,
)
from tests.support.postgres import ThrowawayPostgres, free_port
from tests.support.tansu import create_topics

pytestmark = pytest.mark.integration

PARTITIONS = 2
CADRE_ID = "QS-0001"
PASSWORD = "outage-password-of-the-desk"  # test accounts only
ACCOUNTS = {"outage-operator": "operator", "outage-leader": "leader"}
# A request must be answered within this (a hang fails the test); printed, not asserted.
REQUEST_TIMEOUT_SECONDS = 20.0
# Longer than the pools' reconnection attempts (5 s): they give up, and must start again.
OUTAGE_SECONDS = 7.0


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL server of this test alone (``external_url=""``: never an external one)."""
    server = ThrowawayPostgres(external_url="")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _cli(env: dict[str, str], cwd: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [JIANDU, *args],
        input=stdin,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


class Desk:
    """The requests of this test against the four HTTP processes."""

    def __init__(self, client: httpx.Client, urls: dict[str, str]) -> None:
        self.client, self.urls = client, urls
        self.headers: dict[str, dict[str, str]] = {}
        self.browser: httpx.Client | None = None  # on `jiandu web`, where one signs in
        self.case_pages: httpx.Client | None = None  # on `jiandu casework`, same session
        self.reports = 0
        self.timings: list[tuple[str, int, float]] = []

    def _timed(self, what: str, call: Any) -> httpx.Response:
        started = time.monotonic()
        response: httpx.Response = call()
        self.timings.append((what, response.status_code, time.monotonic() - started))
        return response

    def token(self, username: str) -> httpx.Response:
        return self._timed(
            "projections POST /auth/token",
            lambda: self.client.post(
                f"{self.urls['projections']}/api/v1/auth/token",
                json={"username": username, "password": PASSWORD},
            ),
        )

    def sign_in(self) -> None:
        for username in ACCOUNTS:
            answer = self.token(username)
            assert answer.status_code == 200, answer.text
            self.headers[username] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        self.browser = httpx.Client(base_url=self.urls["web"], timeout=REQUEST_TIMEOUT_SECONDS)
        login = self.browser.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert csrf, login.text
        signed_in = self.browser.post(
            "/login",
            data={"username": "outage-leader", "password": PASSWORD, "csrf_token": csrf[1]},
        )
        assert signed_in.status_code in (200, 303), signed_in.text
        # A case page is served by casework (decision record 0031), on web's session.
        self.case_pages = httpx.Client(
            base_url=self.urls["casework"],
            cookies=self.browser.cookies,
            timeout=REQUEST_TIMEOUT_SECONDS,
        )

    def submit(self) -> httpx.Response:
        self.reports += 1
        body = hotline_report(self.reports, cadre_id=CADRE_ID).model_dump(mode="json")
        return self._timed(
            "intake POST /reports",
            lambda: self.client.post(
                f"{self.urls['intake']}/api/v1/reports",
                json=body,
                headers=self.headers["outage-operator"]
                | {"Idempotency-Key": f"outage-{self.reports}"},
            ),
        )

    def accept(self, report_id: str) -> httpx.Response:
        return self._timed(
            "intake POST /reports/{id}/accept",
            lambda: self.client.post(
                f"{self.urls['intake']}/api/v1/reports/{report_id}/accept",
                json={"reason": "属于受理范围"},
                headers=self.headers["outage-operator"],
            ),
        )

    def cadres(self) -> httpx.Response:
        return self._timed(
            "projections GET /cadres",
            lambda: self.client.get(
                f"{self.urls['projections']}/api/v1/cadres",
                params={"q": "交通"},
                headers=self.headers["outage-leader"],
            ),
        )

    def case(self, case_id: str) -> httpx.Response:
        return self._timed(
            "casework GET /cases/{id}",
            lambda: self.client.get(
                f"{self.urls['casework']}/api/v1/cases/{case_id}",
                headers=self.headers["outage-leader"],
            ),
        )

    def page(self, case_id: str) -> httpx.Response:
        assert self.case_pages is not None
        pages = self.case_pages
        return self._timed("casework GET /cases/{id}", lambda: pages.get(f"/cases/{case_id}"))

    def web_page(self) -> httpx.Response:
        assert self.browser is not None
        browser = self.browser
        return self._timed("web GET /cadres/{id}", lambda: browser.get(f"/cadres/{CADRE_ID}"))

    def healthz(self, name: str) -> httpx.Response:
        return self._timed(
            f"{name} GET /healthz", lambda: self.client.get(f"{self.urls[name]}/healthz")
        )

    def case_list(self) -> list[dict[str, Any]]:
        answer = self.client.get(
            f"{self.urls['projections']}/api/v1/cases",
            headers=self.headers["outage-leader"],
        )
        if answer.status_code != 200:
            return []
        items: list[dict[str, Any]] = answer.json()["items"]
        return items


def _assert_unavailable(response: httpx.Response, what: str) -> None:
    assert response.status_code == 503, f"{what}: {response.status_code} {response.text[:300]}"
    assert response.headers.get("Retry-After") == str(RETRY_AFTER_SECONDS), what


def test_every_process_answers_503_while_postgres_is_away_and_serves_the_first_request_after(
    own_postgres: ThrowawayPostgres,
    tmp_path: Path,
    kafka_broker: Any,
    kafka_topic_prefix: str,
    processes: list[ServiceProcess],  # noqa: F811
) -> None:
    dsn = own_postgres.dsn(own_postgres.create_database())
    bootstrap = kafka_broker.bootstrap
    create_topics(bootstrap, [topic_for(s, kafka_topic_prefix) for s in SOURCES], PARTITIONS)
    env = service_env(
        database_url=dsn,
        kafka_bootstrap=bootstrap,
        kafka_topic_prefix=kafka_topic_prefix,
        kafka_partitions=PARTITIONS,
        kafka_fetch_max_wait_ms=20,
        relay_poll_seconds=0.05,
        data_dir=tmp_path,
        secret_key=SECRET_KEY,
        log_level="WARNING",
    )
    register = tmp_path / "cadres.csv"
    register.write_text(
        "cadre_id,name,unit,position,management_level\n"
        f"{CADRE_ID},张三,青山县交通运输局,局长,county_division_principal\n",
        encoding="utf-8",
    )
    migrated(env, tmp_path)
    _cli(env, tmp_path, "import-cadres", str(register))
    for username, role in ACCOUNTS.items():
        _cli(env, tmp_path, "create-user", username, "--role", role, "--password-stdin",
             stdin=PASSWORD + "\n")  # fmt: skip

    ports = {name: free_port() for name in ("intake", "casework", "projections", "web")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}

    def start(name: str, *args: str) -> ServiceProcess:
        process = ServiceProcess(name, args, env, tmp_path).start()
        processes.append(process)
        return process

    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS) as client:
        desk = Desk(client, urls)
        for name, command in (
            ("intake", "intake-api"),
            ("casework", "casework"),
            ("projections", "projections-api"),
            ("web", "web"),
        ):
            process = start(command, command, "--port", str(ports[name]))
            wait_healthy(client, urls[name], process, timeout=30)
        start("relay-intake", "relay", "--source", "intake")
        start("relay-casework", "relay", "--source", "casework")
        start("projections-worker", "projections-worker")
        desk.sign_in()

        accepted: dict[str, str] = {}  # case id: report id
        ledger: dict[str, str] = {}  # case id: the report's ledger number

        def submit_and_accept() -> str:
            """A report registered and accepted: the first request of each is the one checked."""
            receipt = desk.submit()
            assert receipt.status_code == 201, receipt.text
            answer = desk.accept(receipt.json()["report_id"])
            assert answer.status_code == 200, answer.text
            case_id: str = answer.json()["case_id"]
            accepted[case_id] = receipt.json()["report_id"]
            ledger[case_id] = receipt.json()["ledger_number"]
            return case_id

        def everything_projected() -> bool:
            projected = {item["case_id"]: item["ledger_number"] for item in desk.case_list()}
            return projected == ledger

        first_case = submit_and_accept()
        poll(everything_projected, 60, "the first case in the read models", processes)

        def first_requests_succeed(when: str) -> None:
            """The first request of each kind to each process after the database is back."""
            checks = [
                ("intake: a report submitted and accepted", submit_and_accept),
                ("projections: a token", lambda: desk.token("outage-leader")),
                ("projections: a read-model query", desk.cadres),
                ("casework: a case", lambda: desk.case(first_case)),
                ("casework: a case page", lambda: desk.page(first_case)),
                ("web: a cadre's page", desk.web_page),
            ]
            for what, check in checks:
                result = check()
                if isinstance(result, httpx.Response):
                    assert result.status_code == 200, f"{when}, {what}: {result.text[:300]}"
            for name in urls:
                answer = desk.healthz(name)
                assert answer.status_code == 200, f"{when}, {name} /healthz: {answer.text}"

        # 1. A restart: every pooled connection is dead when the next request comes.
        own_postgres.restart(mode="fast")
        first_requests_succeed("after a fast restart")

        # 2. An outage: each process answers 503 with Retry-After, quickly.
        own_postgres.stop_server(mode="fast")
        stopped = time.monotonic()
        _assert_unavailable(desk.submit(), "intake: a report submitted")
        _assert_unavailable(desk.token("outage-leader"), "projections: a token")
        _assert_unavailable(desk.cadres(), "projections: a read-model query")
        _assert_unavailable(desk.case(first_case), "casework: a case")
        for what, page in (
            ("casework: a case page", desk.page(first_case)),
            ("web: a cadre's page", desk.web_page()),
        ):
            _assert_unavailable(page, what)
            assert page.headers["content-type"].startswith("text/html"), what
        for name in urls:
            _assert_unavailable(desk.healthz(name), f"{name} /healthz")
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
        own_postgres.start_server()
        first_requests_succeed(f"after {OUTAGE_SECONDS:.0f} s away")

        # 3. The workers went on: every accepted report is one case in the read models,
        # and casework opened each exactly once.
        poll(everything_projected, 90, "every accepted report in the read models", processes)
        cases = desk.case_list()
        assert len(cases) == len(accepted) == 3
        for item in cases:
            assert item["report_count"] == 1, item
            case = desk.case(item["case_id"]).json()
            assert case["report_ids"] == [accepted[item["case_id"]]], case
        health = client.get(f"{urls['casework']}/healthz").json()
        assert health["consumer_alive"] is True
        for process in processes:
            assert process.alive(), f"{process.name} exited:\n{process.log_tail()}"
        for browser in (desk.browser, desk.case_pages):
            if browser is not None:
                browser.close()

    print("\nrequests around the outage (what, status, seconds):")
    for what, status, seconds in desk.timings:
        print(f"  {what:<40} {status}  {seconds:6.2f}")
    for process in processes:
        assert "Traceback" not in process.log_tail(400), f"{process.name}:\n{process.log_tail()}"


class _RecordingPublisher:
    """A broker that acknowledges everything: the envelopes it was sent, in order."""

    def __init__(self, sent: list[EventEnvelope]) -> None:
        self.sent = sent

    def send(self, topic: str, messages: Sequence[OutboxMessage]) -> Delivered:
        self.sent.extend(m.envelope() for m in messages)
        return DELIVERED

    def close(self) -> None:
        pass


def test_a_relay_outlives_a_postgres_outage_and_publishes_every_event(
    own_postgres: ThrowawayPostgres, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The relay follows intake's log on PostgreSQL; the server is restarted, then stopped
    for longer than the pools' reconnection attempts: the relay logs warnings, never exits,
    and once the server is back every event is published (a batch whose position could not
    be recorded may be published again: consumers are idempotent)."""
    settings = pg_settings(own_postgres.dsn(own_postgres.create_database()), tmp_path)
    intake = build_intake(settings)
    sent: list[EventEnvelope] = []
    relay = Relay(
        intake,
        Relay.tracking_recorder_for(intake),
        lambda: _RecordingPublisher(sent),
        poll_seconds=0.05,
        max_backoff_seconds=1.0,
    )
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)

    def published_all() -> bool:
        return {e.position for e in sent} == {
            e.position for e in intake.read_envelopes(0, 10_000)[0]
        }

    def wait_published(what: str) -> None:
        deadline = time.monotonic() + 60
        while not published_all():
            assert thread.is_alive(), f"the relay exited ({what})"
            assert time.monotonic() < deadline, f"not every event published {what}"
            time.sleep(0.05)

    with caplog.at_level(logging.WARNING, logger="services.common.relay"):
        thread.start()
        for n in range(3):
            intake.submit(hotline_report(n))
        wait_published("before the outage")

        own_postgres.restart(mode="fast")
        intake.submit(hotline_report(3))  # the first save after a restart
        wait_published("after a restart")

        own_postgres.stop_server(mode="fast")
        time.sleep(OUTAGE_SECONDS)
        assert thread.is_alive(), "the relay exited while PostgreSQL was away"
        own_postgres.start_server()
        for n in range(4, 7):
            intake.submit(hotline_report(n))
        wait_published("after the outage")
        stop.set()
        thread.join(timeout=10)

    positions = [e.position for e in sent]
    print(f"\nrelay: {len(positions)} publications of {len(set(positions))} events")
    warnings = [r for r in caplog.records if r.name == "services.common.relay"]
    assert warnings, "the outage went unnoticed"
    assert all(r.levelno == logging.WARNING for r in warnings)
    assert all("the database is away" in r.getMessage() for r in warnings)
    intake.close()
