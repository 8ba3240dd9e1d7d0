"""Who may see and do what through the API and the pages (issue 5; one home, issue 13).

The roles' coarse limits are ``require_api_roles`` (API) and ``page_roles`` (pages)
dependencies on each route, each naming one of the role tables below; this module also holds
the finer limits that need the thing asked about:

- **Submitting a report**: the public (no account) only through the online mailbox; every
  other channel is staff work — operators register hotline calls, letters, visits,
  referrals and internal items, a liaison member refers items from their own member unit,
  a handler records what came up internally.
- **Cases**: leaders, operators and auditors see every case; a handler sees (and works on)
  the cases assigned to them or to a handler of their own section; liaison members see no
  case, only the liaison views.
- **Selections** (decision 0034): selection clerks (the cadre section) record a selection's
  steps and see no report, reporter or archive; the supervision office holds a candidate on
  a report; handlers, leaders, auditors and the clerks read selections (the list, a record,
  the selection desk's pages). A supervision project on a selection (立项督查) is the
  supervision office's: leaders and handlers act, auditors read it.

Refusals are :class:`RuleBroken` about the person (403, in English and Chinese), like the
procedure's own guards.
"""

from __future__ import annotations

from schemas.glossary import Channel, MemberUnit, Queue, ReferralSource, Role
from schemas.submissions import ReportSubmission
from services.accounts.model import Principal
from services.accounts.policy import normalize_username
from services.accounts.store import AccountStore, UnknownUser
from services.common.procedure import Rule, RuleBroken

R = Role

# -- Role tables: who may use which part, for every API and page (one home, issue 13) --------
#
# Each table is the coarse limit a route checks first (``require_api_roles`` for the API,
# ``page_roles`` for pages); the finer checks that need the thing asked about are below.
# Tables with the same roles stay separate names where they answer different questions and
# may change apart (their comments say so). The order is the order a refusal names the roles
# in. A route for one role only (e.g. the administrator's pages) names ``Role.X`` itself.

