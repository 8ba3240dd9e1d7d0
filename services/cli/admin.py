"""The administration and data commands: accounts, schema, keys, topics, the register, the
calendar, rebuilds, checks, the demo."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from schemas.events import json_schemas, topic_for
from services.cli.base import (
    DataOpt,
    app,
    ready,
    settings_with,
)
from services.common.china_time import china_today

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

    settings = ready(settings_with(data_dir=data), wait=False)
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


@app.command("rebuild-projections")
def rebuild_projections(data: DataOpt = None) -> None:
    """Drop every read model and rebuild it from both event stores, with a progress bar.

    Either mode. A running projections-worker (or `jiandu up`) need not be stopped: its
    batches wait until the rebuild is done, then skip what the rebuild replayed
    (docs/decisions/0010).
    """
    from services.projections.rebuild import rebuild

    settings = ready(settings_with(data_dir=data), wait=False)
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
    """Check the hash chain of every case's, selection's and supervision project's events;
    report the first broken link of each."""
    from services.bootstrap import build_log_reader
    from services.casework.chain import chained_kind, use_key, verify_log

    settings = ready(settings_with(data_dir=data), wait=False)
    use_key(settings.derived_key("case-chain"))
    checked, broken = verify_log(build_log_reader(settings, "casework"))
    for link in broken:
        typer.echo(
            f"BROKEN {chained_kind(link.topic)} {link.aggregate_id} at event {link.version} ({link.topic}): "
            f"{link.reason}",
            err=True,
        )
    if broken:
        typer.echo(f"{len(broken)} of {checked} records have a broken chain", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"{checked} records checked (cases, selections, supervision projects): "
        "every chain is intact"
    )


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

    settings = ready(settings_with(data_dir=data), wait=False)
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
    build_config(ready(settings_with(data_dir=data), wait=False)).load_schedule(
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

    calendar = build_config(ready(settings_with(data_dir=data), wait=False)).calendar()
    this_year = china_today().year
    for year in range(this_year - 1, this_year + 3):
        basis = calendar.basis(year)
        typer.echo(f"{year}: {basis.value} ({basis.zh})")


@app.command("import-cadres")
def import_cadres(csv_file: Path, data: DataOpt = None) -> None:
    """Import the cadre register from CSV (cadre_id,name,unit,position,management_level)."""
    from services.bootstrap import build_read_side
    from services.projections.archive.register import RegisterImportError

    read = build_read_side(ready(settings_with(data_dir=data), wait=False))
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

    settings = ready(settings_with(data_dir=data), wait=False)
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

    settings = settings_with(data_dir=data)
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

    settings = settings_with()
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
