"""Deadlines in working days of the Chinese official calendar (domain.md, "Deadlines").

Part of ``services.calendar``, the one home of the calendar and the time limits that intake,
casework and the projections all use (decision record 0028).

Pure: no I/O and no clock; ``today`` is always an argument. Where each year's calendar
comes from, in order (decision record 0007):

- ``loaded``: an official schedule an administrator loaded into the configuration;
- ``official``: the schedule ``chinese_calendar`` ships (2004-2026 in 1.11);
- ``projected``: the ``holidays`` package's rules for China (statutory holidays and their
  observed days; make-up workdays only where the package lists them, none for 2027);
- ``weekends-only``: nothing is known, Monday-Friday are workdays.

A deadline touching a projected or weekends-only year is *provisional* and says so in
its note; loading the year's schedule and recomputing makes it firm. Nothing here fails
for a year a package does not know, and nothing is guessed silently.
"""

from __future__ import annotations

import calendar as _gregorian
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from types import MappingProxyType
from typing import Any

import chinese_calendar
from holidays.countries.china import China
from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, model_validator

from schemas.glossary import GlossaryEnum


class Basis(GlossaryEnum):
    """What a year's working-day calendar rests on."""

    LOADED = "loaded", "已载入的官方安排"
    OFFICIAL = "official", "官方安排"
    PROJECTED = "projected", "按规则推算"
    WEEKENDS_ONLY = "weekends-only", "仅按周末"


FIRM_BASES: frozenset[Basis] = frozenset({Basis.LOADED, Basis.OFFICIAL})


class DeadlineState(GlossaryEnum):
    RUNNING = "running", "进行中"
    DUE_SOON = "due_soon", "即将到期"
    OVERDUE = "overdue", "已逾期"
    MET = "met", "按期完成"
    MET_LATE = "met_late", "逾期完成"


class OfficialSchedule(BaseModel):
    """A year's official schedule (国务院办公厅关于某年部分节假日安排的通知), as loaded by an
    administrator: the days off (weekends inside a holiday may be listed or not) and the
    make-up workdays (调休上班), which are always Saturdays or Sundays."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(ge=1950, le=9998)
    holidays: list[date]
    makeup_workdays: list[date]
    source: str = Field(min_length=1, description="e.g. 国办发明电〔2026〕N号")

    @model_validator(mode="after")
    def _consistent(self) -> OfficialSchedule:
        outside = sorted(d for d in (*self.holidays, *self.makeup_workdays) if d.year != self.year)
        if outside:
            raise ValueError(f"dates outside {self.year}: {[str(d) for d in outside]}")
        both = sorted(set(self.holidays) & set(self.makeup_workdays))
        if both:
            raise ValueError(f"dates both holiday and make-up workday: {[str(d) for d in both]}")
        weekdays = sorted(d for d in self.makeup_workdays if d.weekday() < 5)
        if weekdays:
            raise ValueError(f"make-up workdays must be weekends: {[str(d) for d in weekdays]}")
        return self


@dataclass(frozen=True, slots=True)
class DueDate:
    """A computed due date. ``bases`` holds ``(year, basis)`` for every year examined."""

    due: date
    provisional: bool
    bases: tuple[tuple[int, Basis], ...]
    note: str

    @property
    def provisional_years(self) -> tuple[int, ...]:
        """The years whose official schedule, once loaded, would make this firm."""
        return tuple(y for y, b in self.bases if b not in FIRM_BASES)


@dataclass(frozen=True, slots=True)
class _Year:
    basis: Basis
    workdays: tuple[int, ...]  # sorted ordinals
    workday_set: frozenset[int]
    note: str


def _ordinals(year: int) -> range:
    return range(date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal())


def _workdays(year: int, off: frozenset[date], on: frozenset[date]) -> tuple[int, ...]:
    days = (date.fromordinal(o) for o in _ordinals(year))
    return tuple(d.toordinal() for d in days if d in on or (d.weekday() < 5 and d not in off))


@cache
def _official(year: int) -> tuple[int, ...] | None:
    """Workdays from chinese_calendar, or None if it does not know the year."""
    try:
        return tuple(o for o in _ordinals(year) if chinese_calendar.is_workday(date.fromordinal(o)))
    except NotImplementedError:  # "no available data for year 2027"
        return None


@cache
def _projected(year: int) -> tuple[int, ...] | None:
    """Workdays from the holidays package's rules for China, or None outside its range."""
    if not China.start_year <= year <= China.end_year:
        return None
    cn = China(years=year)  # type: ignore[no-untyped-call]  # holidays leaves __init__ untyped
    off = frozenset(d for d in cn if d.year == year)
    on = frozenset(d for d in cn.weekend_workdays if d.year == year)
    return _workdays(year, off, on)


