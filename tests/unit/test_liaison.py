"""Liaison-meeting views: figures checked against what was submitted and done, referrals
over time, the quarterly report, charts, unit scoping, and redaction by construction.

A seeded random history is driven through the embedded system (intake submissions and
triage, casework commands); the driver keeps its own account of every report (channel,
categories, units, what became of it), and the figures must match that account.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import sqlite3
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from schemas import commands as c
from schemas.events import Actor
from schemas.glossary import (
    AccuserStatus,
    Category,
    Channel,
    ClearingMethod,
    Disposition,
    FindingKind,
    HandlingType,
    LiaisonDimension,
    ManagementLevel,
    MemberUnit,
    ReferralSource,
    ReferralStatus,
    ReportOutcome,
    Role,
    Verdict,
)
from schemas.submissions import ReportSubmission
from schemas.views import CadreRecord
from schemas.views_liaison import ReportSection
from services.bootstrap import EmbeddedSystem
from services.calendar.deadlines import TimeLimits, add_calendar_months
from services.common.config import Config
from services.common.sql import Database
from services.intake.domain import case_id_for_report
from services.projections.liaison import charts
from services.projections.liaison import projection as liaison
from services.projections.liaison.quarterly import to_docx, to_html, to_markdown
from services.projections.liaison.queries import LiaisonQueries
from services.projections.liaison.statistics import LiaisonQueryError
from services.projections.store import ReadStore
from tests.unit.conftest import (
    REPORTER_EMAIL,
    REPORTER_ID_NUMBER,
    REPORTER_NAME,
    REPORTER_PHONE,
    all_envelopes,
    build_embedded,
    dump_tables,
    make_settings,
    real_name_reporter,
    receiver_result,
    stand_in_handlers,
)

OPERATOR = Actor(id="op-1", role=Role.OPERATOR)
LEADER = Actor(id="leader-1", role=Role.LEADER)
HANDLER = Actor(id="handler-1", role=Role.HANDLER)
FAR_FUTURE = dt.date(2100, 1, 1)
SECRETS = (REPORTER_NAME, REPORTER_PHONE, REPORTER_EMAIL, REPORTER_ID_NUMBER)
SUMMARY_MARK = "摘要内容"  # every summary holds it; no liaison table or figure may

REGISTER = [
    CadreRecord(
        cadre_id="C-1",
        name="王建国",
        unit="某县财政局",
        position="局长",
        management_level=ManagementLevel.COUNTY_DIVISION_PRINCIPAL,
    ),
    CadreRecord(
        cadre_id="C-2",
        name="李明",
        unit="某县教育局",
        position="副局长",
        management_level=ManagementLevel.COUNTY_DIVISION_DEPUTY,
    ),
    CadreRecord(
        cadre_id="C-3",
        name="赵强",
        unit="某镇人民政府",
        position="镇长",
        management_level=ManagementLevel.TOWNSHIP_SECTION_PRINCIPAL,
    ),
]
REGISTERED = {r.cadre_id: r for r in REGISTER}
SUBJECTS: list[dict[str, Any]] = [
    {"name": "王建国", "unit": "某县财政局", "cadre_id": "C-1"},
    {"name": "李明", "unit": "教育局", "cadre_id": "C-2"},  # the register's unit counts
    {"name": "赵强", "unit": "某镇人民政府", "cadre_id": "C-3"},
    {"name": "钱多多", "unit": "某县水利局"},
    {"name": "孙某", "unit": ""},
]


# -- the driver ------------------------------------------------------------------------------


@dataclass
class Expected:
    """What the driver did with one report: the figures' independent account."""

    report_id: str
    received_on: dt.date
    channel: Channel
    categories: set[str]
    units: set[str]
    levels: set[str]
    source: str
    referral_unit: MemberUnit | None = None
    outcome: ReportOutcome = ReportOutcome.AWAITING_TRIAGE
    referred_out_to: MemberUnit | None = None
    referred_out_on: dt.date | None = None
    reported_back_on: dt.date | None = None
    answered: bool = False  # a report referred in: the referring unit has its answer
    disposition: tuple[Disposition, dt.date] | None = None
    handlings: list[tuple[HandlingType, dt.date]] = field(default_factory=list)
    clearing_on: dt.date | None = None
    verdict: Verdict | None = None
    false_accusation: AccuserStatus | None = None


def every_cadre(case: Any, verdict: Verdict, reason: str) -> c.ProposeConclusion:
    """The same verdict for every cadre the case names, on every category (per cadre)."""
    return c.ProposeConclusion(
        cadre_verdicts=[
            c.CadreVerdict(
                cadre=c.CadreRef(name=s["name"], unit=s.get("unit") or None),
                category=cat,
                verdict=verdict,
            )
            for s in case.subjects
            for cat in case.categories
        ],
        reason=reason,
    )


def named(case: Any) -> c.CadreRef:
    """The case's first reported cadre, as a command names a cadre."""
    subject = case.subjects[0]
    if subject.get("cadre_id"):
        return c.CadreRef(cadre_id=subject["cadre_id"])
    return c.CadreRef(name=subject["name"], unit=subject["unit"])


def expected_units(subjects: list[dict[str, Any]], sealed: bool) -> tuple[set[str], set[str]]:
    if sealed:
        return {"sealed"}, {"sealed"}
    units, levels = set(), set()
    for s in subjects:
        cadre = REGISTERED.get(s.get("cadre_id") or "")
        units.add(cadre.unit if cadre else (s["unit"] or "unit_not_given"))
        levels.add(cadre.management_level.value if cadre else "unregistered")
    return units, levels


