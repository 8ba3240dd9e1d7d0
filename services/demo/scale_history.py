"""The history ``jiandu demo --scale`` writes (``scale.py``): its shape, its register, and
each report made with its case by the real aggregates and command handlers, in memory, on
its business days and at its recording moments (``recording_on``), deterministically.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import random
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import CanCreateTimestamp

from schemas.events import Actor, ReporterRef
from schemas.glossary import Channel, ManagementLevel, MemberUnit, Role
from schemas.submissions import ReportedCadre, ReportSubmission
from schemas.views import CadreRecord
from services.casework.application import CaseworkApplication
from services.casework.domain import Case
from services.casework.handlers import COMMANDS
from services.common.china_time import CHINA_TIME
from services.common.procedure import ProcedureError
from services.demo.register import COUNTY, NAMING_WEIGHTS, UNREGISTERED
from services.demo.reports import ReportGenerator, weighted
from services.demo.steps import (
    HANDLER,
    LEADER,
    OPERATOR,
    Story,
    business_day,
    workday_on_or_after,
)
from services.demo.stories.ordinary import ordinary
from services.demo.stories.plot import Plot
from services.intake.application import IntakeApplication
from services.intake.domain import NAMESPACE, Ledger, Report, case_id_for_report
from services.intake.registration import staff_actor
from services.intake.triage import TRIAGE_COMMANDS

REPORTS_PER_YEAR = 12_000  # a province's platform: the history spans N / this years (>= 2)
MAX_YEARS = 10
CADRES_PER_REPORT = 1 / 30  # the register grows with N: 300 at least, then one per 30 reports
MIN_CADRES = 300
HANDLERS_PER_REPORT = 1 / 2_000  # handlers ("handler", "handler-2" …): one per 2,000 reports
RECENT_DAYS = 12  # reports received this close to today may still wait for registration
ACCEPTED_SHARE = 0.9  # the rest of the registered reports wait for triage (recent) or stay

UNITS = (
    "组织部", "宣传部", "统战部", "政法委", "发展和改革局", "教育局", "科学技术局", "公安局",
    "民政局", "司法局", "财政局", "人力资源和社会保障局", "自然资源局", "生态环境局",
    "住房和城乡建设局", "交通运输局", "水利局", "农业农村局", "商务局", "文化广电旅游局",
    "卫生健康委员会", "应急管理局", "审计局", "市场监督管理局", "统计局", "医疗保障局",
    "林业局", "城市管理局", "信访局", "供销合作社",
)  # fmt: skip
TOWNS = ("青石", "柳溪", "白沙", "枫林", "下河", "杨梅", "青龙", "石桥", "新塘", "桃源")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红文斌海燕立群春梅"
POSITIONS = (
    ("党组书记、局长", ManagementLevel.TOWNSHIP_SECTION_PRINCIPAL),
    ("党组成员、副局长", ManagementLevel.TOWNSHIP_SECTION_DEPUTY),
    ("副局长", ManagementLevel.TOWNSHIP_SECTION_DEPUTY),
    ("总工程师", ManagementLevel.TOWNSHIP_SECTION_DEPUTY),
    ("股室负责人", ManagementLevel.OTHER),
)
TOWN_POSITIONS = (
    ("党委书记", ManagementLevel.TOWNSHIP_SECTION_PRINCIPAL),
    ("党委副书记、镇长", ManagementLevel.TOWNSHIP_SECTION_PRINCIPAL),
    ("党委委员、副镇长", ManagementLevel.TOWNSHIP_SECTION_DEPUTY),
    ("党委委员、纪委书记", ManagementLevel.TOWNSHIP_SECTION_DEPUTY),
)


@dataclass(frozen=True)
class Shape:
    """How big a history of ``reports`` reports is."""

    reports: int
    years: int
    cadres: int
    handlers: int
    today: dt.date

    @classmethod
    def of(cls, reports: int, today: dt.date) -> Shape:
        years = min(MAX_YEARS, max(2, -(-reports // REPORTS_PER_YEAR)))
        return cls(
            reports=reports,
            years=years,
            cadres=max(MIN_CADRES, int(reports * CADRES_PER_REPORT)),
            handlers=max(2, int(reports * HANDLERS_PER_REPORT)),
            today=today,
        )

    @property
    def first_day(self) -> dt.date:
        return self.today - dt.timedelta(days=365 * self.years)

    def handler_ids(self) -> list[str]:
        return [HANDLER] + [f"handler-{k}" for k in range(2, self.handlers + 1)]


# -- the register ------------------------------------------------------------------------------


def register_rows(count: int, rng: random.Random) -> list[CadreRecord]:
    """``count`` fictional cadres of the county's units and towns (namesakes included)."""
    units = [f"{COUNTY}{u}" for u in UNITS]
    towns = [f"{COUNTY}{t}镇党委" for t in TOWNS]
    rows = []
    for i in range(count):
        town = rng.random() < 0.3
        unit = rng.choice(towns if town else units)
        if count > 2_000 and not town:  # a large register: the units' subordinate bodies too
            unit += rng.choice(("", "", f"第{rng.randint(1, count // 400)}分局"))
        position, level = rng.choice(TOWN_POSITIONS if town else POSITIONS)
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
        rows.append(
            CadreRecord(
                cadre_id=f"SC-{i + 1:06d}",
                name=name,
                unit=unit,
                position=position,
                management_level=level,
            )
        )
    return rows


