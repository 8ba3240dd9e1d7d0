"""Decision 0013 on a real PostgreSQL: no stored row of any service holds an unkeyed digest
of a reporter's identity; a store written the old way is repaired by the migration."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import psycopg
import pytest

from schemas.submissions import RealNameReporter, ReportSubmission
from services.accounts.policy import TooManyAttempts
from services.accounts.throttle import PublicThrottle
from services.bootstrap import build_accounts, build_intake
from services.common.sql import Database
from services.intake.domain import report_id_for_idempotency_key
from services.intake.errors import IdempotencyKeyReused
from services.intake.keyed import LEGACY_PREFIX, IntakeKeys, unkeyed_submission_digest
from services.intake.migrations import MigrationBusy, migration_runs, redact_unkeyed_digests
from tests.integration.helpers import hotline_report, pg_settings
from tests.support.identity_digests import candidate_digests, digests_found, texts_of

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
IDENTITY = RealNameReporter(name="赵六", phone="13912345678")


def every_cell(dsn: str) -> list[str]:
    """Every cell of every table of every service's schema (bytea decoded)."""
    cells: list[str] = []
    with psycopg.connect(dsn) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('intake', 'casework', 'projections', 'accounts', 'config')"
        ).fetchall()
        assert tables
        for schema, table in tables:
            cells += texts_of(conn.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall())
    return cells


def received_digests(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT state FROM intake.intake_events WHERE topic = %s",
            ("jiandu.intake:Report.Received",),
        ).fetchall()
    return [json.loads(bytes(r[0]))["submission_digest"] for r in rows]


def filenode(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT pg_relation_filenode('intake.intake_events')").fetchone()
    assert row is not None
    return int(row[0])


def test_two_runs_of_the_migration_never_overlap(pg_dsn: str, tmp_path: Path) -> None:
    settings = pg_settings(pg_dsn, tmp_path)
    build_intake(settings).close()  # intake's tables exist
    db = Database.for_service(settings, "intake")
    keys = IntakeKeys(settings.derived_key("submission-digest"))
    try:
        with psycopg.connect(pg_dsn) as other, other.transaction():
            other.execute("SELECT pg_advisory_xact_lock(hashtext('jiandu-intake-redact-digests'))")
            with pytest.raises(MigrationBusy):
                redact_unkeyed_digests(db, keys, now=NOW)
        assert redact_unkeyed_digests(db, keys, now=NOW).events_changed == 0  # free again
    finally:
        db.close()


def reports() -> list[ReportSubmission]:
    return [hotline_report(0), hotline_report(1, received_on=dt.date(2026, 2, 27))]


def test_no_stored_row_holds_an_unkeyed_digest_of_the_reporter(pg_dsn: str, tmp_path: Path) -> None:
    intake = build_intake(pg_settings(pg_dsn, tmp_path))
    intake._today = lambda: dt.date(2026, 3, 2)
    sent = reports()
    for i, one in enumerate(sent):
        intake.submit(one, idempotency_key=f"call-{i}")
    digests = candidate_digests(IDENTITY, *sent)
    assert unkeyed_submission_digest(sent[0]) in digests

    assert digests_found(every_cell(pg_dsn), digests) == set()
    intake.close()


def test_the_migration_repairs_a_store_written_the_old_way(
    pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = pg_settings(pg_dsn, tmp_path)
    intake = build_intake(settings)
    intake._today = lambda: dt.date(2026, 3, 2)
    sent = reports()
    with monkeypatch.context() as patch:
        patch.setattr(intake.keys, "submission_digest", unkeyed_submission_digest)
        first = [
            intake.submit(one, import_id=report_id_for_idempotency_key(f"old-{i}"))
            for i, one in enumerate(sent)
        ]
    digests = candidate_digests(IDENTITY, *sent)
    assert digests_found(every_cell(pg_dsn), digests)  # the old store leaks

    db = Database.for_service(settings, "intake")
    keys = IntakeKeys(settings.derived_key("submission-digest"))
    before = filenode(pg_dsn)
    assert redact_unkeyed_digests(db, keys, now=NOW).events_changed == len(sent)
    # VACUUM FULL rewrote the table: the old row versions (dead tuples) are gone with the
    # old file
    assert filenode(pg_dsn) != before
    assert [r.events_changed for r in migration_runs(db)] == [len(sent)]
    db.close()

    assert digests_found(every_cell(pg_dsn), digests) == set()
    assert all(d.startswith(LEGACY_PREFIX) for d in received_digests(pg_dsn))
    # a fresh process (no cached aggregate) still recognises a retry of an old key
    intake.close()
    again = build_intake(settings)
    again._today = lambda: dt.date(2026, 3, 2)
    assert again.submit(sent[0], idempotency_key="old-0", actor=None) == first[0]
    with pytest.raises(IdempotencyKeyReused):
        again.submit(hotline_report(9), idempotency_key="old-0")
    again.close()


def test_parallel_mailbox_reservations_stop_at_the_limit_on_postgres(
    pg_dsn: str, tmp_path: Path
) -> None:
    """The throttle's reserve-then-work on PostgreSQL (row locks): no more than the day's
    limit get through, and the counter's key is keyed."""
    store = build_accounts(pg_settings(pg_dsn, tmp_path))
    limit = store.public_limits.mailbox_per_day
    start = threading.Barrier(12)
    outcomes: list[str] = []

    def one() -> None:
        start.wait()
        try:
            PublicThrottle(store, "203.0.113.9").reserve_mailbox()
            outcomes.append("through")
        except TooManyAttempts:
            outcomes.append("refused")

    threads = [threading.Thread(target=one) for _ in range(12)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        store.close()
    assert outcomes.count("through") == limit
    assert outcomes.count("refused") == 12 - limit
    assert digests_found(every_cell(pg_dsn), {"203.0.113.9"}) == set()