class WorkingDayCalendar:
    """Decides, per date, workday or not. Each year's workdays are built once and cached
    (a sorted tuple of ordinals), so counting is a few bisections, not a walk.

    Convention for counting: the start day (the day of receipt, of closure, ...) is not
    counted; day 1 is the next working day, as in Chinese administrative practice
    ("自收到之日起N个工作日内" counts from the following day).
    """

    def __init__(self, schedules: Mapping[int, OfficialSchedule] | None = None) -> None:
        self._schedules = dict(schedules or {})
        for year, schedule in self._schedules.items():
            if schedule.year != year:
                raise ValueError(f"schedule for {schedule.year} filed under {year}")
        self._years: dict[int, _Year] = {}

    @property
    def schedules(self) -> Mapping[int, OfficialSchedule]:
        return MappingProxyType(self._schedules)

    def with_schedule(self, schedule: OfficialSchedule) -> WorkingDayCalendar:
        """A new calendar with ``schedule`` loaded (replacing any for that year)."""
        return WorkingDayCalendar({**self._schedules, schedule.year: schedule})

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is None:
            cached = self._years[year] = self._build(year)
        return cached

    def _build(self, year: int) -> _Year:
        if (schedule := self._schedules.get(year)) is not None:
            off, on = frozenset(schedule.holidays), frozenset(schedule.makeup_workdays)
            days, basis = _workdays(year, off, on), Basis.LOADED
            note = f"{year}年按已载入的官方安排计算（{schedule.source}）"
        elif (official := _official(year)) is not None:
            days, basis = official, Basis.OFFICIAL
            note = f"{year}年按国务院办公厅公布的节假日安排计算"
        elif (projected := _projected(year)) is not None:
            days, basis = projected, Basis.PROJECTED
            note = f"{year}年按节假日规则推算，调休未公布，日期为暂定"
        else:
            days, basis = _workdays(year, frozenset(), frozenset()), Basis.WEEKENDS_ONLY
            note = f"{year}年无节假日数据，仅按周末计算，日期为暂定"
        return _Year(basis, days, frozenset(days), note)

    def basis(self, year: int) -> Basis:
        return self._year(year).basis

    def is_workday(self, d: date) -> bool:
        return d.toordinal() in self._year(d.year).workday_set

    def add_working_days(self, start: date, n: int) -> DueDate:
        """The ``n``-th working day after ``start``; ``start`` itself is never counted
        (the day of receipt is day 0). ``n == 0`` returns ``start`` unchanged."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return self._due_date(start, start.year, start.year)
        year, remaining = start.year, n
        days = self._year(year).workdays
        index = bisect_right(days, start.toordinal())
        while remaining > len(days) - index:
            remaining -= len(days) - index
            year += 1
            days, index = self._year(year).workdays, 0
        due = date.fromordinal(days[index + remaining - 1])
        return self._due_date(due, (start + timedelta(days=1)).year, due.year)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in ``(a, b]``: ``add_working_days(a, n).due == b`` gives ``n``.
        Negative when ``b < a``."""
        if b < a:
            return -self.working_days_between(b, a)
        first, last = self._year(a.year).workdays, self._year(b.year).workdays
        if a.year == b.year:
            return bisect_right(last, b.toordinal()) - bisect_right(first, a.toordinal())
        middle = sum(len(self._year(y).workdays) for y in range(a.year + 1, b.year))
        head = len(first) - bisect_right(first, a.toordinal())
        return head + middle + bisect_right(last, b.toordinal())

    def _due_date(self, due: date, first_year: int, last_year: int) -> DueDate:
        years = [(y, self._year(y)) for y in range(first_year, last_year + 1)]
        return DueDate(
            due=due,
            provisional=any(yr.basis not in FIRM_BASES for _, yr in years),
            bases=tuple((y, yr.basis) for y, yr in years),
            note="；".join(yr.note for _, yr in years),
        )


