"""The selection's official document (公文, decision 0035): the 考察反馈意见, the inspection's
feedback to the inspected cadre and to their unit's leadership team, after the inspection is
recorded.

``issue_document`` records ``DocumentIssued`` (published as ``SelectionDocumentIssued``):
the kind, its number from the register (``services/casework/registers.py``, saved with the
selection), the step it documents (``about``: ``inspection:<candidate_id>:cadre`` or
``inspection:<candidate_id>:team``), the day (``on``), who, the template version and the
fields as sent, sealed in the selection's chain. One per candidate and audience: the
application gives the same one back when asked again.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from schemas.glossary import DocumentKind
from services.casework.domain.documents import document_id
from services.casework.selection import rules
from services.casework.selection.record import Actor, SelectionEvent, SelectionRecord
from services.common.documents import IssuedDocuments, keep_issued, zh_date

K = DocumentKind
# To whom the feedback goes: how the document addresses them.
AUDIENCES = {"cadre": "你", "team": "你单位领导班子"}


class DocumentIssued(SelectionEvent):
    TOPIC = "jiandu.casework:Selection.DocumentIssued"
    document_id: UUID
    kind: str
    number: str
    about: str
    template_version: str
    fields: dict[str, str]

    def apply(self, selection: SelectionRecord) -> None:
        keep_issued(selection, self, self.on)


class DocumentSteps(IssuedDocuments, SelectionRecord):
    """The documents a selection issues about its steps."""

    def may_issue(self, actor: Actor, on: dt.date) -> None:
        """Raise unless ``actor`` may issue the selection's documents now, dated ``on``."""
        self._permit("issue_document", actor, on)

    def document_step(self, kind: DocumentKind, about: str) -> dict[str, str]:
        """The fields of the step ``about`` documents (refused by ``DOCUMENT_STEP_TAKEN``)."""
        step, _, rest = about.partition(":")
        candidate_id, _, audience = rest.rpartition(":")
        finding = self.findings.get(candidate_id)
        rules.DOCUMENT_STEP_TAKEN.require(
            kind is K.INSPECTION_FEEDBACK
            and step == "inspection"
            and audience in AUDIENCES
            and finding is not None
        )
        assert finding is not None
        candidate = self.candidates.get(candidate_id, {})
        name = str(candidate.get("name", candidate_id))
        unit = str(candidate.get("unit") or self.unit)
        inspected_on = getattr(self, "inspected_on", None) or self.last_on
        return {
            "addressee": f"{name}同志" if audience == "cadre" else f"{unit}领导班子",
            "audience": AUDIENCES[audience],
            "candidate": name,
            "unit": self.unit,
            "posts": "、".join(dict.fromkeys(self.posts)),
            "inspected_on": zh_date(inspected_on),
            "findings": str(finding.get("summary", "")),
            "inspectors": "、".join(p.get("name", "") for p in self.people.get("inspection", [])),
        }

    def documentable_steps(self) -> list[tuple[DocumentKind, str, str]]:
        """The inspection feedbacks not yet issued: (kind, about, a label for the page)."""
        found = []
        for candidate_id in self.findings:
            name = str(self.candidates.get(candidate_id, {}).get("name", candidate_id))
            for audience, label in (("cadre", "本人"), ("team", "所在单位领导班子")):
                about = f"inspection:{candidate_id}:{audience}"
                if self.document_of(K.INSPECTION_FEEDBACK, about) is None:
                    found.append((K.INSPECTION_FEEDBACK, about, f"{name}（{label}）"))
        return found

    def issue_document(
        self,
        kind: DocumentKind,
        about: str,
        *,
        number: str,
        on: dt.date,
        template_version: str,
        fields: dict[str, str],
        actor: Actor,
        reason: str = "",
    ) -> None:
        """Record the document sent: its number, its day and the fields as sent."""
        self.may_issue(actor, on)
        rules.ONE_DOCUMENT_PER_STEP.require(self.document_of(kind, about) is None)
        owner: UUID = self.id  # type: ignore[attr-defined]
        self._record(
            DocumentIssued,
            actor=actor,
            reason=reason,
            on=on,
            document_id=document_id(owner, kind, about),
            kind=kind.value,
            number=number,
            about=about,
            template_version=template_version,
            fields=fields,
        )
