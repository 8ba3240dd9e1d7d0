"""Reads of what the vault keeps, each recorded by the caller's audit first: sealed content
handed over to the level above or opened by a leader once, and a real-name reporter's
identity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from schemas.events import Actor
from schemas.sealed_content import HandOverSealedContent, OpenSealedContent
from schemas.submissions import RealNameReporter
from services.intake.base import ConcurrentTriage, IntakeBase, NoIdentityKept
from services.intake.domain import Report
from services.intake.sealed_export import encrypt_for, key_fingerprint, load_recipient_key


class VaultReads(IntakeBase):
    """The sealed content and the reporter identity, as the intake application reveals them."""

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

    def reveal_identity(self, report_id: UUID) -> tuple[Report, RealNameReporter]:
        """A real-name reporter's identity from the vault. The caller records the read (who,
        when, why) before showing it to anyone, and never logs it."""
        report = self.get_report(report_id)
        if not report.real_name:
            raise NoIdentityKept(report_id)
        return report, self.vault.reveal(report.reporter["ref"])
