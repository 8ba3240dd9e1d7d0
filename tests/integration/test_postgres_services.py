"""Intake and casework on a real PostgreSQL: idempotency, gapless numbering, exactly-once."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from services.bootstrap import build_casework, build_intake
from services.intake.errors import IdempotencyKeyReused
from tests.integration.helpers import hotline_report, pg_settings

pytestmark = pytest.mark.integration


def test_a_retried_submission_is_one_report_and_one_case(pg_dsn: str, tmp_path: Path) -> None:
    settings = pg_settings(pg_dsn, tmp_path, auto_accept=True)  # the option: accept at once
    intake, casework = build_intake(settings), build_casework(settings)

    first = intake.submit(hotline_report(), idempotency_key="call-2026-11-22-001")
    again = intake.submit(hotline_report(), idempotency_key="call-2026-11-22-001")
    assert again == first
    with pytest.raises(IdempotencyKeyReused):
        intake.submit(hotline_report(summary="另一件事"), idempotency_key="call-2026-11-22-001")

    envelopes, _ = intake.read_envelopes(0, 100)
    assert [e.event_type for e in envelopes] == [
        "ReportReceived",
        "ReportRegistered",
        "ReportAccepted",
    ]
    for envelope in envelopes + envelopes:  # every event delivered twice
        casework.handle(envelope, upstream="intake#p0")
    assert casework.position("intake#p0") == envelopes[-1].position  # tracked, durably
    case_events, _ = casework.read_envelopes(0, 100)
    assert [e.event_type for e in case_events] == ["CaseOpened"]
    assert str(case_events[0].aggregate_id) == first.case_id


def test_concurrent_registrations_get_gapless_distinct_ledger_numbers(
    pg_dsn: str, tmp_path: Path
) -> None:
    intake = build_intake(pg_settings(pg_dsn, tmp_path))
    numbers: list[str] = []
    lock = threading.Lock()

    def submit(worker: int) -> None:
        for i in range(5):
            receipt = intake.submit(hotline_report(worker * 10 + i))
            with lock:
                numbers.append(receipt.ledger_number)

    threads = [threading.Thread(target=submit, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    year = numbers[0].split("-")[1]
    assert sorted(numbers) == [f"JB-{year}-{n:06d}" for n in range(1, 31)]


def test_reporter_identity_is_stored_only_encrypted(pg_dsn: str, tmp_path: Path) -> None:
    intake = build_intake(pg_settings(pg_dsn, tmp_path))
    intake.submit(hotline_report())
    with psycopg.connect(pg_dsn) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('intake', 'casework', 'projections')"
        ).fetchall()
        assert tables, "the services created no tables"
        for schema, table in tables:
            dump = conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t').fetchall()
            text = " ".join(row[0] for row in dump)
            assert "赵六" not in text, f"{schema}.{table}"
            assert "13912345678" not in text, f"{schema}.{table}"
    assert (
        intake.vault.reveal(intake.read_envelopes(0, 10)[0][0].payload["reporter"]["ref"]).name
        == "赵六"
    )
