"""The default templates of the official documents (decision 0035), made with python-docx.

Run ``python -m services.common.document_defaults`` to write them again into
``services/common/document_templates/<kind>.docx`` (committed, so they can be reviewed). Each
is a plain 公文 layout: the title, the number (文号), the addressee, the body with Jinja fields
(``{{ number }}``, ``{{ addressee }}`` …, docs: ``documents.fields_of``), the office and the
date. An administrator replaces them in the configuration store; these stay the defaults.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph

from schemas.glossary import DocumentKind
from services.common.documents import TEMPLATES_DIR

K = DocumentKind

# kind -> (title, body paragraphs). The body's fields are each kind's (documents.fields_of).
BODIES: dict[DocumentKind, tuple[str, list[str]]] = {
    K.INQUIRY_NOTICE: (
        "谈话函询通知书",
        [
            "{{ addressee }}同志（{{ addressee_unit }}{{ addressee_position }}）：",
            "根据干部监督工作有关规定，经研究，决定就反映你的有关问题对你进行{{ form }}。"
            "请你本着对组织忠诚老实的态度，如实向组织说明情况，"
            "并于{{ reply_due }}前作出书面回复（本通知于{{ sent_on }}发出）。",
            "回复材料须由本人签名，所在单位党委（党组）主要负责人签署意见。",
        ],
    ),
    K.ADMONITION_NOTICE: (
        "诫勉通知书",
        [
            "{{ addressee }}同志（{{ addressee_unit }}{{ addressee_position }}）：",
            "根据对反映你有关问题的核查结论，经研究，于{{ decided_on }}决定对你进行诫勉。",
            "请你认真对照检查，深刻反思，限期改正，并于{{ follow_up_due }}前"
            "将整改情况书面报告组织。组织将对你的整改情况进行跟踪了解。",
        ],
    ),
    K.CLEARING_LETTER: (
        "澄清正名函",
        [
            "{{ addressee }}同志（{{ addressee_unit }}{{ addressee_position }}）：",
            "经核查，反映你的有关问题不属实。经组织研究，于{{ carried_out_on }}"
            "以{{ method }}方式，在{{ scope }}范围内为你澄清正名。",
            "{% if corrections %}同时予以纠正：{{ corrections }}。{% endif %}"
            "希望你放下思想包袱，继续担当作为，干事创业。",
        ],
    ),
    K.INSPECTION_FEEDBACK: (
        "考察反馈意见",
        [
            "{{ addressee }}：",
            "根据干部选拔任用工作安排，考察组（{{ inspectors }}）于{{ inspected_on }}"
            "对{{ unit }}拟任{{ posts }}人选{{ candidate }}同志进行了考察。"
            "现将考察情况向{{ audience }}反馈如下：",
            "{{ findings }}",
            "请{{ audience }}认真研究，对反馈的问题和不足，提出改进措施并抓好落实。",
        ],
    ),
    K.PROJECT_NOTICE: (
        "立项督查通知",
        [
            "{{ addressee }}：",
            "根据干部选拔任用工作监督有关规定，经研究，决定于{{ opened_on }}对{{ unit }}"
            "{{ posts }}选拔任用工作中反映的{{ irregularities }}问题立项督查"
            "{% if opening_number %}（{{ opening_number }}）{% endif %}。",
            "督查组由{{ team_leader }}同志任组长，{{ team_members }}同志为成员。"
            "请你单位积极配合督查组开展工作，如实提供有关材料和情况。",
            "督查工作于{{ conclusion_due }}前完成。",
        ],
    ),
    K.ACCEPTANCE_LETTER: (
        "受理告知书",
        [
            "{{ addressee }}同志：",
            "你于{{ received_on }}通过{{ channel }}反映的{{ matters }}问题已收悉。"
            "经审核，我部于{{ accepted_on }}予以受理，登记编号为{{ ledger_number }}。",
            "我部将按照干部监督工作有关规定认真办理，办结后向你反馈办理结果。"
            "对你反映的问题和你的个人信息，我部将严格保密。",
            "特此告知。",
            "{% if addressee_address %}（送达地址：{{ addressee_address }}）{% endif %}",
        ],
    ),
    K.FEEDBACK_LETTER: (
        "反馈意见书",
        [
            "{{ addressee }}同志：",
            "你于{{ received_on }}通过{{ channel }}反映的问题（登记编号{{ ledger_number }}）"
            "已办理完毕。现将办理结果反馈如下：",
            "{{ feedback }}",
            "如对办理结果有异议，可向我部提出；有新的证据材料的，可一并提供。"
            "感谢你对干部监督工作的支持。",
            "{% if addressee_address %}（送达地址：{{ addressee_address }}）{% endif %}",
        ],
    ),
}

FONT = "仿宋_GB2312"
TITLE_FONT = "方正小标宋简体"


def _styled(paragraph: Paragraph, text: str, font: str, size: float, *, bold: bool = False) -> None:
    run = paragraph.add_run(text)
    run.font.name = font
    run.font.size = Pt(size)
    run.font.bold = bold
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), font)


def make(kind: DocumentKind) -> Document:  # type: ignore[valid-type]
    title, body = BODIES[kind]
    doc = Document()
    doc.core_properties.title = title
    doc.core_properties.author = "jiandu"
    # Fixed, so the defaults are made the same way each time (the zip's own dates aside).
    doc.core_properties.created = dt.datetime(2026, 1, 1)
    doc.core_properties.modified = dt.datetime(2026, 1, 1)
    heading = doc.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _styled(heading, title, TITLE_FONT, 22)
    number = doc.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _styled(number, "{{ number }}", FONT, 16)
    for i, text in enumerate(body):
        paragraph = doc.add_paragraph()
        if i:
            paragraph.paragraph_format.first_line_indent = Pt(32)
        _styled(paragraph, text, FONT, 16)
    for text in ("{{ office_name }}", "{{ issued_on }}"):
        paragraph = doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _styled(paragraph, text, FONT, 16)
    return doc


def write_all(directory: Path = TEMPLATES_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in DocumentKind:
        path = directory / f"{kind.value}.docx"
        make(kind).save(str(path))  # type: ignore[attr-defined]
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATES_DIR):
        print(path)
