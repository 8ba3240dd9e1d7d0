"""The distributed processes' HTTP apps on a real (throwaway) PostgreSQL, fuzzed as on SQLite.

PostgreSQL refuses what SQLite takes (a NUL character in text, …): each process's app is
composed as its command composes it (``services.bootstrap``), on its own database, with a
token for every role and with none; no 5xx, nothing outside the documented contract, and
nothing stored by a refused request.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from services.bootstrap import (
    build_accounts,
    build_casework,
    build_intake,
    casework_api_app,
    intake_api_app,
    projections_api_app,
)
from services.common.china_time import FixedClock
from tests.fuzz.apps import ROLE_ACCOUNTS, TODAY
from tests.fuzz.runner import RoleRotation, fuzz
from tests.integration.helpers import pg_settings
from tests.support.auth import bearer

pytestmark = [pytest.mark.integration, pytest.mark.fuzz]

MAX_EXAMPLES = 3  # the fuzzing phase: a few per operation; coverage does the rest


@pytest.mark.parametrize("process", ["intake-api", "casework", "projections-api"])
def test_each_distributed_process_on_postgresql_answers_as_documented(
    pg_dsn: str, tmp_path: Path, process: str
) -> None:
    settings = pg_settings(pg_dsn, tmp_path)
    clock = FixedClock.on(TODAY)
    accounts = build_accounts(settings, clock)
    intake = build_intake(settings, clock=clock)  # the stores whose positions are watched
    work = build_casework(settings, clock=clock, accounts=accounts)
    apps = {
        "intake-api": lambda: intake_api_app(settings, clock),
        "casework": lambda: casework_api_app(work, accounts, lambda: True),
        "projections-api": lambda: projections_api_app(settings, clock),
    }
    tokens: list[str | None] = [None] + [
        bearer(accounts, name, role, **extra)["Authorization"].split()[1]
        for name, role, extra in ROLE_ACCOUNTS
    ]
    app = RoleRotation(
        apps[process](),
        tokens,
        lambda: {
            "intake": intake.max_position() or 0,
            "casework": work.max_position() or 0,
        },
    )
    try:
        result = fuzz(app, max_examples=MAX_EXAMPLES, phases=("examples", "coverage", "fuzzing"))
    finally:
        intake.close()
        work.close()
        accounts.close()

    print(result.summary(f"jiandu {process} on PostgreSQL"))
    print(f"statuses: {dict(sorted(app.statuses.items()))}")
    assert result.requests > 200
    assert not result.errors, result.errors
    assert not result.failures, "\n".join(result.examples)
    assert not any(status >= 500 for status in app.statuses)
    assert not app.stored, app.stored
