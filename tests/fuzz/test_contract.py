"""The HTTP contract is what is served: schemathesis against each app's /openapi.json.

In process, on SQLite in a temporary folder and a fixed clock, with a token for every role
and with none (``RoleRotation``), bounded in examples per operation: no 5xx, no status,
media type, body or header outside what the operation documents, and nothing stored by a
refused request. The counts are printed (``-s`` shows them; ``-rA`` too).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.bootstrap import EmbeddedSystem
from tests.fuzz.apps import ROLE_ACCOUNTS, distributed_apps, embedded_system, seed
from tests.fuzz.runner import RoleRotation, fuzz
from tests.support.auth import bearer

pytestmark = pytest.mark.fuzz

MAX_EXAMPLES = 10  # per operation and phase: ~5,000 requests over every route, ~35 s


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    built = embedded_system(tmp_path)
    yield built
    built.stop()


def tokens_for_every_role(system: EmbeddedSystem) -> list[str | None]:
    """None (the public, no token) and a token of each role."""
    return [None] + [
        bearer(system.accounts, name, role, **extra)["Authorization"].split()[1]
        for name, role, extra in ROLE_ACCOUNTS
    ]


def event_positions(system: EmbeddedSystem) -> dict[str, int]:
    return {
        "intake": system.intake.max_position() or 0,
        "casework": system.casework.max_position() or 0,
    }


def test_every_answer_of_the_all_in_one_is_documented(system: EmbeddedSystem) -> None:
    known = seed(system)
    app = RoleRotation(
        system.web_app(), tokens_for_every_role(system), lambda: event_positions(system)
    )

    result = fuzz(app, max_examples=MAX_EXAMPLES, known=known)

    print(result.summary("jiandu up (all-in-one)"))
    print(f"statuses: {dict(sorted(app.statuses.items()))}")
    assert result.operations > 60  # every route of every process is in this app
    assert result.requests > 1000
    assert len(app.by_role) == len(ROLE_ACCOUNTS) + 1  # each role, and nobody, had a turn
    assert not result.errors, result.errors
    assert not result.failures, "\n".join(result.examples)
    assert not any(status >= 500 for status in app.statuses)
    assert any(200 <= status < 300 for status in app.statuses)  # not only refusals
    assert not app.stored, app.stored  # a refused request stored nothing


@pytest.mark.parametrize("process", ["intake-api", "casework", "projections-api"])
def test_every_answer_of_each_distributed_process_is_documented(
    system: EmbeddedSystem, process: str
) -> None:
    known = seed(system)
    app = RoleRotation(
        distributed_apps(system)[process],
        tokens_for_every_role(system),
        lambda: event_positions(system),
    )

    # The examples and the coverage phases (deterministic); half the path ids name the
    # seeded report, case, cadre or account.
    result = fuzz(app, max_examples=MAX_EXAMPLES, phases=("examples", "coverage"), known=known)

    print(result.summary(f"jiandu {process}"))
    print(f"statuses: {dict(sorted(app.statuses.items()))}")
    assert result.operations >= 5
    assert result.requests > 200
    assert not result.errors, result.errors
    assert not result.failures, "\n".join(result.examples)
    assert not any(status >= 500 for status in app.statuses)
    assert any(200 <= status < 300 for status in app.statuses)
    assert not app.stored, app.stored
