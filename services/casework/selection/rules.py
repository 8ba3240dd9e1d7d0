"""The selection's rules: who may record which step, at which stage, and the named guards.

Every command of :class:`~services.casework.selection.Selection` first asks :func:`permit`
(role, then stage: ``STEP_ORDER``), then that its date is not before the last step's
(``DATES_IN_ORDER``), then its own named rules. A refusal says, in English and Chinese,
what is needed, and stores nothing (decision 0034). The Chinese messages quote the seeds
where they say it (seed 003, 2.1–5; seed 000, 4.3).
"""

from __future__ import annotations

from schemas.glossary import Role, SelectionStage
from services.common.procedure import (
    Permission,
    ProcedureError,
    RoleNotAllowed,
    Rule,
    RuleBroken,
    TransitionNotAllowed,
    permission,
    permit_step,
)

__all__ = [
    "PERMISSIONS",
    "ProcedureError",
    "RoleNotAllowed",
    "Rule",
    "RuleBroken",
    "StepOutOfOrder",
    "TransitionNotAllowed",
    "permit",
]

St = SelectionStage

# -- the order of the steps --------------------------------------------------------------

STEP_ORDER = Rule(
    "step_order",
    "a step of a selection is recorded only after the steps before it",
    "选拔任用须按程序逐步进行，前一环节完成后方可进行下一环节",
)


class StepOutOfOrder(TransitionNotAllowed):
    """The stage of the selection does not allow the step now (``STEP_ORDER``): a
    :class:`TransitionNotAllowed` that names what the step needs, and its rule."""

    def __init__(self, action: str, stage: SelectionStage, needs: str, needs_zh: str) -> None:
        super().__init__(action, stage, needs, needs_zh, what="selection", what_zh="选拔任用工作")
        self.rule = STEP_ORDER


DATES_IN_ORDER = Rule(
    "dates_in_order",
    "a step (or a record beside the steps) cannot be dated before the last step of the procedure",
    "各环节的日期不得早于前一环节的日期",
)
PERIOD_IN_ORDER = Rule(
    "period_in_order",
    "a period ends on or after the day it starts",
    "期间的截止日期不得早于起始日期",
)

# -- the democratic recommendation and the inspection's announcement -------------------

CANDIDATES_DISTINCT = Rule(
    "candidates_distinct",
    "a step names at least one candidate, and each candidate once",
    "须列明人选，且每名人选只能列一次",
)
VOTES_COUNTED = Rule(
    "votes_counted",
    "votes are not negative and not more than the people who voted (participants, or "
    "members present), and members present are not more than members due",
    "票数不得为负数，不得超过参加推荐或到会的人数；到会人数不得超过应到会人数",
)
NOT_RECOMMENDED_NOT_NOMINATED = Rule(
    "not_recommended_not_nominated",
    "inspection subjects come from the democratic recommendation",
    "没有经过民主推荐的不提名：考察对象须从民主推荐的人选中确定",
)
VOTE_ORDER_EXPLAINED = Rule(
    "vote_order_explained",
    "a candidate with more votes than an inspection subject was passed over: give the reason",
    "对得票多而没有被列为考察对象的或得票少被列为考察对象的，都要说明理由",
)

# -- the integrity opinion, the inspection, the deliberation ---------------------------

INSPECTION_SUBJECT = Rule(
    "inspection_subject",
    "the candidate must be one of the inspection subjects",
    "所涉人选须为考察对象",
)
OPINION_REQUESTED = Rule(
    "opinion_requested",
    "the supervision office replies only about candidates whose integrity opinion was asked "
    "for and not yet given",
    "干部监督机构只对已申请且尚未回复廉政意见的人选作出回复",
)
OPINION_FROM_REGISTER = Rule(
    "opinion_from_register",
    "a reply from the information base needs the candidate's register number (cadre_id); "
    "record the discipline commission's opinion by hand for a candidate without one",
    "从干部监督信息库出具廉政意见须有该人选的干部编号；无编号的人选请登记纪检监察机关的意见",
)
OPINION_RECEIVED = Rule(
    "opinion_received",
    "an integrity opinion is recorded on or after the day it was received",
    "廉政鉴定意见须在收到后登记",
)
INSPECTION_AFTER_ANNOUNCEMENT = Rule(
    "inspection_after_announcement",
    "the inspection is recorded on or after the first day of its announcement",
    "考察须在考察预告发布后进行",
)

