"""The procedure's rules: who may do what, in which state, and the named guards.

Every command of :class:`~services.casework.domain.Case` first asks :func:`permit`
(role and state) and then its own named rules. A refusal raises one of the errors
below, with a message in English and Chinese that says what is needed, and stores
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.glossary import CaseState, Category, Role
from services.common.procedure import (
    ProcedureError as CaseworkError,
)
from services.common.procedure import (
    RoleNotAllowed,
    Rule,
    RuleBroken,
    TransitionNotAllowed,
)

__all__ = [
    "CaseNotFound",
    "CaseworkError",
    "RoleNotAllowed",
    "Rule",
    "RuleBroken",
    "TransitionNotAllowed",
    "permit",
]

S = CaseState
OPEN_STATES = frozenset(
    {
        S.OPEN,
        S.ASSIGNED,
        S.DISPOSITION_PROPOSED,
        S.INQUIRY,
        S.VERIFICATION,
        S.PARKED,
        S.CONCLUSION_PROPOSED,
        S.CONCLUDED,
    }
)
FINISHED_STATES = frozenset({S.CLOSED, S.TRANSFERRED})


class CaseNotFound(CaseworkError, LookupError):
    def __init__(self, case_id: object) -> None:
        super().__init__(f"no case {case_id}", f"案件 {case_id} 不存在")


class InvalidInput(CaseworkError, ValueError):
    """The request names something that cannot be used (answered 422): nothing is stored."""


class NotAHandler(InvalidInput):
    def __init__(self, handler_id: str) -> None:
        super().__init__(
            f"{handler_id!r} is not an active account with the handler role; "
            "assign an active handler (承办人)",
            f"“{handler_id}”不是在用的承办人账号，请选择在用的承办人",
        )


class UnknownAccuser(InvalidInput):
    def __init__(self, cadre_id: str) -> None:
        super().__init__(
            f"no cadre {cadre_id!r} in the register; name a registered cadre, or a person who "
            "is not a cadre by name",
            f"干部名册中没有 {cadre_id}；请选择名册中的干部，或填写非干部人员的姓名",
        )


class NotAlleged(InvalidInput):
    """A verdict on a (cadre, category) pair that none of the cadre's reports alleges."""

    def __init__(self, cadre: dict[str, str], category: str) -> None:
        who = cadre.get("cadre_id") or cadre.get("name", "")
        category_zh = next((c.zh for c in Category if c.value == category), category)
        super().__init__(
            f"no report in this case alleges {category!r} against {who} ({cadre.get('name')}): "
            "give verdicts only on what each cadre's own reports allege",
            f"本案没有举报件反映{cadre.get('name')}的“{category_zh}”问题，"
            "只能对每名干部被反映的问题作出认定",
        )


class NotTheCadresHandling(InvalidInput):
    """A clearing names a handling to revoke that is not one of that cadre's in the case."""

    def __init__(self, handling_id: int, cadre: dict[str, str]) -> None:
        super().__init__(
            f"handling {handling_id} is not a handling of {cadre.get('name')} in this case; "
            "a clearing revokes only the cleared cadre's own handlings (revokes)",
            f"第{handling_id}项组织处理不是本案对{cadre.get('name')}作出的处理，"
            "澄清正名只能撤销对该干部本人的处理",
        )


# -- the named rules -----------------------------------------------------------------------

DOCUMENT_STEP_TAKEN = Rule(
    "document_step_taken",
    "an official document is issued about a step taken: an inquiry notice about the inquiry "
    "letter sent (about: inquiry), an admonition notice about an admonition decided (about: "
    "handling:<id>), a clearing letter about a clearing carried out (about: "
    "clearing:<name|unit>)",
    "公文须针对已办理的环节制发：谈话函询通知书须已发出函询（inquiry），"
    "诫勉通知书须已作出诫勉（handling:<编号>），澄清正名函须已实施澄清正名（clearing:<姓名|单位>）",
)
ONE_DOCUMENT_PER_STEP = Rule(
    "one_document_per_step",
    "a document of this kind was already issued about this step",
    "该环节已制发此类公文",
)

