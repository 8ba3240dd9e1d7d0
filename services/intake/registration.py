"""Registering reports from every channel, idempotently (登记): a submission checked,
its vault rows written, numbered in its year's ledger (by the group committer, decision
0023, or one save at a time), and accepted on registration where the policy says so.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from schemas.events import Actor, ReporterRef
from schemas.glossary import Channel, Role
from schemas.submissions import RealNameReporter, ReportSubmission, SubmissionReceipt
from services.intake.base import IntakeBase, SubmissionRefused
from services.intake.domain import (
    NAMESPACE,
    Ledger,
    Report,
    case_id_for_report,
    format_ledger_number,
    ledger_id_for_year,
    report_id_for_idempotency_key,
)
from services.intake.errors import IdempotencyKeyReused, SubmissionContention
from services.intake.group_commit import Prepared
from services.intake.vault import VaultRow

SUBMISSION_ATTEMPTS = 20
# The summary a sealed report keeps in the log (its content is in the vault).
SEALED_SUMMARY = "（内容已封存：属上级管辖，仅限经办人员按需知悉）"


def staff_actor(channel: Channel) -> Actor:
    # Until accounts exist, the API acts as the intake desk (mailbox: the public form).
    if channel is Channel.MAILBOX:
        return Actor(id="public-mailbox", role=Role.REPORTER)
    return Actor(id="intake-desk", role=Role.OPERATOR)


class Registration(IntakeBase):
    """The submission side of the intake application."""

    def submit(
        self,
        submission: ReportSubmission,
        *,
        idempotency_key: str | None = None,
        actor: Actor | None = None,
        registered_on: dt.date | None = None,
        public: bool = False,
        client: str | None = None,
        import_id: UUID | None = None,
    ) -> SubmissionReceipt:
        """Register one report (and accept it per policy); a retried key returns the first receipt.

        ``registered_on`` is for importing an office's earlier ledger (and the demo data);
        it defaults to today. ``public``: sent by the public, without an account (the
        mailbox): it may set neither ``sealed`` nor ``received_on``. ``client``: the public
        sender's address; an Idempotency-Key is the submitter's own (the account's, or the
        client's), never shared with another submitter. ``import_id``: the report's id in
        an import of an earlier ledger (the demo data), where the importer keeps its own
        stable ids; retrying it returns the first receipt, as a key does.
        """
        today = registered_on or self._today()
        self.check_fields(submission, public=public, today=today)
        actor = actor or staff_actor(submission.channel)
        digest = self.keys.submission_digest(submission)
        report_id = import_id or uuid4()
        legacy_id = None
        if idempotency_key and import_id is None and self._committer is not None and not public:
            report_id = self.keys.report_id_for(f"account:{actor.id}", idempotency_key)
            # A report of this key from before keys were per submitter: looked for in the
            # batch's transaction (one more id in a query it makes anyway), not here.
            legacy_id = report_id_for_idempotency_key(idempotency_key)
        elif idempotency_key and import_id is None:
            report_id = self._report_id_for_key(idempotency_key, actor, public, client)
        reporter_ref = str(uuid5(NAMESPACE, f"reporter-of:{report_id}"))
        item = Prepared(report_id, reporter_ref, submission, digest, actor, today, [], legacy_id)
        if self._committer is None:
            return self._submit_alone(item)
        # Whether the report exists already (a retry) is read in the batch's transaction.
        # Everything slow happens here, in the caller's thread, before joining a batch:
        # the vault's encryption, the argon2 hash (in the pool sized to the cores).
        rows = self._vault_rows(report_id, reporter_ref, submission)
        if self._committer.vault_in_batch:
            item.vault_rows = rows
        else:
            # Before the events: a crash in between leaves only an unreachable vault row.
            self.vault.write_rows(rows)
        self._prepare(item)
        return self._committer.submit(item)

    def _submit_alone(self, item: Prepared) -> SubmissionReceipt:
        """One submission a save, the ledger under optimistic locking: for event stores the
        group commit does not know (neither PostgreSQL nor SQLite)."""
        vault_done = False
        for _ in range(SUBMISSION_ATTEMPTS):
            existing = self._existing(item.report_id)
            if existing is not None:
                return self._answer_report(existing, item.submission)
            if not vault_done:
                # Before the events: a crash in between leaves only an unreachable vault row.
                self.vault.write_rows(
                    self._vault_rows(item.report_id, item.reporter_ref, item.submission)
                )
                vault_done = True
            try:
                # One registration at a time per process: concurrent ones would only
                # conflict on the year's ledger and retry (other processes still may).
                with self._register_lock:
                    return self._register(item)
            except IntegrityError:
                continue  # the ledger moved on, or the same key raced us: look again
        raise SubmissionContention

    def _answer_report(self, existing: Report, submission: ReportSubmission) -> SubmissionReceipt:
        """A retried submission: the first receipt; a key reused for another body: refused."""
        if not self.keys.matches(existing.submission_digest, submission):
            raise IdempotencyKeyReused
        return self.receipt(existing)

    def _answer_existing(self, report_id: UUID, submission: ReportSubmission) -> SubmissionReceipt:
        return self._answer_report(self.get_report(report_id), submission)

    def _report_id_for_key(
        self, idempotency_key: str, actor: Actor, public: bool, client: str | None
    ) -> UUID:
        """The report a submitter's key names. Keys used by staff before keys became per
        submitter (one global id per key) still find their report, for the same account."""
        if public:
            return self.keys.report_id_for(
                self.keys.client_pseudonym(client or "unknown"), idempotency_key
            )
        legacy_id = report_id_for_idempotency_key(idempotency_key)
        # One indexed read (most keys have no legacy report), the report only if there is one.
        legacy = (
            self._existing(legacy_id) if self.recorder.select_events(legacy_id, limit=1) else None
        )
        if legacy is not None and legacy.received_by.get("id") == actor.id:
            return legacy.id
        return self.keys.report_id_for(f"account:{actor.id}", idempotency_key)

    def check_fields(self, submission: ReportSubmission, *, public: bool, today: dt.date) -> None:
        """The public sets no staff field; staff back-date ``received_on`` within the
        configured limit (``received_on_backdate_max_days``), never into the future."""
        if public:
            if submission.sealed:
                raise SubmissionRefused(
                    "sealed",
                    "only staff seal a report (it belongs to the level above); "
                    "the public leaves this field out",
                    "封存由工作人员决定，网上举报不能设置该项",
                )
            if submission.received_on is not None:
                raise SubmissionRefused(
                    "received_on",
                    "the day of receipt of an online report is the day it arrives; "
                    "the public leaves this field out",
                    "网上举报的收件日期即提交当日，不能自行填写",
                )
            return
        received_on = submission.received_on
        if received_on is None:
            return
        if received_on > today:
            raise SubmissionRefused(
                "received_on",
                f"{received_on} is in the future (today is {today})",
                f"收件日期 {received_on} 晚于今天（{today}）",
            )
        limit = self.limits.received_on_backdate_max_days
        if received_on < today - dt.timedelta(days=limit):
            raise SubmissionRefused(
                "received_on",
                f"{received_on} is more than {limit} days before {today}; "
                "older items are entered as an import of an earlier ledger",
                f"收件日期 {received_on} 早于今天 {limit} 天以上，不能补录",
            )

    def _vault_rows(
        self, report_id: UUID, reporter_ref: str, submission: ReportSubmission
    ) -> list[VaultRow]:
        rows = []
        if isinstance(submission.reporter, RealNameReporter):
            rows.append(self.vault.identity_row(reporter_ref, report_id, submission.reporter))
        if submission.sealed:
            rows.append(self.vault.content_row(report_id, submission.summary))
        if submission.channel is Channel.MAILBOX:
            rows.append(self.vault.credentials_row(report_id))
        return rows

    def _received_report(self, item: Prepared) -> Report:
        """The report as received, not yet numbered (its ``Received`` event pending)."""
        submission = item.submission
        reporter = ReporterRef(ref=item.reporter_ref, anonymous=submission.reporter.anonymous)
        return Report(
            id=item.report_id,
            channel=submission.channel.value,
            categories=[cat.value for cat in submission.categories],
            subjects=[s.model_dump() for s in submission.subjects],
            summary=SEALED_SUMMARY if submission.sealed else submission.summary,
            sealed=submission.sealed,
            reporter=reporter.model_dump(),
            referral=submission.referral.model_dump(mode="json") if submission.referral else None,
            received_on=submission.received_on or item.today,
            actor=item.actor.model_dump(mode="json"),
            submission_digest=item.digest,
        )

    def _notice_due(self, report: Report) -> dict[str, Any] | None:
        if not report.real_name:
            return None
        return self.due_in_working_days(report.received_on, self.limits.acceptance_notice)

    def _number_report(
        self,
        report: Report,
        ledger_number: str,
        submission: ReportSubmission,
        actor: Actor,
        today: dt.date,
        notice_due: dict[str, Any] | None,
    ) -> None:
        """Register a received report under its number (登记); accept it per policy."""
        report.register(
            ledger_number,
            actor=actor.model_dump(mode="json"),
            acceptance_notice_due=notice_due,
            registered_on=today,
        )
        if self.policy.accepts_on_registration(submission):
            report.accept(
                case_id_for_report(report.id),
                actor=Actor(id="intake-policy", role=Role.SYSTEM).model_dump(mode="json"),
                reason="属于12380受理范围，登记时按受理规则自动受理",
                accepted_on=today,
            )

    def _prepare(self, item: Prepared) -> None:
        """What a batch needs of a submission, made by its caller (outside the batch): the
        ``Received`` event, encoded, and the acceptance-notice deadline."""
        report = self._received_report(item)
        item.notice_due = self._notice_due(report)
        (item.received,) = report.collect_events()
        item.received_stored = self.mapper.to_stored_event(item.received)

    def _registered_report(self, item: Prepared, sequence: int) -> Report:
        """A batch's report (group commit), numbered ``sequence`` in its year's ledger: the
        received report again (from its event: a retried batch starts afresh), numbered."""
        report: Report = item.received.mutate(None)
        number = format_ledger_number(item.today.year, sequence)
        self._number_report(
            report, number, item.submission, item.actor, item.today, item.notice_due
        )
        return report

    def _register(self, item: Prepared) -> SubmissionReceipt:
        report = self._received_report(item)
        notice_due = self._notice_due(report)
        ledger = self._ledger(item.year)
        self._number_report(
            report,
            ledger.allocate(item.report_id),
            item.submission,
            item.actor,
            item.today,
            notice_due,
        )
        self.save(ledger, report)
        return self.receipt(report)

    def _ledger(self, year: int) -> Ledger:
        try:
            ledger: Ledger = self.repository.get(ledger_id_for_year(year))
        except AggregateNotFoundError:
            return Ledger.open(year)
        return ledger
