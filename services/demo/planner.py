"""The demo's plan: every report triaged, every case taken along a path.

Planning is pure and deterministic (a fixed seed and the demo's own today, 2026-11-30):
each report gets a fate (triage) and each case a *story*, a list of steps with business
dates (``decided_on``, ``sent_on`` … as the commands accept them). Steps dated after
``DEMO_TODAY`` are not taken, so recent reports and cases stand at every stage and the
queues (untriaged, mine, due soon, overdue, awaiting approval) all hold something.

The stories themselves are told in ``stories/`` (a case's ``Plot``, the ordinary and the
featured cases, the reports' triage steps); ``driver.py`` runs the plan through intake's
triage and casework's commands.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from schemas import commands as c
from schemas.glossary import Category, ReferralSource
from schemas.submissions import ReportedCadre
from services.casework.handlers import false_accusation_case_id
from services.demo.steps import DEMO_TODAY, LEADER, OPERATOR, Step, Story, workday_on_or_after
from services.demo.stories.featured_cases import FEATURED_STORIES, false_accusation_case
from services.demo.stories.ordinary import ordinary
from services.demo.stories.plot import Plot, report_subject
from services.demo.stories.triage import (
    OUT_UNITS,
    REFERRAL_RESULTS,
    RETURN_REASONS,
    TOWNSHIP,
    UNTRIAGED_SINCE,
    UPPER_AUTHORITY,
    in_scope,
    person,
    referral_result,
    reporter_steps,
    subject_identifications,
)
from services.intake.base import IntakePolicy
from services.intake.domain import case_id_for_report, report_id_for_idempotency_key

if TYPE_CHECKING:
    from schemas.views import CadreRecord
    from services.demo.reports import DemoReport


@dataclass
class _CaseSeed:
    report: DemoReport
    opened_on: dt.date
    categories: list[str]
    real_name: bool
    story: Story
    open_until: dt.date | None = None
    # Each cadre named, with the allegations made against them (joined reports add theirs).
    alleged: dict[tuple[str, str], tuple[ReportedCadre, list[str]]] = field(default_factory=dict)

    def allege(self, report: DemoReport) -> None:
        for subject in report.submission.subjects:
            _, cats = self.alleged.setdefault(person(subject), (subject, []))
            cats += [c.value for c in report.submission.categories if c.value not in cats]


class Planner:
    """Every report's triage and every case's story, from the reports alone."""

    def __init__(
        self,
        reports: Sequence[DemoReport],
        policy: IntakePolicy,
        rng_seed: int,
        register: Sequence[CadreRecord] = (),
    ) -> None:
        self.reports = list(reports)
        # Who a name-only subject is, for the operator's confirmations (identify_subject).
        self.register = {(cadre.name, cadre.unit): cadre.cadre_id for cadre in register}
        self.policy = policy
        self.seed = rng_seed
        self.rng = random.Random(f"{rng_seed}:triage")  # noqa: S311 (fictional data)
        self.cases: dict[str, _CaseSeed] = {}  # by the opening report's key
        self.featured_keys: dict[str, str] = {}  # a featured story's tag → its report's key
        self.repeat_of: dict[str, str] = {}  # a repeat's key → the key of the report it repeats
        self.stories: list[Story] = []

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))  # noqa: S311

    def _day_after(self, day: dt.date, low: int, high: int) -> dt.date:
        return workday_on_or_after(day + dt.timedelta(days=self.rng.randint(low, high)))

    def plan(self) -> list[Story]:
        fates: dict[str, str] = {}
        joins: dict[str, tuple[str, dt.date]] = {}  # joining report → (case report, day)
        by_person: dict[tuple[str, str], list[DemoReport]] = {}
        triage_stories: list[tuple[DemoReport, Story]] = []
        for report in self.reports:
            fate = self._fate(report, by_person)
            fates[report.key] = fate
            if report.feature is not None:
                self.featured_keys[report.feature.tag] = report.key
            by_person.setdefault(person(report.submission.subjects[0]), []).append(report)
            story = Story("report", report.key, report_id_for_idempotency_key(report.key), "")
            triage_stories.append((report, story))
            if fate in ("case", "accept_new"):
                self._open_case(report, story)
        # Joins, once every case knows how long it stays open.
        for report, _ in triage_stories:
            if fates[report.key] == "join?":
                target = self._join_target(report)
                if target is None:
                    fates[report.key] = "refer_out"
                else:
                    fates[report.key] = "join"
                    joins[report.key] = target
                    seed = self.cases[target[0]]
                    seed.allege(report)
                    for cat in report.submission.categories:
                        if cat.value not in seed.categories:
                            seed.categories.append(cat.value)
                    seed.real_name = seed.real_name or not report.submission.reporter.anonymous
        for report, story in triage_stories:
            self._triage(report, story, fates[report.key], joins.get(report.key))
            story.steps += reporter_steps(report, self._rng(report.key, "identity"))
            story.steps += subject_identifications(
                report, self.register, self._rng(report.key, "subjects")
            )
            story.steps.sort(key=lambda step: step.on)
            self.stories.append(story)
        for seed in self.cases.values():
            self.stories += self._case_stories(seed)
        return self.stories

    # fates

    def _fate(  # noqa: PLR0911 — one decision table
        self, report: DemoReport, by_person: dict[tuple[str, str], list[DemoReport]]
    ) -> str:
        submission = report.submission
        received = submission.received_on or DEMO_TODAY
        if report.feature is not None and report.feature.fate != "case":
            return "join?" if report.feature.fate == "join" else report.feature.fate
        if report.feature is not None or in_scope(report):
            if self.policy.accepts_on_registration(submission) or report.feature is not None:
                return "case"  # a featured story is a case's: its report is accepted
            return "case" if received < UNTRIAGED_SINCE else "untriaged"
        rng = self.rng
        draw = rng.random()
        if received >= UNTRIAGED_SINCE:
            return "untriaged"
        if submission.sealed:
            return "forward_up"
        subject = submission.subjects[0]
        unit = subject.unit
        if TOWNSHIP.match(unit) and not unit.endswith(("党委", "人民政府")):
            return "transfer_down"
        earlier = [
            r
            for r in by_person.get(person(subject), [])
            if (received - (r.submission.received_on or received)).days <= 365
        ]
        if earlier and draw < 0.4:
            self.repeat_of[report.key] = earlier[-1].key
            return "repeat"
        draw = rng.random()
        if draw < 0.45:
            return "join?"
        if draw < 0.55:
            return "return"
        if draw < 0.65 and subject.cadre_id:
            return "accept_new"
        return "refer_out"

    # cases

    def _accept_day(self, report: DemoReport) -> dt.date:
        received = report.submission.received_on or DEMO_TODAY
        if self.policy.accepts_on_registration(report.submission) or report.feature is not None:
            return received  # a featured story's report: the operator accepts it that day
        return workday_on_or_after(
            received + dt.timedelta(days=self._rng(report.key, "accept").randint(0, 2))
        )

    def _open_case(self, report: DemoReport, triage: Story) -> None:
        opened_on = self._accept_day(report)
        case_id = case_id_for_report(triage.target)
        seed = _CaseSeed(
            report,
            opened_on,
            [cat.value for cat in report.submission.categories],
            not report.submission.reporter.anonymous,
            Story("case", report.key, case_id, ""),
        )
        seed.allege(report)
        self.cases[report.key] = seed
        seed.open_until = self._plot(seed).open_until

    def _plot(self, seed: _CaseSeed) -> Plot:
        """The case's story (into ``seed.story``); the same dates however often planned."""
        report = seed.report
        seed.story.steps.clear()
        plot = Plot(
            seed.story,
            self._rng(report.key),
            received=seed.opened_on,
            subject=report.submission.subjects[0],
            categories=seed.categories,
            real_name=seed.real_name,
            verdict_rng=self._rng(report.key, "verdicts"),
            co_subjects=report.submission.subjects[1:],
            alleged=list(seed.alleged.values()),
        )
        referral = report.submission.referral
        plot.from_audit = referral is not None and referral.source is ReferralSource.ECONOMIC_AUDIT
        if report.feature is not None:
            seed.story.path = f"case:{report.feature.tag}"
            FEATURED_STORIES[report.feature.tag](plot)
        else:
            ordinary(plot)
        return plot

    def _join_target(self, report: DemoReport) -> tuple[str, dt.date] | None:
        received = report.submission.received_on or DEMO_TODAY
        day = self._day_after(received, 1, 3)
        if report.feature is not None and report.feature.joins:
            return self.featured_keys[report.feature.joins], day
        who = person(report.submission.subjects[0])
        candidates = [
            seed
            for seed in self.cases.values()
            if seed.report.feature is None
            and person(seed.report.submission.subjects[0]) == who
            and seed.opened_on < day
            and (seed.open_until is None or seed.open_until > day)
        ]
        if not candidates or day > DEMO_TODAY:
            return None
        return max(candidates, key=lambda s: s.opened_on).report.key, day

    def _case_stories(self, seed: _CaseSeed) -> list[Story]:
        self._plot(seed)
        stories = [seed.story]
        suspected = [s for s in seed.story.steps if s.action == "suspect_false_accusation"]
        if suspected:
            linked = Story(
                "case",
                f"{seed.report.key}#WG",
                false_accusation_case_id(
                    seed.story.target, dict(report_subject(seed.report.submission.subjects[0]))
                ),
                "case:false_accusation_linked",
                phase=1,
            )
            plot = Plot(
                linked,
                self._rng(seed.report.key, "WG"),
                received=suspected[0].on,
                subject=seed.report.submission.subjects[0],
                categories=[Category.OTHER_CONDUCT.value],
                real_name=False,
                verdict_rng=self._rng(seed.report.key, "WG", "verdicts"),
            )
            false_accusation_case(plot)
            stories.append(linked)
        return stories

    # triage

    def _triage(
        self, report: DemoReport, story: Story, fate: str, join: tuple[str, dt.date] | None
    ) -> None:
        """The report's triage steps for its fate (into ``story``)."""
        received = report.submission.received_on or DEMO_TODAY
        story.path = f"report:{fate}"
        if fate in ("case", "accept_new"):
            self._accept(report, story, fate)
        elif fate == "join":
            assert join is not None
            self._join(story, join)
        elif fate == "repeat":
            self._repeat(report, story, received)
        elif fate == "forward_up":
            self._forward_up(story, received)
        elif fate == "transfer_down":
            self._transfer_down(report, story, received)
        elif fate == "return":
            self._return(story, received)
        elif fate == "refer_out":
            self._refer_out(story, received)
        elif fate == "return_proposed":
            on = self._day_after(received, 1, 2)
            story.steps.append(
                Step(on, "propose_return", OPERATOR, c.ReturnWithReason(reason=RETURN_REASONS[0]))
            )

    def _accept(self, report: DemoReport, story: Story, fate: str) -> None:
        story.path = "report:accepted"
        if fate == "case":
            if self.policy.accepts_on_registration(report.submission):
                return  # accepted by the intake policy on registration
            reason = "属于12380受理范围，予以受理"
        else:
            reason = "反映问题涉及选人用人，予以受理"
        story.steps.append(
            Step(self._accept_day(report), "accept", OPERATOR, c.Accept(reason=reason))
        )

    def _join(self, story: Story, join: tuple[str, dt.date]) -> None:
        target = self.cases[join[0]]
        story.phase = 1
        story.steps.append(
            Step(
                join[1],
                "accept",
                OPERATOR,
                c.Accept(
                    join_case_id=target.story.target,
                    reason="反映同一干部的相关问题，并入在办案件一并核查",
                ),
            )
        )

    def _repeat(self, report: DemoReport, story: Story, received: dt.date) -> None:
        original = self.repeat_of[report.key]
        story.steps.append(
            Step(
                self._day_after(received, 1, 3),
                "mark_repeat",
                OPERATOR,
                c.MarkRepeat(
                    of_report_id=report_id_for_idempotency_key(original),
                    reason="与此前反映的问题基本相同，未提供新的线索",
                ),
            )
        )

    def _forward_up(self, story: Story, received: dt.date) -> None:
        late = self.rng.random() < 0.2
        on = self._day_after(received, 8, 12) if late else self._day_after(received, 1, 4)
        story.steps.append(
            Step(
                min(on, DEMO_TODAY),
                "forward_up",
                OPERATOR,
                c.ForwardUp(
                    to_authority=UPPER_AUTHORITY, reason="反映对象为市管干部，按管理权限报送"
                ),
            )
        )

    def _transfer_down(self, report: DemoReport, story: Story, received: dt.date) -> None:
        match = TOWNSHIP.match(report.submission.subjects[0].unit)
        assert match is not None
        on = self._day_after(received, 1, 4)
        story.steps.append(
            Step(
                on,
                "transfer_down",
                OPERATOR,
                c.TransferDown(
                    to_unit=f"{match.group(1)}党委",
                    transferred_on=on,
                    reason="反映对象由乡镇党委管理，转下级办理",
                ),
            )
        )
        if self.rng.random() < 0.9:
            ack = self._day_after(on, 1, 9)
            story.steps.append(
                Step(
                    ack,
                    "acknowledge_transfer",
                    OPERATOR,
                    c.AcknowledgeTransfer(acknowledged_on=ack),
                )
            )

    def _return(self, story: Story, received: dt.date) -> None:
        on = self._day_after(received, 1, 3)
        story.steps.append(
            Step(
                on,
                "propose_return",
                OPERATOR,
                c.ReturnWithReason(reason=self.rng.choice(RETURN_REASONS)),
            )
        )
        decided = self._day_after(on, 1, 5)
        if self.rng.random() < 0.8:
            story.steps.append(
                Step(decided, "approve_return", LEADER, c.Approve(reason="同意退回"))
            )
        else:
            story.steps.append(
                Step(
                    decided,
                    "reject_return",
                    LEADER,
                    c.ReturnWithReason(reason="反映对象明确，应转有关单位办理"),
                )
            )
            self._refer_out(story, decided)

    def _refer_out(self, story: Story, after: dt.date) -> None:
        rng = self.rng
        on = self._day_after(after, 1, 4)
        unit = rng.choices(list(OUT_UNITS), weights=list(OUT_UNITS.values()))[0]
        story.path = "report:referred_out"
        story.steps.append(
            Step(
                on,
                "refer_out",
                OPERATOR,
                c.ReferOut(
                    member_unit=unit,
                    referred_on=on,
                    reason=f"反映问题属{unit.zh}职责范围，转其办理",
                ),
            )
        )
        if rng.random() < 0.85:
            reported = self._day_after(on, 20, 75)
            report = next(r for r in self.reports if r.key == story.key)
            story.steps.append(
                Step(
                    reported,
                    "record_referral_result",
                    OPERATOR,
                    referral_result(report, rng.choice(REFERRAL_RESULTS), reported),
                )
            )
