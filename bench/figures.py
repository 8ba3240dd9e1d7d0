"""One format for every benchmark's figures, so ``make bench`` prints one table.

Each bench script measures its figures and their baselines **in the same run**, and
hands them to :func:`emit` as :class:`Figure` rows. ``emit`` prints the script's own table
and, when ``JIANDU_BENCH_RESULTS`` names a file, appends the rows to it as JSON lines;
``bench/run_all.py`` (``make bench``) runs every script with that file set and prints the
rows of all of them as one table (and writes it as Markdown for the README).

A figure says which way is better (``higher``: a rate; ``lower``: a latency, a size); its
goal is a ratio to the baseline (``ratio >= 0.8``) or an absolute bound (``p99 <= 100 ms``),
and ``met`` says whether this run reached it. Goals are printed, never asserted: the test
suite holds no timing assertion.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS_ENV = "JIANDU_BENCH_RESULTS"


@dataclass(frozen=True)
class Figure:
    """One measured figure beside its baseline from the same run."""

    bench: str  # the script: "intake", "relay", "rebuild", "lag", "queries", ...
    name: str  # what was measured, in a user's words
    value: float
    unit: str  # "reports/s", "ms", "MiB", ...
    baseline: float | None = None  # the same quantity for the baseline, same unit
    baseline_name: str = ""  # what the baseline is ("bare eventsourcing save", ...)
    # The goal: a ratio to the baseline ("ratio>=0.8") or a bound on the value ("<=100",
    # ">=300"), in the figure's unit; "" when the figure is only informative.
    goal: str = ""
    higher_is_better: bool = True

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        """Whether this run reached the goal (None: no goal, or no baseline for a ratio)."""
        goal = self.goal.replace(" ", "")
        if not goal:
            return None
        if goal.startswith("ratio"):
            ratio = self.ratio
            if ratio is None:
                return None
            return _compare(ratio, goal[len("ratio") :], self.goal)
        return _compare(self.value, goal, self.goal)


def _compare(value: float, bound: str, goal: str) -> bool:
    for op in (">=", "<=", ">", "<"):
        if bound.startswith(op):
            limit = float(bound[len(op) :])
            return {
                ">=": value >= limit,
                "<=": value <= limit,
                ">": value > limit,
                "<": value < limit,
            }[op]
    raise ValueError(f"a goal is written like '>=300', '<100' or 'ratio>=0.8', not {goal!r}")


def fmt_number(value: float | None) -> str:
    if value is None:
        return ""
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def rows(figures: Iterable[Figure]) -> list[list[str]]:
    out = []
    for f in figures:
        ratio = f.ratio
        met = f.met
        out.append(
            [
                f.bench,
                f.name,
                f"{fmt_number(f.value)} {f.unit}",
                f"{fmt_number(f.baseline)} {f.unit}" if f.baseline is not None else "",
                f.baseline_name,
                f"{ratio:.2f}×" if ratio is not None else "",
                f.goal,
                "" if met is None else ("yes" if met else "NO"),
            ]
        )
    return out


HEADER = ["bench", "figure", "value", "baseline", "baseline is", "ratio", "goal", "met"]


def markdown(figures: Iterable[Figure]) -> str:
    body = rows(figures)
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def plain(figures: Iterable[Figure]) -> str:
    body = [HEADER, *rows(figures)]
    widths = [max(len(row[i]) for row in body) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in body
    )


def emit(figures: list[Figure]) -> None:
    """Print the figures as a table; append them to ``$JIANDU_BENCH_RESULTS`` if set."""
    print()
    print(plain(figures))
    target = os.environ.get(RESULTS_ENV)
    if target:
        with Path(target).open("a", encoding="utf-8") as out:
            for figure in figures:
                out.write(json.dumps(asdict(figure), ensure_ascii=False) + "\n")


def load(path: Path) -> list[Figure]:
    if not path.exists():
        return []
    return [
        Figure(**json.loads(line))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
