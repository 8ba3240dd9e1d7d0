"""On which day a step happened: the business date its payload states, else the China date of
the moment it was recorded (events stored before a step carried its day). One list for every
projection and query, so a timeline, an archive entry, a report's status and a liaison figure
date a step alike (decision 0016)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from schemas.events import EventEnvelope
from services.common.china_time import china_date

# The payload fields that say on which day a step happened (it may be recorded later), in the
# order they are looked for. Triage outcomes keep theirs in ``details``.
STEP_DAYS = (
    "accepted_on",
    "opened_on",
    "joined_on",
    "registered_on",
    "received_on",
    "verified_on",
    "sent_on",
    "found_on",
    "evaluated_on",
    "reviewed_on",
    "reactivated_on",
    "approved_on",
    "proposed_on",
    "decided_on",
    "followed_up_on",
    "carried_out_on",
    "suspected_on",
    "held_on",
    "closed_on",
    "given_on",
    "answered_on",
    "reopened_on",
    "forwarded_on",
    "transferred_on",
    "acknowledged_on",
    "referred_on",
    "reported_on",
    "handed_over_on",
)

# Steps that carry the report's day of receipt without having happened on it.
CARRY_RECEIPT_DAY = frozenset({"ReportAccepted", "CaseOpened", "ReportJoined"})


def stated_day(step: str, detail: Mapping[str, Any]) -> dt.date | None:
    """The day the step's payload states, if any (a triage outcome's, in its ``details``)."""
    nested = detail.get("details")
    for source in (detail, nested if isinstance(nested, Mapping) else {}):
        for field in STEP_DAYS:
            if field == "received_on" and step in CARRY_RECEIPT_DAY:
                continue
            value = source.get(field)
            if isinstance(value, dt.date):
                return value
            if isinstance(value, str) and value:
                try:
                    return dt.date.fromisoformat(value[:10])
                except ValueError:
                    continue
    return None


def step_day(envelope: EventEnvelope, detail: Mapping[str, Any] | None = None) -> str:
    """The day a step happened (ISO): stated, else the China date of its recording."""
    day = stated_day(envelope.event_type, envelope.payload if detail is None else detail)
    return (day or china_date(envelope.occurred_at)).isoformat()
