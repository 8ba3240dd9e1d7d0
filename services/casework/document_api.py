"""The official documents' HTTP routes (decision 0035): a case's (and a selection's)
documents listed, one issued, one downloaded as the Word file it was sent as.

A download renders the fields the ``DocumentIssued`` event recorded with the template version
it recorded (kept in the configuration store), so an old document downloads as sent after
the template is replaced. Reads are the case's (or selection's) reads; issuing is
``DOCUMENT_ISSUERS``' (handlers and leaders), the procedure's rules then deciding the step.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from schemas.commands import IssueDocument
from schemas.glossary import DocumentKind, Role
from schemas.project_commands import IssueProjectDocument
from schemas.selection_commands import IssueSelectionDocument
from schemas.views import DocumentableStep, DocumentTemplateView, DocumentView
from services.accounts.access import (
    DOCUMENT_ISSUERS,
    PROJECT_READERS,
    PROJECT_WORKERS,
    SELECTION_ACTORS,
    SELECTION_READERS,
)
from services.accounts.model import Principal
from services.accounts.web import require_api_roles
from services.casework.application import CaseworkApplication
from services.casework.domain import Case
from services.casework.project import SupervisionProject
from services.casework.selection import Selection
from services.common.config import Config
from services.common.document_views import (
    document_view,
    docx_response,
    find_document,
)
from services.common.documents import (
    DOCX_MEDIA_TYPE,
    TemplateRefused,
    attachment,
    fields_of,
)
from services.common.web import ApiError

DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {DOCX_MEDIA_TYPE: {}},
        "description": "the document as a Word file, named in Chinese (RFC 5987 filename*)",
    },
    401: {"description": "no or expired token"},
    403: {"description": "the role may not read it, or the case is not the caller's"},
    404: {"description": "no such case, or no document of it with this number or id"},
}
ISSUE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the document was issued before about this step: the same one"},
    401: {"description": "no or expired token"},
    403: {"description": "the role may not issue documents, or the case is not the caller's"},
    404: {"description": "no such case"},
    409: {"description": "the step was not taken (document_step_taken), or the case's state"},
    422: {"description": "bad input (an unknown kind, a day after today)"},
}


def case_documents(case: Case) -> list[DocumentView]:
    return [document_view(d, f"/api/v1/cases/{case.id}") for d in case.issued]


def case_documentable(case: Case) -> list[DocumentableStep]:
    return [
        DocumentableStep(kind=kind.value, kind_zh=kind.zh, about=about, label=label)
        for kind, about, label in case.documentable_steps()
    ]


def add_case_document_routes(
    router: APIRouter,
    casework: CaseworkApplication,
    reader: Any,
    issuer: Callable[..., Any],
) -> None:
    """The case's documents: list, issue, download (``reader``/``issuer``: the case access
    dependencies of the case readers and of ``DOCUMENT_ISSUERS``)."""
    issue_access = Depends(issuer(casework, *DOCUMENT_ISSUERS))

    @router.get("/cases/{case_id}/documents")
    def list_case_documents(case_id: UUID, access: Any = reader) -> list[DocumentView]:
        """The official documents the case issued, in order of issue."""
        return case_documents(access.case)

    @router.post("/cases/{case_id}/documents", responses=ISSUE_RESPONSES, status_code=201)
    def issue_case_document(
        case_id: UUID, body: IssueDocument, response: Response, access: Any = issue_access
    ) -> DocumentView:
        """Issue the official document of a step taken (numbered in its register, recorded
        in the case); asked again for the same step: the same document, 200."""
        before = access.case.document_of(body.kind, body.about)
        case = casework.execute(
            case_id, "issue_document", body, access.principal.actor(), case=access.case
        )
        if before is not None:
            response.status_code = 200
        document = case.document_of(body.kind, body.about)
        assert document is not None
        return document_view(document, f"/api/v1/cases/{case.id}")

    @router.get(
        "/cases/{case_id}/documents/{ref}.docx",
        response_class=Response,
        responses=DOWNLOAD_RESPONSES,
    )
    def download_case_document(case_id: UUID, ref: str, access: Any = reader) -> Response:
        """The document as sent, as a Word file: ``ref`` is its number (文号) or its id."""
        return docx_response(casework.config, find_document(access.case.issued, ref))


def selection_documents(selection: Selection) -> list[DocumentView]:
    return [document_view(d, f"/api/v1/selections/{selection.id}") for d in selection.issued]


def add_selection_document_routes(
    router: APIRouter, casework: CaseworkApplication, access: Callable[..., Any]
) -> None:
    """The selection's documents (考察反馈意见): read as the selection is read
    (``SELECTION_READERS``), issued by its recorders (``SELECTION_ACTORS``: who inspects)."""
    reader = Depends(access(casework, *SELECTION_READERS))
    issuer = Depends(access(casework, *SELECTION_ACTORS))
    tags: list[str | Enum] = ["selections"]

    @router.get("/selections/{selection_id}/documents", tags=tags)
    def list_selection_documents(selection_id: UUID, found: Any = reader) -> list[DocumentView]:
        """The official documents the selection issued, in order of issue."""
        return selection_documents(found[1])

    @router.get("/selections/{selection_id}/documentable", tags=tags)
    def selection_documentable(selection_id: UUID, found: Any = reader) -> list[DocumentableStep]:
        """The inspection feedbacks that may be issued now (none issued yet)."""
        return [
            DocumentableStep(kind=kind.value, kind_zh=kind.zh, about=about, label=label)
            for kind, about, label in found[1].documentable_steps()
        ]

    @router.post(
        "/selections/{selection_id}/documents",
        responses={
            **ISSUE_RESPONSES,
            403: {"description": "the role may not issue the selection's documents"},
            404: {"description": "no such selection"},
            409: {"description": "not inspected (document_step_taken), or the stage"},
        },
        status_code=201,
        tags=tags,
    )
    def issue_selection_document(
        selection_id: UUID,
        body: IssueSelectionDocument,
        response: Response,
        found: Any = issuer,
    ) -> DocumentView:
        """Issue the inspection's feedback to a candidate or their unit's leadership team
        (numbered in its register, recorded in the selection); asked again: the same, 200."""
        before = found[1].document_of(body.kind, body.about)
        selection = casework.execute_selection(
            selection_id, "issue_document", body, found[0].actor()
        )
        if before is not None:
            response.status_code = 200
        document = selection.document_of(body.kind, body.about)
        assert document is not None
        return document_view(document, f"/api/v1/selections/{selection.id}")

    @router.get(
        "/selections/{selection_id}/documents/{ref}.docx",
        response_class=Response,
        responses={
            **DOWNLOAD_RESPONSES,
            403: {"description": "the role may not read the selection"},
            404: {"description": "no such selection, or no document of it with this number or id"},
        },
        tags=tags,
    )
    def download_selection_document(selection_id: UUID, ref: str, found: Any = reader) -> Response:
        """The document as sent, as a Word file: ``ref`` is its number (文号) or its id."""
        return docx_response(casework.config, find_document(found[1].issued, ref))


def project_documents(project: SupervisionProject) -> list[DocumentView]:
    return [document_view(d, f"/api/v1/projects/{project.id}") for d in project.issued]


def add_project_document_routes(
    router: APIRouter, casework: CaseworkApplication, access: Callable[..., Any]
) -> None:
    """The supervision project's documents (立项督查通知): read as the project is read
    (``PROJECT_READERS``), issued by who works on it (``PROJECT_WORKERS``)."""
    reader = Depends(access(casework, *PROJECT_READERS))
    issuer = Depends(access(casework, *PROJECT_WORKERS))
    tags: list[str | Enum] = ["projects"]

    @router.get("/projects/{project_id}/documents", tags=tags)
    def list_project_documents(project_id: UUID, found: Any = reader) -> list[DocumentView]:
        """The official documents the project issued, and the one it may issue now."""
        return project_documents(found[1])

    @router.post(
        "/projects/{project_id}/documents",
        responses={
            **ISSUE_RESPONSES,
            403: {"description": "the role may not issue the project's documents"},
            404: {"description": "no such project"},
            409: {"description": "no team formed yet (document_step_taken), or the stage"},
        },
        status_code=201,
        tags=tags,
    )
    def issue_project_document(
        project_id: UUID,
        body: IssueProjectDocument,
        response: Response,
        found: Any = issuer,
    ) -> DocumentView:
        """Issue the 立项督查通知 to the unit whose selection is supervised (numbered in its
        register, recorded in the project); asked again: the same, 200."""
        before = found[1].document_of(body.kind, body.about)
        project = casework.execute_project(project_id, "issue_document", body, found[0].actor())
        if before is not None:
            response.status_code = 200
        document = project.document_of(body.kind, body.about)
        assert document is not None
        return document_view(document, f"/api/v1/projects/{project.id}")

    @router.get(
        "/projects/{project_id}/documents/{ref}.docx",
        response_class=Response,
        responses={
            **DOWNLOAD_RESPONSES,
            403: {"description": "the role may not read the project"},
            404: {"description": "no such project, or no document of it with this number or id"},
        },
        tags=tags,
    )
    def download_project_document(project_id: UUID, ref: str, found: Any = reader) -> Response:
        """The document as sent, as a Word file: ``ref`` is its number (文号) or its id."""
        return docx_response(casework.config, find_document(found[1].issued, ref))


# -- templates as data: the administrator's (decision 0035) ---------------------------------

MAX_TEMPLATE_BYTES = 5_000_000


def template_view(config: Config, kind: DocumentKind) -> DocumentTemplateView:
    """A kind's template: the version documents are issued with now, every version kept, its
    number prefix and the fields a template may use."""
    return DocumentTemplateView(
        kind=kind.value,
        kind_zh=kind.zh,
        version=config.template(kind).version,
        prefix=config.documents().prefix(kind),
        fields=[
            {"name": name, "meaning": en, "meaning_zh": zh}
            for name, (en, zh) in fields_of(kind).items()
        ],
        history=config.template_history(kind),
    )


def replace_template(config: Config, kind: DocumentKind, content: bytes, who: str) -> None:
    """Replace a kind's template (422 naming the field when refused; nothing kept then)."""
    if len(content) > MAX_TEMPLATE_BYTES:
        raise ApiError(f"the template is larger than {MAX_TEMPLATE_BYTES} bytes", 422)
    try:
        config.replace_template(kind, content, changed_by=who)
    except TemplateRefused as refused:
        raise ApiError(str(refused), 422) from None


