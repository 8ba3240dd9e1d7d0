"""The distributed mode end to end, over HTTP: paced report submissions as a client sees them.

Starts every process of the distributed mode on throwaway servers — a private PostgreSQL
switched to durable commits (``fsync``, ``synchronous_commit``, as in production) and a
Tansu broker — ``jiandu migrate``, the demo cadre register (``jiandu import-cadres``), an
operator account, then ``intake-api``, ``casework``, ``relay --source intake``, ``relay
--source casework``, ``projections-worker`` and ``projections-api``, with the auto-accept
policy on (``JIANDU_AUTO_ACCEPT=true``: each report opens a case at registration).

For each offered rate (``--rates``, reports/s, each for ``--seconds``) it sends hotline
reports naming 1–3 registered cadres to ``POST /api/v1/reports`` **open loop** (aiohttp,
many connections): request *i* leaves at ``t0 + i/rate`` whether or not earlier ones were
answered, and its latency counts from that scheduled moment, so a slow system cannot hide
as a lower load. It measures:

* the **sustained accepted rate**: 201 answers received during the window / the window;
* the 201 latency p50/p99 and every other outcome by status (timeouts, resets, 503…);
* the **lag** from each 201 to the report's case appearing in the read models — the case
  list (``projections.case_list``), the case timeline (``projections.timeline_steps``, the
  case's first step) and the cadre's archive (``projections.archive_cases``) — and, to
  split the pipeline in two, to casework's first event of the case in its own store
  (``casework.casework_events``, version 1: the case opened) — read by a
  separate poller process straight from the read store with SQL, every ~5 ms, for the
  case ids answered so far (the interval grows to 3× the query's own time under a
  backlog, so the poller never takes more than a quarter of a backend); p50/p99, the share
  within 100 ms, and the **tail**: how long after the last scheduled submission the last
  case appeared;
* each process's CPU (% of one core, from /proc) during the window, and the rest of the
  machine's (other work on a shared host).

Baselines, measured in the same run at the same rate, just before each step:

* **HTTP + commit**: a bare FastAPI endpoint (uvicorn, one worker, a sync route as intake's)
  doing one durable INSERT of the body per request on the same PostgreSQL, under the same
  client: the machine's limit for "answer after a durable commit";
* **Kafka round trip**: a bare kafka-python producer → consumer on the same broker at the
  same rate, with the services' fetch wait: one hop (the pipeline has two, and two relays).

A step whose non-201 answers exceed ``--max-errors`` (default 1 %) gets no latency or lag
figure (printed as refused, emitted as ∞): the survivors' latencies would flatter it. Cases
not seen within ``--drain`` seconds after the window count as infinitely late.

``--profile [NAMES]`` runs ``py-spy record --threads`` (``pip install py-spy``) for the rest
of the highest-rate window, after its first 2 s, on the named processes at once
(comma-separated, e.g. ``casework,projections-worker``; alone: the busiest by CPU), and
prints, for each thread running Jiandu code, its top frames (own time, and including
callees) and, over all threads, how many threads on average sit inside each frame (a lock
taken in turn by many request threads shows there). ``--idle`` profiles wall-clock time
(waits on the database, on locks) instead of CPU alone. That window's figures are then
slightly perturbed.

The Tansu broker holds every fetch until its maximum wait even when data has arrived (real
Apache Kafka answers at once), so the services run with ``JIANDU_KAFKA_FETCH_MAX_WAIT_MS=20``
(``--env`` overrides it and sets any other ``JIANDU_*`` setting); the rest are the defaults.

Run from the repository root::

    .venv/bin/python bench/end_to_end.py                    # 100 and 300 reports/s, 20 s each
    .venv/bin/python bench/end_to_end.py --rates 100,300,1000
    .venv/bin/python bench/end_to_end.py --quick            # one rate (100/s), 10 s: a smoke run
    .venv/bin/python bench/end_to_end.py --profile casework,intake-api --idle
    .venv/bin/python bench/end_to_end.py --env JIANDU_RELAY_POLL_SECONDS=0.05 --keep
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import dataclasses
import json
import math
import multiprocessing as mp
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg

from bench.figures import Figure, emit

SECRET_KEY = base64.b64encode(os.urandom(32)).decode()
PASSWORD = "bench-password-of-the-desk"  # a throwaway account on a throwaway server
OPERATOR = "bench-operator"
CADRES_CSV = ROOT / "services" / "demo" / "cadres.csv"
# The 12380 scope (auto-accept leaves "other conduct" to an operator).
CATEGORIES = [
    "seeking_office", "buying_selling_office", "promising_office", "vote_buying",
    "fraudulent_credentials", "promoted_while_tainted", "rushed_promotion", "excess_posts",
    "irregular_procedure", "false_personal_report",
]  # fmt: skip
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨"
HTTP_PROCESSES = ("intake-api", "casework", "projections-api")
PROCESSES = (
    "intake-api", "casework", "relay-intake", "relay-casework",
    "projections-worker", "projections-api",
)  # fmt: skip
# Where a case shows: caseworks own event store (the case opened: the first half of the
# pipeline), then the read models.
STAGES = ("casework opened", "case list", "timeline", "archive")
LAG_GOALS = {300: "<100", 1000: "<250"}  # issue 12, item 5 (ms)
HEALTHY_TIMEOUT_S = 120.0
POLL_INTERVAL_S = 0.005
ACKNOWLEDGED = [0]  # cases acknowledged (201 with a case) so far, warm-up included


def process_args(name: str, port: int | None) -> list[str]:
    return {
        "intake-api": ["intake-api", "--port", str(port)],
        "casework": ["casework", "--port", str(port)],
        "relay-intake": ["relay", "--source", "intake"],
        "relay-casework": ["relay", "--source", "casework"],
        "projections-worker": ["projections-worker"],
        "projections-api": ["projections-api", "--port", str(port)],
    }[name]


class ProcessDied(RuntimeError):
    pass


# -- CPU from /proc ---------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields:
                children[int(fields[1])].append(int(entry))
    return children


CLIENT = "client (this script)"


def cpu_seconds(roots: dict[str, list[int]]) -> dict[str, float]:
    """utime + stime of each named group of processes and all their descendants (the
    client's own process alone: every other process here is its child)."""
    children = _children_map()
    out = {}
    for name, pids in roots.items():
        if name == CLIENT:
            fields = _stat_fields(pids[0])
            out[name] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS if fields else 0.0
            continue
        total, stack, seen = 0, list(pids), set()
        while stack:
            pid = stack.pop()
            if pid in seen:
                continue
            seen.add(pid)
            fields = _stat_fields(pid)
            if fields:
                total += int(fields[11]) + int(fields[12])  # utime, stime
            stack.extend(children.get(pid, []))
        out[name] = total / CLOCK_TICKS
    return out


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine was busy (all cores), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / CLOCK_TICKS


# -- the system -------------------------------------------------------------------------


class System:
    """Every process of the distributed mode on a private, durable PostgreSQL and Tansu."""

    def __init__(self, workdir: Path, partitions: int, extra_env: dict[str, str]) -> None:
        from tests.support.postgres import ThrowawayPostgres, free_port
        from tests.support.tansu import TansuBroker

        self.workdir = workdir
        self.partitions = partitions
        self.extra_env = extra_env
        self.prefix = f"e2e{uuid.uuid4().hex[:6]}."
        self.postgres = ThrowawayPostgres(external_url="")  # private: its CPU is measured
        self.broker = TansuBroker()
        self.ports = {name: free_port() for name in HTTP_PROCESSES}
        self.processes: dict[str, Any] = {}  # name -> ServiceProcess
        self.dsn = ""
        self.described = ""
        self.env: dict[str, str] = {}
        self.token = ""

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def start(self) -> None:
        from schemas.events import SOURCES, topic_for
        from tests.integration.test_faust_worker import ServiceProcess, service_env
        from tests.support.tansu import create_topics

        started = time.monotonic()
        self.postgres.start()
        with psycopg.connect(self.postgres.admin_dsn, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET fsync = on")
            conn.execute("ALTER SYSTEM SET synchronous_commit = on")
            conn.execute("ALTER SYSTEM SET full_page_writes = on")
            conn.execute("SELECT pg_reload_conf()")
        self.dsn = self.postgres.dsn(self.postgres.create_database("jiandu_e2e"))
        deadline = time.monotonic() + 10
        while True:
            with psycopg.connect(self.dsn) as conn:
                row = conn.execute(
                    "SELECT current_setting('server_version'), current_setting('fsync'), "
                    "current_setting('synchronous_commit')"
                ).fetchone()
            assert row is not None
            if row[1] == "on" or time.monotonic() > deadline:
                break
            time.sleep(0.05)  # the reload is asynchronous
        self.described = (
            f"PostgreSQL {row[0]} (private), fsync={row[1]}, synchronous_commit={row[2]}"
        )
        self.broker.start()
        create_topics(
            self.broker.bootstrap, [topic_for(s, self.prefix) for s in SOURCES], self.partitions
        )
        values: dict[str, Any] = {
            "database_url": self.dsn,
            "kafka_bootstrap": self.broker.bootstrap,
            "kafka_topic_prefix": self.prefix,
            "kafka_partitions": self.partitions,
            "kafka_fetch_max_wait_ms": 20,
            "data_dir": self.workdir,
            "secret_key": SECRET_KEY,
            "auto_accept": "true",
            "log_level": "WARNING",
        }
        self.env = service_env(**values)
        self.env.update(self.extra_env)
        self.cli("migrate")
        self.cli("import-cadres", str(CADRES_CSV))
        self.cli("create-user", OPERATOR, "--role", "operator", "--password-stdin", stdin=PASSWORD)
        for name in PROCESSES:
            self.processes[name] = ServiceProcess(
                name, process_args(name, self.ports.get(name)), self.env, self.workdir
            ).start()
        self.wait_healthy()
        import httpx

        answer = httpx.post(
            f"{self.url('projections-api')}/api/v1/auth/token",
            json={"username": OPERATOR, "password": PASSWORD},
            timeout=30,
        )
        if answer.status_code != 200:
            raise RuntimeError(f"no token: {answer.status_code} {answer.text}")
        self.token = answer.json()["access_token"]
        print(f"system up in {time.monotonic() - started:.1f} s; {self.described}")

    def cli(self, *args: str, stdin: str | None = None) -> None:
        from tests.integration.test_faust_worker import JIANDU

        done = subprocess.run(
            [JIANDU, *args],
            input=None if stdin is None else stdin + "\n",
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"jiandu {' '.join(args)} failed:\n{done.stdout}{done.stderr}")

    def wait_healthy(self) -> None:
        import httpx

        deadline = time.monotonic() + HEALTHY_TIMEOUT_S
        for name in HTTP_PROCESSES:
            while True:
                self.check_alive()
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{self.url(name)}/healthz", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise ProcessDied(f"{name} not healthy:\n{self.processes[name].log_tail()}")
                time.sleep(0.2)

    def check_alive(self) -> None:
        dead = [name for name, p in self.processes.items() if not p.alive()]
        if dead:
            tails = "".join(
                f"\n----- {n} ({self.processes[n].log_path}) -----\n{self.processes[n].log_tail(60)}"
                for n in dead
            )
            raise ProcessDied(f"processes died: {dead}{tails}")

    def pids(self) -> dict[str, list[int]]:
        roots = {name: [p.proc.pid] for name, p in self.processes.items() if p.proc}
        with contextlib.suppress(OSError, ValueError, AttributeError):
            pid_file = self.postgres.datadir / "postmaster.pid"
            roots["postgres"] = [int(pid_file.read_text().split("\n", 1)[0])]
        if self.broker._proc is not None:
            roots["tansu"] = [self.broker._proc.pid]
        return roots

    def stop(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(Exception):
                process.stop()
        with contextlib.suppress(Exception):
            self.broker.close()
        with contextlib.suppress(Exception):
            self.postgres.stop()


class Bare:
    """The baseline server: FastAPI, one durable INSERT per request (this script, as a child)."""

    def __init__(self, dsn: str, workdir: Path) -> None:
        from tests.support.postgres import free_port

        self.port = free_port()
        self.dsn = dsn
        self.log_path = workdir / "bare.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import httpx

        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, "--serve-bare", str(self.port), self.dsn],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise ProcessDied(f"bare server exited:\n{self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise ProcessDied(f"bare server not up:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def serve_bare(port: int, dsn: str) -> None:
    import uvicorn
    from fastapi import FastAPI
    from psycopg.types.json import Jsonb
    from psycopg_pool import ConnectionPool

    pool = ConnectionPool(dsn, min_size=4, max_size=20, kwargs={"autocommit": True}, open=True)
    with pool.connection() as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_bare_reports (id uuid PRIMARY KEY, body jsonb)"
        )
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/reports", status_code=201)
    def submit(body: dict[str, Any]) -> dict[str, str]:
        report_id = uuid.uuid4()
        with pool.connection() as conn:
            conn.execute(
                "INSERT INTO bench_bare_reports (id, body) VALUES (%s, %s)",
                (report_id, Jsonb(body)),
            )
        return {"report_id": str(report_id)}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- the load ---------------------------------------------------------------------------


def load_cadres() -> list[dict[str, str]]:
    lines = CADRES_CSV.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    return [dict(zip(header, line.split(","), strict=True)) for line in lines[1:] if line]


def report_bodies(n: int, tag: str, seed: int) -> list[bytes]:
    """``n`` realistic hotline reports: 1–3 registered cadres, 1–2 categories in scope, half
    real-name; serialized beforehand so the client spends its time sending."""
    rng = random.Random(seed)
    cadres = load_cadres()
    bodies = []
    for i in range(n):
        named = rng.sample(cadres, rng.choice((1, 1, 1, 2, 2, 3)))
        reporter: dict[str, Any] = (
            {"anonymous": True}
            if i % 2
            else {
                "anonymous": False,
                "name": rng.choice(SURNAMES) + "先生",
                "phone": f"139{rng.randrange(10**8):08d}",
            }
        )
        body = {
            "channel": "hotline",
            "reporter": reporter,
            "subjects": [
                {
                    "name": c["name"],
                    "unit": c["unit"],
                    "position": c["position"],
                    "cadre_id": c["cadre_id"],
                }
                for c in named
            ],
            "categories": rng.sample(CATEGORIES, rng.choice((1, 1, 2))),
            "summary": f"反映{named[0]['name']}同志在干部选拔任用中的问题，来电人称有知情人可证实"
            f"（压力测试 {tag} 第{i}件）",
        }
        bodies.append(json.dumps(body, ensure_ascii=False).encode())
    return bodies


@dataclasses.dataclass
class Outcome:
    scheduled: float  # monotonic
    done: float = math.nan
    status: str = ""  # "201", "503", "timeout", "reset", ...
    case_id: str | None = None


async def _offer(
    url: str,
    headers: dict[str, str],
    bodies: list[bytes],
    rate: float,
    timeout: float,
    connections: int,
    on_case: Any,
    tag: str,
) -> tuple[list[Outcome], float, float]:
    import aiohttp

    outcomes = [Outcome(math.nan) for _ in bodies]
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)
    ) as session:

        async def one(i: int) -> None:
            outcome = outcomes[i]
            request_headers = {**headers, "Idempotency-Key": f"{tag}-{i}"}
            try:
                async with session.post(url, data=bodies[i], headers=request_headers) as answer:
                    payload = await answer.read()
                    outcome.done = time.monotonic()
                    outcome.status = str(answer.status)
                    if answer.status == 201:
                        case_id = json.loads(payload).get("case_id")
                        outcome.case_id = case_id
                        if case_id:
                            ACKNOWLEDGED[0] += 1
                            on_case(case_id)
            except TimeoutError:
                outcome.done, outcome.status = time.monotonic(), "timeout"
            except aiohttp.ClientConnectorError:
                outcome.done, outcome.status = time.monotonic(), "refused"
            except aiohttp.ClientError as error:
                outcome.done, outcome.status = time.monotonic(), type(error).__name__

        tasks = []
        start = time.monotonic() + 0.05
        for i in range(len(bodies)):
            at = start + i / rate
            outcomes[i].scheduled = at
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        end = start + len(bodies) / rate
        await asyncio.gather(*tasks)
    return outcomes, start, end


