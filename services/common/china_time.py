"""The offices' clock: China has one time zone, UTC+8, without daylight saving.

Events are stamped in UTC; dates and times people read or type are in this zone. Every
business date is either the one a user states or the China date of a moment
(``china_date``), never the host's local date nor the UTC date.

This module is the one place that reads the wall clock (``SystemClock``). Everything else is
given a clock, or a ``today`` callable, by the composition root (``services/bootstrap.py``),
so tests and the demo fix "today" and "now" (``FixedClock``) and pass on any day of any year,
in any host time zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def china_date(moment: dt.datetime) -> dt.date:
    """The day a moment falls on in China. A naive moment is taken as UTC (how events and
    stored stamps are kept)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(CHINA_TIME).date()


def china_day_starts(day: dt.date) -> str:
    """When a China day starts, as a stored UTC stamp (ISO text) to compare stamps with."""
    return dt.datetime.combine(day, dt.time(), CHINA_TIME).astimezone(dt.UTC).isoformat()


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current moment, aware, in China time."""
        ...

    def today(self) -> dt.date:
        """Today's date in China."""
        ...

    def utc_now(self) -> dt.datetime:
        """The current moment in UTC (recording stamps)."""
        ...


class SystemClock:
    """The wall clock, read in China time whatever the host's time zone."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(CHINA_TIME)  # wall clock ok: the system's one clock

    def today(self) -> dt.date:
        return self.now().date()

    def utc_now(self) -> dt.datetime:
        return self.now().astimezone(dt.UTC)


class FixedClock:
    """A clock that stands still until moved (tests, the demo's seeding)."""

    def __init__(self, moment: dt.datetime) -> None:
        self.set(moment)

    @classmethod
    def on(cls, day: dt.date, at: dt.time = dt.time(10, 0)) -> FixedClock:
        """A clock standing on ``day`` at ``at`` China time."""
        return cls(dt.datetime.combine(day, at, CHINA_TIME))

    def set(self, moment: dt.datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a clock's moment must carry a time zone")
        self._moment = moment.astimezone(CHINA_TIME)

    def advance(self, delta: dt.timedelta) -> None:
        self._moment += delta

    def now(self) -> dt.datetime:
        return self._moment

    def today(self) -> dt.date:
        return self._moment.date()

    def utc_now(self) -> dt.datetime:
        return self._moment.astimezone(dt.UTC)


SYSTEM_CLOCK = SystemClock()


def china_today() -> dt.date:
    """Today in China, from the system clock: the default ``today`` of the applications and
    read sides when the composition root gives none."""
    return SYSTEM_CLOCK.today()


def utc_now() -> dt.datetime:
    """The current moment in UTC from the system clock, for recording stamps (when a row was
    written), never for business dates."""
    return SYSTEM_CLOCK.utc_now()
