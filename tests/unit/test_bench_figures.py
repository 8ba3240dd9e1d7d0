"""bench/figures.py: the goal a figure states is read the way the table prints it."""

from __future__ import annotations

import json

import pytest

from bench.figures import Figure, emit, load, markdown


def test_a_ratio_goal_is_judged_on_the_ratio_to_the_same_run_baseline() -> None:
    drain = Figure("relay", "drain", 9_000, "events/s", 10_000, "bare producer", "ratio>=0.8")
    assert drain.ratio == pytest.approx(0.9)
    assert drain.met is True
    slow = Figure("relay", "drain", 7_000, "events/s", 10_000, "bare producer", "ratio>=0.8")
    assert slow.met is False


def test_a_bound_is_judged_on_the_value_and_no_goal_is_no_verdict() -> None:
    assert Figure("lag", "p99", 80, "ms", goal="<100", higher_is_better=False).met is True
    assert Figure("lag", "p99", 100, "ms", goal="<100", higher_is_better=False).met is False
    assert Figure("e2e", "rate", 300, "reports/s", goal=">=300").met is True
    assert Figure("e2e", "rate", 299.9, "reports/s", goal=">= 300").met is False
    assert Figure("e2e", "rate", 299.9, "reports/s").met is None
    # a ratio goal without a baseline cannot be judged, rather than judged wrongly
    assert Figure("e2e", "rate", 1, "x", goal="ratio>=1").met is None


def test_a_goal_written_otherwise_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'about 300'"):
        _ = Figure("e2e", "rate", 300, "reports/s", goal="about 300").met


def test_figures_written_by_one_script_are_read_back_for_the_one_table(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    results = Path(str(tmp_path)) / "figures.jsonl"
    monkeypatch.setenv("JIANDU_BENCH_RESULTS", str(results))
    first = Figure("intake", "1 thread", 420.5, "reports/s", 400, "bare save", "ratio>=1")
    emit([first])
    emit([Figure("lag", "p99 | tail", 80, "ms", goal="<100", higher_is_better=False)])
    assert "420" in capsys.readouterr().out
    back = load(results)
    assert back[0] == first
    assert len(results.read_text().splitlines()) == 2
    assert json.loads(results.read_text().splitlines()[1])["name"] == "p99 | tail"
    table = markdown(back)
    assert (
        "| intake | 1 thread | 420 reports/s | 400 reports/s | bare save | 1.05× | ratio>=1 | yes |"
        in table
    )
    assert "p99 \\| tail" in table  # a pipe in a name does not break the Markdown row


def test_every_option_make_bench_passes_a_script_is_one_that_script_declares() -> None:
    """`make bench` (and its --quick run) must not die on an option a script lacks."""
    from bench.run_all import ROOT, SCRIPTS

    checked = 0
    for script in SCRIPTS:
        path = ROOT / script.path
        if not path.exists():  # a script listed before it lands is reported as missing
            continue
        source = path.read_text(encoding="utf-8")
        for option in (*script.args, *script.quick):
            if option.startswith("--"):
                assert f'"{option}"' in source, f"{script.path} declares no {option}"
                checked += 1
    assert checked >= 5
