"""HTTP routes of the case list and the work queues (待办队列).

``GET /api/v1/queues/{queue}``: unregistered and untriaged reports (operators), my cases
(handlers), my section's cases (leaders), deadlines due soon or overdue, and what waits for
a leader's approval. ``GET /api/v1/cases``: the case list, filtered and paged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from schemas.glossary import CaseKind, CaseState, Category, Queue, Role
from schemas.views_cases import CasePage, DeadlineQueueItem, QueueItems, QueueView
from services.accounts.access import CASE_LIST_ROLES, QUEUE_ROLES
from services.accounts.model import Principal
from services.accounts.web import accounts_of, api_principal, require_api_roles
from services.common.web import ApiError
from services.projections.cases.paging import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    BadCursor,
    Keyed,
    Paged,
    SortKey,
    approval_key,
    case_key,
    deadline_key,
    page_of,
    report_key,
)
from services.projections.cases.queries import CaseQueries
from services.projections.cases.rows import CaseFilters

# Each queue's order, as the paging cursor records it (services/projections/cases/).
KEYS: dict[Queue, Callable[[Any], SortKey]] = {
    Queue.UNREGISTERED: report_key,
    Queue.UNTRIAGED: report_key,
    Queue.MINE: case_key,
    Queue.SECTION: case_key,
    Queue.DUE_SOON: deadline_key,
    Queue.OVERDUE: deadline_key,
    Queue.AWAITING_APPROVAL: approval_key,
}


def build_router(queries: CaseQueries) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["queues"])

    @router.get(
        "/queues/{queue}",
        responses={
            403: {"description": "the queue is not one of the caller's role"},
            404: {"description": "no such queue"},
            409: {"description": "the section queue, for an account that names no section"},
            422: {"description": "a cursor (`after`) this queue did not hand out"},
        },
    )
    def queue(
        queue: str,
        request: Request,
        principal: Annotated[Principal, Depends(api_principal)],
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        after: Annotated[str | None, Query(min_length=1, max_length=2000)] = None,
    ) -> QueueView:
        """One work queue, in its order, ``limit`` items a page. Operators see report
        deadlines, handlers their own cases' ones, leaders and auditors all; ``mine`` is the
        signed-in handler's cases. ``count``: the items on this page; ``total``: in the whole
        queue; ``next``: the cursor to pass as ``after`` for the next page (null on the last)."""
        try:
            which = Queue(queue)
        except ValueError:
            names = ", ".join(q.value for q in Queue)
            raise ApiError(f"no queue {queue!r}; the queues are: {names}", 404) from None
        require_api_roles(*QUEUE_ROLES[which])(principal)
        items = _items(queries, which, principal, request)
        try:
            paged: Paged[Any] = page_of(which.value, items, KEYS[which], limit=limit, after=after)
        except BadCursor as error:
            raise ApiError(str(error), 422) from None
        return QueueView(
            queue=which.value,
            queue_zh=which.zh,
            count=len(paged.items),
            items=paged.items,
            total=paged.total,
            next=paged.next,
        )

    @router.get("/cases")
    def case_list(
        request: Request,
        principal: Annotated[Principal, Depends(require_api_roles(*CASE_LIST_ROLES))],
        state: CaseState | None = None,
        handler: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
        kind: CaseKind | None = None,
        category: Category | None = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ) -> CasePage:
        """Every case, the most recently active first, ``CaseQueries.PAGE_SIZE`` a page.
        A handler sees the cases of their own and of their section's handlers only."""
        visible = None
        if principal.role is Role.HANDLER:
            visible = frozenset({principal.username, *_section_handlers(request, principal)})
        filters = CaseFilters(
            state=state, handler=handler, kind=kind, category=category, visible_handlers=visible
        )
        return queries.case_list(filters, page)

    return router


def _section_handlers(request: Request, principal: Principal) -> list[str]:
    """The handlers of the caller's section (none without a section)."""
    if not principal.section:
        return []
    return [
        a.username
        for a in accounts_of(request).list_users()
        if a.role is Role.HANDLER and a.section == principal.section
    ]


def _items(
    queries: CaseQueries, which: Queue, principal: Principal, request: Request
) -> QueueItems | Keyed[DeadlineQueueItem]:
    # A handler's deadlines are their own cases'; an operator's are the reports'.
    handler = principal.username if principal.role is Role.HANDLER else None
    match which:
        case Queue.UNREGISTERED:
            return queries.unregistered()
        case Queue.UNTRIAGED:
            return queries.untriaged()
        case Queue.MINE:
            return queries.mine(principal.username)
        case Queue.SECTION:
            if not principal.section:
                raise ApiError("your account names no section; an administrator can set one", 409)
            return queries.section(_section_handlers(request, principal))
        case Queue.DUE_SOON | Queue.OVERDUE:
            # Keyed: only the page asked for is built (0027).
            return queries.deadline_queue(
                which.value, handler=handler, cases=principal.role is not Role.OPERATOR
            )
        case Queue.AWAITING_APPROVAL:
            return queries.awaiting_approval()
    raise AssertionError(which)
