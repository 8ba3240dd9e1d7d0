"""Projections: pure event -> rows mappings, applied idempotently and in any cross-source order."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

import pytest

from schemas.events import EventEnvelope
from schemas.submissions import ReportSubmission
from schemas.views import CadreRecord
from services.casework.application import CaseworkApplication
from services.common.sql import Database
from services.intake.application import IntakeApplication
from services.intake.domain import case_id_for_report
from services.projections.archive import projection as archive
from services.projections.archive.queries import ArchiveQueries, CadreNotFound
from services.projections.archive.register import CadreRegister, RegisterImportError
from services.projections.store import ReadStore
from services.projections.timeline import projection as timeline
from services.projections.timeline.queries import Queries
from tests.unit.conftest import (
    TODAY,
    all_envelopes,
    dump_tables,
    envelope,
    real_name_submission,
    submission,
)

READ_MODELS = [*timeline.tables, *archive.tables]
FINANCE = "某县财政局"


def run_pipeline(
    intake: IntakeApplication,
    casework: CaseworkApplication,
    submissions: Sequence[ReportSubmission],
) -> tuple[list[str], list[EventEnvelope], list[EventEnvelope]]:
    """Given: reports submitted to intake and handled by casework. Returns the report ids and
    both sources' published events."""
    report_ids = [intake.submit(s).report_id for s in submissions]
    intake_events = all_envelopes(intake)
    for event in intake_events:
        casework.handle(event, upstream="intake")
    return report_ids, intake_events, all_envelopes(casework)


def new_store(path: Path) -> ReadStore:
    return ReadStore(Database(sqlite_path=path))


@pytest.fixture
def events(
    intake: IntakeApplication, casework: CaseworkApplication
) -> tuple[list[EventEnvelope], list[EventEnvelope]]:
    _, intake_events, casework_events = run_pipeline(
        intake, casework, [real_name_submission(), submission(summary="第二件")]
    )
    return intake_events, casework_events


# -- pure functions ----------------------------------------------------------------------------


def test_projections_are_pure(events: tuple[list[EventEnvelope], list[EventEnvelope]]) -> None:
    for event in [*events[0], *events[1]]:
        copy = EventEnvelope.model_validate_json(event.model_dump_json())
        for projection in (timeline, archive):
            first = projection.project(event)
            assert first == projection.project(event)
            assert first == projection.project(copy)
        assert copy == event  # projecting changed nothing


def test_every_published_event_becomes_one_timeline_step(
    events: tuple[list[EventEnvelope], list[EventEnvelope]],
) -> None:
    for event in [*events[0], *events[1]]:
        steps = [row for row in timeline.project(event) if row.table == "timeline_steps"]
        assert len(steps) == 1
        assert steps[0].key == {"event_id": str(event.event_id)}
        assert steps[0].values["step"] == event.event_type


def test_the_archive_writes_only_the_columns_an_event_knows() -> None:
    case_id, report_id = UUID(int=1), UUID(int=2)
    opened = envelope(
        "CaseOpened",
        {
            "kind": "report",
            "report_id": str(report_id),
            "ledger_number": "JB-2026-000001",
            "channel": "hotline",
            "categories": ["seeking_office"],
            "subjects": [],
            "received_on": "2026-03-02",
            "reporter": None,
            "linked_case_id": None,
            "routing": None,
            "actor": {"id": "intake-policy", "role": "system"},
        },
        source="casework",
        aggregate_id=case_id,
    )

    (row,) = [r for r in archive.project(opened) if r.table == "archive_reports"]

    assert row.key == {"report_id": str(report_id)}
    assert set(row.values) == {"case_id", "case_opened_at"}


# -- the store ---------------------------------------------------------------------------------


def test_applying_a_batch_twice_changes_nothing(
    tmp_path: Path, events: tuple[list[EventEnvelope], list[EventEnvelope]]
) -> None:
    path = tmp_path / "read.sqlite"
    store = new_store(path)
    intake_events, casework_events = events

    assert store.apply(intake_events, consumer="c") == len(intake_events)
    assert store.apply(casework_events, consumer="c") == len(casework_events)
    once = dump_tables(path)

    assert store.apply(intake_events, consumer="c") == 0
    assert store.apply(casework_events, consumer="c") == 0
    assert dump_tables(path) == once
    assert store.position("c", "intake") == intake_events[-1].position
    assert store.position("c", "casework") == casework_events[-1].position


