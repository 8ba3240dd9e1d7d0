"""Integrity opinion replies as a Word document (DOCX) for the file, in official-letter style:
title 廉政意见回复, the date it speaks for, then per cadre a table of what stands and the
opinion."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.run import Run

from schemas.views_archive import BarView, CadreIntegrity, IntegrityItemView, IntegrityReply
from services.projections.archive.integrity_items import zh_date

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"


def docx_filename(reply: IntegrityReply) -> str:
    return f"integrity-reply-{reply.as_of.isoformat()}.docx"


def _font(run: Run, name: str, size: float, *, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    properties = run._element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = properties.makeelement(qn("w:rFonts"), {})
        properties.append(fonts)
    fonts.set(qn("w:eastAsia"), name)


def _bars(bars: list[BarView]) -> str:
    return "；".join(
        f"{b.bar_zh}：至{zh_date(b.ends_on)}期满"
        + (f"（尚余{b.months_remaining}个月）" if b.running else "（已期满）")
        for b in bars
    )


def _rows(cadre: CadreIntegrity) -> list[tuple[str, str]]:
    c = cadre.cadre
    rows = [
        ("姓名", c.name),
        ("单位及职务", f"{c.unit} {c.position}".strip()),
        ("干部编号", c.cadre_id),
    ]
    sections: list[tuple[str, list[IntegrityItemView]]] = [
        ("正在办理的问题线索", cadre.open_items),
        ("经核查属实或部分属实的问题", cadre.proven),
        ("已澄清正名的问题", cadre.cleared),
        ("其他已了结的问题", cadre.other),
    ]
    for label, items in sections:
        rows.append((label, "\n".join(i.text_zh for i in items) if items else "无"))
    rows.append(("仍在影响期内的处理", _bars(cadre.running_bars) or "无"))
    if cadre.expired_bars:
        rows.append(("已期满的影响期", _bars(cadre.expired_bars)))
    rows.append(("廉政意见", cadre.opinion_zh))
    return rows


def integrity_reply_docx(reply: IntegrityReply) -> bytes:
    """The reply as a DOCX document."""
    document = Document()
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run(reply.title_zh), TITLE_FONT, 22, bold=True)
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(heading.add_run(f"（截至{zh_date(reply.as_of)}）"), BODY_FONT, 16)
    if reply.purpose:
        purpose = document.add_paragraph()
        _font(purpose.add_run(f"事由：{reply.purpose}"), BODY_FONT, 16)
    intro = document.add_paragraph()
    _font(
        intro.add_run(f"经查阅干部监督信息库，现将{len(reply.cadres)}名同志的廉政情况回复如下："),
        BODY_FONT,
        16,
    )
    for number, cadre in enumerate(reply.cadres, start=1):
        caption = document.add_paragraph()
        _font(caption.add_run(f"{number}. {cadre.cadre.name}"), BODY_FONT, 16, bold=True)
        rows = _rows(cadre)
        table = document.add_table(rows=len(rows), cols=2)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for (label, text), row in zip(rows, table.rows, strict=True):
            for cell, value, bold in ((row.cells[0], label, True), (row.cells[1], text, False)):
                paragraph = cell.paragraphs[0]
                _font(paragraph.add_run(value), BODY_FONT, 12, bold=bold)
    closing = document.add_paragraph()
    closing.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _font(closing.add_run(zh_date(reply.as_of)), BODY_FONT, 16)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
