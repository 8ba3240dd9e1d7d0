"""Reading the case tables: the reader over a database, the case list's filters, and rows turned into queue items and labels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import orjson

from schemas.glossary import (
    DEADLINE_LABELS,
    CaseKind,
    CaseState,
    Category,
    Channel,
    GlossaryEnum,
    ReportStatus,
)
from schemas.views_cases import (
    CaseListItem,
    ReportQueueItem,
)
from services.common.sql import Database

FINISHED = (CaseState.CLOSED.value, CaseState.TRANSFERRED.value)
# Deadlines that still run once a case is closed (or transferred: the discipline
# commission's result is awaited); the others were met or explained at closure.
AFTER_CLOSURE = ("feedback", "admonition_follow_up", "discipline_report_back")
CHUNK = 500


class Readable(Protocol):
    db: Database

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...


class SqlReader:
    """Read-only access to the read models, for a process that does not maintain them
    (the intake API answering a reporter's follow-up): no tables are created."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.db.transaction() as cur:
            cur.execute(sql, params)
            return cur.fetchall()


@dataclass(frozen=True)
class CaseFilters:
    state: CaseState | None = None
    handler: str | None = None
    kind: CaseKind | None = None
    category: Category | None = None
    # Who may be seen: only cases of these handlers (a handler sees their own and their
    # section's cases); None: every case.
    visible_handlers: frozenset[str] | None = None

    def as_dict(self) -> dict[str, str]:
        chosen = {k: v for k, v in vars(self).items() if k != "visible_handlers"}
        return {k: str(v) for k, v in chosen.items() if v is not None}


E = TypeVar("E", bound=GlossaryEnum)


def zh_of(enum: type[E], value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return enum(value).zh
    except ValueError:
        return value


def date_of(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(value)) if value else None


def moment_of(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(str(value)) if value else None


def deadline_label(name: str) -> str:
    base = name.split("#", 1)[0]
    return DEADLINE_LABELS.get(base, base)


def report_item(r: dict[str, Any]) -> ReportQueueItem:
    categories = orjson.loads(r["categories"] or "[]")
    status = r["status"] or ReportStatus.RECEIVED.value
    return ReportQueueItem(
        report_id=r["report_id"],
        ledger_number=r["ledger_number"],
        status=status,
        status_zh=zh_of(ReportStatus, status) or status,
        channel=r["channel"],
        channel_zh=zh_of(Channel, r["channel"]),
        received_on=date_of(r["received_on"]),
        categories=categories,
        categories_zh=[zh_of(Category, c) or c for c in categories],
        subjects=orjson.loads(r["subjects"] or "[]"),
        sealed=bool(r["sealed"]),
        real_name=bool(r["real_name"]),
        case_id=r["case_id"],
        last_step_at=moment_of(r["last_step_at"]),
    )


def still_runs(name: str, case_state: str | None) -> bool:
    """Whether a case's deadline is still owed in the case's state."""
    return case_state not in FINISHED or name.split("#", 1)[0] in AFTER_CLOSURE


def due_after(record: dict[str, Any], today: dt.date) -> bool:
    met = date_of(record["met_on"])
    return met is not None and met > today


def soonest_first(item: CaseListItem) -> tuple[Any, ...]:
    first = item.deadlines[0].due if item.deadlines else dt.date.max
    return (first, item.received_on or dt.date.max, item.ledger_number or "", item.case_id)


def chunks(values: list[str]) -> list[list[str]]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)] if values else []


def marks(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))
