"""The information desk: work queues, the cadre register and each cadre's supervision
archive, and integrity opinion replies (on the page and as a Word document).

They read the read side's query modules (``CaseQueries``, ``ArchiveQueries``,
``IntegrityReplies``) and the account store; who may open which page is the API's rule for
the same data (``projections.cases.routes``, ``projections.archive.routes``). None of them
holds a reporter's identity: the read models hold none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.glossary import Queue, Role
from schemas.views_archive import IntegrityReply, IntegrityRequest
from services.projections.archive.documents import (
    DOCX_MEDIA_TYPE,
    docx_filename,
    integrity_reply_docx,
)
from services.projections.archive.integrity import UnknownCadres
from services.projections.archive.queries import CadreNotFound
from services.projections.cases.paging import (
    MAX_LIMIT,
    BadCursor,
    Keyed,
    SortKey,
    approval_key,
    case_key,
    deadline_key,
    page_of,
    report_key,
)
from services.web.i18n import Gettext
from services.web.shell import (
    CadreReader,
    Desk,
    IntegrityReader,
    PageServices,
    Queuer,
    page,
    people,
    route,
    tr,
    typed_date,
)

OP, H = Role.OPERATOR, Role.HANDLER
QUEUE_PAGE = 50  # items of each queue on the queues page (then a "next page" link)
QUEUE_KEYS: dict[str, Callable[[Any], SortKey]] = {
    "reports": report_key,
    "cases": case_key,
    "deadlines": deadline_key,
    "approvals": approval_key,
}
IDS_SPLIT = re.compile(r"[\s,，、;；]+")


class InformationDesk(Desk):
    """Queues, cadres, archives and integrity replies."""

    # -- work queues -----------------------------------------------------------------------

    @route.get("/queues", response_class=HTMLResponse)
    def queues(
        self,
        request: Request,
        user: Queuer,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = QUEUE_PAGE,
    ) -> Response:
        """The queues of the signed-in role, with their deadline clocks: ``limit`` items of
        each, and a "next page" link per queue (its cursor as ``after_<queue>``, 0027)."""
        q = self.services.cases
        sections: list[dict[str, Any]] = []
        params = request.query_params

        def add(queue: Queue, kind: str, items: list[Any] | Keyed[Any]) -> None:
            after = params.get(f"after_{queue.value}") or None
            paged = page_of(queue.value, items, QUEUE_KEYS[kind], limit=limit, after=after)
            following = ""
            if paged.next:
                query = {k: v for k, v in params.items() if k != f"after_{queue.value}"}
                query |= {"limit": str(limit), f"after_{queue.value}": paged.next}
                following = f"/queues?{urlencode(query)}#q-{queue.value}"
            sections.append(
                {
                    "queue": queue.value,
                    "kind": kind,
                    "items": paged.items,
                    "total": paged.total,
                    "next_url": following,
                }
            )

        try:
            if user.role is OP:
                add(Queue.UNREGISTERED, "reports", q.unregistered())
                add(Queue.UNTRIAGED, "reports", q.untriaged())
                add(Queue.DUE_SOON, "deadlines", q.deadline_queue("due_soon", cases=False))
                add(Queue.OVERDUE, "deadlines", q.deadline_queue("overdue", cases=False))
            elif user.role is H:
                add(Queue.MINE, "cases", q.mine(user.username))
                add(
                    Queue.DUE_SOON, "deadlines", q.deadline_queue("due_soon", handler=user.username)
                )
                add(Queue.OVERDUE, "deadlines", q.deadline_queue("overdue", handler=user.username))
            else:
                add(Queue.AWAITING_APPROVAL, "approvals", q.awaiting_approval())
                add(Queue.OVERDUE, "deadlines", q.deadline_queue("overdue"))
        except BadCursor as error:
            return page(request, "error.html", 422, user=user, message=str(error), roles=[])
        return page(
            request,
            "queues.html",
            user=user,
            sections=sections,
            people=people(request),
            today=q.today(),
        )

    # -- cadres: the register, the archive, unregistered names -------------------------------

    @route.get("/cadres", response_class=HTMLResponse)
    def cadres(self, request: Request, user: CadreReader, q: str = "") -> Response:
        text = q.strip()[:100]
        found = self.services.queries.register.search(text, limit=50) if text else []
        return page(request, "cadres.html", user=user, q=text, found=found)

    @route.get("/cadres/{cadre_id}", response_class=HTMLResponse)
    def cadre_archive(self, request: Request, cadre_id: str, user: CadreReader) -> Response:
        """The supervision archive (领导干部监督档案) of one registered cadre."""
        try:
            archive = self.services.archives.archive(cadre_id[:64])
        except CadreNotFound:
            raise StarletteHTTPException(404, "no such cadre") from None
        return page(request, "cadre.html", user=user, archive=archive, people=people(request))

    # -- integrity opinion replies ------------------------------------------------------------

    def integrity_request(
        self, request: Request, _: Gettext
    ) -> tuple[IntegrityRequest | None, str]:
        """The request the query string describes (None without cadres), or the problem."""
        params = request.query_params
        # Ticked boxes (cadre_ids, repeated), a typed list (ids); either may hold "a,b".
        typed = [*params.getlist("cadre_ids"), params.get("ids", "")]
        ids = list(dict.fromkeys(i for text in typed for i in IDS_SPLIT.split(text) if i))
        if not ids:
            return None, ""
        try:
            as_of = typed_date(params.get("as_of", ""), _("Date of the reply"), _)
        except ValueError as error:
            return None, str(error)
        try:
            return IntegrityRequest(
                cadre_ids=ids, as_of=as_of, purpose=params.get("purpose", "")
            ), ""
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
            )
            return None, _("The request cannot be used: %(problems)s", problems=problems)

    def integrity_reply(
        self, request: Request, _: Gettext
    ) -> tuple[IntegrityRequest | None, IntegrityReply | None, str]:
        wanted, error = self.integrity_request(request, _)
        if wanted is None:
            return None, None, error
        try:
            return wanted, self.services.replies.reply(wanted), ""
        except UnknownCadres as unknown:
            names = "、".join(unknown.cadre_ids)
            return wanted, None, _("Not in the cadre register: %(ids)s", ids=names)

    @route.get("/integrity", response_class=HTMLResponse)
    def integrity(self, request: Request, user: IntegrityReader, q: str = "") -> Response:
        """Pick cadres (search the register), a date and a purpose; the reply per cadre."""
        _ = tr(request)
        wanted, reply, error = self.integrity_reply(request, _)
        text = q.strip()[:100]
        found = self.services.queries.register.search(text, limit=50) if text else []
        chosen = list(wanted.cadre_ids) if wanted else []
        chosen += [
            i
            for text in request.query_params.getlist("cadre_ids")
            for i in IDS_SPLIT.split(text)
            if i and i not in chosen
        ]
        query = ""
        if wanted is not None and reply is not None:
            query = urlencode(
                {
                    "ids": ",".join(wanted.cadre_ids),
                    "as_of": reply.as_of.isoformat(),
                    "purpose": wanted.purpose,
                }
            )
        return page(
            request,
            "integrity.html",
            422 if error else 200,
            user=user,
            q=text,
            found=found,
            chosen=chosen,
            chosen_cadres=dict.fromkeys(chosen) | self.services.queries.register.get_many(chosen),
            as_of=request.query_params.get("as_of", ""),
            purpose=request.query_params.get("purpose", ""),
            reply=reply,
            error=error,
            docx_query=query,
        )

    @route.get("/integrity.docx")
    def integrity_docx(self, request: Request, user: IntegrityReader) -> Response:
        """The same reply as a Word document (导出Word)."""
        _ = tr(request)
        _wanted, reply, error = self.integrity_reply(request, _)
        if reply is None:
            return page(
                request,
                "error.html",
                422,
                user=user,
                message=error or _("Choose at least one cadre."),
                roles=[],
            )
        return Response(
            integrity_reply_docx(reply),
            media_type=DOCX_MEDIA_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="{docx_filename(reply)}"',
                "Cache-Control": "no-store",
            },
        )


def build_router(services: PageServices) -> APIRouter:
    return InformationDesk(services).router()
