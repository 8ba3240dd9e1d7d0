"""Conclusion and handling: verdicts per cadre and allegation proposed, approved or returned
(核查结论), the organizational handling of a cadre found (partly) true and an admonition's
follow-up (组织处理, 限期改正)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from schemas.glossary import (
    AdmonitionOutcome,
    HandlingType,
    Verdict,
)
from services.calendar.deadlines import Due
from services.casework import rules
from services.casework.domain.record import (
    Actor,
    CaseEvent,
    CaseRecord,
    S,
    role_of,
)
from services.casework.domain.verdicts import (
    HEAVIER_HANDLINGS,
    PROVEN,
    by_cadre,
    cadre_verdicts_of,
    overall_verdict,
    subject_key,
)
from services.casework.rules import NotAlleged


class ConclusionProposed(CaseEvent):
    TOPIC = "jiandu.casework:Case.ConclusionProposed"
    verdicts: dict[str, str]
    overall: str
    returns_to: str
    # Per cadre and allegation ({cadre, category, verdict}); added after the first
    # release: events stored before it gave one verdict per category for every subject.
    cadre_verdicts: list[dict[str, Any]] | None = None

    def apply(self, case: CaseRecord) -> None:
        case.proposed_conclusion = {
            "verdicts": self.verdicts,
            "overall": self.overall,
            "returns_to": self.returns_to,
            "cadre_verdicts": cadre_verdicts_of(
                getattr(self, "cadre_verdicts", None), self.verdicts, case.subjects
            ),
        }


class ConclusionApproved(CaseEvent):
    TOPIC = "jiandu.casework:Case.ConclusionApproved"
    verdicts: dict[str, str]
    overall: str
    # Added after the first release; events stored before it lack the field.
    approved_on: dt.date | None = None
    # See ConclusionProposed: absent (None) from events stored before it was added.
    cadre_verdicts: list[dict[str, Any]] | None = None

    def apply(self, case: CaseRecord) -> None:
        per_cadre = cadre_verdicts_of(
            getattr(self, "cadre_verdicts", None), self.verdicts, case.subjects
        )
        case.conclusion = {
            "verdicts": self.verdicts,
            "overall": Verdict(self.overall),
            "cadre_verdicts": per_cadre,
            "by_cadre": by_cadre(per_cadre),
        }
        case.proposed_conclusion = None


class ConclusionReturned(CaseEvent):
    TOPIC = "jiandu.casework:Case.ConclusionReturned"
    # The state the case goes back to, so readers need not remember the proposal.
    # Added after the first release; events stored before it lack the field.
    returns_to: str | None = None

    def state_data(self, case: Any) -> object:
        # An event stored before ``returns_to`` existed: the proposal says where to.
        if getattr(self, "returns_to", None) is None and case.proposed_conclusion is not None:
            return SimpleNamespace(returns_to=case.proposed_conclusion["returns_to"])
        return self

    def apply(self, case: CaseRecord) -> None:
        assert case.proposed_conclusion is not None
        case.proposed_conclusion = None


class HandlingDecided(CaseEvent):
    TOPIC = "jiandu.casework:Case.HandlingDecided"
    handling_id: int
    cadre: dict[str, Any]
    handling: str
    decided_on: dt.date
    effects: dict[str, Any]
    follow_up_due: Due | None
    # The admonition whose failed follow-up this handling escalates (added later).
    escalation_of: int | None = None

    def apply(self, case: CaseRecord) -> None:
        case.handlings.append(
            {
                "id": self.handling_id,
                "handling": self.handling,
                "cadre": self.cadre,
                "decided_on": self.decided_on,
            }
        )
        escalation_of = getattr(self, "escalation_of", None)
        if escalation_of is not None and escalation_of in case.escalations:
            case.escalations[escalation_of]["decided"] = self.handling_id
        if self.follow_up_due is not None:
            case.deadlines[f"admonition_follow_up#{self.handling_id}"] = {
                **self.follow_up_due,
                "met_on": None,
            }


class AdmonitionFollowedUp(CaseEvent):
    TOPIC = "jiandu.casework:Case.AdmonitionFollowedUp"
    handling_id: int
    outcome: str
    followed_up_on: dt.date
    # The heavier handling an escalation names (added later; older events: in the reason).
    escalate_to: str | None = None

    def apply(self, case: CaseRecord) -> None:
        case.deadlines[f"admonition_follow_up#{self.handling_id}"]["met_on"] = self.followed_up_on
        escalate_to = getattr(self, "escalate_to", None)
        if escalate_to is not None:
            case.escalations[self.handling_id] = {"to": escalate_to, "decided": None}


class ConclusionSteps(CaseRecord):
    """The conclusion, and the handling of the cadres it finds (partly) true."""

    def propose_conclusion(
        self,
        verdicts: dict[str, Verdict] | None,
        actor: Actor,
        reason: str,
        *,
        cadre_verdicts: list[tuple[dict[str, Any], str, Verdict]] | None = None,
    ) -> None:
        """One verdict per cadre named in the case and per allegation (``cadre_verdicts``:
        (cadre, category, verdict)). ``verdicts`` by category alone is only for a case that
        names one cadre: it cannot say whom a verdict is about otherwise."""
        rules.permit("propose_conclusion", role_of(actor), self.state)
        self._as_handler(actor)
        if self.state is S.INQUIRY:
            rules.INQUIRY_REPLY_EVALUATED.require("outcome" in self.inquiry)
        else:
            rules.FINDINGS_RECORDED.require(self.findings > 0)
        if cadre_verdicts is None:
            rules.CONCLUSION_PER_CADRE.require(len(self.subjects) <= 1)
            by_category = verdicts or {}
            rules.CONCLUSION_COVERS_ALLEGATIONS.require(set(by_category) == set(self.categories))
            rows = [(s, cat, v) for s in self.subjects for cat, v in by_category.items()]
        else:
            rows = [(self._named_cadre(cadre), cat, v) for cadre, cat, v in cadre_verdicts]
            given = [(subject_key(s), cat) for s, cat, _ in rows]
            wanted = self.alleged_pairs()
            for (s, cat, _), pair in zip(rows, given, strict=True):
                if pair not in wanted:
                    raise NotAlleged(s, cat)
            rules.CONCLUSION_COVERS_EVERY_CADRE.require(
                len(given) == len(set(given)) and set(given) == wanted
            )
            by_category = {
                cat: overall_verdict(v for _, c, v in rows if c == cat)
                for cat in self.categories
                if any(c == cat for _, c, _ in rows)
            }
        self._trigger(
            ConclusionProposed,
            actor=actor,
            reason=reason,
            verdicts={k: v.value for k, v in by_category.items()},
            overall=overall_verdict(by_category.values()).value,
            returns_to=self.state.value,
            cadre_verdicts=[
                {"cadre": s, "category": cat, "verdict": v.value} for s, cat, v in rows
            ],
        )

    def approve_conclusion(
        self, actor: Actor, reason: str = "", approved_on: dt.date | None = None
    ) -> None:
        rules.permit("approve_conclusion", role_of(actor), self.state)
        assert self.proposed_conclusion is not None
        # A report joined since the proposal (recorded before joins returned it) may allege
        # more than it covers: such a proposal is not approved.
        rules.CONCLUSION_COVERS_EVERY_CADRE.require(
            not self.unconcluded(self.proposed_conclusion["cadre_verdicts"])
        )
        self._trigger(
            ConclusionApproved,
            actor=actor,
            reason=reason,
            verdicts=self.proposed_conclusion["verdicts"],
            overall=self.proposed_conclusion["overall"],
            approved_on=approved_on,
            cadre_verdicts=self.proposed_conclusion["cadre_verdicts"],
        )

    def return_conclusion(self, actor: Actor, reason: str) -> None:
        rules.permit("return_conclusion", role_of(actor), self.state)
        assert self.proposed_conclusion is not None
        self._trigger(
            ConclusionReturned,
            actor=actor,
            reason=reason,
            returns_to=self.proposed_conclusion["returns_to"],
        )

    @property
    def proven(self) -> bool:
        """Some cadre of the case was found (partly) true."""
        return self.conclusion is not None and self.conclusion["overall"] in PROVEN

    @property
    def found_untrue(self) -> bool:
        return self.conclusion is not None and self.conclusion["overall"] is Verdict.UNTRUE

    def decide_handling(
        self,
        cadre: dict[str, Any],
        handling: HandlingType,
        decided_on: dt.date,
        effects: dict[str, Any],
        follow_up_due: Due | None,
        actor: Actor,
        reason: str,
        *,
        escalation_of: int | None = None,
    ) -> None:
        """Organizational handling of a cadre, with its effects from the configuration table.

        Only for a cadre whose own verdict is (partly) true. After closure only the heavier
        handling an admonition's failed follow-up named (``escalation_of``)."""
        rules.permit("decide_handling", role_of(actor), self.state)
        subject = self._named_cadre(cadre)
        rules.PROVEN_FOR_HANDLING.require(self.verdict_of(subject) in PROVEN)
        if escalation_of is not None or self.state is not S.CONCLUDED:
            pending = self.escalations.get(escalation_of or 0)
            admonished: dict[str, Any] = next(
                (h for h in self.handlings if h["id"] == escalation_of), {"cadre": {}}
            )
            rules.ESCALATION_PENDING.require(
                pending is not None
                and pending["decided"] is None
                and pending["to"] == handling.value
                and subject_key(admonished["cadre"]) == subject_key(subject)
            )
        self._trigger(
            HandlingDecided,
            actor=actor,
            reason=reason,
            handling_id=len(self.handlings) + 1,
            cadre=subject,
            handling=handling.value,
            decided_on=decided_on,
            effects=effects,
            follow_up_due=follow_up_due if handling is HandlingType.ADMONITION else None,
            escalation_of=escalation_of,
        )

    def record_admonition_follow_up(
        self,
        handling_id: int,
        outcome: AdmonitionOutcome,
        followed_up_on: dt.date,
        actor: Actor,
        reason: str,
        *,
        escalate_to: HandlingType | None = None,
    ) -> None:
        """限期改正: improved, or escalated to the heavier handling it names (``escalate_to``),
        which is then decided (``decide_handling(escalation_of=...)``), closed case or not."""
        rules.permit("record_admonition_follow_up", role_of(actor), self.state)
        self._as_handler(actor)
        rules.ADMONITION_DECIDED.require(
            f"admonition_follow_up#{handling_id}" in self.deadlines
            and self.deadlines[f"admonition_follow_up#{handling_id}"]["met_on"] is None
        )
        escalated = outcome is AdmonitionOutcome.ESCALATED
        if escalated:
            rules.ESCALATION_NAMES_HANDLING.require(escalate_to in HEAVIER_HANDLINGS)
        self._trigger(
            AdmonitionFollowedUp,
            actor=actor,
            reason=reason,
            handling_id=handling_id,
            outcome=outcome.value,
            followed_up_on=followed_up_on,
            escalate_to=escalate_to.value if escalated and escalate_to else None,
        )
