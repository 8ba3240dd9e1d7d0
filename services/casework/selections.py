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
import hashlib
import hmac
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from schemas import selection_commands as s
from schemas.glossary import (
    AccountabilityHandling,
    BasisKind,
    CaseState,
    HandlingType,
    Role,
    Verdict,
)
from services.casework.base import CaseworkBase
from services.casework.domain import Actor, Case
from services.casework.handlers import StatedDayInvalid
from services.casework.project import SupervisionProject
from services.casework.rules import CaseworkError
from services.casework.selection import Selection
from services.casework.selection import rules as selection_rules
from services.casework.selection.candidacies import Candidacies, candidacies_id

# A case settled for a hold's release (CASE_SETTLED).
SETTLED_STATES = frozenset({CaseState.CONCLUDED, CaseState.CLOSED, CaseState.TRANSFERRED})


# Who gives an integrity opinion replied from the information base.
INTEGRITY_REPLIER = "组织部干部监督机构（干部监督信息库）"


class SelectionKeyReused(CaseworkError, ValueError):
    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was already used for a different proposal; "
            "send a new key for a new selection",
            "该幂等键已用于另一项动议；新的选拔任用请使用新的键",
        )


def keyed_id(key: bytes, purpose: str, actor_id: str, idempotency_key: str) -> UUID:
    """The aggregate a caller's Idempotency-Key names for ``purpose``: HMAC-SHA-256 under the
    application's key, its first 16 bytes as a version-4 UUID; per caller, so that nobody
    without the key can compute which id a key gives, and two callers' same key are two
    aggregates."""
    message = f"{purpose}\x00{actor_id}\x00{idempotency_key}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return UUID(bytes=digest[:16], version=4)


