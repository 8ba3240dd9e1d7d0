"""One rule for business dates: the China (Asia/Shanghai) date of the moment, or the date the
user states; never the host's local date nor the UTC date. The night shift in Beijing on a
UTC server is where the two differ: 01:30 in Beijing is 17:30 UTC the day before."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest
import time_machine

from schemas import commands as c
from schemas.events import EventEnvelope
from services.bootstrap import build_casework, build_intake, build_read_side
from services.common.china_time import (
    CHINA_TIME,
    SYSTEM_CLOCK,
    FixedClock,
    china_date,
    china_day_starts,
)
from services.common.settings import Settings
from services.intake.domain import case_id_for_report
from services.projections.archive import projection as archive
from services.projections.cases import projection as cases
from tests.unit.conftest import OPERATOR, real_name_submission

# 01:30 on New Year's Day in Beijing: still 2026 in UTC.
NIGHT_SHIFT = dt.datetime(2027, 1, 1, 1, 30, tzinfo=CHINA_TIME)


@pytest.fixture
def utc_host() -> Iterator[None]:
    """The host's time zone is UTC (as on most servers)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def test_the_system_clock_reads_china_time_on_a_utc_host(utc_host: None) -> None:
    with time_machine.travel(NIGHT_SHIFT, tick=False):
        assert dt.date.today() == dt.date(2026, 12, 31)  # the host's idea of today
        assert SYSTEM_CLOCK.today() == dt.date(2027, 1, 1)
        assert SYSTEM_CLOCK.now() == NIGHT_SHIFT
        assert SYSTEM_CLOCK.utc_now() == NIGHT_SHIFT.astimezone(dt.UTC)


def test_a_moment_falls_on_its_china_date() -> None:
    assert china_date(dt.datetime(2026, 12, 31, 17, 30, tzinfo=dt.UTC)) == dt.date(2027, 1, 1)
    assert china_date(dt.datetime(2026, 12, 31, 15, 59, tzinfo=dt.UTC)) == dt.date(2026, 12, 31)
    # Stored stamps without a zone are UTC.
    assert china_date(dt.datetime(2026, 12, 31, 16, 0)) == dt.date(2027, 1, 1)
    assert china_day_starts(dt.date(2027, 1, 1)) == "2026-12-31T16:00:00+00:00"


def test_a_fixed_clock_needs_a_zone_and_moves_only_when_told() -> None:
    with pytest.raises(ValueError, match="time zone"):
        FixedClock(dt.datetime(2027, 1, 1, 1, 30))
    clock = FixedClock(NIGHT_SHIFT.astimezone(dt.UTC))
    assert clock.today() == dt.date(2027, 1, 1)
    clock.advance(dt.timedelta(hours=23))
    assert clock.today() == dt.date(2027, 1, 2)


def test_a_report_taken_at_0130_beijing_time_on_a_utc_host_carries_that_day(
    settings: Settings, utc_host: None
) -> None:
    """Registered, numbered in that year's ledger and its deadline counted from that day,
    with the production wiring (the system clock, no injected today)."""
    with time_machine.travel(NIGHT_SHIFT, tick=False):
        intake = build_intake(settings)
        try:
            receipt = intake.submit(real_name_submission(received_on=None), actor=OPERATOR)
            report = intake.get_report(UUID(receipt.report_id))
        finally:
            intake.close()
    assert report.received_on == dt.date(2027, 1, 1)
    assert receipt.ledger_number.startswith("JB-2027-")
    assert report.acceptance_notice is not None
    # 15 working days from 2027-01-01 (a holiday), not from 2026-12-31.
    assert report.acceptance_notice["started_on"] == dt.date(2027, 1, 1)


def test_an_acceptance_and_its_case_are_dated_by_the_china_day(
    settings: Settings, utc_host: None
) -> None:
    with time_machine.travel(NIGHT_SHIFT, tick=False):
        intake = build_intake(settings)
        casework = build_casework(settings)
        try:
            receipt = intake.submit(
                real_name_submission(received_on=dt.date(2026, 12, 30)), actor=OPERATOR
            )
            report_id = UUID(receipt.report_id)
            if receipt.case_id is None:
                intake.triage(report_id, "accept", c.Accept(reason="属于受理范围"), OPERATOR)
            envelopes, _ = intake.read_envelopes(0, 100)
            for envelope in envelopes:
                casework.handle(envelope, upstream="intake")
            case = casework.get_case(case_id_for_report(report_id))
        finally:
            intake.close()
            casework.close()
    assert case.received_on == dt.date(2026, 12, 30)  # the day the user stated
    assert case.opened_on == dt.date(2027, 1, 1)  # the China day it was accepted


def _envelope(event_type: str, payload: dict[str, object], at: dt.datetime) -> EventEnvelope:
    return EventEnvelope(
        source="casework",
        position=1,
        event_id=uuid4(),
        event_type=event_type,
        version=1,
        aggregate_id=uuid4(),
        aggregate_version=2,
        occurred_at=at,
        payload=payload,
    )


def test_a_case_closed_by_disposition_before_the_day_was_recorded_closes_on_the_china_day() -> None:
    """Events stored before ``approved_on`` existed: the China date of their moment."""
    payload = {
        "actor": {"id": "leader-1", "role": "leader"},
        "reason": "予以了结",
        "disposition": "close",
        "collective_study": {"held_on": "2026-12-31", "participants": ["甲"]},
        "review_due": None,
    }
    at = dt.datetime(2026, 12, 31, 17, 30, tzinfo=dt.UTC)  # 01:30 on 1 January in Beijing
    archived = {u.table: u for u in archive.project(_envelope("DispositionApproved", payload, at))}
    assert archived["archive_cases"].values["closed_on"] == "2027-01-01"
    assert archived["archive_entries"].values["on_date"] == "2027-01-01"
    listed = {u.table: u for u in cases.project(_envelope("DispositionApproved", payload, at))}
    assert listed["case_list"].values["closed_on"] == "2027-01-01"

    # Recorded since: the day the leader approved, whenever it was entered.
    dated = payload | {"approved_on": "2026-12-28"}
    archived = {u.table: u for u in archive.project(_envelope("DispositionApproved", dated, at))}
    assert archived["archive_cases"].values["closed_on"] == "2026-12-28"
    assert archived["archive_entries"].values["on_date"] == "2026-12-28"


def test_the_read_side_counts_deadlines_from_the_china_day(
    settings: Settings, utc_host: None
) -> None:
    with time_machine.travel(NIGHT_SHIFT, tick=False):
        read = build_read_side(settings)
        try:
            assert read.queries.today() == dt.date(2027, 1, 1)
            assert read.cases.today() == dt.date(2027, 1, 1)
        finally:
            read.store.db.close()
