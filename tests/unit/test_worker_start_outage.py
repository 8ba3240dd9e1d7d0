"""The projections worker's start-up catch-up waits out a database that is away (0018)."""

from __future__ import annotations

from typing import Any

import pytest

from services.common.settings import Settings
from services.common.unavailable import DatabaseUnavailable
from services.projections import faust_app


def test_catch_up_is_retried_while_the_database_is_away(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[int] = []
    pauses: list[float] = []

    def catch_up(settings: Settings, store: Any) -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise DatabaseUnavailable("the database cannot be reached (AdminShutdown)")
        return "caught up"

    monkeypatch.setattr(faust_app, "catch_up_projections", catch_up)
    monkeypatch.setattr(faust_app.time, "sleep", pauses.append)
    assert faust_app._caught_up(Settings(), store=None) == "caught up"  # type: ignore[arg-type]
    assert len(attempts) == 3
    assert pauses == [0.2, 0.4]


def test_another_error_at_catch_up_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def catch_up(settings: Settings, store: Any) -> str:
        raise ValueError("a projection's bug")

    monkeypatch.setattr(faust_app, "catch_up_projections", catch_up)
    monkeypatch.setattr(faust_app.time, "sleep", lambda _: pytest.fail("must not wait"))
    with pytest.raises(ValueError, match="a projection's bug"):
        faust_app._caught_up(Settings(), store=None)  # type: ignore[arg-type]
