"""Placeholder: filled in by the read-model work of issue 4."""

from __future__ import annotations

from schemas.events import EventEnvelope
from services.projections.rows import Upsert

name = "liaison"
version = 1
tables: tuple[str, ...] = ()
ddl: tuple[str, ...] = ()


def project(envelope: EventEnvelope) -> list[Upsert]:
    return []
