"""The ``jiandu`` command: the embedded all-in-one and one subcommand per distributed process."""

from __future__ import annotations

import getpass
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from schemas.events import json_schemas, topic_for
from services.common.china_time import china_today
from services.common.settings import Settings

app = typer.Typer(help="Jiandu 监督: cadre-supervision reports and cases.", no_args_is_help=True)

DataOpt = Annotated[Path | None, typer.Option("--data", help="Data folder (default ./var).")]
HostOpt = Annotated[str | None, typer.Option(help="Listen address (JIANDU_HOST).")]
PortOpt = Annotated[int | None, typer.Option(help="Port (JIANDU_PORT).")]


def _settings(**overrides: Any) -> Settings:
    settings = Settings()
    changes = {k: v for k, v in overrides.items() if v is not None}
    if changes:
        settings = settings.model_copy(update=changes)
    configure_logging(settings.log_level)
    return settings


# The Kafka clients' connection chatter (twenty INFO lines for one create-topics): warnings only.
QUIET_LOGGERS = ("kafka", "aiokafka")


def configure_logging(level: str) -> None:
    """Plain lines for the processes' own logs; the access log (``jiandu.access``) is one
    JSON object a line, with its time; the Kafka clients say only what is wrong."""
    from services.common.access_log import ACCESS_LOGGER, JsonLineFormatter

    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    access = logging.getLogger(ACCESS_LOGGER)
    if not access.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonLineFormatter())
        access.addHandler(handler)
        access.propagate = False


def _distributed(settings: Settings) -> Settings:
    """The distributed processes refuse to fall back to SQLite silently."""
    if not settings.distributed:
        raise typer.BadParameter(
            "this is a distributed-mode process: set JIANDU_DATABASE_URL (PostgreSQL) "
            "and JIANDU_KAFKA_BOOTSTRAP; `jiandu up` is the embedded mode"
        )
    return settings


def _ready(settings: Settings, *, wait: bool) -> Settings:
    """The stores, as this process needs them (docs/decisions/0019). Embedded: migrated
    here, in-process. Distributed: made by `jiandu migrate`; a process waits for it
    (``wait``), a one-shot command refuses without it. A schema newer than this code, or
    another JIANDU_SECRET_KEY than the stores', stops either with a message (exit 1)."""
    from services.migrate import SchemaError, migrate, wait_for_schema

    try:
        if settings.distributed:
            wait_for_schema(settings, wait=wait)
        else:
            migrate(settings)
    except SchemaError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    return settings


def _exit_cleanly_on_sigterm() -> None:
    """After its graceful shutdown uvicorn raises the signal it caught again, with the
    handler it found: the default one would kill the process there, before the command's
    ``finally`` blocks stop its background threads (a casework consumer would not leave
    its Kafka group, and the group would wait a session timeout for it). A handler that
    raises ``SystemExit`` lets them run; the exit status stays 0 for a requested stop."""

    def _exit(*_: object) -> None:
        raise SystemExit(0)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit)


def _serve(web: Any, settings: Settings) -> None:
    _exit_cleanly_on_sigterm()
    uvicorn.run(web, host=settings.host, port=settings.port, log_level="warning", access_log=False)


def _built(build: Callable[[], Any], pause_seconds: float = 2.0) -> Any:
    """``build()``, again and again while the database is away (a blip between the schema
    check and the build): a process starting waits for its database, never exits (0018)."""
    from services.common.unavailable import is_database_unavailable

    while True:
        try:
            return build()
        except Exception as error:
            if not is_database_unavailable(error):
                raise
            logging.getLogger(__name__).warning(
                "the database is away while starting (%s); trying again in %.0fs",
                type(error).__name__,
                pause_seconds,
            )
            time.sleep(pause_seconds)


def _serve_when_ready(settings: Settings, build: Callable[[], Any]) -> None:
    """Serve the app ``build()`` makes, once the schema is ready (docs/decisions/0019).

    Ready at start: built and served at once. Otherwise the port opens at once with a
    placeholder (``/healthz`` and every path: 503 with Retry-After, saying what is awaited)
    while a thread waits for `jiandu migrate`, then builds the app, which takes over. Another
    key or a newer schema: the message, exit 1 (at start, or when found while waiting).
    """
    from services.common.waiting import WaitingApp
    from services.migrate import SchemaError, schema_problems, wait_for_schema

    try:
        problems = schema_problems(settings)
    except SchemaError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    if not problems:
        _serve(_built(build), settings)
        return
    waiting = WaitingApp("; ".join(problems))
    server = uvicorn.Server(
        uvicorn.Config(
            waiting, host=settings.host, port=settings.port, log_level="warning", access_log=False
        )
    )
    failed: list[str] = []

    def prepare() -> None:
        try:
            wait_for_schema(
                settings, on_problems=lambda found: setattr(waiting, "reason", "; ".join(found))
            )
            waiting.app = _built(build)
            logging.getLogger(__name__).warning("schema ready: serving")
        except SchemaError as error:
            failed.append(str(error))
            server.should_exit = True
        except Exception as error:
            logging.getLogger(__name__).exception("could not start")
            failed.append(f"could not start: {error}")
            server.should_exit = True

    threading.Thread(target=prepare, name="wait-for-migrate", daemon=True).start()
    _exit_cleanly_on_sigterm()
    server.run()
    if failed:
        typer.echo(failed[0], err=True)
        raise typer.Exit(1)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@app.command()
