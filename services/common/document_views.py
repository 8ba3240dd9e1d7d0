"""An issued document as the API and the pages show it, found and downloaded: one code for
the case's, the selection's, the project's documents (casework) and the report's letters
(intake, decision 0037: their addressee comes in ``extra``, from the audited reveal)."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from schemas.glossary import DocumentKind
from schemas.views import DocumentView
from services.common.config import Config
from services.common.documents import DOCX_MEDIA_TYPE, REPORTER_KINDS, attachment, render
from services.common.web import ApiError


def document_view(document: dict[str, Any], base: str) -> DocumentView:
    kind = DocumentKind(document["kind"])
    return DocumentView(
        document_id=str(document["document_id"]),
        kind=kind.value,
        kind_zh=kind.zh,
        number=document["number"],
        about=document["about"],
        issued_on=document["issued_on"],
        issued_by=document["actor"]["id"],
        template_version=document["template_version"],
        fields=document["fields"],
        download=f"{base}/documents/{document['document_id']}.docx",
    )


def find_document(documents: list[dict[str, Any]], ref: str) -> dict[str, Any]:
    """The document whose number (文号) or id is ``ref`` (404 when none)."""
    for document in documents:
        if ref in (document["number"], str(document["document_id"])):
            return document
    raise ApiError(f"no document {ref!r} here; see the documents list", 404)


def docx_of(
    config: Config, document: dict[str, Any], extra: dict[str, str] | None = None
) -> tuple[bytes, str]:
    """The Word file of an issued document, made from its recorded fields (and ``extra``: a
    letter's addressee, never recorded) with its recorded template version; and its file name
    (the number and the kind, in Chinese)."""
    kind = DocumentKind(document["kind"])
    template = config.template_version(kind, document["template_version"])
    if template is None:  # every version used is kept (config.py): a lost store
        raise RuntimeError(f"template {kind.value} {document['template_version']} is not kept")
    fields = {**document["fields"], **(extra or {})}
    return render(template.content, fields), f"{document['number']}{kind.zh}.docx"


def docx_response(
    config: Config, document: dict[str, Any], extra: dict[str, str] | None = None
) -> Response:
    content, filename = docx_of(config, document, extra)
    headers = {"Content-Disposition": attachment(filename)}
    if extra or DocumentKind(document["kind"]) in REPORTER_KINDS:
        headers["Cache-Control"] = "no-store"  # a reporter's identity: kept by no cache
    return Response(content, media_type=DOCX_MEDIA_TYPE, headers=headers)
