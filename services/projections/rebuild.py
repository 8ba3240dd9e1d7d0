"""Rebuild every read model from the event stores (``jiandu rebuild-projections``).

A forced catch-up of every projection: each one's tables are dropped and recreated and both
logs replayed through them, with a progress bar. Consumer positions are kept: live batches
skip what the rebuild replayed (each projection's replayed position), and while the rebuild
runs they refuse to apply (``ProjectionsNotReady``, retried), so a running worker or
``jiandu up`` waits and then goes on exactly. See docs/decisions/0010.
"""

from __future__ import annotations

from services.common.settings import Settings
from services.common.sql import Database
from services.projections.catchup import BATCH, CatchUpReport, Logs, catch_up, open_logs
from services.projections.store import ReadStore

__all__ = ["BATCH", "rebuild", "rebuild_store"]


def rebuild_store(
    store: ReadStore, logs: Logs, *, show_progress: bool = True, batch: int = BATCH
) -> CatchUpReport:
    """Drop every read model of ``store``, then replay each source's log through them."""
    return catch_up(store, logs, force=True, show_progress=show_progress, batch=batch)


def rebuild(settings: Settings, *, show_progress: bool = True) -> CatchUpReport:
    """Rebuild the read models of ``settings`` (either mode) from its event stores."""
    store = ReadStore(Database.for_service(settings, "projections"))
    try:
        with open_logs(settings) as logs:
            return rebuild_store(store, logs, show_progress=show_progress)
    finally:
        store.db.close()
