"""Queries over the archive tables: a cadre's supervision archive, and the candidates.

Who a named person is gets decided here, at query time, from three sources:

1. the register id the report gave (``cadre_id``);
2. otherwise the operators' identifications (``subject_identifications``): the latest one
   of a candidate key (by intake log position) says "this is cadre C" or "this is the same
   person as candidate K" (a merge; chains are followed, a cycle settles on its smallest key);
3. otherwise an exact match of the normalised name and unit with exactly one registered cadre.

Resolving at query time keeps the tables order-tolerant (an identification may be projected
before or after the reports it concerns) and makes a rebuild give the same archive.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from schemas.events import candidate_key
from schemas.views import CadreRecord
from schemas.views_archive import (
    ArchiveCase,
    ArchiveReport,
    ArchiveSelectionEntry,
    CadreArchive,
    CandidateView,
)
from services.projections.archive.register import COLUMNS, CadreRegister
from services.projections.archive.resolver import Identity, RegisterKeys, Resolver
from services.projections.archive.views import (
    candidate_view,
    case_view,
    keys_named,
    report_item,
    selection_entry_view,
    with_case_result,
    with_report_result,
)
from services.projections.store import ReadStore


class CadreNotFound(LookupError):
    def __init__(self, cadre_id: str) -> None:
        super().__init__(f"no cadre {cadre_id!r} in the register")


@dataclass
class _Found:
    """What the batched queries found for one cadre of an archive request."""

    cadre: CadreRecord
    keys: list[str]
    rows: list[dict[str, Any]]
    case_ids: set[str]


class ArchiveQueries:
    def __init__(self, store: ReadStore, register: CadreRegister) -> None:
        self.store = store
        self.register = register

    # -- identity --------------------------------------------------------------------------

    def resolver(self) -> Resolver:
        links: dict[str, tuple[str | None, str | None, str]] = {}
        for row in self.store.query(
            "SELECT candidate_key, cadre_id, same_as_candidate, actor_id "
            "FROM subject_identifications ORDER BY position"
        ):
            links[row["candidate_key"]] = (
                row["cadre_id"],
                row["same_as_candidate"],
                row["actor_id"],
            )
        return Resolver(links, RegisterKeys(self.register.with_keys))

    # -- the archive -----------------------------------------------------------------------

    def get_cadre(self, cadre_id: str) -> CadreRecord:
        cadre = self.register.get(cadre_id)
        if cadre is None:
            raise CadreNotFound(cadre_id)
        return cadre

    def archive(self, cadre_id: str, resolver: Resolver | None = None) -> CadreArchive:
        """Every report naming the cadre and every archived step of their cases."""
        cadre = self.get_cadre(cadre_id)
        return self.archives([cadre], resolver)[0]

    def archives(
        self, cadres: Sequence[CadreRecord], resolver: Resolver | None = None
    ) -> list[CadreArchive]:
        """The archive of each of ``cadres`` (registered), in their order: one query per table
        for all of them (an integrity reply asks about a hundred cadres at once)."""
        resolver = resolver or self.resolver()
        # Every cadre's own name-and-unit key looked up at once, not one query a cadre.
        resolver.prime(candidate_key(c.name, c.unit) for c in cadres)
        found = {c.cadre_id: _Found(c, resolver.keys_of(c), [], set()) for c in cadres}
        if not found:
            return []
        by_key = {k: f for f in found.values() for k in f.keys}
        where, params = _named_all(list(found), list(by_key), "s.")
        rows = self.store.query(
            "SELECT s.ordinal, s.name, s.unit, s.position, s.cadre_id AS named_id, "
            "s.candidate_key, r.* FROM archive_subjects s "
            f"JOIN archive_reports r ON r.report_id = s.report_id WHERE {where} "
            "ORDER BY r.received_on DESC, r.ledger_number DESC, s.ordinal",
            params,
        )
        resolver.prime(r["candidate_key"] for r in rows)
        for r in rows:
            owner = found.get(r["named_id"]) if r["named_id"] else by_key.get(r["candidate_key"])
            if owner is not None:
                owner.rows.append(r)
        where, params = _named_all(list(found), list(by_key), "")
        for r in self.store.query(
            "SELECT DISTINCT case_id, cadre_id, candidate_key FROM archive_entries "
            f"WHERE cadre_name IS NOT NULL AND ({where})",
            params,
        ):
            owner = found.get(r["cadre_id"]) if r["cadre_id"] else by_key.get(r["candidate_key"])
            if owner is not None:
                owner.case_ids.add(r["case_id"])
        out: dict[str, CadreArchive] = {}
        items_of: dict[str, dict[str, ArchiveReport]] = {}
        for cadre_id, f in found.items():
            me: Identity = ("cadre", cadre_id)
            items: dict[str, ArchiveReport] = {}
            for r in f.rows:
                if r["report_id"] not in items:  # a report naming the same person twice: once
                    items[r["report_id"]] = with_report_result(
                        report_item(r, resolver), r, me, resolver
                    )
            f.case_ids |= {i.case_id for i in items.values() if i.case_id}
            items_of[cadre_id] = items
        stored = self._stored_cases(sorted(set().union(*(f.case_ids for f in found.values()))))
        resolver.prime(
            key for entries in stored[1].values() for e in entries for key in keys_named(e)
        )
        selections = self._selection_entries(list(found))
        for cadre_id, f in found.items():
            out[cadre_id] = CadreArchive(
                cadre=f.cadre,
                items=list(items_of[cadre_id].values()),
                cases=self._cases(sorted(f.case_ids), ("cadre", cadre_id), resolver, stored),
                selections=selections.get(cadre_id, []),
            )
        return [out[c.cadre_id] for c in cadres]

    def _selection_entries(self, cadre_ids: list[str]) -> dict[str, list[ArchiveSelectionEntry]]:
        """What selections' records say of these cadres (by register id), newest first."""
        entries: dict[str, list[ArchiveSelectionEntry]] = defaultdict(list)
        for start in range(0, len(cadre_ids), 500):
            chunk = cadre_ids[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            for row in self.store.query(
                f"SELECT * FROM archive_selection_entries WHERE cadre_id IN ({marks}) "
                "ORDER BY on_date DESC, occurred_at DESC, entry_id",
                chunk,
            ):
                entries[row["cadre_id"]].append(selection_entry_view(row))
        return entries

    def _stored_cases(
        self, case_ids: list[str]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]], dict[str, list[str]]]:
        """The rows of these cases: the case, its archived steps, its reports (by case id)."""
        cases: dict[str, dict[str, Any]] = {}
        entries: dict[str, list[dict[str, Any]]] = defaultdict(list)
        reports: dict[str, list[str]] = defaultdict(list)
        for start in range(0, len(case_ids), 500):
            chunk = case_ids[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            for r in self.store.query(
                f"SELECT * FROM archive_cases WHERE case_id IN ({marks})", chunk
            ):
                cases[r["case_id"]] = r
            for e in self.store.query(
                f"SELECT * FROM archive_entries WHERE case_id IN ({marks}) "
                "ORDER BY case_id, aggregate_version",
                chunk,
            ):
                entries[e["case_id"]].append(e)
            for r in self.store.query(
                f"SELECT report_id, case_id FROM archive_reports WHERE case_id IN ({marks}) "
                "ORDER BY received_on, ledger_number",
                chunk,
            ):
                reports[r["case_id"]].append(r["report_id"])
        return cases, entries, reports

    def _cases(
        self,
        case_ids: list[str],
        me: Identity,
        resolver: Resolver,
        stored: tuple[
            dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]], dict[str, list[str]]
        ],
    ) -> list[ArchiveCase]:
        cases, entries, reports = stored
        views = [
            with_case_result(
                case_view(
                    cid, cases.get(cid, {}), entries.get(cid, []), reports.get(cid, []), me,
                    resolver,
                ),
                me,
                resolver,
            )
            for cid in case_ids
        ]  # fmt: skip
        return sorted(
            views,
            key=lambda c: (c.received_on or dt.date.min, c.ledger_number or ""),
            reverse=True,
        )

    def reports_naming(self, cadre_id: str, name: str, unit: str) -> list[dict[str, Any]]:
        """The latest 20 reports naming a cadre by register id (when there is one), or by
        name and unit, newest first: the candidates when marking a repeat or joining a case."""
        return self.store.query(
            "SELECT r.report_id, r.ledger_number, r.received_on, r.case_id, r.summary "
            "FROM archive_subjects s JOIN archive_reports r ON r.report_id = s.report_id "
            "WHERE (s.cadre_id = %s AND s.cadre_id <> '') OR (s.name = %s AND s.unit = %s) "
            "ORDER BY r.received_on DESC LIMIT 20",
            (cadre_id, name, unit),
        )

    # -- candidates ------------------------------------------------------------------------

    def candidates(self, *, include_identified: bool = False) -> list[CandidateView]:
        """Unregistered people named in reports, grouped as operators merged them."""
        resolver = self.resolver()
        rows = self.store.query(
            "SELECT s.report_id, s.ordinal, s.name, s.unit, s.position, s.candidate_key, "
            "r.ledger_number, r.received_on FROM archive_subjects s "
            "LEFT JOIN archive_reports r ON r.report_id = s.report_id "
            "WHERE s.cadre_id IS NULL ORDER BY r.received_on, r.ledger_number, s.ordinal"
        )
        groups: dict[Identity, list[dict[str, Any]]] = defaultdict(list)
        how: dict[Identity, str] = {}
        resolver.prime(r["candidate_key"] for r in rows)
        for row in rows:
            identity, by = resolver.explain(None, row["candidate_key"])
            groups[identity].append(row)
            if by != "unresolved":
                how.setdefault(identity, by)
        register = [
            CadreRecord.model_validate(r) for r in self.store.query(f"SELECT {COLUMNS} FROM cadres")
        ]
        views = []
        for identity, members in groups.items():
            identified = identity[0] == "cadre"
            if identified and not include_identified:
                continue
            views.append(candidate_view(identity, members, how.get(identity), register))
        return sorted(views, key=lambda v: (-v.report_count, v.candidate_key))


def _named_all(cadre_ids: list[str], keys: list[str], p: str) -> tuple[str, list[Any]]:
    """SQL matching any of the cadres' names: their register ids, or (unregistered rows)
    the candidate keys that name them."""
    ids = ", ".join(["%s"] * len(cadre_ids))
    if not keys:
        return f"{p}cadre_id IN ({ids})", list(cadre_ids)
    marks = ", ".join(["%s"] * len(keys))
    return (
        f"({p}cadre_id IN ({ids}) OR ({p}cadre_id IS NULL AND {p}candidate_key IN ({marks})))",
        [*cadre_ids, *keys],
    )
