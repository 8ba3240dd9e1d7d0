"""Opening and assignment: the events a case starts with (立案, 并案, 承办人) and their commands."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from services.casework.domain.conclusion import ConclusionReturned
from services.casework.domain.record import (
    SYSTEM_ACTOR,
    Actor,
    CaseCreated,
    CaseEvent,
    CaseRecord,
    S,
)
from services.casework.domain.verdicts import (
    subject_key,
    unique_subjects,
)


class Opened(CaseCreated):
    TOPIC = "jiandu.casework:Case.Opened"
    kind: str
    report_id: UUID | None
    ledger_number: str
    channel: str
    categories: list[str]
    subjects: list[dict[str, Any]]
    summary: str
    received_on: dt.date
    reporter: dict[str, Any] | None
    linked_case_id: UUID | None
    routing: dict[str, str] | None
    actor: Actor
    reason: str
    # The day the case was opened (立件). Added after the first release: events stored
    # before it lack the field, and the case's opening day is then its timestamp's China date.
    opened_on: dt.date | None = None


class ReportJoined(CaseEvent):
    TOPIC = "jiandu.casework:Case.ReportJoined"
    report_id: UUID
    ledger_number: str
    categories: list[str]
    subjects: list[dict[str, Any]]
    reporter: dict[str, Any]
    # The day the report joined (its acceptance); absent from events stored before.
    joined_on: dt.date | None = None
    # Joined after the conclusion was approved or the case closed: the {cadre, category}
    # it alleges that the standing conclusion does not cover (added later; older: none).
    unconcluded: list[dict[str, Any]] | None = None

    def apply(self, case: CaseRecord) -> None:
        alleged = case.alleged()  # before the report's subjects and categories are added
        case.report_ids.append(self.report_id)
        case.categories += [c for c in self.categories if c not in case.categories]
        known = {(s["name"], s.get("unit", "")) for s in case.subjects}
        case.subjects += [s for s in self.subjects if (s["name"], s.get("unit", "")) not in known]
        for s in self.subjects:
            mine = alleged.setdefault(subject_key(s), [])
            mine += [c for c in self.categories if c not in mine]
        case.real_name_reporters += 0 if self.reporter.get("anonymous", True) else 1


class HandlerAssigned(CaseEvent):
    TOPIC = "jiandu.casework:Case.HandlerAssigned"
    handler_id: str
    previous_handler_id: str | None

    def apply(self, case: CaseRecord) -> None:
        case.handler_id = self.handler_id


JOINED_AFTER_PROPOSAL_ZH = (
    "提出核查结论后又并入举报件，所涉反映对象或问题尚未认定，结论退回重新提出"
)


class OpeningSteps(CaseRecord):
    """A further report joins the case; a handler is assigned."""

    def join_report(
        self,
        *,
        report_id: UUID,
        ledger_number: str,
        categories: list[str],
        subjects: list[dict[str, Any]],
        reporter: dict[str, Any],
        actor: Actor,
        joined_on: dt.date | None = None,
    ) -> None:
        """A further report about the same cadre and matter joins this case (并案).

        Intake joins a report to a case before its conclusion is proposed; a join arriving
        later (intake read a lagging state) is recorded, never refused (the report was
        accepted), and never silently concluded: a proposed conclusion that does not cover
        what the report alleges goes back for a new proposal (ConclusionReturned by the
        system); after approval the pairs it adds stay unconcluded (``unconcluded``), and the
        integrity reply keeps them open until a new round (复查) concludes them."""
        if report_id in self.report_ids:
            return
        covered = (
            self.alleged_pairs() - set(self._unconcluded_pairs())
            if self.state in (S.CONCLUDED, S.CLOSED)
            else None
        )
        late = [
            {"cadre": s, "category": cat}
            for s in unique_subjects(self.subjects, subjects)
            for cat in categories
            if covered is not None and (subject_key(s), cat) not in covered
        ]
        self._trigger(
            ReportJoined,
            actor=actor,
            reason="受理时并入本案",
            report_id=report_id,
            ledger_number=ledger_number,
            categories=categories,
            subjects=subjects,
            reporter=reporter,
            joined_on=joined_on,
            unconcluded=late or None,
        )
        proposal = self.proposed_conclusion
        if proposal is not None and self.unconcluded(proposal["cadre_verdicts"]):
            self._trigger(
                ConclusionReturned,
                actor=SYSTEM_ACTOR,
                reason=JOINED_AFTER_PROPOSAL_ZH,
                returns_to=proposal["returns_to"],
            )

    def assign(self, handler_id: str, actor: Actor, reason: str = "") -> None:
        """Assign (or reassign) the handler (承办人)."""
        self._do(
            "assign",
            actor,
            HandlerAssigned,
            reason=reason,
            handler_id=handler_id,
            previous_handler_id=self.handler_id,
        )
