"""The selection record's commands (decision 0034): each handler turns a validated request
(``schemas/selection_commands.py``) into a step of the ``Selection`` aggregate, and the
``SELECTION_COMMANDS`` table names them: the actions the HTTP layer runs through
``CaseworkApplication.execute_selection``.

The application states what the domain must not read for itself: the business day a step
is dated when the request leaves ``on`` out (today, on the application's clock, as for a
case's dated steps; never after today), and the publicity's working days, counted on the
working-day calendar from its first day to its last, both included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError

from schemas import selection_commands as s
from services.casework.base import CaseworkBase
from services.casework.domain import Actor
from services.casework.handlers import StatedDayInvalid
from services.casework.rules import CaseworkError
from services.casework.selection import Selection
from services.casework.selection import rules as selection_rules


class SelectionNotFound(CaseworkError, LookupError):
    def __init__(self, selection_id: object) -> None:
        super().__init__(f"no selection {selection_id}", f"选拔任用记录 {selection_id} 不存在")


def dumped(items: list[Any]) -> list[dict[str, Any]]:
    """Request parts as the domain takes them (dates stay dates; absent ids left out)."""
    return [item.model_dump(exclude_none=True) for item in items]


class SelectionCommands(CaseworkBase):
    """The selection's command handlers and reads (composed into the casework application)."""

    # -- reads and the proposal -------------------------------------------------------------

    def get_selection(self, selection_id: UUID) -> Selection:
        try:
            selection: Selection = self.repository.get(selection_id)
        except AggregateNotFoundError:
            raise SelectionNotFound(selection_id) from None
        if not isinstance(selection, Selection):  # e.g. the id of a case
            raise SelectionNotFound(selection_id)
        return selection

    def selection_history(self, selection_id: UUID) -> list[Any]:
        """The selection's events as stored, oldest first: each step with its day, who
        recorded it and who answers for it (the selection desk's record page)."""
        self.get_selection(selection_id)  # SelectionNotFound for anything else
        events: list[Any] = list(self.events.get(selection_id))
        return events

    def propose_selection(self, command: s.ProposeSelection, actor: Actor) -> UUID:
        """Propose a selection; its new id (random: a proposal has no natural key)."""
        selection_id = uuid4()
        selection = Selection.propose(
            selection_id,
            unit=command.unit,
            posts=list(command.posts),
            proposers=dumped(command.proposers),
            actor=actor,
            on=self.business_day(command.on),
            document_number=command.document_number,
            reason=command.reason,
        )
        self.save(selection)
        return selection_id

    def business_day(self, on: dt.date | None, field: str = "on") -> dt.date:
        """The day a step is dated: the one stated, or today; never after today (422)."""
        today = self.today()
        if on is None:
            return today
        if on > today:
            raise StatedDayInvalid(
                field, f"{on} is in the future (today is {today})", f"{on} 晚于今天（{today}）"
            )
        return on

    def publicity_working_days(self, starts_on: dt.date, ends_on: dt.date) -> int:
        """Working days from ``starts_on`` to ``ends_on``, both included, on the calendar."""
        if ends_on < starts_on:
            return 0  # the domain refuses the period itself (period_in_order)
        calendar = self.calendar
        try:
            first = 1 if calendar.is_workday(starts_on) else 0
            return first + calendar.working_days_between(starts_on, ends_on)
        except (ValueError, OverflowError):  # a day the calendar cannot count (year 9999)
            raise StatedDayInvalid(
                "ends_on",
                f"the working days until {ends_on} cannot be counted",
                f"无法计算至 {ends_on} 的工作日",
            ) from None

    # -- the steps --------------------------------------------------------------------------

    def _record_circumstance(self, sel: Selection, cmd: s.RecordCircumstance, actor: Actor) -> None:
        sel.record_circumstance(
            kind=cmd.kind,
            starts_on=cmd.starts_on,
            ends_on=cmd.ends_on,
            actor=actor,
            on=self.business_day(cmd.on),
            description=cmd.description,
            document_number=cmd.document_number,
            reason=cmd.reason,
        )

    def _record_recommendation(
        self, sel: Selection, cmd: s.RecordRecommendation, actor: Actor
    ) -> None:
        sel.record_recommendation(
            participants=cmd.participants,
            candidates=dumped(cmd.candidates),
            organizers=dumped(cmd.organizers),
            actor=actor,
            on=self.business_day(cmd.on),
            document_number=cmd.document_number,
            reason=cmd.reason,
        )

    def _announce_inspection(self, sel: Selection, cmd: s.AnnounceInspection, actor: Actor) -> None:
        sel.announce_inspection(
            subjects=list(cmd.subjects),
            starts_on=cmd.starts_on,
            ends_on=cmd.ends_on,
            actor=actor,
            on=self.business_day(cmd.on),
            document_number=cmd.document_number,
            reason=cmd.reason,
        )

    def _record_integrity_opinion(
        self, sel: Selection, cmd: s.RecordIntegrityOpinion, actor: Actor
    ) -> None:
        sel.record_integrity_opinion(
            opinions=dumped(cmd.opinions),
            actor=actor,
            on=self.business_day(cmd.on),
            reason=cmd.reason,
        )

    def _record_inspection(self, sel: Selection, cmd: s.RecordInspection, actor: Actor) -> None:
        sel.record_inspection(
            inspectors=dumped(cmd.inspectors),
            findings=dumped(cmd.findings),
            actor=actor,
            on=self.business_day(cmd.on),
            document_number=cmd.document_number,
            reason=cmd.reason,
        )

    def _record_deliberation(self, sel: Selection, cmd: s.RecordDeliberation, actor: Actor) -> None:
        sel.record_deliberation(
            candidates=list(cmd.candidates),
            consulted=dumped(cmd.consulted),
            actor=actor,
            on=self.business_day(cmd.on),
            summary=cmd.summary,
            reason=cmd.reason,
        )

    def _record_decision(self, sel: Selection, cmd: s.RecordDecision, actor: Actor) -> None:
        sel.record_decision(
            body=cmd.body,
            members_due=cmd.members_due,
            members_present=cmd.members_present,
            votes=dumped(cmd.votes),
            decision_makers=dumped(cmd.decision_makers),
            actor=actor,
            on=self.business_day(cmd.on),
            document_number=cmd.document_number,
            reason=cmd.reason,
        )

    def _start_publicity(self, sel: Selection, cmd: s.StartPublicity, actor: Actor) -> None:
        """The publicity's working days are counted here, on the calendar, never stated."""
        sel.start_publicity(
            candidates=list(cmd.candidates),
            starts_on=cmd.starts_on,
            ends_on=cmd.ends_on,
            working_days=self.publicity_working_days(cmd.starts_on, cmd.ends_on),
            actor=actor,
            on=self.business_day(cmd.on),
            document_number=cmd.document_number,
            reason=cmd.reason,
        )

    def _record_appointment(self, sel: Selection, cmd: s.RecordAppointment, actor: Actor) -> None:
        sel.record_appointment(
            appointments=dumped(cmd.appointments),
            actor=actor,
            on=self.business_day(cmd.on),
            document_number=cmd.document_number,
            reason=cmd.reason,
        )

    def _hold_candidate(self, sel: Selection, cmd: s.HoldCandidate, actor: Actor) -> None:
        sel.hold_candidate(
            candidate_id=cmd.candidate_id,
            report_id=cmd.report_id,
            actor=actor,
            on=self.business_day(cmd.on),
            reason=cmd.reason,
        )

    def _release_candidate(self, sel: Selection, cmd: s.ReleaseCandidate, actor: Actor) -> None:
        sel.release_candidate(
            candidate_id=cmd.candidate_id,
            report_id=cmd.report_id,
            actor=actor,
            on=self.business_day(cmd.on),
            reason=cmd.reason,
        )

    def _withdraw(self, sel: Selection, cmd: s.WithdrawSelection, actor: Actor) -> None:
        sel.withdraw(actor=actor, on=self.business_day(cmd.on), reason=cmd.reason)


