"""Demonstration data for ``jiandu up --demo-data``: a fictional county's register and reports,
taken through the procedure for real.

Everything here is invented: 青山县 and its units, every cadre, every reporter, every phone
number. ``seed`` imports the register (``register.py``), submits the demo reports
(``reports.py``: random ones from a fixed seed and the featured ones of ``featured.py``),
plans every report's triage and every case's story (``planner.py``, with the stories of
``stories/``) and runs them through the real commands (``driver.py``), then the scenarios
told on their own (``stories/per_cadre.py``, ``stories/settling.py``, ``stories/sealed.py``, ``stories/selections.py``) and the
letters to real-name reporters (``stories/letters.py``).
Seeding the same data folder again adds nothing.

Imports go one way, downwards (tests/unit/test_import_layers.py fails on any cycle)::

    __init__ (seed, describe) -> planner -> stories/ -> steps
                              -> driver -> steps
                              -> reports -> register, report_tables, featured
    scale (jiandu demo --scale) -> scale_history -> reports, stories/, steps, register
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from schemas.glossary import Channel
from services.accounts.demo import ensure_demo_handlers
from services.demo.driver import drive
from services.demo.planner import Planner
from services.demo.register import REGISTER_CSV, read_register
from services.demo.reports import DEMO_SEED, REPORT_COUNT, demo_reports
from services.demo.steps import DEMO_TODAY, DESK
from services.demo.stories.letters import seed_letters
from services.demo.stories.per_cadre import seed_per_cadre
from services.demo.stories.sealed import hand_over_forwarded
from services.demo.stories.selections import seed_selections
from services.demo.stories.settling import seed_settled_items
from services.intake.domain import report_id_for_idempotency_key
from services.intake.errors import IdempotencyKeyReused

if TYPE_CHECKING:
    from services.bootstrap import EmbeddedSystem

__all__ = ["DEMO_TODAY", "DemoDataMismatch", "describe", "seed"]


def seed(
    system: EmbeddedSystem,
    *,
    register_csv: Path = REGISTER_CSV,
    count: int = REPORT_COUNT,
    rng_seed: int = DEMO_SEED,
    today: dt.date = DEMO_TODAY,
) -> dict[str, int]:
    """Import the demo register, submit the demo reports, triage them and drive the cases
    through the procedure (``planner.py``, ``driver.py``), build every projection; idempotent.

    Returns counts: cadres, reports (in the demo set), reports_added (new on this run),
    real_name, sealed, one ``channel:<name>`` per channel, cases, one ``path:<name>`` per
    triage outcome (``report:…``) and case path (``case:…``), the steps and events this run
    added, and stories skipped because their aggregate was changed outside the demo.
    """
    cadres = read_register(register_csv)
    imported = system.read.register.import_csv(register_csv)
    ensure_demo_handlers(system.accounts)
    intake_before = system.intake.max_position()
    casework_before = system.casework.max_position()
    reports = demo_reports(cadres, count=count, rng_seed=rng_seed)
    stories = Planner(reports, system.intake.policy, rng_seed, cadres).plan()
    added = 0
    for report in reports:
        if report_id_for_idempotency_key(report.key) not in system.intake.repository:
            added += 1
        channel = report.submission.channel
        try:
            # Registered on the day it arrived, as the office's ledger would show it.
            system.intake.submit(
                report.submission,
                idempotency_key=report.key,
                registered_on=report.submission.received_on,
                actor=None if channel is Channel.MAILBOX else DESK,
                # The demo's reports keep the ids its stories plan with.
                import_id=report_id_for_idempotency_key(report.key),
            )
        except IdempotencyKeyReused:
            raise DemoDataMismatch(report.key) from None
    tally = drive(system, stories, today)
    hand_over_forwarded(system.intake, (report_id_for_idempotency_key(r.key) for r in reports))
    scenario = seed_per_cadre(system, today)  # issue 10: verdicts per cadre (stories/per_cadre.py)
    tally["steps_added:case"] += scenario["steps_added"]
    added += scenario["reports_added"]
    settled = seed_settled_items(system, today)  # items that left the office, settled
    selections = seed_selections(system, today)  # issue 14: selections on the record
    # issue 14: letters to real-name reporters (stories/letters.py)
    letters = seed_letters(system, (report_id_for_idempotency_key(r.key) for r in reports))
    added += selections["selection_reports_added"]
    channels = Counter(r.submission.channel for r in reports)
    paths = Counter(story.path for story in stories)
    return {
        "cadres": imported,
        "reports": len(reports) + scenario["reports"] + selections["selection_reports"],
        "reports_added": added,
        "real_name": sum(not r.submission.reporter.anonymous for r in reports),
        "sealed": sum(r.submission.sealed for r in reports),
        **{f"channel:{channel.value}": channels[channel] for channel in Channel},
        "cases": sum(story.kind == "case" for story in stories)
        + scenario["cases"]
        + settled["settling_cases"]
        + selections["selection_reports"],  # each report about a selection opens a case
        **{f"path:{path}": n for path, n in sorted(paths.items())},
        "steps_added": tally["steps_added:report"]
        + tally["steps_added:case"]
        + settled["settling_steps_added"]
        + selections["selection_case_steps_added"],
        "settling_reports": settled["settling_reports"],
        **selections,
        **letters,
        "stories_skipped": tally["stories_diverged"]
        + tally["stories_missing"]
        + tally["stories_failed"],
        "intake_events_added": system.intake.max_position() - intake_before,
        "casework_events_added": system.casework.max_position() - casework_before,
    }


def describe(counts: dict[str, int]) -> list[str]:
    """A few lines for the console: what the demo holds and what this run added."""

    def by(prefix: str) -> str:
        return ", ".join(
            f"{key.removeprefix(prefix)} {n}" for key, n in counts.items() if key.startswith(prefix)
        )

    lines = [
        f"demo data: {counts['cadres']} cadres, {counts['reports']} reports "
        f"({counts['reports_added']} new this run), {counts['cases']} cases; "
        f"{counts['steps_added']} procedure steps taken this run",
        f"  channels: {by('channel:')}",
        f"  triage: {by('path:report:')}",
        f"  cases: {by('path:case:')}",
        f"  selections: {counts.get('selections', 0)} "
        f"({counts.get('selection_steps_added', 0)} steps taken this run)",
        f"  letters to real-name reporters: {counts.get('acceptance_letters', 0)} 受理告知书, "
        f"{counts.get('feedback_letters', 0)} 反馈意见书",
    ]
    if counts["stories_skipped"]:
        lines.append(
            f"  {counts['stories_skipped']} stories skipped: their report or case was changed "
            "outside the demo (see the log)"
        )
    return lines


class DemoDataMismatch(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(
            f"this data folder holds different demo data under the key {key} (made by another "
            "version of the demo): seed a new data folder (--data) instead"
        )
