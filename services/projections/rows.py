"""What pure projection functions return: row operations, applied by the store."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from schemas.events import EventEnvelope, Payload, parse_payload


@dataclass(frozen=True)
class Upsert:
    """Insert the row, or update only the given ``values`` of the row with this ``key``.

    Writing only the columns an event knows makes projections order-tolerant across
    aggregates: whichever event arrives first creates the row, the other fills in its part.
    """

    table: str
    key: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)


class Projection(Protocol):
    name: str
    tables: tuple[str, ...]
    ddl: tuple[str, ...]

    def project(self, envelope: EventEnvelope) -> list[Upsert]: ...


_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)  # json.dumps makes one a call


def as_json(value: Any) -> str:
    return _JSON.encode(value)


# The envelope whose payload was parsed last on this thread: every projection of a store asks
# for the same envelope's payload in turn (``ReadStore.rows_for``), so it is parsed once, not
# once per projection. Held by identity (a strong reference: the id cannot be reused).
_parsed = threading.local()


Parsed = tuple[EventEnvelope, Payload, dict[str, Any]]


@contextmanager
def parsed_beforehand(known: dict[int, Parsed]) -> Iterator[None]:
    """Within: the payloads of these envelopes (by ``id``, each entry holding its envelope) as
    their reader validated them, at the current version: ``payload_of`` validates them no
    more (``catchup.read_parsed``)."""
    _parsed.known = known
    try:
        yield
    finally:
        _parsed.known = None


def payload_of(envelope: EventEnvelope) -> Payload:
    """``parse_payload(envelope)``, parsed once for all the projections of one envelope."""
    known: dict[int, Parsed] | None = getattr(_parsed, "known", None)
    entry = known.get(id(envelope)) if known is not None else None
    if entry is not None and entry[0] is envelope:
        _parsed.memo = entry
        return entry[1]
    memo = getattr(_parsed, "memo", None)
    if memo is not None and memo[0] is envelope:
        payload: Payload = memo[1]
        return payload
    payload = parse_payload(envelope)
    _parsed.memo = (envelope, payload, None)
    return payload


def data_of(envelope: EventEnvelope) -> dict[str, Any]:
    """``payload_of(envelope).model_dump(mode="json")``, dumped once per envelope.

    Shared by the projections of the envelope: read it, never change it.
    """
    payload = payload_of(envelope)
    memo = _parsed.memo
    if memo[2] is None:
        memo = _parsed.memo = (envelope, payload, payload.model_dump(mode="json"))
    data: dict[str, Any] = memo[2]
    return data


@functools.lru_cache(maxsize=8192)
def text(identifier: UUID) -> str:
    """``str(identifier)``: an aggregate's id is written by every projection of each of its
    events, and formatting a UUID costs more than a cached look-up."""
    return str(identifier)
