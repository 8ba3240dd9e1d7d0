"""Where a supervision project stands after each of its events: the one table (立项督查,
issue 14), like ``selection_stages.py`` for a selection.

The SupervisionProject aggregate (``services/casework/project/``) sets its ``stage`` from
this table as each event is applied; a read model of a later slice reads the same table.
Every stage is decided by the event's own type, never by the stage before it: a returned
conclusion always goes back to the investigation (a proposal needs findings, so a project
with a proposal was investigating).
"""

from __future__ import annotations

from schemas.glossary import ProjectStage

Ps = ProjectStage

FIXED: dict[str, ProjectStage] = {
    "ProjectOpened": Ps.OPENED,
    "ProjectTeamFormed": Ps.TEAM_FORMED,
    "ProjectPlanRecorded": Ps.PLANNED,
    "ProjectFindingRecorded": Ps.INVESTIGATING,
    "ProjectConclusionProposed": Ps.CONCLUSION_PROPOSED,
    "ProjectConclusionApproved": Ps.CONCLUDED,
    "ProjectConclusionReturned": Ps.INVESTIGATING,
    "ProjectReportedBack": Ps.REPORTED,
    "ProjectClosed": Ps.CLOSED,
}


def stage_after(event_type: str, data: object) -> ProjectStage | None:
    """The stage the project is in after this event; None when the event does not move it."""
    return FIXED.get(event_type)


# Every event type of a supervision project: the read models of cases ignore them, for a
# project is not a case (a projects read model is a later slice).
# Its documents (decision 0035) do not move the stage.
PROJECT_EVENT_TYPES = frozenset(FIXED) | frozenset({"ProjectDocumentIssued"})


def is_project_event(event_type: str) -> bool:
    return event_type in PROJECT_EVENT_TYPES
