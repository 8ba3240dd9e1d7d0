"""Responsibility for a selection (选人用人责任追究) and voided appointments (任免决定无效).

"突击提拔调整干部的，作出的干部任免决定一律无效，并按规定对有关责任人进行处理" (seed 000, 四.3);
"谁推荐谁负责，谁考察谁负责，谁决策谁负责" (seed 003, 二.5). Both rest on a basis, a concluded
case (the application checks that its conclusion is approved: ``BASIS_CONCLUDED``; a
supervision project is a later basis), and both are the office's approval: leaders only
(``rules.ACCOUNTABLE``).

- ``AppointmentVoided``: candidates approved by the decision (appointed or not yet) whose
  appointment or decision is void, on a named ground (``VoidGround``). When every approved
  candidate is void, the selection is too (``SelectionStage.VOIDED``): the event says so
  (``selection_void``), so that the stage is read from the event alone.
- ``ResponsibilityTaken``: one person held responsible for the step they answer for
  (``ResponsibilityStep``), with the handling (``AccountabilityHandling``) and, for an
  organizational handling, its effects as the office's table has them when it is decided
  (as a case's ``HandlingDecided`` records them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from schemas.glossary import AccountabilityHandling, BasisKind, ResponsibilityStep, VoidGround
from services.casework.selection import rules
from services.casework.selection.record import (
    Actor,
    Person,
    SelectionEvent,
    SelectionRecord,
    distinct,
)


class AppointmentVoided(SelectionEvent):
    """The appointment (or the decision, if not yet appointed) of ``candidates`` is void.
    Each candidate as the record names them (and the post, if appointed), and the
    selection's unit and posts: what a cadre's archive keeps of it, from this event alone."""

    TOPIC = "jiandu.casework:Selection.AppointmentVoided"
    unit: str
    posts: list[str]
    candidates: list[dict[str, Any]]
    ground: str
    basis_kind: str
    basis_id: UUID
    document_number: str
    # Every approved candidate is now void: the selection is (SelectionStage.VOIDED).
    selection_void: bool

    def apply(self, selection: SelectionRecord) -> None:
        for candidate in self.candidates:
            candidate_id = candidate["candidate_id"]
            selection.voided[candidate_id] = {
                "candidate_id": candidate_id,
                "ground": self.ground,
                "basis_kind": self.basis_kind,
                "basis_id": str(self.basis_id),
                "document_number": self.document_number,
                "reason": self.reason,
                "on": self.on,
            }


class ResponsibilityTaken(SelectionEvent):
    """One person held responsible for a step of the selection, and how."""

    TOPIC = "jiandu.casework:Selection.ResponsibilityTaken"
    unit: str
    posts: list[str]
    person: Person
    step: str
    handling: str
    effects: dict[str, Any]
    basis_kind: str
    basis_id: UUID
    document_number: str

    def apply(self, selection: SelectionRecord) -> None:
        selection.responsibilities.append(
            {
                "person": dict(self.person),
                "step": self.step,
                "handling": self.handling,
                "effects": dict(self.effects),
                "basis_kind": self.basis_kind,
                "basis_id": str(self.basis_id),
                "document_number": self.document_number,
                "reason": self.reason,
                "on": self.on,
            }
        )


def _basis(basis_kind: BasisKind | None, basis_id: UUID | None) -> dict[str, Any]:
    """``BASIS_REQUIRED``: the basis as the events store it."""
    rules.BASIS_REQUIRED.require(basis_kind is not None and basis_id is not None)
    return {"basis_kind": basis_kind, "basis_id": basis_id}


class ResponsibilitySteps(SelectionRecord):
    """An appointment declared void; a person held responsible."""

    def voided_candidate(self, candidate_id: str) -> dict[str, Any]:
        """The candidate as the recommendation named them, and the post if appointed."""
        named = self.candidates.get(candidate_id, {})
        fields = ("name", "unit", "position", "cadre_id")
        candidate = {"candidate_id": candidate_id} | {k: named[k] for k in fields if k in named}
        appointment = self.appointed.get(candidate_id)
        return candidate | {"post": appointment["post"] if appointment else ""}

    def void_appointment(
        self,
        *,
        candidates: list[str],
        ground: VoidGround,
        basis_kind: BasisKind | None,
        basis_id: UUID | None,
        actor: Actor,
        on: dt.date,
        document_number: str = "",
        reason: str = "",
    ) -> None:
        """Declare void the appointment (or decision) of approved ``candidates`` not yet void
        (``VOID_DECIDED_ONLY``), on ``ground``, on the basis of a concluded case."""
        self._permit("void_appointment", actor, on)
        distinct(candidates)
        rules.VOID_DECIDED_ONLY.require(
            all(c in self.approved and c not in self.voided for c in candidates)
        )
        basis = _basis(basis_kind, basis_id)
        void_after = set(self.voided) | set(candidates)
        self._record(
            AppointmentVoided,
            actor=actor,
            reason=reason,
            on=on,
            unit=self.unit,
            posts=list(self.posts),
            candidates=[self.voided_candidate(c) for c in candidates],
            ground=ground,
            document_number=document_number,
            selection_void=set(self.approved) <= void_after,
            **basis,
        )

    def take_responsibility(
        self,
        *,
        person: Person,
        step: ResponsibilityStep,
        handling: AccountabilityHandling,
        effects: dict[str, Any],
        basis_kind: BasisKind | None,
        basis_id: UUID | None,
        actor: Actor,
        on: dt.date,
        document_number: str = "",
        reason: str = "",
    ) -> None:
        """Hold ``person`` responsible for ``step`` with ``handling`` (and its ``effects``,
        from the office's table). The step must be one the record has people for
        (``STEP_ON_RECORD``); a person the record does not name for it needs a reason
        (``PERSON_ON_RECORD``)."""
        self._permit("take_responsibility", actor, on)
        step_name = ResponsibilityStep(step).value
        rules.STEP_ON_RECORD.require(bool(self.people.get(step_name)))
        rules.PERSON_ON_RECORD.require(self.answers_for(step_name, person) or bool(reason.strip()))
        basis = _basis(basis_kind, basis_id)
        self._record(
            ResponsibilityTaken,
            actor=actor,
            reason=reason,
            on=on,
            unit=self.unit,
            posts=list(self.posts),
            person={k: v for k, v in person.items() if v is not None},
            step=step,
            handling=handling,
            effects=dict(effects),
            document_number=document_number,
            **basis,
        )
