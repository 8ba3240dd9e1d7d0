"""The read models' batched writer: a batch's upserts merged in memory (a row once, later
values over earlier), grouped a statement per table and column set, in one global order,
each group sent in one ``executemany`` (decision records 0010, 0026)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from services.common.sql import Cursor, check_identifier
from services.projections.rows import Upsert

Groups = list[tuple["Statement", list[tuple[Any, ...]]]]


def write_rows(cur: Cursor, rows: Iterable[Upsert], *, postgres: bool) -> int:
    """Write a batch's rows: each row once, tables and statements batched; returns the
    number of rows written. See :func:`merge_rows` and :func:`send_groups`."""
    groups, written = merge_rows(rows)
    send_groups(cur, groups, postgres=postgres)
    return written


def merge_rows(rows: Iterable[Upsert]) -> tuple[Groups, int]:
    """A batch's upserts merged in memory, a row once, grouped a statement per table and
    column set, in one global order; and the number of rows.

    Upserts of one row (table and key) are merged, later values over earlier ones: inserting
    or updating A's columns, then B's, leaves the row as one upsert of A and B merged does,
    since an upsert writes only the columns it names and no row's value is computed from
    another's. The rows go out in one order (table, then column set, then key), so
    concurrent batches lock rows of a table in the same order.
    """
    merged: dict[tuple[str, frozenset[tuple[str, Any]]], tuple[dict[str, Any], dict[str, Any]]]
    merged = {}
    for row in rows:
        identity = (row.table, frozenset(row.key.items()))
        entry = merged.get(identity)
        if entry is None:
            merged[identity] = (row.key, dict(row.values))
        else:
            entry[1].update(row.values)
    groups: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[tuple[Any, ...]]] = {}
    for (table, _), (key, values) in merged.items():
        group = groups.get((table, tuple(key), tuple(values)))
        if group is None:
            group = groups[(table, tuple(key), tuple(values))] = []
        group.append((*key.values(), *values.values()))
    ordered = []
    for statement, params in sorted(groups.items()):
        # By key: keys are unique in a group, so no comparison reaches the values.
        params.sort()
        ordered.append((Statement.of(*statement), params))
    return ordered, len(merged)


def send_groups(cur: Cursor, groups: Groups, *, postgres: bool) -> None:
    """Each group in one ``executemany``: on PostgreSQL psycopg sends it as one pipeline of a
    prepared statement (measured: a third less client CPU than multi-row ``INSERT ... VALUES``
    statements of the same rows, and the same server CPU; decision 0026)."""
    del postgres  # the same in both dialects
    for statement, params in groups:
        cur.executemany(statement.sql, params)


class Statement:
    """The upsert of one table and one column set, in both dialects (cached)."""

    _cache: ClassVar[dict[tuple[str, tuple[str, ...], tuple[str, ...]], Statement]] = {}

    def __init__(self, table: str, key: tuple[str, ...], values: tuple[str, ...]) -> None:
        self.table = check_identifier(table)
        self.columns = tuple(check_identifier(c) for c in (*key, *values))
        conflict = ", ".join(key)
        if values:
            updates = ", ".join(f"{c} = excluded.{c}" for c in values)
            self.action = f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
        else:
            self.action = f"ON CONFLICT ({conflict}) DO NOTHING"
        placeholders = ", ".join(["%s"] * len(self.columns))
        self.sql = (
            f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({placeholders}) "
            f"{self.action}"
        )

    @classmethod
    def of(cls, table: str, key: tuple[str, ...], values: tuple[str, ...]) -> Statement:
        statement = cls._cache.get((table, key, values))
        if statement is None:
            statement = cls._cache[(table, key, values)] = cls(table, key, values)
        return statement
