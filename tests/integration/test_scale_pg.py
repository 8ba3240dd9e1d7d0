"""``jiandu demo --scale`` on PostgreSQL (services/demo/scale.py, 0027): the history written in
bulk into the distributed mode's stores, the read models the live path makes of it, and the
refusal of stores holding events."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from schemas.events import SOURCES
from services.common.sql import Database
from services.demo.scale import Shape, StoresNotEmpty, generate
from services.projections.catchup import open_logs
from services.projections.store import ReadStore
from tests.integration.helpers import pg_settings
from tests.unit.conftest import build_embedded, make_settings
from tests.unit.test_rebuild import assert_same, dump
from tests.unit.test_scale import events_of

TODAY = dt.date(2026, 3, 2)


def test_scale_history_on_postgres(pg_dsn: str, tmp_path: Path) -> None:
    settings = pg_settings(pg_dsn, tmp_path)
    written = generate(settings, 250, today=TODAY, seed=3, chunk=80, progress=lambda _: None)
    events = events_of(settings)
    assert written.events["casework"] == Counter(s for s, *_ in events)["casework"]
    assert sum(written.projected.values()) == len(events)
    store = ReadStore(Database.for_service(settings, "projections"))
    try:
        cadres = store.query("SELECT count(*) AS n FROM cadres")[0]["n"]
        assert cadres == Shape.of(250, TODAY).cadres
        cases = store.query("SELECT count(*) AS n FROM case_list")[0]["n"]
        assert cases == written.tally["accepted"] > 0
        # The same logs through the live path (embedded, SQLite read models): the same rows.
        live = build_embedded(make_settings(tmp_path / "live"))
        try:
            with open_logs(settings) as logs:
                for source in SOURCES:
                    position = 0
                    while True:
                        batch, last = logs[source].read_envelopes(position, 500)
                        if last == position:
                            break
                        live.read.store.apply(batch, consumer="live-test")
                        position = last
            assert_same(dump(live.read.store), dump(store))
        finally:
            live.stop()
    finally:
        store.db.close()
    with pytest.raises(StoresNotEmpty):
        generate(settings, 5, today=TODAY, progress=lambda _: None)
