"""A deadline as users see it: its clock today, recomputed when its date was provisional."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.views import DeadlineView
from services.calendar.deadlines import deadline_state
from services.common.config import Config


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def deadline_view(
    name: str, record: dict[str, Any], config: Config, today: dt.date
) -> DeadlineView:
    """``record``: due, provisional, note, met_on, and (when known) started_on + working_days.

    A provisional due date was counted on a projected calendar; once an administrator
    loads that year's official schedule it is counted again here, so every view shows the
    date in force without rewriting the record.
    """
    calendar = config.calendar()
    due, provisional, note = (
        _date(record["due"]),
        bool(record.get("provisional")),
        record.get("note", ""),
    )
    started_on, working_days = _date(record.get("started_on")), record.get("working_days")
    if provisional and started_on is not None and working_days is not None:
        recounted = calendar.add_working_days(started_on, int(working_days))
        due, provisional, note = recounted.due, recounted.provisional, recounted.note
    assert due is not None
    met_on = _date(record.get("met_on"))
    state = deadline_state(due, today, met_on, calendar, config.limits().due_soon_threshold)
    return DeadlineView(
        name=name,
        due=due,
        provisional=provisional,
        note=note,
        met_on=met_on,
        state=state.value,
        state_zh=state.zh,
    )
