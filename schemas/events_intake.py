"""The intake source's event payloads (``jiandu.intake.events``), and the candidate key
that names an unregistered cadre across reports."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any, Literal
from uuid import UUID

from schemas.event_base import (
    Actor,
    DueDate,
    Payload,
    ReporterRef,
)
from schemas.glossary import (
    Category,
    Channel,
    DocumentKind,
)
from schemas.submissions import Referral, ReportedCadre


class ReportReceivedV1(Payload):
    channel: Channel
    categories: list[Category]
    subjects: list[ReportedCadre]
    summary: str
    sealed: bool = False
    reporter: ReporterRef
    referral: Referral | None
    received_on: dt.date
    actor: Actor


class ReportRegisteredV1(Payload):
    ledger_number: str
    acceptance_notice_due: DueDate | None = None
    actor: Actor
    registered_on: dt.date | None = None  # absent from events stored before it was added


class ReportTriagedV1(Payload):
    """A triage outcome other than acceptance: repeat, forwarded up, transferred down, referred
    out, return proposed/approved/rejected, transfer acknowledged, referral result."""

    outcome: str
    details: dict[str, Any]
    actor: Actor
    reason: str


class SealedContentHandedOverV1(Payload):
    """A sealed report's content handed to the level above (never the content itself)."""

    method: Literal["encrypted_export", "paper"]
    to_authority: str
    reference: str = ""
    recipient_key_sha256: str | None = None
    handed_over_on: dt.date
    actor: Actor
    reason: str = ""


class SealedContentOpenedV1(Payload):
    """A leader opened a sealed report's content (once), and why."""

    opened_on: dt.date
    actor: Actor
    reason: str


class ReporterIdentityVerifiedV1(Payload):
    method: str
    verified_on: dt.date
    actor: Actor


class AcceptanceNoticeSentV1(Payload):
    sent_on: dt.date
    actor: Actor


class ReportDocumentIssuedV1(Payload):
    """A letter to the report's real-name reporter (decision 0037): the 受理告知书 or a
    反馈意见书, its number (文号), the step it documents (``about``: ``acceptance``,
    ``feedback:<day>:<n>``), the day, the template version and its fields as sent. The
    addressee is not among them: it is filled in from the vault at each (audited) download."""

    document_id: UUID
    kind: DocumentKind
    number: str
    about: str
    issued_on: dt.date
    template_version: str
    fields: dict[str, str]
    actor: Actor


class ReportAcceptedV1(Payload):
    """Accepted into casework: carries the matter as accepted, so casework needs no lookup."""

    case_id: UUID
    ledger_number: str
    channel: Channel
    categories: list[Category]
    subjects: list[ReportedCadre]
    summary: str
    received_on: dt.date
    reporter: ReporterRef
    joins_case: bool = False
    actor: Actor
    reason: str
    # The day of acceptance; absent from events stored before it was recorded.
    accepted_on: dt.date | None = None


def candidate_key(name: str, unit: str = "") -> str:
    """An unregistered cadre's identity across reports: name and unit, normalised.

    NFKC (full-width letters and brackets become ASCII), no whitespace, case-folded, so
    "王 建国（财政局）" and "王建国(财政局)" are one candidate. Operators confirm or merge
    candidates (``ReportSubjectIdentified``); beyond that, only an exact match of the key
    with one registered cadre's name and unit counts as that cadre.
    """

    def norm(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text).split()).casefold()

    return f"{norm(name)}|{norm(unit)}"


class ReportSubjectIdentifiedV1(Payload):
    """An operator says who subject ``subject_index`` (0-based) of a report is: a registered
    cadre, or the same person as another candidate (a merge). It identifies the candidate
    (the subject's normalised name and unit) wherever it is named; the latest
    identification of a candidate counts."""

    subject_index: int
    name: str
    unit: str
    candidate_key: str
    cadre_id: str | None = None
    same_as_candidate: str | None = None
    actor: Actor
    reason: str = ""
