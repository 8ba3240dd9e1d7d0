"""The Report aggregate and the registration ledger (登记台账).

A report is received, numbered in the ledger (``JB-2026-000123``) and, for now, accepted
into casework by the intake policy. Reporter identity is not here: only a pseudonymous
reference and flags (see ``vault.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from schemas.events import (
    ReportAcceptedV1,
    ReportReceivedV1,
    ReportRegisteredV1,
)
from schemas.glossary import ReportStatus

NAMESPACE = uuid5(NAMESPACE_URL, "https://jiandu.example/ns/intake")
LEDGER_PREFIX = "JB"


class IntakeRuleBroken(Exception):
    """A command that the report's state does not allow; nothing was stored."""


def report_id_for_idempotency_key(key: str) -> UUID:
    return uuid5(NAMESPACE, f"idempotency-key:{key}")


def case_id_for_report(report_id: UUID) -> UUID:
    """The case a report opens: deterministic, so a redelivery cannot open a second one."""
    return uuid5(NAMESPACE, f"case-of:{report_id}")


def ledger_id_for_year(year: int) -> UUID:
    return uuid5(NAMESPACE, f"ledger:{year}")


def format_ledger_number(year: int, sequence: int) -> str:
    return f"{LEDGER_PREFIX}-{year}-{sequence:06d}"


class Report(Aggregate):
    """One report (举报件) as intake knows it."""

    TOPIC = "jiandu.intake:Report"

    class Created(Aggregate.Created):
        TOPIC = "jiandu.intake:Report.Created"

    class Event(Aggregate.Event):
        TOPIC = "jiandu.intake:Report.Event"

    class Received(Created):
        TOPIC = "jiandu.intake:Report.Received"
        CONTRACT = ("ReportReceived", 1, ReportReceivedV1)
        channel: str
        categories: list[str]
        subjects: list[dict[str, Any]]
        summary: str
        reporter: dict[str, Any]
        referral: dict[str, Any] | None
        received_on: dt.date
        actor: dict[str, str]
        submission_digest: str

    class Registered(Event):
        TOPIC = "jiandu.intake:Report.Registered"
        CONTRACT = ("ReportRegistered", 1, ReportRegisteredV1)
        ledger_number: str
        actor: dict[str, str]

    class Accepted(Event):
        TOPIC = "jiandu.intake:Report.Accepted"
        CONTRACT = ("ReportAccepted", 1, ReportAcceptedV1)
        case_id: UUID
        ledger_number: str
        channel: str
        categories: list[str]
        subjects: list[dict[str, Any]]
        summary: str
        received_on: dt.date
        actor: dict[str, str]
        reason: str

    @event(Received)
    def __init__(
        self,
        *,
        id: UUID,
        channel: str,
        categories: list[str],
        subjects: list[dict[str, Any]],
        summary: str,
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
        self.reporter = reporter
        self.referral = referral
        self.received_on = received_on
        self.submission_digest = submission_digest
        self.status = ReportStatus.RECEIVED
        self.ledger_number: str | None = None
        self.case_id: UUID | None = None

    # -- commands ----------------------------------------------------------------------

    def register(self, ledger_number: str, actor: dict[str, str]) -> None:
        """Number the report in the ledger."""
        if self.ledger_number is not None:
            raise IntakeRuleBroken(f"report is already registered as {self.ledger_number}")
        self._registered(ledger_number=ledger_number, actor=actor)

    def accept(self, case_id: UUID, actor: dict[str, str], reason: str) -> None:
        """Accept the report into casework (受理), opening the given case."""
        if self.ledger_number is None:
            raise IntakeRuleBroken("a report must be registered before it is accepted")
        if self.case_id is not None:
            raise IntakeRuleBroken("report is already accepted")
        self._accepted(
            case_id=case_id,
            ledger_number=self.ledger_number,
            channel=self.channel,
            categories=self.categories,
            subjects=self.subjects,
            summary=self.summary,
            received_on=self.received_on,
            actor=actor,
            reason=reason,
        )

    # -- state changes (replayed: no rules here) ------------------------------------------

    @event(Registered)
    def _registered(self, ledger_number: str, actor: dict[str, str]) -> None:
        self.ledger_number = ledger_number
        self.status = ReportStatus.REGISTERED

    @event(Accepted)
    def _accepted(
        self,
        case_id: UUID,
        ledger_number: str,
        channel: str,
        categories: list[str],
        subjects: list[dict[str, Any]],
        summary: str,
        received_on: dt.date,
        actor: dict[str, str],
        reason: str,
    ) -> None:
        self.case_id = case_id
        self.status = ReportStatus.ACCEPTED


class Ledger(Aggregate):
    """The registration ledger of one year: allocates gapless numbers under optimistic locking."""

    TOPIC = "jiandu.intake:Ledger"

    class Created(Aggregate.Created):
        TOPIC = "jiandu.intake:Ledger.Created"

    class Event(Aggregate.Event):
        TOPIC = "jiandu.intake:Ledger.Event"

    class Opened(Created):
        TOPIC = "jiandu.intake:Ledger.Opened"
        year: int

    class NumberAllocated(Event):
        TOPIC = "jiandu.intake:Ledger.NumberAllocated"
        sequence: int
        report_id: UUID

    @event(Opened)
    def __init__(self, *, id: UUID, year: int) -> None:
        self.year = year
        self.last_sequence = 0

    @classmethod
    def open(cls, year: int) -> Ledger:
        return cls(id=ledger_id_for_year(year), year=year)

    def allocate(self, report_id: UUID) -> str:
        self._allocated(sequence=self.last_sequence + 1, report_id=report_id)
        return format_ledger_number(self.year, self.last_sequence)

    @event(NumberAllocated)
    def _allocated(self, sequence: int, report_id: UUID) -> None:
        self.last_sequence = sequence