SelectionHandler = Callable[[SelectionCommands, Selection, Any, Actor], None]
A = SelectionCommands

# action -> (request model, handler): one HTTP route each (selection_api.py).
SELECTION_COMMANDS: dict[str, tuple[type[s.SelectionCommand], SelectionHandler]] = {
    "record_circumstance": (s.RecordCircumstance, A._record_circumstance),
    "record_recommendation": (s.RecordRecommendation, A._record_recommendation),
    "announce_inspection": (s.AnnounceInspection, A._announce_inspection),
    "record_integrity_opinion": (s.RecordIntegrityOpinion, A._record_integrity_opinion),
    "record_inspection": (s.RecordInspection, A._record_inspection),
    "record_deliberation": (s.RecordDeliberation, A._record_deliberation),
    "record_decision": (s.RecordDecision, A._record_decision),
    "start_publicity": (s.StartPublicity, A._start_publicity),
    "record_appointment": (s.RecordAppointment, A._record_appointment),
    "hold_candidate": (s.HoldCandidate, A._hold_candidate),
    "release_candidate": (s.ReleaseCandidate, A._release_candidate),
    "withdraw": (s.WithdrawSelection, A._withdraw),
}
assert set(SELECTION_COMMANDS) == set(selection_rules.PERMISSIONS), "one command per step"