# -- the lag poller (its own process) ----------------------------------------------------

POLL_SQL = """
SELECT 0, originator_id::text FROM casework.casework_events
WHERE originator_version = 1 AND originator_id = ANY(%(c)s::uuid[])
UNION ALL
SELECT 1, case_id FROM projections.case_list WHERE case_id = ANY(%(l)s)
UNION ALL
SELECT DISTINCT 2, subject_id FROM projections.timeline_steps WHERE subject_id = ANY(%(t)s)
UNION ALL
SELECT 3, case_id FROM projections.archive_cases WHERE case_id = ANY(%(a)s)
"""


def poller_main(dsn: str, inbox: Any, outbox: Any) -> None:
    """Poll the read store for the case ids it is sent; report when each first appeared.

    Messages: a case id (str); ("finish", seconds): stop when every id was seen or after
    ``seconds``, then put ``(seen, stats)`` on ``outbox``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent ends it
    pending: list[set[str]] = [set() for _ in STAGES]
    seen: list[dict[str, float]] = [{} for _ in STAGES]
    finish_by: float | None = None
    queries, query_seconds = 0, 0.0
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            try:
                while True:
                    message = inbox.get_nowait()
                    if isinstance(message, tuple):
                        finish_by = time.monotonic() + float(message[1])
                    else:
                        for table in pending:
                            table.add(message)
            except queue.Empty:
                pass
            began = time.monotonic()
            if any(pending):
                rows = conn.execute(
                    POLL_SQL,
                    {
                        "c": list(pending[0]),
                        "l": list(pending[1]),
                        "t": list(pending[2]),
                        "a": list(pending[3]),
                    },
                ).fetchall()
                now = time.monotonic()  # the end of the query: conservative by its duration
                for table, case_id in rows:
                    if case_id in pending[table]:
                        pending[table].discard(case_id)
                        seen[table][case_id] = now
                queries += 1
                query_seconds += now - began
            now = time.monotonic()
            if finish_by is not None and (not any(pending) or now > finish_by):
                break
            took = now - began
            time.sleep(max(POLL_INTERVAL_S - took, 3 * took, 0.0005))
    outbox.put((seen, {"queries": queries, "query_seconds": query_seconds}))


class Poller:
    def __init__(self, dsn: str) -> None:
        context = mp.get_context("spawn")
        self.inbox: Any = context.Queue()
        self.outbox: Any = context.Queue()
        self.process = context.Process(
            target=poller_main, args=(dsn, self.inbox, self.outbox), daemon=True
        )
        self.process.start()

    def add(self, case_id: str) -> None:
        self.inbox.put(case_id)

    def finish(self, seconds: float) -> tuple[list[dict[str, float]], dict[str, float]]:
        self.inbox.put(("finish", seconds))
        try:
            result: tuple[list[dict[str, float]], dict[str, float]] = self.outbox.get(
                timeout=seconds + 60
            )
            return result
        finally:
            self.stop()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout=10)


# -- the Kafka round trip (baseline of the lag) -------------------------------------------


def kafka_round_trip(
    bootstrap: str, partitions: int, fetch_wait_ms: int, rate: float, seconds: float
) -> list[float]:
    """Seconds from each send to its receipt: a bare producer → consumer at ``rate``."""
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    from tests.support.tansu import create_topics

    topic = f"bench.roundtrip.{uuid.uuid4().hex[:8]}"
    create_topics(bootstrap, [topic], partitions)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, fetch_max_wait_ms=fetch_wait_ms, auto_offset_reset="earliest",
        enable_auto_commit=False,
    )  # fmt: skip
    consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    producer.send(topic, b"warm-up").get(timeout=30)
    n = int(rate * seconds)
    sent: dict[int, float] = {}
    lags: list[float] = []
    done = threading.Event()

    def consume() -> None:
        while len(lags) < n and not done.is_set():
            for records in consumer.poll(timeout_ms=100).values():
                now = time.monotonic()
                for record in records:
                    if record.value != b"warm-up":
                        i = int(record.value[:12])
                        lags.append(now - sent[i])

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    pad = b" " * 600  # about an envelope's size
    start = time.monotonic()
    for i in range(n):
        at = start + i / rate
        delay = at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent[i] = at
        producer.send(topic, b"%012d" % i + pad, key=str(i).encode())
    producer.flush()
    reader.join(timeout=30)
    done.set()
    producer.close()
    consumer.close()
    return lags + [math.inf] * (n - len(lags))


# -- one step -----------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclasses.dataclass
class Offered:
    """What a client saw over one window."""

    rate: float
    outcomes: list[Outcome]
    start: float
    end: float

    @property
    def window(self) -> float:
        return self.end - self.start

    @property
    def accepted(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "201"]

    @property
    def sustained(self) -> float:
        """201s received during the window, per second."""
        return sum(1 for o in self.accepted if o.done <= self.end) / self.window

    @property
    def statuses(self) -> collections.Counter[str]:
        return collections.Counter(o.status for o in self.outcomes)

    @property
    def error_share(self) -> float:
        return 1 - len(self.accepted) / max(1, len(self.outcomes))

    def latency(self, q: float) -> float:
        return percentile([o.done - o.scheduled for o in self.accepted], q)


def offer(
    url: str,
    headers: dict[str, str],
    rate: float,
    seconds: float,
    args: argparse.Namespace,
    tag: str,
    on_case: Any = None,
) -> Offered:
    bodies = report_bodies(int(rate * seconds), tag, seed=zlib.crc32(tag.encode()))
    outcomes, start, end = asyncio.run(
        _offer(
            url,
            headers,
            bodies,
            rate,
            args.timeout,
            args.connections,
            on_case or (lambda case_id: None),
            tag,
        )
    )
    return Offered(rate, outcomes, start, end)


@dataclasses.dataclass
class Step:
    rate: float
    offered: Offered
    bare: Offered | None
    kafka: list[float]
    seen: list[dict[str, float]]
    poll_stats: dict[str, float]
    cpu: dict[str, float]  # % of one core during the window
    machine: float  # % of one core, the whole machine
    without_case: int
    backlog_before: int
    profile: str = ""
    max_errors: float = 0.01  # a larger share of non-201 answers: no latency or lag figure
    drain: float = 60.0  # seconds the last cases were waited for

    def lags(self, table: int | None) -> list[float]:
        """Seconds from each 201 (with a case) to its row; ∞ when never seen.
        ``table`` None: the later of timeline and archive (both must show it)."""
        out = []
        for o in self.offered.accepted:
            if not o.case_id:
                continue
            if table is None:
                at = max(
                    self.seen[2].get(o.case_id, math.inf), self.seen[3].get(o.case_id, math.inf)
                )
            else:
                at = self.seen[table].get(o.case_id, math.inf)
            out.append(at - o.done)
        return out

    def tail(self) -> float:
        """Seconds from the last scheduled submission to the last case seen (both tables)."""
        with_case = [o for o in self.offered.accepted if o.case_id]
        last = [lag + o.done for lag, o in zip(self.lags(None), with_case, strict=True)]
        return max(last, default=math.nan) - self.offered.end

    @property
    def refused(self) -> bool:
        return self.offered.error_share > self.max_errors


def py_spy_top(raw: Path, top: int = 20, seconds: float = 0.0, rate: int = 100) -> str:
    """The threads of a ``py-spy record --threads --format raw`` profile that run Jiandu
    code, each with its top frames: own time, and time including callees, as a share of
    that thread's samples (with ``--idle`` a thread's samples are its wall clock)."""
    own: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    inclusive: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    totals: collections.Counter[str] = collections.Counter()
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = next((f for f in frames if f.startswith("thread ")), "(all threads)")
        frames = [
            f
            for f in frames
            if not f.startswith(("process ", "thread ")) and "(services/cli/" not in f
        ]
        totals[thread] += count
        if frames:
            own[thread][frames[-1]] += count
        for frame in set(frames):
            inclusive[thread][frame] += count
    total = sum(totals.values())
    if not total:
        return "(no samples)"
    working = sorted(
        (t for t in totals if any("(services/" in f for f in inclusive[t])),
        key=lambda t: -max(n for f, n in inclusive[t].items() if "(services/" in f),
    )[:3]
    lines = [f"{total} samples in {len(totals)} threads; the threads running Jiandu code:"]
    for thread in working:
        n_thread = totals[thread]
        lines.append(f"- {thread}: {n_thread} samples; top by own time:")
        lines += [
            f"    {100 * n / n_thread:5.1f}%  {frame}" for frame, n in own[thread].most_common(10)
        ]
        lines.append("  including callees (Jiandu, eventsourcing, drivers):")
        chosen = [
            (f, n)
            for f, n in inclusive[thread].most_common()
            if any(m in f for m in FRAMES_OF_INTEREST)
        ]
        lines += [f"    {100 * n / n_thread:5.1f}%  {frame}" for frame, n in chosen[:top]]
    if len(totals) > 1 and seconds:
        # Over every thread: how many threads, on average, were inside each frame (a lock
        # held in turn by many worker threads shows here, not in one thread's share).
        merged: collections.Counter[str] = collections.Counter()
        for counter in inclusive.values():
            merged.update(counter)
        lines.append("- all threads: average number of threads inside each frame")
        chosen = [
            (f, n) for f, n in merged.most_common() if any(m in f for m in FRAMES_OF_INTEREST)
        ]
        lines += [f"    {n / (rate * seconds):5.2f}  {frame}" for frame, n in chosen[:top]]
    return "\n".join(lines)


# Frames worth naming in a profile's inclusive list (not the thread, loop and CLI plumbing).
FRAMES_OF_INTEREST = (
    "(services/", "(schemas/", "(eventsourcing/", "(psycopg", "(kafka/", "(faust/", "(aiokafka/",
    "(mode/", "(pydantic", "(argon2", "(fastapi/routing", "(starlette/",
)  # fmt: skip


def py_spy(
    system: System, targets: list[str], duration: int, idle: bool, workdir: Path
) -> list[str]:
    """``py-spy record`` of each target process at once for ``duration`` s; their top frames."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        return ["--profile needs py-spy: .venv/bin/pip install py-spy"]
    running = []
    for name in dict.fromkeys(targets):
        pid = system.processes[name].proc.pid
        out = workdir / f"py-spy-{name}.txt"
        command = [spy, "record", "--pid", str(pid), "--duration", str(duration), "--rate", "100",
                   "--nonblocking", "--nolineno", "--threads", "--format", "raw", "--output", str(out)]  # fmt: skip
        if idle:
            command.append("--idle")
        running.append((name, pid, out, subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )))  # fmt: skip
    texts = []
    for name, pid, out, proc in running:
        output, _ = proc.communicate(timeout=duration + 60)
        what = "wall clock (--idle)" if idle else "on CPU"
        if proc.returncode == 0 and out.exists():
            texts.append(
                f"py-spy of {name} (pid {pid}, {duration} s, {what})\n{py_spy_top(out, seconds=duration)}"
            )
        else:
            texts.append(f"py-spy could not profile {name}: {output[-800:]}")
    return texts


