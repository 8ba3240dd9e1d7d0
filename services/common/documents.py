"""Official documents (公文, decision 0035): their kinds, the fields each kind's template may
use, their numbers, and rendering a document from a template (docxtpl: Jinja in a .docx).

A document is rendered from the fields its ``DocumentIssued`` event recorded and the template
version it recorded, so a download years later is the document that was sent. Templates are
data: the defaults ship in ``document_templates/`` (made by ``document_defaults.py``), an
administrator replaces a kind's template in the configuration store (``config.py``), which
keeps every earlier version by its digest. A template that does not render with its kind's
fields is refused, naming the field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import jinja2
from docxtpl import DocxTemplate
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, Field, StringConstraints

from schemas.glossary import DocumentKind

TEMPLATES_DIR = Path(__file__).with_name("document_templates")
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

K = DocumentKind

# Every kind offers these.
COMMON_FIELDS: dict[str, tuple[str, str]] = {
    "number": ("the document's number (文号)", "文号"),
    "office_name": ("the issuing office (configuration: document settings)", "发文机关"),
    "issued_on": ("the day it is issued, in Chinese (2026年11月30日)", "成文日期"),
    "addressee": ("to whom it is sent", "主送"),
}
# The fields each kind adds: name -> (English, Chinese).
KIND_FIELDS: dict[DocumentKind, dict[str, tuple[str, str]]] = {
    K.INQUIRY_NOTICE: {
        "addressee_unit": ("the cadre's unit", "所在单位"),
        "addressee_position": ("the cadre's position", "职务"),
        "form": ("talk or written inquiry, in Chinese (谈话 / 函询)", "方式"),
        "sent_on": ("the day the notice is sent", "发出日期"),
        "reply_due": ("the day the reply is due", "回复期限"),
    },
    K.ADMONITION_NOTICE: {
        "addressee_unit": ("the cadre's unit", "所在单位"),
        "addressee_position": ("the cadre's position", "职务"),
        "decided_on": ("the day the admonition was decided", "决定日期"),
        "follow_up_due": ("the day correction is due (限期改正)", "整改期限"),
    },
    K.CLEARING_LETTER: {
        "addressee_unit": ("the cadre's unit", "所在单位"),
        "addressee_position": ("the cadre's position", "职务"),
        "carried_out_on": ("the day the clearing was carried out", "澄清日期"),
        "method": ("how the name is cleared, in Chinese", "澄清方式"),
        "scope": ("the scope of the clearing", "澄清范围"),
        "corrections": ("what was corrected, joined by 、", "纠正事项"),
    },
    K.INSPECTION_FEEDBACK: {
        "audience": ("the cadre or the unit's leadership team, in Chinese", "反馈对象"),
        "candidate": ("the inspected cadre's name", "考察对象"),
        "unit": ("the unit of the selection", "选任单位"),
        "posts": ("the posts, joined by 、", "拟任职务"),
        "inspected_on": ("the day the inspection was recorded", "考察日期"),
        "findings": ("the inspection's findings about the cadre", "考察意见"),
        "inspectors": ("the inspectors, joined by 、", "考察组成员"),
    },
    K.PROJECT_NOTICE: {
        "unit": ("the unit whose selection is supervised", "被督查单位"),
        "posts": ("the selection's posts, joined by 、", "涉及职务"),
        "irregularities": ("what the project is about, in Chinese, joined by 、", "督查事项"),
        "opened_on": ("the day the project was opened", "立项日期"),
        "opening_number": ("the opening's document number", "立项文号"),
        "team_leader": ("the team's leader", "督查组组长"),
        "team_members": ("the team's members, joined by 、", "督查组成员"),
        "conclusion_due": ("the day the project's conclusion is due", "督查完成期限"),
    },
    # Letters to a real-name reporter (decision 0037): ``addressee`` and
    # ``addressee_address`` are never recorded; each download fills them in from the vault.
    K.ACCEPTANCE_LETTER: {
        "addressee_address": ("the reporter's address, from the vault at download", "通信地址"),
        "ledger_number": ("the report's ledger number", "登记编号"),
        "received_on": ("the day the report was received", "收件日期"),
        "channel": ("how it came in, in Chinese", "反映渠道"),
        "accepted_on": ("the day it was accepted into a case", "受理日期"),
        "matters": ("what it is about, in Chinese, joined by 、", "反映问题类别"),
    },
    K.FEEDBACK_LETTER: {
        "addressee_address": ("the reporter's address, from the vault at download", "通信地址"),
        "ledger_number": ("the report's ledger number", "登记编号"),
        "received_on": ("the day the report was received", "收件日期"),
        "channel": ("how it came in, in Chinese", "反映渠道"),
        "given_on": ("the day the feedback was given", "反馈日期"),
        "feedback": ("the feedback as the case recorded it", "反馈意见"),
    },
}
# Letters whose addressee is a real-name reporter: these fields come from the vault, at each
# download, through the audited reveal; a recorded document never holds them.
REPORTER_KINDS = frozenset({K.ACCEPTANCE_LETTER, K.FEEDBACK_LETTER})
ADDRESSED_FIELDS = frozenset({"addressee", "addressee_address"})


def fields_of(kind: DocumentKind) -> dict[str, tuple[str, str]]:
    """Every field a kind's template may use: name -> (English, Chinese)."""
    return COMMON_FIELDS | KIND_FIELDS[kind]


def zh_date(day: dt.date) -> str:
    """A date as documents write it: 2026年11月30日."""
    return f"{day.year}年{day.month}月{day.day}日"


