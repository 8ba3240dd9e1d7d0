"""Checks of intake's ledger for the group-commit tests (decision 0023)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from schemas.submissions import ReportSubmission
from services.intake.application import IntakeApplication
from services.intake.domain import Ledger, Report, format_ledger_number
from services.intake.group_commit import Prepared


def ledger_audit(intake: IntakeApplication) -> dict[str, Any]:
    """Every report and every number as stored; fails unless the ledger is whole: numbers
    1..n of each year in the order of the log (of registration), one per report, each
    report received, registered under its number, nothing of a report without the rest."""
    notifications = intake.recorder.select_notifications(start=0, limit=1_000_000)
    allocated: dict[int, list[tuple[int, UUID]]] = {}
    received: set[UUID] = set()
    registered: dict[UUID, str] = {}
    for n in notifications:
        event: Any = intake.mapper.to_domain_event(n)
        if isinstance(event, Ledger.NumberAllocated):
            year = intake.repository.get(event.originator_id).year
            allocated.setdefault(year, []).append((event.sequence, event.report_id))
        elif isinstance(event, Report.Received):
            received.add(event.originator_id)
        elif isinstance(event, Report.Registered):
            registered[event.originator_id] = event.ledger_number
    numbers: dict[UUID, str] = {}
    for year, allocations in allocated.items():
        assert [s for s, _ in allocations] == list(range(1, len(allocations) + 1)), (
            f"the {year} ledger's numbers are not 1..n in the order of the log"
        )
        for sequence, report_id in allocations:
            assert report_id not in numbers, f"report {report_id} numbered twice"
            numbers[report_id] = format_ledger_number(year, sequence)
    assert set(numbers) == received == set(registered), "a report stored without the rest"
    assert numbers == registered, "a report registered under a number not allocated to it"
    return {"numbers": numbers, "count": len(numbers)}


def collect_batches_of(batch_size: int, intake: IntakeApplication) -> None:
    """The next batch waits (however long) until ``batch_size`` submissions are in."""
    committer = intake._committer
    assert committer is not None
    committer.batch_size = batch_size
    committer.batch_wait = 30.0


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once; each one's result, or the exception it raised."""
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as error:
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@contextmanager
def failing_to_register(intake: IntakeApplication, broken: ReportSubmission) -> Iterator[None]:
    """Inside the block, numbering ``broken`` in a batch raises (a fault of ours in the
    middle of a batch); the others are numbered as usual."""
    numbered = intake._registered_report

    def failing(item: Prepared, sequence: int) -> Report:
        if item.submission == broken:
            raise RuntimeError("this submission cannot be registered")
        return numbered(item, sequence)

    intake._registered_report = failing  # type: ignore[method-assign]
    try:
        yield
    finally:
        intake._registered_report = numbered  # type: ignore[method-assign]
