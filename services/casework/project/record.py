"""What a supervision project knows, and the sealed trigger every command goes through.

``ProjectRecord`` holds the SupervisionProject's state (set in ``__init__`` from the opening,
changed by each event's ``apply``), and ``_permit``/``_record``: check the role and stage
(``rules.permit``) and the date (``DATES_IN_ORDER``); seal the event into the project's hash
chain (``chain.py``, as a case's and a selection's events are) and trigger it.

``ProjectCreated`` and ``ProjectEvent`` are the bases of every project event: as each event
is applied they keep the chain head and the last step's date current, and set ``stage`` from
the one table (``services/common/project_stages.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from eventsourcing.domain import Aggregate

from schemas.glossary import ProjectStage, Role, Verdict
from services.casework.chain import trigger_sealed
from services.casework.project import rules
from services.common.project_stages import stage_after

Actor = dict[str, str]
# A member of the team, or someone held responsible: name, unit, position, cadre_id?.
Person = dict[str, Any]
# A deadline as events carry it (services/calendar/deadlines.due_in_working_days).
Due = dict[str, Any]


def role_of(actor: Actor) -> Role:
    return Role(actor["role"])


class ProjectEventBase:
    """Mixin: as each event is applied, keeps the chain head, the stage and the last step's
    date current (every project event is a step: ``project_stages.FIXED``)."""

    chain: str
    on: dt.date

    def mutate(self, aggregate: Any) -> Any:
        # Its row in PROJECT_CONTRACTS (project.py), set on the class by ``bind``.
        event_type = type(self).CONTRACT[0]  # type: ignore[attr-defined]
        after = stage_after(event_type, self)
        result = super().mutate(aggregate)  # type: ignore[misc]
        project = result or aggregate
        project.chain_head = self.chain
        if after is not None:
            project.stage = after
            project.last_on = self.on
        return result


class ProjectCreated(ProjectEventBase, Aggregate.Created):
    TOPIC = "jiandu.casework:SupervisionProject.Created"
    chain: str


class ProjectEvent(ProjectEventBase, Aggregate.Event):
    TOPIC = "jiandu.casework:SupervisionProject.Event"
    chain: str
    actor: Actor
    reason: str
    on: dt.date


class ProjectRecord:
    """The SupervisionProject's state and the trigger its commands share."""

    # Set as each event is applied, from services/common/project_stages.py.
    stage: ProjectStage

    def __init__(
        self,
        *,
        selection_id: str,
        basis: list[str],
        irregularities: list[str],
        clues: str,
        document_number: str,
        plan_due: Due,
        conclusion_due: Due,
        actor: Actor,
        reason: str,
        on: dt.date,
        chain: str,
    ) -> None:
        self.selection_id = selection_id
        self.basis = list(basis)
        self.irregularities = list(irregularities)
        self.clues = clues
        self.opening_document = document_number
        self.opening_reason = reason
        self.opened_on = on
        self.opened_by = dict(actor)
        self.last_on = on
        self.chain_head = chain
        # Each deadline: {due, provisional, note, started_on, working_days, met_on}.
        self.deadlines: dict[str, dict[str, Any]] = {
            "project_plan": {**plan_due, "met_on": None},
            "project_conclusion": {**conclusion_due, "met_on": None},
        }
        self.team: dict[str, Any] | None = None
        self.plan: dict[str, Any] | None = None
        self.findings: list[dict[str, Any]] = []
        self.proposal: dict[str, Any] | None = None
        self.conclusion: dict[str, Any] | None = None  # the approved one
        self.returns: list[dict[str, Any]] = []
        self.report: dict[str, Any] | None = None
        self.closed_on: dt.date | None = None

    # -- queries ---------------------------------------------------------------------------

    @property
    def concluded(self) -> bool:
        """Whether the project's conclusion is approved (it stays so once reported, closed)."""
        return self.conclusion is not None

    @property
    def proven(self) -> bool:
        """An approved conclusion of true or partly true."""
        return self.conclusion is not None and Verdict(self.conclusion["verdict"]) in rules.PROVEN

    # -- the sealed trigger ----------------------------------------------------------------

    def _permit(self, action: str, actor: Actor, on: dt.date) -> None:
        """Role and stage (``STEP_ORDER``), then the step's date (``DATES_IN_ORDER``)."""
        rules.permit(action, role_of(actor), self.stage)
        rules.DATES_IN_ORDER.require(on >= self.last_on)

    def _record(self, event_class: type[Aggregate.Event], **fields: Any) -> None:
        trigger_sealed(self, self.chain_head, event_class, fields)


def distinct_people(people: list[Person]) -> bool:
    """No person named twice (by cadre id when given, else by name and unit)."""
    keys = [p.get("cadre_id") or f"{p['name']}|{p.get('unit', '')}" for p in people]
    return len(set(keys)) == len(keys)