ASSIGNED_HANDLER_ONLY = Rule(
    "assigned_handler_only",
    "only the case's assigned handler may do this",
    "只有本案承办人可以办理该事项",
    about_who=True,
)
COLLECTIVE_STUDY_RECORDED = Rule(
    "collective_study_recorded",
    "a disposition is approved only with the collective study recorded (date and participants)",
    "处置方式须经集体研究，并记录研究时间和参加人员",
)
INQUIRY_LETTER_SENT = Rule(
    "inquiry_letter_sent", "the inquiry letter must be sent first", "须先发出函询通知"
)
INQUIRY_REPLY_RECEIVED = Rule(
    "inquiry_reply_received", "the inquiry reply must be received first", "须先收到函询回复"
)
INQUIRY_REPLY_EVALUATED = Rule(
    "inquiry_reply_evaluated",
    "a conclusion after an inquiry needs the reply evaluated first",
    "须先对函询回复作出评估",
)
FINDINGS_RECORDED = Rule(
    "findings_recorded",
    "a conclusion after verification needs at least one recorded finding",
    "初步核实须至少记录一项核实情况后方可提出结论",
)
CONCLUSION_COVERS_ALLEGATIONS = Rule(
    "conclusion_covers_allegations",
    "a conclusion must give one verdict for each allegation category of the case",
    "核查结论须对每一项反映问题分别作出认定",
)
CONCLUSION_PER_CADRE = Rule(
    "conclusion_per_cadre",
    "the case names several cadres: give a verdict per cadre and allegation (cadre_verdicts)",
    "本案涉及多名干部，须对每名干部的每项反映问题分别作出认定",
)
CONCLUSION_COVERS_EVERY_CADRE = Rule(
    "conclusion_covers_every_cadre",
    "a conclusion must give exactly one verdict for each cadre named in the case and each "
    "allegation category",
    "核查结论须对本案每名反映对象的每一项反映问题分别作出一项认定",
)
PROVEN_FOR_HANDLING = Rule(
    "proven_for_handling",
    "organizational handling needs an approved conclusion of true or partly true for this cadre",
    "组织处理须以对该干部经批准的“属实”或“部分属实”结论为依据",
)
UNTRUE_FOR_CLEARING = Rule(
    "untrue_for_clearing",
    "clearing a cadre's name needs an approved conclusion of untrue for this cadre "
    "(unproven is not untrue)",
    "澄清正名须以对该干部经批准的“不属实”结论为依据（“无法查实”不等于“不属实”）",
)
CLEARING_NOT_STARTED = Rule(
    "clearing_not_started",
    "clearing was already proposed for this cadre in this case",
    "本案已为该干部提出澄清正名",
)
CLEARING_NAMES_CADRE = Rule(
    "clearing_names_cadre",
    "several clearings are at this stage: name the cadre",
    "本案有多项澄清正名处于该环节，请指明干部",
)
ESCALATION_PENDING = Rule(
    "escalation_pending",
    "after closure (or as an escalation) only the heavier handling named by an admonition's "
    "failed follow-up may be decided, for the admonished cadre, once",
    "办结后（或加重处理时）只能对诫勉后拒不改正的干部作出限期改正情况所明确的加重处理，且仅一次",
)
ONE_PUBLICITY_HOLD = Rule(
    "one_publicity_hold",
    "an appointment is already held for publicity on this case; decide it first",
    "本案已有待决定的任前公示暂缓事项，请先作出决定",
)
HELD_ON_SELECTION = Rule(
    "held_on_selection",
    "a report of this case already holds the cadre on a selection's record (during its "
    "inspection announcement or pre-appointment publicity): the appointment waits there, and "
    "is released there once the case is settled",
    "本案举报件已使该同志在选拔任用记录中暂缓，请在该记录中待本案查清后解除暂缓，不再另行暂缓",
)
CLEARING_PROPOSED = Rule(
    "clearing_proposed", "clearing must be proposed (or applied for) first", "须先提出澄清正名申请"
)
CLEARING_APPROVED = Rule(
    "clearing_approved",
    "clearing must be approved before it is carried out",
    "澄清正名须经批准后实施",
)
ADMONITION_DECIDED = Rule(
    "admonition_decided",
    "an admonition follow-up needs an admonition decided in this case",
    "须先作出诫勉处理，方可记录限期改正情况",
)
ESCALATION_NAMES_HANDLING = Rule(
    "escalation_names_handling",
    "an escalated admonition must name the heavier handling (escalate_to: reassignment, "
    "ordered_resignation, dismissal or demotion)",
    "诫勉后拒不改正的，须明确加重处理方式（调整职务、责令辞职、免职或降职）",
)
UNTRUE_FOR_FALSE_ACCUSATION = Rule(
    "untrue_for_false_accusation",
    "a false accusation can only be suspected after an approved conclusion of untrue",
    "须在“不属实”结论经批准后，方可认定涉嫌诬告陷害",
)
FALSE_ACCUSATION_ONCE = Rule(
    "false_accusation_once",
    "a false-accusation case is already linked to this case",
    "本案已移交诬告陷害线索",
)
EXPLAIN_UNMET_DEADLINES = Rule(
    "explain_unmet_deadlines",
    "the case has deadlines not met; closing it needs an explanation of each",
    "本案尚有未完成的时限事项，结案须说明情况",
)
REAL_NAME_REPORTER_FOR_FEEDBACK = Rule(
    "real_name_reporter_for_feedback",
    "feedback goes only to real-name reporters; this case has none",
    "仅对实名举报人反馈；本案无实名举报人",
)
FEEDBACK_GIVEN_FOR_OBJECTION = Rule(
    "feedback_given_for_objection",
    "an objection answers feedback: give feedback first",
    "须先向举报人反馈，方可登记其异议",
)
OBJECTION_OPEN = Rule("objection_open", "there is no open objection to answer", "没有待答复的异议")
PUBLICITY_HOLD_OPEN = Rule(
    "publicity_hold_open",
    "there is no appointment held for publicity on this case",
    "本案没有待决定的任前公示事项",
)
DEFERRAL_AT_MOST_THREE_MONTHS = Rule(
    "deferral_at_most_three_months",
    "an appointment may be deferred by at most 3 months",
    "暂缓任职一般不超过3个月",
)


