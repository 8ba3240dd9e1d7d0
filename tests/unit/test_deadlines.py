"""Working-day deadlines (services/calendar/deadlines.py, decision record 0007).

Expected dates are derived by hand in the comments; chinese_calendar 1.11 is the source
of truth for 2025/2026 (checked day by day in test_official_years_follow_chinese_calendar).
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.calendar.deadlines import (
    Basis,
    DeadlineState,
    OfficialSchedule,
    TimeLimits,
    WorkingDayCalendar,
    add_calendar_months,
    deadline_state,
)
from services.common.config import ConfigStore
from services.common.sql import Database

CAL = WorkingDayCalendar()


def d(iso: str) -> date:
    return date.fromisoformat(iso)


def days(first: str, last: str) -> list[date]:
    a, b = d(first), d(last)
    return [a + timedelta(i) for i in range((b - a).days + 1)]


# A made-up 2027 schedule for tests only (NOT the State Council's notice, unknown here):
# New Year Jan 1-3 off; Spring Festival Feb 5 (Fri) - Feb 13 (Sat) off; make-up workdays
# Sun Jan 31 and Sat Feb 20.
TEST_2027 = OfficialSchedule(
    year=2027,
    holidays=[*days("2027-01-01", "2027-01-03"), *days("2027-02-05", "2027-02-13")],
    makeup_workdays=[d("2027-01-31"), d("2027-02-20")],
    source="测试用安排（非官方）",
)


# --- the package facts this module relies on -------------------------------------------


def test_official_years_follow_chinese_calendar() -> None:
    for day in days("2025-01-01", "2026-12-31"):
        assert CAL.is_workday(day) == chinese_calendar.is_workday(day), day
    assert CAL.basis(2025) is Basis.OFFICIAL
    assert CAL.basis(2026) is Basis.OFFICIAL


def test_chinese_calendar_does_not_know_2027_and_we_do_not_fail() -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(d("2027-01-04"))
    assert CAL.basis(2027) is Basis.PROJECTED
    assert CAL.is_workday(d("2027-01-04"))  # Monday


def test_2027_projection_from_holidays_package() -> None:
    # holidays 0.109: New Year Fri Jan 1; Spring Festival eve Fri Feb 5, Feb 6-8, and
    # Feb 9-10 observed for the two days that fall on the weekend; no make-up workdays.
    assert not CAL.is_workday(d("2027-01-01"))
    assert [CAL.is_workday(x) for x in days("2027-02-04", "2027-02-11")] == [
        True,  # Thu Feb 4
        False,  # Fri Feb 5 除夕
        False,  # Sat
        False,  # Sun
        False,  # Mon Feb 8
        False,  # Tue Feb 9 observed
        False,  # Wed Feb 10 observed
        True,  # Thu Feb 11
    ]
    assert not any(CAL.is_workday(x) for x in days("2027-01-01", "2027-12-31") if x.weekday() >= 5)


def test_beyond_every_package_is_weekends_only() -> None:
    assert CAL.basis(2101) is Basis.WEEKENDS_ONLY
    due = CAL.add_working_days(d("2101-01-03"), 5)  # Mon Jan 3 2101 not counted
    assert due.due == d("2101-01-10")  # Tue 4 .. Fri 7, Mon 10
    assert due.provisional
    assert "仅按周末计算" in due.note


# --- Spring Festival 2026: off Feb 15 (Sun) - Feb 23 (Mon); make-up Sat Feb 14, Sat Feb 28


def test_spring_festival_2026_days() -> None:
    assert CAL.is_workday(d("2026-02-14"))  # Saturday, make-up workday
    assert not any(CAL.is_workday(x) for x in days("2026-02-15", "2026-02-23"))
    assert CAL.is_workday(d("2026-02-24"))
    assert CAL.is_workday(d("2026-02-28"))  # Saturday, make-up workday
    assert not CAL.is_workday(d("2026-03-01"))


def test_spring_festival_2026_five_days() -> None:
    # Received Thu Feb 12 (not counted): Fri 13 (1), Sat 14 make-up (2), holiday,
    # Tue 24 (3), Wed 25 (4), Thu 26 (5).
    due = CAL.add_working_days(d("2026-02-12"), 5)
    assert due.due == d("2026-02-26")
    assert not due.provisional
    assert due.bases == ((2026, Basis.OFFICIAL),)


def test_spring_festival_2026_fifteen_days() -> None:
    # Received Fri Feb 13: Sat 14 (1), Tue 24 - Fri 27 (2-5), Sat 28 make-up (6),
    # Mon Mar 2 - Fri 6 (7-11), Mon 9 - Thu 12 (12-15). Weekdays alone would say Mar 6.
    assert CAL.add_working_days(d("2026-02-13"), 15).due == d("2026-03-12")
    assert CAL.working_days_between(d("2026-02-13"), d("2026-02-24")) == 2
    assert CAL.working_days_between(d("2026-02-24"), d("2026-02-13")) == -2


# --- National Day 2025: off Oct 1-8; make-up Sun Sep 28 and Sat Oct 11 ------------------


def test_national_day_2025() -> None:
    assert CAL.is_workday(d("2025-09-28"))
    assert not any(CAL.is_workday(x) for x in days("2025-10-01", "2025-10-08"))
    assert CAL.is_workday(d("2025-10-11"))
    # Fri Sep 26: Sun 28 (1), Mon 29 (2), Tue 30 (3), Thu Oct 9 (4), Fri 10 (5).
    assert CAL.add_working_days(d("2025-09-26"), 5).due == d("2025-10-10")
    # ... then Sat 11 (6), Oct 13-17 (7-11), Oct 20-23 (12-15).
    assert CAL.add_working_days(d("2025-09-26"), 15).due == d("2025-10-23")
    # Tue Sep 30: the next working day is Thu Oct 9.
    assert CAL.add_working_days(d("2025-09-30"), 1).due == d("2025-10-09")
    # Thu Oct 9: Fri 10 (1), Sat 11 make-up (2), Mon 13 (3).
    assert CAL.add_working_days(d("2025-10-09"), 3).due == d("2025-10-13")


def test_zero_days_is_the_start() -> None:
    assert CAL.add_working_days(d("2026-02-15"), 0).due == d("2026-02-15")
    with pytest.raises(ValueError, match="n must be"):
        CAL.add_working_days(d("2026-02-15"), -1)


# --- crossing into 2027 ---------------------------------------------------------------


def test_deadline_into_2027_is_provisional() -> None:
    # Sun Dec 20 2026: Dec 21-25 (1-5), Dec 28-31 (6-9), Fri Jan 1 2027 holiday by rule,
    # Jan 4-8 (10-14), Mon Jan 11 (15).
    due = CAL.add_working_days(d("2026-12-20"), 15)
    assert due.due == d("2027-01-11")
    assert due.provisional
    assert due.bases == ((2026, Basis.OFFICIAL), (2027, Basis.PROJECTED))
    assert due.provisional_years == (2027,)
    assert "2027年按节假日规则推算，调休未公布，日期为暂定" in due.note


def test_loading_2027_makes_it_firm_and_can_move_the_date() -> None:
    loaded = CAL.with_schedule(TEST_2027)
    assert loaded.basis(2027) is Basis.LOADED
    assert CAL.basis(2027) is Basis.PROJECTED  # the original calendar is unchanged
    # 15 days: Jan 1-3 are off in both, so the date stays Mon Jan 11, now firm.
    firm = loaded.add_working_days(d("2026-12-20"), 15)
    assert firm.due == d("2027-01-11")
    assert not firm.provisional
    assert firm.bases == ((2026, Basis.OFFICIAL), (2027, Basis.LOADED))
    assert "测试用安排" in firm.note
    # 40 days: projected: Jan 12-29 (16-29), Feb 1-4 (30-33), Feb 11-12 (34-35),
    # Feb 15-19 (36-40) -> Fri Feb 19.  Loaded: make-up Sun Jan 31 is day 30, Feb 1-4
    # (31-34), off until Sat Feb 13, Sun 14 off, Feb 15-19 (35-39), make-up Sat Feb 20 (40).
    assert CAL.add_working_days(d("2026-12-20"), 40).due == d("2027-02-19")
    assert loaded.add_working_days(d("2026-12-20"), 40).due == d("2027-02-20")


def test_loaded_schedule_wins_over_the_package() -> None:
    # An administrator may correct even a year the package knows.
    fix = OfficialSchedule(year=2026, holidays=[d("2026-03-02")], makeup_workdays=[], source="更正")
    cal = WorkingDayCalendar({2026: fix})
    assert cal.basis(2026) is Basis.LOADED
    assert not cal.is_workday(d("2026-03-02"))
    # A loaded schedule replaces the year whole (it must be the complete notice): the
    # package's Spring Festival is gone, so Mon Feb 16 is a plain workday here.
    assert cal.is_workday(d("2026-02-16"))


def test_schedule_key_must_match_year() -> None:
    with pytest.raises(ValueError, match="filed under"):
        WorkingDayCalendar({2026: TEST_2027})


@pytest.mark.parametrize(
    ("holidays", "makeup", "message"),
    [
        ([d("2026-12-31")], [], "outside 2027"),
        ([d("2027-01-30")], [d("2027-01-30")], "both holiday and make-up"),
        ([], [d("2027-01-29")], "must be weekends"),  # a Friday
    ],
)
def test_official_schedule_validation(
    holidays: list[date], makeup: list[date], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        OfficialSchedule(year=2027, holidays=holidays, makeup_workdays=makeup, source="x")


def test_official_schedule_is_frozen() -> None:
    with pytest.raises(ValidationError):
        TEST_2027.year = 2028  # type: ignore[misc]


# --- states --------------------------------------------------------------------------

DUE = d("2026-03-12")  # Thu


@pytest.mark.parametrize(
    ("today", "met_on", "expected"),
    [
        ("2026-03-02", None, DeadlineState.RUNNING),  # 8 working days left (Mar 3-6, 9-12)
        ("2026-03-06", None, DeadlineState.RUNNING),  # 4 left (Mar 9-12)
        ("2026-03-09", None, DeadlineState.DUE_SOON),  # 3 left (Mar 10-12)
        ("2026-03-12", None, DeadlineState.DUE_SOON),  # due today
        ("2026-03-13", None, DeadlineState.OVERDUE),
        ("2026-03-20", "2026-03-11", DeadlineState.MET),
        ("2026-03-12", "2026-03-12", DeadlineState.MET),  # met on the due day
        ("2026-03-20", "2026-03-13", DeadlineState.MET_LATE),
        ("2026-03-12", "2026-03-13", DeadlineState.DUE_SOON),  # met later: not yet, as of today
        ("2026-03-16", "2026-03-20", DeadlineState.OVERDUE),  # as of Mar 16, still open
    ],
)
def test_deadline_state(today: str, met_on: str | None, expected: DeadlineState) -> None:
    met = d(met_on) if met_on else None
    assert deadline_state(DUE, d(today), met, CAL) is expected


def test_due_soon_counts_working_days_across_the_holiday() -> None:
    due = d("2026-02-26")
    # From Fri Feb 13, 13 calendar days but 4 working days remain (Feb 14, 24, 25, 26).
    assert deadline_state(due, d("2026-02-13"), None, CAL) is DeadlineState.RUNNING
    # From Sat Feb 14 (make-up), 3 remain.
    assert deadline_state(due, d("2026-02-14"), None, CAL) is DeadlineState.DUE_SOON
    assert deadline_state(due, d("2026-02-13"), None, CAL, due_soon_working_days=4) is (
        DeadlineState.DUE_SOON
    )


def test_state_labels() -> None:
    assert DeadlineState.labels() == {
        "running": "进行中",
        "due_soon": "即将到期",
        "overdue": "已逾期",
        "met": "按期完成",
        "met_late": "逾期完成",
    }
    assert Basis.WEEKENDS_ONLY.value == "weekends-only"


# --- configuration --------------------------------------------------------------------


def test_time_limits_defaults_and_override() -> None:
    limits = TimeLimits()
    assert limits.model_dump() == {
        "forward_up": 5,
        "transfer_down_acceptance": 5,
        "acceptance_notice": 15,
        "inquiry_reply": 15,
        "feedback_after_closure": 15,
        "due_soon_threshold": 3,
        "publicity_defer_max_months": 3,
        "admonition_follow_up_months": 6,
        "suspension_max_months": 6,
        "parked_review_months": 3,
        "referral_report_back_months": 3,
        "received_on_backdate_max_days": 90,
        "objection_answer": 15,
        "transfer_down_report_back": 60,
        "discipline_report_back": 90,
        "project_plan": 5,
        "project_conclusion": 30,
        "project_report_back": 10,
    }
    assert TimeLimits(inquiry_reply=10).inquiry_reply == 10
    with pytest.raises(ValidationError):
        TimeLimits(forward_up=0)
    with pytest.raises(ValidationError):
        TimeLimits(unknown=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        limits.forward_up = 7  # type: ignore[misc]


def test_add_calendar_months() -> None:
    assert add_calendar_months(d("2026-01-31"), 1) == d("2026-02-28")
    assert add_calendar_months(d("2026-08-31"), 6) == d("2027-02-28")
    assert add_calendar_months(d("2027-11-30"), 3) == d("2028-02-29")
    assert add_calendar_months(d("2026-10-15"), 3) == d("2027-01-15")


# --- properties and speed -------------------------------------------------------------

starts = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))


@settings(max_examples=300, deadline=None)
@given(start=starts, n=st.integers(min_value=1, max_value=300), k=st.integers(1, 40))
def test_add_working_days_properties(start: date, n: int, k: int) -> None:
    result = CAL.add_working_days(start, n)
    assert result.due > start
    assert CAL.is_workday(result.due)
    assert CAL.working_days_between(start, result.due) == n
    assert CAL.add_working_days(start, n + k).due > result.due
    assert result.provisional == (result.due.year >= 2027)
    # the day before the due date leaves exactly one working day to go
    assert CAL.working_days_between(start, result.due - timedelta(days=1)) == n - 1


def test_fifteen_working_days_takes_microseconds() -> None:
    cal = WorkingDayCalendar()
    cal.add_working_days(d("2026-12-20"), 15)  # build and cache 2026 and 2027
    rounds = 10_000
    began = time.perf_counter()
    for _ in range(rounds):
        cal.add_working_days(d("2026-12-20"), 15)
    per_call = (time.perf_counter() - began) / rounds
    assert per_call < 50e-6, f"{per_call * 1e6:.1f} µs per call"


def test_each_change_of_the_configuration_is_recorded_with_who_and_what(tmp_path: Path) -> None:
    store = ConfigStore(Database(sqlite_path=tmp_path / "config.sqlite"))
    store.set_table("time_limits", {"inquiry_reply": 10}, changed_by="admin-1")
    store.set_table("time_limits", {"inquiry_reply": 12}, changed_by="admin-2")
    with pytest.raises(ValidationError):
        store.set_table("time_limits", {"inquiry_reply": 0}, changed_by="admin-3")
    with pytest.raises(ValueError, match="say who"):
        store.set_table("time_limits", {"inquiry_reply": 9}, changed_by=" ")

    latest, first = store.changes()
    assert (first.changed_by, latest.changed_by) == ("admin-1", "admin-2")
    assert first.before is None
    assert latest.differences() == ["inquiry_reply: 10 → 12"]
    assert store.limits().inquiry_reply == 12  # the refused changes stored nothing
