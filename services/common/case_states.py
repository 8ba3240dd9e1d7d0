"""Where a case stands after each casework event: the one table (decision 0029).

The Case aggregate (``services/casework/domain/``) sets its ``state`` from this table
as each event is applied, and the projections that show where a case stands (queues,
archives, liaison figures) read it from the same table as they project the published
events: there is no second state machine. Which commands are allowed in which state is
the other half of the procedure, ``services/casework/rules.PERMISSIONS``;
``tests/unit/test_case_states.py`` checks the two agree.

Every state is decided by the event's own data, never by the state before it, so a
projection needs no read-modify-write. ``data`` is anything with the event's fields as
attributes: the stored event itself, or its payload model (schemas/events.py), whose
fields are the same (``tests/unit/test_event_contracts.py``).
"""

from __future__ import annotations

from schemas.glossary import CaseState, Disposition, InquiryOutcome

S = CaseState

AFTER_DISPOSITION: dict[Disposition, CaseState] = {
    Disposition.TALK_INQUIRY: S.INQUIRY,
    Disposition.PRELIMINARY_VERIFICATION: S.VERIFICATION,
    Disposition.PARK: S.PARKED,
    Disposition.CLOSE: S.CLOSED,
    Disposition.TRANSFER_TO_DISCIPLINE: S.TRANSFERRED,
}

# Event types (their public names) that always leave the case in one state.
FIXED: dict[str, CaseState] = {
    "CaseOpened": S.OPEN,
    "DispositionProposed": S.DISPOSITION_PROPOSED,
    "DispositionReturned": S.ASSIGNED,
    "Reactivated": S.ASSIGNED,
    "ConclusionProposed": S.CONCLUSION_PROPOSED,
    "ConclusionApproved": S.CONCLUDED,
    "Closed": S.CLOSED,
    "Reopened": S.ASSIGNED,
}

# Event types whose resulting state their data decides (see ``state_after``).
DECIDED_BY_DATA = frozenset(
    {"HandlerAssigned", "DispositionApproved", "InquiryReplyEvaluated", "ConclusionReturned"}
)

FINISHED: frozenset[CaseState] = frozenset({S.CLOSED, S.TRANSFERRED})


def state_after(event_type: str, data: object) -> CaseState | None:
    """The state the case is in after this event; None when the event does not change it."""
    if event_type in FIXED:
        return FIXED[event_type]
    if event_type == "HandlerAssigned":
        # The first assignment moves an open case on; a reassignment changes only who.
        return S.ASSIGNED if getattr(data, "previous_handler_id", None) is None else None
    if event_type == "DispositionApproved":
        return AFTER_DISPOSITION[Disposition(getattr(data, "disposition"))]  # noqa: B009
    if event_type == "InquiryReplyEvaluated":
        escalated = InquiryOutcome(getattr(data, "outcome")) is InquiryOutcome.ESCALATED  # noqa: B009
        return S.VERIFICATION if escalated else None
    if event_type == "ConclusionReturned":
        # Back to the state the conclusion was proposed from. Events stored before
        # ``returns_to`` existed lack it: readers of the published events take verification
        # (the common case, and a state a handler can act from); the aggregate fills it in
        # from the proposal it remembers (``Case.ConclusionReturned.state_data``).
        returns_to = getattr(data, "returns_to", None)
        return S(returns_to) if returns_to else S.VERIFICATION
    return None
