"""The case's state after each casework event, read from the event alone.

Projections that show where a case stands (queues, archives, integrity replies, liaison
figures) each keep their own tables, so each can be rebuilt or added on its own; they
share this one reading of the state machine in ``services/casework/domain.py``. Every
transition is decided by the event's own payload, never by the state before it, so a
projection needs no read-modify-write.
"""

from __future__ import annotations

from schemas.events import (
    CaseOpenedV1,
    ConclusionReturnedV1,
    DispositionApprovedV1,
    HandlerAssignedV1,
    InquiryReplyEvaluatedV1,
    Payload,
)
from schemas.glossary import CaseState, Disposition, InquiryOutcome

S = CaseState

AFTER_DISPOSITION: dict[Disposition, CaseState] = {
    Disposition.TALK_INQUIRY: S.INQUIRY,
    Disposition.PRELIMINARY_VERIFICATION: S.VERIFICATION,
    Disposition.PARK: S.PARKED,
    Disposition.CLOSE: S.CLOSED,
    Disposition.TRANSFER_TO_DISCIPLINE: S.TRANSFERRED,
}

# Event types that always leave the case in one state.
FIXED: dict[str, CaseState] = {
    "DispositionProposed": S.DISPOSITION_PROPOSED,
    "DispositionReturned": S.ASSIGNED,
    "Reactivated": S.ASSIGNED,
    "ConclusionProposed": S.CONCLUSION_PROPOSED,
    "ConclusionApproved": S.CONCLUDED,
    "Closed": S.CLOSED,
    "Reopened": S.ASSIGNED,
}

FINISHED: frozenset[CaseState] = frozenset({S.CLOSED, S.TRANSFERRED})


def state_after(event_type: str, payload: Payload) -> CaseState | None:  # noqa: PLR0911
    """The state the case is in after this event; None when the event does not change it."""
    if event_type in FIXED:
        return FIXED[event_type]
    match payload:
        case CaseOpenedV1():
            return S.OPEN
        case HandlerAssignedV1():
            # The first assignment moves an open case on; a reassignment changes only who.
            return S.ASSIGNED if payload.previous_handler_id is None else None
        case DispositionApprovedV1():
            return AFTER_DISPOSITION[payload.disposition]
        case InquiryReplyEvaluatedV1() if payload.outcome is InquiryOutcome.ESCALATED:
            return S.VERIFICATION
        case ConclusionReturnedV1():
            # Events stored before ``returns_to`` existed went back to verification or
            # inquiry; verification is the common case and the state a handler can act from.
            return payload.returns_to or S.VERIFICATION
    return None
