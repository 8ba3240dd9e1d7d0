"""Queries over the supervision projects (``project_list``, ``project_deadlines``): the
projects in progress and all of them, a page at a time with their total, filtered by stage
or selection; the projects on one selection; the projects resting on one case.

The selection's unit is read from ``selection_list`` (the selections read model), and the
open deadline (the unmet one due first) and its state today are computed here from the
deadlines' rows (``deadline_view``: a provisional day is counted again once its year's
schedule is loaded): nothing computed from another row is stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.glossary import Category, ProjectStage, Verdict
from schemas.views import DeadlineView
from schemas.views_project import ProjectListItem, ProjectPage
from services.common.china_time import china_today
from services.common.config import Config
from services.common.deadline_views import deadline_view
from services.projections.cases.rows import Readable, date_of, marks, zh_of

# Projects no longer in progress: closed.
FINISHED = (ProjectStage.CLOSED.value,)
SELECT = (
    "SELECT p.*, s.unit AS unit FROM project_list p "
    "LEFT JOIN selection_list s ON s.selection_id = p.selection_id"
)


@dataclass(frozen=True)
class ProjectFilters:
    """``in_progress``: only the projects not closed."""

    in_progress: bool = True
    stage: ProjectStage | None = None
    selection_id: str | None = None

    def as_dict(self) -> dict[str, str]:
        chosen = {k: v for k, v in vars(self).items() if v is not None}
        return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in chosen.items()}


class ProjectQueries:
    PAGE_SIZE = 50

    def __init__(
        self,
        store: Readable,
        config: Config | None = None,
        today: Callable[[], dt.date] = china_today,
    ) -> None:
        self.store = store
        self.config = config or Config()
        self.today = today

    def project_list(self, filters: ProjectFilters | None = None, page: int = 1) -> ProjectPage:
        """The projects matching ``filters``, the most recently active first, one page."""
        filters = filters or ProjectFilters()
        if page < 1:
            raise ValueError(f"page must be 1 or more, not {page}")
        where, params = _where(filters)
        total = int(
            self.store.query(f"SELECT COUNT(*) AS n FROM project_list p WHERE {where}", params)[0][
                "n"
            ]
        )
        rows = self.store.query(
            f"{SELECT} WHERE {where} ORDER BY p.last_step_at DESC, p.project_id LIMIT %s OFFSET %s",
            [*params, self.PAGE_SIZE, (page - 1) * self.PAGE_SIZE],
        )
        return ProjectPage(
            items=self._items(rows),
            page=page,
            page_size=self.PAGE_SIZE,
            total=total,
            filters=filters.as_dict(),
        )

    def in_progress(self, stage: ProjectStage | None = None, page: int = 1) -> ProjectPage:
        """The projects in progress (not closed)."""
        return self.project_list(ProjectFilters(stage=stage), page)

    def get(self, project_id: str) -> ProjectListItem | None:
        rows = self.store.query(f"{SELECT} WHERE p.project_id = %s", (project_id,))
        items = self._items(rows)
        return items[0] if items else None

    def on_selection(self, selection_id: str) -> list[ProjectListItem]:
        """Every project opened on the selection, the first opened first."""
        where, params = _where(ProjectFilters(in_progress=False, selection_id=selection_id))
        rows = self.store.query(
            f"{SELECT} WHERE {where} ORDER BY p.opened_on, p.project_id", params
        )
        return self._items(rows)

    def resting_on(self, case_id: str) -> list[ProjectListItem]:
        """Every project opened on the case (among its basis), the first opened first."""
        rows = self.store.query(
            f"{SELECT} WHERE p.stage IS NOT NULL AND p.project_id IN "
            "(SELECT project_id FROM project_basis WHERE case_id = %s) "
            "ORDER BY p.opened_on, p.project_id",
            (case_id,),
        )
        return self._items(rows)

    def open_deadlines(self, project_ids: Sequence[str]) -> dict[str, DeadlineView]:
        """Each project's open deadline (unmet, due first), its state today."""
        if not project_ids:
            return {}
        rows = self.store.query(
            "SELECT * FROM project_deadlines WHERE met_on IS NULL "
            f"AND due IS NOT NULL AND project_id IN ({marks(project_ids)})",
            list(project_ids),
        )
        today = self.today()
        first: dict[str, DeadlineView] = {}
        for row in rows:
            view = deadline_view(row["name"], row, self.config, today)
            earlier = first.get(row["project_id"])
            if earlier is None or (view.due, view.name) < (earlier.due, earlier.name):
                first[row["project_id"]] = view
        return first

    def _items(self, rows: list[dict[str, Any]]) -> list[ProjectListItem]:
        deadlines = self.open_deadlines([r["project_id"] for r in rows])
        return [_item(r, deadlines.get(r["project_id"])) for r in rows]


def _where(filters: ProjectFilters) -> tuple[str, list[Any]]:
    where: list[str] = ["p.stage IS NOT NULL"]
    params: list[Any] = []
    if filters.in_progress:
        where.append(f"p.stage NOT IN ({marks(FINISHED)})")
        params += FINISHED
    if filters.stage is not None:
        where.append("p.stage = %s")
        params.append(filters.stage.value)
    if filters.selection_id is not None:
        where.append("p.selection_id = %s")
        params.append(filters.selection_id)
    return " AND ".join(where), params


def _item(row: dict[str, Any], deadline: DeadlineView | None) -> ProjectListItem:
    stage = ProjectStage(row["stage"])
    irregularities = orjson.loads(row["irregularities"]) if row["irregularities"] else []
    return ProjectListItem(
        project_id=row["project_id"],
        selection_id=row["selection_id"],
        unit=row["unit"],
        irregularities=irregularities,
        irregularities_zh=[zh_of(Category, i) or i for i in irregularities],
        stage=stage.value,
        stage_zh=stage.zh,
        opened_on=date_of(row["opened_on"]),
        last_step=row["last_step"],
        last_step_on=date_of(row["last_step_on"]),
        verdict=row["verdict"],
        verdict_zh=zh_of(Verdict, row["verdict"]),
        deadline=deadline,
        version=int(row["version"]),
    )
