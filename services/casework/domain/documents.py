"""Official documents the case sends to its cadres (公文, decision 0035): the 谈话函询通知书
(about the inquiry letter sent), the 诫勉通知书 (about an admonition decided, with its 限期改正
day) and the 澄清正名函 (about a clearing carried out).

``issue_document`` records ``DocumentIssued``: the kind, its number from the register
(``services/casework/registers.py``), the step it documents (``about``), the day, who, the
template version and the fields as sent, sealed in the case's chain like every event. One
document of a kind per step: the application gives the same one back when asked again. The
fields name the cadre and the step's days; never a reporter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID, uuid5

from schemas.glossary import ClearingMethod, DocumentKind, HandlingType
from services.casework import rules
from services.casework.domain.record import Actor, CaseEvent, CaseRecord, role_of
from services.common.documents import IssuedDocuments, keep_issued, zh_date

K = DocumentKind
# Fixed for good: every document's id is derived from it, its owner, kind and step.
DOCUMENT_NAMESPACE = UUID("6a3d2f1e-8b4c-4e7a-a5d9-2c1b0f9e8d73")
# The kinds a case issues (the selection's are its own).
CASE_KINDS = frozenset({K.INQUIRY_NOTICE, K.ADMONITION_NOTICE, K.CLEARING_LETTER})


def document_id(owner_id: UUID, kind: DocumentKind, about: str) -> UUID:
    """A document's id: one per owner (case or selection), kind and step."""
    return uuid5(DOCUMENT_NAMESPACE, f"{owner_id}:{kind.value}:{about}")


class DocumentIssued(CaseEvent):
    TOPIC = "jiandu.casework:Case.DocumentIssued"
    document_id: UUID
    kind: str
    number: str
    about: str
    issued_on: dt.date
    template_version: str
    fields: dict[str, str]

    def apply(self, case: CaseRecord) -> None:
        keep_issued(case, self, self.issued_on)


def _cadre_fields(cadres: list[dict[str, Any]]) -> dict[str, str]:
    def joined(key: str) -> str:
        return "、".join(dict.fromkeys(str(c.get(key) or "") for c in cadres if c.get(key)))

    return {
        "addressee": joined("name"),
        "addressee_unit": joined("unit"),
        "addressee_position": joined("position"),
    }


class DocumentSteps(IssuedDocuments, CaseRecord):
    """The documents a case issues about its steps."""

    def may_issue(self, actor: Actor) -> None:
        """Raise unless ``actor`` may issue documents on this case (role, state; a handler:
        their own case)."""
        rules.permit("issue_document", role_of(actor), self.state)
        self._as_handler(actor)

    def document_step(self, kind: DocumentKind, about: str) -> dict[str, str]:
        """The fields of the step ``about`` documents (refused by the rule when the step
        was not taken, or is not one of this kind's)."""
        step, _, key = about.partition(":")
        if kind is K.INQUIRY_NOTICE and about == "inquiry":
            sent_on = self.inquiry.get("sent_on")
            due = self.deadlines.get("inquiry_reply")
            rules.DOCUMENT_STEP_TAKEN.require(sent_on is not None and due is not None)
            assert sent_on is not None
            assert due is not None
            return {
                **_cadre_fields(self.subjects),
                "form": "谈话" if self.inquiry.get("form") == "talk" else "函询",
                "sent_on": zh_date(sent_on),
                "reply_due": zh_date(_day(due["due"])),
            }
        if kind is K.ADMONITION_NOTICE and step == "handling" and key.isdigit():
            handling = next((h for h in self.handlings if h["id"] == int(key)), None)
            due = self.deadlines.get(f"admonition_follow_up#{key}")
            rules.DOCUMENT_STEP_TAKEN.require(
                handling is not None
                and handling["handling"] == HandlingType.ADMONITION.value
                and due is not None
            )
            assert handling is not None
            assert due is not None
            return {
                **_cadre_fields([handling["cadre"]]),
                "decided_on": zh_date(handling["decided_on"]),
                "follow_up_due": zh_date(_day(due["due"])),
            }
        if kind is K.CLEARING_LETTER and step == "clearing":
            clearing = self.clearings.get(key, {})
            rules.DOCUMENT_STEP_TAKEN.require(
                clearing.get("stage") == "carried_out" and "carried_out_on" in clearing
            )
            method = clearing["method"]
            return {
                **_cadre_fields([clearing["cadre"]]),
                "carried_out_on": zh_date(clearing["carried_out_on"]),
                "method": next((m.zh for m in ClearingMethod if m.value == method), method),
                "scope": clearing["scope"],
                "corrections": "、".join(clearing.get("corrections") or []),
            }
        rules.DOCUMENT_STEP_TAKEN.require(False)
        raise AssertionError  # unreachable

    def documentable_steps(self) -> list[tuple[DocumentKind, str, str]]:
        """The steps taken that a document may be issued about and has not been: (kind,
        about, a label for the page)."""
        found: list[tuple[DocumentKind, str, str]] = []
        if self.inquiry.get("sent_on") is not None and "inquiry_reply" in self.deadlines:
            found.append((K.INQUIRY_NOTICE, "inquiry", "谈话函询"))
        for h in self.handlings:
            if f"admonition_follow_up#{h['id']}" in self.deadlines:
                found.append((K.ADMONITION_NOTICE, f"handling:{h['id']}", h["cadre"]["name"]))
        for key, clearing in self.clearings.items():
            if clearing.get("stage") == "carried_out" and "carried_out_on" in clearing:
                found.append((K.CLEARING_LETTER, f"clearing:{key}", clearing["cadre"]["name"]))
        return [f for f in found if self.document_of(f[0], f[1]) is None]

    def issue_document(
        self,
        kind: DocumentKind,
        about: str,
        *,
        number: str,
        issued_on: dt.date,
        template_version: str,
        fields: dict[str, str],
        actor: Actor,
        reason: str = "",
    ) -> None:
        """Record the document sent: its number, its day and the fields as sent."""
        self.may_issue(actor)
        rules.DOCUMENT_STEP_TAKEN.require(kind in CASE_KINDS)
        rules.ONE_DOCUMENT_PER_STEP.require(self.document_of(kind, about) is None)
        owner: UUID = self.id  # type: ignore[attr-defined]
        self._trigger(
            DocumentIssued,
            actor=actor,
            reason=reason,
            document_id=document_id(owner, kind, about),
            kind=kind.value,
            number=number,
            about=about,
            issued_on=issued_on,
            template_version=template_version,
            fields=fields,
        )


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


__all__ = ["CASE_KINDS", "DocumentIssued", "DocumentSteps", "document_id"]
