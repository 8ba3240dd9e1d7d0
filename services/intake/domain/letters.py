"""The letters a report sends its real-name reporter (decision 0037): the 受理告知书 once it
is accepted into a case, and a 反馈意见书 for each feedback given on its case.

``issue_letter`` records ``Report.DocumentIssued``: the kind, the number from intake's
register (``services/common/registers.py``, saved with the report), the step it documents
(``about``), the day, who, the template version and the fields as sent. The addressee is
*not* recorded: it lives in the vault, and every download fills it in through the audited
reveal (``services/intake/letters.py``). One letter per step: the application gives the same
one back when asked again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID, uuid5

from schemas.glossary import Category, Channel, DocumentKind, ReportStatus, Role
from schemas.views_cases import ReporterFeedback
from services.common.documents import ADDRESSED_FIELDS, REPORTER_KINDS, IssuedDocuments, zh_date
from services.common.procedure import RoleNotAllowed, Rule
from services.intake.domain.report_events import ReportRecord

K = DocumentKind
# Fixed for good: every letter's id is derived from it, its report, kind and step.
LETTER_NAMESPACE = UUID("3c5e9b1d-7f2a-4d86-b0e4-9a1c6d2f8e57")

# Who issues which letter: the operator who registered and triages the report sends the
# 受理告知书; the handler of its case gives the feedback, so sends the 反馈意见书 (their own
# or their section's case: checked by ``services/intake/letters.py`` against the case's
# handler). The same people who may see the reporter's identity to address it.
ISSUERS: dict[DocumentKind, frozenset[Role]] = {
    K.ACCEPTANCE_LETTER: frozenset({Role.OPERATOR}),
    K.FEEDBACK_LETTER: frozenset({Role.HANDLER}),
}

LETTER_TO_REAL_NAME = Rule(
    "letter_to_real_name",
    "letters go to real-name reporters only: an anonymous report has no addressee",
    "告知文书只发给实名举报人：匿名举报无收件人",
)
LETTER_STEP_TAKEN = Rule(
    "letter_step_taken",
    "the step this letter documents was not taken: the 受理告知书 follows the report's "
    "acceptance into a case, a 反馈意见书 a feedback given on its case (named by its day and "
    "order, feedback:<day>:<n>)",
    "该文书所对应的环节尚未办理：受理告知书须在举报件受理后制发，反馈意见书须在案件已反馈后制发",
)
ONE_LETTER_PER_STEP = Rule(
    "one_letter_per_step",
    "a letter of this kind was already issued about this step",
    "该环节已制发过此类文书",
)
LETTER_RULES = (LETTER_TO_REAL_NAME, LETTER_STEP_TAKEN, ONE_LETTER_PER_STEP)


def letter_id(report_id: UUID, kind: DocumentKind, about: str) -> UUID:
    """A letter's id: one per report, kind and step."""
    return uuid5(LETTER_NAMESPACE, f"{report_id}:{kind.value}:{about}")


def feedback_steps(feedback: list[ReporterFeedback]) -> list[tuple[str, ReporterFeedback]]:
    """Each feedback given, oldest first, named ``feedback:<day>:<n>`` (the n-th that day):
    a name a later feedback, even one stated for an earlier day, does not change."""
    named: list[tuple[str, ReporterFeedback]] = []
    seen: dict[dt.date, int] = {}
    for given in feedback:
        seen[given.given_on] = seen.get(given.given_on, 0) + 1
        named.append((f"feedback:{given.given_on.isoformat()}:{seen[given.given_on]}", given))
    return named


def _zh(enum: Any, value: str) -> str:
    return next((m.zh for m in enum if m.value == value), value)


class LetterSteps(IssuedDocuments, ReportRecord):
    """The letters a report sends its real-name reporter."""

    def _letter_head(self) -> dict[str, str]:
        return {
            "ledger_number": self.ledger_number or "",
            "received_on": zh_date(self.received_on),
            "channel": _zh(Channel, self.channel),
        }

    def letter_step(
        self, kind: DocumentKind, about: str, feedback: list[ReporterFeedback]
    ) -> tuple[dict[str, str], dt.date]:
        """The fields of the step ``about`` documents, and its day (a letter is not dated
        before it); ``feedback``: the feedback given on the report's case, oldest first.
        Refused by name when it cannot have one."""
        LETTER_STEP_TAKEN.require(kind in REPORTER_KINDS)
        LETTER_TO_REAL_NAME.require(self.real_name)
        if kind is K.ACCEPTANCE_LETTER and about == "acceptance":
            # 受理: the report accepted into casework (a new case, or joined to one); a report
            # in triage, a repeat, or one that left the office is not told it was accepted.
            LETTER_STEP_TAKEN.require(self.status is ReportStatus.ACCEPTED)
            accepted_on = self.accepted_on or self.received_on
            return {
                **self._letter_head(),
                "accepted_on": zh_date(accepted_on),
                "matters": "、".join(_zh(Category, c) for c in self.categories) or "有关",
            }, accepted_on
        if kind is K.FEEDBACK_LETTER:
            given = dict(feedback_steps(feedback)).get(about)
            LETTER_STEP_TAKEN.require(given is not None and self.case_id is not None)
            assert given is not None
            return {
                **self._letter_head(),
                "given_on": zh_date(given.given_on),
                "feedback": given.text,
            }, given.given_on
        LETTER_STEP_TAKEN.require(False)
        raise AssertionError  # unreachable

    def letter_steps(self, feedback: list[ReporterFeedback]) -> list[tuple[DocumentKind, str, str]]:
        """The steps a letter may be issued about and has not been: (kind, about, label)."""
        if not self.real_name or self.status is not ReportStatus.ACCEPTED:
            return []
        found: list[tuple[DocumentKind, str, str]] = [
            (K.ACCEPTANCE_LETTER, "acceptance", self.ledger_number or "")
        ]
        if self.case_id is not None:
            found += [
                (K.FEEDBACK_LETTER, about, zh_date(given.given_on))
                for about, given in feedback_steps(feedback)
            ]
        return [f for f in found if self.document_of(f[0], f[1]) is None]

    def issue_letter(
        self,
        kind: DocumentKind,
        about: str,
        *,
        number: str,
        issued_on: dt.date,
        template_version: str,
        fields: dict[str, str],
        actor: dict[str, str],
    ) -> None:
        """Record the letter sent: its number, its day and its fields, never its addressee."""
        role = Role(actor["role"])
        roles = ISSUERS.get(kind, frozenset())
        if role not in roles:
            raise RoleNotAllowed(f"issue_{kind.value}", role, roles)
        LETTER_TO_REAL_NAME.require(self.real_name)
        ONE_LETTER_PER_STEP.require(self.document_of(kind, about) is None)
        assert not ADDRESSED_FIELDS & fields.keys(), "a letter's addressee is never recorded"
        report_id: UUID = self.id  # type: ignore[attr-defined]
        self.trigger_event(  # type: ignore[attr-defined]
            self.DocumentIssued,  # type: ignore[attr-defined]
            document_id=letter_id(report_id, kind, about),
            kind=kind.value,
            number=number,
            about=about,
            issued_on=issued_on,
            template_version=template_version,
            fields=fields,
            actor=actor,
        )
