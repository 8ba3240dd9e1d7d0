"""The supervision project's rules: who may record which step, at which stage, and the named
guards (立项督查, issue 14; seed 000: 坚持和完善违规用人问题立项督查制度; seed 003: 对比较严重的
问题，上级党委组织部门可直接查核).

Every command of :class:`~services.casework.project.SupervisionProject` first asks
:func:`permit` (role, then stage: ``STEP_ORDER``), then that its date is not before the last
step's (``DATES_IN_ORDER``), then its own named rules. A refusal says, in English and
Chinese, what is needed, and stores nothing.

Who does what follows the case's conclusion: the supervision office's handlers (the team's
working members) record the plan, the findings and propose the conclusion; a leader opens
the project (立项 is a decision), forms the team (派出督查组) and approves or returns the
conclusion. The proposer is never the approver because only a handler proposes and only a
leader approves, as for a case's conclusion (services/casework/rules.py has no other rule).
"""

from __future__ import annotations

from schemas.glossary import Category, ProjectStage, Role, Verdict
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

Ps = ProjectStage

# The irregularities a project is opened on (seed 000: 跑官要官、买官卖官、封官许愿、拉票贿选、
# 突击提拔干部等问题).
IRREGULARITIES = frozenset(
    {
        Category.SEEKING_OFFICE,
        Category.BUYING_SELLING_OFFICE,
        Category.PROMISING_OFFICE,
        Category.VOTE_BUYING,
        Category.RUSHED_PROMOTION,
    }
)
# The verdicts on which the conclusion may recommend voiding appointments or holding people
# responsible: what was found (partly) true.
PROVEN = frozenset({Verdict.TRUE, Verdict.PARTLY_TRUE})

STEP_ORDER = Rule(
    "project_step_order",
    "a step of a supervision project is recorded only after the steps before it",
    "立项督查须按程序逐步进行，前一环节完成后方可进行下一环节",
)


class StepOutOfOrder(TransitionNotAllowed):
    """The project's stage does not allow the step now (``STEP_ORDER``)."""

    def __init__(self, action: str, stage: ProjectStage, needs: str, needs_zh: str) -> None:
        super().__init__(
            action, stage, needs, needs_zh, what="supervision project", what_zh="立项督查"
        )
        self.rule = STEP_ORDER


DATES_IN_ORDER = Rule(
    "project_dates_in_order",
    "a step of a supervision project cannot be dated before its last step",
    "立项督查各环节的日期不得早于前一环节的日期",
)
CLUES_SPECIFIC = Rule(
    "clues_specific",
    "a supervision project is opened on specific clues: state them",
    "线索具体的，要进行立项督查：须写明具体线索",
)
BASIS_NAMED = Rule(
    "basis_named",
    "a supervision project names the reports (cases) it is opened on, each once",
    "立项督查须列明所依据的举报件，且每件只列一次",
)
IRREGULARITIES_IN_SCOPE = Rule(
    "irregularities_in_scope",
    "a supervision project is about seeking office, buying or selling office, promising "
    "office, vote buying or sudden promotion (at least one, each once)",
    "立项督查的问题须为跑官要官、买官卖官、封官许愿、拉票贿选、突击提拔干部等问题（至少一项，"
    "每项只列一次）",
)
TEAM_NAMED = Rule(
    "team_named",
    "a supervision team has a leader and at least one member, each person once",
    "督查组须明确组长和成员，每人只列一次",
)
FINDING_IN_SCOPE = Rule(
    "finding_in_scope",
    "a finding is about one of the irregularities the project was opened on",
    "督查核查情况须针对立项督查的问题",
)
VOID_APPOINTED_ONLY = Rule(
    "void_appointed_only",
    "only a candidate appointed in the selection can be recommended void, each once",
    "只能建议撤销该次选拔任用中已任职人选的任用决定，每人只列一次",
)
RECOMMENDATION_NEEDS_PROVEN = Rule(
    "recommendation_needs_proven",
    "voiding an appointment or holding someone responsible needs a verdict of true or partly true",
    "建议撤销任用决定或追究责任，须以“属实”或“部分属实”的督查结论为依据",
)
PROVEN_BY_FINDINGS = Rule(
    "proven_by_findings",
    "a verdict of true or partly true needs at least one finding that confirmed the irregularity",
    "“属实”或“部分属实”的督查结论，须有经核查确认问题的核查情况为依据",
)
RESPONSIBLE_DISTINCT = Rule(
    "responsible_distinct",
    "each person held responsible is named once",
    "追究责任的人员每人只列一次",
)
DOCUMENT_STEP_TAKEN = Rule(
    "document_step_taken",
    "the project's notice (about: opening) is issued once its team is formed",
    "立项督查通知须在组成督查组后制发（opening）",
)
ONE_DOCUMENT_PER_STEP = Rule(
    "one_document_per_step",
    "this notice was already issued",
    "该立项督查通知已制发",
)

