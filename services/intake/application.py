"""The intake application: register reports from every channel, idempotently."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from schemas import commands as c
from schemas.events import Actor, ReporterRef, Source
from schemas.glossary import (
    CaseState,
    Category,
    Channel,
    MemberUnit,
    ReportStatus,
    Role,
    SettlementPath,
)
from schemas.sealed_content import HandOverSealedContent, OpenSealedContent
from schemas.submissions import RealNameReporter, ReportSubmission, SubmissionReceipt
from services.calendar.deadlines import Due, TimeLimits, add_calendar_months, due_in_working_days
from services.common.application import JianduApplication
from services.common.china_time import china_today
from services.common.config import Config
from services.common.procedure import ProcedureError
from services.intake.batch_store import supported
from services.intake.domain import (
    NAMESPACE,
    IntakeRuleBroken,
    Ledger,
    Report,
    ReportNotFound,
    case_id_for_report,
    format_ledger_number,
    ledger_id_for_year,
    report_id_for_idempotency_key,
)
from services.intake.errors import IdempotencyKeyReused, SubmissionContention
from services.intake.group_commit import GroupCommitter, Prepared
from services.intake.keyed import IntakeKeys
from services.intake.sealed_export import encrypt_for, key_fingerprint, load_recipient_key
from services.intake.vault import ReporterVault, VaultRow

SUBMISSION_ATTEMPTS = 20

# Casework's word on a case: its state, or None when casework knows no such case. Injected by
# the composition root (services/bootstrap.py): the casework application in the embedded
# mode, the read models in the distributed one.
CaseStates = Callable[[UUID], CaseState | None]
# A report joins a case up to the point its conclusion is proposed (finding 1 of the review):
# later it would be concluded on by nobody. Casework copes with a join arriving later anyway
# (this check reads a read model that may lag): Case.join_report.
JOINABLE_STATES = frozenset(CaseState) - {
    CaseState.CONCLUSION_PROPOSED,
    CaseState.CONCLUDED,
    CaseState.CLOSED,
    CaseState.TRANSFERRED,
}


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
# checked in one place, :meth:`IntakeApplication.check_stated_days`, for every command.
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
        today: Callable[[], dt.date] = china_today,
        config: Config | None = None,
        keys: IntakeKeys | None = None,
        case_states: CaseStates | None = None,
    ) -> None:
        super().__init__(env)
        self.vault = vault
        # Keyed digests (decision 0013); bootstrap passes the key derived for them.
        self.keys = keys or IntakeKeys(vault.derived_key("submission-digest"))
        self.case_states = case_states
        self.policy = policy or IntakePolicy()
        self._today = today
        self.config = config or Config()
        self._register_lock = threading.Lock()
        # Group commit (decision 0023) on PostgreSQL and SQLite; else one save a submission.
        self._committer = GroupCommitter(self) if supported(self.recorder) else None

    def today(self) -> dt.date:
        return self._today()

    @property
    def limits(self) -> TimeLimits:
        return self.config.limits()

    def due_in_working_days(self, start: dt.date, days: int) -> Due:
        return due_in_working_days(self.config.calendar(), start, days)

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

    def _existing(self, report_id: UUID) -> Report | None:
        try:
            report: Report = self.repository.get(report_id)
        except AggregateNotFoundError:
            return None
        return report

    # -- triage (分流) -----------------------------------------------------------------------

    def triage(self, report_id: UUID, action: str, command: c.Command, actor: Actor) -> Report:
        """Run one triage command on a report; a concurrent change is refused, not overwritten."""
        report = self.get_report(report_id)
        if command.expected_version is not None and command.expected_version != report.version:
            raise ConcurrentTriage(report_id)
        self.check_stated_days(report, command)
        TRIAGE_COMMANDS[action][1](self, report, command, actor.model_dump(mode="json"))
        try:
            self.save(report)
        except IntegrityError:
            raise ConcurrentTriage(report_id) from None
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

    def _accept(self, report: Report, cmd: c.Accept, actor: dict[str, str]) -> None:
        on = cmd.accepted_on or self._today()
        if cmd.join_case_id is not None:
            self._require_joinable(cmd.join_case_id)
            report.accept(cmd.join_case_id, actor, cmd.reason, accepted_on=on, joins_case=True)
        else:
            report.accept(case_id_for_report(report.id), actor, cmd.reason, accepted_on=on)

    def _require_joinable(self, case_id: UUID) -> None:
        """并案 joins an open case only, before its conclusion is proposed: an unknown one, or
        one whose conclusion is proposed or approved, closed or transferred, is refused."""
        if self.case_states is None:
            raise IntakeRuleBroken(
                "joining a case needs casework's word on it, and none is configured here",
                "无法查询案件状态，不能并案",
            )
        state = self.case_states(case_id)
        if state is None:
            raise IntakeRuleBroken(
                f"there is no case {case_id} to join (or casework has not opened it yet); "
                "accept the report as a new case or name an open case",
                f"案件 {case_id} 不存在（或尚未立件），不能并案",
            )
        if state not in JOINABLE_STATES:
            raise IntakeRuleBroken(
                f"case {case_id} is {state.value}: a report joins an open case only, before "
                "its conclusion is proposed; accept it as a new case (or reopen the case first)",
                f"案件 {case_id} 当前状态为“{state.zh}”，只能并入尚未提出核查结论的案件",
            )

    def _mark_repeat(self, report: Report, cmd: c.MarkRepeat, actor: dict[str, str]) -> None:
        if cmd.of_report_id == report.id:
            raise IntakeRuleBroken(
                "a report cannot be a repeat of itself: name the earlier report it repeats",
                "举报件不能标记为自身的重复件，须指明所重复的其他举报件",
            )
        original = self.get_report(cmd.of_report_id)
        report.triage_to(
            ReportStatus.REPEAT,
            actor,
            cmd.reason,
            of_report_id=str(original.id),
            of_ledger_number=original.ledger_number,
            of_case_id=str(original.case_id) if original.case_id else None,
        )

    def _forward_up(self, report: Report, cmd: c.ForwardUp, actor: dict[str, str]) -> None:
        on = cmd.forwarded_on or self._today()
        due = self.due_in_working_days(report.received_on, self.limits.forward_up)
        report.triage_to(
            ReportStatus.FORWARDED_UP,
            actor,
            cmd.reason,
            to_authority=cmd.to_authority,
            forwarded_on=on.isoformat(),
            due=due["due"].isoformat(),
            provisional=due["provisional"],
            late=on > due["due"],
        )

    def _transfer_down(self, report: Report, cmd: c.TransferDown, actor: dict[str, str]) -> None:
        on = cmd.transferred_on or self._today()
        due = self.due_in_working_days(on, self.limits.transfer_down_acceptance)
        back = self.due_in_working_days(on, self.limits.transfer_down_report_back)
        report.triage_to(
            ReportStatus.TRANSFERRED_DOWN,
            actor,
            cmd.reason,
            to_unit=cmd.to_unit,
            transferred_on=on.isoformat(),
            acceptance_due=due["due"].isoformat(),
            provisional=due["provisional"],
            report_back_due=back["due"].isoformat(),
            report_back_provisional=back["provisional"],
        )

    def _acknowledge_transfer(
        self, report: Report, cmd: c.AcknowledgeTransfer, actor: dict[str, str]
    ) -> None:
        on = cmd.acknowledged_on or self._today()
        report.triage_to(
            ReportStatus.TRANSFER_ACKNOWLEDGED,
            actor,
            cmd.reason,
            acknowledged_on=on.isoformat(),
            **_report_back(report),
        )

    def _refer_out(self, report: Report, cmd: c.ReferOut, actor: dict[str, str]) -> None:
        on = cmd.referred_on or self._today()
        back = add_calendar_months(on, self.limits.referral_report_back_months)
        report.triage_to(
            ReportStatus.REFERRED_OUT,
            actor,
            cmd.reason,
            member_unit=cmd.member_unit.value,
            referred_on=on.isoformat(),
            report_back_due=back.isoformat(),
        )

    def receiver_result(
        self, path: SettlementPath, receiver: str, cmd: c.ReceiverResult, summary: str = ""
    ) -> dict[str, Any]:
        """The receiver's result as recorded: each handling with its effects from the same
        effects table the office's own handlings use (``Config.effects``)."""
        effects = self.config.effects()
        reported_on = cmd.reported_on or self._today()
        for i, o in enumerate(cmd.outcomes):
            if o.decided_on is not None and o.decided_on > reported_on:
                raise StatedDayRefused(
                    f"outcomes.{i}.decided_on",
                    f"{o.decided_on} is after the day the result was reported ({reported_on})",
                    f"{o.decided_on} 晚于反馈办理结果的日期（{reported_on}）",
                )
        outcomes = [
            {
                "cadre": o.cadre.model_dump(exclude_none=True),
                "verdict": o.verdict.value,
                "handling": o.handling.value if o.handling else None,
                "effects": effects[o.handling].model_dump(mode="json") if o.handling else {},
                "sanction": o.sanction.model_dump(mode="json") if o.sanction else None,
                "decided_on": (o.decided_on or reported_on).isoformat(),
            }
            for o in cmd.outcomes
        ]
        return {
            "path": path.value,
            "receiver": receiver,
            "outcomes": outcomes,
            "reported_on": reported_on.isoformat(),
            "document_number": cmd.document_number,
            "summary": summary,
        }

    def _record_referral_result(
        self, report: Report, cmd: c.RecordReferralResult, actor: dict[str, str]
    ) -> None:
        unit = report.triage.get("member_unit", "")
        receiver = MemberUnit(unit).zh if unit in MemberUnit.labels() else unit
        result = self.receiver_result(SettlementPath.REFERRAL, receiver, cmd, cmd.result)
        report.settle(
            ReportStatus.REFERRAL_CONCLUDED,
            actor,
            cmd.reason,
            result,
            result=cmd.result,
            reported_on=result["reported_on"],
            **_report_back(report),
        )

    def _record_transfer_result(
        self, report: Report, cmd: c.RecordTransferResult, actor: dict[str, str]
    ) -> None:
        receiver = str(report.triage.get("to_unit", ""))
        result = self.receiver_result(SettlementPath.TRANSFER_DOWN, receiver, cmd)
        report.settle(
            ReportStatus.TRANSFER_CONCLUDED,
            actor,
            cmd.reason,
            result,
            reported_on=result["reported_on"],
            **_report_back(report),
        )

    def _propose_return(
        self, report: Report, cmd: c.ReturnWithReason, actor: dict[str, str]
    ) -> None:
        report.triage_to(ReportStatus.RETURN_PROPOSED, actor, cmd.reason)

    def _approve_return(self, report: Report, cmd: c.Approve, actor: dict[str, str]) -> None:
        report.triage_to(ReportStatus.RETURNED, actor, cmd.reason)

    def _reject_return(
        self, report: Report, cmd: c.ReturnWithReason, actor: dict[str, str]
    ) -> None:
        report.reject_return(actor, cmd.reason)

    def _verify_identity(
        self, report: Report, cmd: c.VerifyIdentity, actor: dict[str, str]
    ) -> None:
        report.verify_identity(cmd.method.value, cmd.verified_on or self._today(), actor)

    def _send_acceptance_notice(
        self, report: Report, cmd: c.SendAcceptanceNotice, actor: dict[str, str]
    ) -> None:
        report.send_acceptance_notice(cmd.sent_on or self._today(), actor)

    def _identify_subject(
        self, report: Report, cmd: c.IdentifySubject, actor: dict[str, str]
    ) -> None:
        report.identify_subject(
            cmd.subject_index,
            actor,
            cmd.reason,
            cadre_id=cmd.cadre_id,
            same_as_candidate=cmd.same_as_candidate,
        )

    # -- sealed content (items that belong to the level above) ------------------------------

    def hand_over_sealed_content(
        self,
        report_id: UUID,
        cmd: HandOverSealedContent,
        actor: Actor,
        record: Callable[[Report], object] | None = None,
    ) -> tuple[Report, dict[str, Any]]:
        """Hand the content over, once: ``record`` (the audit of sensitive reads) is written
        first, then the handover event; then what goes to the level above is given — the
        content encrypted for the receiver, or (paper) the document to print. Nothing is
        returned unless both were recorded; a failed audit leaves the handover available."""
        report = self.get_report(report_id)
        if cmd.expected_version is not None and cmd.expected_version != report.version:
            raise ConcurrentTriage(report_id)
        forwarded = report.triage.get("forwarded_on")
        self.check_stated_days(
            report,
            cmd,
            not_before=(dt.date.fromisoformat(forwarded), "it was forwarded up", "报送上级日期")
            if isinstance(forwarded, str)
            else None,
        )
        key = load_recipient_key(cmd.recipient_public_key) if cmd.recipient_public_key else None
        on = cmd.handed_over_on or self._today()
        report.hand_over_sealed_content(
            cmd.method,
            on,
            actor.model_dump(mode="json"),
            reference=cmd.reference,
            recipient_key_sha256=key_fingerprint(key) if key is not None else None,
            reason=cmd.reason,
        )
        document = {
            "report_id": str(report.id),
            "ledger_number": report.ledger_number,
            "received_on": report.received_on.isoformat(),
            "channel": report.channel,
            "categories": report.categories,
            "subjects": report.subjects,
            "forwarded_to": report.triage.get("to_authority", ""),
            "handed_over_on": on.isoformat(),
            "reference": cmd.reference,
            "content": self.vault.reveal_content(report.id),
        }
        if record is not None:
            record(report)
        try:
            self.save(report)
        except IntegrityError:
            raise ConcurrentTriage(report_id) from None
        if key is not None:
            return report, {"encrypted_export": encrypt_for(key, document)}
        return report, {"document": document}

    def open_sealed_content(
        self,
        report_id: UUID,
        cmd: OpenSealedContent,
        actor: Actor,
        record: Callable[[Report], object] | None = None,
    ) -> tuple[Report, str]:
        """A leader opens the content once. ``record`` (the audit of sensitive reads) is
        written first, then the opening event: a failed audit leaves the opening available;
        an opening that then conflicts leaves an audit entry of the attempt."""
        report = self.get_report(report_id)
        report.open_sealed_content(self._today(), actor.model_dump(mode="json"), cmd.reason)
        if record is not None:
            record(report)
        try:
            self.save(report)
        except IntegrityError:
            raise ConcurrentTriage(report_id) from None
        return report, self.vault.reveal_content(report.id)

    def close(self) -> None:
        if self._committer is not None:
            self._committer.close()
        super().close()
        self.vault.close()

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

    def reveal_identity(self, report_id: UUID) -> tuple[Report, RealNameReporter]:
        """A real-name reporter's identity from the vault. The caller records the read (who,
        when, why) before showing it to anyone, and never logs it."""
        report = self.get_report(report_id)
        if not report.real_name:
            raise NoIdentityKept(report_id)
        return report, self.vault.reveal(report.reporter["ref"])

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


