"""Demo: items that left the office and came back settled (issue 10, item 4).

Four stories, apart from the planned reports (``planner.py``), each on its business days:

- a case about two cadres transferred to the discipline commission, whose result came back:
  one cadre 属实 (demoted, and a party-discipline warning), the other 不属实;
- a case transferred to the discipline commission whose result is still awaited: its
  report-back deadline has passed (overdue in the handler's queue);
- a report transferred down to a township's party committee, acknowledged, and the result
  it reported (部分属实, a reminder talk);
- a report referred out to a member unit, with its structured result (属实, admonition: a
  six-month bar still running on the demo's today).

Idempotent: each step is taken only while the report or case still stands where the step
starts, so seeding again adds nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from schemas import commands as c
from schemas.glossary import (
    CaseState,
    Category,
    Channel,
    Disposition,
    HandlingType,
    MemberUnit,
    ReportStatus,
    Role,
    SanctionKind,
    Verdict,
)
from schemas.submissions import ReportSubmission
from services.demo.steps import DEMO_TODAY, DESK, HANDLER, LEADER, business_day
from services.intake.base import STATED_DAYS
from services.intake.domain import report_id_for_idempotency_key
from services.intake.errors import IdempotencyKeyReused

if TYPE_CHECKING:
    from services.bootstrap import EmbeddedSystem

D = dt.date
OPERATOR_ACTOR = DESK
HANDLER_ACTOR = {"id": HANDLER, "role": Role.HANDLER.value}
LEADER_ACTOR = {"id": LEADER, "role": Role.LEADER.value}
STUDY = ("张部长", "刘科长", "陈科长")


@dataclass(frozen=True)
class Person:
    cadre_id: str
    name: str
    unit: str
    position: str

    def subject(self) -> dict[str, str]:
        return {
            "cadre_id": self.cadre_id,
            "name": self.name,
            "unit": self.unit,
            "position": self.position,
        }

    def ref(self) -> c.CadreRef:
        return c.CadreRef(cadre_id=self.cadre_id)


HE = Person("QS-0012", "何志远", "青山县教育体育局", "青山县第一中学党委书记、校长")
CAO = Person("QS-0013", "曹丽娟", "青山县教育体育局", "一级主任科员")
JIANG = Person("QS-0024", "蒋红旗", "青山县卫生健康局", "青山县人民医院党委书记")
HE_WJ = Person("QS-0051", "贺文军", "青山县柳溪乡人民政府", "党委副书记、乡长")
JIANG_WM = Person("QS-0037", "姜伟民", "青山县审计局", "副局长")

KEYS = (
    "demo-settle-discipline",
    "demo-settle-discipline-awaited",
    "demo-settle-transfer-down",
    "demo-settle-referral",
)


def _report(
    system: EmbeddedSystem,
    key: str,
    people: list[Person],
    category: Category,
    received_on: dt.date,
    summary: str,
) -> UUID:
    submission = ReportSubmission.model_validate(
        {
            "channel": Channel.LETTER.value,
            "reporter": {"anonymous": True},
            "subjects": [p.subject() for p in people],
            "categories": [category.value],
            "summary": summary,
            "received_on": received_on,
        }
    )
    planned = report_id_for_idempotency_key(key)  # the demo's own ids, as in demo_reports
    try:
        receipt = system.intake.submit(
            submission,
            idempotency_key=key,
            registered_on=received_on,
            actor=OPERATOR_ACTOR,
            import_id=planned,
        )
    except IdempotencyKeyReused:  # a data folder seeded by another version of the demo
        return planned
    return UUID(receipt.report_id)


def _triage(
    system: EmbeddedSystem, report_id: UUID, when: ReportStatus, action: str, cmd: c.Command
) -> int:
    if system.intake.get_report(report_id).status is not when:
        return 0
    # On the day it states (a stated day is never after today), else on the demo's today.
    day = next((getattr(cmd, f) for f in STATED_DAYS if getattr(cmd, f, None)), DEMO_TODAY)
    with business_day(system.intake, day):
        system.intake.triage(report_id, action, cmd, OPERATOR_ACTOR)
    return 1


def _transferred_case(
    system: EmbeddedSystem, report_id: UUID, accepted_on: dt.date, approved_on: dt.date
) -> tuple[UUID | None, int]:
    """Accepted, assigned, transfer proposed and approved (collective study recorded)."""
    steps = _triage(system, report_id, ReportStatus.REGISTERED, "accept", c.Accept(
        reason="反映问题具体，属于受理范围，予以受理", accepted_on=accepted_on))  # fmt: skip
    system.catch_up()
    case_id = system.intake.get_report(report_id).case_id
    if case_id is None:
        return None, steps
    run = system.casework.execute
    if system.casework.get_case(case_id).state is CaseState.OPEN:
        with business_day(system.casework, accepted_on):
            run(case_id, "assign", c.Assign(handler_id=HANDLER), LEADER_ACTOR)
        steps += 1
    if system.casework.get_case(case_id).state is CaseState.ASSIGNED:
        with business_day(system.casework, accepted_on):
            run(
                case_id,
                "propose_disposition",
                c.ProposeDisposition(
                    disposition=Disposition.TRANSFER_TO_DISCIPLINE,
                    reason="反映问题涉嫌违纪违法，线索具体，拟移送纪检监察机关",
                ),
                HANDLER_ACTOR,
            )
        steps += 1
    if system.casework.get_case(case_id).state is CaseState.DISPOSITION_PROPOSED:
        study = c.CollectiveStudy(
            held_on=approved_on, meeting="部务会", participants=list(STUDY), decision_ref=""
        )
        with business_day(system.casework, approved_on):
            run(
                case_id,
                "approve_disposition",
                c.ApproveDisposition(collective_study=study, reason="经集体研究，同意移送"),
                LEADER_ACTOR,
            )
        steps += 1
    return case_id, steps


def _discipline(system: EmbeddedSystem, today: dt.date) -> int:
    report_id = _report(
        system,
        KEYS[0],
        [HE, CAO],
        Category.BUYING_SELLING_OFFICE,
        D(2026, 5, 11),
        "反映何志远在学校中层干部调整中收受他人财物，曹丽娟从中牵线。",
    )
    case_id, steps = _transferred_case(system, report_id, D(2026, 5, 13), D(2026, 5, 20))
    reported = D(2026, 9, 8)
    if case_id is None or today < reported:
        return steps
    case = system.casework.get_case(case_id)
    if case.state is not CaseState.TRANSFERRED or case.discipline_result is not None:
        return steps
    result = c.RecordDisciplineResult(
        outcomes=[
            c.CadreOutcome(
                cadre=HE.ref(),
                verdict=Verdict.TRUE,
                handling=HandlingType.DEMOTION,
                sanction=c.Sanction(
                    kind=SanctionKind.PARTY_DISCIPLINE, text="党内警告", bars_promotion_months=12
                ),
            ),
            c.CadreOutcome(cadre=CAO.ref(), verdict=Verdict.UNTRUE),
        ],
        reported_on=reported,
        document_number="青纪审〔2026〕15号",
        reason="县纪委监委反馈审查调查结果",
    )
    with business_day(system.casework, reported):
        system.casework.execute(case_id, "record_discipline_result", result, HANDLER_ACTOR)
    return steps + 1


def _discipline_awaited(system: EmbeddedSystem) -> int:
    report_id = _report(
        system,
        KEYS[1],
        [JIANG],
        Category.PROMISING_OFFICE,
        D(2026, 6, 22),
        "反映蒋红旗在医院科室负责人选任中向他人许诺职位。",
    )
    return _transferred_case(system, report_id, D(2026, 6, 24), D(2026, 6, 29))[1]


def _transfer_down(system: EmbeddedSystem, today: dt.date) -> int:
    report_id = _report(
        system,
        KEYS[2],
        [HE_WJ],
        Category.IRREGULAR_PROCEDURE,
        D(2026, 6, 1),
        "反映柳溪乡在村（社区）后备干部选拔中未经民主推荐。",
    )
    r = ReportStatus
    steps = _triage(system, report_id, r.REGISTERED, "transfer_down", c.TransferDown(
        to_unit="青山县柳溪乡党委", transferred_on=D(2026, 6, 2),
        reason="属下级管理权限，转柳溪乡党委办理并报告结果"))  # fmt: skip
    steps += _triage(system, report_id, r.TRANSFERRED_DOWN, "acknowledge_transfer",
                     c.AcknowledgeTransfer(acknowledged_on=D(2026, 6, 5)))  # fmt: skip
    if today >= D(2026, 8, 20):
        result = c.RecordTransferResult(
            outcomes=[
                c.CadreOutcome(
                    cadre=HE_WJ.ref(),
                    verdict=Verdict.PARTLY_TRUE,
                    handling=HandlingType.REMINDER_TALK,
                )
            ],
            reported_on=D(2026, 8, 20),
            document_number="柳党〔2026〕21号",
            reason="柳溪乡党委报告核查处理结果",
        )
        steps += _triage(system, report_id, r.TRANSFER_ACKNOWLEDGED, "record_transfer_result",
                         result)  # fmt: skip
    return steps


def _referral(system: EmbeddedSystem, today: dt.date) -> int:
    report_id = _report(
        system,
        KEYS[3],
        [JIANG_WM],
        Category.OTHER_CONDUCT,
        D(2026, 6, 29),
        "反映姜伟民违规兼职取酬。",
    )
    r = ReportStatus
    steps = _triage(system, report_id, r.REGISTERED, "refer_out", c.ReferOut(
        member_unit=MemberUnit.HUMAN_RESOURCES_BUREAU, referred_on=D(2026, 7, 1),
        reason="反映问题属人社局职责范围，转其办理"))  # fmt: skip
    if today >= D(2026, 9, 15):
        result = c.RecordReferralResult(
            outcomes=[
                c.CadreOutcome(
                    cadre=JIANG_WM.ref(), verdict=Verdict.TRUE, handling=HandlingType.ADMONITION
                )
            ],
            reported_on=D(2026, 9, 15),
            document_number="青人社函〔2026〕33号",
            result="经查属实，已责令清退兼职报酬，建议对其诫勉。",
        )
        steps += _triage(system, report_id, r.REFERRED_OUT, "record_referral_result", result)
    return steps


def seed_settled_items(system: EmbeddedSystem, today: dt.date = DEMO_TODAY) -> dict[str, Any]:
    """Take every step of the four stories due by ``today`` not yet taken; what was added."""
    steps = 0
    if today >= D(2026, 5, 20):
        steps += _discipline(system, today)
    if today >= D(2026, 6, 29):
        steps += _discipline_awaited(system)
        steps += _referral(system, today)
    if today >= D(2026, 6, 5):
        steps += _transfer_down(system, today)
    system.catch_up()
    return {"settling_reports": len(KEYS), "settling_cases": 2, "settling_steps_added": steps}
