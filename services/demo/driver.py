"""Running the stories: each through intake's triage and casework's commands as the demo
accounts, on its business days, resuming where the aggregate's own events say it stands.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from schemas.events import Actor
from schemas.glossary import Role
from services.casework.application import CaseworkApplication
from services.casework.handlers import COMMANDS
from services.casework.rules import RECORDS
from services.common.procedure import ProcedureError
from services.demo.steps import DEMO_TODAY, ROLES, Step, Story, business_day
from services.intake.application import IntakeApplication
from services.intake.triage import TRIAGE_COMMANDS

if TYPE_CHECKING:
    from services.bootstrap import EmbeddedSystem

log = logging.getLogger(__name__)

REPORT_EVENTS: dict[str, str] = {
    "accept": "Accepted",
    "mark_repeat": "Triaged:repeat",
    "forward_up": "Triaged:forwarded_up",
    "transfer_down": "Triaged:transferred_down",
    "acknowledge_transfer": "Triaged:transfer_acknowledged",
    "refer_out": "Triaged:referred_out",
    "record_referral_result": "Triaged:referral_concluded",
    "propose_return": "Triaged:return_proposed",
    "approve_return": "Triaged:returned",
    "reject_return": "Triaged:registered",
    "verify_identity": "IdentityVerified",
    "send_acceptance_notice": "AcceptanceNoticeSent",
    "identify_subject": "SubjectIdentified",
}


def report_progress(intake: IntakeApplication, report_id: UUID) -> list[str] | None:
    """The demo-relevant steps a report has been through, as ``REPORT_EVENTS`` names them."""
    events: list[Any] = list(intake.events.get(report_id))
    if not events:
        return None
    done = []
    for event in events:
        name = type(event).__name__
        if name in ("Received", "Registered", "SealedContentHandedOver", "SealedContentOpened"):
            continue  # not triage (the sealed content's handover: services/demo/sealed.py)
        if name == "Accepted" and event.actor.get("role") == Role.SYSTEM.value:
            continue  # the intake policy's, not a triage step
        done.append(f"Triaged:{event.outcome}" if name == "Triaged" else name)
    return done


def case_progress(casework: CaseworkApplication, case_id: UUID) -> list[str] | None:
    events: list[Any] = list(casework.events.get(case_id))
    if not events:
        return None
    return [type(e).__name__ for e in events if type(e).__name__ not in ("Opened", "ReportJoined")]


def _actor(username: str) -> Actor:
    return Actor(id=username, role=ROLES[username])


def pending(
    story: Story, done: list[str] | None, tally: Counter[str], today: dt.date = DEMO_TODAY
) -> list[Step]:
    """The story's steps up to ``today`` that its aggregate's events do not show yet."""
    steps = story.due(today)
    names = REPORT_EVENTS if story.kind == "report" else RECORDS
    expected = [names[step.action] for step in steps]
    if done is None:
        tally["stories_missing"] += 1
        log.warning("demo: %s %s not found; its story is skipped", story.kind, story.key)
        return []
    if done[: len(expected)] == expected:
        return []  # told already
    if expected[: len(done)] != done:
        tally["stories_diverged"] += 1
        log.warning(
            "demo: %s %s was changed outside the demo; left as it is", story.kind, story.key
        )
        return []
    return steps[len(done) :]


def _stopped(story: Story, step: Step, error: ProcedureError, tally: Counter[str]) -> None:
    tally["stories_failed"] += 1
    log.warning("demo: %s %s stopped at %s: %s", story.kind, story.key, step.action, error)


def run_report_story(
    intake: IntakeApplication, story: Story, steps: Sequence[Step], tally: Counter[str]
) -> None:
    """The steps through intake's own triage handlers, saved together (one transaction per
    report rather than per step: seeding stays quick)."""
    report = intake.get_report(story.target)
    taken = 0
    for step in steps:
        try:
            with business_day(intake, step.on):
                TRIAGE_COMMANDS[step.action][1](
                    intake, report, step.command, _actor(step.actor).model_dump(mode="json")
                )
        except ProcedureError as error:
            _stopped(story, step, error, tally)
            break
        taken += 1
    if taken:
        intake.save(report)
        tally["steps_added:report"] += taken


def run_case_story(
    casework: CaseworkApplication, story: Story, steps: Sequence[Step], tally: Counter[str]
) -> None:
    """The steps through casework's own command handlers (``COMMANDS``, as ``execute``
    runs them), each on its business day, saved together with any case they open."""
    case = casework.get_case(story.target)
    opened: list[Any] = []
    taken = 0
    for step in steps:
        actor = {"id": step.actor, "role": ROLES[step.actor].value}
        try:
            with business_day(casework, step.on):
                opened += COMMANDS[step.action][1](casework, case, step.command, actor)
        except ProcedureError as error:
            _stopped(story, step, error, tally)
            break
        taken += 1
    if taken:
        casework.save(case, *opened)
        tally["steps_added:case"] += taken


def drive(
    system: EmbeddedSystem, stories: Sequence[Story], today: dt.date = DEMO_TODAY
) -> Counter[str]:
    """Run every story up to ``today`` (reports first, then cases); what this run added
    or skipped. An earlier ``today`` leaves the demo as it stood then (tests)."""
    intake, casework = system.intake, system.casework
    tally: Counter[str] = Counter()
    for phase in (0, 1):
        for story in stories:
            if story.kind == "report" and story.phase == phase and story.due(today):
                steps = pending(story, report_progress(intake, story.target), tally, today)
                if steps:
                    run_report_story(intake, story, steps, tally)
        # Casework opens the accepted cases; joins (phase 1) need their case opened first.
        system.catch_up()
    for phase in (0, 1):
        for story in stories:
            if story.kind == "case" and story.phase == phase and story.due(today):
                steps = pending(story, case_progress(casework, story.target), tally, today)
                if steps:
                    run_case_story(casework, story, steps, tally)
    system.catch_up()
    return tally
