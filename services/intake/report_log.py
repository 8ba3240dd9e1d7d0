"""Intake's event store, read only: a report as intake keeps it, for a page served by
another process (the approvals page, in ``jiandu casework``; decision record 0031). It
saves nothing: intake's only writer is the process that owns it."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from schemas.events import Source
from services.common.application import JianduApplication
from services.intake.domain import Report, ReportNotFound


class ReportLog(JianduApplication):
    name = "intake"
    source: ClassVar[Source] = "intake"

    def get_report(self, report_id: UUID) -> Report:
        try:
            report: Report = self.repository.get(report_id)
        except AggregateNotFoundError:
            raise ReportNotFound(report_id) from None
        return report
