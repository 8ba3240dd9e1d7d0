"""Settled items and the join guard on PostgreSQL (issue 10, items 4 and 9): the read models
built there from the same events answer as on SQLite, and the distributed intake's case
lookup reads the case list there."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from schemas import commands as c
from schemas.events import Actor
from schemas.glossary import CaseState, Role
from schemas.views_archive import IntegrityRequest
from services.bootstrap import build_intake, case_states_from_read_models
from services.common.sql import Database
from services.demo.register import REGISTER_CSV
from services.demo.steps import DEMO_TODAY
from services.demo.stories.settling import seed_settled_items
from services.intake.domain import IntakeRuleBroken
from services.projections.archive.integrity import IntegrityReplies
from services.projections.archive.queries import ArchiveQueries
from services.projections.archive.register import CadreRegister
from services.projections.cases.queries import CaseQueries
from services.projections.cases.rows import SqlReader
from services.projections.store import ReadStore
from tests.integration.helpers import pg_settings
from tests.unit.conftest import (
    all_envelopes,
    build_embedded,
    make_settings,
    stand_in_handlers,
    submission,
)

pytestmark = pytest.mark.integration

CADRES = ["QS-0012", "QS-0013", "QS-0024", "QS-0051", "QS-0037"]


def test_settled_items_answer_on_postgres_as_on_sqlite(pg_dsn: str, tmp_path: Path) -> None:
    system = stand_in_handlers(build_embedded(make_settings(tmp_path), DEMO_TODAY))
    try:
        system.read.register.import_csv(REGISTER_CSV)
        seed_settled_items(system)
        events = [*all_envelopes(system.intake), *all_envelopes(system.casework)]
        lite_replies = IntegrityReplies(ArchiveQueries(system.read.store, system.read.register))
        lite_queues = CaseQueries(system.read.store, system.config, today=lambda: DEMO_TODAY)

        db = Database(postgres_url=pg_dsn, schema="projections")
        try:
            store = ReadStore(db)
            register = CadreRegister(store)
            register.import_csv(REGISTER_CSV)
            store.apply(events, consumer="pg")
            pg_replies = IntegrityReplies(ArchiveQueries(store, register))
            pg_queues = CaseQueries(SqlReader(db), system.config, today=lambda: DEMO_TODAY)

            for as_of in (dt.date(2026, 7, 1), DEMO_TODAY, dt.date(2028, 6, 1)):
                request = IntegrityRequest(cadre_ids=CADRES, as_of=as_of)
                assert pg_replies.reply(request) == lite_replies.reply(request), as_of
            settled = pg_replies.reply(IntegrityRequest(cadre_ids=CADRES, as_of=DEMO_TODAY))
            assert settled.cadres[0].stands_in_the_way  # demoted, and a party warning
            assert not settled.cadres[1].stands_in_the_way  # 不属实
            assert pg_queues.overdue() == lite_queues.overdue()
            assert "discipline_report_back" in {i.clock.name for i in pg_queues.overdue()}
            assert pg_queues.mine("handler") == lite_queues.mine("handler")
        finally:
            db.close()
    finally:
        system.stop()


def test_the_distributed_join_lookup_reads_the_case_list_on_postgres(
    pg_dsn: str, tmp_path: Path
) -> None:
    system = stand_in_handlers(build_embedded(pg_settings(pg_dsn, tmp_path), DEMO_TODAY))
    operator = Actor(id="op-1", role=Role.OPERATOR)
    try:
        seed_settled_items(system)
        lookup = case_states_from_read_models(system.settings)
        states = {
            UUID(r["case_id"]): r["state"]
            for r in system.read.store.query("SELECT case_id, state FROM case_list")
        }
        assert sorted(states.values()) == [CaseState.TRANSFERRED.value] * 2
        transferred = next(iter(states))
        assert lookup(transferred) is CaseState.TRANSFERRED
        assert lookup(uuid4()) is None
        # The intake as the distributed processes build it refuses joining a transferred case.
        intake = build_intake(system.settings, system.config)
        try:
            report_id = UUID(intake.submit(submission()).report_id)
            with pytest.raises(IntakeRuleBroken, match="a report joins an open case only"):
                intake.triage(report_id, "accept", c.Accept(join_case_id=transferred), operator)
        finally:
            intake.close()
    finally:
        system.stop()
