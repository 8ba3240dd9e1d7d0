"""The proposal, the circumstances that make a promotion suspect (an institutional change,
a principal leader's transfer), and the withdrawal of a selection."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.glossary import CircumstanceKind
from services.casework.selection import rules
from services.casework.selection.record import (
    Actor,
    Person,
    SelectionCreated,
    SelectionEvent,
    SelectionRecord,
    period,
)


class Proposed(SelectionCreated):
    """The proposal: the unit, the posts to fill, who proposed (and answers for it)."""

    TOPIC = "jiandu.casework:Selection.Proposed"
    unit: str
    posts: list[str]
    proposers: list[Person]
    document_number: str
    actor: Actor
    reason: str
    on: dt.date


class CircumstanceRecorded(SelectionEvent):
    """A period during which promotions are suspect (sudden promotions, seed 000, 4.3)."""

    TOPIC = "jiandu.casework:Selection.CircumstanceRecorded"
    kind: str
    starts_on: dt.date
    ends_on: dt.date
    description: str
    document_number: str

    def apply(self, selection: SelectionRecord) -> None:
        selection.circumstances.append(
            {"kind": self.kind, "starts_on": self.starts_on, "ends_on": self.ends_on}
        )


class Withdrawn(SelectionEvent):
    """The selection ends without (further) appointments."""

    TOPIC = "jiandu.casework:Selection.Withdrawn"

    def apply(self, selection: SelectionRecord) -> None:
        selection.withdrawn_on = self.on


class ProposalSteps(SelectionRecord):
    """A circumstance recorded; the selection withdrawn."""

    def record_circumstance(
        self,
        *,
        kind: CircumstanceKind,
        starts_on: dt.date,
        ends_on: dt.date,
        actor: Actor,
        on: dt.date,
        description: str = "",
        document_number: str = "",
        reason: str = "",
    ) -> None:
        """An institutional change or a principal leader's transfer, from ``starts_on`` to
        ``ends_on`` (both included): a decision meeting within it is refused
        (``SUDDEN_PROMOTION``)."""
        self._permit("record_circumstance", actor, on)
        fields: dict[str, Any] = period(starts_on, ends_on)
        self._record(
            CircumstanceRecorded,
            actor=actor,
            reason=reason,
            on=on,
            kind=CircumstanceKind(kind).value,
            description=description,
            document_number=document_number,
            **fields,
        )

    def withdraw(self, *, actor: Actor, on: dt.date, reason: str) -> None:
        """Withdraw: the selection ends, with its reason."""
        self._permit("withdraw", actor, on)
        rules.WITHDRAWAL_EXPLAINED.require(bool(reason.strip()))
        self._record(Withdrawn, actor=actor, reason=reason, on=on)
