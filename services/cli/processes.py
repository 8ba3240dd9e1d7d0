"""The process commands: ``jiandu up`` (embedded) and one per distributed process."""

from __future__ import annotations

import threading
from typing import Annotated, Any

import typer

from services.cli.base import (
    DataOpt,
    HostOpt,
    PortOpt,
    app,
    distributed_only,
    ready,
    serve,
    serve_when_ready,
    settings_with,
    stop_on_signals,
)


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

    settings = settings_with(data_dir=data, host=host, port=port)
    if settings.distributed:
        raise typer.BadParameter("`jiandu up` is the embedded mode; unset JIANDU_DATABASE_URL")
    system = EmbeddedSystem.build(ready(settings, wait=False))
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
        serve(system.web_app(), settings)
    finally:
        system.stop()


@app.command("intake-api")
def intake_api(host: HostOpt = None, port: PortOpt = None) -> None:
    """Distributed: intake's HTTP API (reports, follow-up) and the pages that write intake's
    data (the mailbox, the follow-up, the operators' desk; decision record 0031). Writes to
    the intake event store; reads the case's state and the feedback for a reporter's
    follow-up from the read models."""
    from services.bootstrap import intake_api_app

    settings = distributed_only(settings_with(host=host, port=port))
    serve_when_ready(settings, lambda: intake_api_app(settings))


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

    settings = distributed_only(settings_with(host=host, port=port))
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def build() -> Any:
        config = build_config(settings)
        accounts = build_accounts(settings)
        read = build_read_side(settings, config)  # the pages' queries (the worker writes it)
        # Only an active handler is assigned; accusers are looked up in the cadre register.
        work = build_casework(
            settings, config, accounts=accounts, register=read.register, replies=read.replies
        )
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
        serve_when_ready(settings, build)
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
    from services.common.kafka_publisher import KafkaPublisher
    from services.common.readiness import HealthServer
    from services.common.relay import Relay

    if source not in ("intake", "casework"):
        raise typer.BadParameter("--source must be intake or casework")
    settings = ready(distributed_only(settings_with(host=host)), wait=True)
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
    the_relay.run(stop_on_signals())


@app.command("projections-api")
def projections_api(host: HostOpt = None, port: PortOpt = None) -> None:
    """Distributed: the information base's HTTP API (timelines, cadres, archives)."""
    from services.bootstrap import projections_api_app

    settings = distributed_only(settings_with(host=host, port=port))
    serve_when_ready(settings, lambda: projections_api_app(settings))


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

    settings = distributed_only(settings_with(host=host, port=port))
    serve_when_ready(settings, lambda: web_pages_app(settings))


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

    settings = distributed_only(settings_with(host=host, projections_worker_port=port))
    # /healthz answers (503, catching up) while the worker waits for `jiandu migrate` too.
    readiness = ConsumerReadiness("projections", catch_up=True)
    serve_health(readiness, "projections-worker", settings.host, settings.projections_worker_port)
    run_worker(ready(settings, wait=True), readiness)
