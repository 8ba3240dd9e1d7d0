"""``Desk``: a desk's pages are the methods of a subclass marked with ``route.get`` /
``route.post``; ``PageServices``: what they read and write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import APIRouter

from services.casework.application import CaseworkApplication
from services.intake.application import IntakeApplication
from services.projections.archive_queries import ArchiveQueries
from services.projections.case_queries import CaseQueries
from services.projections.integrity import IntegrityReplies
from services.projections.liaison_queries import LiaisonQueries
from services.projections.queries import Queries
from services.web.lists import Lists


@dataclass
class PageServices:
    intake: IntakeApplication
    casework: CaseworkApplication
    queries: Queries
    lists: Lists = field(init=False)
    # The read side's query modules, over the same store and configuration as ``queries``.
    cases: CaseQueries = field(init=False)
    archives: ArchiveQueries = field(init=False)
    replies: IntegrityReplies = field(init=False)
    liaison: LiaisonQueries = field(init=False)

    def __post_init__(self) -> None:
        store, today = self.queries.store, self.queries.today
        self.cases = CaseQueries(store, self.queries.config, today=today)
        self.lists = Lists(store, self.intake, self.casework, queues=self.cases)
        self.archives = ArchiveQueries(store, self.queries.register)
        self.replies = IntegrityReplies(self.archives, today=today)
        self.liaison = LiaisonQueries(store, today=today, config=self.queries.config)


Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_ROUTE = "__page_route__"


class _Route:
    """Marks a ``Desk`` method as a page: ``@route.get(path, **options)`` takes the options
    of ``APIRouter.get`` (``@route.post`` those of ``APIRouter.post``)."""

    def get(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self._mark("GET", path, options)

    def post(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self._mark("POST", path, options)

    @staticmethod
    def _mark(method: str, path: str, options: dict[str, Any]) -> Callable[[Endpoint], Endpoint]:
        def mark(endpoint: Endpoint) -> Endpoint:
            setattr(endpoint, _ROUTE, (method, path, options))
            return endpoint

        return mark


route = _Route()


class Desk:
    """One desk's pages over the services they read and write. ``router()`` adds the marked
    methods in the order the class defines them (the order matters where two paths overlap:
    ``/cases/mine`` before ``/cases/{case_id}``)."""

    def __init__(self, services: PageServices) -> None:
        self.services = services
        self.intake = services.intake
        self.casework = services.casework
        self.lists = services.lists

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        for name, member in vars(type(self)).items():
            marked = getattr(member, _ROUTE, None)
            if marked is not None:
                method, path, options = marked
                router.add_api_route(path, getattr(self, name), methods=[method], **options)
        return router
