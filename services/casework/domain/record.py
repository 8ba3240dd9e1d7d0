"""What a case knows, and the sealed trigger every command goes through.

``CaseRecord`` holds the Case's state (set in ``__init__`` from the opening event, changed
by each event's ``apply``), the queries the commands ask of it, and ``_do``/``_trigger``:
check the permission (``rules.permit``), seal the event into the case's hash chain
(``chain.py``) and trigger it. The stage modules (``opening``, ``disposition``,
``conclusion``, ``clearing``, ``closing``) hold the events and the commands; ``case.py``
puts them together as the ``Case`` aggregate.

``CaseCreated`` and ``CaseEvent`` are the bases of every Case event (``Case.Created``,
``Case.Event``): as each event is applied they keep the chain head current and set ``state``
from the one table the projections read too (``services/common/case_states.py``, decision
0029).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from schemas.glossary import CaseKind, CaseState, Disposition, Role, Verdict
from services.casework import rules
from services.casework.chain import trigger_sealed
from services.casework.domain.verdicts import subject_key
from services.common.case_states import state_after

S = CaseState
Actor = dict[str, str]
# Steps the case takes by itself (a proposal returned because a report joined after it).
SYSTEM_ACTOR: Actor = {"id": "system", "role": Role.SYSTEM.value}


def role_of(actor: Actor) -> Role:
    return Role(actor["role"])


class CaseEventBase:
    """Mixin: as each event is applied, keeps the case's chain head current and sets its
    state from the one table of where a case stands after each event
    (``services/common/case_states.py``, which the projections read too)."""

    chain: str

    def state_data(self, case: Any) -> object:
        """The data the state table reads: the event's own fields."""
        return self

    def mutate(self, aggregate: Any) -> Any:
        # Its row in CASE_CONTRACTS (case.py), set on the class by ``bind``.
        event_type = type(self).CONTRACT[0]  # type: ignore[attr-defined]
        after = state_after(event_type, self.state_data(aggregate))
        result = super().mutate(aggregate)  # type: ignore[misc]
        case = result or aggregate
        case.chain_head = self.chain
        if after is not None:
            case.state = after
        return result


class CaseCreated(CaseEventBase, Aggregate.Created):
    TOPIC = "jiandu.casework:Case.Created"
    chain: str


class CaseEvent(CaseEventBase, Aggregate.Event):
    TOPIC = "jiandu.casework:Case.Event"
    chain: str
    actor: Actor
    reason: str