def up(
    data: DataOpt = None,
    demo_data: Annotated[
        bool, typer.Option("--demo-data", help="Seed demonstration data.")
    ] = False,
    host: HostOpt = None,
    port: PortOpt = None,
) -> None:
    """Embedded all-in-one: SQLite stores, every service and projection in one process."""
    from services.bootstrap import EmbeddedSystem

    settings = _settings(data_dir=data, host=host, port=port)
    if settings.distributed:
        raise typer.BadParameter("`jiandu up` is the embedded mode; unset JIANDU_DATABASE_URL")
    system = EmbeddedSystem.build(_ready(settings, wait=False))
    if demo_data:
        from services.accounts.demo import demo_password, seed_demo_accounts
        from services.demo import describe, seed

        chosen = settings.demo_password.get_secret_value() if settings.demo_password else None
        password = chosen or demo_password()
        accounts = seed_demo_accounts(system.accounts, password)
        typer.echo(
            "demo accounts (one per role, named after it): "
            + ", ".join(f"{a.username} ({a.role.zh})" for a in accounts)
        )
        typer.echo(
            "demo password: the one in JIANDU_DEMO_PASSWORD"
            if chosen
            else f"demo password for this run (JIANDU_DEMO_PASSWORD sets one): {password}"
        )

        typer.echo("seeding demonstration data (the first run takes a little while)…")
        for line in describe(seed(system)):
            typer.echo(line)
    system.start()
    typer.echo(
        f"Jiandu (embedded) on http://{settings.host}:{settings.port}  data: "
        f"{settings.data_dir.resolve()}  API docs: /docs  — Ctrl-C stops"
    )
    try:
        _serve(system.web_app(), settings)
    finally:
        system.stop()


RoleOpt = Annotated[
    str,
    typer.Option(
        "--role",
        help="operator, handler, leader, liaison, auditor or admin.",
        show_default=False,
    ),
]


@app.command("create-user")
def create_user(
    username: str,
    role: RoleOpt,
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="Name shown (default: the username).")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="Unit (a liaison: their member unit).")] = None,
    section: Annotated[str | None, typer.Option(help="Section within the unit.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    data: DataOpt = None,
) -> None:
    """Create an account (at least 12 characters of password).

    Outside demo data there are no default accounts: this makes the first administrator
    (``jiandu create-user NAME --role admin``).
    """
    from services.accounts.store import AccountError, AccountStore, check_password, check_role
    from services.common.sql import Database

    settings = _ready(_settings(data_dir=data), wait=False)
    try:
        the_role = check_role(role)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        check_password(password, username)
        store = AccountStore(Database.for_service(settings, "accounts"))
        try:
            principal = store.create_user(
                username, password, the_role, display_name or username, unit=unit, section=section
            )
        finally:
            store.close()
    except AccountError as error:
        typer.echo(f"not created: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created {principal.username} ({principal.role.value}, {principal.role.zh})")


@app.command("intake-api")
def intake_api(host: HostOpt = None, port: PortOpt = None) -> None:
    """Distributed: intake's HTTP API (reports, follow-up) and the pages that write intake's
    data (the mailbox, the follow-up, the operators' desk; decision record 0031). Writes to
    the intake event store; reads the case's state and the feedback for a reporter's
    follow-up from the read models."""
    from services.bootstrap import intake_api_app

    settings = _distributed(_settings(host=host, port=port))
    _serve_when_ready(settings, lambda: intake_api_app(settings))


@app.command()
def casework(host: HostOpt = None, port: PortOpt = None) -> None:
    """Distributed: casework's Kafka consumer of intake events, its HTTP API, and the pages
    that write cases (a handler's cases, a case, the approvals; decision record 0031)."""
    from services.bootstrap import (
        build_accounts,
        build_casework,
        build_config,
        build_read_side,
        casework_api_app,
        casework_pages,
    )
    from services.casework.consumer import IntakeEventsConsumer

    settings = _distributed(_settings(host=host, port=port))
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def build() -> Any:
        config = build_config(settings)
        accounts = build_accounts(settings)
        read = build_read_side(settings, config)  # the pages' queries (the worker writes it)
        # Only an active handler is assigned; accusers are looked up in the cadre register.
        work = build_casework(settings, config, accounts=accounts, register=read.register)
        consumer = IntakeEventsConsumer(
            work,
            settings.kafka_bootstrap,
            topic_prefix=settings.kafka_topic_prefix,
            group_id=f"{settings.kafka_topic_prefix}jiandu-casework",
            consumer_settings={
                "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
                "session_timeout_ms": settings.kafka_session_timeout_ms,
                "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
            },
            max_poll_records=settings.casework_max_poll_records,
        )
        thread = threading.Thread(
            target=consumer.run, args=(stop,), name="casework-consumer", daemon=True
        )
        thread.start()
        threads.append(thread)
        return casework_api_app(
            work,
            accounts,
            thread.is_alive,
            consumer.readiness.state,
            page_services=casework_pages(settings, work, read),
        )

    try:
        _serve_when_ready(settings, build)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)