class Driver:
    def __init__(self, system: EmbeddedSystem, seed: int) -> None:
        self.system = system
        self.rng = random.Random(seed)
        self.reports: list[Expected] = []

    def submit(self) -> tuple[Expected, ReportSubmission]:
        rng = self.rng
        channel = rng.choice(list(Channel))
        sealed = rng.random() < 0.08
        received_on = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(540))
        subjects = rng.sample(SUBJECTS, rng.choice([1, 1, 2]))
        categories = rng.sample([k.value for k in Category], rng.choice([1, 1, 2, 3]))
        body: dict[str, Any] = {
            "channel": channel.value,
            "reporter": real_name_reporter() if rng.random() < 0.5 else {"anonymous": True},
            "subjects": subjects,
            "categories": categories,
            "summary": f"{SUMMARY_MARK}：反映有关干部问题，举报人{REPORTER_NAME}。",
            "received_on": received_on.isoformat(),
            "sealed": sealed,
        }
        source, unit = "not_referred", None
        if channel is Channel.REFERRAL:
            referral_source = rng.choice(list(ReferralSource))
            referral: dict[str, Any] = {"source": referral_source.value, "reference": "转办函号"}
            if referral_source is ReferralSource.MEMBER_UNIT or rng.random() < 0.3:
                unit = rng.choice(list(MemberUnit))
                referral["member_unit"] = unit.value
            if rng.random() < 0.5:
                referral["referred_on"] = (received_on - dt.timedelta(days=3)).isoformat()
            body["referral"] = referral
            source = unit.value if unit else referral_source.value
        submission = ReportSubmission.model_validate(body)
        # Registered on the day received: an import of history (staff may not back-date
        # beyond the configured limit from today, decision 0013).
        receipt = self.system.intake.submit(submission, registered_on=received_on)
        units, levels = expected_units(subjects, sealed)
        expected = Expected(
            receipt.report_id,
            received_on,
            channel,
            set(categories),
            units,
            levels,
            source,
            referral_unit=unit,
        )
        self.reports.append(expected)
        return expected, submission

    def triage(
        self, action: str, report: Expected, command: c.Command, actor: Actor = OPERATOR
    ) -> None:
        self.system.intake.triage(UUID(report.report_id), action, command, actor)

    def fate(self, report: Expected) -> None:
        """Triage one registered report; returns nothing, records what happened."""
        rng, start = self.rng, report.received_on
        choice = rng.random()
        earlier = [r for r in self.reports if r is not report]
        if choice < 0.55:
            self.triage("accept", report, c.Accept(reason="属于受理范围"))
            report.outcome = ReportOutcome.IN_HANDLING
        elif choice < 0.70:
            unit = rng.choice(list(MemberUnit))
            on = start + dt.timedelta(days=rng.randrange(1, 10))
            self.triage("refer_out", report, c.ReferOut(member_unit=unit, referred_on=on))
            report.outcome = ReportOutcome.REFERRED_OUT
            report.referred_out_to, report.referred_out_on = unit, on
            if rng.random() < 0.5:
                back = on + dt.timedelta(days=rng.randrange(10, 150))
                self.triage(
                    "record_referral_result",
                    report,
                    receiver_result(
                        self.system.intake,
                        report.report_id,
                        result=f"经查属实。{REPORTER_NAME}",
                        reported_on=back,
                    ),
                )
                report.reported_back_on = back
                report.answered = True
        elif choice < 0.76 and earlier:
            original = rng.choice(earlier)
            self.triage(
                "mark_repeat",
                report,
                c.MarkRepeat(of_report_id=UUID(original.report_id), reason="重复举报"),
            )
            report.outcome, report.answered = ReportOutcome.REPEAT, True
        elif choice < 0.82:
            self.triage(
                "forward_up",
                report,
                c.ForwardUp(to_authority="市委组织部", forwarded_on=start + dt.timedelta(days=2)),
            )
            report.outcome, report.answered = ReportOutcome.FORWARDED_UP, True
        elif choice < 0.88:
            self.triage(
                "transfer_down",
                report,
                c.TransferDown(to_unit="某镇党委", transferred_on=start + dt.timedelta(days=2)),
            )
            report.outcome = ReportOutcome.TRANSFERRED_DOWN
            if rng.random() < 0.5:
                self.triage(
                    "acknowledge_transfer",
                    report,
                    c.AcknowledgeTransfer(acknowledged_on=start + dt.timedelta(days=4)),
                )
                report.answered = True
        elif choice < 0.94:
            self.triage("propose_return", report, c.ReturnWithReason(reason="无实质内容"))
            if rng.random() < 0.7:
                self.triage("approve_return", report, c.Approve(reason="同意"), LEADER)
                report.outcome, report.answered = ReportOutcome.RETURNED, True
        # else: left registered, awaiting triage

    def work(self, report: Expected) -> None:
        """Casework on an accepted report's case."""
        rng, start = self.rng, report.received_on
        case_id = case_id_for_report(UUID(report.report_id))

        def run(action: str, command: c.Command, actor: Actor) -> None:
            self.system.casework.execute(case_id, action, command, actor.model_dump(mode="json"))

        path = rng.random()
        if path < 0.1:
            return
        run("assign", c.Assign(handler_id="handler-1"), LEADER)
        if path < 0.2:
            return
        disposition = (
            Disposition.PRELIMINARY_VERIFICATION
            if path < 0.75
            else rng.choice(
                [Disposition.CLOSE, Disposition.TRANSFER_TO_DISCIPLINE, Disposition.PARK]
            )
        )
        held_on = start + dt.timedelta(days=5)
        run(
            "propose_disposition",
            c.ProposeDisposition(disposition=disposition, reason="拟办"),
            HANDLER,
        )
        run(
            "approve_disposition",
            c.ApproveDisposition(
                collective_study={"held_on": held_on, "participants": ["张部长", "刘科长"]}
            ),
            LEADER,
        )
        report.disposition = (disposition, held_on)
        if disposition is Disposition.CLOSE:
            report.outcome = ReportOutcome.CLOSED_WITHOUT_ACTION
            report.answered = True
            return
        if disposition is Disposition.TRANSFER_TO_DISCIPLINE:
            report.outcome = ReportOutcome.TRANSFERRED_TO_DISCIPLINE
            return
        if disposition is Disposition.PARK:
            return
        run(
            "record_finding",
            c.RecordFinding(kind=FindingKind.INTERVIEW, summary="谈话了解情况", found_on=start),
            HANDLER,
        )
        verdict = rng.choice(list(Verdict))
        case = self.system.casework.get_case(case_id)
        run(
            "propose_conclusion",
            every_cadre(case, verdict, "核实"),
            HANDLER,
        )
        run("approve_conclusion", c.Approve(reason="同意"), LEADER)
        report.outcome, report.verdict = ReportOutcome(verdict.value), verdict
        if verdict in (Verdict.TRUE, Verdict.PARTLY_TRUE):
            for _ in range(rng.choice([0, 1, 2])):
                handling = rng.choice(list(HandlingType))
                on = start + dt.timedelta(days=rng.randrange(20, 120))
                run(
                    "decide_handling",
                    c.DecideHandling(
                        cadre=named(case), handling=handling, decided_on=on, reason="决定"
                    ),
                    LEADER,
                )
                report.handlings.append((handling, on))
        if verdict is Verdict.UNTRUE and rng.random() < 0.7:
            on = start + dt.timedelta(days=rng.randrange(20, 120))
            run(
                "propose_clearing",
                c.ProposeClearing(cadre=named(case), reason="澄清"),
                HANDLER,
            )
            run("approve_clearing", c.Approve(), LEADER)
            run(
                "carry_out_clearing",
                c.CarryOutClearing(
                    method=rng.choice(list(ClearingMethod)), scope="本单位", carried_out_on=on
                ),
                HANDLER,
            )
            report.clearing_on = on
            if rng.random() < 0.5:
                status = rng.choice(list(AccuserStatus))
                run(
                    "suspect_false_accusation",
                    c.SuspectFalseAccusation(
                        cadre=named(case),
                        accuser=c.Accuser(name="钱某"),
                        accuser_status=status,
                        reason="疑似诬告",
                    ),
                    LEADER,
                )
                report.false_accusation = status
        if rng.random() < 0.6:
            unmet = self.system.casework.get_case(case_id).unmet_deadlines()
            run(
                "close",
                c.Close(
                    closed_on=start + dt.timedelta(days=130),
                    explanations=dict.fromkeys(unmet, "另行跟踪"),
                ),
                LEADER,
            )
            report.answered = True
            if rng.random() < 0.2:
                run("reopen", c.NewEvidence(new_evidence="新的证据", reason="复查"), LEADER)
                report.outcome, report.answered = ReportOutcome.IN_HANDLING, False

    def run(self, count: int) -> list[Expected]:
        for _ in range(count):
            report, _submission = self.submit()
            self.fate(report)
        self.system.catch_up()
        for report in self.reports:
            if report.outcome is ReportOutcome.IN_HANDLING:
                self.work(report)
        self.system.catch_up()
        return self.reports