def _report_back(report: Report) -> dict[str, Any]:
    """The report-back deadline, repeated by the steps after the transfer or referral, so
    that a reader of any one step (the archive keeps the latest) knows when it is due."""
    return {k: report.triage[k] for k in ("report_back_due",) if k in report.triage}


SEALED_SUMMARY = "（内容已封存：属上级管辖，仅限经办人员按需知悉）"


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


TriageHandler = Callable[[IntakeApplication, Report, Any, dict[str, str]], None]
I = IntakeApplication  # noqa: E741

TRIAGE_COMMANDS: dict[str, tuple[type[c.Command], TriageHandler]] = {
    "accept": (c.Accept, I._accept),
    "mark_repeat": (c.MarkRepeat, I._mark_repeat),
    "forward_up": (c.ForwardUp, I._forward_up),
    "transfer_down": (c.TransferDown, I._transfer_down),
    "acknowledge_transfer": (c.AcknowledgeTransfer, I._acknowledge_transfer),
    "refer_out": (c.ReferOut, I._refer_out),
    "record_referral_result": (c.RecordReferralResult, I._record_referral_result),
    "record_transfer_result": (c.RecordTransferResult, I._record_transfer_result),
    "propose_return": (c.ReturnWithReason, I._propose_return),
    "approve_return": (c.Approve, I._approve_return),
    "reject_return": (c.ReturnWithReason, I._reject_return),
    "verify_identity": (c.VerifyIdentity, I._verify_identity),
    "send_acceptance_notice": (c.SendAcceptanceNotice, I._send_acceptance_notice),
    "identify_subject": (c.IdentifySubject, I._identify_subject),
}