@app.command()
def relay(
    source: Annotated[
        str, typer.Option(help="Which service's log to publish: intake or casework.")
    ],
    host: HostOpt = None,
    port: Annotated[
        int | None, typer.Option(help="Port of /healthz and /metrics (default: no HTTP).")
    ] = None,
) -> None:
    """Distributed: publish a service's event log to Kafka (jiandu.<source>.events)."""
    from services.bootstrap import build_log_reader
    from services.common.readiness import HealthServer
    from services.common.relay import KafkaPublisher, Relay

    if source not in ("intake", "casework"):
        raise typer.BadParameter("--source must be intake or casework")
    settings = _ready(_distributed(_settings(host=host)), wait=True)
    reader = build_log_reader(settings, source)  # type: ignore[arg-type]
    the_relay = Relay(
        reader,
        Relay.tracking_recorder_for(reader),
        lambda: KafkaPublisher(settings.kafka_bootstrap),
        topic_prefix=settings.kafka_topic_prefix,
        batch_size=settings.relay_batch_size,
        poll_seconds=settings.relay_poll_seconds,
    )
    typer.echo(f"relay {source} → {the_relay.topic} from position {the_relay.position}")
    if port is not None:  # the relay's metrics: published, failures, lag (jiandu_relay_*)
        alive = {"status": "ok", "service": f"relay-{source}"}
        HealthServer(settings.host, port, lambda: (200, alive)).start()
    the_relay.run(_stop_on_signals())


@app.command("projections-api")
def projections_api(host: HostOpt = None, port: PortOpt = None) -> None:
    """Distributed: the information base's HTTP API (timelines, cadres, archives)."""
    from services.bootstrap import projections_api_app

    settings = _distributed(_settings(host=host, port=port))
    _serve_when_ready(settings, lambda: projections_api_app(settings))


@app.command()
def web(host: HostOpt = None, port: PortOpt = None) -> None:
    """Distributed: the pages that write neither intake's nor casework's data (sign-in, the
    information base, liaison, the audit, administration) and /static.

    It builds no intake or casework application (decision record 0031): the pages that write
    reports are served by `jiandu intake-api`, those that write cases by `jiandu casework`,
    and the reverse proxy sends each path to its process; the session started here is good
    on theirs (one accounts store, one key).
    """
    from services.bootstrap import web_pages_app

    settings = _distributed(_settings(host=host, port=port))
    _serve_when_ready(settings, lambda: web_pages_app(settings))


@app.command("projections-worker")
def projections_worker(
    host: HostOpt = None,
    port: Annotated[
        int | None,
        typer.Option(help="Port of /healthz and /metrics (JIANDU_PROJECTIONS_WORKER_PORT)."),
    ] = None,
) -> None:
    """Distributed: the Faust worker that projects both topics into the read models."""
    from services.common.readiness import ConsumerReadiness, serve_health
    from services.projections.faust_app import run_worker

    settings = _distributed(_settings(host=host, projections_worker_port=port))
    # /healthz answers (503, catching up) while the worker waits for `jiandu migrate` too.
    readiness = ConsumerReadiness("projections", catch_up=True)
    serve_health(readiness, "projections-worker", settings.host, settings.projections_worker_port)
    run_worker(_ready(settings, wait=True), readiness)


