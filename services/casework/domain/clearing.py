"""Clearing and its neighbours: a cadre found untrue cleared (澄清正名), a false accusation
suspected (诬告陷害), a person found (partly) true referred to the competent organ."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from schemas.glossary import Verdict
from services.casework import rules
from services.casework.domain.record import (
    Actor,
    CaseEvent,
    CaseRecord,
    role_of,
)
from services.casework.domain.verdicts import (
    PROVEN,
    subject_key,
)
from services.casework.rules import NotTheCadresHandling


class ClearingProposed(CaseEvent):
    TOPIC = "jiandu.casework:Case.ClearingProposed"
    cadre: dict[str, Any]
    applied_for_by_cadre: bool
    proposed_on: dt.date | None = None  # absent from events stored before it was added

    def apply(self, case: CaseRecord) -> None:
        case.clearings[subject_key(self.cadre)] = {"stage": "proposed", "cadre": self.cadre}
        case.last_clearing = subject_key(self.cadre)


class ClearingApproved(CaseEvent):
    TOPIC = "jiandu.casework:Case.ClearingApproved"
    # Added after the first release; events stored before it lack the field.
    approved_on: dt.date | None = None
    # Whose clearing (added later; older events: the one clearing of the case).
    cadre: dict[str, Any] | None = None

    def apply(self, case: CaseRecord) -> None:
        case.clearing_of(getattr(self, "cadre", None))["stage"] = "approved"


class ClearingCarriedOut(CaseEvent):
    TOPIC = "jiandu.casework:Case.ClearingCarriedOut"
    method: str
    scope: str
    carried_out_on: dt.date
    corrections: list[str]
    # Whose clearing (added later; older events: the one clearing of the case).
    cadre: dict[str, Any] | None = None
    # The ids of that cadre's handlings in this case the clearing revokes (纠正): their
    # effects end on carried_out_on. Added later; older events: none (free-text only).
    revokes: list[int] | None = None

    def apply(self, case: CaseRecord) -> None:
        clearing = case.clearing_of(getattr(self, "cadre", None))
        clearing["stage"] = "carried_out"
        # What its 澄清正名函 says (decision 0035).
        clearing["carried_out_on"] = self.carried_out_on
        clearing["method"] = self.method
        clearing["scope"] = self.scope
        clearing["corrections"] = list(self.corrections)
        for handling in case.handlings:
            if handling["id"] in (getattr(self, "revokes", None) or []):
                handling["revoked_on"] = self.carried_out_on


class FalseAccusationSuspected(CaseEvent):
    TOPIC = "jiandu.casework:Case.FalseAccusationSuspected"
    false_accusation_case_id: UUID
    accuser_status: str
    routed_to: str
    # The falsely accused cadre (added later; older events: the case as a whole).
    cadre: dict[str, Any] | None = None
    suspected_on: dt.date | None = None  # absent from events stored before it was added

    def apply(self, case: CaseRecord) -> None:
        case.false_accusation_case_id = self.false_accusation_case_id
        cadre = getattr(self, "cadre", None)
        key = subject_key(cadre) if cadre else ""
        case.false_accusations[key] = self.false_accusation_case_id


class SubjectReferred(CaseEvent):
    """A subject found (partly) true is referred to the competent organ (e.g. a false
    accusation's accuser to 公安机关)."""

    TOPIC = "jiandu.casework:Case.SubjectReferred"
    cadre: dict[str, Any]
    organ: str
    referred_on: dt.date
    document_ref: str

    def apply(self, case: CaseRecord) -> None:
        case.referrals.append({"cadre": self.cadre, "organ": self.organ})


class ClearingSteps(CaseRecord):
    """After a conclusion, per cadre: clearing, false accusation, referral."""

    def propose_clearing(
        self,
        cadre: dict[str, Any],
        actor: Actor,
        reason: str,
        *,
        applied_for_by_cadre: bool = False,
        proposed_on: dt.date | None = None,
    ) -> None:
        """澄清正名, proposed by the handler or applied for by the cadre."""
        action = "apply_for_clearing" if applied_for_by_cadre else "propose_clearing"
        rules.permit(action, role_of(actor), self.state)
        if not applied_for_by_cadre:
            self._as_handler(actor)
        subject = self._named_cadre(cadre)
        rules.UNTRUE_FOR_CLEARING.require(self.verdict_of(subject) is Verdict.UNTRUE)
        rules.CLEARING_NOT_STARTED.require(subject_key(subject) not in self.clearings)
        self._trigger(
            ClearingProposed,
            actor=actor,
            reason=reason,
            cadre=subject,
            applied_for_by_cadre=applied_for_by_cadre,
            proposed_on=proposed_on,
        )

    def _clearing_at(self, cadre: dict[str, Any] | None, stage: str) -> dict[str, Any]:
        """The cadre named (or, none named, the only clearing at ``stage``) and its clearing."""
        if cadre is None:
            at_stage = [c for c in self.clearings.values() if c["stage"] == stage]
            rules.CLEARING_NAMES_CADRE.require(len(at_stage) <= 1)
            return at_stage[0]["cadre"] if at_stage else {}
        subject = self._named_cadre(cadre)
        found = self.clearings.get(subject_key(subject), {})
        return subject if found.get("stage") == stage else {}

    def approve_clearing(
        self,
        actor: Actor,
        reason: str = "",
        approved_on: dt.date | None = None,
        *,
        cadre: dict[str, Any] | None = None,
    ) -> None:
        rules.permit("approve_clearing", role_of(actor), self.state)
        subject = self._clearing_at(cadre, "proposed")
        rules.CLEARING_PROPOSED.require(bool(subject))
        self._trigger(
            ClearingApproved,
            actor=actor,
            reason=reason,
            approved_on=approved_on,
            cadre=subject,
        )

    def carry_out_clearing(
        self,
        method: str,
        scope: str,
        carried_out_on: dt.date,
        corrections: list[str],
        actor: Actor,
        reason: str = "",
        *,
        cadre: dict[str, Any] | None = None,
        revokes: list[int] | None = None,
    ) -> None:
        """澄清正名 carried out; ``revokes`` names the cleared cadre's handlings in this case
        that the correction revokes (each one of theirs, not revoked before)."""
        rules.permit("carry_out_clearing", role_of(actor), self.state)
        self._as_handler(actor)
        subject = self._clearing_at(cadre, "approved")
        rules.CLEARING_APPROVED.require(bool(subject))
        theirs = {
            h["id"]
            for h in self.handlings
            if subject_key(h["cadre"]) == subject_key(subject) and not h.get("revoked_on")
        }
        for handling_id in revokes or []:
            if handling_id not in theirs:
                raise NotTheCadresHandling(handling_id, subject)
        self._trigger(
            ClearingCarriedOut,
            actor=actor,
            reason=reason,
            method=method,
            scope=scope,
            carried_out_on=carried_out_on,
            corrections=corrections,
            cadre=subject,
            revokes=sorted(set(revokes or [])),
        )

    def suspect_false_accusation(
        self,
        false_accusation_case_id: UUID,
        accuser_status: str,
        routed_to: str,
        actor: Actor,
        reason: str,
        *,
        cadre: dict[str, Any] | None = None,
        suspected_on: dt.date | None = None,
    ) -> None:
        """诬告陷害 suspected against ``cadre`` (None: the case's only cadre), whose own
        verdict is untrue."""
        rules.permit("suspect_false_accusation", role_of(actor), self.state)
        if cadre is None:
            cadre = self.subjects[0] if len(self.subjects) == 1 else {"name": ""}
        subject = self._named_cadre(cadre)
        rules.UNTRUE_FOR_FALSE_ACCUSATION.require(self.verdict_of(subject) is Verdict.UNTRUE)
        rules.FALSE_ACCUSATION_ONCE.require(
            subject_key(subject) not in self.false_accusations and "" not in self.false_accusations
        )
        self._trigger(
            FalseAccusationSuspected,
            actor=actor,
            reason=reason,
            false_accusation_case_id=false_accusation_case_id,
            accuser_status=accuser_status,
            routed_to=routed_to,
            cadre=subject,
            suspected_on=suspected_on,
        )

    def refer_subject(
        self,
        cadre: dict[str, Any],
        organ: str,
        referred_on: dt.date,
        document_ref: str,
        actor: Actor,
        reason: str,
    ) -> None:
        """A person found (partly) true is referred to the organ competent for them: e.g. the
        accuser of a false-accusation case to 公安机关 when a crime is suspected."""
        rules.permit("refer_subject", role_of(actor), self.state)
        subject = self._named_cadre(cadre)
        rules.PROVEN_FOR_HANDLING.require(self.verdict_of(subject) in PROVEN)
        self._trigger(
            SubjectReferred,
            actor=actor,
            reason=reason,
            cadre=subject,
            organ=organ,
            referred_on=referred_on,
            document_ref=document_ref,
        )
