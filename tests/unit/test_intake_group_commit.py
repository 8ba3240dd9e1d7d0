"""Group commit at intake in the embedded mode (SQLite; decision 0023): the same rules as on
PostgreSQL (tests/integration/test_intake_group_commit_pg.py)."""

from __future__ import annotations

import threading
from uuid import UUID

import pytest

from schemas.submissions import SubmissionReceipt
from services.intake.application import IntakeApplication
from services.intake.errors import IdempotencyKeyReused
from tests.integration.helpers import hotline_report
from tests.support.ledger import (
    collect_batches_of,
    failing_to_register,
    ledger_audit,
    run_together,
)


def test_the_embedded_intake_commits_in_groups(intake: IntakeApplication) -> None:
    committer = intake._committer
    assert committer is not None
    assert committer.vault_in_batch  # the vault's tables are in intake.sqlite too


def test_concurrent_submitters_get_unique_gap_free_numbers(intake: IntakeApplication) -> None:
    receipts: list[SubmissionReceipt] = []
    lock = threading.Lock()

    def submit(worker: int) -> None:
        for i in range(8):
            receipt = intake.submit(
                hotline_report(worker * 100 + i), idempotency_key=f"{worker}-{i}"
            )
            with lock:
                receipts.append(receipt)

    threads = [threading.Thread(target=submit, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    audit = ledger_audit(intake)
    assert audit["count"] == 64
    assert {UUID(r.report_id): r.ledger_number for r in receipts} == audit["numbers"]


def test_a_bad_submission_in_a_batch_fails_alone(intake: IntakeApplication) -> None:
    committer = intake._committer
    assert committer is not None
    broken = hotline_report(99, summary="这一件在登记时出错")
    with failing_to_register(intake, broken):
        collect_batches_of(5, intake)
        results = run_together(
            [
                lambda: intake.submit(hotline_report(1), idempotency_key="a"),
                lambda: intake.submit(hotline_report(1), idempotency_key="a"),
                lambda: intake.submit(hotline_report(2), idempotency_key="b"),
                lambda: intake.submit(hotline_report(3), idempotency_key="b"),
                lambda: intake.submit(broken, idempotency_key="broken"),
            ]
        )
        assert committer.batches == 1
        a1, a2, b1, b2, bad = results
        assert isinstance(a1, SubmissionReceipt)
        assert a1 == a2
        assert isinstance(bad, RuntimeError)
        assert sorted([type(b1).__name__, type(b2).__name__]) == [
            "IdempotencyKeyReused",
            "SubmissionReceipt",
        ]
        assert ledger_audit(intake)["count"] == 2
        committer.batch_size, committer.batch_wait = 200, 0.0
        with pytest.raises(IdempotencyKeyReused):
            intake.submit(hotline_report(4), idempotency_key="a")
    assert intake.submit(broken, idempotency_key="broken").ledger_number.endswith("000003")