def run_step(
    system: System,
    bare: Bare | None,
    rate: float,
    args: argparse.Namespace,
    index: int,
    profile: bool,
    workdir: Path,
) -> Step:
    headers = {"Authorization": f"Bearer {system.token}", "Content-Type": "application/json"}
    bare_offered = None
    if bare is not None:
        bare_offered = offer(
            f"{bare.url}/api/v1/reports",
            {"Content-Type": "application/json"},
            rate,
            args.seconds,
            args,
            f"bare{index}",
        )
    fetch_wait = int(system.env.get("JIANDU_KAFKA_FETCH_MAX_WAIT_MS", "20"))
    kafka = (
        kafka_round_trip(
            system.broker.bootstrap, system.partitions, fetch_wait, rate, min(args.seconds, 10)
        )
        if not args.no_baseline
        else []
    )
    system.check_alive()
    backlog = backlog_cases(system.dsn)
    poller = Poller(system.dsn)
    roots = system.pids()
    roots[CLIENT] = [os.getpid()]
    roots["lag poller"] = [poller.process.pid or 0]
    sampled: dict[str, Any] = {}
    profile_text: list[str] = []
    stop_watch = threading.Event()

    def watch() -> None:
        """CPU over the window; the busiest process profiled when asked."""
        time.sleep(0.05)
        sampled["before"], sampled["machine_before"], sampled["t0"] = (
            cpu_seconds(roots), machine_busy_seconds(), time.monotonic(),
        )  # fmt: skip
        if profile and args.seconds > 6:
            stop_watch.wait(2.0)
            now = cpu_seconds(roots)
            targets = [t.strip() for t in args.profile.split(",") if t.strip()]
            if "busiest" in targets:
                busiest = max(PROCESSES, key=lambda n: now.get(n, 0) - sampled["before"].get(n, 0))
                targets = [busiest if t == "busiest" else t for t in targets]
            profile_text.extend(
                py_spy(system, targets, max(2, int(args.seconds - 3)), args.idle, workdir)
            )
        stop_watch.wait(args.seconds + 0.05 - (time.monotonic() - sampled["t0"]))
        sampled["after"], sampled["machine_after"], sampled["t1"] = (
            cpu_seconds(roots), machine_busy_seconds(), time.monotonic(),
        )  # fmt: skip

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    offered = offer(
        f"{system.url('intake-api')}/api/v1/reports",
        headers,
        rate,
        args.seconds,
        args,
        f"run{index}-{uuid.uuid4().hex[:6]}",
        on_case=poller.add,
    )
    watcher.join(timeout=120)
    stop_watch.set()
    system.check_alive()
    seen, poll_stats = poller.finish(args.drain)
    system.check_alive()
    span = sampled["t1"] - sampled["t0"]
    cpu = {
        n: 100 * (sampled["after"][n] - sampled["before"].get(n, 0)) / span
        for n in sampled["after"]
    }
    machine = 100 * (sampled["machine_after"] - sampled["machine_before"]) / span
    without_case = sum(1 for o in offered.accepted if not o.case_id)
    return Step(
        rate,
        offered,
        bare_offered,
        kafka,
        seen,
        poll_stats,
        cpu,
        machine,
        without_case,
        backlog,
        "\n".join(profile_text),
        max_errors=args.max_errors,
        drain=args.drain,
    )


