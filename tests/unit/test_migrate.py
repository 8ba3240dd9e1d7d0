"""`jiandu migrate` on SQLite: versioned, idempotent, the key check, the start-up check.

The PostgreSQL side (concurrent runs, processes waiting for it, no DDL from a running
process) is in tests/integration/test_migrate_pg.py. See docs/decisions/0019.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services import cli
from services.bootstrap import EmbeddedSystem
from services.common.settings import Settings, write_secret_key
from services.migrate import (
    SERVICES,
    KeyMismatch,
    SchemaNotReady,
    SchemaTooNew,
    check_schema,
    key_check_value,
    migrate,
    read_state,
    schema_version,
    wait_for_schema,
)
from services.projections.store import CATCHING_UP, LIVE
from services.projections.timeline import projection as timeline
from tests.unit.conftest import make_settings


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def sql(settings: Settings, service: str, statement: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(settings.data_dir / f"{service}.sqlite") as conn:
        return conn.execute(statement).fetchall()


def tables(settings: Settings, service: str) -> set[str]:
    rows = sql(settings, service, "SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")
    return {str(r[0]) for r in rows}


def test_migrate_creates_every_table_once_and_then_changes_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, secret_key=new_key())
    assert check_schema(settings) == [
        f"{s} schema version 0, need {schema_version(s)}" for s in SERVICES
    ]

    first = migrate(settings)
    assert first.changed
    assert "reporter_vault" in tables(settings, "intake")
    assert "intake_migrations" in tables(settings, "intake")
    assert {"stored_events", "stored_snapshots", "tracking"} <= tables(settings, "intake")
    assert "config_changes" in tables(settings, "config")
    assert {"accounts", "sensitive_reads_item"} <= tables(settings, "accounts")
    assert {"timeline_steps", "case_reports_report", "cadres", "projection_registry"} <= tables(
        settings, "projections"
    )
    for service in SERVICES:
        state = read_state(settings, service)
        # projections 2 and 3: the indexes of the queries at scale (0027)
        assert state.version == schema_version(service) == (3 if service == "projections" else 1)
        assert state.key_check == key_check_value(settings)
    # New projections are registered for their replay (the worker or `jiandu up` does it).
    registry = dict(sql(settings, "projections", "SELECT name, status FROM projection_registry"))
    assert set(registry.values()) == {CATCHING_UP}
    assert check_schema(settings) == []

    stamps = sql(settings, "intake", "SELECT migrated_at FROM jiandu_schema")
    again = migrate(settings)
    assert not again.changed
    assert sql(settings, "intake", "SELECT migrated_at FROM jiandu_schema") == stamps


def test_the_key_check_value_is_neither_the_key_nor_its_hash(tmp_path: Path) -> None:
    key = new_key()
    settings = make_settings(tmp_path, secret_key=key)
    check = key_check_value(settings)
    raw = base64.b64decode(key)
    assert check not in (key, raw.hex(), hashlib.sha256(raw).hexdigest())
    assert check == key_check_value(make_settings(tmp_path / "other", secret_key=key))
    assert check != key_check_value(make_settings(tmp_path, secret_key=new_key()))


def test_another_key_is_refused_by_migrate_and_by_the_embedded_system(tmp_path: Path) -> None:
    original = make_settings(tmp_path, secret_key=new_key())
    migrate(original)
    other = make_settings(tmp_path, secret_key=new_key())
    with pytest.raises(KeyMismatch) as refused:
        migrate(other)
    message = str(refused.value)
    assert message.startswith(
        "JIANDU_SECRET_KEY does not match the key this installation's stores were written with"
    )
    assert key_check_value(original)[:12] in message
    assert message.endswith("use the original key")
    with pytest.raises(KeyMismatch):
        wait_for_schema(other)
    with pytest.raises(KeyMismatch):
        EmbeddedSystem.build(other)
    # The embedded data folder's own key (var/secret.key) is the one the stores know.
    embedded = make_settings(tmp_path / "embedded")
    EmbeddedSystem.build(embedded).stop()
    (tmp_path / "embedded" / "secret.key").write_text(new_key())
    with pytest.raises(KeyMismatch):
        EmbeddedSystem.build(make_settings(tmp_path / "embedded"))


def test_a_schema_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, secret_key=new_key())
    migrate(settings)
    sql(settings, "casework", "UPDATE jiandu_schema SET version = 7")
    with pytest.raises(SchemaTooNew, match="casework schema is at version 7, newer than"):
        wait_for_schema(settings)
    with pytest.raises(SchemaTooNew):
        migrate(settings)


def test_a_projection_version_change_is_migrated_and_newer_ones_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, secret_key=new_key())
    EmbeddedSystem.build(settings).stop()  # migrated and caught up: every projection live
    registry = dict(sql(settings, "projections", "SELECT name, status FROM projection_registry"))
    assert set(registry.values()) == {LIVE}

    older = timeline.version - 1
    sql(settings, "projections", f"UPDATE projection_registry SET version = {older} "
        "WHERE name = 'timeline'")  # fmt: skip
    assert check_schema(settings) == [
        f"projection timeline at version {older}, need {timeline.version}"
    ]
    report = migrate(settings)
    assert "timeline" in report.lines[-1]
    rows = sql(settings, "projections", "SELECT version, status FROM projection_registry "
               "WHERE name = 'timeline'")  # fmt: skip
    assert rows == [(timeline.version, CATCHING_UP)]
    assert check_schema(settings) == []  # the worker may start: it replays the rows

    sql(settings, "projections", f"UPDATE projection_registry SET version = {timeline.version + 1}"
        " WHERE name = 'timeline'")  # fmt: skip
    with pytest.raises(SchemaTooNew, match="projection timeline is registered at version"):
        check_schema(settings)


def test_a_process_waits_for_migrate_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, secret_key=new_key())
    with pytest.raises(SchemaNotReady, match="run `jiandu migrate`"):
        wait_for_schema(settings, wait=False)
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 3:
            migrate(settings)  # run elsewhere, meanwhile

    with caplog.at_level(logging.WARNING, logger="services.migrate"):
        wait_for_schema(settings, sleep=sleep, poll_seconds=0.01, log_every_seconds=3600)
    assert naps == [0.01] * 3
    waiting = [r.getMessage() for r in caplog.records]
    assert waiting == [  # once per log interval, not at every poll
        "waiting for `jiandu migrate` ("
        + "; ".join(f"{s} schema version 0, need {schema_version(s)}" for s in SERVICES)
        + ")"
    ]


def test_the_cli_migrates_and_refuses_another_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DATABASE_URL", "INTAKE_DATABASE_URL", "CASEWORK_DATABASE_URL",
                 "PROJECTIONS_DATABASE_URL", "CONFIG_DATABASE_URL", "ACCOUNTS_DATABASE_URL"):  # fmt: skip
        monkeypatch.delenv(f"JIANDU_{name}", raising=False)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    monkeypatch.setenv("JIANDU_SECRET_KEY", new_key())
    runner = CliRunner()
    first = runner.invoke(cli.app, ["migrate", "--data", str(data)])
    assert first.exit_code == 0, first.output
    assert "schema migrated" in first.output
    second = runner.invoke(cli.app, ["migrate", "--data", str(data)])
    assert second.exit_code == 0, second.output
    assert "schema already up to date" in second.output

    monkeypatch.setenv("JIANDU_SECRET_KEY", new_key())
    for args in (["migrate"], ["verify"], ["calendar", "show"]):
        refused = runner.invoke(cli.app, [*args, "--data", str(data)])
        assert refused.exit_code == 1, refused.output
        assert "JIANDU_SECRET_KEY does not match" in refused.output


def test_secret_key_is_written_once_into_an_env_file(tmp_path: Path) -> None:
    example = tmp_path / "jiandu.env"
    example.write_text("# the key\nJIANDU_SECRET_KEY=\nJIANDU_LOG_LEVEL=INFO\n")
    example.chmod(0o644)
    runner = CliRunner()
    written = runner.invoke(cli.app, ["secret-key", "--write", str(example)])
    assert written.exit_code == 0, written.output
    lines = example.read_text().splitlines()
    assert lines[0] == "# the key"
    assert lines[2] == "JIANDU_LOG_LEVEL=INFO"
    key = lines[1].removeprefix("JIANDU_SECRET_KEY=")
    assert len(base64.b64decode(key)) == 32
    assert stat.S_IMODE(example.stat().st_mode) == 0o600
    assert key not in written.output

    again = runner.invoke(cli.app, ["secret-key", "--write", str(example)])
    assert again.exit_code == 1
    assert "already sets JIANDU_SECRET_KEY" in again.output
    assert example.read_text().splitlines()[1] == f"JIANDU_SECRET_KEY={key}"

    fresh = tmp_path / "new" / "jiandu.env"
    write_secret_key(fresh, "a-key")
    assert fresh.read_text() == "JIANDU_SECRET_KEY=a-key\n"
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    printed = runner.invoke(cli.app, ["secret-key"])
    assert len(base64.b64decode(printed.output.strip())) == 32


def test_a_waiting_process_answers_503_with_retry_after_until_its_app_is_ready() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from services.common.waiting import WaitingApp

    waiting = WaitingApp("intake schema version 0, need 1")
    with TestClient(waiting) as client:
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.headers["Retry-After"] == "5"
        assert health.json() == {
            "status": "waiting",
            "detail": "waiting for `jiandu migrate` (intake schema version 0, need 1)",
        }
        other = client.post("/api/v1/reports", json={}, headers={"X-Request-ID": "early-1"})
        assert other.status_code == 503
        assert other.headers["content-type"] == "application/problem+json"
        assert other.headers["X-Request-ID"] == "early-1"
        assert other.json()["status"] == 503
        assert other.json()["request_id"] == "early-1"  # as every problem body says

        ready = FastAPI()
        ready.get("/healthz")(lambda: {"status": "ok"})
        waiting.app = ready
        assert client.get("/healthz").json() == {"status": "ok"}


def test_stores_from_before_migrate_are_adopted_without_losing_anything(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, secret_key=new_key())
    system = EmbeddedSystem.build(settings)
    system.stop()
    for service in SERVICES:  # stores written before decision 0019: no version, no key check
        sql(settings, service, "DROP TABLE jiandu_schema")
    before = sql(settings, "projections", "SELECT name, version, status FROM projection_registry")
    assert check_schema(settings) == [
        f"{s} schema version 0, need {schema_version(s)}" for s in SERVICES
    ]

    assert migrate(settings).changed
    assert check_schema(settings) == []
    after = sql(settings, "projections", "SELECT name, version, status FROM projection_registry")
    assert after == before  # live projections are not reset
    assert read_state(settings, "intake").key_check == key_check_value(settings)


def test_migrate_adds_the_query_indexes_to_an_existing_installation(tmp_path: Path) -> None:
    """An installation at projections schema version 1 (before 0027) gets the register's
    candidate key (filled for the rows it has) and the indexes of the queries at scale from
    `jiandu migrate`, and nothing else changes."""
    from schemas.events import candidate_key
    from services.projections.store import QUERY_INDEXES

    settings = make_settings(tmp_path, secret_key=new_key())
    migrate(settings)
    path = settings.data_dir / "projections.sqlite"
    with sqlite3.connect(path) as conn:  # back to version 1: as the previous release left it
        conn.execute("DROP INDEX cadres_candidate_key")
        for statement in QUERY_INDEXES:
            conn.execute(f"DROP INDEX {statement.split(' EXISTS ')[1].split()[0]}")
        conn.execute("ALTER TABLE cadres DROP COLUMN candidate_key")
        conn.execute("INSERT INTO cadres VALUES ('X-1', '王 建国', '某县财政局', '局长', 'other')")
        conn.execute("UPDATE jiandu_schema SET version = 1 WHERE service = 'projections'")
    assert check_schema(settings) == ["projections schema version 1, need 3"]
    report = migrate(settings)
    assert report.changed
    assert check_schema(settings) == []
    names = tables(settings, "projections")
    assert "cadres_candidate_key" in names
    for statement in QUERY_INDEXES:
        assert statement.split(" EXISTS ")[1].split()[0] in names
    rows = sql(settings, "projections", "SELECT candidate_key FROM cadres WHERE cadre_id = 'X-1'")
    assert rows == [(candidate_key("王 建国", "某县财政局"),)]
    assert not migrate(settings).changed


def test_migrate_adds_the_open_deadline_indexes_to_a_version_2_installation(
    tmp_path: Path,
) -> None:
    """Version 3 (0027): the deadline queues' indexes on open and on met deadlines reach an
    installation the previous release left at version 2; its rows are kept."""
    settings = make_settings(tmp_path, secret_key=new_key())
    migrate(settings)
    path = settings.data_dir / "projections.sqlite"
    with sqlite3.connect(path) as conn:  # as the previous release left it
        conn.execute("DROP INDEX case_deadlines_open")
        conn.execute("DROP INDEX case_deadlines_met")
        conn.execute(
            "INSERT INTO case_deadlines (subject_id, name, due) VALUES ('c-1', 'feedback', "
            "'2026-12-01')"
        )
        conn.execute("UPDATE jiandu_schema SET version = 2 WHERE service = 'projections'")
    assert check_schema(settings) == ["projections schema version 2, need 3"]
    assert migrate(settings).changed
    assert check_schema(settings) == []
    assert {"case_deadlines_open", "case_deadlines_met"} <= tables(settings, "projections")
    rows = sql(settings, "projections", "SELECT subject_id, name, due FROM case_deadlines")
    assert rows == [("c-1", "feedback", "2026-12-01")]
    assert not migrate(settings).changed
