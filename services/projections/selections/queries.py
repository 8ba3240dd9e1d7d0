"""Queries over the selections (``selection_list``, ``selection_candidates``,
``selection_holds``): the selections in progress and all of them, a page at a time with
their total; a selection's candidates; the selections naming a cadre as a candidate.

How many candidates a selection has, how many are held, whether a candidate is held: counted
here from the rows, never stored (the projection writes no value computed from another row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from schemas.glossary import CandidateStatus, SelectionStage, SelectionWait
from schemas.views_selection import SelectionCandidateRow, SelectionListItem, SelectionPage
from services.projections.cases.rows import Readable, date_of, marks, zh_of

# Selections no longer in progress: appointed (further appointments may still come, but
# nothing waits on the procedure), withdrawn or voided.
FINISHED = (
    SelectionStage.APPOINTED.value,
    SelectionStage.WITHDRAWN.value,
    SelectionStage.VOIDED.value,
)
# How many candidates a selection has and how many are held now (by an open hold).
COUNTS = (
    "(SELECT COUNT(*) FROM selection_candidates c WHERE c.selection_id = s.selection_id) "
    "AS candidate_count, "
    "(SELECT COUNT(DISTINCT h.candidate_id) FROM selection_holds h "
    "WHERE h.selection_id = s.selection_id AND h.open = 1) AS held_count"
)


@dataclass(frozen=True)
class SelectionFilters:
    """``in_progress``: only the selections not appointed, withdrawn or voided."""

    in_progress: bool = True
    stage: SelectionStage | None = None
    unit: str | None = None
    cadre_id: str | None = None  # only those naming this cadre as a candidate

    def as_dict(self) -> dict[str, str]:
        chosen = {k: v for k, v in vars(self).items() if v is not None}
        return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in chosen.items()}


class SelectionQueries:
    PAGE_SIZE = 50

    def __init__(self, store: Readable) -> None:
        self.store = store

    def selection_list(
        self, filters: SelectionFilters | None = None, page: int = 1
    ) -> SelectionPage:
        """The selections matching ``filters``, the most recently active first, one page."""
        filters = filters or SelectionFilters()
        if page < 1:
            raise ValueError(f"page must be 1 or more, not {page}")
        where, params = _where(filters)
        total = int(
            self.store.query(f"SELECT COUNT(*) AS n FROM selection_list s WHERE {where}", params)[
                0
            ]["n"]
        )
        rows = self.store.query(
            f"SELECT s.*, {COUNTS} FROM selection_list s WHERE {where} "
            "ORDER BY s.last_step_at DESC, s.selection_id LIMIT %s OFFSET %s",
            [*params, self.PAGE_SIZE, (page - 1) * self.PAGE_SIZE],
        )
        return SelectionPage(
            items=[_item(r) for r in rows],
            page=page,
            page_size=self.PAGE_SIZE,
            total=total,
            filters=filters.as_dict(),
        )

    def in_progress(
        self, stage: SelectionStage | None = None, unit: str | None = None, page: int = 1
    ) -> SelectionPage:
        """The selections in progress (not appointed, withdrawn or voided)."""
        return self.selection_list(SelectionFilters(stage=stage, unit=unit), page)

    def get(self, selection_id: str) -> SelectionListItem | None:
        rows = self.store.query(
            f"SELECT s.*, {COUNTS} FROM selection_list s WHERE s.selection_id = %s",
            (selection_id,),
        )
        return _item(rows[0]) if rows else None

    def naming(self, cadre_id: str) -> list[SelectionListItem]:
        """Every selection naming ``cadre_id`` as a candidate, the most recently active first."""
        where, params = _where(SelectionFilters(in_progress=False, cadre_id=cadre_id))
        rows = self.store.query(
            f"SELECT s.*, {COUNTS} FROM selection_list s WHERE {where} "
            "ORDER BY s.last_step_at DESC, s.selection_id",
            params,
        )
        return [_item(r) for r in rows]

    def candidates(self, selection_id: str) -> list[SelectionCandidateRow]:
        """A selection's candidates, most recommendation votes first."""
        rows = self.store.query(
            "SELECT c.*, EXISTS (SELECT 1 FROM selection_holds h WHERE h.selection_id = "
            "c.selection_id AND h.candidate_id = c.candidate_id AND h.open = 1) AS held "
            "FROM selection_candidates c WHERE c.selection_id = %s "
            "ORDER BY c.votes DESC, c.candidate_id",
            (selection_id,),
        )
        return [_candidate(r) for r in rows]


def _where(filters: SelectionFilters) -> tuple[str, list[Any]]:
    where: list[str] = ["s.stage IS NOT NULL"]
    params: list[Any] = []
    if filters.in_progress:
        where.append(f"s.stage NOT IN ({marks(FINISHED)})")
        params += FINISHED
    if filters.stage is not None:
        where.append("s.stage = %s")
        params.append(filters.stage.value)
    if filters.unit is not None:
        where.append("s.unit = %s")
        params.append(filters.unit)
    if filters.cadre_id is not None:
        where.append(
            "s.selection_id IN (SELECT selection_id FROM selection_candidates WHERE cadre_id = %s)"
        )
        params.append(filters.cadre_id)
    return " AND ".join(where), params


def _item(row: dict[str, Any]) -> SelectionListItem:
    stage = SelectionStage(row["stage"])
    return SelectionListItem(
        selection_id=row["selection_id"],
        unit=row["unit"] or "",
        posts=orjson.loads(row["posts"]) if row["posts"] else [],
        stage=stage.value,
        stage_zh=stage.zh,
        proposed_on=date_of(row["proposed_on"]),
        last_step=row["last_step"],
        last_step_on=date_of(row["last_step_on"]),
        next_step=row["next_step"],
        waits_on=row["waits_on"],
        waits_on_zh=zh_of(SelectionWait, row["waits_on"]),
        waits_until=date_of(row["waits_until"]),
        candidates=int(row["candidate_count"]),
        held=int(row["held_count"]),
        version=int(row["version"]),
    )


def _candidate(row: dict[str, Any]) -> SelectionCandidateRow:
    status = CandidateStatus(row["status"] or CandidateStatus.RECOMMENDED.value)
    clean = row["integrity_clean"]
    return SelectionCandidateRow(
        selection_id=row["selection_id"],
        candidate_id=row["candidate_id"],
        cadre_id=row["cadre_id"],
        name=row["name"],
        unit=row["unit"],
        position=row["position"],
        votes=row["votes"],
        status=status.value,
        status_zh=status.zh,
        held=bool(row["held"]),
        integrity_clean=None if clean is None else bool(clean),
        appointed_post=row["appointed_post"],
    )