# The systems' today: after every step of the random history (received by mid-2026).
LIAISON_TODAY = dt.date(2026, 12, 3)


def build_system(data_dir: Path) -> EmbeddedSystem:
    system = build_embedded(make_settings(data_dir, auto_accept=False), LIAISON_TODAY)
    stand_in_handlers(system)
    system.read.register.upsert(REGISTER)
    return system


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedSystem]:
    """One system with a random history, shared by the tests that only read it."""
    system = build_system(tmp_path_factory.mktemp("liaison"))
    yield system
    system.stop()


@pytest.fixture(scope="module")
def history(system: EmbeddedSystem) -> list[Expected]:
    return Driver(system, seed=4).run(70)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_system(tmp_path)
    yield system
    system.stop()


def queries(system: EmbeddedSystem, today: dt.date = FAR_FUTURE) -> LiaisonQueries:
    return LiaisonQueries(system.read.store, today=lambda: today)


def quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def keys_of(report: Expected, dimension: LiaisonDimension) -> set[str]:  # noqa: PLR0911
    match dimension:
        case LiaisonDimension.CATEGORY:
            return report.categories
        case LiaisonDimension.CHANNEL:
            return {report.channel.value}
        case LiaisonDimension.REFERRAL_SOURCE:
            return {report.source}
        case LiaisonDimension.UNIT:
            return report.units
        case LiaisonDimension.LEVEL:
            return report.levels
        case LiaisonDimension.OUTCOME:
            return {report.outcome.value}
        case LiaisonDimension.MONTH:
            return {report.received_on.strftime("%Y-%m")}
        case LiaisonDimension.QUARTER:
            return {quarter_of(report.received_on)}
    raise AssertionError(dimension)


