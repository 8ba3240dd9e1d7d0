"""Read-side queries over the projections' tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import orjson

from schemas.glossary import EVENT_LABELS
from schemas.views import (
    ChangeRecord,
    DeadlineView,
    TimelineStep,
    TimelineView,
)
from services.common.china_time import china_day_starts, china_today
from services.common.config import Config
from services.common.deadline_views import deadline_view
from services.projections.archive.register import CadreRegister
from services.projections.days import stated_day
from services.projections.store import ReadStore


def _step(row: dict[str, Any], round_: int = 1) -> TimelineStep:
    """One stored step as the timeline shows it: its label, and the day the user stated."""
    detail = orjson.loads(row["detail"])
    return TimelineStep(
        at=row["occurred_at"],
        on=stated_day(row["step"], detail),
        step=row["step"],
        step_zh=EVENT_LABELS.get(row["step"], row["step"]),
        actor_id=row["actor_id"],
        actor_role=row["actor_role"],
        reason=row["reason"],
        subject_id=row["subject_id"],
        detail=detail,
        round=round_,
    )


class Queries:
    def __init__(
        self,
        store: ReadStore,
        register: CadreRegister,
        *,
        config: Config | None = None,
        today: Callable[[], dt.date] = china_today,
    ) -> None:
        self.store = store
        self.register = register
        self.config = config or Config()
        self.today = today

    def timeline(self, case_id: str) -> TimelineView | None:
        """Every step of the case and of its reports, oldest first; None if nothing is known."""
        # The case's reports first, then every step by the subject index: "subject_id = x
        # OR subject_id IN (subquery)" made PostgreSQL read every step (0027).
        subjects = [case_id] + [
            r["report_id"]
            for r in self.store.query(
                "SELECT report_id FROM case_reports WHERE case_id = %s", (case_id,)
            )
        ]
        marks = ", ".join(["%s"] * len(subjects))
        rows = self.store.query(
            f"SELECT * FROM timeline_steps WHERE subject_id IN ({marks}) "
            "ORDER BY occurred_at, source DESC, position",
            subjects,
        )
        if not rows:
            return None
        steps = []
        round_ = 1  # 复查: each reopening starts a new round; the old rounds stay listed
        for r in rows:
            if r["step"] == "Reopened":
                round_ += 1
            steps.append(_step(r, round_))
        return TimelineView(
            case_id=case_id,
            steps=steps,
            deadlines=self._deadlines(subjects),
        )

    def report_timeline(self, report_id: str) -> TimelineView | None:
        """The steps of one report alone (its own subject id), oldest first."""
        rows = self.store.query(
            "SELECT * FROM timeline_steps WHERE subject_id = %s ORDER BY occurred_at, position",
            (report_id,),
        )
        if not rows:
            return None
        return TimelineView(
            case_id=report_id,
            steps=[_step(r) for r in rows],
            deadlines=self._deadlines([report_id]),  # the report's own clocks
        )

    def changes(
        self,
        *,
        actor: str | None = None,
        step: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        limit: int = 200,
    ) -> list[ChangeRecord]:
        """Who changed what (every event on the record), newest first; each filter optional.

        ``since``/``until`` are whole days in China time, both included (events are stamped in
        UTC: a day runs from 16:00 UTC the day before).
        """
        if since and until and since > until:
            raise ValueError(f"the period starts ({since}) after it ends ({until})")
        if step is not None and step not in EVENT_LABELS:
            raise ValueError(f"no step {step!r}; the steps are: {', '.join(sorted(EVENT_LABELS))}")
        clauses, params = ["1 = 1"], []
        if actor:
            clauses.append("t.actor_id = %s")
            params.append(actor)
        if step:
            clauses.append("t.step = %s")
            params.append(step)
        if since:
            clauses.append("t.occurred_at >= %s")
            params.append(china_day_starts(since))
        if until:
            clauses.append("t.occurred_at < %s")
            params.append(china_day_starts(until + dt.timedelta(days=1)))
        rows = self.store.query(
            "SELECT t.occurred_at, t.step, t.actor_id, t.actor_role, t.reason, t.source, "
            "t.subject_id, COALESCE(c.ledger_number, r.ledger_number) AS ledger_number "
            "FROM timeline_steps t "
            "LEFT JOIN case_list c ON t.source = 'casework' AND c.case_id = t.subject_id "
            "LEFT JOIN report_queue r ON t.source = 'intake' AND r.report_id = t.subject_id "
            f"WHERE {' AND '.join(clauses)} "
            "ORDER BY t.occurred_at DESC, t.source, t.position DESC LIMIT %s",
            (*params, max(1, min(limit, 1000))),
        )
        return [
            ChangeRecord(
                at=r["occurred_at"],
                step=r["step"],
                step_zh=EVENT_LABELS.get(r["step"], r["step"]),
                actor_id=r["actor_id"],
                actor_role=r["actor_role"],
                reason=r["reason"],
                source=r["source"],
                subject_id=r["subject_id"],
                ledger_number=r["ledger_number"],
            )
            for r in rows
        ]

    def _deadlines(self, subjects: list[str]) -> list[DeadlineView]:
        """The deadlines of the case and of its reports (``subjects``), by the subject index
        (the OR of a key and a subquery read every deadline, as with the steps)."""
        where, params = self.store.db.any_of("subject_id", subjects)
        rows = self.store.query(
            f"SELECT * FROM case_deadlines WHERE {where} AND due IS NOT NULL ORDER BY due, name",
            params,
        )
        today = self.today()
        return [deadline_view(d["name"], d, self.config, today) for d in rows]
