"""Unit fixtures: real applications on SQLite files in ``tmp_path``; nothing else running."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from schemas import commands as c
from schemas.events import Actor, EventEnvelope
from schemas.glossary import Role
from schemas.submissions import ReportSubmission
from services.bootstrap import EmbeddedSystem
from services.casework.application import CaseworkApplication
from services.common.china_time import CHINA_TIME, FixedClock
from services.common.eventstore import eventstore_env
from services.common.settings import Settings
from services.common.sql import Database
from services.intake.application import IntakeApplication
from services.intake.base import IntakePolicy
from services.intake.vault import ReporterVault

TODAY = dt.date(2026, 3, 2)  # a Monday
YEAR = TODAY.year

# A real-name reporter whose identity must never leave intake's vault.
REPORTER_NAME = "举报人司马青云"
REPORTER_PHONE = "13912345678"
REPORTER_EMAIL = "qingyun@example.org"
REPORTER_ID_NUMBER = "110101199001011234"

OPERATOR = Actor(id="op-1", role=Role.OPERATOR)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for the embedded mode only, whatever the environment says."""
    fields: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": None,
        "intake_database_url": None,
        "casework_database_url": None,
        "projections_database_url": None,
        "secret_key": None,
    } | overrides
    return Settings(_env_file=None, **fields)  # type: ignore[call-arg]


def build_embedded(
    settings: Settings, today: dt.date = TODAY, clock: FixedClock | None = None
) -> EmbeddedSystem:
    """The embedded system on a clock standing on ``today`` (10:00 China time), or on the
    ``clock`` given: tests never depend on the day they run."""
    return EmbeddedSystem.build(settings, clock=clock or FixedClock.on(today))


def advance_to(system: EmbeddedSystem, day: dt.date) -> None:
    """Time moves on: the system's (fixed) clock stands on ``day``, 10:00 China time, unless it
    already stands later. For stories that state the days of their steps (a stated day may
    not be after today)."""
    clock = system.clock
    assert isinstance(clock, FixedClock), "advance_to needs a system built on a FixedClock"
    if clock.today() < day:
        clock.set(dt.datetime.combine(day, dt.time(10), CHINA_TIME))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def build_vault(settings: Settings) -> ReporterVault:
    return ReporterVault(
        Database.for_service(settings, "intake"),
        vault_key=settings.derived_key("reporter-vault"),
        follow_up_key=settings.derived_key("follow-up"),
    )


def build_intake_app(settings: Settings, *, auto_accept: bool = True) -> IntakeApplication:
    return IntakeApplication(
        eventstore_env(settings, "intake"),
        vault=build_vault(settings),
        policy=IntakePolicy(auto_accept=auto_accept),
        today=lambda: TODAY,
    )


@pytest.fixture
def intake(settings: Settings) -> Iterator[IntakeApplication]:
    app = build_intake_app(settings)
    yield app
    app.close()


@pytest.fixture
def intake_manual(settings: Settings) -> Iterator[IntakeApplication]:
    """Intake whose policy leaves every report registered, waiting for an operator."""
    app = build_intake_app(settings, auto_accept=False)
    yield app
    app.close()


@pytest.fixture
def casework(settings: Settings) -> Iterator[CaseworkApplication]:
    app = CaseworkApplication(eventstore_env(settings, "casework"), today=lambda: TODAY)
    yield app
    app.close()


# -- submissions ------------------------------------------------------------------------------


def submission(**overrides: Any) -> ReportSubmission:
    """A valid anonymous hotline report about one cadre; fields may be overridden."""
    data: dict[str, Any] = {
        "channel": "hotline",
        "reporter": {"anonymous": True},
        "subjects": [{"name": "王建国", "unit": "某县财政局", "position": "局长"}],
        "categories": ["seeking_office"],
        "summary": "反映王建国在干部调整前多次找领导要求提拔。",
    } | overrides
    return ReportSubmission.model_validate(data)


def real_name_reporter() -> dict[str, Any]:
    return {
        "anonymous": False,
        "name": REPORTER_NAME,
        "phone": REPORTER_PHONE,
        "email": REPORTER_EMAIL,
        "id_number": REPORTER_ID_NUMBER,
    }


def real_name_submission(**overrides: Any) -> ReportSubmission:
    return submission(reporter=real_name_reporter(), **overrides)


def all_envelopes(app: Any) -> list[EventEnvelope]:
    envelopes, _ = app.read_envelopes(0, 1_000_000)
    return list(envelopes)


def max_id(app: Any) -> int:
    return int(app.recorder.max_notification_id() or 0)


def envelope(
    event_type: str,
    payload: dict[str, Any],
    *,
    source: str = "intake",
    position: int = 1,
    aggregate_id: UUID | None = None,
    aggregate_version: int = 1,
    version: int = 1,
) -> EventEnvelope:
    """A hand-made envelope of the public contract."""
    return EventEnvelope.model_validate(
        {
            "source": source,
            "position": position,
            "event_id": uuid4(),
            "event_type": event_type,
            "version": version,
            "aggregate_id": aggregate_id or uuid4(),
            "aggregate_version": aggregate_version,
            "occurred_at": dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC),
            "payload": payload,
        }
    )


def dump_tables(path: Path, tables: list[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (or of ``tables``) of a SQLite file, in a stable order."""
    with sqlite3.connect(path) as conn:
        names = tables or [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            name: sorted(
                (tuple(row) for row in conn.execute(f"SELECT * FROM {name}")),
                key=repr,
            )
            for name in names
        }


def stand_in_handlers(system: Any) -> Any:
    """These stories assign handlers by made-up usernames (handler-1, h-1 …) and are not about
    who may be assigned: casework asks this stand-in directory, which knows every ``handler…``
    (or ``h-…``) username as an active handler (the real check: tests/unit/test_per_cadre.py)."""
    system.casework.is_handler = lambda username: username.startswith(("handler", "h-"))
    return system


def receiver_result(
    intake: IntakeApplication,
    report_id: Any,
    model: type[c.ReceiverResult] = c.RecordReferralResult,
    verdict: str = "untrue",
    **fields: Any,
) -> Any:
    """A receiver's result (办理结果) with the same verdict for every cadre the report names."""
    subjects = intake.get_report(UUID(str(report_id))).subjects
    outcomes = [
        {"cadre": {"name": s["name"], "unit": s.get("unit", "")}, "verdict": verdict}
        for s in subjects
    ]
    return model.model_validate({"outcomes": outcomes, "document_number": "〔2026〕1号", **fields})