def test_a_replay_without_positions_converges_to_the_same_tables(
    tmp_path: Path, events: tuple[list[EventEnvelope], list[EventEnvelope]]
) -> None:
    path = tmp_path / "read.sqlite"
    store = new_store(path)
    for consumer in ("first", "second"):  # the second consumer has no positions yet
        store.apply(events[0], consumer=consumer)
        store.apply(events[1], consumer=consumer)
        if consumer == "first":
            once = dump_tables(path, READ_MODELS)

    assert dump_tables(path, READ_MODELS) == once


def test_a_partly_redelivered_batch_applies_only_the_new_events(
    tmp_path: Path, events: tuple[list[EventEnvelope], list[EventEnvelope]]
) -> None:
    store = new_store(tmp_path / "read.sqlite")
    intake_events = events[0]
    store.apply(intake_events[:3], consumer="c")

    assert store.apply(intake_events, consumer="c") == len(intake_events) - 3


@pytest.mark.parametrize(
    "order", ["casework first", "case opened before the report was received", "one by one"]
)
def test_cross_source_order_does_not_change_the_read_models(
    tmp_path: Path, events: tuple[list[EventEnvelope], list[EventEnvelope]], order: str
) -> None:
    intake_events, casework_events = events
    natural = new_store(tmp_path / "natural.sqlite")
    natural.apply(intake_events, consumer="c")
    natural.apply(casework_events, consumer="c")

    path = tmp_path / "other.sqlite"
    other = new_store(path)
    if order == "casework first":
        other.apply(casework_events, consumer="c")
        other.apply(intake_events, consumer="c")
    elif order == "case opened before the report was received":
        other.apply(casework_events[:1], consumer="c")
        other.apply(intake_events, consumer="c")
        other.apply(casework_events[1:], consumer="c")
    else:
        for event in [*casework_events, *intake_events]:
            other.apply([event], consumer="c")

    assert dump_tables(path, READ_MODELS) == dump_tables(tmp_path / "natural.sqlite", READ_MODELS)
    assert dump_tables(path, ["archive_reports"])["archive_reports"]  # not trivially empty


def test_an_event_of_an_unknown_type_is_skipped_and_passed(tmp_path: Path) -> None:
    path = tmp_path / "read.sqlite"
    store = new_store(path)

    assert store.apply([envelope("ReportTeleported", {}, position=4)], consumer="c") == 1

    assert store.position("c", "intake") == 4
    assert all(rows == [] for rows in dump_tables(path, READ_MODELS).values())


# -- the cadre register ------------------------------------------------------------------------


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cadres.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_bad_csv_names_each_line_and_field_and_imports_nothing(tmp_path: Path) -> None:
    register = CadreRegister(new_store(tmp_path / "read.sqlite"))
    path = write_csv(
        tmp_path,
        "cadre_id,name,unit,position,management_level\n"
        "C-001,王建国,某县财政局,局长,county_division_principal\n"
        "C-002,,某县教育局,局长,county_division_principal\n"
        "C-003,赵六,某县审计局,副局长,governor_for_life\n",
    )

    with pytest.raises(RegisterImportError) as refused:
        register.import_csv(path)

    message = str(refused.value)
    assert "nothing imported" in message
    assert "line 3, name" in message
    assert "line 4, management_level" in message
    assert "line 2" not in message
    assert register.get("C-001") is None  # the good line was not imported either


def test_a_csv_without_a_required_column_is_refused(tmp_path: Path) -> None:
    register = CadreRegister(new_store(tmp_path / "read.sqlite"))
    path = write_csv(tmp_path, "id,name\nC-001,王建国\n")

    with pytest.raises(RegisterImportError, match=r"missing column\(s\) cadre_id"):
        register.import_csv(path)


