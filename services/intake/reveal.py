"""The audited reveal of a real-name reporter's identity: one intake command, which the API
(``POST /api/v1/reports/{id}/identity``) and the report page
(``POST /reports/{id}/identity``) both call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from prometheus_client import Counter

from schemas.glossary import DocumentKind, SensitiveItem
from schemas.views_cases import ReporterFeedback
from services.accounts.access import IDENTITY_NO_NEED, IDENTITY_ROLES, check_identity_reveal
from services.accounts.model import AuditEntry, Principal
from services.accounts.store import AccountStore
from services.common.document_views import find_document
from services.common.procedure import RuleBroken
from services.intake.application import IntakeApplication
from services.intake.base import NoIdentityKept
from services.intake.domain import Report, ReportNotFound
from services.intake.domain.letters import LETTER_TO_REAL_NAME

# The case a report went to -> its handler (None: unknown or not assigned).
CaseHandler = Callable[[str], str | None]

IDENTITY_REVEALS = Counter(
    "jiandu_reporter_identity_reveals_total",
    "Reporter identities shown to staff; each one is an entry of the audit of sensitive reads",
    ["role"],
)


@dataclass(frozen=True)
class IdentityReveal:
    """``reveal(principal, report_id, reason, accounts)``: the identity, refused (and the
    refusal recorded in the audit) unless the caller has a need to know; recorded before it
    is returned.

    ``case_handler`` says who handles a report's case, for a handler's scope: casework's own
    aggregate in the embedded mode, the read models in ``jiandu intake-api``; without it a
    handler sees no identity."""

    intake: IntakeApplication
    case_handler: CaseHandler | None = None

    def reveal(
        self,
        principal: Principal,
        report_id: UUID,
        reason: str,
        accounts: AccountStore,
        *,
        purpose: str = "",
    ) -> tuple[Report, dict[str, Any], AuditEntry]:
        """The role decides first: a role that never sees an identity (a liaison member, an
        auditor, a leader, ...) is refused before the report is even looked up, so the answer
        says nothing of whether the report exists or has a real-name reporter. Every refusal
        is recorded: by role, by rule, an unknown report, an anonymous one."""

        def refused(detail: str) -> None:
            accounts.record_read(
                principal,
                SensitiveItem.REPORTER_IDENTITY_REFUSED.value,
                str(report_id),
                reason,
                detail=" ".join(filter(None, (detail, purpose))),
            )

        intake = self.intake
        if principal.role not in IDENTITY_ROLES:
            refused(f"refused ({IDENTITY_NO_NEED.name}): role {principal.role.value}")
            raise RuleBroken(IDENTITY_NO_NEED)
        try:
            report = intake.get_report(report_id)
        except ReportNotFound:
            refused("refused: no such report")
            raise
        if not report.real_name:
            refused(f"refused: anonymous, nothing kept {report.ledger_number or ''}".strip())
            raise NoIdentityKept(report_id)
        try:
            self.check_need_to_know(principal, report, accounts)
        except RuleBroken as refusal:
            refused(f"refused ({refusal.rule.name}) {report.ledger_number or ''}".strip())
            raise
        report, identity = intake.reveal_identity(report_id)
        entry = accounts.record_read(
            principal,
            SensitiveItem.REPORTER_IDENTITY.value,
            str(report_id),
            reason,
            detail=" ".join(filter(None, (report.ledger_number, purpose))),
        )
        IDENTITY_REVEALS.labels(principal.role.value).inc()
        return report, identity.model_dump(exclude={"anonymous"}), entry

    def check_need_to_know(
        self, principal: Principal, report: Report, accounts: AccountStore
    ) -> None:
        """Raise unless ``principal`` may see this report's reporter now (``access``'s
        rules: the operator in triage or before the acceptance notice, the case's handler)."""
        if principal.role not in IDENTITY_ROLES:  # decided before anything is looked up
            raise RuleBroken(IDENTITY_NO_NEED)
        handler_id = (
            self.case_handler(str(report.case_id))
            if report.case_id and self.case_handler is not None
            else None
        )
        check_identity_reveal(
            principal,
            in_triage=self.intake.in_triage(report),
            notice_pending=self.intake.acceptance_notice_pending(report),
            case_handler_id=handler_id,
            has_case=report.case_id is not None,
            accounts=accounts,
        )


# The feedback given on a report's case (the read side's, oldest first).
FeedbackOf = Callable[[str], list[ReporterFeedback]]


@dataclass(frozen=True)
class ReporterLetters:
    """The letters to a real-name reporter (decision 0037): issued by whom may address them,
    and downloaded addressed, each download an audited reveal with its reason.

    ``feedback``: the feedback given on a report's case, for the 反馈意见书 (the read side's;
    without it, no feedback letter can be issued)."""

    reveal: IdentityReveal
    feedback: FeedbackOf | None = None

    @property
    def intake(self) -> IntakeApplication:
        return self.reveal.intake

    def feedback_of(self, report_id: UUID) -> list[ReporterFeedback]:
        return self.feedback(str(report_id)) if self.feedback is not None else []

    def issue(
        self,
        principal: Principal,
        report_id: UUID,
        kind: DocumentKind,
        about: str,
        accounts: AccountStore,
        *,
        issued_on: dt.date | None = None,
    ) -> tuple[Report, dict[str, Any], bool]:
        """Issue the letter of ``kind`` about ``about``: the report, the letter, whether new.
        Only who may address it issues it (the operator in triage or before the acceptance
        notice, the handler of the report's case); the Report's rules decide the rest."""
        report = self.intake.get_report(report_id)
        LETTER_TO_REAL_NAME.require(report.real_name)
        self.reveal.check_need_to_know(principal, report, accounts)
        report, new = self.intake.issue_letter(
            report_id,
            kind,
            about,
            principal.actor(),
            feedback=self.feedback_of(report_id) if kind is DocumentKind.FEEDBACK_LETTER else [],
            issued_on=issued_on,
        )
        letter = report.document_of(kind, about)
        assert letter is not None
        return report, letter, new

    def _addressable(
        self, principal: Principal, report_id: UUID, accounts: AccountStore
    ) -> Report | None:
        """The report, if ``principal`` may see its reporter (so its letter is looked up
        before anything is revealed); None when the reveal must refuse."""
        if principal.role not in IDENTITY_ROLES:
            return None
        try:
            report = self.intake.get_report(report_id)
        except ReportNotFound:
            return None
        if not report.real_name:
            return None
        try:
            self.reveal.check_need_to_know(principal, report, accounts)
        except RuleBroken:
            return None
        return report

    def addressed(
        self, principal: Principal, report_id: UUID, ref: str, reason: str, accounts: AccountStore
    ) -> tuple[dict[str, Any], dict[str, str], AuditEntry]:
        """The letter ``ref`` (its number or id) and its addressee from the vault: an audited
        reveal (its reason, the letter's number in the audit entry), refused like any."""
        letter: dict[str, Any] | None = None
        purpose = f"letter {ref[:100]}"  # what a refusal records as asked for
        report = self._addressable(principal, report_id, accounts)
        if report is not None:  # else the reveal below refuses, and records why
            letter = find_document(report.issued, ref)
            purpose = f"{DocumentKind(letter['kind']).zh} {letter['number']}"
        _, identity, entry = self.reveal.reveal(
            principal, report_id, reason, accounts, purpose=purpose
        )
        assert letter is not None  # the reveal refused every other case
        address = identity.get("address") or ""
        return letter, {"addressee": identity["name"], "addressee_address": address}, entry
