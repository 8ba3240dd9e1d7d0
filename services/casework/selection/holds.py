"""A candidate held by a report received during the inspection announcement or the
pre-appointment publicity, and released once it is dealt with.

The report is named by its id; linking a report to a selection's candidate (and holding
them from the supervision office's desk) is a later slice (decision 0034)."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from services.casework.selection import rules
from services.casework.selection.record import Actor, SelectionEvent, SelectionRecord


class CandidateHeld(SelectionEvent):
    """A report about the candidate holds them: not decided or appointed until released."""

    TOPIC = "jiandu.casework:Selection.CandidateHeld"
    candidate_id: str
    report_id: UUID

    def apply(self, selection: SelectionRecord) -> None:
        selection.holds.setdefault(self.candidate_id, []).append(self.report_id)


class CandidateReleased(SelectionEvent):
    """The report that held the candidate no longer stands in the way."""

    TOPIC = "jiandu.casework:Selection.CandidateReleased"
    candidate_id: str
    report_id: UUID

    def apply(self, selection: SelectionRecord) -> None:
        reports = selection.holds[self.candidate_id]
        reports.remove(self.report_id)
        if not reports:
            del selection.holds[self.candidate_id]


class HoldSteps(SelectionRecord):
    """A candidate held by a report; released."""

    def hold_candidate(
        self,
        *,
        candidate_id: str,
        report_id: UUID,
        actor: Actor,
        on: dt.date,
        reason: str = "",
    ) -> None:
        """Hold an inspection subject on a report received on ``on``, within the inspection
        announcement's period or the publicity's (``HOLD_DURING_NOTICE``)."""
        self._permit("hold_candidate", actor, on)
        rules.INSPECTION_SUBJECT.require(candidate_id in self.subjects)
        rules.HOLD_DURING_NOTICE.require(self.in_notice(on))
        rules.ONE_HOLD_PER_REPORT.require(report_id not in self.holds.get(candidate_id, []))
        self._record(
            CandidateHeld,
            actor=actor,
            reason=reason,
            on=on,
            candidate_id=candidate_id,
            report_id=report_id,
        )

    def release_candidate(
        self,
        *,
        candidate_id: str,
        report_id: UUID,
        actor: Actor,
        on: dt.date,
        reason: str = "",
    ) -> None:
        """Release the hold ``report_id`` put on the candidate (``HOLD_OPEN``)."""
        self._permit("release_candidate", actor, on)
        rules.HOLD_OPEN.require(report_id in self.holds.get(candidate_id, []))
        self._record(
            CandidateReleased,
            actor=actor,
            reason=reason,
            on=on,
            candidate_id=candidate_id,
            report_id=report_id,
        )
