"""Where a selection stands after each of its events: the one table (decision 0034).

The Selection aggregate (``services/casework/selection/``) sets its ``stage`` from this
table as each event is applied; the selections read model (``services/projections/
selections/``) reads the same table as it projects the published events (like
``case_states.py`` for the case, decision 0029).
Every stage is decided by the event alone (its type, or for ``AppointmentVoided`` its
``selection_void``), never by the stage before it, so a projection needs no
read-modify-write. ``data`` is anything with the event's fields as attributes (the stored
event or its payload model).
"""

from __future__ import annotations

from schemas.glossary import SelectionStage

St = SelectionStage

# Event types (their public names) that always leave the selection in one stage. The others
# (CircumstanceRecorded, IntegrityOpinionsRequested, IntegrityOpinionRecorded, CandidateHeld, CandidateReleased,
# ResponsibilityTaken) record something about the selection without moving it on;
# AppointmentVoided moves it only when its data says so (``stage_after``).
FIXED: dict[str, SelectionStage] = {
    "SelectionProposed": St.PROPOSED,
    "RecommendationRecorded": St.RECOMMENDED,
    "InspectionAnnounced": St.INSPECTION_ANNOUNCED,
    "InspectionRecorded": St.INSPECTED,
    "DeliberationRecorded": St.DELIBERATED,
    "DecisionRecorded": St.DECIDED,
    "PublicityStarted": St.PUBLICIZED,
    "AppointmentRecorded": St.APPOINTED,
    "SelectionWithdrawn": St.WITHDRAWN,
}


def stage_after(event_type: str, data: object) -> SelectionStage | None:
    """The stage the selection is in after this event; None when the event does not move it.
    An ``AppointmentVoided`` that leaves no approved candidate standing says so
    (``selection_void``): the selection is void; otherwise it stays where it was."""
    if event_type == "AppointmentVoided":
        return St.VOIDED if getattr(data, "selection_void", False) else None
    return FIXED.get(event_type)


# Every event type of a selection (the Selection's SELECTION_CONTRACTS): the read models of
# cases ignore them, for a selection is not a case; the selections read model keeps them.
SELECTION_EVENT_TYPES = frozenset(FIXED) | frozenset(
    {
        "CircumstanceRecorded",
        "IntegrityOpinionRecorded",
        "IntegrityOpinionsRequested",
        "CandidateHeld",
        "CandidateReleased",
        "AppointmentVoided",
        "ResponsibilityTaken",
        "SelectionDocumentIssued",  # decision 0035
    }
)


def is_selection_event(event_type: str) -> bool:
    return event_type in SELECTION_EVENT_TYPES
