"""The garbage collector of a long-running process, settled once its app is built.

A served process imports every module, builds every pydantic schema, template and route
before its first request: a heap of long-lived objects that CPython's cyclic collector walks
again at each of its older-generation collections, in the middle of requests. A page that
builds a few thousand objects (a cadre's archive, a queues page) then pays for a walk of the
whole heap now and then: at a million events the p99 of those pages was two to three times
their p50 (decision 0027, fourth pass).

``settle_heap`` collects once, moves what survives into the permanent generation
(``gc.freeze``: never walked again) and lets the youngest generation grow larger between
collections. Memory is still freed by reference counting as before; cycles are still
collected, less often. Called by each serving process once its app is built
(``services/cli/base.serve``).
"""

from __future__ import annotations

import gc

# Objects allocated (less freed) between collections of the youngest generation; CPython's
# default is 700. Older generations: collected every 20 young collections, and every 50 of
# those (defaults 10 and 10).
THRESHOLDS = (10_000, 20, 50)


def settle_heap() -> None:
    """Freeze the start-up heap out of the collector's walks and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
