"""The full-process record's seal: each case's events are hash-chained.

Every event of a case carries ``chain`` = SHA-256 over the previous event's chain, the
event's topic, version, timestamp and all of its fields. Altering, removing or
reordering a stored event breaks the chain from that event on; ``jiandu verify`` finds
the first broken link.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

A = TypeVar("A", bound=Aggregate)  # the aggregate a sealed first event creates

BASE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "chain"}
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"cannot seal a {type(value).__name__}")


_key: bytes | None = None


def use_key(key: bytes | None) -> None:
    """Seal with HMAC-SHA-256 under ``key`` (derived from JIANDU_SECRET_KEY), so that someone
    who can write to the event tables but does not hold the key cannot re-seal an altered
    chain. Without a key (unit tests), plain SHA-256."""
    global _key  # noqa: PLW0603 - one sealing key per process, like the vault's
    _key = key


def genesis(aggregate_id: UUID) -> str:
    return hashlib.sha256(f"jiandu-chain:{aggregate_id}".encode()).hexdigest()


def link(
    previous: str, topic: str, version: int, timestamp: dt.datetime, fields: dict[str, Any]
) -> str:
    body = json.dumps(
        {
            "previous": previous,
            "topic": topic,
            "version": version,
            "timestamp": timestamp.isoformat(),
            "fields": fields,
        },
        sort_keys=True,
        ensure_ascii=False,
        default=_jsonable,
        separators=(",", ":"),
    )
    if _key is not None:
        return hmac.new(_key, body.encode(), hashlib.sha256).hexdigest()
    return hashlib.sha256(body.encode()).hexdigest()


def event_fields(event: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(event).items() if k not in BASE_FIELDS}


def create_sealed(
    aggregate_class: type[A], created_class: Any, aggregate_id: UUID, fields: dict[str, Any]
) -> A:
    """A new aggregate of ``aggregate_class`` from its first event (``created_class``), the
    event sealed as the first link of the aggregate's chain (a case, a selection, a project)."""
    timestamp = created_class.create_timestamp()
    seal = link(genesis(aggregate_id), created_class.TOPIC, 1, timestamp, fields)
    return aggregate_class._create(
        created_class, id=aggregate_id, timestamp=timestamp, chain=seal, **fields
    )


def trigger_sealed(
    aggregate: Any, chain_head: str, event_class: Any, fields: dict[str, Any]
) -> None:
    """Trigger ``event_class`` on ``aggregate`` with ``fields``, sealed after ``chain_head``."""
    timestamp = event_class.create_timestamp()
    seal = link(chain_head, event_class.TOPIC, aggregate.version + 1, timestamp, fields)
    aggregate.trigger_event(event_class, timestamp=timestamp, chain=seal, **fields)


@dataclass(frozen=True)
class BrokenLink:
    aggregate_id: UUID
    version: int
    topic: str
    reason: str


def verify_chain(aggregate_id: UUID, events: Iterable[Any]) -> BrokenLink | None:
    """The first broken link of one aggregate's events (oldest first), or None."""
    previous = genesis(aggregate_id)
    expected_version = 1
    for event in events:
        topic = getattr(type(event), "TOPIC", type(event).__qualname__)
        version = event.originator_version
        if version != expected_version:
            return BrokenLink(
                aggregate_id, expected_version, topic, f"event {expected_version} is missing"
            )
        stored = getattr(event, "chain", None)
        if stored is None:
            return BrokenLink(aggregate_id, version, topic, "the event carries no seal")
        if link(previous, topic, version, event.timestamp, event_fields(event)) != stored:
            return BrokenLink(
                aggregate_id,
                version,
                topic,
                "the event's content does not match its seal (altered)",
            )
        previous = stored
        expected_version += 1
    return None


# The aggregates whose events are sealed in a hash chain: cases, selections (0034) and
# supervision projects (立项督查).
CHAINED_TOPICS = (
    "jiandu.casework:Case.",
    "jiandu.casework:Selection.",
    "jiandu.casework:SupervisionProject.",
)


def chained_kind(topic: str) -> str:
    """What a chained event belongs to, by its topic: ``case``, ``selection`` or
    ``project``."""
    if topic.startswith("jiandu.casework:Selection."):
        return "selection"
    if topic.startswith("jiandu.casework:SupervisionProject."):
        return "project"
    return "case"


def verify_log(app: Any, page: int = 1000) -> tuple[int, list[BrokenLink]]:
    """Check every chain in an application's log, each case's, selection's and project's
    (``CHAINED_TOPICS``): (aggregates checked, broken links).

    Reads the notification log in pages and checks each aggregate's events in order; a
    stored event that no longer decodes is itself a broken link.
    """
    from collections import defaultdict

    events: dict[UUID, list[Any]] = defaultdict(list)
    undecodable: dict[UUID, BrokenLink] = {}
    position = 0
    while True:
        notifications = app.recorder.select_notifications(
            start=position, limit=page, inclusive_of_start=False
        )
        if not notifications:
            break
        for notification in notifications:
            if not notification.topic.startswith(CHAINED_TOPICS):
                continue
            case_id = UUID(str(notification.originator_id))
            try:
                events[case_id].append(app.mapper.to_domain_event(notification))
            except Exception as error:
                undecodable.setdefault(
                    case_id,
                    BrokenLink(
                        case_id,
                        notification.originator_version,
                        notification.topic,
                        f"the stored event no longer decodes ({type(error).__name__})",
                    ),
                )
        position = notifications[-1].id
    broken = []
    for case_id in sorted(events.keys() | undecodable.keys()):
        found = undecodable.get(case_id) or verify_chain(
            case_id, sorted(events[case_id], key=lambda e: e.originator_version)
        )
        if found is not None:
            broken.append(found)
    return len(events.keys() | undecodable.keys()), broken
