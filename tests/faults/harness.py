"""The distributed system under paced load, and the faults the suite puts it through.

``FaultSystem`` starts every process of the distributed mode (as the README lists them)
on a private PostgreSQL server and a private Tansu broker behind a ``TcpProxy`` (the
broker advertises the proxy's port, so every client connection goes through it and the
test can cut the route while the in-memory broker keeps its topics). ``Load`` posts
hotline reports to intake-api at a fixed pace from two threads (each with its own
Idempotency-Key, retried with the same key until the answer is final) and reads the case
list, a cadre's archive and a page, recording every status per phase. ``Phase`` is one
fault: what the clients saw, how long recovery took, with process log tails on failure.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import re
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import psycopg

from schemas.events import SOURCES, topic_for
from services.common.settings import Settings
from services.common.sql import Database
from services.projections import store as store_module
from services.projections.catchup import open_logs
from services.projections.rebuild import rebuild_store
from services.projections.store import ReadStore
from tests.integration.test_faust_worker import JIANDU, SECRET_KEY, ServiceProcess, service_env
from tests.support.postgres import ThrowawayPostgres, free_port
from tests.support.tansu import TansuBroker, create_topics
from tests.support.tcp_proxy import TcpProxy

# True: `jiandu migrate` makes the schema once, before any process starts, and every process
# starts at once, in any order, as the README's first start does (docs/decisions/0019).
# False (a tree without `jiandu migrate`): they start one after another, as their start-up
# DDL would race.
MIGRATE_FIRST = True

PARTITIONS = 3
PASSWORD = "faults-password-of-the-desk"  # test accounts only
OPERATOR, LEADER = "faults-operator", "faults-leader"
CADRES = [(f"FS-{n:04d}", f"干部{n:02d}", "青山县交通运输局") for n in range(1, 21)]

WRITERS = 2
WRITES_PER_SECOND = 12.0  # both writers together
READ_INTERVAL_S = 0.15  # one reader thread, round robin over the read targets
HTTP_TIMEOUT_S = 10.0
SUBMIT_GIVE_UP_S = 90.0  # a submission retried (same key) this long without a final answer

# What a client may see. Transport errors (refused, reset) only from a process that is down.
WRITE_ALLOWED = frozenset({201, 409, 429, 503})
READ_ALLOWED = frozenset({200, 429, 503})

HEALTHY_TIMEOUT_S = 90.0
RECOVERY_TIMEOUT_S = 120.0

# Which process answers each target of the load. The page read is a cadre's archive, an
# information page: `jiandu web`'s, where the load signs in (the pages that write are
# served by intake-api and casework, decision record 0031).
TARGET_PROCESS = {
    "submit": "intake-api",
    "case-list": "projections-api",
    "archive": "projections-api",
    "page": "web",
}
HTTP_PROCESSES = {
    "intake-api": "intake",
    "casework": "casework",
    "projections-api": "projections",
    "web": "web",
}


def process_args(name: str, port: int | None) -> list[str]:
    return {
        "intake-api": ["intake-api", "--port", str(port)],
        "relay-intake": ["relay", "--source", "intake"],
        "casework": ["casework", "--port", str(port)],
        "relay-casework": ["relay", "--source", "casework"],
        "projections-worker": ["projections-worker"],
        "projections-api": ["projections-api", "--port", str(port)],
        "web": ["web", "--port", str(port)],
    }[name]


# -- the load ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Receipt:
    report_id: str
    case_id: str | None
    ledger_number: str
    phase: str


@dataclasses.dataclass(frozen=True)
class Unexpected:
    phase: str
    target: str
    result: str
    detail: str
    at: str


def transport_result(error: httpx.TransportError) -> str:
    if isinstance(error, httpx.ConnectError):
        return "refused"
    if isinstance(error, httpx.TimeoutException):
        return "timeout"
    return "reset"  # the connection ended mid-request (a killed process)


class Load:
    """Paced writes and reads over HTTP on loopback; every outcome counted per phase."""

    def __init__(
        self,
        urls: dict[str, str],
        operator: dict[str, str],
        leader: dict[str, str],
        web_cookies: httpx.Cookies,
        allowed_down: Callable[[str, str], bool],
    ) -> None:
        self.urls, self.operator, self.leader = urls, operator, leader
        self.web_cookies = web_cookies
        self.allowed_down = allowed_down  # (phase, target) -> may a transport error happen
        self.phase = "start"
        self.counts: Counter[tuple[str, str, str]] = Counter()  # (phase, target, result)
        self.receipts: dict[str, Receipt] = {}
        self.unexpected: list[Unexpected] = []
        self.gave_up: list[str] = []  # Idempotency-Keys without a final answer
        self.without_case: list[str] = []  # 201 receipts without a case (auto-accept off?)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sequence = 0

    # -- bookkeeping
    def record(self, phase: str, target: str, result: int | str, detail: str = "") -> None:
        allowed = WRITE_ALLOWED if target == "submit" else READ_ALLOWED
        with self._lock:
            self.counts[(phase, target, str(result))] += 1
            if isinstance(result, int):
                bad = result not in allowed
            else:
                bad = not self.allowed_down(phase, target)
            if bad and sum(1 for u in self.unexpected if u.phase == phase) < 20:
                self.unexpected.append(
                    Unexpected(phase, target, str(result), detail[:300], time.strftime("%H:%M:%S"))
                )

    def case_ids(self) -> list[str]:
        with self._lock:
            return [r.case_id for r in self.receipts.values() if r.case_id]

    def phase_counts(self, phase: str) -> dict[str, Counter[str]]:
        with self._lock:
            out: dict[str, Counter[str]] = {}
            for (p, target, result), n in self.counts.items():
                if p == phase:
                    out.setdefault(target, Counter())[result] += n
            return out

    # -- threads
    def start(self) -> None:
        for index in range(WRITERS):
            self._spawn(f"writer-{index}", self._writer)
        self._spawn("reader", self._reader)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=f"load-{name}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def stop(self) -> None:
        """Stop pacing; a submission being retried goes on until its answer is final."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=SUBMIT_GIVE_UP_S + 2 * HTTP_TIMEOUT_S)
        stuck = [t.name for t in self._threads if t.is_alive()]
        assert not stuck, f"load threads did not finish: {stuck}"

    def _writer(self) -> None:
        interval = WRITERS / WRITES_PER_SECOND
        next_at = time.monotonic()
        with httpx.Client(timeout=HTTP_TIMEOUT_S) as client:
            while not self._stop.is_set():
                now = time.monotonic()
                if next_at > now:
                    time.sleep(next_at - now)
                next_at = max(next_at + interval, time.monotonic() - 1.0)  # no catch-up burst
                with self._lock:
                    self._sequence += 1
                    n = self._sequence
                self.submit(client, n)

    def submit(self, client: httpx.Client, n: int) -> None:
        cadre_id, name, unit = CADRES[n % len(CADRES)]
        body = {
            "channel": "hotline",
            "reporter": {"anonymous": False, "name": "赵六", "phone": "13912345678"},
            "subjects": [{"name": name, "unit": unit, "position": "局长", "cadre_id": cadre_id}],
            "categories": ["vote_buying"],
            "summary": f"反映该同志在换届期间宴请拉票（故障测试第{n}件）",
        }
        key = f"faults-{n}-{uuid.uuid4().hex[:8]}"
        headers = {**self.operator, "Idempotency-Key": key}
        deadline = time.monotonic() + SUBMIT_GIVE_UP_S
        while True:
            phase = self.phase
            try:
                response = client.post(
                    f"{self.urls['intake']}/api/v1/reports", json=body, headers=headers
                )
            except httpx.TransportError as error:
                self.record(phase, "submit", transport_result(error), repr(error))
                pause = 0.2
            else:
                status = response.status_code
                self.record(phase, "submit", status, response.text)
                if status == 201:
                    receipt = response.json()
                    with self._lock:
                        self.receipts[receipt["report_id"]] = Receipt(
                            receipt["report_id"],
                            receipt.get("case_id"),
                            receipt["ledger_number"],
                            phase,
                        )
                        if not receipt.get("case_id"):
                            self.without_case.append(receipt["report_id"])
                    return
                if status < 500 and status != 429:
                    return  # final: a refusal (counted; only 409 is expected)
                pause = min(float(response.headers.get("Retry-After") or 0.5), 1.0)
            if time.monotonic() + pause > deadline:
                with self._lock:
                    self.gave_up.append(key)
                return
            time.sleep(pause)

    def _reader(self) -> None:
        targets: list[tuple[str, str, dict[str, str]]] = [
            ("case-list", f"{self.urls['projections']}/api/v1/cases", self.leader),
            ("archive", f"{self.urls['projections']}/api/v1/cadres/{{cadre}}/archive", self.leader),
            ("page", f"{self.urls['web']}/cadres/{{cadre}}", {}),
        ]
        rng = random.Random(11)
        with (
            httpx.Client(timeout=HTTP_TIMEOUT_S) as api,
            httpx.Client(timeout=HTTP_TIMEOUT_S, cookies=self.web_cookies) as browser,
        ):
            while not self._stop.is_set():
                for target, url, headers in targets:
                    phase = self.phase
                    client = browser if target == "page" else api
                    cadre = rng.choice(CADRES)[0]
                    try:
                        response = client.get(url.format(cadre=cadre), headers=headers)
                    except httpx.TransportError as error:
                        self.record(phase, target, transport_result(error), repr(error))
                    else:
                        self.record(phase, target, response.status_code, response.text)
                    if self._stop.wait(READ_INTERVAL_S):
                        return


