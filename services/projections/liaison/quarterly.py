"""The quarterly report (季度通报) as a document: its title, Markdown, HTML and Word (.docx)."""

from __future__ import annotations

import html
import io

from schemas.views_liaison import (
    QuarterlyReport,
    ReportSection,
)
from services.projections.liaison.statistics import LiaisonQueryError


def _change(now: int, before: int) -> str:
    diff = now - before
    if before == 0:
        return f"{diff:+d}"
    return f"{diff:+d}（{diff / before:+.0%}）"


def _section_rows(section: ReportSection) -> list[tuple[str, int, int]]:
    before = {r.key: r.count for r in section.previous_rows}
    return [(r.label, r.count, before.get(r.key, 0)) for r in section.rows]


def report_title(report: QuarterlyReport) -> str:
    return f"干部监督工作联席会议季度报告（{report.year}年第{report.quarter}季度）"


def to_markdown(report: QuarterlyReport) -> str:
    lines = [
        f"# {report_title(report)}",
        "",
        f"统计期间：{report.from_date.isoformat()} 至 {report.to_date.isoformat()}；"
        f"对比上季度（{report.previous_period}）；生成日期：{report.generated_on.isoformat()}。",
        "",
    ]
    for section in report.sections:
        lines += [
            f"## {section.title_zh}",
            "",
            f"合计 {section.total} 件（上季度 {section.previous_total} 件，"
            f"变化 {_change(section.total, section.previous_total)}）。",
        ]
        if section.note:
            lines.append(f"注：{section.note}")
        lines += ["", "| 项目 | 本季度 | 上季度 | 变化 |", "|---|---:|---:|---:|"]
        lines += [
            f"| {_md(label)} | {now} | {before} | {_change(now, before)} |"
            for label, now, before in _section_rows(section)
        ]
        lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_html(report: QuarterlyReport) -> str:
    """An HTML fragment (no page around it), every text escaped."""
    e = html.escape
    parts = [
        '<section class="liaison-quarterly-report">',
        f"<h1>{e(report_title(report))}</h1>",
        f"<p>统计期间：{e(report.from_date.isoformat())} 至 {e(report.to_date.isoformat())}；"
        f"对比上季度（{e(report.previous_period)}）；"
        f"生成日期：{e(report.generated_on.isoformat())}。</p>",
    ]
    for section in report.sections:
        parts += [
            f'<h2 id="{e(section.name)}">{e(section.title_zh)}</h2>',
            f"<p>合计 {section.total} 件（上季度 {section.previous_total} 件，"
            f"变化 {e(_change(section.total, section.previous_total))}）。</p>",
        ]
        if section.note:
            parts.append(f'<p class="note">注：{e(section.note)}</p>')
        parts.append(
            "<table><thead><tr><th>项目</th><th>本季度</th><th>上季度</th><th>变化</th></tr>"
            "</thead><tbody>"
        )
        parts += [
            f"<tr><td>{e(label)}</td><td>{now}</td><td>{before}</td>"
            f"<td>{e(_change(now, before))}</td></tr>"
            for label, now, before in _section_rows(section)
        ]
        parts.append("</tbody></table>")
    parts.append("</section>")
    return "\n".join(parts)


def to_docx(report: QuarterlyReport) -> bytes:
    """The report as a Word document (python-docx)."""
    try:
        import docx
    except ImportError as error:  # pragma: no cover — a dependency of the project
        raise LiaisonQueryError("DOCX export needs python-docx installed") from error
    document = docx.Document()
    document.add_heading(report_title(report), level=1)
    document.add_paragraph(
        f"统计期间：{report.from_date.isoformat()} 至 {report.to_date.isoformat()}；"
        f"对比上季度（{report.previous_period}）；生成日期：{report.generated_on.isoformat()}。"
    )
    for section in report.sections:
        document.add_heading(section.title_zh, level=2)
        document.add_paragraph(
            f"合计 {section.total} 件（上季度 {section.previous_total} 件，"
            f"变化 {_change(section.total, section.previous_total)}）。"
            + (f"注：{section.note}" if section.note else "")
        )
        rows = _section_rows(section)
        table = document.add_table(rows=1 + len(rows), cols=4)
        for i, heading in enumerate(("项目", "本季度", "上季度", "变化")):
            table.cell(0, i).text = heading
        for r, (label, now, before) in enumerate(rows, start=1):
            for i, text in enumerate((label, str(now), str(before), _change(now, before))):
                table.cell(r, i).text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
