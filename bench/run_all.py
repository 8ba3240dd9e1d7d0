"""``make bench``: every benchmark in turn, then one table of all their figures.

Each script measures its figures and their baselines in the same run and appends them to a
results file (``bench/figures.py``); this prints them as one table — figure, value, baseline,
ratio, the issue's goal and whether this run met it — and writes the table, with the
machine and the commit it was measured on, to ``bench/latest.md`` and into README.md
between the ``bench:begin`` / ``bench:end`` markers (``--no-readme`` leaves README.md alone).

A script that fails is reported (its figures are missing from the table, and the exit
status is 1); the others still run. ``--only relay,lag`` runs some of them;
``--quick`` passes each script its short option where it has one.

Run from the repository root: ``.venv/bin/python bench/run_all.py``.
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.figures import RESULTS_ENV, Figure, load, markdown, plain
from services.common.china_time import SYSTEM_CLOCK

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"


@dataclass(frozen=True)
class Script:
    key: str
    path: str
    args: tuple[str, ...] = ()
    quick: tuple[str, ...] = field(default=())


# In the order of the data's path: intake, relay, casework, projections, queries, then the
# whole distributed mode over HTTP. Scripts that are not there (yet) are reported missing.
SCRIPTS = (
    Script("intake", "bench/intake_throughput.py", quick=("--n", "200")),
    Script("relay", "bench/relay_throughput.py", quick=("--n", "1000", "--repeat", "1")),
    Script("casework", "bench/casework_consumer.py", quick=("--n", "1000", "--repeat", "1")),
    Script("rebuild", "bench/rebuild.py", quick=("--count", "150", "--rounds", "1")),
    Script(
        "lag",
        "bench/projection_lag.py",
        quick=("--count", "150", "--rounds", "1", "--lag-events", "600"),
    ),
    Script("queries", "bench/queries.py", quick=("--quick",)),
    Script("end_to_end", "bench/end_to_end.py", quick=("--quick",)),
)


def machine() -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return (
        f"Measured {SYSTEM_CLOCK.now():%Y-%m-%d %H:%M} (China time) on commit "
        f"`{commit or '?'}`{' with local changes' if dirty else ''}: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.machine()}. Every baseline was "
        "measured in the same run as its figure; goals are the issue's, printed, never "
        "asserted."
    )


def run(script: Script, results: Path, quick: bool) -> tuple[bool, float]:
    path = ROOT / script.path
    if not path.exists():
        print(f"\n=== {script.key}: {script.path} is missing ===", flush=True)
        return False, 0.0
    command = [sys.executable, str(path), *script.args, *(script.quick if quick else ())]
    print(f"\n=== {script.key}: {' '.join(command[1:])} ===", flush=True)
    started = time.monotonic()
    done = subprocess.run(
        command, check=False, cwd=ROOT, env=os.environ | {RESULTS_ENV: str(results)}
    )
    return done.returncode == 0, time.monotonic() - started


def update_readme(table: str) -> bool:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        return False
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{table}{END}{tail}", encoding="utf-8")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated keys: " + ",".join(s.key for s in SCRIPTS))
    parser.add_argument("--quick", action="store_true", help="each script's short run")
    parser.add_argument("--no-readme", action="store_true", help="leave README.md alone")
    args = parser.parse_args()
    chosen = SCRIPTS
    if args.only:
        keys = {k.strip() for k in args.only.split(",")}
        unknown = keys - {s.key for s in SCRIPTS}
        if unknown:
            parser.error(f"unknown bench: {', '.join(sorted(unknown))}")
        chosen = tuple(s for s in SCRIPTS if s.key in keys)

    failed: list[str] = []
    durations: list[str] = []
    with tempfile.TemporaryDirectory(prefix="jiandu-bench-") as tmp:
        results = Path(tmp) / "figures.jsonl"
        for script in chosen:
            ok, seconds = run(script, results, args.quick)
            durations.append(f"{script.key} {seconds:.0f} s")
            if not ok:
                failed.append(script.key)
        figures: list[Figure] = load(results)

    print("\n=== all figures ===")
    print(plain(figures))
    print(f"\ntime per script: {', '.join(durations)}")
    header = machine()
    table = f"{header}\n\n{markdown(figures)}"
    if failed:
        table += (
            f"\nNot measured in this run (the script failed or is missing): {', '.join(failed)}.\n"
        )
    (ROOT / "bench" / "latest.md").write_text(table, encoding="utf-8")
    print("written: bench/latest.md", end="")
    if not args.no_readme and not args.only and not args.quick:
        with_goal = [f for f in figures if f.goal]
        met = sum(1 for f in with_goal if f.met)
        summary = (
            f"{header}\n\n{met} of {len(with_goal)} goals met in this run. The figures with a "
            "goal are below; every figure, with the ones that only explain these, is in "
            f"`bench/latest.md`.\n\n{markdown(with_goal)}"
        )
        print(", README.md" if update_readme(summary) else " (README.md has no bench markers)")
    else:
        print(" (README.md left alone: a partial or quick run)")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
