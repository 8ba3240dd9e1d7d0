"""Who may do which report command in which state (``TRIAGE``), and intake's refusals."""

from __future__ import annotations

from schemas.glossary import ReportStatus, Role
from services.common.procedure import ProcedureError


class IntakeRuleBroken(ProcedureError):
    """A triage command that the report's state or a rule does not allow; nothing was stored."""

    def __init__(self, message: str, message_zh: str = "") -> None:
        super().__init__(message, message_zh or message)


class ReportNotFound(ProcedureError, LookupError):
    def __init__(self, report_id: object) -> None:
        super().__init__(f"no report {report_id}", f"举报件 {report_id} 不存在")


R = ReportStatus
OP, LEAD = Role.OPERATOR, Role.LEADER
TRIAGE: dict[str, tuple[frozenset[Role], frozenset[ReportStatus], str, str]] = {
    "mark_repeat": (
        frozenset({OP}),
        frozenset({R.REGISTERED}),
        "a registered, untriaged report",
        "已登记待分流",
    ),
    "forward_up": (
        frozenset({OP}),
        frozenset({R.REGISTERED}),
        "a registered, untriaged report",
        "已登记待分流",
    ),
    "transfer_down": (
        frozenset({OP}),
        frozenset({R.REGISTERED}),
        "a registered, untriaged report",
        "已登记待分流",
    ),
    "refer_out": (
        frozenset({OP}),
        frozenset({R.REGISTERED}),
        "a registered, untriaged report",
        "已登记待分流",
    ),
    "propose_return": (
        frozenset({OP}),
        frozenset({R.REGISTERED}),
        "a registered, untriaged report",
        "已登记待分流",
    ),
    "accept": (
        frozenset({OP, Role.SYSTEM}),
        frozenset({R.REGISTERED}),
        "a registered, untriaged report",
        "已登记待分流",
    ),
    "approve_return": (
        frozenset({LEAD}),
        frozenset({R.RETURN_PROPOSED}),
        "a proposed return",
        "已提出退回意见",
    ),
    "reject_return": (
        frozenset({LEAD}),
        frozenset({R.RETURN_PROPOSED}),
        "a proposed return",
        "已提出退回意见",
    ),
    "acknowledge_transfer": (
        frozenset({OP}),
        frozenset({R.TRANSFERRED_DOWN}),
        "a report transferred down",
        "已转下级办理",
    ),
    "record_referral_result": (
        frozenset({OP}),
        frozenset({R.REFERRED_OUT}),
        "a report referred out",
        "已转有关单位办理",
    ),
    "record_transfer_result": (
        frozenset({OP}),
        frozenset({R.TRANSFER_ACKNOWLEDGED}),
        "a report the level below has acknowledged",
        "下级已接收的转办件",
    ),
    "verify_identity": (
        frozenset({OP}),
        frozenset(ReportStatus) - {R.RECEIVED},
        "a registered report",
        "已登记",
    ),
    "send_acceptance_notice": (
        frozenset({OP}),
        frozenset(ReportStatus) - {R.RECEIVED},
        "a registered report",
        "已登记",
    ),
    # Not triage: who a named person is may be settled at any time after registration.
    "identify_subject": (
        frozenset({OP}),
        frozenset(ReportStatus) - {R.RECEIVED},
        "a registered report",
        "已登记",
    ),
}


TRIAGE_ACTIONS: dict[ReportStatus, str] = {
    ReportStatus.REPEAT: "mark_repeat",
    ReportStatus.FORWARDED_UP: "forward_up",
    ReportStatus.TRANSFERRED_DOWN: "transfer_down",
    ReportStatus.REFERRED_OUT: "refer_out",
    ReportStatus.RETURN_PROPOSED: "propose_return",
    ReportStatus.RETURNED: "approve_return",
    ReportStatus.TRANSFER_ACKNOWLEDGED: "acknowledge_transfer",
    ReportStatus.REFERRAL_CONCLUDED: "record_referral_result",
    ReportStatus.TRANSFER_CONCLUDED: "record_transfer_result",
}