@app.command("rebuild-projections")
def rebuild_projections(data: DataOpt = None) -> None:
    """Drop every read model and rebuild it from both event stores, with a progress bar.

    Either mode. A running projections-worker (or `jiandu up`) need not be stopped: its
    batches wait until the rebuild is done, then skip what the rebuild replayed
    (docs/decisions/0010).
    """
    from services.projections.rebuild import rebuild

    settings = _ready(_settings(data_dir=data), wait=False)
    report = rebuild(settings)
    typer.echo(
        f"rebuilt {', '.join(report.live) or 'nothing'} from "
        + ", ".join(f"{source}: {n} events" for source, n in report.events.items())
    )
    if report.pending:
        typer.echo(f"not finished (reset again meanwhile): {', '.join(report.pending)}", err=True)
        raise typer.Exit(1)


@app.command()
def verify(data: DataOpt = None) -> None:
    """Check the hash chain of every case's events; report the first broken link of each."""
    from services.bootstrap import build_log_reader
    from services.casework.chain import use_key, verify_log

    settings = _ready(_settings(data_dir=data), wait=False)
    use_key(settings.derived_key("case-chain"))
    checked, broken = verify_log(build_log_reader(settings, "casework"))
    for link in broken:
        typer.echo(
            f"BROKEN case {link.aggregate_id} at event {link.version} ({link.topic}): "
            f"{link.reason}",
            err=True,
        )
    if broken:
        typer.echo(f"{len(broken)} of {checked} cases have a broken chain", err=True)
        raise typer.Exit(1)
    typer.echo(f"{checked} cases checked: every chain is intact")


@app.command("intake-redact-digests")
def intake_redact_digests(
    data: DataOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count only; change nothing.")] = False,
) -> None:
    """Replace the unkeyed submission digests of reports received before decision 0013 by
    keyed ones, in intake's stored events (the recorded exception to immutability), and
    clear the old values from the database files. Run it with the services stopped."""
    from services.common.china_time import utc_now
    from services.common.sql import Database
    from services.intake.keyed import IntakeKeys
    from services.intake.migrations import MigrationBusy, redact_unkeyed_digests

    settings = _ready(_settings(data_dir=data), wait=False)
    db = Database.for_service(settings, "intake")
    try:
        run = redact_unkeyed_digests(
            db,
            IntakeKeys(settings.derived_key("submission-digest")),
            now=utc_now(),
            dry_run=dry_run,
        )
    except MigrationBusy as busy:
        typer.echo(str(busy), err=True)
        raise typer.Exit(1) from None
    finally:
        db.close()
    verb = "would be rewritten" if dry_run else "rewritten (recorded in intake_migrations)"
    typer.echo(f"{run.events_changed} Report.Received event(s) with an unkeyed digest {verb}")
    if not dry_run:
        typer.echo(
            "old values removed from the live database files (VACUUM); backups and WAL "
            "archives taken before still hold them"
        )


calendar_app = typer.Typer(help="Official holiday schedules (国务院办公厅节假日安排).")
app.add_typer(calendar_app, name="calendar")


