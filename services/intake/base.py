"""What every part of the intake application shares: its configuration, its clock and
time limits, the reports as stored, their receipts, and the refusals its commands raise.

The application is composed in :mod:`services.intake.application` of this base, the
registration of submissions (:mod:`services.intake.registration`), the triage commands
(:mod:`services.intake.triage`) and the reads of what the vault keeps
(:mod:`services.intake.vault_reads`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from schemas.glossary import CaseState, Category, Channel, ReportStatus
from schemas.submissions import ReportSubmission, SubmissionReceipt
from services.calendar.deadlines import Due, TimeLimits, due_in_working_days
from services.common.application import JianduApplication
from services.common.config import Config
from services.common.procedure import ProcedureError
from services.intake.domain import Report, ReportNotFound
from services.intake.group_commit import GroupCommitter
from services.intake.keyed import IntakeKeys
from services.intake.vault import ReporterVault

# Casework's word on a case: its state, or None when casework knows no such case. Injected by
# the composition root (services/bootstrap.py): the casework application in the embedded
# mode, the read models in the distributed one.
CaseStates = Callable[[UUID], CaseState | None]


@dataclass(frozen=True)
class IntakePolicy:
    """By default every report waits for an operator's triage (受理). With ``auto_accept``,
    reports in the 12380 scope are accepted on registration; reports about other conduct
    (usually referred out) and sealed ones always wait for an operator."""

    auto_accept: bool = False

    def accepts_on_registration(self, submission: ReportSubmission) -> bool:
        return (
            self.auto_accept
            and not submission.sealed
            and Category.OTHER_CONDUCT not in submission.categories
        )


class SubmissionRefused(ValueError):
    """A submission that sets a field its sender may not set, or to a value out of bounds
    (422, naming the field); nothing is stored."""

    def __init__(self, field: str, message: str, message_zh: str) -> None:
        self.field = field
        self.message_zh = message_zh
        super().__init__(f"{field}: {message}")


# The business days a triage command (or a sealed content handover) may state. Each is
# checked in one place, :meth:`IntakeBase.check_stated_days`, for every command.
STATED_DAYS = (
    "accepted_on",
    "forwarded_on",
    "transferred_on",
    "acknowledged_on",
    "referred_on",
    "reported_on",
    "verified_on",
    "sent_on",
    "handed_over_on",
)


class StatedDayRefused(SubmissionRefused):
    """A stated business day out of bounds: after today, or before the report was
    received (422, naming the field); nothing is stored."""


class NoIdentityKept(ProcedureError, LookupError):
    def __init__(self, report_id: UUID) -> None:
        super().__init__(
            f"report {report_id} was made anonymously: no reporter identity is kept",
            "该件为匿名举报，未保存举报人身份信息",
        )


class ConcurrentTriage(ProcedureError):
    def __init__(self, report_id: UUID) -> None:
        super().__init__(
            f"report {report_id} was changed by someone else; reload it and try again",
            "该件已被他人更新，请刷新后重试",
        )


class IntakeBase(JianduApplication):
    """The intake application's state and reads (set up in ``application.py``)."""

    vault: ReporterVault
    keys: IntakeKeys
    case_states: CaseStates | None
    policy: IntakePolicy
    _today: Callable[[], dt.date]
    config: Config
    _register_lock: threading.Lock
    _letters_lock: threading.Lock
    _committer: GroupCommitter | None

    def today(self) -> dt.date:
        return self._today()

    @property
    def limits(self) -> TimeLimits:
        return self.config.limits()

    def due_in_working_days(self, start: dt.date, days: int) -> Due:
        return due_in_working_days(self.config.calendar(), start, days)

    def get_report(self, report_id: UUID) -> Report:
        report = self._existing(report_id)
        if report is None:
            raise ReportNotFound(report_id)
        return report

    @staticmethod
    def in_triage(report: Report) -> bool:
        """Still being triaged: registered and not yet accepted, forwarded, returned..."""
        return report.status in (ReportStatus.REGISTERED, ReportStatus.RETURN_PROPOSED)

    @staticmethod
    def acceptance_notice_pending(report: Report) -> bool:
        return report.acceptance_notice is not None and not report.acceptance_notice.get("met_on")

    def receipt(self, report: Report) -> SubmissionReceipt:
        query_code = password = None
        if report.channel == Channel.MAILBOX.value:
            query_code, password = self.vault.credentials_for(report.id)
        assert report.ledger_number is not None
        return SubmissionReceipt(
            report_id=str(report.id),
            ledger_number=report.ledger_number,
            status=report.status.value,
            case_id=str(report.case_id) if report.case_id else None,
            query_code=query_code,
            password=password,
        )

    def _existing(self, report_id: UUID) -> Report | None:
        try:
            report: Report = self.repository.get(report_id)
        except AggregateNotFoundError:
            return None
        return report

    def check_stated_days(
        self,
        report: Report,
        command: Any,
        *,
        not_before: tuple[dt.date, str, str] | None = None,
    ) -> None:
        """Every business day a command states: never after today (the injected clock's),
        never before the report's day of receipt (nor before ``not_before``: a day, what it
        is, in English and Chinese)."""
        today = self._today()
        earliest = [(report.received_on, "the report was received", "收件日期")]
        if not_before is not None:
            earliest.append(not_before)
        for field in STATED_DAYS:
            day = getattr(command, field, None)
            if not isinstance(day, dt.date):
                continue
            if day > today:
                raise StatedDayRefused(
                    field,
                    f"{day} is in the future (today is {today})",
                    f"{day} 晚于今天（{today}）",
                )
            for bound, what, what_zh in earliest:
                if day < bound:
                    raise StatedDayRefused(
                        field,
                        f"{day} is before the day {what} ({bound})",
                        f"{day} 早于{what_zh}（{bound}）",
                    )