def deferral_limit(months: int) -> Rule:
    """The deferral rule for the configured limit (domain.md: normally at most 3 months)."""
    if months == 3:
        return DEFERRAL_AT_MOST_THREE_MONTHS
    return Rule(
        "deferral_limit",
        f"an appointment may be deferred by at most {months} months",
        f"暂缓任职一般不超过{months}个月",
    )


DISCIPLINE_RESULT_ONCE = Rule(
    "discipline_result_once",
    "the discipline commission's result is already recorded for this case",
    "本案已登记纪检监察机关的办理结果",
)
RESULT_FOR_EACH_CADRE = Rule(
    "result_for_each_cadre",
    "the result gives one outcome for each cadre the case names",
    "办理结果须逐一载明本案每名反映对象的核查结论",
)


NAMED_CADRE = Rule(
    "named_cadre",
    "the cadre must be one of the cadres named in the case",
    "所涉干部须为本案反映对象",
)


# -- who may do what, in which state ----------------------------------------------------------

H, L, OP = Role.HANDLER, Role.LEADER, Role.OPERATOR


@dataclass(frozen=True)
class Permission:
    roles: frozenset[Role]
    states: frozenset[CaseState]
    needs: str
    needs_zh: str


def _p(
    roles: set[Role], states: set[CaseState] | frozenset[CaseState], needs: str, needs_zh: str
) -> Permission:
    return Permission(frozenset(roles), frozenset(states), needs, needs_zh)


