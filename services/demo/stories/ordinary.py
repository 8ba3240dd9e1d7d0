"""The ordinary (random) case stories: a path drawn with the proportions an office would
recognise, then the conclusion, handling or clearing, closure and feedback it leads to.
"""

from __future__ import annotations

import datetime as dt

from schemas import commands as c
from schemas.glossary import (
    AdmonitionOutcome,
    Disposition,
    FindingKind,
    HandlingType,
    InquiryOutcome,
    Verdict,
)
from services.calendar.deadlines import add_calendar_months
from services.demo.steps import DEMO_TODAY, LEADER, workday_on_or_after
from services.demo.stories.plot import Plot


def ordinary(p: Plot) -> None:
    """A random path, with durations an office would recognise."""
    rng = p.rng
    p.wait(1, 5)
    p.assign()
    path = rng.choices(
        ("verification", "inquiry", "close", "park", "transfer", "returned"),
        weights=(36, 34, 12, 9, 5, 4),
    )[0]
    if path == "returned":
        p.wait(2, 8)
        p.propose(Disposition.PARK)
        p.wait(2, 6)
        p.do(
            "return_disposition",
            LEADER,
            c.ReturnWithReason(reason="线索较为具体，应当开展初步核实"),
        )
        path = "verification"
        p.story.path = "case:disposition_returned"
    else:
        p.story.path = f"case:{path}"
    if path == "verification":
        p.dispose(Disposition.PRELIMINARY_VERIFICATION)
        verify_and_conclude(p)
    elif path == "inquiry":
        p.dispose(Disposition.TALK_INQUIRY)
        outcome = rng.choices(tuple(InquiryOutcome), weights=(50, 35, 15))[0]
        p.story.path = f"case:inquiry_{outcome.value}"
        p.inquiry(outcome)
        if outcome is InquiryOutcome.ESCALATED:
            verify_and_conclude(p)
        elif outcome is InquiryOutcome.CLARIFIED:
            finish(p, rng.choice((Verdict.UNTRUE, Verdict.UNPROVEN, Verdict.UNPROVEN)))
        else:
            finish(p, Verdict.PARTLY_TRUE)
    elif path == "close":
        p.dispose(Disposition.CLOSE)
        if p.real_name:
            p.feedback()
    elif path == "transfer":
        p.dispose(Disposition.TRANSFER_TO_DISCIPLINE)
        if p.real_name and rng.random() < 0.5:
            p.feedback(text="您反映的问题已按规定移送县纪委监委处理。")
    else:
        p.dispose(Disposition.PARK)
        parked(p)


def parked(p: Plot) -> None:
    reviewed_on = p.day
    while True:
        reviewed_on = workday_on_or_after(
            add_calendar_months(reviewed_on, 3) + dt.timedelta(days=p.rng.randint(-5, 5))
        )
        if reviewed_on > DEMO_TODAY:
            return
        if p.rng.random() < 0.35:
            p.at(reviewed_on)
            p.do(
                "reactivate",
                p.handler,
                c.NewEvidence(
                    new_evidence="收到新的反映，提供了具体的时间、地点和经手人",
                    on=reviewed_on,
                ),
            )
            p.story.path = "case:park_reactivated"
            p.dispose(Disposition.PRELIMINARY_VERIFICATION)
            verify_and_conclude(p)
            return
        p.at(reviewed_on)
        p.do(
            "review_parked",
            p.handler,
            c.ReviewParked(reason="定期复查：暂无新的线索，继续暂存", reviewed_on=reviewed_on),
        )


def verify_and_conclude(p: Plot) -> None:
    kinds: list[FindingKind | None] = [None] * p.rng.randint(1, 3)
    if p.from_audit:
        kinds[0] = FindingKind.AUDIT
    for kind in kinds:
        p.finding(kind)
    overall = p.rng.choices(tuple(Verdict), weights=(22, 33, 25, 20))[0]
    finish(p, overall)


def finish(p: Plot, overall: Verdict) -> None:
    """Conclusion, handling or clearing, closure, feedback."""
    rng = p.rng
    p.conclude(overall)
    if overall is Verdict.TRUE:
        handling = rng.choices(
            (
                HandlingType.DISMISSAL,
                HandlingType.DEMOTION,
                HandlingType.REASSIGNMENT,
                HandlingType.ADMONITION,
                HandlingType.ORDERED_RESIGNATION,
                HandlingType.SUSPENSION,
                HandlingType.NON_LEADING_POST,
            ),
            weights=(2, 3, 4, 5, 1, 1, 2),
        )[0]
        p.handle(handling)
    elif overall is Verdict.PARTLY_TRUE:
        handling = rng.choices(
            (
                HandlingType.ADMONITION,
                HandlingType.REMINDER_TALK,
                HandlingType.CRITICISM,
                HandlingType.WRITTEN_SELF_EXAMINATION,
            ),
            weights=(3, 4, 3, 2),
        )[0]
        p.handle(handling)
    elif overall is Verdict.UNTRUE and rng.random() < 0.35:
        p.clearing()
    p.close()
    if p.real_name:
        p.feedback()
    for handling_id in list(p.follow_ups_open):
        on = workday_on_or_after(
            add_calendar_months(p.day, 5) + dt.timedelta(days=rng.randint(0, 40))
        )
        if on <= DEMO_TODAY:
            p.follow_up(handling_id, AdmonitionOutcome.IMPROVED, on)
