"""What pure projection functions return: row operations, applied by the store."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from schemas.events import EventEnvelope


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


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