# -- figures -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [(dt.date(2025, 1, 1), dt.date(2026, 12, 31)), (dt.date(2025, 4, 1), dt.date(2025, 9, 30))],
)
def test_the_figures_match_what_was_submitted_and_done(
    system: EmbeddedSystem, history: list[Expected], start: dt.date, end: dt.date
) -> None:
    in_range = [r for r in history if start <= r.received_on <= end]
    assert len({r.outcome for r in in_range}) >= 6, "the history should cover many paths"

    figures = queries(system).statistics(start, end)

    assert figures.total_reports == len(in_range)
    assert {d.dimension for d in figures.dimensions} == {d.value for d in LiaisonDimension}
    for counted in figures.dimensions:
        dimension = LiaisonDimension(counted.dimension)
        expected = Counter(k for r in in_range for k in keys_of(r, dimension))
        got = {row.key: row.count for row in counted.rows}
        assert {k: n for k, n in got.items() if n} == dict(expected), dimension
        assert counted.total == len(in_range)
        assert counted.rows_sum == sum(got.values())
        if counted.multi_valued:
            assert counted.rows_sum >= counted.total
            assert "大于" in counted.note  # says honestly that rows may add up to more
        else:
            assert counted.rows_sum == counted.total, dimension


def test_every_enumerated_value_and_every_month_is_listed_even_when_zero(
    system: EmbeddedSystem, history: list[Expected]
) -> None:
    figures = queries(system).statistics(
        dt.date(2024, 11, 15),
        dt.date(2025, 2, 3),
        [LiaisonDimension.CATEGORY, LiaisonDimension.MONTH, LiaisonDimension.QUARTER],
    )
    category, month, quarter = figures.dimensions

    assert [r.key for r in category.rows] == [k.value for k in Category]
    assert [r.label for r in category.rows] == [k.zh for k in Category]
    assert [r.key for r in month.rows] == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert [r.key for r in quarter.rows] == ["2024-Q4", "2025-Q1"]
    assert month.rows[0].count == 0


def test_a_bad_range_is_refused_with_the_reason(system: EmbeddedSystem) -> None:
    with pytest.raises(LiaisonQueryError, match="starts after it ends"):
        queries(system).statistics(dt.date(2026, 2, 1), dt.date(2026, 1, 1))
    with pytest.raises(LiaisonQueryError, match="quarter must be"):
        queries(system).quarterly_report(2026, 5)


def test_outcomes_follow_the_case_through_reopening(fresh: EmbeddedSystem) -> None:
    driver = Driver(fresh, seed=1)
    report, _ = driver.submit()
    driver.triage("accept", report, c.Accept(reason="受理"))
    fresh.catch_up()
    case_id = case_id_for_report(UUID(report.report_id))
    q = queries(fresh)

    def outcome() -> str:
        (counted,) = q.statistics(
            report.received_on, report.received_on, [LiaisonDimension.OUTCOME]
        ).dimensions
        (row,) = [r for r in counted.rows if r.count]
        return row.key

    def run(action: str, command: c.Command, actor: Actor) -> None:
        fresh.casework.execute(case_id, action, command, actor.model_dump(mode="json"))
        fresh.catch_up()

    assert outcome() == "in_handling"
    run("assign", c.Assign(handler_id="handler-1"), LEADER)
    run(
        "propose_disposition",
        c.ProposeDisposition(disposition=Disposition.PRELIMINARY_VERIFICATION, reason="核实"),
        HANDLER,
    )
    run(
        "approve_disposition",
        c.ApproveDisposition(collective_study={"held_on": "2026-01-05", "participants": ["张"]}),
        LEADER,
    )
    run("record_finding", c.RecordFinding(kind=FindingKind.DOCUMENT, summary="查阅档案"), HANDLER)
    run(
        "propose_conclusion",
        every_cadre(fresh.casework.get_case(case_id), Verdict.UNPROVEN, "查无实据"),
        HANDLER,
    )
    assert outcome() == "in_handling"  # proposed, not approved
    run("approve_conclusion", c.Approve(), LEADER)
    assert outcome() == "unproven"
    run("close", c.Close(closed_on=dt.date(2026, 2, 1)), LEADER)
    assert outcome() == "unproven"
    run("reopen", c.NewEvidence(new_evidence="新线索"), LEADER)
    assert outcome() == "in_handling"


# -- referrals ---------------------------------------------------------------------------------


def expected_referrals(
    history: list[Expected], unit: MemberUnit | None = None
) -> Counter[tuple[str, str]]:
    """(direction, status) of every referral on FAR_FUTURE, by the driver's account."""
    counts: Counter[tuple[str, str]] = Counter()
    for r in history:
        if r.channel is Channel.REFERRAL and (
            unit is None or unit in (r.referral_unit, MemberUnit.ORGANIZATION_DEPARTMENT)
        ):
            status = ReferralStatus.REPORTED_BACK if r.answered else ReferralStatus.PENDING
            counts["in", status.value] += 1
        if r.referred_out_to is not None and (
            unit is None or unit in (r.referred_out_to, MemberUnit.ORGANIZATION_DEPARTMENT)
        ):
            status = ReferralStatus.REPORTED_BACK if r.reported_back_on else ReferralStatus.OVERDUE
            counts["out", status.value] += 1
    return counts


