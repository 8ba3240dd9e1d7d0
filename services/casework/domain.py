"""The Case aggregate: one matter under handling (案件/问题线索)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from schemas.events import CaseOpenedV1
from schemas.glossary import CaseStatus


class Case(Aggregate):
    TOPIC = "jiandu.casework:Case"

    class Created(Aggregate.Created):
        TOPIC = "jiandu.casework:Case.Created"

    class Event(Aggregate.Event):
        TOPIC = "jiandu.casework:Case.Event"

    class Opened(Created):
        TOPIC = "jiandu.casework:Case.Opened"
        CONTRACT = ("CaseOpened", 1, CaseOpenedV1)
        report_id: UUID
        ledger_number: str
        channel: str
        categories: list[str]
        subjects: list[dict[str, Any]]
        summary: str
        received_on: dt.date
        actor: dict[str, str]

    @event(Opened)
    def __init__(
        self,
        *,
        id: UUID,
        report_id: UUID,
        ledger_number: str,
        channel: str,
        categories: list[str],
        subjects: list[dict[str, Any]],
        summary: str,
        received_on: dt.date,
        actor: dict[str, str],
    ) -> None:
        self.report_ids = [report_id]
        self.ledger_number = ledger_number
        self.channel = channel
        self.categories = categories
        self.subjects = subjects
        self.summary = summary
        self.received_on = received_on
        self.status = CaseStatus.OPEN
        self.opened_by = actor
