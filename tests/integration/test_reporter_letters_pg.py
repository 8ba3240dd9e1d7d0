"""Letters to real-name reporters on a real PostgreSQL (decision 0037): many operators issuing
at once take unique, gap-free numbers from intake's register; a letter is saved with its
report or not at all; asked again, the same letter; nothing of the reporter in the store's
events.
"""

from __future__ import annotations

import threading
from pathlib import Path
from uuid import UUID

import pytest

from schemas.commands import Accept
from schemas.events import Actor
from schemas.glossary import DocumentKind, Role
from services.bootstrap import build_intake
from services.intake.base import ConcurrentTriage
from tests.integration.helpers import hotline_report, pg_settings

pytestmark = pytest.mark.integration

OPERATOR = {"id": "op-1", "role": Role.OPERATOR.value}
K = DocumentKind.ACCEPTANCE_LETTER
WORKERS, EACH = 8, 6


def test_concurrent_letters_take_unique_gap_free_numbers(pg_dsn: str, tmp_path: Path) -> None:
    """Two intake applications on one database (two intake-api processes), four operators on
    each: within a process they take turns, between processes the register conflicts and the
    loser is tried again."""
    intake = build_intake(pg_settings(pg_dsn, tmp_path))
    other = build_intake(pg_settings(pg_dsn, tmp_path))
    try:
        reports = [
            UUID(intake.submit(hotline_report(i), idempotency_key=f"letter-{i}").report_id)
            for i in range(WORKERS * EACH)
        ]
        for report_id in reports:  # only a report accepted into a case is told so (受理)
            if intake.get_report(report_id).case_id is None:
                intake.triage(report_id, "accept", Accept(), Actor(**OPERATOR))
        numbers: dict[UUID, str] = {}
        conflicts: list[UUID] = []
        lock = threading.Lock()
        barrier = threading.Barrier(WORKERS)

        def issue(worker: int) -> None:
            app = (intake, other)[worker % 2]
            barrier.wait()
            for report_id in reports[worker::WORKERS]:
                try:
                    report, new = app.issue_letter(
                        report_id, K, "acceptance", OPERATOR, feedback=[]
                    )
                except ConcurrentTriage:  # five tries lost to the other process: a 409
                    with lock:
                        conflicts.append(report_id)
                    continue
                assert new
                letter = report.document_of(K, "acceptance")
                assert letter is not None
                with lock:
                    numbers[report_id] = letter["number"]

        threads = [threading.Thread(target=issue, args=(w,)) for w in range(WORKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # A conflict stored nothing: tried again, it gets the next number.
        for report_id in conflicts:
            assert intake.get_report(report_id).issued == []
            report, new = intake.issue_letter(report_id, K, "acceptance", OPERATOR, feedback=[])
            assert new
            numbers[report_id] = report.issued[0]["number"]
        print(f"\n{len(conflicts)} of {len(reports)} issues lost five tries and were retried")

        year = intake.today().year
        assert sorted(numbers.values(), key=lambda n: int(n.split("〕")[1][:-1])) == [
            f"组受告〔{year}〕{n}号" for n in range(1, len(reports) + 1)
        ]
        taken = intake.letter_register(K, year).taken
        assert [t["n"] for t in taken] == list(range(1, len(reports) + 1))
        assert {t["owner_id"]: t["number"] for t in taken} == numbers
        # Asked again: the same letter, nothing stored.
        before = intake.recorder.max_notification_id()
        report, new = intake.issue_letter(reports[0], K, "acceptance", OPERATOR, feedback=[])
        assert not new
        assert report.issued[0]["number"] == numbers[reports[0]]
        assert intake.recorder.max_notification_id() == before
        # The reporter's identity is in the vault, not in any stored event.
        stored = intake.recorder.select_notifications(start=1, limit=100_000)
        assert stored
        assert not any("赵六".encode() in n.state or b"13912345678" in n.state for n in stored)
    finally:
        other.close()
        intake.close()