def test_referrals_to_and_from_units_with_their_status(
    system: EmbeddedSystem, history: list[Expected]
) -> None:
    q = queries(system)
    everything = q.referrals()
    got = Counter((v.direction, v.status) for v in everything.referrals)
    assert got == expected_referrals(history)
    assert {r.key: r.count for r in everything.by_status} == dict(
        Counter(v.status for v in everything.referrals)
    ) | {
        s.value: 0
        for s in ReferralStatus
        if s.value not in {v.status for v in everything.referrals}
    }

    audit = q.referrals(MemberUnit.AUDIT_BUREAU)
    assert Counter((v.direction, v.status) for v in audit.referrals) == expected_referrals(
        history, MemberUnit.AUDIT_BUREAU
    )
    for view in audit.referrals:
        assert MemberUnit.AUDIT_BUREAU.value in (view.from_unit, view.to_unit)
    for view in everything.referrals:
        r = next(x for x in history if x.report_id == view.report_id)
        if view.direction == "out":
            assert (view.from_unit, view.to_unit) == ("organization_department", r.referred_out_to)
            assert view.referred_on == r.referred_out_on
            assert view.reported_back_on == r.reported_back_on
        else:
            assert view.from_unit == (r.referral_unit.value if r.referral_unit else None)
            assert view.to_unit == "organization_department"


def test_a_referral_is_pending_then_overdue_then_reported_back(fresh: EmbeddedSystem) -> None:
    driver = Driver(fresh, seed=2)
    report, _ = driver.submit()
    referred_on = dt.date(2026, 1, 10)
    driver.triage(
        "refer_out",
        report,
        c.ReferOut(member_unit=MemberUnit.PROCURATORATE, referred_on=referred_on),
    )
    fresh.catch_up()
    due = add_calendar_months(referred_on, 3)

    def status(on: dt.date) -> tuple[str, dt.date | None]:
        (view,) = [v for v in queries(fresh, on).referrals().referrals if v.direction == "out"]
        assert view.due_on == due
        return view.status, view.reported_back_on

    assert status(referred_on) == ("pending", None)
    assert status(due) == ("pending", None)
    assert status(due + dt.timedelta(days=1)) == ("overdue", None)

    back = due + dt.timedelta(days=20)
    driver.triage(
        "record_referral_result",
        report,
        receiver_result(fresh.intake, report.report_id, result="已办结", reported_on=back),
    )
    fresh.catch_up()

    assert status(back - dt.timedelta(days=1)) == ("overdue", None)  # as it stood then
    assert status(back) == ("reported_back", back)
    assert (
        queries(fresh, back).referrals(status=ReferralStatus.REPORTED_BACK).by_status[2].count == 1
    )
    # Not visible before it was made.
    assert queries(fresh, referred_on - dt.timedelta(days=1)).referrals().referrals == []


# -- the quarterly report ----------------------------------------------------------------------