class CaseRecord:
    """The Case's state and the queries and trigger its commands share (a base of ``Case``)."""

    # Set as each event is applied, from services/common/case_states.py (CaseEventBase).
    state: CaseState

    def __init__(
        self,
        *,
        kind: str,
        report_id: UUID | None,
        ledger_number: str,
        channel: str,
        categories: list[str],
        subjects: list[dict[str, Any]],
        summary: str,
        received_on: dt.date,
        reporter: dict[str, Any] | None,
        linked_case_id: UUID | None,
        routing: dict[str, str] | None,
        actor: Actor,
        reason: str,
        chain: str,
        opened_on: dt.date | None = None,
    ) -> None:
        self.kind = CaseKind(kind)
        self.report_ids: list[UUID] = [report_id] if report_id else []
        self.ledger_number = ledger_number
        self.channel = channel
        self.categories = list(categories)
        self.subjects = list(subjects)
        # What each subject's own reports allege (by subject_key): a verdict is asked on
        # those (cadre, category) pairs only.
        self.allegations: dict[str, list[str]] = {
            subject_key(s): list(categories) for s in subjects
        }
        self.summary = summary
        self.received_on = received_on
        self.opened_on = opened_on
        self.real_name_reporters = 0 if (reporter or {}).get("anonymous", True) else 1
        self.linked_case_id = linked_case_id
        self.routing = routing
        self.chain_head = chain
        self.handler_id: str | None = None
        self.proposed_disposition: Disposition | None = None
        self.disposition: Disposition | None = None
        self.inquiry: dict[str, Any] = {}
        self.findings = 0
        self.proposed_conclusion: dict[str, Any] | None = None
        self.conclusion: dict[str, Any] | None = None
        self.handlings: list[dict[str, Any]] = []
        self.clearings: dict[str, dict[str, Any]] = {}  # by subject_key
        self.last_clearing: str | None = None
        self.false_accusation_case_id: UUID | None = None
        self.false_accusations: dict[str, UUID] = {}  # by subject_key ("": the whole case)
        self.escalations: dict[int, dict[str, Any]] = {}  # admonition id -> {to, decided}
        self.referrals: list[dict[str, Any]] = []
        self.closed_on: dt.date | None = None
        self.deadlines: dict[str, dict[str, Any]] = {}
        self.feedback_given = 0
        self.open_objections = 0
        self.reopenings = 0
        self.publicity_hold: dict[str, Any] | None = None
        self.discipline_result: dict[str, Any] | None = None

    # -- per cadre -------------------------------------------------------------------------

    @property
    def clearing(self) -> dict[str, Any]:
        """The clearing last proposed ({} when none): the case view's one-line summary."""
        return self.clearings.get(self.last_clearing or "", {})

    def clearing_of(self, cadre: dict[str, Any] | None) -> dict[str, Any]:
        """The clearing of ``cadre``; None (events stored before clearings were per cadre):
        the case's one clearing."""
        if cadre is None:
            return self.clearings[self.last_clearing or ""]
        return self.clearings[subject_key(cadre)]

    def alleged(self) -> dict[str, list[str]]:
        """The categories each subject's own reports allege (by subject_key). A case restored
        from state saved before this was kept: every subject on every category, as then."""
        if getattr(self, "allegations", None) is None:
            self.allegations = {subject_key(s): list(self.categories) for s in self.subjects}
        return self.allegations

    def alleged_pairs(self) -> set[tuple[str, str]]:
        """(subject_key, category): what a conclusion must give a verdict on, and only that."""
        return {(key, cat) for key, cats in self.alleged().items() for cat in cats}

    def unconcluded(self, cadre_verdicts: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """The alleged (subject_key, category) pairs ``cadre_verdicts`` give no verdict on."""
        given = {(subject_key(r["cadre"]), r["category"]) for r in cadre_verdicts}
        return sorted(self.alleged_pairs() - given)

    def _unconcluded_pairs(self) -> list[tuple[str, str]]:
        """What the standing conclusion leaves out; closed without a conclusion (予以了结):
        nothing alleged before was left out."""
        if self.conclusion is None:
            return []
        return self.unconcluded(self.conclusion["cadre_verdicts"])

    def verdict_of(self, cadre: dict[str, Any]) -> Verdict | None:
        """The cadre's overall verdict in the approved conclusion (None: no conclusion)."""
        if self.conclusion is None:
            return None
        entry = self.conclusion["by_cadre"].get(subject_key(cadre))
        return Verdict(entry["overall"]) if entry else None

    # -- the sealed trigger ----------------------------------------------------------------

    def _do(
        self,
        action: str,
        actor: Actor,
        event_class: type[Aggregate.Event],
        *,
        reason: str = "",
        **fields: Any,
    ) -> None:
        rules.permit(action, role_of(actor), self.state)
        self._trigger(event_class, actor=actor, reason=reason, **fields)

    def _trigger(self, event_class: type[Aggregate.Event], **fields: Any) -> None:
        trigger_sealed(self, self.chain_head, event_class, fields)

    def _as_handler(self, actor: Actor, action: str | None = None) -> None:
        """Handlers act only on their own cases (after the role and state are permitted)."""
        if action is not None:
            rules.permit(action, role_of(actor), self.state)
        if role_of(actor) is Role.HANDLER:
            rules.ASSIGNED_HANDLER_ONLY.require(actor["id"] == self.handler_id)

    def named_cadre(self, cadre: dict[str, Any]) -> dict[str, Any]:
        """The subject of the case ``cadre`` names (refused by the named-cadre rule if none)."""
        return self._named_cadre(cadre)

    def _named_cadre(self, cadre: dict[str, Any]) -> dict[str, Any]:
        for subject in self.subjects:
            same_id = cadre.get("cadre_id") and subject.get("cadre_id") == cadre.get("cadre_id")
            same_name = subject["name"] == cadre.get("name") and (
                not cadre.get("unit") or subject.get("unit") == cadre.get("unit")
            )
            if same_id or same_name:
                return subject
        rules.NAMED_CADRE.require(False)
        raise AssertionError  # unreachable
