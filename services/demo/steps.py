"""What the demo's plans are made of, below the planner and the stories: the demo's today,
its actors, a ``Step`` (a command on its business day) and a ``Story`` (one aggregate's
steps), and ``business_day`` (the day an application believes it is while a step runs).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

from schemas import commands as c
from schemas.events import Actor
from schemas.glossary import Role
from services.calendar.deadlines import WorkingDayCalendar
from services.casework.application import CaseworkApplication
from services.intake.application import IntakeApplication

DEMO_TODAY = dt.date(2026, 11, 30)  # the demo's today (a Monday): nothing later is done
CALENDAR = WorkingDayCalendar()  # plausible working days for the business dates

# The demo accounts (services/accounts/demo.py) that act in the stories.
OPERATOR, HANDLER, HANDLER2, LEADER = "operator", "handler", "handler2", "leader"
ROLES: dict[str, Role] = {
    OPERATOR: Role.OPERATOR,
    HANDLER: Role.HANDLER,
    HANDLER2: Role.HANDLER,
    LEADER: Role.LEADER,
}
HANDLER_NAMES = {HANDLER: "张强", HANDLER2: "李娜"}
DESK = Actor(id=OPERATOR, role=Role.OPERATOR)  # the demo operator registers by hand


# -- steps and stories -------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    on: dt.date
    action: str
    actor: str
    command: c.Command


@dataclass
class Story:
    """The steps one aggregate (a report or a case) goes through, oldest first."""

    kind: Literal["report", "case"]
    key: str  # the report's Idempotency-Key; "<key>#WG" for a linked false-accusation case
    target: UUID
    path: str
    steps: list[Step] = field(default_factory=list)
    phase: int = 0  # reports: joins run after every other triage; cases: linked ones last

    def due(self, today: dt.date = DEMO_TODAY) -> list[Step]:
        return [step for step in self.steps if step.on <= today]


def workday_on_or_after(day: dt.date) -> dt.date:
    while not CALENDAR.is_workday(day):
        day += dt.timedelta(days=1)
    return day


@contextmanager
def business_day(app: CaseworkApplication | IntakeApplication, day: dt.date) -> Iterator[None]:
    """While a step runs, the application's today is the step's date (the day a step without
    a stated date is recorded on, and the deadlines it computes): never the wall clock's."""
    attribute = "today" if isinstance(app, CaseworkApplication) else "_today"
    saved = getattr(app, attribute)
    setattr(app, attribute, lambda: day)
    try:
        yield
    finally:
        setattr(app, attribute, saved)


def take_case_steps(
    casework: CaseworkApplication, case_id: UUID, steps: Sequence[Step], today: dt.date
) -> int:
    """The steps the case has not taken yet (one event each, so its version says how many it
    took), up to ``today``, each on its business day; how many this call took."""
    case = casework.get_case(case_id)
    taken = 0
    for step in steps[case.version - 1 :]:
        if step.on > today:
            break
        actor = {"id": step.actor, "role": ROLES[step.actor].value}
        with business_day(casework, step.on):
            casework.execute(case_id, step.action, step.command, actor)
        taken += 1
    return taken
