"""The fault suite's figures, printed at the end of every run that included it."""

from __future__ import annotations

import pytest

from tests.faults.harness import RESULTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RESULTS:
        return
    terminalreporter.section("fault suite: what the clients saw, per phase")
    for result in RESULTS:
        terminalreporter.write_line(result.line())
        terminalreporter.write_line(f"    fault: {result.fault}")
        for problem in result.problems:
            terminalreporter.write_line(f"    ! {problem}")
        for error, n in result.errors.most_common(6):
            terminalreporter.write_line(f"    logged {n}× {error}")