@calendar_app.command("load")
def calendar_load(schedule_file: Path, data: DataOpt = None) -> None:
    """Load a year's official schedule: JSON {year, holidays: [...], makeup_workdays: [...], source}.

    Deadlines counted provisionally for that year are shown recounted at once.
    """
    from pydantic import ValidationError

    from services.bootstrap import build_config
    from services.calendar.deadlines import OfficialSchedule

    try:
        schedule = OfficialSchedule.model_validate_json(schedule_file.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as error:
        typer.echo(f"{schedule_file}: not loaded: {error}", err=True)
        raise typer.Exit(1) from None
    build_config(_ready(_settings(data_dir=data), wait=False)).load_schedule(
        schedule, changed_by=f"cli:{getpass.getuser()}"
    )
    typer.echo(
        f"{schedule.year}: {len(schedule.holidays)} holidays and "
        f"{len(schedule.makeup_workdays)} make-up workdays loaded"
    )


@calendar_app.command("show")
def calendar_show(data: DataOpt = None) -> None:
    """Which calendar each year's deadlines are counted on."""
    from services.bootstrap import build_config

    calendar = build_config(_ready(_settings(data_dir=data), wait=False)).calendar()
    this_year = china_today().year
    for year in range(this_year - 1, this_year + 3):
        basis = calendar.basis(year)
        typer.echo(f"{year}: {basis.value} ({basis.zh})")


@app.command("import-cadres")
def import_cadres(csv_file: Path, data: DataOpt = None) -> None:
    """Import the cadre register from CSV (cadre_id,name,unit,position,management_level)."""
    from services.bootstrap import build_read_side
    from services.projections.cadres import RegisterImportError

    read = build_read_side(_ready(_settings(data_dir=data), wait=False))
    try:
        count = read.register.import_csv(csv_file)
    except (RegisterImportError, OSError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{count} cadres imported")


@app.command("demo")
def demo(
    scale: Annotated[
        int,
        typer.Option(
            "--scale",
            help="Write a history of this many reports (with their cases) in bulk.",
            show_default=False,
        ),
    ],
    today: Annotated[
        str | None,
        typer.Option(help="The history's today (YYYY-MM-DD; default: today, China time)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same history).")] = 12380,
    project: Annotated[
        bool,
        typer.Option(
            "--project/--no-project",
            help="Rebuild the read models afterwards (else: `jiandu rebuild-projections`).",
        ),
    ] = True,
    data: DataOpt = None,
) -> None:
    """A large realistic history for measurements: N reports over several years, cases at
    every stage, written straight into the (empty) event stores of the settings in large
    transactions, then the read models rebuilt. Refuses stores that hold any event.
    See docs/decisions/0027."""
    import datetime as dt

    from services.demo.scale import StoresNotEmpty, generate

    settings = _ready(_settings(data_dir=data), wait=False)
    try:
        day = dt.date.fromisoformat(today) if today else china_today()
    except ValueError:
        raise typer.BadParameter(f"--today {today!r} is not a date (YYYY-MM-DD)") from None
    try:
        written = generate(
            settings,
            scale,
            today=day,
            seed=seed,
            project=project,
            progress=lambda line: typer.echo(line, err=True),
            show_progress=True,
        )
    except (StoresNotEmpty, ValueError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    for line in written.describe():
        typer.echo(line)


@app.command("migrate")
def migrate_command(data: DataOpt = None) -> None:
    """Create or upgrade every service's schema and tables, then exit (idempotent; safe to
    run several at once). The distributed mode runs it once before the processes (which wait
    for it) and again after each upgrade; it stores the key check value at the first run and
    refuses another JIANDU_SECRET_KEY afterwards. See docs/decisions/0019."""
    from services.common.unavailable import is_database_unavailable
    from services.migrate import SchemaError, migrate

    settings = _settings(data_dir=data)
    try:
        report = migrate(settings)
    except SchemaError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    except Exception as error:
        if not is_database_unavailable(error):
            raise
        typer.echo(f"database unreachable: {str(error).strip()}", err=True)
        raise typer.Exit(1) from None
    for line in report.lines:
        typer.echo(line)
    typer.echo("schema migrated" if report.changed else "schema already up to date")


@app.command("secret-key")
def secret_key(
    write: Annotated[
        Path | None,
        typer.Option(
            "--write",
            help="Env file to put JIANDU_SECRET_KEY= in (created with mode 0600); refused "
            "when it already holds a key.",
        ),
    ] = None,
) -> None:
    """A new JIANDU_SECRET_KEY (base64 of 32 random bytes): printed, or written to an env file.

    Create it once per installation and keep it: every process needs the same key, and
    the stores refuse another one (`jiandu migrate` stores its key check value).
    """
    from services.common.settings import new_secret_key, write_secret_key

    key = new_secret_key()
    if write is None:
        typer.echo(key)
        return
    try:
        write_secret_key(write, key)
    except (FileExistsError, OSError) as error:
        typer.echo(f"{write}: not written: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"JIANDU_SECRET_KEY written to {write} (mode 0600): back this file up")


@app.command("create-topics")
def create_topics() -> None:
    """Create the Kafka topics with JIANDU_KAFKA_PARTITIONS partitions (idempotent)."""
    from services.common.kafka import ensure_topics

    settings = _settings()
    names = [topic_for(s, settings.kafka_topic_prefix) for s in ("intake", "casework")]
    outcome = ensure_topics(
        settings.kafka_bootstrap,
        names,
        settings.kafka_partitions,
        settings.kafka_replication_factor,
    )
    for name in names:
        typer.echo(f"topic {name}: {outcome[name]}")


@app.command("export-schemas")
def export_schemas(folder: Path = Path("schemas/json")) -> None:
    """Write JSON Schema files for the submission and the event contract."""
    from schemas.submissions import ReportSubmission

    folder.mkdir(parents=True, exist_ok=True)
    documents = {"ReportSubmission": ReportSubmission.model_json_schema(), **json_schemas()}
    for name, schema in documents.items():
        (folder / f"{name}.json").write_text(json.dumps(schema, ensure_ascii=False, indent=2))
    typer.echo(f"{len(documents)} schemas written to {folder}")