# -- reports -----------------------------------------------------------------------------------


class _ScaleGenerator(ReportGenerator):
    """The demo's report generator on a large register: the day is given, subjects are drawn
    with cumulative weights (a register of thousands), nothing is sealed."""

    def __init__(self, cadres: Sequence[CadreRecord], rng: random.Random) -> None:
        super().__init__(cadres, rng)
        self.cumulative = list(itertools.accumulate(self.heat))
        self.day = dt.date(2000, 1, 1)

    def received_on(self, channel: Channel) -> dt.date:
        return self.day

    def subjects(self) -> tuple[list[ReportedCadre], CadreRecord | None]:
        rng = self.rng
        naming = weighted(rng, NAMING_WEIGHTS)
        if naming == "unregistered":
            name, unit, position = rng.choice(UNREGISTERED)
            return [ReportedCadre(name=name, unit=unit, position=position)], None
        first = rng.choices(self.cadres, cum_weights=self.cumulative)[0]
        subjects = [self.reported(first, naming)]
        extra = rng.choices((0, 1, 2), weights=(80, 15, 5))[0]
        colleagues = self.by_unit[first.unit]
        for other in rng.sample(colleagues, k=min(extra + 1, len(colleagues))):
            if len(subjects) > extra:
                break
            if other is not first:
                subjects.append(self.reported(other, naming))
        return subjects, first


class _ScalePlot(Plot):
    """The demo's case plot with a pool of handlers."""

    handlers: Sequence[str] = (HANDLER,)

    def assign(self, handler: str | None = None, reason: str = "") -> None:
        self.handler = handler or self.rng.choice(self.handlers)
        self.do(
            "assign", LEADER, _assign(self.handler, reason or f"由承办人办理，熟悉{self.unit}情况")
        )


def _assign(handler: str, reason: str) -> Any:
    from schemas import commands as c

    return c.Assign(handler_id=handler, reason=reason)


class BusinessClock:
    """The recording moments of the events: the business day being made, at office hours
    (China time), a second apart, instead of the wall clock's now. Installed only while the
    generator makes aggregates (``recording_on``)."""

    def __init__(self) -> None:
        self.day = dt.date(2000, 1, 1)
        self.ticks = 0

    def now(self) -> dt.datetime:
        self.ticks += 1
        start = dt.datetime.combine(self.day, dt.time(8, 30), CHINA_TIME)
        return start.astimezone(dt.UTC) + dt.timedelta(seconds=self.ticks % 30_000)


@contextmanager
def recording_on(clock: BusinessClock) -> Iterator[None]:
    """Every event this thread creates meanwhile is stamped by ``clock``; other threads of
    the process (an application's follower, a test's server) keep eventsourcing's own."""
    saved = CanCreateTimestamp.__dict__["create_timestamp"]
    original = saved.__func__
    owner = threading.get_ident()

    def stamp() -> dt.datetime:
        return clock.now() if threading.get_ident() == owner else original()

    CanCreateTimestamp.create_timestamp = staticmethod(stamp)  # type: ignore[method-assign]
    try:
        yield
    finally:
        CanCreateTimestamp.create_timestamp = saved  # type: ignore[method-assign]


def _outcomes(subjects: Sequence[dict[str, Any]], rng: random.Random) -> list[Any]:
    """A receiver's result for every cadre a report names (not proven, mostly)."""
    from schemas import commands as c
    from schemas.glossary import Verdict

    verdict = rng.choices(
        (Verdict.UNPROVEN, Verdict.UNTRUE, Verdict.PARTLY_TRUE), weights=(50, 35, 15)
    )[0]
    return [
        c.CadreOutcome(cadre=c.CadreRef(name=s["name"], unit=s.get("unit", "")), verdict=verdict)
        for s in subjects
    ]


