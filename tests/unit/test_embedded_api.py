"""The embedded system over HTTP: submit, read back, follow the events into the read models."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from schemas.glossary import Role
from schemas.views import CadreRecord
from services.bootstrap import EmbeddedSystem
from tests.support.auth import bearer
from tests.unit.conftest import (
    REPORTER_EMAIL,
    REPORTER_ID_NUMBER,
    REPORTER_NAME,
    REPORTER_PHONE,
    build_embedded,
    make_settings,
    real_name_reporter,
)

REPORTS = "/api/v1/reports"
FINANCE = "某县财政局"
BODY: dict[str, Any] = {
    "channel": "hotline",
    "reporter": {"anonymous": True},
    "subjects": [{"name": "王建国", "unit": FINANCE, "position": "局长", "cadre_id": "C-001"}],
    "categories": ["seeking_office"],
    "summary": "反映王建国跑官要官。",
}


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path))
    yield system
    system.stop()


@pytest.fixture
def client(system: EmbeddedSystem) -> Iterator[TestClient]:
    with TestClient(system.web_app()) as client:
        yield client


@pytest.fixture
def operator(system: EmbeddedSystem) -> dict[str, str]:
    return bearer(system.accounts, "op-1", Role.OPERATOR)


@pytest.fixture
def leader(system: EmbeddedSystem) -> dict[str, str]:
    return bearer(system.accounts, "leader-1", Role.LEADER)


def post_report(client: TestClient, body: dict[str, Any], **headers: str) -> Any:
    return client.post(REPORTS, json=body, headers=headers)


def post_and_accept(client: TestClient, body: dict[str, Any], operator: dict[str, str]) -> Any:
    """Register a report, then accept it (受理) as the operator; the receipt, with the case."""
    receipt = post_report(client, body, **operator).json()
    accepted = client.post(f"{REPORTS}/{receipt['report_id']}/accept", json={}, headers=operator)
    assert accepted.status_code == 200, accepted.text
    return receipt | {"status": accepted.json()["status"], "case_id": accepted.json()["case_id"]}


def test_a_submitted_report_is_registered_and_waits_for_the_operator_to_accept_it(
    client: TestClient, system: EmbeddedSystem, operator: dict[str, str]
) -> None:
    """Triage before acceptance (issue 10, item 6): no case until an operator accepts."""
    response = post_report(client, BODY, **operator)

    assert response.status_code == 201, response.text
    receipt = response.json()
    assert re.fullmatch(r"JB-\d{4}-000001", receipt["ledger_number"])
    assert receipt["status"] == "registered"
    assert receipt["case_id"] is None
    accepted = client.post(f"{REPORTS}/{receipt['report_id']}/accept", json={}, headers=operator)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    receipt["case_id"] = accepted.json()["case_id"]
    assert receipt["case_id"]
    assert response.headers["location"] == f"{REPORTS}/{receipt['report_id']}"
    assert response.headers["cache-control"] == "no-store"
    system.catch_up()
    timeline = client.get(f"/api/v1/cases/{receipt['case_id']}/timeline", headers=operator)
    received = timeline.json()["steps"][0]
    assert (received["step"], received["actor_id"], received["actor_role"]) == (
        "ReportReceived",
        "op-1",
        "operator",
    )


def test_a_report_can_be_read_back(client: TestClient, operator: dict[str, str]) -> None:
    receipt = post_and_accept(client, BODY | {"reporter": real_name_reporter()}, operator)

    response = client.get(f"{REPORTS}/{receipt['report_id']}", headers=operator)

    assert response.status_code == 200, response.text
    view = response.json()
    assert view["ledger_number"] == receipt["ledger_number"]
    assert view["status"] == "accepted"
    assert view["case_id"] == receipt["case_id"]
    assert view["subjects"][0]["name"] == "王建国"
    assert view["reporter"]["anonymous"] is False
    for secret in (REPORTER_NAME, REPORTER_PHONE, REPORTER_EMAIL):
        assert secret not in response.text


def test_an_invalid_submission_lists_every_problem_and_echoes_no_value(
    client: TestClient, operator: dict[str, str]
) -> None:
    body = BODY | {
        "reporter": real_name_reporter() | {"unit": "某" * 201},
        "categories": ["seeking_office", "astrology"],
        "summary": "",
    }

    response = post_report(client, body, **operator)

    assert response.status_code == 422
    problems = response.json()["problems"]
    fields = sorted(p["field"] for p in problems)
    assert len(fields) == 3
    assert fields[0] == "categories.1"
    assert fields[1].startswith("reporter.")
    assert fields[1].endswith(".unit")
    assert fields[2] == "summary"
    assert all(p["problem"] for p in problems)
    for secret in (REPORTER_NAME, REPORTER_PHONE, REPORTER_EMAIL, REPORTER_ID_NUMBER, "某" * 201):
        assert secret not in response.text
    assert "astrology" not in response.text


def test_a_real_name_reporter_without_contact_is_told_so_without_an_echo(
    client: TestClient, operator: dict[str, str]
) -> None:
    body = BODY | {"reporter": {"anonymous": False, "name": REPORTER_NAME}}

    response = post_report(client, body, **operator)

    assert response.status_code == 422
    assert "phone number, an address or an e-mail" in response.json()["detail"]
    assert REPORTER_NAME not in response.text


def test_a_retry_with_the_same_idempotency_key_returns_the_same_body(
    client: TestClient, system: EmbeddedSystem
) -> None:
    first = post_report(client, BODY | {"channel": "mailbox"}, **{"Idempotency-Key": "k-1"})
    stored = system.intake.max_position()

    again = post_report(client, BODY | {"channel": "mailbox"}, **{"Idempotency-Key": "k-1"})

    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again.json()["password"]
    assert system.intake.max_position() == stored


def test_a_reused_idempotency_key_with_another_body_is_refused(
    client: TestClient, operator: dict[str, str]
) -> None:
    post_report(client, BODY, **operator, **{"Idempotency-Key": "k-2"})

    response = post_report(
        client, BODY | {"summary": "另一件事"}, **operator, **{"Idempotency-Key": "k-2"}
    )

    assert response.status_code == 422
    assert "already used for a different submission" in response.json()["detail"]


def test_the_timeline_the_case_and_the_archive_appear_after_catching_up(
    client: TestClient, system: EmbeddedSystem, operator: dict[str, str], leader: dict[str, str]
) -> None:
    system.read.register.upsert(
        [CadreRecord(cadre_id="C-001", name="王建国", unit=FINANCE, position="局长")]
    )
    receipt = post_and_accept(client, BODY, operator)
    case_id = receipt["case_id"]
    assert client.get(f"/api/v1/cases/{case_id}/timeline", headers=leader).status_code == 404
    assert client.get(f"/api/v1/cases/{case_id}", headers=leader).status_code == 404
    assert client.get("/api/v1/cadres/C-001/archive", headers=leader).json()["items"] == []

    system.catch_up()

    timeline = client.get(f"/api/v1/cases/{case_id}/timeline", headers=leader)
    assert timeline.status_code == 200, timeline.text
    steps = [s["step"] for s in timeline.json()["steps"]]
    assert steps == ["ReportReceived", "ReportRegistered", "ReportAccepted", "CaseOpened"]
    case = client.get(f"/api/v1/cases/{case_id}", headers=leader)
    assert case.status_code == 200, case.text
    assert case.json()["state"] == "open"
    assert case.json()["ledger_number"] == receipt["ledger_number"]
    items = client.get("/api/v1/cadres/C-001/archive", headers=leader).json()["items"]
    assert [(i["report_id"], i["case_id"]) for i in items] == [(receipt["report_id"], case_id)]


def test_a_case_command_over_http_checks_the_role(
    client: TestClient, system: EmbeddedSystem, operator: dict[str, str], leader: dict[str, str]
) -> None:
    case_id = post_and_accept(client, BODY, operator)["case_id"]
    system.catch_up()
    path = f"/api/v1/cases/{case_id}/assign"
    handler = bearer(system.accounts, "h-1", Role.HANDLER)
    bearer(system.accounts, "h-1", Role.HANDLER)  # the same account again: a second token

    refused_by_rule = client.post(path, json={"handler_id": "h-1"}, headers=operator)
    not_theirs = client.post(path, json={"handler_id": "h-1"}, headers=handler)
    assigned = client.post(path, json={"handler_id": "h-1"}, headers=leader)

    assert refused_by_rule.status_code == 403
    assert "may not assign" in refused_by_rule.json()["detail"]
    assert refused_by_rule.json()["detail_zh"]
    assert not_theirs.status_code == 403
    assert not_theirs.json()["rule"] == "own_or_section_case"
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["handler_id"] == "h-1"
    assert assigned.json()["state"] == "assigned"
    system.catch_up()
    steps = client.get(f"/api/v1/cases/{case_id}/timeline", headers=handler).json()["steps"]
    assert (steps[-1]["step"], steps[-1]["actor_id"], steps[-1]["actor_role"]) == (
        "HandlerAssigned",
        "leader-1",
        "leader",
    )
    as_handler = client.get(f"/api/v1/cases/{case_id}", headers=handler).json()
    assert "propose_disposition" in as_handler["allowed_actions"]
    assert "assign" not in as_handler["allowed_actions"]


def test_a_mailbox_reporter_follows_up_with_the_query_code(client: TestClient) -> None:
    receipt = post_report(client, BODY | {"channel": "mailbox"}).json()
    code = receipt["query_code"]

    found = client.get(
        f"/api/v1/follow-up/{code}", headers={"X-Follow-Up-Password": receipt["password"]}
    )
    wrong = client.get(f"/api/v1/follow-up/{code}", headers={"X-Follow-Up-Password": "NOPE"})

    assert found.status_code == 200
    assert found.json()["ledger_number"] == receipt["ledger_number"]
    assert found.json()["status"] == "registered"  # waiting for the operator's triage
    assert wrong.status_code == 404
    assert wrong.json()["detail"] == "query code or password is wrong"


def test_without_a_token_the_api_asks_to_sign_in_and_stores_nothing(
    client: TestClient, system: EmbeddedSystem
) -> None:
    submitted = post_report(client, BODY)
    stale = client.get(f"{REPORTS}/{uuid4()}", headers={"Authorization": "Bearer not-a-token"})

    assert submitted.status_code == 401
    assert "channel 'hotline'" in submitted.json()["detail"]
    assert "'mailbox'" in submitted.json()["detail"]
    assert submitted.headers["www-authenticate"] == "Bearer"
    assert system.intake.max_position() == 0
    assert stale.status_code == 401
    assert "unknown, expired or revoked" in stale.json()["detail"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/v1/reports/{id}", "no report {id}"),
        ("/api/v1/cases/{id}", "no case {id}"),
        ("/api/v1/cases/{id}/timeline", "no timeline for case {id} (yet)"),
        ("/api/v1/cadres/C-404/archive", "no cadre 'C-404' in the register"),
    ],
)
def test_unknown_things_are_404_with_a_clear_message(
    client: TestClient, leader: dict[str, str], path: str, message: str
) -> None:
    missing = str(uuid4())

    response = client.get(path.format(id=missing), headers=leader)

    assert response.status_code == 404
    assert response.json()["detail"] == message.format(id=missing)


def test_health_and_metrics_answer(
    client: TestClient, system: EmbeddedSystem, operator: dict[str, str]
) -> None:
    post_and_accept(client, BODY, operator)
    system.catch_up()

    health = client.get("/healthz")
    metrics = client.get("/metrics")

    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["mode"] == "embedded"
    assert health.json()["intake_position"] == system.intake.max_position() > 0
    assert health.json()["casework_position"] == system.casework.max_position() > 0
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "jiandu_projected_events_total" in metrics.text