def test_the_quarterly_report_matches_the_driver_and_compares_with_the_quarter_before(
    system: EmbeddedSystem, history: list[Expected]
) -> None:
    now = system.casework.today()
    q = queries(system)

    for year, quarter, previous in ((2025, 3, "2025-Q2"), (2026, 1, "2025-Q4")):
        report = q.quarterly_report(year, quarter)
        period = f"{year}-Q{quarter}"
        assert (report.period, report.previous_period) == (period, previous)
        sections = {s.name: s for s in report.sections}

        def rows(name: str, sections: dict[str, ReportSection] = sections) -> dict[str, int]:
            return {r.key: r.count for r in sections[name].rows if r.count}

        def previous_rows(
            name: str, sections: dict[str, ReportSection] = sections
        ) -> dict[str, int]:
            return {r.key: r.count for r in sections[name].previous_rows if r.count}

        received = [r for r in history if quarter_of(r.received_on) == period]
        before = [r for r in history if quarter_of(r.received_on) == previous]
        assert sections["received_by_channel"].total == len(received)
        assert sections["received_by_channel"].previous_total == len(before)
        assert rows("received_by_channel") == dict(Counter(r.channel.value for r in received))
        assert previous_rows("received_by_channel") == dict(
            Counter(r.channel.value for r in before)
        )
        assert rows("received_by_category") == dict(
            Counter(k for r in received for k in r.categories)
        )
        assert rows("received_by_source") == dict(Counter(r.source for r in received))
        assert rows("dispositions") == dict(
            Counter(
                r.disposition[0].value
                for r in history
                if r.disposition and quarter_of(r.disposition[1]) == period
            )
        )
        assert rows("handlings") == dict(
            Counter(h.value for r in history for h, on in r.handlings if quarter_of(on) == period)
        )
        assert sections["clearings"].total == sum(
            1 for r in history if r.clearing_on and quarter_of(r.clearing_on) == period
        )
        assert previous_rows("handlings") == dict(
            Counter(h.value for r in history for h, on in r.handlings if quarter_of(on) == previous)
        )
        out = [r for r in history if r.referred_out_on and quarter_of(r.referred_out_on) == period]
        end = report.to_date
        assert rows("referrals_out") == dict(
            Counter(
                "reported_back"
                if r.reported_back_on and r.reported_back_on <= end
                else ("overdue" if end > add_calendar_months(r.referred_out_on, 3) else "pending")
                for r in out
                if r.referred_out_on
            )
        )

    # Conclusions and false accusations are dated by the day they happened: today.
    this = queries(system, now).quarterly_report(now.year, (now.month - 1) // 3 + 1)
    sections = {s.name: s for s in this.sections}
    # A reopened case's conclusion still counts where it was approved.
    verdicts = Counter(r.verdict.value for r in history if r.verdict)
    assert {r.key: r.count for r in sections["conclusions"].rows if r.count} == dict(verdicts)
    accusations = Counter(r.false_accusation.value for r in history if r.false_accusation)
    assert {r.key: r.count for r in sections["false_accusations"].rows if r.count} == dict(
        accusations
    )
    assert sum(verdicts.values()) > 0


def test_the_quarterly_report_exports_as_markdown_html_and_docx(
    system: EmbeddedSystem, history: list[Expected]
) -> None:
    import docx  # python-docx, a dependency of the project

    report = queries(system, dt.date(2026, 6, 30)).quarterly_report(2026, 1)

    markdown = to_markdown(report)
    assert markdown.startswith("# 干部监督工作联席会议季度报告（2026年第1季度）")
    assert "| 12380举报电话 |" in markdown
    fragment = to_html(report)
    ET.fromstring(fragment)  # well-formed
    assert "<table>" in fragment
    assert "<html" not in fragment
    document = docx.Document(io.BytesIO(to_docx(report)))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "干部监督工作联席会议季度报告（2026年第1季度）"
    assert "本季度受理举报（按渠道）" in texts
    assert len(document.tables) == len(report.sections)


# -- redaction by construction -----------------------------------------------------------------


SELECTION_TABLES = (
    "liaison_selections",
    "liaison_voided_appointments",
    "liaison_responsibilities",
    "liaison_projects",
)


def test_liaison_tables_hold_only_declared_enumerated_values_and_no_reporter_datum(
    system: EmbeddedSystem, history: list[Expected], tmp_path: Path
) -> None:
    path = system.settings.data_dir / "projections.sqlite"
    assert path.exists()
    refs = {
        e.payload["reporter"]["ref"]
        for e in all_envelopes(system.intake)
        if isinstance(e.payload.get("reporter"), dict)
    }
    assert refs
    assert any(
        not e.payload.get("reporter", {}).get("anonymous", True)
        for e in all_envelopes(system.intake)
    )
    units = {s["unit"] for s in SUBJECTS}
    cadre_ids = {str(s["cadre_id"]) for s in SUBJECTS if s.get("cadre_id")}
    forbidden = {"summary", "reason", "text", "name", "reporter", "ref", "phone", "email"}
    forbidden |= {"address", "detail", "result", "scope", "note", "content", "evidence"}
    with sqlite3.connect(path) as conn:
        for table, declared in liaison.COLUMNS.items():
            info = conn.execute(f"PRAGMA table_info({table})").fetchall()
            assert [col[1] for col in info] == list(declared), table
            for _, column, sql_type, *_ in info:
                assert sql_type in ("TEXT", "INTEGER")
                assert not forbidden & set(column.split("_")), (table, column)
            rows = conn.execute(f"SELECT * FROM {table}").fetchall()
            # The selections' tables are checked on a selection's history of their own
            # (test_selection_archive.py: no name, unit or post reaches them).
            assert rows or table in ("liaison_clearings", *SELECTION_TABLES), (
                f"{table} is empty: history too small?"
            )
            for row in rows:
                for (column, kind), value in zip(declared.items(), row, strict=True):
                    if value is None:
                        continue
                    text = str(value)
                    for secret in (*SECRETS, *refs, SUMMARY_MARK):
                        assert secret not in text, (table, column)
                    check_kind(kind, value, units, cadre_ids)


def check_kind(kind: Any, value: Any, units: set[str], cadre_ids: set[str]) -> None:
    if isinstance(kind, type):
        kind(value)  # a value of the declared enum
    elif kind == liaison.ID:
        UUID(value)
    elif kind == liaison.DATE:
        dt.date.fromisoformat(value)
    elif kind == liaison.MONTH:
        assert re.fullmatch(r"\d{4}-\d{2}", value)
    elif kind == liaison.QUARTER:
        assert re.fullmatch(r"\d{4}-Q[1-4]", value)
    elif kind == liaison.FLAG:
        assert value in (0, 1)
    elif kind == liaison.INT:
        assert isinstance(value, int)
    elif kind == liaison.UNIT:
        assert value in units  # only the reported cadre's unit, as named
    elif kind == liaison.CADRE_REF:
        assert value in cadre_ids
    else:
        raise AssertionError(f"undeclared kind {kind!r}")


def test_a_projection_row_with_an_undeclared_column_is_refused() -> None:
    with pytest.raises(ValueError, match="undeclared column"):
        liaison._row("liaison_reports", {"report_id": "x"}, {"summary": "..."})


def test_the_api_answers_hold_no_reporter_datum(
    system: EmbeddedSystem, history: list[Expected]
) -> None:
    headers = token(system, "leader-x", Role.LEADER)
    with TestClient(system.web_app()) as client:
        answers = [
            client.get("/api/v1/liaison/statistics?from=2025-01-01&to=2026-12-31", headers=headers),
            client.get("/api/v1/liaison/referrals", headers=headers),
            client.get(
                "/api/v1/liaison/quarterly-report?year=2026&quarter=1&format=markdown",
                headers=headers,
            ),
            client.get(
                "/api/v1/liaison/charts/unit.svg?from=2025-01-01&to=2026-12-31", headers=headers
            ),
        ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        for secret in (*SECRETS, SUMMARY_MARK, "转办函号", "经查属实"):
            assert secret not in answer.text


# -- exactness ---------------------------------------------------------------------------------


def test_liaison_tables_are_idempotent_and_order_tolerant(
    system: EmbeddedSystem, history: list[Expected], tmp_path: Path
) -> None:
    intake_events, casework_events = all_envelopes(system.intake), all_envelopes(system.casework)
    live = dump_tables(system.settings.data_dir / "projections.sqlite", list(liaison.tables))

    other = tmp_path / "replay.sqlite"
    store = ReadStore(Database(sqlite_path=other), projections=[liaison])
    store.apply(casework_events, consumer="r")  # casework first: the other cross-source order
    store.apply(intake_events, consumer="r")
    assert dump_tables(other, list(liaison.tables)) == live

    assert store.apply(intake_events, consumer="r") == 0
    fresh = ReadStore(Database(sqlite_path=tmp_path / "again.sqlite"), projections=[liaison])
    for batch in (intake_events, casework_events, intake_events, casework_events):
        fresh.apply(batch, consumer=f"c{id(batch)}")  # a redelivery under a new consumer
    assert dump_tables(tmp_path / "again.sqlite", list(liaison.tables)) == live


# -- HTTP --------------------------------------------------------------------------------------


def token(
    system: EmbeddedSystem, username: str, role: Role, unit: str | None = None
) -> dict[str, str]:
    system.accounts.create_user(
        username, "pw-not-checked-1", role, username, unit=unit, enforce_policy=False
    )
    return {
        "Authorization": f"Bearer {system.accounts.issue_token(system.accounts.principal(username))}"
    }


@pytest.fixture
def client(system: EmbeddedSystem) -> Iterator[TestClient]:
    with TestClient(system.web_app()) as client:
        yield client


def test_statistics_over_http_for_the_roles_that_may_read_them(
    system: EmbeddedSystem, history: list[Expected], client: TestClient
) -> None:
    url = (
        "/api/v1/liaison/statistics?from=2025-01-01&to=2026-12-31&group_by=channel&group_by=outcome"
    )
    assert client.get(url).status_code == 401
    assert client.get(url, headers=token(system, "handler-h", Role.HANDLER)).status_code == 403
    for role in (Role.LIAISON, Role.LEADER, Role.AUDITOR, Role.ADMIN, Role.OPERATOR):
        answer = client.get(url, headers=token(system, f"u-{role.value}", role, unit="审计局"))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["total_reports"] == len(history)
        assert [d["dimension"] for d in body["dimensions"]] == ["channel", "outcome"]
    bad = client.get(
        "/api/v1/liaison/statistics?from=2026-02-01&to=2026-01-01",
        headers=token(system, "l2", Role.LEADER),
    )
    assert bad.status_code == 422
    assert "starts after it ends" in bad.json()["detail"]
    unknown = client.get(
        "/api/v1/liaison/statistics?group_by=reporter", headers=token(system, "l3", Role.LEADER)
    )
    assert unknown.status_code == 422


def test_a_liaison_member_sees_the_referrals_of_their_own_unit_only(
    system: EmbeddedSystem, history: list[Expected], client: TestClient
) -> None:
    url = "/api/v1/liaison/referrals"
    audit = token(system, "audit-liaison", Role.LIAISON, unit="审计局")
    answer = client.get(url, headers=audit)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["unit"] == "audit_bureau"
    expected = expected_referrals(history, MemberUnit.AUDIT_BUREAU)
    assert len(body["referrals"]) == sum(expected.values()) > 0
    assert all("audit_bureau" in (v["from_unit"], v["to_unit"]) for v in body["referrals"])
    assert client.get(f"{url}?unit=audit_bureau", headers=audit).status_code == 200
    other = client.get(f"{url}?unit=检察院", headers=audit)
    assert other.status_code == 403
    assert "审计局" in other.json()["detail"]
    unitless = client.get(url, headers=token(system, "no-unit", Role.LIAISON))
    assert unitless.status_code == 403
    assert "unit" in unitless.json()["detail"]

    leader = token(system, "leader-r", Role.LEADER)
    everything = client.get(url, headers=leader).json()
    assert len(everything["referrals"]) > len(body["referrals"])
    scoped = client.get(f"{url}?unit=procuratorate&direction=out", headers=leader).json()
    assert all(
        v["to_unit"] == "procuratorate" and v["direction"] == "out" for v in scoped["referrals"]
    )
    bad = client.get(f"{url}?unit=nowhere", headers=leader)
    assert bad.status_code == 422
    assert "unknown member unit" in bad.json()["detail"]


def test_the_quarterly_report_over_http_in_each_format(
    system: EmbeddedSystem, history: list[Expected], client: TestClient
) -> None:
    headers = token(system, "auditor-q", Role.AUDITOR)
    url = "/api/v1/liaison/quarterly-report?year=2026&quarter=1"
    report = client.get(url, headers=headers)
    assert report.status_code == 200, report.text
    assert report.json()["period"] == "2026-Q1"
    markdown = client.get(f"{url}&format=markdown", headers=headers)
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "2026年第1季度" in markdown.text
    document = client.get(f"{url}&format=docx", headers=headers)
    assert document.content[:2] == b"PK"
    assert "attachment" in document.headers["content-disposition"]
    assert (
        client.get(
            "/api/v1/liaison/quarterly-report?year=2026&quarter=5", headers=headers
        ).status_code
        == 422
    )
    assert (
        client.get("/api/v1/liaison/quarterly-report?year=2026", headers=headers).status_code == 422
    )
    default = client.get("/api/v1/liaison/quarterly-report", headers=headers)
    assert default.status_code == 200
    assert default.json()["to_date"] < system.casework.today().isoformat()


def test_charts_over_http_are_well_formed_svg(
    system: EmbeddedSystem, history: list[Expected], client: TestClient
) -> None:
    headers = token(system, "liaison-c", Role.LIAISON, unit="纪委监委")
    for name in (
        "category",
        "channel",
        "unit",
        "level",
        "outcome",
        "monthly",
        "quarter",
        "referrals",
    ):
        answer = client.get(
            f"/api/v1/liaison/charts/{name}.svg?from=2025-01-01&to=2026-06-30", headers=headers
        )
        assert answer.status_code == 200, (name, answer.text)
        assert answer.headers["content-type"].startswith("image/svg+xml")
        ET.fromstring(answer.text)
    category = client.get(
        "/api/v1/liaison/charts/category.svg?from=2025-01-01&to=2026-06-30", headers=headers
    )
    assert "跑官要官" in category.text
    missing = client.get("/api/v1/liaison/charts/pie.svg", headers=headers)
    assert missing.status_code == 404
    assert "monthly" in missing.json()["detail"]


# -- charts ------------------------------------------------------------------------------------


def test_charts_escape_labels_and_scale_bars_to_the_counts() -> None:
    svg = charts.bar_chart(
        "标题 <b>&", [("某县<script>alert(1)</script>局", 10), ("跑官要官", 5), ("零", 0)]
    )
    root = ET.fromstring(svg)
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    ns = "{http://www.w3.org/2000/svg}"
    bars = [float(r.get("width", 0)) for r in root.iter(f"{ns}rect")][1:]  # after the background
    assert bars[0] == pytest.approx(2 * bars[1], rel=1e-2)
    assert bars[2] == 0
    columns = charts.column_chart("每月", [("2026-01", 3), ("2026-02", 0)], line=True)
    assert ET.fromstring(columns).find(f"{ns}polyline") is not None
    ET.fromstring(charts.bar_chart("空", []))
    with pytest.raises(ValueError, match="counts"):
        charts.bar_chart("负数", [("x", -1)])


def test_a_conclusion_counts_in_the_quarter_the_leader_approved_it(fresh: EmbeddedSystem) -> None:
    """An approval entered later with its real day is dated by that day, not by the entry."""
    driver = Driver(fresh, seed=2)
    report, _ = driver.submit()
    driver.triage("accept", report, c.Accept(reason="受理"))
    fresh.catch_up()
    case_id = case_id_for_report(UUID(report.report_id))

    def run(action: str, command: c.Command, actor: Actor) -> None:
        fresh.casework.execute(case_id, action, command, actor.model_dump(mode="json"))

    run("assign", c.Assign(handler_id="handler-1"), LEADER)
    run(
        "propose_disposition",
        c.ProposeDisposition(disposition=Disposition.PRELIMINARY_VERIFICATION, reason="核实"),
        HANDLER,
    )
    run(
        "approve_disposition",
        c.ApproveDisposition(collective_study={"held_on": "2025-07-01", "participants": ["张"]}),
        LEADER,
    )
    run("record_finding", c.RecordFinding(kind=FindingKind.DOCUMENT, summary="查阅档案"), HANDLER)
    run(
        "propose_conclusion",
        every_cadre(fresh.casework.get_case(case_id), Verdict.UNTRUE, "不实"),
        HANDLER,
    )
    run("approve_conclusion", c.DatedApproval(approved_on=dt.date(2025, 8, 12)), LEADER)
    fresh.catch_up()

    *_, approved = fresh.casework.events.get(case_id)
    assert approved.approved_on == dt.date(2025, 8, 12)
    q = queries(fresh)

    def concluded(year: int, quarter: int) -> dict[str, int]:
        sections = {s.name: s for s in q.quarterly_report(year, quarter).sections}
        return {r.key: r.count for r in sections["conclusions"].rows if r.count}

    assert concluded(2025, 3) == {Verdict.UNTRUE.value: 1}
    today = fresh.casework.today()
    assert concluded(today.year, (today.month - 1) // 3 + 1) == {}
    (entry,) = fresh.read.store.query(
        "SELECT on_date FROM archive_entries WHERE case_id = %s AND kind = 'ConclusionApproved'",
        (str(case_id),),
    )
    assert entry["on_date"] == "2025-08-12"


@pytest.mark.parametrize("largest", [1, 2, 3, 7, 10, 17, 40, 123])
def test_chart_grid_labels_are_distinct_whole_numbers_up_to_the_axis_top(largest: int) -> None:
    for svg in (
        charts.bar_chart("每类", [("跑官要官", largest), ("拉票贿选", 0)]),
        charts.column_chart("每月", [("2026-01", largest), ("2026-02", 0)]),
    ):
        labels = [
            int(t.text or "")
            for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")
            if t.get("fill") == charts.AXIS_COLOUR and (t.text or "").isdigit()
        ]
        assert labels[0] == 0
        assert labels[-1] == charts.nice_ceiling(largest) >= largest
        assert labels == sorted(set(labels))  # no repeated label such as 0 0 0 0 1


def test_the_report_back_limit_of_a_referral_is_configuration(fresh: EmbeddedSystem) -> None:
    driver = Driver(fresh, seed=3)
    report, _ = driver.submit()
    referred_on = dt.date(2026, 1, 10)
    driver.triage(
        "refer_out",
        report,
        c.ReferOut(member_unit=MemberUnit.AUDIT_BUREAU, referred_on=referred_on),
    )
    fresh.catch_up()
    on = dt.date(2026, 3, 1)  # within three months, past one
    config = Config(limits=TimeLimits(referral_report_back_months=1))

    (default,) = queries(fresh, on).referrals().referrals
    (short,) = (
        LiaisonQueries(fresh.read.store, today=lambda: on, config=config).referrals().referrals
    )

    assert (default.status, default.due_on) == ("pending", dt.date(2026, 4, 10))
    assert (short.status, short.due_on) == ("overdue", dt.date(2026, 2, 10))


def test_every_report_status_has_an_outcome() -> None:
    """A report in any status is counted under some outcome (a transfer whose result was
    recorded, ``transfer_concluded``, once made the figures fail: found by the scale history)."""
    from schemas.glossary import ReportStatus
    from services.projections.liaison.statistics import outcome_of

    for status in ReportStatus:
        assert outcome_of(status.value, None, None) is not None
