"""The live path over logs already written: what a follower or the Faust worker applies."""

from __future__ import annotations

from schemas.events import SOURCES
from services.common.settings import Settings
from services.projections.catchup import open_logs
from services.projections.store import ReadStore


def apply_logs_live(settings: Settings, store: ReadStore, batch: int) -> None:
    """Every published event of both logs of ``settings`` applied to ``store`` in batches
    of ``batch``, as live batches (``ReadStore.apply``), not as a rebuild."""
    with open_logs(settings) as logs:
        for source in SOURCES:
            position = 0
            while True:
                envelopes, last = logs[source].read_envelopes(position, batch)
                if last == position:
                    break
                store.apply(envelopes, consumer="live-test")
                position = last