# Reports (report pages, GET /api/v1/reports/…): the staff who register, triage, handle and
# oversee them; liaison members and administrators see none. Same roles as CASE_READERS,
# CASE_LIST_ROLES and CADRE_READERS, about reports.
REPORT_READERS = (R.OPERATOR, R.HANDLER, R.LEADER, R.AUDITOR)
# One case and its timeline; a handler then only their own or their section's
# (OWN_OR_SECTION_CASE). Same roles as REPORT_READERS, about a case.
CASE_READERS = (R.OPERATOR, R.HANDLER, R.LEADER, R.AUDITOR)
# The list of cases (GET /api/v1/cases); a handler's list holds their own and their section's
# cases only. Same roles as CASE_READERS, about the whole list.
CASE_LIST_ROLES = (R.OPERATOR, R.HANDLER, R.LEADER, R.AUDITOR)
# Who may send procedure commands; the procedure's rules then check the role per action.
CASE_ACTORS = (R.OPERATOR, R.HANDLER, R.LEADER)
# Who triages reports; the triage rules then check the role per action.
TRIAGE_ACTORS = (R.OPERATOR, R.LEADER)
# Who has a need to know a reporter's identity (docs/decisions/0011): the operator verifies
# it and sends the acceptance notice; the handler gives a real-name reporter feedback. Each
# only for their own report or case (check_identity_reveal, decision 0013).
IDENTITY_ROLES = (R.OPERATOR, R.HANDLER)
# The intake ledger and a report's own timeline (one forwarded up opened no case): who
# registers and who oversees registration; a handler sees reports through their cases.
LEDGER_READERS = (R.OPERATOR, R.LEADER, R.AUDITOR)
# The working queues (GET /api/v1/queues/…): each queue for the roles that work it or
# oversee it; the queues page (QUEUE_PAGE_ROLES) is for those who work them.
QUEUE_ROLES: dict[Queue, tuple[Role, ...]] = {
    Queue.UNREGISTERED: (R.OPERATOR, R.LEADER, R.AUDITOR),
    Queue.UNTRIAGED: (R.OPERATOR, R.LEADER, R.AUDITOR),
    Queue.MINE: (R.HANDLER, R.LEADER),
    Queue.SECTION: (R.LEADER,),
    Queue.DUE_SOON: (R.OPERATOR, R.HANDLER, R.LEADER, R.AUDITOR),
    Queue.OVERDUE: (R.OPERATOR, R.HANDLER, R.LEADER, R.AUDITOR),
    Queue.AWAITING_APPROVAL: (R.LEADER, R.AUDITOR),
}
QUEUE_PAGE_ROLES = (R.OPERATOR, R.HANDLER, R.LEADER)
# Looking a cadre up in the register while registering or handling (the hotline form's
# look-up): who writes reports and cases, not who only reads them.
CADRE_LOOKUP_ROLES = (R.OPERATOR, R.HANDLER, R.LEADER)
# Searching the cadre register (GET /api/v1/cadres). Same roles as ARCHIVE_READERS, about
# the register rather than one cadre's archive.
CADRE_READERS = (R.OPERATOR, R.HANDLER, R.LEADER, R.AUDITOR)
# One cadre's archive (reports, cases, handling and its bars). Same roles as CADRE_READERS.
ARCHIVE_READERS = (R.OPERATOR, R.HANDLER, R.LEADER, R.AUDITOR)
# Integrity replies (廉政意见回复, per cadre and round, decision 0017), read and asked for.
# Same roles as ARCHIVE_READERS (leaders named first), about replies rather than archives.
INTEGRITY_READERS = (R.LEADER, R.HANDLER, R.OPERATOR, R.AUDITOR)
# Candidates: reported subjects not yet matched to a cadre of the register; operators sort
# them out (CANDIDATE_ACTORS), auditors oversee.
CANDIDATE_READERS = (R.OPERATOR, R.AUDITOR)
CANDIDATE_ACTORS = (R.OPERATOR,)
# The liaison statistics, referrals and quarterly report (联席会议): the member units'
# liaison members, and the staff and administrators who report to the joint meeting.
LIAISON_READERS = (R.LIAISON, R.LEADER, R.AUDITOR, R.ADMIN, R.OPERATOR)
# The audit of sensitive reads and of changes (steps, configuration tables, the chain).
AUDIT_READERS = (R.AUDITOR, R.ADMIN)
# The selection record (decision 0034). Who records a selection's steps: the
# cadre section's selection clerks, and leaders (the approving bodies' records); handlers and
# operators do not. The same roles as the Selection's ``rules.RECORDERS`` (per step there).
SELECTION_ACTORS = (R.SELECTION_CLERK, R.LEADER)
# Who holds a selection's candidate on a report and releases them: the supervision office,
# which links reports to selections (the cadre section reads no report). The same roles as
# the Selection's ``rules.HOLDERS``.
SELECTION_HOLD_ACTORS = (R.LEADER, R.HANDLER)
# Who declares a selection's appointment void and holds people responsible for it: the
# office's approval, leaders only. The same roles as the Selection's ``rules.ACCOUNTABLE``.
SELECTION_ACCOUNTABLE = (R.LEADER,)
# Who reads a selection's record: those who record or hold its steps, and the auditors.
SELECTION_READERS = (R.SELECTION_CLERK, R.HANDLER, R.LEADER, R.AUDITOR)
# The supervision project on a selection (立项督查, issue 14), the supervision office's work
# (the cadre section reads no report, so no project). A leader opens it, forms its team and
# approves or returns its conclusion; the handlers (with leaders) record the plan, the
# findings and the report back; only a handler proposes the conclusion (as for a case). The
# same roles as the project's ``rules.LEADERS``, ``rules.WORKERS``, ``rules.HANDLERS``.
PROJECT_LEADERS = (R.LEADER,)
PROJECT_WORKERS = (R.HANDLER, R.LEADER)
PROJECT_PROPOSERS = (R.HANDLER,)
# Who reads a project: those who work on it, and the auditors.
PROJECT_READERS = (R.HANDLER, R.LEADER, R.AUDITOR)

# Who issues a case's or a selection's official documents (公文, decision 0035): handlers (a
# case: their own or their section's, as for every case step) and leaders; the procedure's
# rules then say which step allows which document. Reading them is the case's (or the
# selection's) reading: CASE_READERS, SELECTION_READERS.
DOCUMENT_ISSUERS = (R.HANDLER, R.LEADER)

# The channels each staff role may register a report through (the mailbox is public).
SUBMISSION_CHANNELS: dict[Role, frozenset[Channel]] = {
    R.OPERATOR: frozenset(Channel) - {Channel.MAILBOX},
    R.LIAISON: frozenset({Channel.REFERRAL}),
    R.HANDLER: frozenset({Channel.INTERNAL}),
}
PUBLIC_CHANNEL = Channel.MAILBOX

OWN_OR_SECTION_CASE = Rule(
    "own_or_section_case",
    "a handler sees and works on the cases assigned to them or to a handler of their section",
    "承办人只能查看和办理分配给本人或本科室承办人的案件",
    about_who=True,
)
OWN_UNIT_REFERRAL = Rule(
    "own_unit_referral",
    "a liaison member refers items from their own member unit only",
    "联席会议成员单位联络员只能报送本单位转办移送的事项",
    about_who=True,
)


