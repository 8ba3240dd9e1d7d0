"""Demo data (``jiandu up --demo-data``): idempotent, varied; reporters stay in the vault."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from schemas.glossary import Channel
from schemas.submissions import RealNameReporter
from services.bootstrap import EmbeddedSystem
from services.demo import REPORT_COUNT, SUMMARY_MAX, demo_reports, read_register, seed
from tests.unit.conftest import make_settings


@dataclass
class Seeded:
    system: EmbeddedSystem
    data_dir: Path
    first: dict[str, int]
    second: dict[str, int]
    positions_after_first: tuple[int, int]
    positions_after_second: tuple[int, int]


def positions(system: EmbeddedSystem) -> tuple[int, int]:
    return system.intake.max_position(), system.casework.max_position()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    data_dir = tmp_path_factory.mktemp("demo")
    system = EmbeddedSystem.build(make_settings(data_dir))
    first = seed(system)
    after_first = positions(system)
    second = seed(system)
    yield Seeded(system, data_dir, first, second, after_first, positions(system))
    system.stop()


def test_seeding_twice_adds_nothing(seeded: Seeded) -> None:
    assert seeded.first["reports"] == REPORT_COUNT
    assert seeded.first["reports_added"] == REPORT_COUNT
    assert seeded.first["intake_events_added"] > REPORT_COUNT
    assert seeded.first["casework_events_added"] > 0

    assert seeded.second["reports_added"] == 0
    assert seeded.second["intake_events_added"] == 0
    assert seeded.second["casework_events_added"] == 0
    assert seeded.positions_after_second == seeded.positions_after_first
    stable = ("cadres", "reports", "real_name", "sealed")
    assert {k: seeded.second[k] for k in stable} == {k: seeded.first[k] for k in stable}


def test_the_register_is_upserted_not_duplicated(seeded: Seeded) -> None:
    rows = seeded.system.read.store.query("SELECT COUNT(*) AS n FROM cadres")
    assert rows[0]["n"] == seeded.first["cadres"] == len(read_register())
    assert seeded.system.read.register.search("交通")


def test_every_report_is_projected_once_and_every_channel_appears(seeded: Seeded) -> None:
    store = seeded.system.read.store
    assert store.query("SELECT COUNT(*) AS n FROM archive_reports")[0]["n"] == REPORT_COUNT
    channels = {r["channel"] for r in store.query("SELECT DISTINCT channel FROM archive_reports")}
    assert channels == {c.value for c in Channel}
    for channel in Channel:
        assert seeded.first[f"channel:{channel.value}"] > 0
    assert seeded.first["channel:hotline"] > seeded.first["channel:letter"]


def test_a_registered_cadre_has_an_archive_with_several_items(seeded: Seeded) -> None:
    queries = seeded.system.read.queries
    archives = [queries.archive(cadre.cadre_id) for cadre in read_register()]
    busiest = max(archives, key=lambda a: len(a.items))
    assert len(busiest.items) >= 3
    assert all(item.ledger_number for item in busiest.items)
    # Reports naming a cadre by name and unit only reach the archive too.
    named_only = [i for a in archives for i in a.items if not i.named_as["cadre_id"]]
    assert named_only


def test_some_reports_name_people_outside_the_register(seeded: Seeded) -> None:
    registered = {(c.name, c.unit) for c in read_register()}
    subjects = seeded.system.read.store.query("SELECT name, unit FROM archive_subjects")
    assert any((s["name"], s["unit"]) not in registered for s in subjects)


def test_reports_are_deterministic_and_well_formed() -> None:
    cadres = read_register()
    reports = demo_reports(cadres)
    again = demo_reports(cadres)
    assert [(r.key, r.submission) for r in reports] == [(r.key, r.submission) for r in again]
    assert len({r.key for r in reports}) == REPORT_COUNT
    for report in reports:
        submission = report.submission
        assert 1 <= len(submission.categories) <= 3
        assert len(submission.summary) <= SUMMARY_MAX
        assert submission.received_on is not None
        assert "{" not in submission.summary
        assert (submission.referral is not None) == (submission.channel is Channel.REFERRAL)


def test_real_name_reporters_stay_in_the_vault(seeded: Seeded) -> None:
    reports = demo_reports(read_register())
    reporters = [
        r.submission.reporter
        for r in reports
        if isinstance(r.submission.reporter, RealNameReporter)
    ]
    assert reporters
    assert seeded.first["real_name"] == len(reporters)
    secrets = {reporter.name for reporter in reporters} | {r.phone for r in reporters if r.phone}
    # The check below means something only if no report's content mentions a reporter.
    content = "".join(
        r.submission.summary + "".join(s.model_dump_json() for s in r.submission.subjects)
        for r in reports
    )
    assert not [s for s in secrets if s in content]

    files = sorted(seeded.data_dir.glob("*.sqlite*"))
    names = {f.name for f in files}
    assert {"projections.sqlite", "casework.sqlite", "intake.sqlite"} <= names
    # A positive control: the byte search finds what is there (a cadre's name, in UTF-8).
    # Recent pages are still in the write-ahead log, hence every file of each database.
    projections = b"".join(f.read_bytes() for f in files if f.name.startswith("projections"))
    assert read_register()[0].name.encode() in projections
    for file in files:
        data = file.read_bytes()
        leaked = [s for s in secrets if s.encode() in data]
        assert not leaked, f"{file.name} holds reporter identity: {leaked[:3]}"