PERMISSIONS: dict[str, Permission] = {
    "assign": _p({L}, OPEN_STATES - {S.CONCLUSION_PROPOSED}, "an open case", "案件未办结"),
    "propose_disposition": _p(
        {H},
        {S.ASSIGNED},
        "an assigned case without a pending disposition",
        "已分办且无待批处置方式",
    ),
    "approve_disposition": _p(
        {L}, {S.DISPOSITION_PROPOSED}, "a proposed disposition", "已提出处置方式"
    ),
    "return_disposition": _p(
        {L}, {S.DISPOSITION_PROPOSED}, "a proposed disposition", "已提出处置方式"
    ),
    "send_inquiry_letter": _p(
        {H}, {S.INQUIRY}, "an approved talk-or-inquiry disposition", "经批准的谈话函询处置方式"
    ),
    "record_inquiry_reply": _p({H}, {S.INQUIRY}, "a case under inquiry", "谈话函询中的案件"),
    "evaluate_inquiry_reply": _p({H}, {S.INQUIRY}, "a case under inquiry", "谈话函询中的案件"),
    "record_finding": _p(
        {H}, {S.VERIFICATION}, "a case under preliminary verification", "初步核实中的案件"
    ),
    "review_parked": _p({H}, {S.PARKED}, "a parked case", "暂存待查的案件"),
    "reactivate": _p({H, L}, {S.PARKED}, "a parked case", "暂存待查的案件"),
    "propose_conclusion": _p(
        {H},
        {S.INQUIRY, S.VERIFICATION},
        "a case under inquiry or verification",
        "谈话函询或初步核实中的案件",
    ),
    "approve_conclusion": _p(
        {L}, {S.CONCLUSION_PROPOSED}, "a proposed conclusion", "已提出核查结论"
    ),
    "return_conclusion": _p(
        {L}, {S.CONCLUSION_PROPOSED}, "a proposed conclusion", "已提出核查结论"
    ),
    "decide_handling": _p({L}, {S.CONCLUDED, S.CLOSED}, "an approved conclusion", "核查结论已批准"),
    "record_admonition_follow_up": _p(
        {H}, {S.CONCLUDED, S.CLOSED}, "a concluded case", "已形成结论的案件"
    ),
    "propose_clearing": _p({H}, {S.CONCLUDED, S.CLOSED}, "a concluded case", "已形成结论的案件"),
    "apply_for_clearing": _p(
        {H, OP}, {S.CONCLUDED, S.CLOSED}, "a concluded case", "已形成结论的案件"
    ),
    "approve_clearing": _p({L}, {S.CONCLUDED, S.CLOSED}, "a concluded case", "已形成结论的案件"),
    "carry_out_clearing": _p({H}, {S.CONCLUDED, S.CLOSED}, "a concluded case", "已形成结论的案件"),
    "suspect_false_accusation": _p(
        {H, L}, {S.CONCLUDED, S.CLOSED}, "a concluded case", "已形成结论的案件"
    ),
    "refer_subject": _p({H, L}, {S.CONCLUDED, S.CLOSED}, "a concluded case", "已形成结论的案件"),
    "close": _p({L}, {S.CONCLUDED}, "an approved conclusion", "核查结论已批准"),
    "give_feedback": _p({H}, FINISHED_STATES, "a closed case", "已办结的案件"),
    "record_objection": _p({H, OP}, FINISHED_STATES, "a closed case", "已办结的案件"),
    "answer_objection": _p({H, L}, FINISHED_STATES, "a closed case", "已办结的案件"),
    "reopen": _p({L}, {S.CLOSED}, "a closed case", "已办结的案件"),
    "hold_for_publicity": _p({H, OP, L}, OPEN_STATES, "an open case", "未办结的案件"),
    "record_discipline_result": _p(
        {H, L},
        {S.TRANSFERRED},
        "a case transferred to the discipline commission",
        "已移送纪检监察机关的案件",
    ),
    "decide_publicity": _p(
        {L}, OPEN_STATES | FINISHED_STATES, "an appointment on hold", "任前公示暂缓事项"
    ),
    # Official documents (decision 0035): DOCUMENT_STEP_TAKEN then says which step allows it.
    "issue_document": _p(
        {H, L},
        {S.INQUIRY, S.VERIFICATION, S.CONCLUSION_PROPOSED, S.CONCLUDED, S.CLOSED},
        "an inquiry letter sent, an admonition decided or a clearing carried out",
        "已发出函询、作出诫勉或实施澄清正名",
    ),
}

# The event each command records (its name in Case; its class in the stage module of
# services/casework/domain/): with PERMISSIONS, where a command may take a case; with
# services/common/case_states.py, where it leaves it (tests/unit/test_case_states.py checks
# the three agree).
RECORDS: dict[str, str] = {
    "assign": "HandlerAssigned",
    "propose_disposition": "DispositionProposed",
    "approve_disposition": "DispositionApproved",
    "return_disposition": "DispositionReturned",
    "send_inquiry_letter": "InquiryLetterSent",
    "record_inquiry_reply": "InquiryReplyReceived",
    "evaluate_inquiry_reply": "InquiryReplyEvaluated",
    "record_finding": "FindingRecorded",
    "review_parked": "ParkedCaseReviewed",
    "reactivate": "Reactivated",
    "propose_conclusion": "ConclusionProposed",
    "approve_conclusion": "ConclusionApproved",
    "return_conclusion": "ConclusionReturned",
    "decide_handling": "HandlingDecided",
    "record_admonition_follow_up": "AdmonitionFollowedUp",
    "propose_clearing": "ClearingProposed",
    "apply_for_clearing": "ClearingProposed",
    "approve_clearing": "ClearingApproved",
    "carry_out_clearing": "ClearingCarriedOut",
    "suspect_false_accusation": "FalseAccusationSuspected",
    "refer_subject": "SubjectReferred",
    "close": "Closed",
    "give_feedback": "FeedbackGiven",
    "record_objection": "ObjectionRecorded",
    "answer_objection": "ObjectionAnswered",
    "reopen": "Reopened",
    "hold_for_publicity": "PublicityHeld",
    "record_discipline_result": "DisciplineResultRecorded",
    "decide_publicity": "PublicityDecided",
    "issue_document": "DocumentIssued",
}


def permit(action: str, role: Role, state: CaseState) -> None:
    """Raise unless ``role`` may do ``action`` while the case is in ``state``."""
    permission = PERMISSIONS[action]
    if role not in permission.roles:
        raise RoleNotAllowed(action, role, permission.roles)
    if state not in permission.states:
        raise TransitionNotAllowed(action, state, permission.needs, permission.needs_zh)