class ChannelNotAllowed(RuleBroken):
    """This role may not register a report through this channel."""

    def __init__(self, role: Role, channel: Channel) -> None:
        allowed = sorted(SUBMISSION_CHANNELS.get(role, frozenset()) | {PUBLIC_CHANNEL})
        names = ", ".join(c.value for c in allowed)
        names_zh = "、".join(c.zh for c in allowed)
        super().__init__(
            Rule(
                "channel_for_role",
                f"a {role.value} may not register a report from channel {channel.value!r}; "
                f"allowed: {names}",
                f"“{role.zh}”不能登记“{channel.zh}”渠道的举报，可登记：{names_zh}",
                about_who=True,
            )
        )


def member_unit(unit: str | None) -> MemberUnit | None:
    """The member unit an account's ``unit`` names (by value or Chinese name), if any."""
    if not unit:
        return None
    for candidate in MemberUnit:
        if unit.strip() in (candidate.value, candidate.zh):
            return candidate
    return None


def check_submission(principal: Principal | None, submission: ReportSubmission) -> None:
    """Raise unless the caller may register ``submission`` (None: the public, no account).

    The public's refusal is a 401 raised by the route (sign in first); here only the
    signed-in staff's limits."""
    channel = submission.channel
    if channel is PUBLIC_CHANNEL:
        return
    if principal is None:
        raise ValueError("the public submits through the mailbox only: check before calling")
    if channel not in SUBMISSION_CHANNELS.get(principal.role, frozenset()):
        raise ChannelNotAllowed(principal.role, channel)
    if principal.role is R.LIAISON:
        referral = submission.referral
        own = member_unit(principal.unit)
        OWN_UNIT_REFERRAL.require(
            own is not None
            and referral is not None
            and referral.source is ReferralSource.MEMBER_UNIT
            and referral.member_unit is own
        )


def check_case_access(principal: Principal, handler_id: str | None, accounts: AccountStore) -> None:
    """Raise unless ``principal`` may see and work on a case assigned to ``handler_id``.

    Only handlers are limited here: the route's roles already keep everyone else but
    leaders, operators and auditors out."""
    if principal.role is not R.HANDLER:
        return
    if handler_id is not None and normalize_username(handler_id) == principal.username:
        return
    OWN_OR_SECTION_CASE.require(
        handler_id is not None
        and principal.section is not None
        and _section_of(accounts, handler_id) == principal.section
    )


def _section_of(accounts: AccountStore, username: str) -> str | None:
    try:
        account = accounts.get_user(username)
    except UnknownUser:
        return None
    return account.section if account.role is R.HANDLER else None


# -- who may see a reporter's identity (issue 10, item 12) ------------------------------------

IDENTITY_IN_TRIAGE = Rule(
    "identity_in_triage",
    "an operator sees a real-name reporter's identity while the report is in triage, or "
    "while its acceptance notice is still to be sent",
    "受理员仅在举报件分流期间或尚未告知受理情况时可查看实名举报人身份信息",
    about_who=True,
)
IDENTITY_OWN_CASE = Rule(
    "identity_own_case",
    "a handler sees a real-name reporter's identity only for a case assigned to them or to "
    "a handler of their section",
    "承办人只能查看分配给本人或本科室承办人的案件的实名举报人身份信息",
    about_who=True,
)
IDENTITY_NO_NEED = Rule(
    "identity_need_to_know",
    "only the operator triaging the report and the handler of its case see a reporter's identity",
    "仅分流该件的受理员和承办该案件的承办人可查看举报人身份信息",
    about_who=True,
)


def check_identity_reveal(
    principal: Principal,
    *,
    in_triage: bool,
    notice_pending: bool,
    case_handler_id: str | None,
    has_case: bool,
    accounts: AccountStore,
) -> None:
    """Raise unless ``principal`` has a need to know this report's reporter: an operator
    while the report is in triage (or its acceptance notice is still due), a handler on the
    report's case if it is theirs or their section's; nobody else."""
    if principal.role is R.OPERATOR:
        IDENTITY_IN_TRIAGE.require(in_triage or notice_pending)
        return
    if principal.role is R.HANDLER:
        if has_case and case_handler_id is not None:
            try:
                check_case_access(principal, case_handler_id, accounts)
            except RuleBroken:
                IDENTITY_OWN_CASE.require(False)
            return
        IDENTITY_OWN_CASE.require(False)
    IDENTITY_NO_NEED.require(False)
