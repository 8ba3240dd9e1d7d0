"""``Desk``: a desk's pages are the methods of a subclass marked with ``route.get`` /
``route.post``; ``PageServices``: what they read and write, with the parts a process
lacks left out (decision record 0031)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from fastapi import APIRouter

from services.casework.application import CaseworkApplication
from services.common.application import JianduApplication
from services.intake.application import IntakeApplication
from services.intake.reveal import IdentityReveal
from services.projections.archive.integrity import IntegrityReplies
from services.projections.archive.queries import ArchiveQueries
from services.projections.cases.queries import CaseQueries
from services.projections.liaison.queries import LiaisonQueries
from services.projections.projects.queries import ProjectQueries
from services.projections.read_side import ReadSide
from services.projections.selections.queries import SelectionQueries
from services.projections.timeline.queries import Queries
from services.web.lists import Lists, MissingPart, Reports

# The parts of ``PageServices`` a desk may need (its ``needs``); the read side is always there.
PARTS = frozenset({"intake", "casework", "reports", "case_log", "reveal"})


@dataclass
class PageServices:
    """What the pages read and write. ``read`` (the one read side the composition root built:
    ``queries``, ``cases``, ``archives``, ``replies``, ``liaison``, ``selections``, ``projects``) is always
    there; the other parts only in a process that has them (decision record 0031):

    - ``intake``: intake's application, which the pages write through (intake's process);
    - ``casework``: casework's application, likewise (casework's process);
    - ``reports``: reports read as intake keeps them (default: ``intake``; in casework's
      process intake's log read only, for the approvals page);
    - ``case_log``: casework's log read only, for the record's check (default: ``casework``);
    - ``reveal``: the audited identity reveal, the command the API calls too.

    The embedded mode has them all. A desk names the parts it needs (``Desk.needs``): it is
    refused at install where one is missing, and sees only those."""

    read: ReadSide
    intake: IntakeApplication | None = None
    casework: CaseworkApplication | None = None
    reports: Reports | None = None
    case_log: JianduApplication | None = None
    reveal: IdentityReveal | None = None

    def __post_init__(self) -> None:
        if self.reports is None:
            self.reports = self.intake
        if self.case_log is None:
            self.case_log = self.casework

    # The read side's query objects, as the composition root built them (one ``ReadSide``).
    @property
    def queries(self) -> Queries:
        return self.read.queries

    @property
    def cases(self) -> CaseQueries:
        return self.read.cases

    @property
    def archives(self) -> ArchiveQueries:
        return self.read.archives

    @property
    def replies(self) -> IntegrityReplies:
        return self.read.replies

    @property
    def liaison(self) -> LiaisonQueries:
        return self.read.liaison

    @property
    def selections(self) -> SelectionQueries:
        return self.read.selections

    @property
    def projects(self) -> ProjectQueries:
        return self.read.projects

    def missing(self, needs: Iterable[str]) -> list[str]:
        return sorted(part for part in needs if getattr(self, part) is None)


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
    ``/cases/mine`` before ``/cases/{case_id}``).

    ``needs``: the parts of ``PageServices`` beyond the read side that the desk's pages use.
    Made where one of them is missing, the desk is refused (``MissingPart``: the process
    does not start); a part it does not name is not reachable from it (``self.intake`` and the
    like raise, and its ``lists`` read only the reports or cases it names)."""

    needs: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, services: PageServices) -> None:
        unknown = sorted(self.needs - PARTS)
        if unknown:
            raise ValueError(f"{type(self).__name__} needs unknown parts {unknown}")
        missing = services.missing(self.needs)
        if missing:
            raise MissingPart(
                f"{type(self).__name__} needs {', '.join(missing)}, which this process "
                "does not have: serve the desk where its data is owned (decision record 0031)"
            )
        self.services = services
        self.lists = Lists(
            services.reports if "reports" in self.needs else None,
            services.casework if "casework" in self.needs else None,
            queues=services.cases,
            archives=services.archives,
        )

    def _part(self, name: str) -> Any:
        if name not in self.needs:
            raise MissingPart(f"{type(self).__name__} does not name {name} in its needs")
        return getattr(self.services, name)

    @property
    def intake(self) -> IntakeApplication:
        part: IntakeApplication = self._part("intake")
        return part

    @property
    def casework(self) -> CaseworkApplication:
        part: CaseworkApplication = self._part("casework")
        return part

    @property
    def reports(self) -> Reports:
        part: Reports = self._part("reports")
        return part

    @property
    def case_log(self) -> JianduApplication:
        part: JianduApplication = self._part("case_log")
        return part

    @property
    def reveal(self) -> IdentityReveal:
        part: IdentityReveal = self._part("reveal")
        return part

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        for name, member in vars(type(self)).items():
            marked = getattr(member, _ROUTE, None)
            if marked is not None:
                method, path, options = marked
                router.add_api_route(path, getattr(self, name), methods=[method], **options)
        return router
