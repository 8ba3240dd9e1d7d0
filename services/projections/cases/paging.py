"""Keyset paging of the queues (0027): sort keys, cursors, ``Keyed`` members and ``page_of``."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from schemas.views_cases import (
    ApprovalItem,
    CaseListItem,
    DeadlineQueueItem,
    ReportQueueItem,
)

# -- paging (0027) -------------------------------------------------------------------------------

DEFAULT_LIMIT = 100  # a queue's page unless the caller asks for another size
MAX_LIMIT = 1000
T = TypeVar("T")
SortKey = tuple[str, ...]


class BadCursor(ValueError):
    """An ``after`` cursor this queue did not hand out (mangled, or another queue's)."""

    def __init__(self, queue: str, why: str) -> None:
        super().__init__(
            f"the cursor `after` is not one this queue ({queue}) gave: {why}; "
            "start again without `after` and follow each answer's `next`"
        )


@dataclass(frozen=True)
class Paged(Generic[T]):
    """One page of a queue: its items, how many the whole queue holds, and the cursor of the
    next page (None: this is the last)."""

    items: list[T]
    total: int
    next: str | None


def _part(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def sort_key(*parts: Any) -> SortKey:
    """A queue's order as comparable text (dates in ISO form, nothing as "")."""
    return tuple(_part(p) for p in parts)


def report_key(item: ReportQueueItem) -> SortKey:
    return sort_key(item.received_on, item.ledger_number, item.report_id)


def case_key(item: CaseListItem) -> SortKey:
    first = item.deadlines[0].due if item.deadlines else dt.date.max
    return sort_key(first, item.received_on or dt.date.max, item.ledger_number, item.case_id)


def deadline_key(item: DeadlineQueueItem) -> SortKey:
    return sort_key(
        item.clock.due, item.ledger_number, item.clock.name, item.subject_kind, item.subject_id
    )


def approval_key(item: ApprovalItem) -> SortKey:
    far_future = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sort_key(item.since or far_future, item.subject_id, item.kind)


def encode_cursor(queue: str, key: SortKey) -> str:
    raw = json.dumps({"q": queue, "k": list(key)}, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(queue: str, cursor: str) -> SortKey:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        key = data["k"]
        owner = data["q"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise BadCursor(queue, "it cannot be read") from None
    if owner != queue:
        raise BadCursor(queue, f"it belongs to the queue {owner!r}")
    if not isinstance(key, list) or not all(isinstance(p, str) for p in key):
        raise BadCursor(queue, "it cannot be read")
    return tuple(key)


@dataclass(frozen=True)
class Keyed(Generic[T]):
    """A queue's members before they are built (0027): each one's sort key and its row, in
    no particular order; ``build`` makes the items of some rows, in the rows' order. A page
    of a long queue then builds only its own items."""

    rows: list[tuple[SortKey, Any]]
    build: Callable[[list[Any]], list[T]]

    def all(self) -> list[T]:
        """Every item, in the queue's order."""
        return self.build([row for _, row in sorted(self.rows, key=lambda pair: pair[0])])


def page_of(
    queue: str,
    items: Iterable[T] | Keyed[T],
    key: Callable[[T], SortKey] | None = None,
    *,
    limit: int | None = DEFAULT_LIMIT,
    after: str | None = None,
) -> Paged[T]:
    """Keyset paging over a queue in its order: the items after the cursor's sort key (the
    last item of the previous page), ``limit`` of them. The key ends with the item's id, so
    ties on the sort key never skip or repeat an item; an item whose key changed between two
    pages (a deadline met, a case moved on) shows where it now sorts: on a later page if it
    moved past the cursor, not again if it moved before it. ``Keyed`` members are sorted by
    their keys and only the page's rows are built."""
    if isinstance(items, Keyed):
        keyed: list[tuple[SortKey, Any]] = list(items.rows)
        build: Callable[[list[Any]], list[T]] = items.build
    elif key is None:
        raise TypeError("page_of: items that are not Keyed need their sort key")
    else:
        keyed = [(key(i), i) for i in items]
        build = list
    ordered = sorted(keyed, key=lambda pair: pair[0])
    total = len(ordered)
    if after:
        start = decode_cursor(queue, after)
        ordered = [(k, i) for k, i in ordered if k > start]
    if limit is None or len(ordered) <= limit:
        return Paged(build([i for _, i in ordered]), total, None)
    page = ordered[:limit]
    return Paged(build([i for _, i in page]), total, encode_cursor(queue, page[-1][0]))
