"""``jiandu demo --scale``: a large history written in bulk (services/demo/scale.py, 0027).

On SQLite with a few hundred reports: what it writes (counts, every stage), that the same
seed writes the same history, that it refuses stores holding events, that the read models
it leaves are the ones the live path makes of the same logs, and that the system then starts
on it without casework opening the cases again.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.domain import CanCreateTimestamp
from typer.testing import CliRunner

from schemas.events import SOURCES
from services import cli
from services.bootstrap import EmbeddedSystem
from services.common.application import JianduApplication
from services.common.sql import Database
from services.demo.scale import Shape, StoresNotEmpty, generate
from services.demo.scale_history import BusinessClock, recording_on
from services.projections.catchup import open_logs
from services.projections.store import ReadStore
from tests.support.live_path import apply_logs_live
from tests.unit.conftest import build_embedded, make_settings
from tests.unit.test_rebuild import assert_same, dump

TODAY = dt.date(2026, 3, 2)
REPORTS = 400


def _quiet(_line: str) -> None:
    pass


def events_of(settings: Any) -> list[tuple[Any, ...]]:
    """Both logs as (source, aggregate, version, type, payload): what a history is."""
    out = []
    with open_logs(settings) as logs:
        for source in SOURCES:
            app: JianduApplication = logs[source]
            envelopes, _ = app.read_envelopes(0, 10_000_000)
            out += [
                (source, e.aggregate_id, e.aggregate_version, e.event_type, repr(e.payload))
                for e in envelopes
            ]
    return out


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    settings = make_settings(tmp_path_factory.mktemp("scale") / "data")
    written = generate(settings, REPORTS, today=TODAY, seed=7, chunk=150, progress=_quiet)
    return settings, written


def test_counts_and_every_stage(history: tuple[Any, Any]) -> None:
    settings, written = history
    shape = Shape.of(REPORTS, TODAY)
    assert written.shape == shape
    events = events_of(settings)
    published = Counter(source for source, *_ in events)
    # Written counts every stored event (ledger numbers too); the logs publish the rest.
    assert written.events["casework"] == published["casework"]
    assert written.events["intake"] > published["intake"] > REPORTS
    assert sum(written.projected.values()) == len(events)
    reports = {a for s, a, _, t, _ in events if t == "ReportReceived"}
    assert len(reports) == REPORTS
    store = ReadStore(Database.for_service(settings, "projections"))
    try:
        assert store.query("SELECT count(*) AS n FROM cadres")[0]["n"] == shape.cadres
        states = Counter(r["state"] for r in store.query("SELECT state FROM case_list"))
        assert sum(states.values()) == written.tally["accepted"]
        # Cases stand at every stage: open, in verification or inquiry, awaiting approval,
        # concluded and closed.
        assert {"closed", "verification", "inquiry", "concluded"} <= set(states), states
        assert len(states) >= 6, states
        handlers = {r["handler_id"] for r in store.query("SELECT handler_id FROM case_list")}
        assert "handler" in handlers
        days = [r["received_on"] for r in store.query("SELECT received_on FROM case_list")]
        assert min(days) < str(TODAY - dt.timedelta(days=365)) < max(days) <= str(TODAY)
    finally:
        store.db.close()
    assert written.tally["registered_only"] + written.tally["received_only"] > 0


def test_same_seed_same_history(history: tuple[Any, Any], tmp_path: Path) -> None:
    settings, written = history
    again = make_settings(tmp_path / "again")
    other = generate(again, REPORTS, today=TODAY, seed=7, chunk=97, project=False, progress=_quiet)
    assert other.events == written.events
    assert events_of(again) == events_of(settings)
    different = make_settings(tmp_path / "different")
    generate(different, 50, today=TODAY, seed=8, project=False, progress=_quiet)
    assert events_of(different) != events_of(settings)[:50]


def test_refuses_stores_holding_events(history: tuple[Any, Any]) -> None:
    settings, _ = history
    with pytest.raises(StoresNotEmpty, match="not empty"):
        generate(settings, 10, today=TODAY, progress=_quiet)
    result = CliRunner().invoke(
        cli.app,
        ["demo", "--scale", "10", "--today", "2026-03-02", "--data", str(settings.data_dir)],
    )
    assert result.exit_code == 1
    assert "not empty" in result.output


def test_cli_writes_and_describes(tmp_path: Path) -> None:
    folder = tmp_path / "cli"
    result = CliRunner().invoke(
        cli.app, ["demo", "--scale", "30", "--today", "2026-03-02", "--data", str(folder)]
    )
    assert result.exit_code == 0, result.output
    assert "events written:" in result.output
    bad = CliRunner().invoke(cli.app, ["demo", "--scale", "3", "--today", "yesterday"])
    assert bad.exit_code != 0


def test_read_models_are_the_live_paths(history: tuple[Any, Any], tmp_path: Path) -> None:
    """The rebuilt read models equal those the live path (batches as a follower applies them)
    makes of the same logs."""
    settings, _ = history
    live = build_embedded(make_settings(tmp_path / "live"))
    try:
        apply_logs_live(settings, live.read.store, batch=37)
        generated = ReadStore(Database.for_service(settings, "projections"))
        try:
            assert_same(dump(live.read.store), dump(generated))
        finally:
            generated.db.close()
    finally:
        live.stop()


def test_the_system_starts_on_it(history: tuple[Any, Any]) -> None:
    """Casework's position in intake's log is recorded: it does not open the cases again."""
    settings, written = history
    system: EmbeddedSystem = build_embedded(settings, today=TODAY)
    try:
        before = system.casework.max_position()
        system.catch_up()
        assert system.casework.max_position() == before
        assert system.casework.position("intake") == system.intake.max_position()
        assert written.tally["accepted"] > 0
    finally:
        system.stop()


def test_statistics_counted_in_sql_are_the_facts_counts(history: tuple[Any, Any]) -> None:
    """The liaison figures counted by the database (GROUP BY) equal those counted from every
    report's facts in Python, for every dimension, over several ranges."""
    from schemas.glossary import LiaisonDimension
    from services.projections.liaison.queries import LiaisonQueries
    from services.projections.liaison.statistics import count_rows, rows_of

    settings, _ = history
    store = ReadStore(Database.for_service(settings, "projections"))
    try:
        queries = LiaisonQueries(store, today=lambda: TODAY)
        ranges = [
            (dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
            (dt.date(2025, 4, 1), dt.date(2025, 6, 30)),
            (TODAY - dt.timedelta(days=20), TODAY),
        ]
        for start, end in ranges:
            facts = queries.facts(start, end)
            assert queries.total(start, end) == len(facts) > 0
            for dimension in LiaisonDimension:
                counted = rows_of(
                    dimension, queries.counts(dimension, start, end), start=start, end=end
                )
                assert counted == count_rows(dimension, facts, start=start, end=end), dimension
    finally:
        store.db.close()


def test_the_business_clock_stamps_only_the_generating_thread() -> None:
    """While the generator records (``recording_on``), the events it makes are stamped by
    its business clock; another thread of the process (an application's follower, a test's
    server) still gets eventsourcing's own timestamps, and so does everyone afterwards."""
    clock = BusinessClock()
    clock.day = dt.date(2001, 2, 3)
    seen: dict[str, dt.datetime] = {}

    def elsewhere() -> None:
        seen["other thread"] = CanCreateTimestamp.create_timestamp()

    with recording_on(clock):
        seen["generator"] = CanCreateTimestamp.create_timestamp()
        other = threading.Thread(target=elsewhere)
        other.start()
        other.join()
    seen["after"] = CanCreateTimestamp.create_timestamp()
    assert seen["generator"].date() == dt.date(2001, 2, 3)
    assert seen["other thread"].year > 2001
    assert seen["after"].year > 2001