def add_template_routes(router: APIRouter, casework: CaseworkApplication) -> None:
    """The documents' templates over the API: listed, downloaded (to edit) and replaced by
    the administrator."""
    admin = Depends(require_api_roles(Role.ADMIN))
    tags: list[str | Enum] = ["documents"]

    @router.get("/document-templates", tags=tags)
    def list_document_templates(_: Principal = admin) -> list[DocumentTemplateView]:
        """Each kind of document: its template's version now, every version kept, its
        number prefix and the fields its template may use (``{{ name }}``)."""
        return [template_view(casework.config, kind) for kind in DocumentKind]

    @router.get(
        "/document-templates/{kind}.docx",
        response_class=Response,
        responses={
            200: {"content": {DOCX_MEDIA_TYPE: {}}, "description": "the template (.docx)"},
            404: {"description": "no template of this version"},
        },
        tags=tags,
    )
    def download_document_template(
        kind: DocumentKind, version: str | None = None, _: Principal = admin
    ) -> Response:
        """The template documents of ``kind`` are issued with now (or the ``version`` kept)."""
        config = casework.config
        template = (
            config.template(kind) if version is None else config.template_version(kind, version)
        )
        if template is None:
            raise ApiError(f"no {kind.value} template of version {version!r}", 404)
        return Response(
            template.content,
            media_type=DOCX_MEDIA_TYPE,
            headers={"Content-Disposition": attachment(f"{kind.zh}模板-{template.version}.docx")},
        )

    @router.put(
        "/document-templates/{kind}",
        tags=tags,
        responses={422: {"description": "not a .docx, or a field its kind does not offer (named)"}},
        openapi_extra={
            "requestBody": {
                "required": True,
                # The .docx's bytes, sent as they are (any media type is read the same;
                # application/vnd.openxmlformats-officedocument.wordprocessingml.document is apt).
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        },
    )
    async def replace_document_template(
        kind: DocumentKind, request: Request, user: Principal = admin
    ) -> DocumentTemplateView:
        """Issue documents of ``kind`` with this template (the request body, a .docx) from
        now on; earlier documents keep the version they were issued with."""
        content = await request.body()
        replace_template(casework.config, kind, content, user.username)
        return template_view(casework.config, kind)
