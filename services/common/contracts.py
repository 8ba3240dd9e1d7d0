"""How an aggregate's internal events are bound to their public contract (decision 0029).

Each aggregate module keeps one explicit table, internal event class → ``(event_type,
version, payload model)``; ``bind`` sets it on each class as ``CONTRACT``, where the
outbox reads it (``services/common/application.contract_of``). An event class missing
from the tables is never published. ``tests/unit/test_event_contracts.py`` checks that
every payload model's fields are the event class's own fields, less the ones each module
names as internal.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping

from schemas.events import Payload

Contract = tuple[str, int, type[Payload]]

# What eventsourcing adds to every event (and its created events), never in a payload.
EVENTSOURCING_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_id_type", "originator_topic"}
)


def bind(table: Mapping[type, Contract]) -> None:
    """Set each event class's ``CONTRACT`` from its module's table."""
    for event_class, contract in table.items():
        event_class.CONTRACT = contract  # type: ignore[attr-defined]


def own_fields(event_class: type) -> frozenset[str]:
    """The fields an event class stores, less those eventsourcing adds to every event."""
    hints = typing.get_type_hints(event_class)
    return frozenset(hints) - EVENTSOURCING_FIELDS - {"TOPIC", "CONTRACT"}
