"""``jiandu demo --scale`` on PostgreSQL (services/demo/scale.py, 0027): the history written in
bulk into the distributed mode's stores, the read models the live path makes of it, and the
refusal of stores holding events."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from schemas.glossary import LiaisonDimension
from schemas.views_archive import IntegrityRequest
from services.common.sql import Database
from services.demo.scale import Shape, StoresNotEmpty, generate
from services.projections.archive.integrity import IntegrityReplies
from services.projections.archive.queries import ArchiveQueries
from services.projections.archive.register import CadreRegister
from services.projections.liaison.queries import LiaisonQueries
from services.projections.liaison.statistics import count_rows, rows_of
from services.projections.store import ReadStore
from tests.integration.helpers import pg_settings
from tests.support.live_path import apply_logs_live
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
            apply_logs_live(settings, live.read.store, batch=500)
            assert_same(dump(live.read.store), dump(store))
        finally:
            live.stop()
    finally:
        store.db.close()
    # The liaison figures counted in SQL on PostgreSQL: the facts' counts.
    store = ReadStore(Database.for_service(settings, "projections"))
    try:
        queries = LiaisonQueries(store, today=lambda: TODAY)
        start, end = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
        facts = queries.facts(start, end)
        assert queries.total(start, end) == len(facts) > 0
        for dimension in LiaisonDimension:
            counted = rows_of(
                dimension, queries.counts(dimension, start, end), start=start, end=end
            )
            assert counted == count_rows(dimension, facts, start=start, end=end), dimension
        # The integrity reply for many cadres at once is each cadre's own reply.
        register = CadreRegister(store)
        archives = ArchiveQueries(store, register)
        replies = IntegrityReplies(archives, today=lambda: TODAY)
        ids = [r["cadre_id"] for r in store.query("SELECT cadre_id FROM cadres ORDER BY cadre_id")]
        many = replies.reply(IntegrityRequest(cadre_ids=ids[:60]))
        for cadre_id, reply in zip(ids[:60], many.cadres, strict=True):
            one = replies.reply(IntegrityRequest(cadre_ids=[cadre_id])).cadres[0]
            assert reply == one
            assert (
                archives.archive(cadre_id)
                == archives.archives([register.get_many([cadre_id])[cadre_id]])[0]
            )
    finally:
        store.db.close()
    with pytest.raises(StoresNotEmpty):
        generate(settings, 5, today=TODAY, progress=lambda _: None)