# -- the decision ----------------------------------------------------------------------

NO_INSPECTION_NO_DISCUSSION = Rule(
    "no_inspection_no_discussion",
    "a candidate not inspected is not discussed: record the inspection's findings first",
    "未经组织人事部门认真考察（考核）的不讨论",
)
NO_INTEGRITY_OPINION_NO_MEETING = Rule(
    "no_integrity_opinion_no_meeting",
    "a candidate without an integrity opinion of the discipline inspection organ is not put "
    "to the meeting",
    "纪检监察部门没有提供廉政鉴定的不上会",
)
QUORUM = Rule(
    "quorum",
    "a collective discussion needs at least two thirds of its members present",
    "集体讨论时，必须有三分之二以上成员参加",
)
SUDDEN_PROMOTION = Rule(
    "sudden_promotion",
    "no appointment may be decided during a recorded institutional change or principal "
    "leader's transfer: such a decision is void",
    "在机构变动和主要领导成员工作调动时突击提拔调整干部的，作出的干部任免决定一律无效",
)
CANDIDATE_HELD = Rule(
    "candidate_held",
    "a candidate held by a report is not decided or appointed until released",
    "人选因举报暂缓，在查清并解除暂缓前不得讨论决定或任职",
)

# -- the pre-appointment publicity and the appointment ---------------------------------

APPROVED_ONLY = Rule(
    "approved_only",
    "only a candidate the meeting approved is publicized or appointed",
    "集体讨论干部时多数人不同意提拔任用的不通过：只有讨论决定通过的人选方可公示、任职",
)
PUBLICITY_PERIOD = Rule(
    "publicity_period",
    "the pre-appointment publicity lasts at least 5 working days",
    "任前公示期不少于5个工作日",
)
APPOINTMENT_AFTER_PUBLICITY = Rule(
    "appointment_after_publicity",
    "a candidate is appointed only after their pre-appointment publicity has ended",
    "任前公示期满后方可办理任职手续",
)
APPOINTED_ONCE = Rule(
    "appointed_once", "the candidate's appointment is already recorded", "该人选已办理任职"
)

# -- holds by reports, withdrawal ----------------------------------------------------------

HOLD_DURING_NOTICE = Rule(
    "hold_during_notice",
    "a report holds a candidate during the inspection announcement or the pre-appointment "
    "publicity",
    "考察预告期间或任前公示期间收到反映的，方可暂缓该人选",
)
ONE_HOLD_PER_REPORT = Rule(
    "one_hold_per_report",
    "the candidate is already held by this report",
    "该人选已因此件举报暂缓",
)
HOLD_OPEN = Rule(
    "hold_open",
    "the candidate is not held by this report",
    "该人选没有因此件举报暂缓",
)
CASE_SETTLED = Rule(
    "case_settled",
    "a hold placed by a report's case is released once that case is settled (its conclusion "
    "approved, closed, or transferred to the discipline inspection organ)",
    "因举报件所立案件暂缓的人选，须待该案件查清（核查结论经审批、办结或移送纪检监察机关）后方可解除暂缓",
)
WITHDRAWAL_EXPLAINED = Rule(
    "withdrawal_explained",
    "a selection is withdrawn only with its reason",
    "终止选拔任用工作须说明理由",
)

# -- voided appointments and responsibility (责任追究) -------------------------------------

