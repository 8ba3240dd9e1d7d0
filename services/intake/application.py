"""The intake application: register reports from every channel, idempotently."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from schemas.events import Actor, ReporterRef, Source
from schemas.glossary import Channel, Role
from schemas.submissions import RealNameReporter, ReportSubmission, SubmissionReceipt
from services.common.application import JianduApplication
from services.intake.domain import (
    NAMESPACE,
    Ledger,
    Report,
    case_id_for_report,
    ledger_id_for_year,
    report_id_for_idempotency_key,
)
from services.intake.vault import ReporterVault

SUBMISSION_ATTEMPTS = 20


class ReportNotFound(LookupError):
    def __init__(self, report_id: UUID) -> None:
        super().__init__(f"no report {report_id}")


class IdempotencyKeyReused(Exception):
    """The key was used before for a different submission."""

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was already used for a different submission; "
            "use a new key for a new report"
        )


class SubmissionContention(Exception):
    def __init__(self) -> None:
        super().__init__("too many concurrent registrations; retry with the same Idempotency-Key")


@dataclass(frozen=True)
class IntakePolicy:
    auto_accept: bool = True


def submission_digest(submission: ReportSubmission) -> str:
    return hashlib.sha256(submission.model_dump_json().encode()).hexdigest()


def staff_actor(channel: Channel) -> Actor:
    # Until accounts exist, the API acts as the intake desk (mailbox: the public form).
    if channel is Channel.MAILBOX:
        return Actor(id="public-mailbox", role=Role.REPORTER)
    return Actor(id="intake-desk", role=Role.OPERATOR)


class IntakeApplication(JianduApplication):
    name = "intake"
    source: ClassVar[Source] = "intake"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Ledger: 50}

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        vault: ReporterVault,
        policy: IntakePolicy | None = None,
        today: Any = dt.date.today,
    ) -> None:
        super().__init__(env)
        self.vault = vault
        self.policy = policy or IntakePolicy()
        self._today = today

    def submit(
        self,
        submission: ReportSubmission,
        *,
        idempotency_key: str | None = None,
        actor: Actor | None = None,
    ) -> SubmissionReceipt:
        """Register one report (and accept it per policy); a retried key returns the first receipt."""
        digest = submission_digest(submission)
        report_id = report_id_for_idempotency_key(idempotency_key) if idempotency_key else uuid4()
        actor = actor or staff_actor(submission.channel)
        for _ in range(SUBMISSION_ATTEMPTS):
            existing = self._existing(report_id)
            if existing is not None:
                if existing.submission_digest != digest:
                    raise IdempotencyKeyReused
                return self.receipt(existing)
            try:
                return self._register(report_id, submission, digest, actor)
            except IntegrityError:
                continue  # the ledger moved on, or the same key raced us: look again
        raise SubmissionContention

    def _register(
        self, report_id: UUID, submission: ReportSubmission, digest: str, actor: Actor
    ) -> SubmissionReceipt:
        reporter_ref = str(uuid5(NAMESPACE, f"reporter-of:{report_id}"))
        if isinstance(submission.reporter, RealNameReporter):
            self.vault.seal(reporter_ref, report_id, submission.reporter)
        reporter = ReporterRef(ref=reporter_ref, anonymous=submission.reporter.anonymous)
        today = self._today()
        report = Report(
            id=report_id,
            channel=submission.channel.value,
            categories=[c.value for c in submission.categories],
            subjects=[s.model_dump() for s in submission.subjects],
            summary=submission.summary,
            reporter=reporter.model_dump(),
            referral=submission.referral.model_dump(mode="json") if submission.referral else None,
            received_on=submission.received_on or today,
            actor=actor.model_dump(mode="json"),
            submission_digest=digest,
        )
        ledger = self._ledger(today.year)
        report.register(ledger.allocate(report_id), actor=actor.model_dump(mode="json"))
        if self.policy.auto_accept:
            report.accept(
                case_id_for_report(report_id),
                actor=Actor(id="intake-policy", role=Role.SYSTEM).model_dump(mode="json"),
                reason="accepted on registration by the intake policy (JIANDU_AUTO_ACCEPT)",
            )
        if submission.channel is Channel.MAILBOX:
            self.vault.issue_credentials(report_id)
        self.save(ledger, report)
        return self.receipt(report)

    def _ledger(self, year: int) -> Ledger:
        try:
            ledger: Ledger = self.repository.get(ledger_id_for_year(year))
        except AggregateNotFoundError:
            return Ledger.open(year)
        return ledger

    def _existing(self, report_id: UUID) -> Report | None:
        try:
            report: Report = self.repository.get(report_id)
        except AggregateNotFoundError:
            return None
        return report

    def get_report(self, report_id: UUID) -> Report:
        report = self._existing(report_id)
        if report is None:
            raise ReportNotFound(report_id)
        return report

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
