"""Group commit at intake on a real PostgreSQL (decision 0023): the hard paths.

Ledger numbers unique, gap-free and in order of registration under many concurrent
submitters and under two intake processes; a kill -9 mid-batch loses nothing acknowledged
and stores nothing half; a killed batch's submissions retried with their keys get one
report each; a bad submission in a batch is answered with its own error.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from schemas.submissions import SubmissionReceipt
from services.bootstrap import build_intake
from services.intake.errors import IdempotencyKeyReused
from tests.integration.helpers import TEST_KEY, hotline_report, pg_settings
from tests.integration.intake_submitter import body
from tests.support.ledger import (
    collect_batches_of,
    failing_to_register,
    ledger_audit,
    run_together,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_many_concurrent_submitters_get_unique_gap_free_numbers(
    pg_dsn: str, tmp_path: Path
) -> None:
    intake = build_intake(pg_settings(pg_dsn, tmp_path))
    committer = intake._committer
    assert committer is not None
    assert committer.vault_in_batch
    receipts: list[SubmissionReceipt] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def submit(worker: int) -> None:
        barrier.wait()
        for i in range(12):
            receipt = intake.submit(body("t", worker * 100 + i), idempotency_key=f"k{worker}-{i}")
            # a retry right away: the same answer, from the store
            assert (
                intake.submit(body("t", worker * 100 + i), idempotency_key=f"k{worker}-{i}")
                == receipt
            )
            with lock:
                receipts.append(receipt)

    threads = [threading.Thread(target=submit, args=(w,)) for w in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(receipts) == 16 * 12
    audit = ledger_audit(intake)
    assert audit["count"] == 16 * 12
    assert {UUID(r.report_id): r.ledger_number for r in receipts} == audit["numbers"]
    assert committer.batch_retries == 0
    # the real-name reporters' identities went into the vault with their reports
    real_name = [r for r in receipts if intake.get_report(UUID(r.report_id)).real_name]
    for r in real_name[:5]:
        _, identity = intake.reveal_identity(UUID(r.report_id))
        assert identity.name == "赵六"
    intake.close()


def test_a_bad_submission_in_a_batch_fails_alone(pg_dsn: str, tmp_path: Path) -> None:
    intake = build_intake(pg_settings(pg_dsn, tmp_path))
    committer = intake._committer
    assert committer is not None
    broken = hotline_report(99, summary="这一件在登记时出错")
    with failing_to_register(intake, broken):
        collect_batches_of(6, intake)
        results = run_together(
            [
                lambda: intake.submit(hotline_report(1), idempotency_key="a"),
                lambda: intake.submit(hotline_report(2), idempotency_key="b"),
                lambda: intake.submit(
                    hotline_report(2), idempotency_key="b"
                ),  # a retry, same batch
                lambda: intake.submit(hotline_report(3), idempotency_key="c"),
                lambda: intake.submit(hotline_report(4), idempotency_key="c"),  # key reused
                lambda: intake.submit(broken, idempotency_key="broken"),
            ]
        )
        assert committer.batches == 1  # all six in one transaction
        a, b1, b2, c1, c2, bad = results
        assert isinstance(a, SubmissionReceipt)
        assert isinstance(b1, SubmissionReceipt)
        assert b1 == b2
        assert isinstance(bad, RuntimeError)
        assert sorted([type(c1).__name__, type(c2).__name__]) == [
            "IdempotencyKeyReused",
            "SubmissionReceipt",
        ]
        audit = ledger_audit(intake)
        assert audit["count"] == 3  # a, b, c: the broken one took no number
        # across batches: the retry gets the same answer, the reused key is still refused
        committer.batch_size, committer.batch_wait = 200, 0.0
        assert intake.submit(hotline_report(2), idempotency_key="b") == b1
        with pytest.raises(IdempotencyKeyReused):
            intake.submit(hotline_report(5), idempotency_key="a")
    fixed = intake.submit(broken, idempotency_key="broken")
    assert fixed.ledger_number.endswith("000004")
    assert ledger_audit(intake)["count"] == 4
    intake.close()


def submitter(dsn: str, data_dir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.intake_submitter",
            dsn,
            str(data_dir),
            "--secret-key",
            TEST_KEY,
            *args,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_two_intake_processes_share_one_gap_free_ledger(pg_dsn: str, tmp_path: Path) -> None:
    settings = pg_settings(pg_dsn, tmp_path)
    procs = [
        submitter(pg_dsn, tmp_path, "--tag", tag, "--count", "60", "--threads", "8")
        for tag in ("one", "two")
    ]
    acknowledged: dict[str, str] = {}
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        result = lines(out)
        assert result[-1] == {"done": True, "batch_retries": 0}
        assert not [r for r in result if r.get("contention")]
        for r in result[:-1]:
            acknowledged[r["report_id"]] = r["number"]
    assert len(acknowledged) == 120
    intake = build_intake(settings)
    audit = ledger_audit(intake)
    assert {str(k): v for k, v in audit["numbers"].items()} == acknowledged
    intake.close()


def test_a_kill_9_mid_batch_loses_nothing_acknowledged_and_stores_nothing_half(
    pg_dsn: str, tmp_path: Path
) -> None:
    settings = pg_settings(pg_dsn, tmp_path)
    marker = tmp_path / "mid-batch"
    proc = submitter(
        pg_dsn,
        tmp_path,
        "--tag",
        "k",
        "--count",
        "80",
        "--threads",
        "8",
        "--hang-at-batch",
        "4",
        "--marker",
        str(marker),
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the submitter never reached its fourth batch"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)  # inside the batch's transaction, rows sent, no commit
    out, _ = proc.communicate(timeout=30)
    acknowledged = {r["i"]: r for r in lines(out) if "report_id" in r}
    assert acknowledged, "nothing was acknowledged before the kill"
    assert len(acknowledged) < 80

    intake = build_intake(settings)
    audit = ledger_audit(intake)  # whole: nothing half-saved, numbers 1..n
    stored = {str(k): v for k, v in audit["numbers"].items()}
    for r in acknowledged.values():  # every acknowledged submission stored, as told
        assert stored[r["report_id"]] == r["number"]
    assert len(stored) == len(acknowledged)  # the killed batch stored nothing

    # Every client retries with its key: the acknowledged get their first receipt, the
    # killed batch's submissions (and those never sent) are registered once, now.
    receipts = run_together(
        [
            lambda i=i: intake.submit(body("k", i), idempotency_key=f"k-{i}")  # type: ignore[misc]
            for i in range(80)
        ]
    )
    for i, receipt in enumerate(receipts):
        assert isinstance(receipt, SubmissionReceipt), receipt
        if i in acknowledged:
            assert receipt.report_id == acknowledged[i]["report_id"]
            assert receipt.ledger_number == acknowledged[i]["number"]
    audit = ledger_audit(intake)
    assert audit["count"] == 80
    intake.close()


def test_a_batch_that_meets_a_stored_report_is_rolled_back_and_retried(
    pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer stored one of the batch's reports after the batch looked (outside its
    locks): the unique violation rolls the whole batch back; the retry answers that report
    as a retry and numbers the rest, gap-free."""
    from services.intake import batch_store

    intake = build_intake(pg_settings(pg_dsn, tmp_path))
    committer = intake._committer
    assert committer is not None
    first = intake.submit(hotline_report(1), idempotency_key="x")
    begin = batch_store.PostgresBatch.begin
    blind = [True]

    def looks_past_it(self: Any, years: Any, report_ids: Any) -> Any:
        last, found = begin(self, years, report_ids)
        if blind[0]:
            blind[0] = False
            return last, set()  # as if "x" were not stored yet
        return last, found

    monkeypatch.setattr(batch_store.PostgresBatch, "begin", looks_past_it)
    collect_batches_of(3, intake)
    again, other, third = run_together(
        [
            lambda: intake.submit(hotline_report(1), idempotency_key="x"),
            lambda: intake.submit(hotline_report(2), idempotency_key="y"),
            lambda: intake.submit(hotline_report(3), idempotency_key="z"),
        ]
    )
    assert committer.batch_retries == 1
    assert again == first
    assert isinstance(other, SubmissionReceipt)
    assert isinstance(third, SubmissionReceipt)
    assert sorted([other.ledger_number[-1], third.ledger_number[-1]]) == ["2", "3"]
    assert ledger_audit(intake)["count"] == 3
    intake.close()
