"""Issuing the letters to a real-name reporter (decision 0037): numbered in intake's own
register, saved with the report in one transaction.

Issues in one process take turns (a lock: a clerk's action, not a hot path); two processes
issuing at once take the same number from the same register version: one save is refused and
tried again on the reloaded report and register (five times), so numbers stay unique and
gap-free. Asked again for the same step, the letter already issued, and nothing is stored.
Who may issue which letter (the operator the 受理告知书, the case's handler the 反馈意见书) is
the Report's and ``reveal.ReporterLetters``' to say; here, the numbering and the save.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from schemas.glossary import DocumentKind
from schemas.views_cases import ReporterFeedback
from services.common.registers import DocumentRegister, document_register, number_document
from services.intake.base import ConcurrentTriage, IntakeBase, StatedDayRefused
from services.intake.domain import Report

TRIES = 5


class Letters(IntakeBase):
    """The letters command of the intake application."""

    def issue_letter(
        self,
        report_id: UUID,
        kind: DocumentKind,
        about: str,
        actor: dict[str, str],
        *,
        feedback: list[ReporterFeedback],
        issued_on: dt.date | None = None,
    ) -> tuple[Report, bool]:
        """Issue the letter of ``kind`` about ``about``: the report, and whether it is new
        (False: issued before, the same letter). ``feedback``: the feedback given on the
        report's case (the read side's), for a 反馈意见书."""
        for attempt in range(TRIES):
            # One issue at a time in this process (a clerk's action, never a hot path): the
            # register's conflicts left are with another intake process, tried again.
            with self._letters_lock:
                report = self.get_report(report_id)
                if report.document_of(kind, about) is not None:
                    return report, False
                step, step_day = report.letter_step(kind, about, feedback)
                day = issued_on or self.today()
                self._check_issued_on(day, step_day)
                register, common, version = number_document(
                    self.letter_register(kind, day.year), self.config, report.id, about, day
                )
                report.issue_letter(
                    kind,
                    about,
                    number=common["number"],
                    issued_on=day,
                    template_version=version,
                    fields={**common, **step},
                    actor=actor,
                )
                try:
                    self.save(report, register)
                except IntegrityError:
                    if attempt + 1 == TRIES:
                        raise ConcurrentTriage(report_id) from None
                else:
                    return report, True
            # Another process took the number: let it finish its run before trying again.
            time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))  # noqa: S311 (a jitter)
        raise AssertionError  # unreachable

    def letter_register(self, kind: DocumentKind, year: int) -> DocumentRegister:
        """The register of ``kind``'s numbers in ``year``, in intake's store."""
        return document_register(self.repository, kind, year)

    def _check_issued_on(self, day: dt.date, step_day: dt.date) -> None:
        """A letter is dated neither after today nor before the step it documents."""
        today = self.today()
        if day > today:
            raise StatedDayRefused(
                "issued_on",
                f"{day} is in the future (today is {today})",
                f"{day} 晚于今天（{today}）",
            )
        if day < step_day:
            raise StatedDayRefused(
                "issued_on",
                f"{day} is before the step the letter documents ({step_day})",
                f"{day} 早于该文书所对应环节的日期（{step_day}）",
            )