VOID_DECIDED_ONLY = Rule(
    "void_decided_only",
    "only a candidate the meeting approved (or appointed) can have their appointment declared "
    "void, and only once",
    "只有讨论决定通过或已任职的人选方可宣布任免决定无效，且不得重复宣布",
)
VOIDED_NOT_APPOINTED = Rule(
    "voided_not_appointed",
    "a candidate whose decision is void is not publicized or appointed",
    "任免决定已宣布无效的人选，不得公示或任职",
)
BASIS_REQUIRED = Rule(
    "basis_required",
    "a voided appointment or a responsibility taken rests on a basis: a concluded case or "
    "supervision project",
    "宣布任免决定无效或追究选人用人责任，须有依据（已形成结论的核查案件或立项督查）",
)
BASIS_CONCLUDED = Rule(
    "basis_concluded",
    "the basis must be a case or a supervision project on record whose conclusion is approved "
    "(a project's, on or before this step's day)",
    "所依据的须为结论已经审批的核查案件或立项督查（立项督查结论的批准日期不得晚于本环节日期）",
)
BASIS_PROVEN = Rule(
    "basis_proven",
    "the basis's conclusion must find the irregularity true or partly true",
    "所依据的结论须认定反映问题属实或部分属实",
)
BASIS_ON_THIS_SELECTION = Rule(
    "basis_on_this_selection",
    "a supervision project is a basis only for the selection it supervised",
    "立项督查结论只能作为被督查的该次选拔任用的依据",
)
STEP_ON_RECORD = Rule(
    "step_on_record",
    "a person answers for a step the record has people for (nominated, recommended, "
    "inspected, deliberated or decided)",
    "谁推荐谁负责，谁考察谁负责，谁决策谁负责：所追究的环节须在记实中有责任人",
)
PERSON_ON_RECORD = Rule(
    "person_on_record",
    "the person is not among those the record names for the step: give the reason",
    "被追究人不在该环节记实的责任人之列的，须说明理由",
)
DOCUMENT_STEP_TAKEN = Rule(
    "document_step_taken",
    "an inspection feedback is issued to an inspected candidate (about: "
    "inspection:<candidate_id>:cadre) or their unit's leadership team (about: "
    "inspection:<candidate_id>:team), after the inspection is recorded",
    "考察反馈意见须在考察后向考察对象本人（inspection:<人选编号>:cadre）"
    "或其所在单位领导班子（inspection:<人选编号>:team）制发",
)
ONE_DOCUMENT_PER_STEP = Rule(
    "one_document_per_step",
    "this feedback was already issued",
    "该考察反馈意见已制发",
)

# -- who may record which step, at which stage ---------------------------------------------

CLERK, LEADER, HANDLER = Role.SELECTION_CLERK, Role.LEADER, Role.HANDLER
# The cadre section records the steps; a leader may too (the approving bodies' records).
RECORDERS = frozenset({CLERK, LEADER})
# The supervision office holds a candidate on a report and releases them (decision 0034:
# it links reports to a selection; the cadre section reads no report).
HOLDERS = frozenset({HANDLER, LEADER})
# Voiding an appointment and holding someone responsible are the office's approval: leaders
# only (decision 0034: through a case's conclusion, the supervision office's leaders).
ACCOUNTABLE = frozenset({LEADER})

UNDER_WAY = frozenset(set(St) - {St.APPOINTED, St.WITHDRAWN, St.VOIDED})
AFTER_ANNOUNCEMENT = frozenset({St.INSPECTION_ANNOUNCED, St.INSPECTED, St.DELIBERATED})
AFTER_DECISION = frozenset({St.DECIDED, St.PUBLICIZED, St.APPOINTED})


def _p(roles: frozenset[Role], stages: set[St] | frozenset[St], needs: str, zh: str) -> Permission:
    return permission(roles, stages, needs, zh)


