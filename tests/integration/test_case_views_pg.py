"""The case list and queues on PostgreSQL answer as on SQLite, from the same events."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from services.common.sql import Database
from services.projections.cases.queries import CaseQueries
from services.projections.cases.rows import CaseFilters, SqlReader
from services.projections.store import ReadStore
from tests.unit.conftest import (
    TODAY,
    all_envelopes,
    build_embedded,
    make_settings,
    stand_in_handlers,
)
from tests.unit.test_case_views import accept, random_history, submit, to_feedback


def test_queues_on_postgres_match_sqlite(pg_dsn: str, tmp_path: Path) -> None:
    system = build_embedded(make_settings(tmp_path, auto_accept=False))
    stand_in_handlers(system)
    try:
        random_history(system, random.Random(11), reports=16)
        named = submit(system, real_name=True)
        to_feedback(system, accept(system, named), "handler-a", text="已办结，反映问题不属实。")
        system.catch_up()
        events = [*all_envelopes(system.intake), *all_envelopes(system.casework)]
        later = TODAY + dt.timedelta(days=30)
        lite = CaseQueries(system.read.store, system.config, today=lambda: later)

        db = Database(postgres_url=pg_dsn, schema="projections")
        try:
            ReadStore(db).apply(events, consumer="pg")
            pg = CaseQueries(SqlReader(db), system.config, today=lambda: later)

            assert pg.untriaged() == lite.untriaged()
            assert pg.mine("handler-a") == lite.mine("handler-a")
            assert pg.awaiting_approval() == lite.awaiting_approval()
            assert pg.overdue() == lite.overdue()
            assert pg.overdue() != []
            assert pg.case_list(CaseFilters(handler="handler-b")) == lite.case_list(
                CaseFilters(handler="handler-b")
            )
            assert [f.text for f in pg.feedback_for_report(str(named))] == [
                "已办结，反映问题不属实。"
            ]
        finally:
            db.close()
    finally:
        system.stop()
