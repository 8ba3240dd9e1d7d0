"""The read side: every read model's query objects over one store, composed once.

``ReadSide.over`` builds each query object once; the composition root
(``services.bootstrap.build_read_side``) calls it, and pages, the API and the CLI read
through the one ``ReadSide`` it returns. ``routers`` gives the read models' API routes, each
from its own folder (timeline/, archive/, liaison/, cases/, selections/,
projects/).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter

from services.common.config import Config
from services.projections.archive import routes as archive_routes
from services.projections.archive.integrity import IntegrityReplies
from services.projections.archive.queries import ArchiveQueries
from services.projections.archive.register import CadreRegister
from services.projections.cases import routes as cases_routes
from services.projections.cases.queries import CaseQueries
from services.projections.liaison import routes as liaison_routes
from services.projections.liaison.queries import LiaisonQueries
from services.projections.projects import routes as projects_routes
from services.projections.projects.queries import ProjectQueries
from services.projections.selections import routes as selections_routes
from services.projections.selections.queries import SelectionQueries
from services.projections.store import ReadStore
from services.projections.timeline import routes as timeline_routes
from services.projections.timeline.queries import Queries


@dataclass
class ReadSide:
    """What the read models answer, over one store, one configuration and one today."""

    store: ReadStore
    register: CadreRegister  # the cadre register (archive/register.py)
    queries: Queries  # timelines, the audit's changes, the configuration (timeline/)
    cases: CaseQueries  # the queues, the case list, the reporter's follow-up (cases/)
    archives: ArchiveQueries  # the cadres' supervision archives, the candidates (archive/)
    replies: IntegrityReplies  # the integrity replies (廉政意见回复, archive/)
    liaison: LiaisonQueries  # the liaison figures, referrals, quarterly report (liaison/)
    selections: SelectionQueries  # the selections and their candidates (selections/)
    projects: ProjectQueries  # the supervision projects on selections (projects/)

    @classmethod
    def over(cls, store: ReadStore, *, config: Config, today: Callable[[], dt.date]) -> ReadSide:
        register = CadreRegister(store)
        archives = ArchiveQueries(store, register)
        return cls(
            store=store,
            register=register,
            queries=Queries(store, register, config=config, today=today),
            cases=CaseQueries(store, config, today=today),
            archives=archives,
            replies=IntegrityReplies(archives, today=today),
            liaison=LiaisonQueries(store, today=today, config=config),
            selections=SelectionQueries(store),
            projects=ProjectQueries(store, config, today=today),
        )

    def routers(self) -> list[APIRouter]:
        """The read models' API routes (timelines, archives and replies, liaison, queues,
        selections, projects)."""
        return [
            timeline_routes.build_router(self.queries),
            archive_routes.build_router(self.archives, self.replies),
            liaison_routes.build_router(self.liaison),
            cases_routes.build_router(self.cases),  # /api/v1/queues/*, /api/v1/cases
            selections_routes.build_router(self.selections),  # GET /api/v1/selections
            projects_routes.build_router(self.projects),  # GET /api/v1/projects
        ]
