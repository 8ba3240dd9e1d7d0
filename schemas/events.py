"""The public event contract carried on Kafka (``jiandu.<source>.events``).

Every message is an :class:`EventEnvelope`; its ``payload`` is one of the versioned
payload models below, chosen by ``(event_type, version)``. Consumers call
:func:`parse_payload`, which upcasts older versions to the current one, so a
stored or in-flight message of an earlier version never breaks a reader.

The contract never holds reporter identity: only ``ReporterRef`` (a pseudonymous
reference and flags) crosses intake's boundary.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from schemas.glossary import Category, Channel, Role
from schemas.submissions import Referral, ReportedCadre

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


# --- intake ---------------------------------------------------------------------------


class ReportReceivedV1(Payload):
    channel: Channel
    categories: list[Category]
    subjects: list[ReportedCadre]
    summary: str
    reporter: ReporterRef
    referral: Referral | None
    received_on: dt.date
    actor: Actor


class ReportRegisteredV1(Payload):
    ledger_number: str
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
    actor: Actor
    reason: str


# --- casework -------------------------------------------------------------------------


class CaseOpenedV1(Payload):
    report_id: UUID
    ledger_number: str
    channel: Channel
    categories: list[Category]
    subjects: list[ReportedCadre]
    received_on: dt.date
    actor: Actor


PAYLOADS: dict[tuple[str, int], type[Payload]] = {
    ("ReportReceived", 1): ReportReceivedV1,
    ("ReportRegistered", 1): ReportRegisteredV1,
    ("ReportAccepted", 1): ReportAcceptedV1,
    ("CaseOpened", 1): CaseOpenedV1,
}

CURRENT_VERSION: dict[str, int] = {}
for _event_type, _version in PAYLOADS:
    CURRENT_VERSION[_event_type] = max(CURRENT_VERSION.get(_event_type, 0), _version)

# Upcasters turn version N's payload dict into version N+1's: {(event_type, N): fn}.
UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}


class UnknownEventType(ValueError):
    pass


def parse_payload(envelope: EventEnvelope) -> Payload:
    """The envelope's payload as the current version's model (upcast when older)."""
    event_type, version, data = envelope.event_type, envelope.version, dict(envelope.payload)
    if event_type not in CURRENT_VERSION:
        raise UnknownEventType(f"unknown event type {event_type!r} from {envelope.source}")
    while version < CURRENT_VERSION[event_type]:
        data = UPCASTERS[(event_type, version)](data)
        version += 1
    return PAYLOADS[(event_type, version)].model_validate(data)


def json_schemas() -> dict[str, Any]:
    """JSON Schema of the envelope and of every payload version, for other consumers."""
    return {
        "EventEnvelope": EventEnvelope.model_json_schema(),
        **{f"{t}.v{v}": m.model_json_schema() for (t, v), m in PAYLOADS.items()},
    }
