"""The batched writer of the read models (``writes.write_rows``) and batch boundaries of a rebuild.

A batch's upserts are merged in memory (one write per row per batch) and sent a statement
per table and column set: the tables must come out exactly as writing every upsert one by
one, in order, does; and a rebuild whose batches split a case's (a report's) events must
equal one whose batches do not.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from random import Random
from typing import Any

import pytest

from services.common.sql import Database
from services.projections.catchup import BATCH
from services.projections.rebuild import rebuild_store
from services.projections.rows import Upsert
from services.projections.store import ReadStore
from services.projections.writes import write_rows as _write
from tests.unit.conftest import build_embedded, make_settings, stand_in_handlers
from tests.unit.project_history import ProjectWriter
from tests.unit.selection_history import SelectionWriter
from tests.unit.test_rebuild import HistoryWriter, assert_same, dump, logs_of

TABLE_DDL = """CREATE TABLE IF NOT EXISTS merge_probe (
    a TEXT NOT NULL,
    b INTEGER NOT NULL,
    x TEXT,
    y INTEGER,
    z BIGINT,
    PRIMARY KEY (a, b)
)"""


def random_upserts(chance: Random, n: int) -> list[Upsert]:
    """Upserts of a few rows, each naming a random subset of columns (NULLs and no value
    columns at all included), keys sometimes given in another column order."""
    rows = []
    for _ in range(n):
        a, b = chance.choice("pqr"), chance.randint(1, 3)
        key: dict[str, Any] = {"a": a, "b": b} if chance.random() < 0.5 else {"b": b, "a": a}
        values: dict[str, Any] = {}
        for column in ("x", "y", "z"):
            if chance.random() < 0.4:
                values[column] = (
                    None
                    if chance.random() < 0.3
                    else (f"t{chance.randint(0, 9)}" if column == "x" else chance.randint(0, 99))
                )
        rows.append(Upsert("merge_probe", key, values))
    return rows


def table(db: Database) -> list[tuple[Any, ...]]:
    with db.transaction() as cur:
        cur.execute("SELECT a, b, x, y, z FROM merge_probe ORDER BY a, b")
        return [tuple(r.values()) for r in cur.fetchall()]


def check_merged_writes_equal_one_by_one(make_db: Any, attempts: int = 40) -> None:
    chance = Random(12)
    for attempt in range(attempts):
        batched, single = make_db(f"batched{attempt}"), make_db(f"single{attempt}")
        postgres = batched.dialect == "postgres"
        for db in (batched, single):
            db.execute_script([TABLE_DDL])
        for _ in range(3):  # batches on rows earlier batches wrote
            rows = random_upserts(chance, chance.randint(1, 30))
            with batched.transaction() as cur:
                _write(cur, rows, postgres=postgres)
            for row in rows:
                with single.transaction() as cur:
                    _write(cur, [row], postgres=postgres)
            assert table(batched) == table(single), rows
        batched.close()
        single.close()


def test_merged_batched_writes_equal_writing_each_upsert_in_order(tmp_path: Path) -> None:
    check_merged_writes_equal_one_by_one(
        lambda name: Database(sqlite_path=tmp_path / f"{name}.sqlite")
    )


def test_a_batch_writes_each_row_once() -> None:
    class Recorder:
        def __init__(self) -> None:
            self.statements: list[tuple[str, list[Any]]] = []

        def executemany(self, sql: str, rows: list[Any]) -> None:
            self.statements.append((sql, list(rows)))

    rows = [
        Upsert("merge_probe", {"a": "p", "b": 1}, {"x": "one"}),
        Upsert("merge_probe", {"b": 1, "a": "p"}, {"y": 2}),
        Upsert("merge_probe", {"a": "p", "b": 1}, {"x": "two"}),
        Upsert("merge_probe", {"a": "q", "b": 1}),
    ]
    recorder: Any = Recorder()
    assert _write(recorder, rows, postgres=False) == 2
    written = [params for _, params in recorder.statements for params in params]
    assert sorted(written, key=repr) == sorted([("p", 1, "two", 2), ("q", 1)], key=repr)


@pytest.fixture
def history(tmp_path: Path) -> Iterator[Any]:
    system = build_embedded(make_settings(tmp_path / "data"))
    stand_in_handlers(system)
    writer = HistoryWriter(system.intake, system.casework, seed=31)
    writer.write(90)
    selections = SelectionWriter(system.casework, seed=31)
    selections.write(60)  # selections' candidates and holds
    projects = ProjectWriter(
        system.casework, lambda: selections.selections, lambda: writer.cases, 31
    )
    projects.write(50)  # projects on them, and their deadlines
    system.catch_up()
    yield system
    system.stop()


def test_a_rebuild_whose_batches_split_cases_equals_one_in_a_single_batch(
    history: Any, tmp_path: Path
) -> None:
    logs = logs_of(history)
    whole = ReadStore(Database(sqlite_path=tmp_path / "whole.sqlite"))
    rebuild_store(whole, logs, show_progress=False, batch=10**6)
    expected = dump(whole)
    # The live read models, projected by the followers, agree too.
    assert_same(dump(history.read.store), expected)

    casework, _ = logs["casework"].read_envelopes(0, 10**6)
    by_case: dict[Any, list[int]] = {}
    for envelope in casework:
        by_case.setdefault(envelope.aggregate_id, []).append(envelope.position)
    for batch in (1, 2, 7, BATCH):
        # A case whose events fall into two batches (positions counted from 0, batch by batch).
        if batch < 10:
            assert any(
                len({(p - 1) // batch for p in positions}) > 1 for positions in by_case.values()
            )
        split = ReadStore(Database(sqlite_path=tmp_path / f"split{batch}.sqlite"))
        rebuild_store(split, logs, show_progress=False, batch=batch)
        assert_same(dump(split), expected)
