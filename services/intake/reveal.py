"""The audited reveal of a real-name reporter's identity: one intake command, which the API
(``POST /api/v1/reports/{id}/identity``) and the report page
(``POST /reports/{id}/identity``) both call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from prometheus_client import Counter

from schemas.glossary import SensitiveItem
from services.accounts.access import IDENTITY_NO_NEED, IDENTITY_ROLES, check_identity_reveal
from services.accounts.model import AuditEntry, Principal
from services.accounts.store import AccountStore
from services.common.procedure import RuleBroken
from services.intake.application import IntakeApplication
from services.intake.base import NoIdentityKept
from services.intake.domain import Report, ReportNotFound

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
        self, principal: Principal, report_id: UUID, reason: str, accounts: AccountStore
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
                detail=detail,
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
        handler_id = (
            self.case_handler(str(report.case_id))
            if report.case_id and self.case_handler is not None
            else None
        )
        try:
            check_identity_reveal(
                principal,
                in_triage=intake.in_triage(report),
                notice_pending=intake.acceptance_notice_pending(report),
                case_handler_id=handler_id,
                has_case=report.case_id is not None,
                accounts=accounts,
            )
        except RuleBroken as refusal:
            refused(f"refused ({refusal.rule.name}) {report.ledger_number or ''}".strip())
            raise
        report, identity = intake.reveal_identity(report_id)
        entry = accounts.record_read(
            principal,
            SensitiveItem.REPORTER_IDENTITY.value,
            str(report_id),
            reason,
            detail=report.ledger_number or "",
        )
        IDENTITY_REVEALS.labels(principal.role.value).inc()
        return report, identity.model_dump(exclude={"anonymous"}), entry
