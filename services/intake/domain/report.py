"""The Report aggregate: one report (举报件) as intake knows it.

A report is received, numbered in the ledger (``JB-2026-000123``) and, for now, accepted
into casework by the intake policy. Reporter identity is not here: only a pseudonymous
reference and flags (see ``vault.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from schemas.events import (
    AcceptanceNoticeSentV1,
    ReportAcceptedV1,
    ReportDocumentIssuedV1,
    ReporterIdentityVerifiedV1,
    ReportReceivedV1,
    ReportRegisteredV1,
    ReportSubjectIdentifiedV1,
    ReportTriagedV1,
    SealedContentHandedOverV1,
    SealedContentOpenedV1,
    candidate_key,
)
from schemas.glossary import ReportStatus, Role
from services.common.contracts import Contract, bind
from services.common.procedure import (
    RoleNotAllowed,
    Rule,
    RuleBroken,
    TransitionNotAllowed,
)
from services.intake.domain import report_events as events
from services.intake.domain.letters import LetterSteps
from services.intake.domain.triage import LEAD, OP, TRIAGE, TRIAGE_ACTIONS, IntakeRuleBroken


def _named(subject: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": subject["name"],
        "unit": subject.get("unit", ""),
        "position": subject.get("position", ""),
        "cadre_id": subject.get("cadre_id") or None,
    }


class Report(LetterSteps, Aggregate, created_event_name="Received"):
    """One report (举报件) as intake knows it: received, registered, triaged (分流)."""

    TOPIC = "jiandu.intake:Report"

    # The events (report_events.py), named here so that each one's TOPIC is registered.
    Created = events.ReportCreated
    Event = events.ReportEvent
    Received = events.Received
    Registered = events.Registered
    Accepted = events.Accepted
    Triaged = events.Triaged
    IdentityVerified = events.IdentityVerified
    AcceptanceNoticeSent = events.AcceptanceNoticeSent
    SubjectIdentified = events.SubjectIdentified
    SealedContentHandedOver = events.SealedContentHandedOver
    SealedContentOpened = events.SealedContentOpened
    DocumentIssued = events.DocumentIssued

    # -- commands ----------------------------------------------------------------------

    def _permit(self, action: str, actor: dict[str, str]) -> None:
        roles, states, needs, needs_zh = TRIAGE[action]
        role = Role(actor["role"])
        if role not in roles:
            raise RoleNotAllowed(action, role, roles)
        if self.status not in states:
            raise TransitionNotAllowed(
                action, self.status, needs, needs_zh, what="report", what_zh="举报件"
            )

    def register(
        self,
        ledger_number: str,
        actor: dict[str, str],
        acceptance_notice_due: dict[str, Any] | None = None,
        registered_on: dt.date | None = None,
    ) -> None:
        """Number the report in the ledger (登记). Real-name: the acceptance-notice clock starts."""
        if self.ledger_number is not None:
            raise IntakeRuleBroken(
                f"report is already registered as {self.ledger_number}",
                f"该件已登记，编号 {self.ledger_number}",
            )
        self.trigger_event(
            self.Registered,
            ledger_number=ledger_number,
            actor=actor,
            acceptance_notice_due=acceptance_notice_due if self.real_name else None,
            registered_on=registered_on,
        )

    def accept(
        self,
        case_id: UUID,
        actor: dict[str, str],
        reason: str,
        *,
        accepted_on: dt.date,
        joins_case: bool = False,
    ) -> None:
        """Accept into casework (受理): a new case, or joining an open one (并案)."""
        self._permit("accept", actor)
        assert self.ledger_number is not None  # registered, by the permission above
        self.trigger_event(
            self.Accepted,
            case_id=case_id,
            joins_case=joins_case,
            ledger_number=self.ledger_number,
            channel=self.channel,
            categories=self.categories,
            subjects=self.subjects,
            summary=self.summary,
            received_on=self.received_on,
            reporter=self.reporter,
            actor=actor,
            reason=reason,
            accepted_on=accepted_on,
        )

    def triage_to(
        self, outcome: ReportStatus, actor: dict[str, str], reason: str, **details: Any
    ) -> None:
        """Every triage outcome other than acceptance, and the steps that follow one."""
        action = TRIAGE_ACTIONS[outcome]
        self._permit(action, actor)
        if outcome in (ReportStatus.RETURN_PROPOSED, ReportStatus.REPEAT) and not reason.strip():
            raise IntakeRuleBroken(f"{action.replace('_', ' ')} needs a reason", "须说明理由")
        if outcome is ReportStatus.REPEAT and not details.get("of_report_id"):
            raise IntakeRuleBroken("a repeat names the report it repeats", "须指明所重复的举报件")
        if outcome is ReportStatus.REPEAT and details.get("of_report_id") == str(self.id):
            raise IntakeRuleBroken(
                "a report cannot be a repeat of itself: name the earlier report it repeats",
                "举报件不能标记为自身的重复件，须指明所重复的其他举报件",
            )
        self.trigger_event(
            self.Triaged, outcome=outcome.value, details=details, actor=actor, reason=reason
        )

    def settle(
        self,
        outcome: ReportStatus,
        actor: dict[str, str],
        reason: str,
        receiver_result: dict[str, Any],
        **details: Any,
    ) -> None:
        """The receiver's result of a report that left the office (transferred down, referred
        out): one outcome per cadre the report names, each naming one of them."""
        self._permit(TRIAGE_ACTIONS[outcome], actor)
        outcomes, named = [], set()
        for o in receiver_result["outcomes"]:
            index = self._subject_index(o["cadre"])
            if index in named:
                raise IntakeRuleBroken(
                    f"two outcomes name subject {index} ({self.subjects[index]['name']})",
                    f"同一被反映人（{self.subjects[index]['name']}）不能有两项办理结果",
                )
            named.add(index)
            outcomes.append({**o, "cadre": _named(self.subjects[index])})
        missing = [s["name"] for i, s in enumerate(self.subjects) if i not in named]
        if missing:
            raise IntakeRuleBroken(
                "the result gives an outcome for each cadre the report names; missing: "
                + ", ".join(missing),
                "办理结果须逐一载明每名被反映人的核查结论，缺少：" + "、".join(missing),
            )
        details = {**details, "receiver_result": {**receiver_result, "outcomes": outcomes}}
        self.trigger_event(
            self.Triaged, outcome=outcome.value, details=details, actor=actor, reason=reason
        )

    def _subject_index(self, cadre: dict[str, Any]) -> int:
        for i, subject in enumerate(self.subjects):
            same_id = bool(cadre.get("cadre_id")) and subject.get("cadre_id") == cadre["cadre_id"]
            same_name = subject["name"] == cadre.get("name") and (
                not cadre.get("unit") or subject.get("unit", "") == cadre.get("unit")
            )
            if same_id or same_name:
                return i
        who = cadre.get("name") or cadre.get("cadre_id")
        raise IntakeRuleBroken(
            f"{who} is not one of the cadres this report names",
            f"{who} 不是本件反映的干部",
        )

    def reject_return(self, actor: dict[str, str], reason: str) -> None:
        """The leader does not approve returning the report: it goes back to triage."""
        self._permit("reject_return", actor)
        self.trigger_event(
            self.Triaged,
            outcome=ReportStatus.REGISTERED.value,
            details={"return_rejected": True},
            actor=actor,
            reason=reason,
        )

    def verify_identity(self, method: str, verified_on: dt.date, actor: dict[str, str]) -> None:
        self._permit("verify_identity", actor)
        if not self.real_name:
            raise IntakeRuleBroken(
                "an anonymous reporter has no identity to verify", "匿名举报无需核实身份"
            )
        self.trigger_event(
            self.IdentityVerified, method=method, verified_on=verified_on, actor=actor
        )

    def send_acceptance_notice(self, sent_on: dt.date, actor: dict[str, str]) -> None:
        """告知受理情况: due 15 working days after receipt, for real-name reporters."""
        self._permit("send_acceptance_notice", actor)
        if self.acceptance_notice is None:
            raise IntakeRuleBroken(
                "acceptance notices go to real-name reporters only", "仅向实名举报人告知受理情况"
            )
        if self.acceptance_notice.get("met_on"):
            raise IntakeRuleBroken("the acceptance notice was already sent", "已告知受理情况")
        self.trigger_event(self.AcceptanceNoticeSent, sent_on=sent_on, actor=actor)

    def identify_subject(
        self,
        subject_index: int,
        actor: dict[str, str],
        reason: str = "",
        *,
        cadre_id: str | None = None,
        same_as_candidate: str | None = None,
    ) -> None:
        """Say who a subject named without a register id is: a registered cadre, or the same
        person as another candidate (合并). Not triage: allowed in any state after receipt."""
        self._permit("identify_subject", actor)
        if not 0 <= subject_index < len(self.subjects):
            raise IntakeRuleBroken(
                f"the report names {len(self.subjects)} subject(s) (0 to "
                f"{len(self.subjects) - 1}); there is no subject {subject_index}",
                f"该件没有第 {subject_index} 个被反映人",
            )
        if (cadre_id is None) == (same_as_candidate is None):
            raise IntakeRuleBroken(
                "name exactly one of a registered cadre or another candidate",
                "须指明干部名册中的干部或另一候选人（二选一）",
            )
        subject = self.subjects[subject_index]
        if subject.get("cadre_id"):
            raise IntakeRuleBroken(
                f"subject {subject_index} was reported with register id "
                f"{subject['cadre_id']}; there is nothing to identify",
                f"该被反映人已关联干部名册编号 {subject['cadre_id']}",
            )
        key = candidate_key(subject["name"], subject.get("unit", ""))
        if same_as_candidate is not None:
            same_as_candidate = candidate_key(*same_as_candidate.split("|", 1))
        if same_as_candidate is not None and same_as_candidate == key:
            raise IntakeRuleBroken(
                f"subject {subject_index} is candidate {key!r} itself; name another candidate",
                "不能与自身合并",
            )
        self.trigger_event(
            self.SubjectIdentified,
            subject_index=subject_index,
            name=subject["name"],
            unit=subject.get("unit", ""),
            candidate_key=key,
            cadre_id=cadre_id,
            same_as_candidate=same_as_candidate,
            actor=actor,
            reason=reason,
        )

    def hand_over_sealed_content(
        self,
        method: str,
        handed_over_on: dt.date,
        actor: dict[str, str],
        *,
        reference: str = "",
        recipient_key_sha256: str | None = None,
        reason: str = "",
    ) -> None:
        """Hand a sealed report's content to the level above it was forwarded to (an
        operator, after forwarding up, saying why): once — the content leaves the office in
        one handover, whatever its kind."""
        role = Role(actor["role"])
        if role is not OP:
            raise RoleNotAllowed("hand_over_sealed_content", role, frozenset({OP}))
        self._must_be_sealed()
        if not reason.strip():
            raise IntakeRuleBroken(
                "handing sealed content over needs a reason", "移交封存内容须说明理由"
            )
        if self.handovers:
            first = self.handovers[0]
            raise RuleBroken(
                Rule(
                    "sealed_content_handed_over_once",
                    f"the sealed content was already handed over on {first['on']} "
                    f"({first['method']}); it is handed over once only",
                    f"该件封存内容已于 {first['on']} 移交，只能移交一次",
                )
            )
        if self.status is not ReportStatus.FORWARDED_UP:
            raise TransitionNotAllowed(
                "hand_over_sealed_content",
                self.status,
                "a sealed report forwarded up",
                "已报送上级的封存件",
                what="report",
                what_zh="举报件",
            )
        self.trigger_event(
            self.SealedContentHandedOver,
            method=method,
            to_authority=str(self.triage.get("to_authority", "")),
            reference=reference,
            recipient_key_sha256=recipient_key_sha256,
            handed_over_on=handed_over_on,
            actor=actor,
            reason=reason,
        )

    def open_sealed_content(self, opened_on: dt.date, actor: dict[str, str], reason: str) -> None:
        """A leader opens the sealed content: once, with a reason."""
        role = Role(actor["role"])
        if role is not LEAD:
            raise RoleNotAllowed("open_sealed_content", role, frozenset({LEAD}))
        self._must_be_sealed()
        if not reason.strip():
            raise IntakeRuleBroken("opening sealed content needs a reason", "启封须说明理由")
        if self.content_opened is not None:
            raise IntakeRuleBroken(
                f"the sealed content was already opened on {self.content_opened['opened_on']} "
                f"by {self.content_opened['by']}; it is opened once only",
                f"该件封存内容已于 {self.content_opened['opened_on']} 启封，只能启封一次",
            )
        self.trigger_event(
            self.SealedContentOpened, opened_on=opened_on, actor=actor, reason=reason
        )

    def _must_be_sealed(self) -> None:
        if not self.sealed:
            raise IntakeRuleBroken(
                "this report is not sealed: its content is in the report itself",
                "该件未封存",
            )


# The Report's events and their public contract (schemas/events.py): one row per event.
REPORT_CONTRACTS: dict[type[Aggregate.Event], Contract] = {
    Report.Received: ("ReportReceived", 1, ReportReceivedV1),
    Report.Registered: ("ReportRegistered", 1, ReportRegisteredV1),
    Report.Accepted: ("ReportAccepted", 1, ReportAcceptedV1),
    Report.Triaged: ("ReportTriaged", 1, ReportTriagedV1),
    Report.IdentityVerified: ("ReporterIdentityVerified", 1, ReporterIdentityVerifiedV1),
    Report.AcceptanceNoticeSent: ("AcceptanceNoticeSent", 1, AcceptanceNoticeSentV1),
    Report.SubjectIdentified: ("ReportSubjectIdentified", 1, ReportSubjectIdentifiedV1),
    Report.SealedContentHandedOver: ("SealedContentHandedOver", 1, SealedContentHandedOverV1),
    Report.SealedContentOpened: ("SealedContentOpened", 1, SealedContentOpenedV1),
    Report.DocumentIssued: ("ReportDocumentIssued", 1, ReportDocumentIssuedV1),
}
# Stored but not published: the digest that recognises a resubmitted report (decision 0013).
REPORT_INTERNAL_FIELDS: dict[type[Aggregate.Event], frozenset[str]] = {
    Report.Received: frozenset({"submission_digest"}),
}
bind(REPORT_CONTRACTS)
