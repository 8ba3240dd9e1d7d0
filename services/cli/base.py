"""The ``jiandu`` command's app, options and what every process command shares: settings,
logging, readiness, serving."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from services.common.heap import settle_heap
from services.common.settings import Settings

app = typer.Typer(help="Jiandu 监督: cadre-supervision reports and cases.", no_args_is_help=True)

DataOpt = Annotated[Path | None, typer.Option("--data", help="Data folder (default ./var).")]
HostOpt = Annotated[str | None, typer.Option(help="Listen address (JIANDU_HOST).")]
PortOpt = Annotated[int | None, typer.Option(help="Port (JIANDU_PORT).")]


def settings_with(**overrides: Any) -> Settings:
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


def distributed_only(settings: Settings) -> Settings:
    """The distributed processes refuse to fall back to SQLite silently."""
    if not settings.distributed:
        raise typer.BadParameter(
            "this is a distributed-mode process: set JIANDU_DATABASE_URL (PostgreSQL) "
            "and JIANDU_KAFKA_BOOTSTRAP; `jiandu up` is the embedded mode"
        )
    return settings


def ready(settings: Settings, *, wait: bool) -> Settings:
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


def exit_cleanly_on_sigterm() -> None:
    """After its graceful shutdown uvicorn raises the signal it caught again, with the
    handler it found: the default one would kill the process there, before the command's
    ``finally`` blocks stop its background threads (a casework consumer would not leave
    its Kafka group, and the group would wait a session timeout for it). A handler that
    raises ``SystemExit`` lets them run; the exit status stays 0 for a requested stop."""

    def _exit(*_: object) -> None:
        raise SystemExit(0)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit)


def serve(web: Any, settings: Settings) -> None:
    exit_cleanly_on_sigterm()
    settle_heap()  # the app is built: its heap is frozen out of the collector's walks
    uvicorn.run(web, host=settings.host, port=settings.port, log_level="warning", access_log=False)


def built(build: Callable[[], Any], pause_seconds: float = 2.0) -> Any:
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


def serve_when_ready(settings: Settings, build: Callable[[], Any]) -> None:
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
        serve(built(build), settings)
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
            waiting.app = built(build)
            settle_heap()
            logging.getLogger(__name__).warning("schema ready: serving")
        except SchemaError as error:
            failed.append(str(error))
            server.should_exit = True
        except Exception as error:
            logging.getLogger(__name__).exception("could not start")
            failed.append(f"could not start: {error}")
            server.should_exit = True

    threading.Thread(target=prepare, name="wait-for-migrate", daemon=True).start()
    exit_cleanly_on_sigterm()
    server.run()
    if failed:
        typer.echo(failed[0], err=True)
        raise typer.Exit(1)


def stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop
