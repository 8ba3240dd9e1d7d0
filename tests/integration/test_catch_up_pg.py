"""A catch-up on PostgreSQL leaves the planner statistics of the tables it wrote in bulk."""

from __future__ import annotations

from pathlib import Path

from services.common.sql import Database
from services.projections.archive import projection as archive
from services.projections.catchup import catch_up
from services.projections.store import ReadStore
from services.projections.timeline import projection as timeline
from tests.unit.conftest import build_embedded, make_settings, stand_in_handlers
from tests.unit.test_rebuild import HistoryWriter, logs_of


def test_a_catch_up_on_postgres_analyzes_what_it_wrote(pg_dsn: str, tmp_path: Path) -> None:
    system = build_embedded(make_settings(tmp_path / "data"))
    stand_in_handlers(system)
    db = Database(postgres_url=pg_dsn, schema="projections")
    try:
        HistoryWriter(system.intake, system.casework, seed=3).write(40)
        store = ReadStore(db, [timeline, archive])
        sampled = (
            "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = 'projections' "
            "AND tablename = ANY(%s)"
        )
        tables = [*timeline.tables, *archive.tables]
        assert store.query(sampled, [tables]) == []
        catch_up(store, logs_of(system))
        found = {r["tablename"] for r in store.query(sampled, [tables])}
        assert {"timeline_steps", "archive_reports", "archive_entries"} <= found
        # The planner's row count is the table's, not the -1 of a table never sampled.
        counted = store.query("SELECT count(*) AS n FROM archive_reports")[0]["n"]
        planned = store.query(
            "SELECT reltuples FROM pg_class WHERE oid = 'projections.archive_reports'::regclass"
        )[0]["reltuples"]
        assert counted > 0
        assert planned == counted
    finally:
        db.close()
        system.stop()
