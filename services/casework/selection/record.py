"""What a selection knows, and the sealed trigger every command goes through.

``SelectionRecord`` holds the Selection's state (set in ``__init__`` from the proposal,
changed by each event's ``apply``), the queries the commands ask of it, and
``_permit``/``_record``: check the role and stage (``rules.permit``) and the date
(``DATES_IN_ORDER``); seal the event into the selection's hash chain (``chain.py``, as a
case's events are) and trigger it. The stage modules (``proposal``, ``recommendation``,
``inspection``, ``decision``, ``holds``) hold the events and the commands; ``selection.py``
puts them together as the ``Selection`` aggregate.

``SelectionCreated`` and ``SelectionEvent`` are the bases of every Selection event: as each
event is applied they keep the chain head and the last step's date current, and set
``stage`` from the one table the projections will read too
(``services/common/selection_stages.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from schemas.glossary import Role, SelectionStage
from services.casework.chain import SealedStep, trigger_sealed
from services.casework.selection import rules
from services.common.selection_stages import stage_after as next_stage

St = SelectionStage
Actor = dict[str, str]
# A person responsible for a step (who recommends, inspects or decides answers for it, seed
# 003, 2.5): name, unit, position.
Person = dict[str, str]


def role_of(actor: Actor) -> Role:
    return Role(actor["role"])


class SelectionEventBase(SealedStep):
    """Mixin: as each event is applied, keeps the chain head current, and for a step of the
    procedure (an event that sets the stage, from ``services/common/selection_stages.py``)
    the stage and the last step's date. A record beside the steps (a circumstance, an
    integrity opinion, a hold or its release) is dated on or after the last step but does
    not move that date on: the steps after it keep their own order."""

    def stage_after(self, event_type: str) -> SelectionStage | None:
        return next_stage(event_type, self)


class SelectionCreated(SelectionEventBase, Aggregate.Created):
    TOPIC = "jiandu.casework:Selection.Created"
    chain: str


class SelectionEvent(SelectionEventBase, Aggregate.Event):
    TOPIC = "jiandu.casework:Selection.Event"
    chain: str
    actor: Actor
    reason: str
    on: dt.date


class SelectionRecord:
    """The Selection's state and the queries and trigger its commands share."""

    # Set as each event is applied, from services/common/selection_stages.py.
    stage: SelectionStage

    def __init__(
        self,
        *,
        unit: str,
        posts: list[str],
        proposers: list[Person],
        document_number: str,
        actor: Actor,
        reason: str,
        on: dt.date,
        chain: str,
    ) -> None:
        self.unit = unit
        self.posts = list(posts)
        self.proposers = list(proposers)
        self.proposed_on = on
        self.proposal_document = document_number
        self.proposal_reason = reason
        self.last_on = on  # the date of the last step of the procedure
        self.chain_head = chain
        # Periods during which promotions are suspect: {kind, starts_on, ends_on}.
        self.circumstances: list[dict[str, Any]] = []
        # Every candidate recommended, by candidate_id: {candidate_id, name, unit, ...}.
        self.candidates: dict[str, dict[str, Any]] = {}
        self.participants = 0
        self.recommendation_votes: dict[str, int] = {}
        self.subjects: list[str] = []
        self.announcement: dict[str, dt.date] | None = None
        self.opinions: dict[str, dict[str, Any]] = {}  # by candidate_id, the latest
        # Integrity opinions asked for and not yet given: candidate_id -> the day asked.
        self.opinion_requests: dict[str, dt.date] = {}
        self.findings: dict[str, dict[str, Any]] = {}  # by candidate_id, the latest
        self.inspected_on: dt.date | None = None  # the inspection's day (its feedback's)
        self.deliberated: list[str] = []
        self.decision: dict[str, Any] | None = None
        self.voted: list[str] = []  # every candidate the decision meeting voted on
        self.approved: list[str] = []
        self.publicity: dict[str, Any] | None = None
        self.appointed: dict[str, dict[str, Any]] = {}  # by candidate_id
        self.holds: dict[str, list[UUID]] = {}  # candidate_id -> the reports holding them
        # candidate_id -> every report that ever held them -> the case it opened or joined
        # (None for a hold placed by hand): a report holds a candidate once.
        self.held_by: dict[str, dict[UUID, UUID | None]] = {}
        self.withdrawn_on: dt.date | None = None
        # Who answers for each step (ResponsibilityStep's values): the proposers nominate; the
        # recommendation's organizers, the inspectors, those consulted in the deliberation and
        # the decision makers, as their steps are recorded.
        self.people: dict[str, list[Person]] = {"nomination": [dict(p) for p in proposers]}
        # Candidates whose appointment (or decision) is void, by candidate_id (responsibility.py).
        self.voided: dict[str, dict[str, Any]] = {}
        # Everyone held responsible for the selection, in the order recorded.
        self.responsibilities: list[dict[str, Any]] = []

    # -- queries ---------------------------------------------------------------------------

    def answers_for(self, step: str, person: Person) -> bool:
        """Whether ``person`` (by name, and unit when both give one) is among the people the
        record names for ``step``."""
        return any(
            p.get("name") == person.get("name")
            and (not p.get("unit") or not person.get("unit") or p["unit"] == person["unit"])
            for p in self.people.get(step, [])
        )

    def held(self, candidate_id: str) -> bool:
        return bool(self.holds.get(candidate_id))

    def in_circumstance(self, day: dt.date) -> bool:
        """Whether ``day`` falls within a recorded institutional change or principal
        leader's transfer (both ends included)."""
        return any(c["starts_on"] <= day <= c["ends_on"] for c in self.circumstances)

    def in_notice(self, day: dt.date) -> bool:
        """Whether ``day`` falls within the inspection announcement's period or the
        pre-appointment publicity's (both ends included)."""
        periods = [p for p in (self.announcement, self.publicity) if p is not None]
        return any(p["starts_on"] <= day <= p["ends_on"] for p in periods)

    # -- the sealed trigger ----------------------------------------------------------------

    def _permit(self, action: str, actor: Actor, on: dt.date) -> None:
        """Role and stage (``STEP_ORDER``), then the step's date (``DATES_IN_ORDER``)."""
        rules.permit(action, role_of(actor), self.stage)
        rules.DATES_IN_ORDER.require(on >= self.last_on)

    def _record(self, event_class: type[Aggregate.Event], **fields: Any) -> None:
        trigger_sealed(self, self.chain_head, event_class, fields)


def distinct(candidate_ids: list[str]) -> None:
    """``CANDIDATES_DISTINCT``: at least one candidate, each once."""
    rules.CANDIDATES_DISTINCT.require(
        bool(candidate_ids) and len(set(candidate_ids)) == len(candidate_ids)
    )


def period(starts_on: dt.date, ends_on: dt.date) -> dict[str, dt.date]:
    """``PERIOD_IN_ORDER``: a period as the events store it."""
    rules.PERIOD_IN_ORDER.require(ends_on >= starts_on)
    return {"starts_on": starts_on, "ends_on": ends_on}