def test_a_good_csv_is_imported_and_reimported_as_updates(tmp_path: Path) -> None:
    register = CadreRegister(new_store(tmp_path / "read.sqlite"))
    header = "\ufeffcadre_id,name,unit,position,management_level\n"  # Excel's BOM is fine
    path = write_csv(tmp_path, header + "C-001,王建国,某县财政局,局长,\nC-002,李四,某县教育局,,\n")
    assert register.import_csv(path) == 2

    write_csv(tmp_path, header + "C-001,王建国,某县财政局,副县长,county_division_deputy\n")
    assert register.import_csv(path) == 1

    updated = register.get("C-001")
    assert updated is not None
    assert (updated.position, updated.management_level) == ("副县长", "county_division_deputy")
    assert [r.cadre_id for r in register.search("某县")] == ["C-002", "C-001"]  # by name


# -- the archive and the timeline, through the queries --------------------------------------


def test_the_archive_finds_reports_by_register_id_or_by_exact_name_and_unit(
    tmp_path: Path, intake: IntakeApplication, casework: CaseworkApplication
) -> None:
    store = new_store(tmp_path / "read.sqlite")
    register = CadreRegister(store)
    register.upsert([CadreRecord(cadre_id="C-001", name="王建国", unit=FINANCE, position="局长")])
    report_ids, intake_events, casework_events = run_pipeline(
        intake,
        casework,
        [
            submission(subjects=[{"name": "王建囯", "unit": FINANCE, "cadre_id": "C-001"}]),
            submission(subjects=[{"name": "王建国", "unit": FINANCE}]),
            submission(subjects=[{"name": "王建国", "unit": "某县教育局"}]),
            submission(subjects=[{"name": "王建国", "unit": FINANCE, "cadre_id": "C-002"}]),
            submission(
                subjects=[{"name": "李四", "unit": FINANCE}, {"name": "王建国", "unit": FINANCE}]
            ),
        ],
    )
    store.apply(intake_events, consumer="c")
    store.apply(casework_events, consumer="c")

    view = ArchiveQueries(store, register).archive("C-001")

    by_id = {item.report_id: item for item in view.items}
    assert set(by_id) == {report_ids[0], report_ids[1], report_ids[4]}
    assert by_id[report_ids[0]].named_as["name"] == "王建囯"  # as the report wrote it
    assert by_id[report_ids[4]].named_as["name"] == "王建国"
    for report_id, item in by_id.items():
        assert item.case_id == str(case_id_for_report(UUID(report_id)))
        assert item.case_opened_at is not None
        assert item.ledger_number is not None
        assert item.categories == ["seeking_office"]
    assert view.cadre.cadre_id == "C-001"


def test_the_archive_of_an_unregistered_cadre_is_not_found(tmp_path: Path) -> None:
    store = new_store(tmp_path / "read.sqlite")
    queries = ArchiveQueries(store, CadreRegister(store))

    with pytest.raises(CadreNotFound, match="no cadre 'C-404' in the register"):
        queries.archive("C-404")


def test_the_timeline_joins_a_case_and_its_reports(
    tmp_path: Path, intake: IntakeApplication, casework: CaseworkApplication
) -> None:
    store = new_store(tmp_path / "read.sqlite")
    queries = Queries(store, CadreRegister(store), today=lambda: TODAY)
    (report_id,), intake_events, casework_events = run_pipeline(
        intake, casework, [real_name_submission()]
    )
    case_id = str(case_id_for_report(UUID(report_id)))
    assert queries.timeline(case_id) is None

    store.apply(casework_events, consumer="c")  # casework's event arrives first
    store.apply(intake_events, consumer="c")
    view = queries.timeline(case_id)

    assert view is not None
    assert [s.step for s in view.steps] == [
        "ReportReceived",
        "ReportRegistered",
        "ReportAccepted",
        "CaseOpened",
    ]
    assert [s.step_zh for s in view.steps] == ["收到举报", "登记编号", "受理", "立件"]
    # The day each step happened, where the step says (a report received earlier, entered now).
    assert view.steps[0].on == TODAY  # intake's today: the submission named no day
    # Registration, acceptance and the opening of the case say the day they happened (they
    # also carry the day of receipt, which is not it).
    assert [s.on for s in view.steps[1:]] == [TODAY, TODAY, TODAY]
    assert [d.name for d in view.deadlines] == ["acceptance_notice"]
    assert view.deadlines[0].met_on is None
    assert view.deadlines[0].state == "running"
