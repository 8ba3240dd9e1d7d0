"""The supervision project's official document (公文, decision 0035): the 立项督查通知 to the
unit whose selection is supervised, once the team is formed.

``issue_document`` records ``DocumentIssued`` (published as ``ProjectDocumentIssued``): the
kind, its number from the register (``services/casework/registers.py``, saved with the
project), the step it documents (``about``: ``opening``), the day (``on``), who, the template
version and the fields as sent, sealed in the project's chain. The selection's unit and posts
come from the application (the project knows its selection by id only). Not a step of the
procedure: it does not move the stage (``project_stages``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from schemas.glossary import Category, DocumentKind
from services.casework.domain.documents import document_id
from services.casework.project import rules
from services.casework.project.record import Actor, ProjectEvent, ProjectRecord
from services.common.documents import IssuedDocuments, keep_issued, zh_date

K = DocumentKind


class DocumentIssued(ProjectEvent):
    TOPIC = "jiandu.casework:SupervisionProject.DocumentIssued"
    document_id: UUID
    kind: str
    number: str
    about: str
    template_version: str
    fields: dict[str, str]

    def apply(self, project: ProjectRecord) -> None:
        keep_issued(project, self, self.on)


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


class DocumentSteps(IssuedDocuments, ProjectRecord):
    """The documents a supervision project issues."""

    def may_issue(self, actor: Actor, on: dt.date) -> None:
        self._permit("issue_document", actor, on)

    def document_step(self, kind: DocumentKind, about: str) -> dict[str, str]:
        """The project's own fields of the notice (the unit and posts: the application's)."""
        team = self.team
        rules.DOCUMENT_STEP_TAKEN.require(
            kind is K.PROJECT_NOTICE and about == "opening" and team is not None
        )
        assert team is not None
        return {
            "irregularities": "、".join(Category(i).zh for i in self.irregularities),
            "opened_on": zh_date(self.opened_on),
            "opening_number": self.opening_document,
            "team_leader": str(team["leader"].get("name", "")),
            "team_members": "、".join(str(m.get("name", "")) for m in team["members"]),
            "conclusion_due": zh_date(_day(self.deadlines["project_conclusion"]["due"])),
        }

    def documentable_steps(self) -> list[tuple[DocumentKind, str, str]]:
        if self.team is None or self.document_of(K.PROJECT_NOTICE, "opening") is not None:
            return []
        return [(K.PROJECT_NOTICE, "opening", "立项督查")]

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
        """Record the notice sent: its number, its day and the fields as sent."""
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
