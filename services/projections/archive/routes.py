"""HTTP routes of the supervision archive, cadre candidates and integrity opinion replies."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import ValidationError

from schemas.views_archive import (
    CadreArchive,
    CandidateView,
    IntegrityReply,
    IntegrityRequest,
)
from services.accounts.access import ARCHIVE_READERS, CANDIDATE_READERS, INTEGRITY_READERS
from services.accounts.model import Principal
from services.accounts.web import require_api_roles
from services.common.web import ApiError
from services.projections.archive.documents import (
    DOCX_MEDIA_TYPE,
    docx_filename,
    integrity_reply_docx,
)
from services.projections.archive.integrity import IntegrityReplies, UnknownCadres
from services.projections.archive.queries import ArchiveQueries, CadreNotFound

ArchiveReader = Annotated[Principal, Depends(require_api_roles(*ARCHIVE_READERS))]
IntegrityReader = Annotated[Principal, Depends(require_api_roles(*INTEGRITY_READERS))]
CandidateReader = Annotated[Principal, Depends(require_api_roles(*CANDIDATE_READERS))]


def _docx_response(reply: IntegrityReply) -> Response:
    return Response(
        integrity_reply_docx(reply),
        media_type=DOCX_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{docx_filename(reply)}"',
            "Cache-Control": "no-store",
        },
    )


def build_router(archives: ArchiveQueries, replies: IntegrityReplies) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["information base"])

    def reply_to(request: IntegrityRequest) -> IntegrityReply:
        try:
            return replies.reply(request)
        except UnknownCadres as error:
            raise ApiError(str(error), 422) from None

    @router.get("/cadres/{cadre_id}/archive")
    def cadre_archive(cadre_id: str, _: ArchiveReader) -> CadreArchive:
        """The supervision archive (领导干部监督档案): every report naming the cadre (by register
        id, by an operator's identification or by exact name and unit) and every archived step
        of their cases, with dates and ledger numbers."""
        try:
            return archives.archive(cadre_id)
        except CadreNotFound as error:
            raise ApiError(str(error), 404) from None

    @router.get("/cadre-candidates")
    def cadre_candidates(
        _: CandidateReader, include_identified: bool = False
    ) -> list[CandidateView]:
        """People named in reports without a register id, grouped as merged, with the registered
        cadres they may be; confirm or merge with ``POST /api/v1/reports/{id}/identify_subject``."""
        return archives.candidates(include_identified=include_identified)

    @router.post(
        "/integrity-replies",
        response_model=IntegrityReply,
        responses={200: {"content": {DOCX_MEDIA_TYPE: {}}}},
    )
    def integrity_replies(
        body: IntegrityRequest,
        _: IntegrityReader,
        accept: Annotated[str, Header()] = "application/json",
    ) -> Any:
        """The integrity opinion (廉政意见回复) for each cadre on ``as_of`` (default today); with
        ``Accept: application/vnd.openxmlformats-officedocument.wordprocessingml.document``
        as a Word document. An unknown cadre id: 422 naming it, nothing produced."""
        reply = reply_to(body)
        if DOCX_MEDIA_TYPE in accept:
            return _docx_response(reply)
        return reply

    @router.get(
        "/integrity-replies.docx",
        response_class=Response,
        responses={200: {"content": {DOCX_MEDIA_TYPE: {}}}},
    )
    def integrity_replies_docx(
        _: IntegrityReader,
        cadre_ids: Annotated[str, Query(min_length=1, max_length=8000)],
        as_of: dt.date | None = None,
        purpose: Annotated[str, Query(max_length=200)] = "",
    ) -> Response:
        """The same reply as a Word document: ``cadre_ids`` comma-separated."""
        try:
            request = IntegrityRequest(
                cadre_ids=[i for i in (p.strip() for p in cadre_ids.split(",")) if i],
                as_of=as_of,
                purpose=purpose,
            )
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'cadre_ids'}: {e['msg']}"
                for e in error.errors()
            )
            raise ApiError(problems, 422) from None
        return _docx_response(reply_to(request))

    return router