# -- the phases ---------------------------------------------------------------------------


@dataclasses.dataclass
class PhaseResult:
    name: str
    fault: str
    seconds: float = 0.0
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    counts: dict[str, Counter[str]] = dataclasses.field(default_factory=dict)
    problems: list[str] = dataclasses.field(default_factory=list)
    tracebacks: dict[str, int] = dataclasses.field(default_factory=dict)  # logged, per process
    errors: Counter[str] = dataclasses.field(default_factory=Counter)  # process: where → what

    def line(self) -> str:
        timing = ", ".join(f"{k} {v:.1f}s" for k, v in self.timings.items()) or "-"
        seen = "; ".join(
            f"{target} " + " ".join(f"{result}×{n}" for result, n in sorted(counter.items()))
            for target, counter in sorted(self.counts.items())
        )
        verdict = "FAILED" if self.problems else "ok"
        logged = (
            "  tracebacks logged: " + ", ".join(f"{p}×{n}" for p, n in self.tracebacks.items())
            if self.tracebacks
            else ""
        )
        return f"{self.name:<28} {verdict:<6} {self.seconds:5.1f}s  [{timing}]  {seen}{logged}"


RESULTS: list[PhaseResult] = []  # printed at the end of the run (tests/faults/conftest.py)


# -- the system ---------------------------------------------------------------------------


