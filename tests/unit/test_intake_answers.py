"""Issue 10, review: intake's passing failures (503) say when to try again (Retry-After),
and the routes of decision 0013 list every status they answer in their OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from schemas.views_cases import CaseFollowUp
from services.bootstrap import EmbeddedSystem, web_app
from services.common.unavailable import DatabaseUnavailable
from services.intake import api as intake_api
from services.intake.errors import SubmissionContention
from tests.unit.conftest import build_embedded, make_settings

MAILBOX = {
    "channel": "mailbox",
    "reporter": {"anonymous": True},
    "subjects": [{"name": "王建国", "unit": "某县财政局", "position": "局长"}],
    "categories": ["seeking_office"],
    "summary": "反映王建国跑官要官。",
}


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path))
    yield system
    system.stop()


def test_a_contended_registration_answers_503_with_retry_after(
    system: EmbeddedSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    def contended(*_: Any, **__: Any) -> None:
        raise SubmissionContention

    monkeypatch.setattr(system.intake, "submit", contended)
    with TestClient(system.web_app()) as client:
        answer = client.post("/api/v1/reports", json=MAILBOX, headers={"Idempotency-Key": "k"})

    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    assert "retry with the same Idempotency-Key" in answer.json()["detail"]


def test_a_follow_up_without_the_read_models_answers_503_with_retry_after(
    system: EmbeddedSystem,
) -> None:
    def unreachable(report_id: str) -> CaseFollowUp:
        raise DatabaseUnavailable("projections database down")

    app = web_app("intake", [intake_api.build_router(system.intake, follow_up=unreachable)], dict)
    with TestClient(app) as client:
        receipt = client.post("/api/v1/reports", json=MAILBOX).json()
        answer = client.get(
            f"/api/v1/follow-up/{receipt['query_code']}",
            headers={"X-Follow-Up-Password": receipt["password"]},
        )

    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0


ROUTES = {
    ("post", "/api/v1/auth/token"): {"200", "401", "422", "429"},
    ("post", "/api/v1/reports"): {"201", "401", "403", "422", "429", "503"},
    ("post", "/api/v1/reports/{report_id}/accept"): {"200", "401", "403", "404", "409", "422"},
    ("post", "/api/v1/reports/{report_id}/forward_up"): {
        "200",
        "401",
        "403",
        "404",
        "409",
        "422",
    },
    ("post", "/api/v1/reports/{report_id}/identity"): {"200", "401", "403", "404", "422"},
    ("post", "/api/v1/reports/{report_id}/sealed-content/hand-over"): {
        "200",
        "401",
        "403",
        "404",
        "409",
        "422",
    },
    ("post", "/api/v1/reports/{report_id}/sealed-content/open"): {
        "200",
        "401",
        "403",
        "404",
        "409",
        "422",
    },
    ("get", "/api/v1/follow-up/{query_code}"): {"200", "404", "422", "429", "503"},
}


def test_the_routes_list_every_status_they_answer(system: EmbeddedSystem) -> None:
    with TestClient(system.web_app()) as client:
        paths = client.get("/openapi.json").json()["paths"]

    for (method, path), statuses in ROUTES.items():
        responses = paths[path][method]["responses"]
        assert statuses <= set(responses), (path, set(responses))
        for status in ("429", "503"):
            if status in responses:
                assert "Retry-After" in responses[status].get("headers", {}), (path, status)