PERMISSIONS: dict[str, Permission] = {
    "record_circumstance": _p(RECORDERS, UNDER_WAY, "a selection under way", "选拔任用工作进行中"),
    "record_recommendation": _p(
        RECORDERS, {St.PROPOSED}, "a proposal not yet recommended", "已动议且尚未民主推荐"
    ),
    "announce_inspection": _p(
        RECORDERS, {St.RECOMMENDED}, "a democratic recommendation", "经过民主推荐"
    ),
    "record_integrity_opinion": _p(
        RECORDERS,
        AFTER_ANNOUNCEMENT,
        "an inspection announced and no decision yet",
        "已发布考察预告且尚未讨论决定",
    ),
    "request_integrity_opinions": _p(
        RECORDERS,
        AFTER_ANNOUNCEMENT,
        "an inspection announced and no decision yet",
        "已发布考察预告且尚未讨论决定",
    ),
    "reply_integrity_opinions": _p(
        HOLDERS,
        AFTER_ANNOUNCEMENT,
        "integrity opinions asked for and no decision yet",
        "已申请廉政意见且尚未讨论决定",
    ),
    "record_inspection": _p(
        RECORDERS,
        {St.INSPECTION_ANNOUNCED, St.INSPECTED},
        "an inspection announced",
        "已发布考察预告",
    ),
    "record_deliberation": _p(RECORDERS, {St.INSPECTED}, "an inspection recorded", "已经考察"),
    "record_decision": _p(RECORDERS, {St.DELIBERATED}, "a deliberation recorded", "已经酝酿"),
    "start_publicity": _p(RECORDERS, {St.DECIDED}, "a decision recorded", "已讨论决定"),
    "record_appointment": _p(
        RECORDERS,
        {St.PUBLICIZED, St.APPOINTED},
        "a pre-appointment publicity",
        "已进行任前公示",
    ),
    "hold_candidate": _p(
        HOLDERS,
        AFTER_ANNOUNCEMENT | {St.PUBLICIZED},
        "an inspection announcement or a pre-appointment publicity",
        "处于考察预告或任前公示阶段",
    ),
    "release_candidate": _p(
        HOLDERS,
        AFTER_ANNOUNCEMENT | {St.DECIDED, St.PUBLICIZED, St.APPOINTED},
        "a candidate held",
        "有暂缓的人选",
    ),
    "withdraw": _p(RECORDERS, UNDER_WAY, "a selection under way", "选拔任用工作进行中"),
    "void_appointment": _p(
        ACCOUNTABLE,
        AFTER_DECISION,
        "a decision recorded and a candidate whose appointment is not yet void",
        "已讨论决定且有尚未宣布无效的人选",
    ),
    "take_responsibility": _p(ACCOUNTABLE, set(St), "a selection on record", "有选拔任用记实"),
    # The inspection's feedback (考察反馈意见, decision 0035): by who inspects, once inspected.
    "issue_document": _p(
        RECORDERS,
        {St.INSPECTED, St.DELIBERATED, St.DECIDED, St.PUBLICIZED, St.APPOINTED},
        "an inspection recorded",
        "已经考察",
    ),
}

# The event each command records (its name in Selection): with PERMISSIONS, where a command
# may take a selection; with services/common/selection_stages.py, where it leaves it.
RECORDS: dict[str, str] = {
    "record_circumstance": "CircumstanceRecorded",
    "record_recommendation": "RecommendationRecorded",
    "announce_inspection": "InspectionAnnounced",
    "record_integrity_opinion": "IntegrityOpinionRecorded",
    "request_integrity_opinions": "IntegrityOpinionsRequested",
    "reply_integrity_opinions": "IntegrityOpinionRecorded",
    "record_inspection": "InspectionRecorded",
    "record_deliberation": "DeliberationRecorded",
    "record_decision": "DecisionRecorded",
    "start_publicity": "PublicityStarted",
    "record_appointment": "AppointmentRecorded",
    "hold_candidate": "CandidateHeld",
    "release_candidate": "CandidateReleased",
    "withdraw": "Withdrawn",
    "void_appointment": "AppointmentVoided",
    "take_responsibility": "ResponsibilityTaken",
    "issue_document": "DocumentIssued",
}


def permit(action: str, role: Role, stage: SelectionStage) -> None:
    """Raise unless ``role`` may do ``action`` while the selection is at ``stage``."""
    permit_step(PERMISSIONS, action, role, stage, StepOutOfOrder)


def permit_proposal(role: Role) -> None:
    """Raise unless ``role`` may propose a selection: a selection recorder."""
    if role not in RECORDERS:
        raise RoleNotAllowed("propose", role, RECORDERS)


def approved(agree: int, members_due: int) -> bool:
    """Approved (``QUORUM``'s meeting decides): more than half of the members due agree."""
    return agree * 2 > members_due


def quorate(members_present: int, members_due: int) -> bool:
    """``QUORUM``: at least two thirds of the members due are present (two thirds included)."""
    return members_present * 3 >= members_due * 2
