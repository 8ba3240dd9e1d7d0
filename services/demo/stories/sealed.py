"""Demo: the sealed report forwarded up is handed over on paper (docs/decisions/0013), so a
new user finds the handover in its timeline and, as the leader, may open it once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from uuid import UUID

from schemas.glossary import ReportStatus
from schemas.sealed_content import HandOverSealedContent
from services.demo.steps import DESK
from services.intake.application import IntakeApplication


def hand_over_forwarded(intake: IntakeApplication, report_ids: Iterable[UUID]) -> int:
    """Hand over, on paper, each sealed report forwarded up and not yet handed over; how
    many were. Dated the day it was forwarded; idempotent."""
    done = 0
    for report_id in report_ids:
        report = intake._existing(report_id)
        if (
            report is None
            or not report.sealed
            or report.status is not ReportStatus.FORWARDED_UP
            or report.handovers
        ):
            continue
        forwarded_on = dt.date.fromisoformat(str(report.triage.get("forwarded_on")))
        intake.hand_over_sealed_content(
            report_id,
            HandOverSealedContent(
                method="paper",
                reference=f"机要件 {report.ledger_number}",
                handed_over_on=forwarded_on,
                reason="随报送函以机要件方式移交上级",
            ),
            DESK,
        )
        done += 1
    return done