def backlog_cases(dsn: str) -> int:
    """Cases acknowledged so far that the case list does not show yet (an earlier step's
    backlog still flowing); the case list holds nothing but this run's cases."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM projections.case_list").fetchone()
    return ACKNOWLEDGED[0] - (int(row[0]) if row else 0)


def warm_up(system: System, args: argparse.Namespace) -> None:
    """A few reports through the whole pipeline: consumer groups joined, caches warm."""
    poller = Poller(system.dsn)
    try:
        offered = offer(
            f"{system.url('intake-api')}/api/v1/reports",
            {"Authorization": f"Bearer {system.token}", "Content-Type": "application/json"},
            5.0,
            2.0,
            args,
            f"warm-{uuid.uuid4().hex[:6]}",
            on_case=poller.add,
        )
        statuses = offered.statuses
        if statuses != {"201": len(offered.outcomes)}:
            raise RuntimeError(f"warm-up submissions failed: {dict(statuses)}")
        if any(not o.case_id for o in offered.accepted):
            raise RuntimeError("a 201 without a case: is the auto-accept policy on?")
        seen, _ = poller.finish(HEALTHY_TIMEOUT_S)
        missing = len(offered.accepted) - min(len(s) for s in seen)
        if missing:
            raise RuntimeError(f"{missing} warm-up cases never reached the read models")
    finally:
        poller.stop()


# -- printing ---------------------------------------------------------------------------


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    if math.isinf(seconds):
        return "∞"
    return f"{seconds * 1000:,.0f}" if seconds >= 0.1 else f"{seconds * 1000:.1f}"


def print_step(step: Step) -> None:
    o = step.offered
    print(
        f"\n=== offered {step.rate:g} reports/s for {o.window:.1f} s ({len(o.outcomes)} requests)"
    )
    if step.backlog_before:
        print(
            f"  WARNING: {step.backlog_before} cases of an earlier step were still flowing at the start"
        )
    statuses = ", ".join(f"{k}×{v}" for k, v in sorted(o.statuses.items()))
    print(
        f"  answers: {statuses}; errors {o.error_share:.1%}"
        + (f"; {step.without_case} 201s without a case" if step.without_case else "")
    )
    if step.bare is not None:
        b = step.bare
        print(
            f"  sustained {o.sustained:.1f}/s (bare HTTP+commit {b.sustained:.1f}/s); "
            f"201 p50 {ms(o.latency(0.5))} / p99 {ms(o.latency(0.99))} ms "
            f"(bare {ms(b.latency(0.5))} / {ms(b.latency(0.99))} ms; bare answers "
            + ", ".join(f"{k}×{v}" for k, v in sorted(b.statuses.items()))
            + ")"
        )
    else:
        print(
            f"  sustained {o.sustained:.1f}/s; 201 p50 {ms(o.latency(0.5))} / p99 {ms(o.latency(0.99))} ms"
        )
    if step.refused:
        print(
            f"  REFUSED: {o.error_share:.1%} errors > {step.max_errors:.1%}: no latency or lag figure"
        )
    names = [*STAGES, "timeline+archive"]
    for i, name in enumerate(names):
        lags = step.lags(i if i < len(STAGES) else None)
        if not lags:
            continue
        within = sum(1 for x in lags if x <= 0.1) / len(lags)
        missing = sum(1 for x in lags if math.isinf(x))
        print(
            f"  lag 201 → {name:<17} p50 {ms(percentile(lags, 0.5)):>7} p99 {ms(percentile(lags, 0.99)):>7} "
            f"max {ms(max(lags)):>7} ms; within 100 ms {within:6.1%}"
            + (f"; {missing} not seen within {step.drain:g} s" if missing else "")
        )
    rates = []
    for name, seen in zip(STAGES, step.seen, strict=True):
        times = sorted(seen.values())
        if len(times) > 10 and times[-1] > times[0]:
            rates.append(f"{name} {(len(times) - 1) / (times[-1] - times[0]):.0f}/s")
    if rates:
        # With a backlog this is the stage's capacity; without, it is the offered rate.
        print("  cases through each stage, first to last seen: " + ", ".join(rates))
    if step.kafka:
        print(
            f"  baseline Kafka round trip (one hop): p50 {ms(percentile(step.kafka, 0.5))} p99 {ms(percentile(step.kafka, 0.99))} ms"
        )
    print(
        f"  tail: the last case appeared {ms(step.tail())} ms after the last scheduled submission"
    )
    print(
        f"  lag poller: {step.poll_stats.get('queries', 0):.0f} queries, {step.poll_stats.get('query_seconds', 0):.1f} s in them"
    )
    ours = sum(step.cpu.values())
    print(f"  CPU during the window (% of one core; the machine has {os.cpu_count()} cores):")
    for name, value in sorted(step.cpu.items(), key=lambda kv: -kv[1]):
        print(f"    {name:<20} {value:6.1f}%")
    print(f"    {'(all of the above)':<20} {ours:6.1f}%")
    print(
        f"    {'(rest of the machine)':<20} {max(0.0, step.machine - ours):6.1f}%  ← other work on this host"
    )
    if step.profile:
        print("\n" + step.profile)


def figures(steps: list[Step]) -> list[Figure]:
    out = []
    top = max(steps, key=lambda s: s.rate)
    bare_name = "bare FastAPI + 1 durable INSERT, same client"
    out.append(
        Figure(
            "e2e",
            f"sustained accepted rate, offered {top.rate:g}/s",
            top.offered.sustained,
            "reports/s",
            baseline=top.bare.sustained if top.bare else None,
            baseline_name=bare_name,
            goal=">=300",
        )
    )
    for step in steps:
        refused = step.refused
        for q, label in ((0.5, "p50"), (0.99, "p99")):
            value = math.inf if refused else step.offered.latency(q) * 1000
            out.append(
                Figure(
                    "e2e",
                    f"201 {label} at {step.rate:g}/s",
                    value,
                    "ms",
                    baseline=step.bare.latency(q) * 1000 if step.bare else None,
                    baseline_name=bare_name,
                    higher_is_better=False,
                )
            )
        lags = step.lags(None)
        for q, label in ((0.5, "p50"), (0.99, "p99")):
            value = math.inf if refused or not lags else percentile(lags, q) * 1000
            goal = LAG_GOALS.get(int(step.rate), "") if label == "p99" else ""
            out.append(
                Figure(
                    "e2e",
                    f"lag 201 → timeline+archive {label} at {step.rate:g}/s",
                    value,
                    "ms",
                    baseline=percentile(step.kafka, q) * 1000 if step.kafka else None,
                    baseline_name="bare Kafka produce→consume, one hop",
                    goal=goal,
                    higher_is_better=False,
                )
            )
    return out


# -- main ---------------------------------------------------------------------------------


def main() -> None:  # noqa: PLR0915 - one straight script
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="100,300", help="offered reports/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="window per rate")
    parser.add_argument("--quick", action="store_true", help="one rate (100/s), 10 s: a smoke run")
    parser.add_argument(
        "--drain", type=float, default=60.0, help="seconds to wait for the last cases"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="client timeout per request (s)"
    )
    parser.add_argument("--connections", type=int, default=256, help="client connections at most")
    parser.add_argument("--max-errors", type=float, default=0.01, help="non-201 share refused")
    parser.add_argument("--partitions", type=int, default=6, help="partitions per topic")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the bare HTTP and Kafka baselines"
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="busiest",
        default=None,
        metavar="NAMES",
        help="py-spy these processes (comma-separated; default: the busiest) at the highest rate",
    )
    parser.add_argument(
        "--idle", action="store_true", help="profile wall-clock time (waits too), not CPU alone"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="JIANDU_X=V",
        help="a setting for every process",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (process logs)")
    args = parser.parse_args()
    if args.quick:
        args.rates, args.seconds = "100", 10.0
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    extra_env = dict(item.split("=", 1) for item in args.env)

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    workdir = Path(tempfile.mkdtemp(prefix="jiandu-bench-e2e-"))
    system = System(workdir, args.partitions, extra_env)
    bare: Bare | None = None
    steps: list[Step] = []
    started = time.monotonic()
    failed = True
    try:
        system.start()
        if not args.no_baseline:
            bare = Bare(system.dsn, workdir)
            bare.start()
        warm_up(system, args)
        for index, rate in enumerate(rates):
            profile = bool(args.profile) and rate == max(rates)
            steps.append(run_step(system, bare, rate, args, index, profile, workdir))
            print_step(steps[-1])
        failed = False
    except ProcessDied as error:
        print(f"\nABORTED: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
    finally:
        if bare is not None:
            bare.stop()
        system.stop()
        if args.keep or failed:
            print(f"process logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if not steps:
        sys.exit(1)
    print(
        f"\nend to end over HTTP: {system.described}; Tansu, {args.partitions} partitions; "
        f"settings {extra_env or 'defaults'} (+ fetch wait 20 ms unless set); "
        f"{os.cpu_count()} CPUs shared with other work; total {time.monotonic() - started:.0f} s"
    )
    emit(figures(steps))
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-bare":
        serve_bare(int(sys.argv[2]), sys.argv[3])
    else:
        main()