def selection_id_for(key: bytes, actor_id: str, idempotency_key: str) -> UUID:
    """The selection a caller's Idempotency-Key names (``keyed_id``)."""
    return keyed_id(key, "selection-proposal", actor_id, idempotency_key)


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

    def propose_selection(
        self, command: s.ProposeSelection, actor: Actor, idempotency_key: str | None = None
    ) -> UUID:
        """Propose a selection; its id. A proposal has no natural key: without an
        ``idempotency_key`` the id is random; with one, it is derived from the key and the
        caller under the application's key (``selection_id_for``), so a retried request
        answers the selection it made the first time, and the same key sent with another
        proposal is refused (``SelectionKeyReused``, 422), nothing stored."""

        def proposed(selection_id: UUID) -> Selection:
            return Selection.propose(
                selection_id,
                unit=command.unit,
                posts=list(command.posts),
                proposers=dumped(command.proposers),
                actor=actor,
                on=self.business_day(command.on),
                document_number=command.document_number,
                reason=command.reason,
            )

        return self.create_once(
            "selection-proposal",
            actor,
            idempotency_key,
            proposed,
            lambda selection_id: self._proposed_by_key(selection_id, command),
        )

    def create_once(
        self,
        purpose: str,
        actor: Actor,
        idempotency_key: str | None,
        create: Callable[[UUID], Aggregate],
        made_before: Callable[[UUID], UUID | None],
    ) -> UUID:
        """Create and save an aggregate (``create`` given its id); its id. Without an
        ``idempotency_key`` the id is random; with one it is ``keyed_id`` of the caller's key
        for ``purpose``, and ``made_before`` answers the aggregate that key made before (or
        refuses another request under the same key, or None if the key is new): before
        creating, and again when the save conflicts because the same key's first request
        was saved meanwhile."""
        if idempotency_key is None:
            aggregate_id = uuid4()
        else:
            aggregate_id = keyed_id(self.id_key, purpose, actor["id"], idempotency_key)
            existing = made_before(aggregate_id)
            if existing is not None:
                return existing
        aggregate = create(aggregate_id)
        try:
            self.save(aggregate)
        except IntegrityError:
            if idempotency_key is None:
                raise
            found = made_before(aggregate_id)
            if found is None:
                raise
            return found
        return aggregate_id

    def _proposed_by_key(self, selection_id: UUID, command: s.ProposeSelection) -> UUID | None:
        """The selection a key made before, if the same proposal; None if the key is new."""
        try:
            earlier = self.get_selection(selection_id)
        except SelectionNotFound:
            return None
        same = (
            earlier.unit == command.unit
            and earlier.posts == list(command.posts)
            and earlier.proposers == dumped(command.proposers)
            and earlier.proposal_document == command.document_number
            and earlier.proposal_reason == command.reason
            and (command.on is None or earlier.proposed_on == command.on)
        )
        if not same:
            raise SelectionKeyReused
        return selection_id

    def note_candidacies(
        self, sel: Selection, candidate_ids: list[str], step: str
    ) -> list[Candidacies]:
        """The selection noted in the candidacies of each of ``candidate_ids`` who is a
        registered cadre (``cadre_id``), to be saved with it; a report about the cadre
        noted there before, received within this notice, holds the candidate now
        (``Selection.hold_on_report``)."""
        noted: dict[str, Candidacies] = {}
        for candidate_id in candidate_ids:
            cadre_id = (sel.candidates.get(candidate_id, {}).get("cadre_id") or "").strip()
            if not cadre_id:
                continue
            candidacies = noted.get(cadre_id) or self.candidacies(cadre_id)
            candidacies.note_selection(sel.id, candidate_id, step)
            for report_id, report in candidacies.reports.items():
                sel.hold_on_report(
                    candidate_id=candidate_id,
                    report_id=report_id,
                    case_id=report["case_id"],
                    received_on=report["received_on"],
                )
            noted[cadre_id] = candidacies
        return list(noted.values())

    def candidacies(self, cadre_id: str) -> Candidacies:
        """The cadre's candidacies; started (not yet saved) when there are none."""
        try:
            found: Candidacies = self.repository.get(candidacies_id(cadre_id))
        except AggregateNotFoundError:
            return Candidacies.start(cadre_id)
        return found

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

    def concluded_basis(
        self, sel: Selection, action: str, basis: s.Basis, actor: Actor, on: dt.date
    ) -> tuple[BasisKind, UUID]:
        """What a voided appointment or a responsibility rests on, refused by name (409):
        ``BASIS_CONCLUDED``, a case on record whose conclusion is approved (and not undone
        by a reopening), or a supervision project whose conclusion was approved on or before
        ``on``; ``BASIS_ON_THIS_SELECTION``, a project on this selection; ``BASIS_PROVEN``,
        a conclusion of 属实 or 部分属实. Asked after the Selection's own role and stage
        check (``rules.permit``), so that a step out of order is refused as such whatever
        its basis."""
        selection_rules.permit(action, Role(actor["role"]), sel.stage)
        found = self._find(basis.id)
        if basis.kind is BasisKind.PROJECT:
            project = found if isinstance(found, SupervisionProject) else None
            conclusion = project.conclusion if project is not None else None
            selection_rules.BASIS_CONCLUDED.require(
                conclusion is not None and conclusion["on"] <= on
            )
            selection_rules.BASIS_ON_THIS_SELECTION.require(
                project is not None and project.selection_id == str(sel.id)
            )
            verdict = Verdict(conclusion["verdict"]) if conclusion else None
        else:
            case = found if isinstance(found, Case) else None
            conclusion = case.conclusion if case is not None else None
            selection_rules.BASIS_CONCLUDED.require(conclusion is not None)
            verdict = Verdict(conclusion["overall"]) if conclusion else None
        selection_rules.BASIS_PROVEN.require(verdict in (Verdict.TRUE, Verdict.PARTLY_TRUE))
        return basis.kind, basis.id

    def accountability_effects(self, handling: AccountabilityHandling) -> dict[str, Any]:
        """An organizational handling's effects as the office's table has them today (as a
        case's handling records them); none for a circulated criticism or a referral."""
        if handling.value not in {h.value for h in HandlingType}:
            return {}
        return self.effects[HandlingType(handling.value)].model_dump()

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

    def _announce_inspection(
        self, sel: Selection, cmd: s.AnnounceInspection, actor: Actor
    ) -> list[Candidacies]:
        sel.announce_inspection(
            subjects=list(cmd.subjects),
            starts_on=cmd.starts_on,
            ends_on=cmd.ends_on,
            actor=actor,
            on=self.business_day(cmd.on),
            document_number=cmd.document_number,
            reason=cmd.reason,
        )
        return self.note_candidacies(sel, list(cmd.subjects), "inspection_announced")

    def _record_integrity_opinion(
        self, sel: Selection, cmd: s.RecordIntegrityOpinion, actor: Actor
    ) -> None:
        sel.record_integrity_opinion(
            opinions=dumped(cmd.opinions),
            actor=actor,
            on=self.business_day(cmd.on),
            reason=cmd.reason,
        )

    def _request_integrity_opinions(
        self, sel: Selection, cmd: s.RequestIntegrityOpinions, actor: Actor
    ) -> None:
        sel.request_integrity_opinions(
            candidates=list(cmd.candidates),
            requested_of=cmd.requested_of,
            actor=actor,
            on=self.business_day(cmd.on),
            reason=cmd.reason,
        )

    def _reply_integrity_opinions(
        self, sel: Selection, cmd: s.ReplyIntegrityOpinions, actor: Actor
    ) -> None:
        """The reply from the information base (the integrity reply of each candidate on the
        reply's day): clean when nothing stands in the way of the promotion; its words are
        the opinion's summary. ``OPINION_REQUESTED``, ``OPINION_FROM_REGISTER`` refuse by
        name, after the selection's own role and stage check."""
        on = self.business_day(cmd.on)
        selection_rules.permit("reply_integrity_opinions", Role(actor["role"]), sel.stage)
        asked = list(cmd.candidates) or sorted(sel.opinion_requests)
        selection_rules.OPINION_REQUESTED.require(
            bool(asked) and all(c in sel.opinion_requests for c in asked)
        )
        cadres = {c: str(sel.candidates.get(c, {}).get("cadre_id") or "") for c in asked}
        selection_rules.OPINION_FROM_REGISTER.require(all(cadres.values()))
        if self.integrity is None:
            raise RuntimeError("no information base to reply from (integrity not configured)")
        try:
            replies = self.integrity(list(cadres.values()), on, f"{sel.unit}选拔任用考察")
        except LookupError:  # a register number the register does not hold
            selection_rules.OPINION_FROM_REGISTER.require(False)
            raise
        sel.reply_integrity_opinions(
            opinions=[
                {
                    "candidate_id": candidate_id,
                    "given_by": INTEGRITY_REPLIER,
                    "received_on": on,
                    "clean": not replies[cadre_id][0],
                    "summary": replies[cadre_id][1],
                    "reference": f"廉政意见回复（{on.isoformat()}）",
                }
                for candidate_id, cadre_id in cadres.items()
            ],
            actor=actor,
            on=on,
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

    def _start_publicity(
        self, sel: Selection, cmd: s.StartPublicity, actor: Actor
    ) -> list[Candidacies]:
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
        return self.note_candidacies(sel, list(cmd.candidates), "publicity_started")

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
        """A hold that names a case: the application reads whether that case is settled."""
        case_id = sel.hold_case(cmd.candidate_id, cmd.report_id)
        sel.release_candidate(
            candidate_id=cmd.candidate_id,
            report_id=cmd.report_id,
            actor=actor,
            on=self.business_day(cmd.on),
            reason=cmd.reason,
            case_settled=case_id is None or self.case_settled(case_id),
        )

    def case_settled(self, case_id: UUID) -> bool:
        """Whether the case is settled: its conclusion approved, closed, or transferred to the
        discipline inspection organ (the office's handling of it over)."""
        case = self._find(case_id)
        return case is not None and case.state in SETTLED_STATES

    def _withdraw(self, sel: Selection, cmd: s.WithdrawSelection, actor: Actor) -> None:
        sel.withdraw(actor=actor, on=self.business_day(cmd.on), reason=cmd.reason)

    def _void_appointment(self, sel: Selection, cmd: s.VoidAppointment, actor: Actor) -> None:
        on = self.business_day(cmd.on)
        basis_kind, basis_id = self.concluded_basis(sel, "void_appointment", cmd.basis, actor, on)
        sel.void_appointment(
            candidates=list(cmd.candidates),
            ground=cmd.ground,
            basis_kind=basis_kind,
            basis_id=basis_id,
            actor=actor,
            on=on,
            document_number=cmd.document_number,
            reason=cmd.reason,
        )

    def _take_responsibility(self, sel: Selection, cmd: s.TakeResponsibility, actor: Actor) -> None:
        on = self.business_day(cmd.on)
        basis_kind, basis_id = self.concluded_basis(
            sel, "take_responsibility", cmd.basis, actor, on
        )
        sel.take_responsibility(
            person=cmd.person.model_dump(exclude_none=True),
            step=cmd.step,
            handling=cmd.handling,
            effects=self.accountability_effects(cmd.handling),
            basis_kind=basis_kind,
            basis_id=basis_id,
            actor=actor,
            on=on,
            document_number=cmd.document_number,
            reason=cmd.reason,
        )

    def _issue_selection_document(
        self, sel: Selection, cmd: s.IssueSelectionDocument, actor: Actor
    ) -> list[Any]:
        """Issue the inspection's feedback (decision 0035): numbered in its register, saved
        with the selection; asked again for the same one, the same document (nothing new)."""
        on = self.business_day(cmd.on)
        sel.may_issue(actor, on)
        if sel.document_of(cmd.kind, cmd.about) is not None:
            return []
        step = sel.document_step(cmd.kind, cmd.about)
        register, common, version = self.number_document(cmd.kind, sel.id, cmd.about, on)
        sel.issue_document(
            cmd.kind,
            cmd.about,
            number=common["number"],
            on=on,
            template_version=version,
            fields={**common, **step},
            actor=actor,
            reason=cmd.reason,
        )
        return [register]


# A handler answers the other aggregates to save with the selection (a cadre's candidacies),
# or None.
SelectionHandler = Callable[[SelectionCommands, Selection, Any, Actor], list[Any] | None]
A = SelectionCommands

# action -> (request model, handler): one HTTP route each (selection_api.py).
SELECTION_COMMANDS: dict[str, tuple[type[s.SelectionCommand], SelectionHandler]] = {
    "record_circumstance": (s.RecordCircumstance, A._record_circumstance),
    "record_recommendation": (s.RecordRecommendation, A._record_recommendation),
    "announce_inspection": (s.AnnounceInspection, A._announce_inspection),
    "record_integrity_opinion": (s.RecordIntegrityOpinion, A._record_integrity_opinion),
    "request_integrity_opinions": (s.RequestIntegrityOpinions, A._request_integrity_opinions),
    "reply_integrity_opinions": (s.ReplyIntegrityOpinions, A._reply_integrity_opinions),
    "record_inspection": (s.RecordInspection, A._record_inspection),
    "record_deliberation": (s.RecordDeliberation, A._record_deliberation),
    "record_decision": (s.RecordDecision, A._record_decision),
    "start_publicity": (s.StartPublicity, A._start_publicity),
    "record_appointment": (s.RecordAppointment, A._record_appointment),
    "hold_candidate": (s.HoldCandidate, A._hold_candidate),
    "release_candidate": (s.ReleaseCandidate, A._release_candidate),
    "withdraw": (s.WithdrawSelection, A._withdraw),
    "void_appointment": (s.VoidAppointment, A._void_appointment),
    "take_responsibility": (s.TakeResponsibility, A._take_responsibility),
    "issue_document": (s.IssueSelectionDocument, A._issue_selection_document),
}
# Retried when a concurrent save refuses them (and the caller stated no version): a
# document's number is taken from a register another issue may have just saved.
SELECTION_RETRIED_ON_CONFLICT = frozenset({"issue_document"})
assert set(SELECTION_COMMANDS) == set(selection_rules.PERMISSIONS), "one command per step"