def deadline_state(
    due: date,
    today: date,
    met_on: date | None,
    calendar: WorkingDayCalendar,
    due_soon_working_days: int = 3,
) -> DeadlineState:
    """The state of a deadline as of ``today``. A deadline met after ``today`` is not yet
    met as of ``today`` (so past states can be recomputed). Open deadlines are due soon
    when at most ``due_soon_working_days`` working days remain, the due day included."""
    if met_on is not None and met_on <= today:
        return DeadlineState.MET if met_on <= due else DeadlineState.MET_LATE
    if today > due:
        return DeadlineState.OVERDUE
    if calendar.working_days_between(today, due) <= due_soon_working_days:
        return DeadlineState.DUE_SOON
    return DeadlineState.RUNNING


Due = dict[str, Any]
"""A due date as events carry it: ``due``, ``provisional``, ``note``, ``started_on`` and
``working_days`` (or ``months``). ``started_on`` and ``working_days`` let a view count a
provisional date again once its year's schedule is loaded (``common.deadline_views``)."""


def due_in_working_days(calendar: WorkingDayCalendar, start: date, days: int) -> Due:
    """The due date ``days`` working days after ``start``, as events carry it (intake's and
    casework's applications both count their limits with this)."""
    due = calendar.add_working_days(start, days)
    return {
        "due": due.due,
        "provisional": due.provisional,
        "note": due.note,
        "started_on": start,
        "working_days": days,
    }


def due_in_months(start: date, months: int) -> Due:
    """The due date ``months`` calendar months after ``start``, as events carry it (never
    provisional: months do not depend on the official schedule)."""
    return {
        "due": add_calendar_months(start, months),
        "provisional": False,
        "note": "",
        "started_on": start,
        "months": months,
    }


def add_calendar_months(start: date, months: int) -> date:
    """``start`` plus calendar months, clamped to the month's end (Jan 31 + 1 -> Feb 28/29),
    for the limits in months, which count calendar time, not working days."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    last = _gregorian.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last))


class TimeLimits(BaseModel):
    """Every time limit, in one table (domain.md); users correct these, code never
    hard-codes them. Working days count with ``WorkingDayCalendar.add_working_days``;
    months with ``add_calendar_months``.

    | field                       | default | unit         | meaning (domain.md) |
    |-----------------------------|---------|--------------|---------------------|
    | forward_up                  | 5       | working days | forward a report for the level above |
    | transfer_down_acceptance    | 5       | working days | level below accepts a transferred report |
    | acceptance_notice           | 15      | working days | notice to a real-name reporter, from receipt |
    | inquiry_reply               | 15      | working days | reply to a talk or written inquiry (函询) |
    | feedback_after_closure      | 15      | working days | feedback to a real-name reporter, from closure |
    | due_soon_threshold          | 3       | working days | an open deadline this close is due soon |
    | publicity_defer_max_months  | 3       | months       | deferral of an appointment under publicity |
    | admonition_follow_up_months | 6       | months       | admonition (诫勉): bar and follow-up |
    | suspension_max_months       | 6       | months       | suspension for examination (停职检查) |
    | parked_review_months        | 3       | months       | periodic review of a parked item (暂存待查) |
    | referral_report_back_months | 3       | months       | a member unit reports back on a referral |
    | received_on_backdate_max_days | 90    | days         | staff back-date a report's receipt at most this far |
    | objection_answer            | 15      | working days | answer to a reporter's objection (异议) |
    | transfer_down_report_back   | 60      | working days | the level below reports its result, from the transfer |
    | discipline_report_back      | 90      | working days | the discipline commission reports its result, from the transfer |
    | project_plan                | 5       | working days | a supervision project's plan (督查方案), from its opening |
    | project_conclusion          | 30      | working days | a supervision project's conclusion approved, from its opening |
    | project_report_back         | 10      | working days | the supervision report sent back (督查报告), from the approval |
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    forward_up: PositiveInt = 5
    transfer_down_acceptance: PositiveInt = 5
    acceptance_notice: PositiveInt = 15
    inquiry_reply: PositiveInt = 15
    feedback_after_closure: PositiveInt = 15
    due_soon_threshold: NonNegativeInt = 3
    publicity_defer_max_months: PositiveInt = 3
    admonition_follow_up_months: PositiveInt = 6
    suspension_max_months: PositiveInt = 6
    parked_review_months: PositiveInt = 3
    referral_report_back_months: PositiveInt = 3
    received_on_backdate_max_days: PositiveInt = 90
    objection_answer: PositiveInt = 15
    transfer_down_report_back: PositiveInt = 60
    discipline_report_back: PositiveInt = 90
    project_plan: PositiveInt = 5
    project_conclusion: PositiveInt = 30
    project_report_back: PositiveInt = 10
