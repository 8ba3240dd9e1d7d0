"""The reports' triage stories: the tables and steps the planner draws a report's fate with
(forwarded up, transferred down, referred out and the member unit's result, returned), and
the steps every real-name report may take besides (identity checked, acceptance notice) and
the operator's confirmations of who a subject named without a register id is.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from schemas import commands as c
from schemas.glossary import Category, Channel, HandlingType, IdentityCheck, MemberUnit, Verdict
from schemas.submissions import ReportedCadre
from services.demo.steps import DEMO_TODAY, OPERATOR, Step, workday_on_or_after

if TYPE_CHECKING:
    from services.demo.reports import DemoReport

UPPER_AUTHORITY = "市委组织部干部监督科（市12380举报受理中心）"
UNTRIAGED_SINCE = dt.date(2026, 11, 25)  # reports from here on still wait for triage
TOWNSHIP = re.compile(r"^(青山县..[镇乡])")
REFERRAL_RESULTS = (
    "县纪委监委已初核办结：反映问题部分属实，已对当事人进行谈话提醒。",
    "县纪委监委已了结：反映问题查无实据。",
    "承办单位已核查办结：反映问题不属实，已向当事人单位说明。",
    "承办单位已核查：反映问题属实，已责令当事人作出书面检查。",
)
REFERRAL_VERDICTS: tuple[tuple[Verdict, HandlingType | None], ...] = (
    (Verdict.PARTLY_TRUE, HandlingType.REMINDER_TALK),
    (Verdict.UNPROVEN, None),
    (Verdict.UNTRUE, None),
    (Verdict.TRUE, HandlingType.WRITTEN_SELF_EXAMINATION),
)
OUT_UNITS: dict[MemberUnit, int] = {
    MemberUnit.DISCIPLINE_COMMISSION: 60,
    MemberUnit.PETITIONS_BUREAU: 14,
    MemberUnit.HUMAN_RESOURCES_BUREAU: 10,
    MemberUnit.POLITICAL_LEGAL_COMMITTEE: 6,
    MemberUnit.PROCURATORATE: 5,
    MemberUnit.AUDIT_BUREAU: 5,
}
RETURN_REASONS = (
    "反映内容空泛，无具体人员和事实，无法核查",
    "所反映问题不属于干部监督工作职责范围，且无具体线索",
    "反映人仅表达个人诉求，无具体违规违纪事实",
)


def referral_result(report: DemoReport, text: str, on: dt.date) -> c.RecordReferralResult:
    """A member unit's result for every cadre the report names, as its words say
    (``REFERRAL_RESULTS``; the words kept in ``result``)."""
    verdict, handling = REFERRAL_VERDICTS[REFERRAL_RESULTS.index(text)]
    number = f"{on.year}〔{on.month:02d}{on.day:02d}〕号"
    return c.RecordReferralResult(
        outcomes=[
            c.CadreOutcome(
                cadre=c.CadreRef(name=s.name, unit=s.unit), verdict=verdict, handling=handling
            )
            for s in report.submission.subjects
        ],
        document_number=number,
        result=text,
        reported_on=on,
    )


def in_scope(report: DemoReport) -> bool:
    """What the intake policy accepts on registration when it accepts anything."""
    submission = report.submission
    return not submission.sealed and Category.OTHER_CONDUCT not in submission.categories


def person(subject: ReportedCadre) -> tuple[str, str]:
    """Who a report names, as the register knows them (name and unit)."""
    return subject.name, subject.unit


def reporter_steps(report: DemoReport, rng: random.Random) -> list[Step]:
    """A real-name reporter's identity checked (in person for a visit, else by phone) and the
    acceptance notice sent, mostly; none for an anonymous report."""
    submission = report.submission
    if submission.reporter.anonymous:
        return []
    steps: list[Step] = []
    received = submission.received_on or DEMO_TODAY
    if rng.random() < 0.9:
        in_person = submission.channel is Channel.VISIT
        on = (
            received
            if in_person
            else workday_on_or_after(received + dt.timedelta(days=rng.randint(0, 3)))
        )
        method = IdentityCheck.IN_PERSON if in_person else IdentityCheck.PHONE
        steps.append(
            Step(on, "verify_identity", OPERATOR, c.VerifyIdentity(method=method, verified_on=on))
        )
    if rng.random() < 0.95:
        on = workday_on_or_after(received + dt.timedelta(days=rng.randint(2, 16)))
        steps.append(
            Step(on, "send_acceptance_notice", OPERATOR, c.SendAcceptanceNotice(sent_on=on))
        )
    return steps


def subject_identifications(
    report: DemoReport, register: Mapping[tuple[str, str], str], rng: random.Random
) -> list[Step]:
    """An operator confirms who most subjects named without a register id are (``register``:
    name and unit -> cadre id); the rest stay candidates (the archive's candidate list)."""
    steps: list[Step] = []
    received = report.submission.received_on or DEMO_TODAY
    for index, subject in enumerate(report.submission.subjects):
        cadre_id = register.get(person(subject))
        if subject.cadre_id or cadre_id is None or rng.random() >= 0.6:
            continue
        on = workday_on_or_after(received + dt.timedelta(days=rng.randint(3, 30)))
        steps.append(
            Step(
                on,
                "identify_subject",
                OPERATOR,
                c.IdentifySubject(
                    subject_index=index,
                    cadre_id=cadre_id,
                    reason="经核对干部名册，姓名、单位、职务一致",
                ),
            )
        )
    return steps
