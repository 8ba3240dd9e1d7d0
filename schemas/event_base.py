"""The event contract's foundations: the envelope every Kafka message is, the payload base
and the small models many payloads share (who acted, the reporter's reference, a due
date), and the topic names. The payloads are in ``events_intake`` and ``events_casework``;
``schemas.events`` gathers them (the registry, parsing, upcasting, JSON Schema)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from schemas.glossary import (
    Role,
)

Source = Literal["intake", "casework"]
SOURCES: tuple[Source, ...] = ("intake", "casework")


def topic_for(source: Source, prefix: str = "") -> str:
    return f"{prefix}jiandu.{source}.events"


class EventEnvelope(BaseModel):
    """One event of one source, as published by that source's relay."""

    model_config = ConfigDict(frozen=True)

    source: Source
    position: int  # the event's notification id in its source's log; increasing per source
    event_id: UUID
    event_type: str
    version: int
    aggregate_id: UUID
    aggregate_version: int
    occurred_at: dt.datetime
    payload: dict[str, Any]

    def key(self) -> bytes:
        """The Kafka message key: per-aggregate order holds within a partition."""
        return str(self.aggregate_id).encode()

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> EventEnvelope:
        return cls.model_validate(json.loads(data))


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Actor(Payload):
    """Who did a step, in what role (the full-process record, 全程记实)."""

    id: str
    role: Role


class ReporterRef(Payload):
    """The only trace of a reporter outside intake's vault."""

    ref: str
    anonymous: bool
    verified: bool = False


class DueDate(Payload):
    """A deadline's due date; provisional when counted on a calendar not yet official."""

    due: dt.date
    provisional: bool = False
    note: str = ""
    started_on: dt.date | None = None
    working_days: int | None = None
    months: int | None = None
