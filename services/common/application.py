"""What every Jiandu write service shares: transcodings, the public-contract view of its log."""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NamedTuple
from uuid import UUID, uuid5

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Notification, Recording, Transcoding
from eventsourcing.utils import TopicError, resolve_topic
from psycopg_pool import ConnectionPool
from pydantic_core import to_json

from schemas.events import EventEnvelope, Payload, Source


class DateAsISO(Transcoding):
    type = dt.date
    name = "date_iso"

    def encode(self, obj: dt.date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> dt.date:
        return dt.date.fromisoformat(data)


ContractSpec = tuple[str, int, type[Payload]]


def contract_of(event: object) -> ContractSpec | None:
    """``(event_type, version, payload model)`` of a published event class, else None."""
    spec: ContractSpec | None = getattr(type(event), "CONTRACT", None)
    return spec


class OutboxMessage(NamedTuple):
    """One published event as the relay sends it: its log position, Kafka key and value."""

    position: int
    key: bytes  # the aggregate id: per-aggregate order holds within a partition
    value: bytes  # EventEnvelope.to_bytes()

    def envelope(self) -> EventEnvelope:
        return EventEnvelope.from_bytes(self.value)


class JianduApplication(Application[UUID]):
    """An eventsourcing application whose log is published as the public event contract."""

    source: ClassVar[Source]

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._listeners: list[Callable[[], None]] = []
        self._listeners_lock = threading.Lock()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # -- publication -----------------------------------------------------------------

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Called (without arguments) after each save: wakes embedded followers."""
        with self._listeners_lock:
            self._listeners.append(callback)

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        super()._notify(recordings)
        for callback in list(self._listeners):
            callback()

    def _contract_view(self, notification: Notification) -> tuple[Any, str, int, Payload] | None:
        """``(event, event_type, version, payload)`` of a published event, else None."""
        if not is_published(notification.topic):
            return None  # not even decoded: internal events (the ledger's) are a quarter of the log
        event: Any = self.mapper.to_domain_event(notification)
        spec = contract_of(event)
        if spec is None:
            return None
        event_type, version, model = spec
        payload = model.model_validate({name: getattr(event, name) for name in model.model_fields})
        return event, event_type, version, payload

    def to_parsed(
        self, notification: Notification
    ) -> tuple[EventEnvelope, Payload, dict[str, Any]] | None:
        """The notification as a public-contract envelope, with the payload as validated
        (its model) and as JSON values (the envelope's ``payload``); None for internal events.
        """
        view = self._contract_view(notification)
        if view is None:
            return None
        event, event_type, version, payload = view
        data = payload.model_dump(mode="json")
        envelope = EventEnvelope(
            source=self.source,
            position=notification.id,
            event_id=event_id(notification),
            event_type=event_type,
            version=version,
            aggregate_id=event.originator_id,
            aggregate_version=event.originator_version,
            occurred_at=event.timestamp,
            payload=data,
        )
        return envelope, payload, data

    def to_envelope(self, notification: Notification) -> EventEnvelope | None:
        """The notification as a public-contract envelope, or None for internal events."""
        parsed = self.to_parsed(notification)
        return None if parsed is None else parsed[0]

    def to_message(self, notification: Notification) -> OutboxMessage | None:
        """The notification as the bytes the relay publishes (``EventEnvelope.to_bytes()``
        of :meth:`to_envelope`, byte for byte), or None for internal events.

        The payload is validated against its contract once and serialized once, with the
        envelope around it, in one pass (no dict of JSON values in between)."""
        view = self._contract_view(notification)
        if view is None:
            return None
        event, event_type, version, payload = view
        aggregate_id = event.originator_id
        value = to_json(
            {
                "source": self.source,
                "position": notification.id,
                "event_id": event_id(notification),
                "event_type": event_type,
                "version": version,
                "aggregate_id": aggregate_id,
                "aggregate_version": event.originator_version,
                "occurred_at": event.timestamp,
                "payload": payload,
            }
        )
        return OutboxMessage(notification.id, str(aggregate_id).encode(), value)

    def read_envelopes(self, after: int, limit: int) -> tuple[list[EventEnvelope], int]:
        """Published events after position ``after``; and the last position read."""
        notifications: Sequence[Notification] = self.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        if not notifications:
            return [], after
        envelopes = [e for n in notifications if (e := self.to_envelope(n)) is not None]
        return envelopes, notifications[-1].id

    def read_messages(self, after: int, limit: int) -> tuple[list[OutboxMessage], int]:
        """What the relay publishes after position ``after`` (as :meth:`read_envelopes`, in
        bytes); and the last position read (internal events move it without a message)."""
        notifications: Sequence[Notification] = self.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        if not notifications:
            return [], after
        messages = [m for n in notifications if (m := self.to_message(n)) is not None]
        return messages, notifications[-1].id

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def ping(self, timeout: float) -> None:
        """Raise unless the event store answers within about ``timeout`` seconds (/healthz)."""
        pool = getattr(getattr(self.recorder, "datastore", None), "pool", None)
        if not isinstance(pool, ConnectionPool):  # SQLite: a local file
            self.max_position()
            return
        pool.open()
        with pool.connection(timeout=timeout) as conn:
            conn.execute("SELECT 1")


@functools.cache
def is_published(topic: str) -> bool:
    """Whether events stored under this topic are part of the public contract."""
    try:
        return getattr(resolve_topic(topic), "CONTRACT", None) is not None
    except TopicError:
        return True  # unknown here: decode it and let the mapper say what is wrong


def event_id(notification: Notification) -> UUID:
    """A stable identity for a stored event: its aggregate id and version."""
    originator = notification.originator_id
    namespace = originator if isinstance(originator, UUID) else UUID(str(originator))
    return uuid5(namespace, str(notification.originator_version))


# Every module that defines stored events: a process that reads a log without building its
# application (a relay, the projections worker's catch-up and rebuilds, `jiandu verify`)
# imports them, so that every stored topic resolves (tests/unit/test_stored_topics.py).
EVENT_MODULES = (
    "services.intake.domain",
    "services.casework.domain",
    "services.casework.selection",
    "services.casework.selection.candidacies",
    "services.casework.project",
    "services.common.registers",
)


def import_event_modules() -> None:
    for module in EVENT_MODULES:
        importlib.import_module(module)


def log_reader(env: dict[str, str], source: Source) -> JianduApplication:
    """A read-only view of a service's event store (``env``: its event-store environment):
    it saves nothing, and resolves every topic stored."""
    import_event_modules()

    class LogReader(JianduApplication):
        name = source

    LogReader.source = source
    return LogReader(env)
