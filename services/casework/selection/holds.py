"""A candidate held by a report received during the inspection announcement or the
pre-appointment publicity, and released once it is dealt with.

A hold is placed by hand (``hold_candidate``: the supervision office names the report) or by
casework itself (``hold_on_report``, actor ``system``): a report about the candidate's cadre,
received within the notice that named them, opened or joined a case (``candidacies.py``). Such
a hold names the case, and is released by hand once that case is settled (decision 0034,
amendments of issue 14 item 2)."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from schemas.glossary import Role, SelectionStage
from services.casework.selection import rules
from services.casework.selection.record import Actor, SelectionEvent, SelectionRecord

# Holds casework places by itself, from a report's case.
SYSTEM_ACTOR: Actor = {"id": "system", "role": Role.SYSTEM.value}
AUTOMATIC_HOLD_ZH = "考察预告或任前公示期间收到反映，查清前暂缓"
# Where an automatic hold still makes sense: the selection is under way after its
# announcement (a candidate appointed, or a selection withdrawn, is left to the case).
HOLDING_STAGES = frozenset(
    {
        SelectionStage.INSPECTION_ANNOUNCED,
        SelectionStage.INSPECTED,
        SelectionStage.DELIBERATED,
        SelectionStage.DECIDED,
        SelectionStage.PUBLICIZED,
        SelectionStage.APPOINTED,
    }
)


class CandidateHeld(SelectionEvent):
    """A report about the candidate holds them: not decided or appointed until released."""

    TOPIC = "jiandu.casework:Selection.CandidateHeld"
    candidate_id: str
    report_id: UUID
    # The case the report opened or joined (a hold casework placed itself); None for a hold
    # placed by hand, and in events stored before holds named their case.
    case_id: UUID | None = None

    def apply(self, selection: SelectionRecord) -> None:
        selection.holds.setdefault(self.candidate_id, []).append(self.report_id)
        selection.held_by.setdefault(self.candidate_id, {})[self.report_id] = self.case_id


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
            case_id=None,  # placed by hand: the report named, no case
        )

    def hold_case(self, candidate_id: str, report_id: UUID) -> UUID | None:
        """The case whose report held the candidate (None: a hold placed by hand)."""
        return self.held_by.get(candidate_id, {}).get(report_id)

    def notice_covers(self, candidate_id: str, received_on: dt.date) -> bool:
        """Whether a report about ``candidate_id`` received on ``received_on`` falls within a
        notice that named them: the inspection announcement's period for an inspection
        subject, the publicity's for a candidate publicized; a selection under way, the
        candidate not yet appointed."""
        if self.stage not in HOLDING_STAGES or candidate_id in self.appointed:
            return False
        announcement, publicity = self.announcement, self.publicity
        announced = (
            announcement is not None
            and candidate_id in self.subjects
            and announcement["starts_on"] <= received_on <= announcement["ends_on"]
        )
        publicized = (
            publicity is not None
            and candidate_id in publicity["candidates"]
            and publicity["starts_on"] <= received_on <= publicity["ends_on"]
        )
        return announced or publicized

    def hold_on_report(
        self, *, candidate_id: str, report_id: UUID, case_id: UUID, received_on: dt.date
    ) -> bool:
        """Casework holds the candidate itself (actor ``system``): a report about them,
        received on ``received_on`` within a notice that named them (``notice_covers``),
        opened or joined case ``case_id``. Dated the day the report was received, which the
        steps recorded since do not refuse (``DATES_IN_ORDER`` is for the days users state).
        Once per report and candidate, ever: False (nothing recorded) when the report held
        the candidate before, or the notice does not cover it."""
        if report_id in self.held_by.get(candidate_id, {}):
            return False
        if not self.notice_covers(candidate_id, received_on):
            return False
        self._record(
            CandidateHeld,
            actor=SYSTEM_ACTOR,
            reason=AUTOMATIC_HOLD_ZH,
            on=received_on,
            candidate_id=candidate_id,
            report_id=report_id,
            case_id=case_id,
        )
        return True

    def release_candidate(
        self,
        *,
        candidate_id: str,
        report_id: UUID,
        actor: Actor,
        on: dt.date,
        reason: str = "",
        case_settled: bool = True,
    ) -> None:
        """Release the hold ``report_id`` put on the candidate (``HOLD_OPEN``). A hold that
        names the report's case is released only once the application says that case is
        settled (``case_settled``, ``CASE_SETTLED``): the supervision office releases it by
        hand, never silently, for a report found true may keep the candidate from the post."""
        self._permit("release_candidate", actor, on)
        rules.HOLD_OPEN.require(report_id in self.holds.get(candidate_id, []))
        rules.CASE_SETTLED.require(case_settled or self.hold_case(candidate_id, report_id) is None)
        self._record(
            CandidateReleased,
            actor=actor,
            reason=reason,
            on=on,
            candidate_id=candidate_id,
            report_id=report_id,
        )