class DocumentSettings(BaseModel):
    """The document settings table (configuration store): the issuing office's name and each
    kind's number prefix (文号 ``{prefix}〔{year}〕{n}号``)."""

    office_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ] = "中共××县委组织部"
    # A kind left out (or blank) numbers with its default prefix.
    prefixes: dict[
        DocumentKind, Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]
    ] = Field(default_factory=dict)

    def prefix(self, kind: DocumentKind) -> str:
        return self.prefixes.get(kind) or DEFAULT_PREFIXES[kind]


DEFAULT_PREFIXES: dict[DocumentKind, str] = {
    K.INQUIRY_NOTICE: "组函",
    K.ADMONITION_NOTICE: "组诫",
    K.CLEARING_LETTER: "组澄",
    K.INSPECTION_FEEDBACK: "组考反",
    K.PROJECT_NOTICE: "组督",
    K.ACCEPTANCE_LETTER: "组受告",
    K.FEEDBACK_LETTER: "组反馈",
}


def document_number(prefix: str, year: int, n: int) -> str:
    """The 文号: 组函〔2026〕3号."""
    return f"{prefix}〔{year}〕{n}号"


def template_version(content: bytes) -> str:
    """A template's version: the digest of its bytes (the bytes are data, not identity)."""
    return hashlib.sha256(content).hexdigest()[:24]


@dataclass(frozen=True)
class Template:
    kind: DocumentKind
    version: str
    content: bytes


def default_template(kind: DocumentKind) -> Template:
    content = (TEMPLATES_DIR / f"{kind.value}.docx").read_bytes()
    return Template(kind, template_version(content), content)


class TemplateRefused(ValueError):
    """A template that does not render with its kind's fields (422, naming the field)."""

    def __init__(self, kind: DocumentKind, message: str, message_zh: str) -> None:
        self.message_zh = message_zh
        super().__init__(f"the {kind.value} template: {message}")


# Templates are an administrator's uploads: rendered in Jinja's sandbox, so a template can
# read its fields and nothing of the server (no attributes of Python's internals); docxtpl
# escapes the values for the document's XML itself (and sets the environment's autoescape:
# a fresh environment each time, none shared between threads).
def _sandbox(*, strict: bool) -> SandboxedEnvironment:
    if strict:
        return SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=True)
    return SandboxedEnvironment(autoescape=True)


def check_template(kind: DocumentKind, content: bytes) -> None:
    """Refuse a template that is not a .docx, uses a field its kind does not offer, or does
    not render with the kind's fields (naming the field or the error)."""
    offered = fields_of(kind)
    try:
        template = DocxTemplate(io.BytesIO(content))
        used = template.get_undeclared_template_variables(_sandbox(strict=True))
    except jinja2.TemplateSyntaxError as e:
        raise TemplateRefused(
            kind, f"a template error at line {e.lineno}: {e.message}", f"模板语法错误：{e.message}"
        ) from None
    except Exception as e:  # not a Word file at all (zip, XML)
        raise TemplateRefused(
            kind,
            f"not a Word (.docx) file ({type(e).__name__})",
            "不是 Word（.docx）文件",
        ) from None
    unknown = sorted(set(used) - set(offered))
    if unknown:
        raise TemplateRefused(
            kind,
            f"field {unknown[0]!r} is not one of the fields of a {kind.zh} ({', '.join(offered)})",
            f"字段“{unknown[0]}”不是{kind.zh}可用的字段（{'、'.join(offered)}）",
        )
    try:
        render(content, {name: zh for name, (_, zh) in offered.items()}, strict=True)
    except jinja2.UndefinedError as e:
        raise TemplateRefused(
            kind, f"does not render: {e.message}", f"无法生成：{e.message}"
        ) from None
    except jinja2.TemplateError as e:
        raise TemplateRefused(kind, f"does not render: {e}", f"无法生成：{e}") from None


def render(content: bytes, fields: dict[str, str], *, strict: bool = False) -> bytes:
    """The Word document ``content`` (a template) makes with ``fields``."""
    template = DocxTemplate(io.BytesIO(content))
    template.render(fields, _sandbox(strict=strict), autoescape=True)
    out = io.BytesIO()
    template.save(out)
    return out.getvalue()


def attachment(filename: str) -> str:
    """A Content-Disposition for a download named in Chinese (RFC 6266 / RFC 5987): an ASCII
    fallback and the UTF-8 name."""
    from urllib.parse import quote

    fallback = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def issued_documents(owner: Any) -> list[dict[str, Any]]:
    """The documents a case, selection or project issued (one restored from state saved
    before documents were kept: none yet)."""
    if getattr(owner, "documents", None) is None:
        owner.documents = []
    found: list[dict[str, Any]] = owner.documents
    return found


class IssuedDocuments:
    """What an owner of documents (a case, a selection, a project, a report) answers: the
    documents it issued, in order of issue, and the one of a kind about a step."""

    @property
    def issued(self) -> list[dict[str, Any]]:
        return issued_documents(self)

    def document_of(self, kind: DocumentKind, about: str) -> dict[str, Any] | None:
        """The document of ``kind`` issued about ``about``, if any."""
        return next(
            (d for d in self.issued if d["kind"] == kind.value and d["about"] == about), None
        )


def keep_issued(owner: Any, event: Any, issued_on: dt.date) -> None:
    """A ``DocumentIssued`` event's document, kept on its owner as it is applied."""
    issued_documents(owner).append(
        {
            "document_id": event.document_id,
            "kind": event.kind,
            "number": event.number,
            "about": event.about,
            "issued_on": issued_on,
            "template_version": event.template_version,
            "fields": dict(event.fields),
            "actor": dict(event.actor),
        }
    )