class FaultSystem:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.prefix = f"f{uuid.uuid4().hex[:8]}."
        # Always a private server: the suite restarts it, which would cut every other test's.
        self.postgres = ThrowawayPostgres(external_url="")
        self.proxy = TcpProxy(target_port=free_port())
        self.broker = TansuBroker(port=self.proxy.target[1], advertised_port=self.proxy.port)
        self.processes: dict[str, ServiceProcess] = {}
        self.ports = {name: free_port() for name in HTTP_PROCESSES}
        self.urls = {HTTP_PROCESSES[n]: f"http://127.0.0.1:{p}" for n, p in self.ports.items()}
        self.extra: list[ServiceProcess] = []  # second consumers, started and stopped
        self.load: Load | None = None
        self.down: dict[str, set[str]] = {}  # phase -> processes down during it
        self.dsn = ""
        self.env: dict[str, str] = {}
        self.settings: Settings | None = None
        self.client = httpx.Client(timeout=HTTP_TIMEOUT_S)
        # Of the last wait_recovered: when casework had opened every case (the rest of the
        # wait is the casework relay and the projections worker).
        self.opened_at: float | None = None

    # -- start and stop
    def start(self) -> None:
        started = time.monotonic()
        self.postgres.start()
        self.dsn = self.postgres.dsn(self.postgres.create_database("jiandu_faults"))
        self.proxy.start()
        self.broker.start()
        create_topics(self.proxy.address, [topic_for(s, self.prefix) for s in SOURCES], PARTITIONS)
        self.env = service_env(
            database_url=self.dsn,
            kafka_bootstrap=self.proxy.address,
            kafka_topic_prefix=self.prefix,
            kafka_partitions=PARTITIONS,
            kafka_fetch_max_wait_ms=20,
            relay_poll_seconds=0.05,
            data_dir=self.workdir,
            secret_key=SECRET_KEY,
            auto_accept="true",
            log_level="WARNING",
        )
        self.settings = Settings(
            database_url=self.dsn, data_dir=self.workdir, secret_key=SECRET_KEY
        )
        if MIGRATE_FIRST:
            self.cli("migrate")
        register = self.workdir / "cadres.csv"
        register.write_text(
            "cadre_id,name,unit,position,management_level\n"
            + "".join(f"{c},{n},{u},局长,county_division_principal\n" for c, n, u in CADRES),
            encoding="utf-8",
        )
        self.cli("import-cadres", str(register))
        for username, role in ((OPERATOR, "operator"), (LEADER, "leader")):
            self.cli("create-user", username, "--role", role, "--password-stdin", stdin=PASSWORD)
        order = [
            "intake-api", "casework", "projections-api", "web",
            "relay-intake", "relay-casework", "projections-worker",
        ]  # fmt: skip
        for name in order:
            self.processes[name] = ServiceProcess(
                name, process_args(name, self.ports.get(name)), self.env, self.workdir
            ).start()
            if not MIGRATE_FIRST and name in HTTP_PROCESSES:
                self.wait_healthy([name])  # one after another: their DDL would race
        self.wait_healthy(list(self.processes))
        print(f"\nall processes healthy {time.monotonic() - started:.1f}s after the start")
        operator, leader = self.token(OPERATOR), self.token(LEADER)
        self.load = Load(self.urls, operator, leader, self.web_session(), self.may_be_down)
        self.load.start()

    def stop(self) -> None:
        if self.load is not None:
            with contextlib.suppress(AssertionError):
                self.load.stop()
        for process in [*self.extra, *self.processes.values()]:
            process.stop()
        self.client.close()
        self.proxy.close()
        self.broker.close()
        self.postgres.stop()

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [JIANDU, *args],
            input=None if stdin is None else stdin + "\n",
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"jiandu {' '.join(args)}:\n{done.stdout}{done.stderr}"
        return done.stdout

    def token(self, username: str) -> dict[str, str]:
        response = self.client.post(
            f"{self.urls['projections']}/api/v1/auth/token",
            json={"username": username, "password": PASSWORD},
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def web_session(self) -> httpx.Cookies:
        with httpx.Client(base_url=self.urls["web"], timeout=HTTP_TIMEOUT_S) as browser:
            login = browser.get("/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
            assert csrf, login.text
            signed_in = browser.post(
                "/login", data={"username": LEADER, "password": PASSWORD, "csrf_token": csrf[1]}
            )
            assert signed_in.status_code in (200, 303), signed_in.text
            return httpx.Cookies(browser.cookies)

    # -- faults
    def may_be_down(self, phase: str, target: str) -> bool:
        return TARGET_PROCESS[target] in self.down.get(phase, set())

    def kill(self, name: str) -> None:
        assert self.load is not None
        self.down.setdefault(self.load.phase, set()).add(name)
        self.processes[name].kill(signal.SIGKILL)

    def restart(self, name: str) -> None:
        process = self.processes[name]
        assert not process.alive(), f"{name} is still running"
        process.start()

    def start_extra(
        self, name: str, args: Sequence[str], data_dir: Path | None = None
    ) -> ServiceProcess:
        env = self.env if data_dir is None else {**self.env, "JIANDU_DATA_DIR": str(data_dir)}
        process = ServiceProcess(name, args, env, self.workdir).start()
        self.extra.append(process)
        return process

    # -- waiting
    def wait_healthy(self, names: Sequence[str], timeout: float = HEALTHY_TIMEOUT_S) -> float:
        """Seconds until each named process runs and each HTTP one answers /healthz 200."""
        started = time.monotonic()
        deadline = started + timeout
        pending = list(names)
        while pending:
            name = pending[0]
            process = self.processes.get(name) or next(p for p in self.extra if p.name == name)
            if not process.alive():
                raise AssertionError(f"{name} exited:\n{process.log_tail()}")
            http = name in HTTP_PROCESSES or "--port" in process.args
            if not http or self._healthz(self._url_of(name, process)):
                pending.pop(0)
                continue
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{name} not healthy within {timeout:.0f}s:\n{process.log_tail()}"
                )
            time.sleep(0.1)
        return time.monotonic() - started

    def _url_of(self, name: str, process: ServiceProcess) -> str:
        if process in self.extra:
            return f"http://127.0.0.1:{process.args[process.args.index('--port') + 1]}"
        return self.urls[HTTP_PROCESSES[name]]

    def _healthz(self, url: str) -> bool:
        try:
            return self.client.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def caught_up(self, case_ids: Sequence[str]) -> tuple[int, int]:
        """How many of these cases casework has opened, and how many the case list shows."""
        ids = list(case_ids)
        with psycopg.connect(self.dsn, connect_timeout=3, autocommit=True) as conn:
            opened = conn.execute(
                "SELECT count(DISTINCT originator_id) FROM casework.casework_events "
                "WHERE originator_version = 1 AND originator_id = ANY(%s::uuid[])",
                (ids,),
            ).fetchone()
            listed = conn.execute(
                "SELECT count(*) FROM projections.case_list WHERE case_id = ANY(%s)", (ids,)
            ).fetchone()
        assert opened is not None
        assert listed is not None
        return int(opened[0]), int(listed[0])

    def wait_recovered(self, timeout: float = RECOVERY_TIMEOUT_S) -> float:
        """Seconds until every case acknowledged by now is opened by casework and listed by
        the read side (the whole pipeline: intake, relay, casework, relay, worker)."""
        assert self.load is not None
        started = time.monotonic()
        wanted = self.load.case_ids()
        last: tuple[int, int] | str = "never asked"
        self.opened_at = None
        while True:
            with contextlib.suppress(psycopg.OperationalError):
                last = self.caught_up(wanted)
                if self.opened_at is None and last[0] == len(wanted):
                    self.opened_at = time.monotonic()
                if last == (len(wanted), len(wanted)):
                    return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise AssertionError(
                    f"the pipeline did not catch up within {timeout:.0f}s: of {len(wanted)} "
                    f"acknowledged cases, (opened by casework, listed) = {last}"
                )
            time.sleep(0.2)

    def watch(self, seconds: float) -> float:
        """Let the load run for ``seconds`` while measuring, again and again, how long the
        cases acknowledged by then take to be opened and listed; the worst of them."""
        worst = 0.0
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            worst = max(worst, self.wait_recovered())
            time.sleep(0.3)
        return worst

    def dead(self) -> list[str]:
        return [name for name, p in self.processes.items() if not p.alive()]

    def log_tails(self, names: Sequence[str] | None = None, lines: int = 40) -> str:
        chosen = [
            p for p in [*self.processes.values(), *self.extra] if names is None or p.name in names
        ]
        return "".join(
            f"\n----- {p.name} ({p.log_path}) -----\n{p.log_tail(lines)}" for p in chosen
        )

    @contextlib.contextmanager
    def phase(self, name: str, fault: str) -> Iterator[PhaseResult]:
        """One fault under load: checks what the clients saw and that every process runs."""
        assert self.load is not None
        result = PhaseResult(name, fault)
        RESULTS.append(result)
        dead = self.dead()
        for process_name in dead:  # left by an earlier phase (which reported it): start again
            self.processes[process_name].start()
        if dead:
            self.wait_healthy(dead)
        self.load.phase = name
        offsets = {p.name: _size(p.log_path) for p in [*self.processes.values(), *self.extra]}
        started = time.monotonic()
        failure: BaseException | None = None
        try:
            yield result
        except Exception as error:  # reported below, with the phase's figures and the logs
            failure = error
        result.seconds = time.monotonic() - started
        result.counts = self.load.phase_counts(name)
        for process in [*self.processes.values(), *self.extra]:
            logged = _read_from(process.log_path, offsets.get(process.name, 0))
            if "Traceback" in logged:
                result.tracebacks[process.name] = logged.count("Traceback")
                for what, n in traceback_summary(logged).items():
                    result.errors[f"{process.name}: {what}"] += n
        if failure is not None:
            result.problems.append(f"{type(failure).__name__}: {str(failure).split(chr(10), 1)[0]}")
        unexpected = [u for u in self.load.unexpected if u.phase == name]
        if unexpected:
            seen = Counter(f"{u.target} {u.result}" for u in unexpected)
            result.problems.append(f"unexpected answers: {dict(seen)}")
        dead = self.dead()
        if dead:
            result.problems.append(f"processes died: {dead}")
        print(f"\n{result.line()}")
        if result.problems:
            samples = "".join(
                f"\n  {u.at} {u.target} {u.result}: {u.detail}" for u in unexpected[:10]
            )
            logged = "".join(f"\n  {n}× {what}" for what, n in result.errors.most_common(12))
            raise AssertionError(
                f"phase {name!r} ({fault}): "
                + "; ".join(result.problems)
                + (
                    f"\nexceptions logged in this phase (innermost Jiandu frame):{logged}"
                    if logged
                    else ""
                )
                + (f"\n{failure}" if failure is not None else "")
                + (f"\nfirst unexpected answers:{samples}" if samples else "")
                + f"\nprocess logs:{self.log_tails()}"
            )

    # -- the end
    def verify(self) -> dict[str, int]:
        """Nothing lost, nothing duplicated, every read model equal to a rebuild."""
        assert self.load is not None
        assert self.settings is not None
        receipts = dict(self.load.receipts)
        registered: dict[str, str] = {}  # report id -> ledger number
        accepted: dict[str, str] = {}  # report id -> case id
        opened: dict[str, list[str]] = {}  # report id -> case ids opened for it
        with open_logs(self.settings) as logs:
            for source in SOURCES:
                envelopes, _ = logs[source].read_envelopes(0, 10**7)
                for e in envelopes:
                    aggregate = str(e.aggregate_id)
                    if e.event_type == "ReportRegistered":
                        registered[aggregate] = e.payload["ledger_number"]
                    elif e.event_type == "ReportAccepted":
                        accepted[aggregate] = str(e.payload["case_id"])
                    elif e.event_type == "CaseOpened" and e.payload.get("report_id"):
                        opened.setdefault(str(e.payload["report_id"]), []).append(aggregate)
            lost = [r for r in receipts if r not in registered]
            assert not lost, f"{len(lost)} acknowledged reports not in intake's store: {lost[:5]}"
            wrong_ledger = [
                r for r, receipt in receipts.items() if registered[r] != receipt.ledger_number
            ]
            assert not wrong_ledger, f"ledger numbers differ from the receipts: {wrong_ledger[:5]}"
            wrong_case = [
                r for r, receipt in receipts.items() if receipt.case_id != accepted.get(r)
            ]
            assert not wrong_case, f"receipts' case differs from intake's: {wrong_case[:5]}"
            no_case = [r for r in accepted if r not in opened]
            duplicated = {r: c for r, c in opened.items() if len(c) > 1}
            strangers = [r for r in opened if r not in accepted]
            mismatched = [r for r, c in opened.items() if r in accepted and accepted[r] not in c]
            assert not no_case, f"{len(no_case)} accepted reports without a case: {no_case[:5]}"
            assert not duplicated, (
                f"reports with more than one case: {list(duplicated.items())[:5]}"
            )
            assert not strangers, f"cases for reports intake never accepted: {strangers[:5]}"
            assert not mismatched, f"cases other than the accepted one: {mismatched[:5]}"

            expected = ReadStore(Database(postgres_url=self.dsn, schema="expected"))
            actual = Database(postgres_url=self.dsn, schema="projections", ddl_allowed=False)
            try:
                rebuild_store(expected, logs, show_progress=False)
                reference = dump_tables(expected.db)
                started = time.monotonic()
                current = dump_tables(actual)
                while current != reference and time.monotonic() - started < RECOVERY_TIMEOUT_S:
                    time.sleep(0.5)
                    current = dump_tables(actual)
                assert_same_tables(current, reference)
            finally:
                expected.db.close()
                actual.close()
        return {
            "acknowledged": len(receipts),
            "registered": len(registered),
            "accepted": len(accepted),
            "cases": sum(len(c) for c in opened.values()),
            "rows compared": sum(len(rows) for rows in reference.values()),
            "gave up": len(self.load.gave_up),
        }


def traceback_summary(text: str) -> Counter[str]:
    """Each logged traceback as "innermost Jiandu frame → exception line", counted; a frame
    in the SQL adapter is named with its caller ("config.py:120 _fresh via sql.py")."""
    found: Counter[str] = Counter()
    frames: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.startswith("Traceback (most recent call last)"):
            frames, inside = [], True
        elif inside and line.lstrip().startswith('File "') and "/services/" in line:
            where = line.strip().split('"')[1].rsplit("/services/", 1)[-1]
            number = line.split(", line ")[-1].split(",")[0]
            frames.append(f"{where}:{number} {line.rsplit(' in ', 1)[-1]}")
        elif inside and line and not line[0].isspace():
            own = [f for f in frames if not f.startswith("common/sql.py")]
            frame = own[-1] if own else (frames[-1] if frames else "(no Jiandu frame)")
            if own and frames[-1] != own[-1]:
                frame += " via common/sql.py"
            found[f"{frame} → {line.strip()[:160]}"] += 1
            inside = False
    return found


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read_from(path: Path, offset: int) -> str:
    try:
        with path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")
    except OSError:
        return ""


Dump = dict[str, list[tuple[Any, ...]]]


def dump_tables(db: Database) -> Dump:
    """Every row of every read model table in ``db``'s schema, sorted (as test_rebuild's dump)."""
    snapshot: Dump = {}
    with db.transaction() as cur:
        for projection in store_module.PROJECTIONS:
            for table in projection.tables:
                cur.execute(f"SELECT * FROM {table}")
                rows: list[dict[str, Any]] = cur.fetchall()
                snapshot[table] = sorted((tuple(sorted(r.items())) for r in rows), key=repr)
    return snapshot


def assert_same_tables(actual: Dump, expected: Dump) -> None:
    """test_rebuild's ``assert_same``, with multisets: the tables here hold thousands of rows."""
    assert actual.keys() == expected.keys()
    problems = []
    for table in expected:
        have, want = Counter(map(repr, actual[table])), Counter(map(repr, expected[table]))
        missing, extra = list((want - have).elements()), list((have - want).elements())
        if missing or extra:
            problems.append(
                f"{table}: {len(missing)} rows missing, {len(extra)} unexpected; "
                f"first missing {missing[:1]}, first unexpected {extra[:1]}"
            )
    assert not problems, "read models differ from a rebuild:\n" + "\n".join(problems)
