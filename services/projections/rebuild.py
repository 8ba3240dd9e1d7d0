"""Rebuild every read model from the event stores (``jiandu rebuild-projections``)."""

from __future__ import annotations

from collections.abc import Mapping

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from services.common.application import JianduApplication
from services.common.settings import Settings
from services.common.sql import Database
from services.projections.store import ReadStore

REBUILD_CONSUMER = "rebuild"
BATCH = 1000


def rebuild_store(
    store: ReadStore,
    logs: Mapping[str, JianduApplication],
    *,
    consumer: str = REBUILD_CONSUMER,
    show_progress: bool = True,
) -> dict[str, int]:
    """Drop the read models, then replay each source's log through the projections."""
    store.drop_tables()
    store.create_tables()
    counts: dict[str, int] = {}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, disable=not show_progress) as progress:
        for source, app in logs.items():
            total = app.max_position()
            task = progress.add_task(f"{source} events", total=total)
            position, applied = 0, 0
            while position < total:
                envelopes, position = app.read_envelopes(position, BATCH)
                applied += store.apply(envelopes, consumer=consumer)
                progress.update(task, completed=position)
            counts[source] = applied
    return counts


def rebuild(settings: Settings, logs: Mapping[str, JianduApplication]) -> dict[str, int]:
    from services.bootstrap import EMBEDDED_CONSUMER

    store = ReadStore(Database.for_service(settings, "projections"))
    # Embedded: continue as the in-process consumer; distributed: the worker keeps its own.
    consumer = REBUILD_CONSUMER if settings.distributed else EMBEDDED_CONSUMER
    return rebuild_store(store, logs, consumer=consumer)