# -- who may record which step, at which stage ---------------------------------------------

HANDLER, LEADER = Role.HANDLER, Role.LEADER
LEADERS = frozenset({LEADER})
HANDLERS = frozenset({HANDLER})
WORKERS = frozenset({HANDLER, LEADER})


def _p(roles: frozenset[Role], stages: set[Ps] | frozenset[Ps], needs: str, zh: str) -> Permission:
    return permission(roles, stages, needs, zh)


PERMISSIONS: dict[str, Permission] = {
    "form_team": _p(LEADERS, {Ps.OPENED}, "a project opened", "已立项"),
    "record_plan": _p(WORKERS, {Ps.TEAM_FORMED}, "a team formed", "已组成督查组"),
    "record_finding": _p(
        WORKERS, {Ps.PLANNED, Ps.INVESTIGATING}, "a plan recorded", "已制定督查方案"
    ),
    "propose_conclusion": _p(
        HANDLERS, {Ps.INVESTIGATING}, "findings recorded", "已记录督查核查情况"
    ),
    "approve_conclusion": _p(
        LEADERS, {Ps.CONCLUSION_PROPOSED}, "a proposed conclusion", "已提出督查结论"
    ),
    "return_conclusion": _p(
        LEADERS, {Ps.CONCLUSION_PROPOSED}, "a proposed conclusion", "已提出督查结论"
    ),
    "report_back": _p(WORKERS, {Ps.CONCLUDED}, "an approved conclusion", "督查结论已批准"),
    "close": _p(LEADERS, {Ps.REPORTED}, "the report sent back", "已报送督查报告"),
    # The 立项督查通知 (decision 0035), once the team is formed, before the conclusion.
    "issue_document": _p(
        WORKERS,
        {Ps.TEAM_FORMED, Ps.PLANNED, Ps.INVESTIGATING},
        "a team formed",
        "已组成督查组",
    ),
}

# The event each command records (its name in SupervisionProject).
RECORDS: dict[str, str] = {
    "form_team": "TeamFormed",
    "record_plan": "PlanRecorded",
    "record_finding": "FindingRecorded",
    "propose_conclusion": "ConclusionProposed",
    "approve_conclusion": "ConclusionApproved",
    "return_conclusion": "ConclusionReturned",
    "report_back": "ReportedBack",
    "close": "Closed",
    "issue_document": "DocumentIssued",
}


def permit(action: str, role: Role, stage: ProjectStage) -> None:
    """Raise unless ``role`` may do ``action`` while the project is at ``stage``."""
    permit_step(PERMISSIONS, action, role, stage, StepOutOfOrder)


def permit_opening(role: Role) -> None:
    """Raise unless ``role`` may open a project: a leader (立项 is a decision)."""
    if role not in LEADERS:
        raise RoleNotAllowed("open", role, LEADERS)
