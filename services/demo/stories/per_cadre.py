"""Demo scenario of issue 10 (items 3, 7, 8): one report naming two cadres, each with their
own verdict, and what follows from each verdict.

- 姜伟民 (QS-0037) is found 属实: admonished (诫勉); the case is closed; the follow-up finds
  no improvement, and the demotion (降职) the follow-up named is decided after closure.
- 冯建华 (QS-0008) is found 不属实: cleared (澄清正名); a false accusation is suspected, and
  the linked case about the accuser, 何志远 (QS-0012, a registered cadre, entered by staff),
  is verified, concluded 属实 and handled (诫勉), then closed.

Their integrity replies differ: QS-0037 is barred (demotion), QS-0008 is cleared, QS-0012
carries the false-accusation case. ``seed_per_cadre`` is idempotent and resumable: each case
takes the steps it has not taken yet (one event per step), those dated up to ``today``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from schemas import commands as c
from schemas.glossary import (
    AccuserStatus,
    AdmonitionOutcome,
    Category,
    ClearingMethod,
    Disposition,
    FindingKind,
    HandlingType,
    ReportStatus,
    Verdict,
)
from schemas.submissions import ReportSubmission
from services.casework.handlers import false_accusation_case_id
from services.demo.steps import DESK, HANDLER, HANDLER2, LEADER, Step, take_case_steps
from services.intake.domain import report_id_for_idempotency_key

if TYPE_CHECKING:
    from services.bootstrap import EmbeddedSystem

D = dt.date
KEY = "demo-issue10-two-cadres"
RECEIVED = D(2026, 1, 5)  # a Monday
PROVEN = c.CadreRef(cadre_id="QS-0037")  # 姜伟民, 青山县审计局副局长
CLEARED = c.CadreRef(cadre_id="QS-0008")  # 冯建华, 青山县交通运输局
ACCUSER = "QS-0012"  # 何志远, staff's finding: he fabricated the accusation against 冯建华
CLEARED_SUBJECT = {"name": "冯建华", "unit": "青山县交通运输局"}


def _study(on: dt.date) -> c.ApproveDisposition:
    return c.ApproveDisposition(
        collective_study=c.CollectiveStudy(
            held_on=on, meeting="部务会", participants=["刘建华", "张强", "李娜"]
        ),
        reason="经部务会集体研究同意",
    )


def submission() -> ReportSubmission:
    return ReportSubmission.model_validate(
        {
            "channel": "letter",
            "reporter": {"anonymous": True},
            "received_on": RECEIVED,
            "subjects": [
                {
                    "name": "姜伟民",
                    "unit": "青山县审计局",
                    "position": "副局长",
                    "cadre_id": "QS-0037",
                },
                {
                    "name": "冯建华",
                    "unit": "青山县交通运输局",
                    "position": "县交通运输综合行政执法大队大队长",
                    "cadre_id": "QS-0008",
                },
            ],
            "categories": [Category.SEEKING_OFFICE.value],
            "summary": "来信反映姜伟民在干部调整前多次找领导要求提拔，并称冯建华为其说情、传递消息。",
        }
    )


def main_steps() -> list[Step]:
    """The case about both cadres: verified and concluded, then what follows each verdict."""
    return verification_steps() + aftermath_steps()


def verification_steps() -> list[Step]:
    """Assigned, verified, a verdict per cadre proposed and approved."""
    verdicts = [
        c.CadreVerdict(cadre=PROVEN, category=Category.SEEKING_OFFICE, verdict=Verdict.TRUE),
        c.CadreVerdict(cadre=CLEARED, category=Category.SEEKING_OFFICE, verdict=Verdict.UNTRUE),
    ]
    return [
        Step(D(2026, 1, 7), "assign", LEADER, c.Assign(handler_id=HANDLER, reason="两人分别核实")),
        Step(
            D(2026, 1, 8),
            "propose_disposition",
            HANDLER,
            c.ProposeDisposition(
                disposition=Disposition.PRELIMINARY_VERIFICATION, reason="线索具体，拟初步核实"
            ),
        ),
        Step(D(2026, 1, 12), "approve_disposition", LEADER, _study(D(2026, 1, 12))),
        Step(
            D(2026, 2, 2),
            "record_finding",
            HANDLER,
            c.RecordFinding(
                kind=FindingKind.INTERVIEW,
                summary="与姜伟民、冯建华分别谈话，调取相关通话和会议记录",
                evidence_refs=["谈话笔录-2026-07", "调取记录-2026-03"],
                found_on=D(2026, 2, 2),
            ),
        ),
        Step(
            D(2026, 2, 9),
            "propose_conclusion",
            HANDLER,
            c.ProposeConclusion(
                cadre_verdicts=verdicts,
                reason="姜伟民跑官要官属实；冯建华说情、传递消息的反映经核实不属实",
            ),
        ),
        Step(
            D(2026, 2, 16),
            "approve_conclusion",
            LEADER,
            c.DatedApproval(approved_on=D(2026, 2, 16), reason="同意分别认定"),
        ),
    ]


def aftermath_steps() -> list[Step]:
    """QS-0037 admonished, QS-0008 cleared, a false accusation suspected, the case closed,
    the admonition followed up (not improved) and the demotion decided after closure."""
    return [
        Step(
            D(2026, 3, 2),
            "decide_handling",
            LEADER,
            c.DecideHandling(
                cadre=PROVEN,
                handling=HandlingType.ADMONITION,
                decided_on=D(2026, 3, 2),
                reason="经部务会研究，对姜伟民予以诫勉，限期改正",
            ),
        ),
        Step(
            D(2026, 3, 3),
            "propose_clearing",
            HANDLER,
            c.ProposeClearing(cadre=CLEARED, reason="对冯建华的反映不属实，拟予澄清正名"),
        ),
        Step(
            D(2026, 3, 5),
            "approve_clearing",
            LEADER,
            c.ApproveClearing(cadre=CLEARED, approved_on=D(2026, 3, 5), reason="同意澄清"),
        ),
        Step(
            D(2026, 3, 9),
            "carry_out_clearing",
            HANDLER,
            c.CarryOutClearing(
                cadre=CLEARED,
                method=ClearingMethod.PARTY_COMMITTEE_NOTICE,
                scope="青山县交通运输局党组",
                carried_out_on=D(2026, 3, 9),
            ),
        ),
        Step(
            D(2026, 3, 10),
            "suspect_false_accusation",
            LEADER,
            c.SuspectFalseAccusation(
                cadre=CLEARED,
                accuser=c.Accuser(cadre_id=ACCUSER),
                accuser_status=AccuserStatus.PARTY_MEMBER,
                reason="经核查，何志远捏造冯建华说情的情节，涉嫌诬告陷害，另立线索办理",
            ),
        ),
        Step(
            D(2026, 3, 16),
            "close",
            LEADER,
            c.Close(
                closed_on=D(2026, 3, 16),
                explanations={"admonition_follow_up#1": "诫勉限期改正期未满，办结后继续跟踪"},
                reason="办结",
            ),
        ),
        Step(
            D(2026, 9, 7),
            "record_admonition_follow_up",
            HANDLER,
            c.AdmonitionFollowUp(
                handling_id=1,
                outcome=AdmonitionOutcome.ESCALATED,
                escalate_to=HandlingType.DEMOTION,
                followed_up_on=D(2026, 9, 7),
                reason="限期改正期满，拒不改正",
            ),
        ),
        Step(
            D(2026, 9, 14),
            "decide_handling",
            LEADER,
            c.DecideHandling(
                cadre=PROVEN,
                handling=HandlingType.DEMOTION,
                decided_on=D(2026, 9, 14),
                escalation_of=1,
                reason="诫勉后拒不改正，经部务会研究予以降职",
            ),
        ),
    ]


def counter_steps() -> list[Step]:
    accuser = c.CadreRef(cadre_id=ACCUSER)
    return [
        Step(D(2026, 3, 11), "assign", LEADER, c.Assign(handler_id=HANDLER2)),
        Step(
            D(2026, 3, 12),
            "propose_disposition",
            HANDLER2,
            c.ProposeDisposition(
                disposition=Disposition.PRELIMINARY_VERIFICATION, reason="核实是否捏造事实"
            ),
        ),
        Step(D(2026, 3, 16), "approve_disposition", LEADER, _study(D(2026, 3, 16))),
        Step(
            D(2026, 4, 6),
            "record_finding",
            HANDLER2,
            c.RecordFinding(
                kind=FindingKind.DOCUMENT,
                summary="来信所述会议记录经查并不存在，何志远承认所述情节系编造",
                evidence_refs=["谈话笔录-2026-19"],
                found_on=D(2026, 4, 6),
            ),
        ),
        Step(
            D(2026, 4, 13),
            "propose_conclusion",
            HANDLER2,
            c.ProposeConclusion(
                cadre_verdicts=[
                    c.CadreVerdict(
                        cadre=accuser, category=Category.OTHER_CONDUCT, verdict=Verdict.TRUE
                    )
                ],
                reason="捏造事实诬告他人属实",
            ),
        ),
        Step(
            D(2026, 4, 20),
            "approve_conclusion",
            LEADER,
            c.DatedApproval(approved_on=D(2026, 4, 20), reason="同意"),
        ),
        Step(
            D(2026, 4, 27),
            "decide_handling",
            LEADER,
            c.DecideHandling(
                cadre=accuser,
                handling=HandlingType.ADMONITION,
                decided_on=D(2026, 4, 27),
                reason="对何志远予以诫勉；违纪问题另移送纪委监委",
            ),
        ),
        Step(
            D(2026, 5, 11),
            "close",
            LEADER,
            c.Close(
                closed_on=D(2026, 5, 11),
                explanations={"admonition_follow_up#1": "限期改正期未满，继续跟踪"},
            ),
        ),
    ]


def seed_per_cadre(system: EmbeddedSystem, today: dt.date) -> dict[str, int]:
    """Run the scenario up to ``today``: its reports and cases, and what this run added
    (``reports_added``, ``steps_added``)."""
    counts = {"reports": 0, "reports_added": 0, "cases": 0, "steps_added": 0}
    if today < RECEIVED:
        return counts
    intake, casework = system.intake, system.casework
    report_id = report_id_for_idempotency_key(KEY)
    if report_id not in intake.repository:
        intake.submit(
            submission(),
            idempotency_key=KEY,
            registered_on=RECEIVED,
            actor=DESK,
            import_id=report_id,
        )
        counts["reports_added"] = 1
    counts["reports"] = 1
    report = intake.get_report(report_id)
    if report.status is ReportStatus.REGISTERED:
        accept = c.Accept(reason="线索具体，予以受理", accepted_on=RECEIVED)
        intake.triage(report_id, "accept", accept, DESK)
    system.catch_up()
    case_id = intake.get_report(report_id).case_id
    assert case_id is not None
    counts["cases"] = 1
    counts["steps_added"] = take_case_steps(casework, case_id, main_steps(), today)
    counter_id = false_accusation_case_id(case_id, CLEARED_SUBJECT)
    if counter_id in casework.repository:
        counts["cases"] = 2
        counts["steps_added"] += take_case_steps(casework, counter_id, counter_steps(), today)
    system.catch_up()
    return counts
