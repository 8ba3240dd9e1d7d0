"""Server-side SVG charts for the liaison views: small, hand-written, no scripts.

Pure functions from labelled counts to an SVG document (a string). Every text is
escaped; labels are Chinese and rendered with the system's CJK fonts. Widths of Chinese
labels are estimated (one em per CJK character, half an em otherwise).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

FONT = "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"
FONT_SIZE = 13
BAR_COLOUR = "#b22222"
AXIS_COLOUR = "#888888"
GRID_COLOUR = "#e5e5e5"
MAX_LABEL_CHARS = 24

Point = tuple[str, int]


def text_width(text: str, size: int = FONT_SIZE) -> float:
    """An estimate of the rendered width: CJK and full-width characters take one em."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.55 for ch in text)


def _clip(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def _check(points: Sequence[Point]) -> None:
    for label, value in points:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(
                f"chart values are counts (whole numbers ≥ 0): {label!r} has {value!r}"
            )


def nice_ceiling(value: int) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    magnitude = int(10 ** math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover


def divisions(top_value: int) -> int:
    """How many equal steps between 0 and ``top_value`` keep every grid label a whole number."""
    return next(d for d in (4, 5, 2, 1) if top_value % d == 0)


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
            f'aria-label={quoteattr(title)} font-family="{FONT}" font-size="{FONT_SIZE}">',
            f"<title>{escape(title)}</title>",
            f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
            f'<text x="12" y="24" font-size="{FONT_SIZE + 3}" font-weight="bold">'
            f"{escape(title)}</text>",
            *body,
            "</svg>",
        ]
    )


def bar_chart(title: str, points: Sequence[Point], *, width: int = 720) -> str:
    """Horizontal bars, one per label, with the count at each bar's end."""
    _check(points)
    bar, gap, top = 20, 8, 44
    labels = [_clip(label) for label, _ in points]
    label_width = max([text_width(label) for label in labels] + [40]) + 16
    plot = max(width - label_width - 60, 120)
    top_value = nice_ceiling(max([v for _, v in points] + [0]))
    height = top + len(points) * (bar + gap) + 28
    body = []
    steps = divisions(top_value)
    for i in range(steps + 1):  # grid lines at whole numbers from 0 to the top value
        x = label_width + plot * i / steps
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 24}" '
            f'stroke="{GRID_COLOUR}"/>'
            f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" fill="{AXIS_COLOUR}">'
            f"{top_value * i // steps}</text>"
        )
    for i, ((_, value), label) in enumerate(zip(points, labels, strict=True)):
        y = top + i * (bar + gap)
        length = plot * value / top_value
        body.append(
            f'<text x="{label_width - 8:.1f}" y="{y + bar - 5}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{label_width:.1f}" y="{y}" width="{length:.1f}" height="{bar}" '
            f'fill="{BAR_COLOUR}"><title>{escape(label)}：{value}</title></rect>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + bar - 5}">{value}</text>'
        )
    if not points:
        body.append(f'<text x="12" y="{top + 16}" fill="{AXIS_COLOUR}">（无数据）</text>')
    return _svg(width, height, title, body)


def column_chart(
    title: str, points: Sequence[Point], *, line: bool = False, height: int = 320
) -> str:
    """Vertical columns over periods (months, quarters), or a line through the points."""
    _check(points)
    left, right, top, bottom = 48, 16, 44, 56
    step = max(28, min(64, 720 // max(len(points), 1)))
    width = left + right + step * max(len(points), 1)
    plot = height - top - bottom
    top_value = nice_ceiling(max([v for _, v in points] + [0]))
    body = []
    steps = divisions(top_value)
    for i in range(steps + 1):
        y = top + plot - plot * i / steps
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="{GRID_COLOUR}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{AXIS_COLOUR}">'
            f"{top_value * i // steps}</text>"
        )
    coordinates = []
    for i, (label, value) in enumerate(points):
        x = left + step * i + step / 2
        y = top + plot - plot * value / top_value
        coordinates.append(f"{x:.1f},{y:.1f}")
        tip = f"<title>{escape(label)}：{value}</title>"
        if line:
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{BAR_COLOUR}">{tip}</circle>'
            )
        else:
            body.append(
                f'<rect x="{x - step * 0.35:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" '
                f'height="{top + plot - y:.1f}" fill="{BAR_COLOUR}">{tip}</rect>'
            )
        body.append(
            f'<text x="{x:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="11">{value}</text>'
            f'<text x="{x:.1f}" y="{top + plot + 14}" text-anchor="end" font-size="11" '
            f'transform="rotate(-40 {x:.1f} {top + plot + 14})">{escape(_clip(label))}</text>'
        )
    if line and coordinates:
        body.insert(
            5,
            f'<polyline points="{" ".join(coordinates)}" fill="none" stroke="{BAR_COLOUR}" '
            'stroke-width="2"/>',
        )
    if not points:
        body.append(f'<text x="{left}" y="{top + 16}" fill="{AXIS_COLOUR}">（无数据）</text>')
    body.append(
        f'<line x1="{left}" y1="{top + plot}" x2="{width - right}" y2="{top + plot}" '
        f'stroke="{AXIS_COLOUR}"/>'
    )
    return _svg(width, height, title, body)
