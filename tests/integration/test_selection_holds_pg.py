"""A report during a selection's notice holds its candidate, on PostgreSQL (issue 14, item 2):
the batched recorder stores the case, the cadre's candidacies and the hold in one
transaction; two applications (two connections) announcing and opening at the same moment
conflict on the candidacies, and the opening's batch is worked out again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.casework.application import CaseworkApplication
from services.casework.opening import CaseOpening
from services.common.process_recorders import BatchPostgresProcessRecorder
from services.common.settings import Settings
from services.intake.domain import case_id_for_report
from tests.integration.helpers import pg_settings
from tests.unit.conftest import all_envelopes
from tests.unit.test_selection_holds import C_A, accepted, build, held_events, run, selection_up_to

pytestmark = pytest.mark.integration

D = dt.date


@pytest.fixture
def settings(pg_dsn: str, tmp_path: Path) -> Settings:
    return pg_settings(pg_dsn, tmp_path)


@pytest.fixture
def casework(settings: Settings) -> Iterator[CaseworkApplication]:
    app = build(settings)
    try:
        yield app
    finally:
        app.close()


def test_a_batch_of_reports_holds_once_on_postgres(casework: CaseworkApplication) -> None:
    assert isinstance(casework.recorder, BatchPostgresProcessRecorder)
    selection_id = selection_up_to(casework, "record_inspection")
    during = accepted(D(2026, 3, 11), C_A, position=3)
    after = accepted(D(2026, 3, 14), C_A, position=4)

    assert casework.handle_batch([during, after], upstream="intake#p0") == 2
    assert casework.handle_batch([during, after], upstream="intake#p1") == 2  # redelivered

    selection = casework.get_selection(selection_id)
    assert selection.held_by == {
        "a": {during.aggregate_id: case_id_for_report(during.aggregate_id)}
    }
    assert len(held_events(casework)) == 1
    types = [e.event_type for e in all_envelopes(casework)]
    assert types.count("CaseOpened") == 2


def test_an_announcement_by_another_process_meanwhile_is_seen_on_the_retry(
    casework: CaseworkApplication, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = build(settings)  # the API process, on its own connection
    try:
        selection_id = selection_up_to(other, "announce_inspection")
        report = accepted(D(2026, 3, 10), C_A)
        record = CaseOpening._record
        saves: list[int] = []

        def announced_meanwhile(self: CaseOpening, processing: Any) -> Any:
            if self is casework:
                if not saves:
                    run(other, selection_id, "announce_inspection")
                saves.append(len(processing.events))
            return record(self, processing)

        monkeypatch.setattr(CaseOpening, "_record", announced_meanwhile)

        assert casework.handle(report, upstream="intake#p0") is True

        assert len(saves) == 2  # refused once (the candidacies' version), then saved
        assert other.get_selection(selection_id).holds == {"a": [report.aggregate_id]}
        types = [e.event_type for e in all_envelopes(casework)]
        assert types.count("CaseOpened") == 1
        assert types.count("CandidateHeld") == 1
    finally:
        other.close()