def _discipline_result(subjects: Sequence[ReportedCadre], on: dt.date, rng: random.Random) -> Any:
    from schemas import commands as c

    return c.RecordDisciplineResult(
        outcomes=_outcomes([s.model_dump() for s in subjects], rng),
        reported_on=on,
        document_number=f"纪{on.year}〔{on.month:02d}{on.day:02d}〕号",
    )


def _role(username: str) -> Role:
    if username == LEADER:
        return Role.LEADER
    if username == OPERATOR:
        return Role.OPERATOR
    return Role.HANDLER


def _uuid(seed: int, *parts: object) -> UUID:
    return uuid5(NAMESPACE, f"scale:{seed}:" + ":".join(str(p) for p in parts))


class HistoryMaker:
    """Makes the aggregates of one report (and its case) at a time, deterministically."""

    def __init__(
        self,
        shape: Shape,
        seed: int,
        cadres: Sequence[CadreRecord],
        intake: IntakeApplication,
        casework: CaseworkApplication,
    ) -> None:
        self.shape, self.seed = shape, seed
        self.intake, self.casework = intake, casework
        self.generator = _ScaleGenerator(cadres, rng_of(seed, "reports"))
        self.ledgers: dict[int, Ledger] = {}
        self.handlers = shape.handler_ids()
        self.span = (shape.today - shape.first_day).days
        self.operator = Actor(id=OPERATOR, role=Role.OPERATOR).model_dump(mode="json")
        self.clock = BusinessClock()

    def received_day(self, n: int) -> dt.date:
        """The n-th report's day: spread evenly (chronological order = ledger order)."""
        return self.shape.first_day + dt.timedelta(days=1 + n * self.span // self.shape.reports)

    def ledger(self, year: int) -> Ledger:
        if year not in self.ledgers:
            self.ledgers[year] = Ledger.open(year)
        return self.ledgers[year]

    def make(self, n: int, tally: Counter[str]) -> tuple[Report, Case | None]:
        today = self.shape.today
        day = self.received_day(n)
        self.generator.day = day
        submission: ReportSubmission = self.generator.report()
        clock = self.clock
        clock.day = day
        rng = rng_of(self.seed, n)
        report_id = _uuid(self.seed, "report", n)
        real_name = not submission.reporter.anonymous
        reporter = ReporterRef(
            ref=str(uuid5(NAMESPACE, f"reporter-of:{report_id}")), anonymous=not real_name
        ).model_dump()
        report = Report(
            id=report_id,
            channel=submission.channel.value,
            categories=[cat.value for cat in submission.categories],
            subjects=[s.model_dump() for s in submission.subjects],
            summary=submission.summary,
            sealed=False,
            reporter=reporter,
            referral=submission.referral.model_dump(mode="json") if submission.referral else None,
            received_on=day,
            actor=staff_actor(submission.channel).model_dump(mode="json"),
            submission_digest=hashlib.sha256(f"{self.seed}:{n}".encode()).hexdigest(),
        )
        recent = (today - day).days <= RECENT_DAYS
        if recent and rng.random() < 0.3:
            tally["received_only"] += 1
            return report, None
        registered_on = min(workday_on_or_after(day), today)
        clock.day = registered_on
        number = self.ledger(day.year).allocate(report_id)
        notice_due = (
            self.intake.due_in_working_days(day, self.intake.limits.acceptance_notice)
            if real_name
            else None
        )
        report.register(
            number,
            actor=self.operator,
            acceptance_notice_due=notice_due,
            registered_on=registered_on,
        )
        if real_name:
            sent_on = workday_on_or_after(registered_on + dt.timedelta(days=rng.randint(1, 12)))
            if sent_on <= today:
                clock.day = sent_on
                report.send_acceptance_notice(sent_on, self.operator)
        accepted_on = workday_on_or_after(registered_on + dt.timedelta(days=rng.randint(0, 4)))
        if accepted_on > today or rng.random() > ACCEPTED_SHARE:
            if (today - accepted_on).days > RECENT_DAYS:
                self._elsewhere(report, accepted_on, rng, tally)
            else:
                tally["registered_only"] += 1
            return report, None
        case_id = case_id_for_report(report_id)
        clock.day = accepted_on
        report.accept(
            case_id, self.operator, "属于12380受理范围，予以受理", accepted_on=accepted_on
        )
        tally["accepted"] += 1
        case = Case.open(
            case_id,
            report_id=report_id,
            ledger_number=number,
            channel=report.channel,
            categories=report.categories,
            subjects=report.subjects,
            summary=report.summary,
            received_on=day,
            reporter=reporter,
            actor=self.operator,
            reason="属于12380受理范围，予以受理",
            opened_on=accepted_on,
        )
        self._procedure(case, n, accepted_on, submission, real_name, rng, tally)
        return report, case

    def _elsewhere(
        self, report: Report, on: dt.date, rng: random.Random, tally: Counter[str]
    ) -> None:
        """A report that is not the office's own: transferred down (and acknowledged) or
        referred out to a member unit, through intake's own triage handlers."""
        from schemas import commands as c

        steps: list[tuple[dt.date, str, c.Command]]
        outcomes = _outcomes(report.subjects, rng)
        if rng.random() < 0.5:
            steps = [
                (
                    on,
                    "transfer_down",
                    c.TransferDown(
                        to_unit=rng.choice(TOWNS) + "镇党委",
                        transferred_on=on,
                        reason="属下级管辖，转下级办理",
                    ),
                )
            ]
            acknowledged = workday_on_or_after(on + dt.timedelta(days=rng.randint(2, 10)))
            if acknowledged <= self.shape.today:
                steps.append(
                    (
                        acknowledged,
                        "acknowledge_transfer",
                        c.AcknowledgeTransfer(acknowledged_on=acknowledged, reason="下级已签收"),
                    )
                )
                # Most results come back within the time allowed (settled items, 0015).
                back = workday_on_or_after(acknowledged + dt.timedelta(days=rng.randint(20, 80)))
                if back <= self.shape.today and rng.random() < 0.9:
                    steps.append(
                        (
                            back,
                            "record_transfer_result",
                            c.RecordTransferResult(
                                outcomes=outcomes,
                                reported_on=back,
                                document_number=f"{back.year}〔{back.month:02d}{back.day:02d}〕号",
                            ),
                        )
                    )
        else:
            unit = rng.choice(tuple(MemberUnit))
            steps = [
                (
                    on,
                    "refer_out",
                    c.ReferOut(
                        member_unit=unit, referred_on=on, reason="属成员单位职责范围，予以移交"
                    ),
                )
            ]
            back = workday_on_or_after(on + dt.timedelta(days=rng.randint(30, 120)))
            if back <= self.shape.today and rng.random() < 0.9:
                steps.append(
                    (
                        back,
                        "record_referral_result",
                        c.RecordReferralResult(
                            outcomes=outcomes,
                            reported_on=back,
                            document_number=f"{back.year}〔{back.month:02d}{back.day:02d}〕号",
                        ),
                    )
                )
        for day, action, command in steps:
            self.clock.day = day
            with business_day(self.intake, day):
                TRIAGE_COMMANDS[action][1](self.intake, report, command, self.operator)
            tally[f"triaged:{action}"] += 1

    def _procedure(
        self,
        case: Case,
        n: int,
        accepted_on: dt.date,
        submission: ReportSubmission,
        real_name: bool,
        rng: random.Random,
        tally: Counter[str],
    ) -> None:
        story = Story("case", key=f"S{n}", target=case.id, path="case:ordinary")
        plot = _ScalePlot(
            story,
            rng,
            received=accepted_on,
            subject=submission.subjects[0],
            categories=[cat.value for cat in submission.categories],
            real_name=real_name,
            verdict_rng=rng_of(self.seed, n, "verdicts"),
            co_subjects=submission.subjects[1:],
        )
        plot.handlers = self.handlers
        ordinary(plot)
        if story.path == "case:transfer":  # the commission's result comes back, mostly
            plot.wait(30, 120)
            if rng.random() < 0.9:
                plot.do(
                    "record_discipline_result",
                    plot.handler,
                    _discipline_result(submission.subjects, plot.day, rng),
                )
        for step in story.due(self.shape.today):
            actor = {"id": step.actor, "role": _role(step.actor).value}
            self.clock.day = step.on
            try:
                with business_day(self.casework, step.on):
                    extra = COMMANDS[step.action][1](self.casework, case, step.command, actor)
            except ProcedureError:
                tally["stopped"] += 1
                break
            assert not extra, "the ordinary paths open no further case"
            tally["steps"] += 1


def rng_of(*parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in parts))  # noqa: S311 (fictional data)
