"""What a report knows (``ReportRecord``: set from ``Received``, changed by each event's
``apply``) and the Report's events. ``report.py`` puts them together as ``Report``: each
event class is named there as ``Report.<Name>``, which registers its explicit ``TOPIC``
(``jiandu.intake:Report.<Name>``, the topic stored events carry; decision 0032)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from schemas.glossary import ReportStatus
from services.common.china_time import china_date
from services.common.documents import keep_issued


class ReportRecord:
    """The Report's state (a base of ``Report``)."""

    def __init__(
        self,
        *,
        id: UUID,
        channel: str,
        categories: list[str],
        subjects: list[dict[str, Any]],
        summary: str,
        sealed: bool,
        reporter: dict[str, Any],
        referral: dict[str, Any] | None,
        received_on: dt.date,
        actor: dict[str, str],
        submission_digest: str,
    ) -> None:
        self.channel = channel
        self.categories = categories
        self.subjects = subjects
        self.summary = summary
        self.sealed = sealed
        self.reporter = reporter
        self.referral = referral
        self.received_on = received_on
        self.submission_digest = submission_digest
        self.received_by = actor
        self.status = ReportStatus.RECEIVED
        self.ledger_number: str | None = None
        self.case_id: UUID | None = None
        self.triage: dict[str, Any] = {}
        self.acceptance_notice: dict[str, Any] | None = None
        self.identity_verified = False
        self.identifications: dict[int, dict[str, str | None]] = {}
        self.handovers: list[dict[str, Any]] = []
        self.content_opened: dict[str, Any] | None = None
        # The day it was accepted (立件 or 并案): the 受理告知书's 受理日期 (decision 0037).
        self.accepted_on: dt.date | None = None
        # ``documents``, the letters sent to its real-name reporter (decision 0037), is made
        # as the first one is kept (``documents.issued_documents``), like a case's.

    @property
    def real_name(self) -> bool:
        return not self.reporter.get("anonymous", True)


class ReportCreated(Aggregate.Created):
    TOPIC = "jiandu.intake:Report.Created"


class ReportEvent(Aggregate.Event):
    TOPIC = "jiandu.intake:Report.Event"


class Received(ReportCreated):
    TOPIC = "jiandu.intake:Report.Received"
    channel: str
    categories: list[str]
    subjects: list[dict[str, Any]]
    summary: str
    sealed: bool
    reporter: dict[str, Any]
    referral: dict[str, Any] | None
    received_on: dt.date
    actor: dict[str, str]
    submission_digest: str


class Registered(ReportEvent):
    TOPIC = "jiandu.intake:Report.Registered"
    ledger_number: str
    acceptance_notice_due: dict[str, Any] | None
    actor: dict[str, str]
    # The day of registration (登记); absent from events stored before it was added.
    registered_on: dt.date | None = None

    def apply(self, report: ReportRecord) -> None:
        report.ledger_number = self.ledger_number
        report.status = ReportStatus.REGISTERED
        if self.acceptance_notice_due is not None:
            report.acceptance_notice = {**self.acceptance_notice_due, "met_on": None}


class Accepted(ReportEvent):
    TOPIC = "jiandu.intake:Report.Accepted"
    case_id: UUID
    joins_case: bool
    ledger_number: str
    channel: str
    categories: list[str]
    subjects: list[dict[str, Any]]
    summary: str
    received_on: dt.date
    reporter: dict[str, Any]
    actor: dict[str, str]
    reason: str
    # The day of acceptance (立件); added after the first release, so events stored
    # before it lack the field (readers fall back on the China date of the timestamp).
    accepted_on: dt.date | None = None

    def apply(self, report: ReportRecord) -> None:
        report.case_id = self.case_id
        report.status = ReportStatus.ACCEPTED
        # Older events lack the day: the China date they were recorded on.
        report.accepted_on = self.accepted_on or china_date(self.timestamp)


class Triaged(ReportEvent):
    """Every other triage outcome: ``outcome`` names it, ``details`` says where and when."""

    TOPIC = "jiandu.intake:Report.Triaged"
    outcome: str
    details: dict[str, Any]
    actor: dict[str, str]
    reason: str

    def apply(self, report: ReportRecord) -> None:
        report.status = ReportStatus(self.outcome)
        report.triage = {**report.triage, **self.details}


class IdentityVerified(ReportEvent):
    TOPIC = "jiandu.intake:Report.IdentityVerified"
    method: str
    verified_on: dt.date
    actor: dict[str, str]

    def apply(self, report: ReportRecord) -> None:
        report.identity_verified = True
        report.reporter = {**report.reporter, "verified": True}


class AcceptanceNoticeSent(ReportEvent):
    TOPIC = "jiandu.intake:Report.AcceptanceNoticeSent"
    sent_on: dt.date
    actor: dict[str, str]

    def apply(self, report: ReportRecord) -> None:
        assert report.acceptance_notice is not None
        report.acceptance_notice = {**report.acceptance_notice, "met_on": self.sent_on}


class SubjectIdentified(ReportEvent):
    TOPIC = "jiandu.intake:Report.SubjectIdentified"
    subject_index: int
    name: str
    unit: str
    candidate_key: str
    cadre_id: str | None
    same_as_candidate: str | None
    actor: dict[str, str]
    reason: str

    def apply(self, report: ReportRecord) -> None:
        report.identifications = {
            **report.identifications,
            self.subject_index: {
                "cadre_id": self.cadre_id,
                "same_as_candidate": self.same_as_candidate,
            },
        }


class SealedContentHandedOver(ReportEvent):
    TOPIC = "jiandu.intake:Report.SealedContentHandedOver"
    method: str
    to_authority: str
    reference: str
    recipient_key_sha256: str | None
    handed_over_on: dt.date
    actor: dict[str, str]
    reason: str

    def apply(self, report: ReportRecord) -> None:
        report.handovers = [
            *report.handovers,
            {"method": self.method, "reference": self.reference, "on": self.handed_over_on},
        ]


class SealedContentOpened(ReportEvent):
    TOPIC = "jiandu.intake:Report.SealedContentOpened"
    opened_on: dt.date
    actor: dict[str, str]
    reason: str

    def apply(self, report: ReportRecord) -> None:
        report.content_opened = {"opened_on": self.opened_on, "by": self.actor["id"]}


class DocumentIssued(ReportEvent):
    """A letter to the report's real-name reporter (decision 0037): never its addressee."""

    TOPIC = "jiandu.intake:Report.DocumentIssued"
    document_id: UUID
    kind: str
    number: str
    about: str
    issued_on: dt.date
    template_version: str
    fields: dict[str, str]
    actor: dict[str, str]

    def apply(self, report: ReportRecord) -> None:
        keep_issued(report, self, self.issued_on)
