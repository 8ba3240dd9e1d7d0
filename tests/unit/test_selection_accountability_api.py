"""Voided appointments and responsibility for a selection over HTTP (decision 0034, issue 14
item 4): a leader voids an appointment and holds someone responsible on the basis of a case
whose conclusion is approved; who may (401/403), a basis that is not concluded (409 naming
the rule), an unknown selection (404), a bad body (422), and the record that shows it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from schemas.glossary import Role, Verdict
from services.bootstrap import EmbeddedSystem
from tests.support.auth import bearer
from tests.unit.conftest import build_embedded, make_settings, stand_in_handlers
from tests.unit.test_case_views import to_concluded, to_conclusion
from tests.unit.test_embedded_api import BODY, post_and_accept
from tests.unit.test_selection_api import SELECTIONS, TODAY, refusal, step, up_to


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = stand_in_handlers(build_embedded(make_settings(tmp_path), TODAY))
    yield system
    system.stop()


@pytest.fixture
def client(system: EmbeddedSystem) -> Iterator[TestClient]:
    with TestClient(system.web_app()) as client:
        yield client


@pytest.fixture
def clerk(system: EmbeddedSystem) -> dict[str, str]:
    return bearer(system.accounts, "clerk-1", Role.SELECTION_CLERK)


@pytest.fixture
def leader(system: EmbeddedSystem) -> dict[str, str]:
    return bearer(system.accounts, "leader-1", Role.LEADER)


@pytest.fixture
def operator(system: EmbeddedSystem) -> dict[str, str]:
    return bearer(system.accounts, "op-1", Role.OPERATOR)


def a_case(client: TestClient, system: EmbeddedSystem, operator: dict[str, str]) -> UUID:
    case_id = UUID(post_and_accept(client, BODY, operator)["case_id"])
    system.catch_up()
    return case_id


@pytest.fixture
def concluded(client: TestClient, system: EmbeddedSystem, operator: dict[str, str]) -> str:
    """A case whose conclusion the leader approved (the basis)."""
    case_id = a_case(client, system, operator)
    to_concluded(system, case_id, "handler-1", Verdict.TRUE)
    return str(case_id)


def appointed(client: TestClient, clerk: dict[str, str]) -> str:
    selection_id = up_to(client, clerk, "record_appointment")
    response = step(client, selection_id, "record_appointment", clerk)
    assert response.status_code == 200, response.text
    return selection_id


def void_body(basis: str, **change: Any) -> dict[str, Any]:
    return {
        "candidates": ["a"],
        "ground": "seeking_office",
        "basis": {"kind": "case", "id": basis},
        "document_number": "组通〔2026〕12号",
        "reason": "跑官要官查证属实",
        "on": "2026-04-10",
    } | change


def responsibility_body(basis: str, **change: Any) -> dict[str, Any]:
    return {
        "person": {
            "name": "陈科长",
            "unit": "县委组织部",
            "position": "考察组组长",
            "cadre_id": "C-009",
        },
        "step": "inspection",
        "handling": "admonition",
        "basis": {"kind": "case", "id": basis},
        "document_number": "组通〔2026〕13号",
        "reason": "考察失察",
        "on": "2026-04-10",
    } | change


def post(client: TestClient, selection_id: str, action: str, body: Any, headers: Any) -> Any:
    return client.post(f"{SELECTIONS}/{selection_id}/{action}", json=body, headers=headers)


def test_a_leader_voids_an_appointment_and_holds_the_inspector_responsible(
    client: TestClient, clerk: dict[str, str], leader: dict[str, str], concluded: str
) -> None:
    selection_id = appointed(client, clerk)

    voided = post(client, selection_id, "void_appointment", void_body(concluded), leader)
    assert voided.status_code == 200, voided.text
    record = voided.json()
    assert record["stage"] == "appointed"  # b still stands
    assert record["voided"] == [
        {
            "candidate_id": "a",
            "ground": "seeking_office",
            "ground_zh": "跑官要官",
            "basis_kind": "case",
            "basis_id": concluded,
            "document_number": "组通〔2026〕12号",
            "reason": "跑官要官查证属实",
            "on": "2026-04-10",
        }
    ]
    status = {c["candidate_id"]: c["status"] for c in record["candidates"]}
    assert status == {"a": "voided", "b": "appointed", "c": "recommended"}

    taken = post(
        client, selection_id, "take_responsibility", responsibility_body(concluded), leader
    )
    assert taken.status_code == 200, taken.text
    (responsibility,) = taken.json()["responsibilities"]
    assert responsibility["step_zh"] == "考察"
    assert responsibility["handling_zh"] == "诫勉"
    assert responsibility["person"]["cadre_id"] == "C-009"
    # The office's effects table, as a case's handling records it.
    assert responsibility["effects"]["bars_promotion_months"] > 0

    last = post(
        client, selection_id, "void_appointment", void_body(concluded, candidates=["b"]), leader
    )
    assert last.json()["stage"] == "voided"
    read = client.get(f"{SELECTIONS}/{selection_id}", headers=clerk).json()
    assert read["stage_zh"] == "任免无效"
    assert {c["candidate_id"] for c in read["voided"]} == {"a", "b"}
    assert read["allowed_actions"] == []  # a clerk may take no step of a void selection


def test_a_circulated_criticism_or_a_referral_records_no_effects(
    client: TestClient, clerk: dict[str, str], leader: dict[str, str], concluded: str
) -> None:
    selection_id = appointed(client, clerk)
    for handling in ("circulated_criticism", "discipline_transfer"):
        body = responsibility_body(concluded, handling=handling)
        response = post(client, selection_id, "take_responsibility", body, leader)
        assert response.status_code == 200, response.text
        assert response.json()["responsibilities"][-1]["effects"] == {}


def test_only_a_leader_may_void_or_take_responsibility(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str], concluded: str
) -> None:
    selection_id = appointed(client, clerk)
    handler = bearer(system.accounts, "handler-1", Role.HANDLER)
    before = system.casework.max_position()
    for headers in (clerk, handler):
        refusal(post(client, selection_id, "void_appointment", void_body(concluded), headers), 403)
        body = responsibility_body(concluded)
        refusal(post(client, selection_id, "take_responsibility", body, headers), 403)
    refusal(post(client, selection_id, "void_appointment", void_body(concluded), {}), 401)
    assert system.casework.max_position() == before


def test_a_basis_without_an_approved_conclusion_is_refused_naming_the_rule(
    client: TestClient,
    system: EmbeddedSystem,
    clerk: dict[str, str],
    leader: dict[str, str],
    operator: dict[str, str],
) -> None:
    selection_id = appointed(client, clerk)
    proposed = a_case(client, system, operator)
    to_conclusion(system, proposed, "handler-1")  # proposed, not yet approved
    before = system.casework.max_position()
    for basis in (str(proposed), str(uuid4()), selection_id):  # not concluded, none, no case
        body = refusal(
            post(client, selection_id, "void_appointment", void_body(basis), leader),
            409,
            "basis_concluded",
        )
        assert "核查案件" in body["detail_zh"]
        refusal(
            post(client, selection_id, "take_responsibility", responsibility_body(basis), leader),
            409,
            "basis_concluded",
        )
    untrue = a_case(client, system, operator)
    to_concluded(system, untrue, "handler-1", Verdict.UNTRUE)  # found nothing: no basis
    before = system.casework.max_position()
    for action, body in (
        ("void_appointment", void_body(str(untrue))),
        ("take_responsibility", responsibility_body(str(untrue))),
    ):
        refusal(post(client, selection_id, action, body, leader), 409, "basis_proven")
    assert system.casework.max_position() == before


def test_the_selections_rules_refuse_by_name(
    client: TestClient, clerk: dict[str, str], leader: dict[str, str], concluded: str
) -> None:
    selection_id = appointed(client, clerk)
    not_approved = void_body(concluded, candidates=["c"])
    refusal(
        post(client, selection_id, "void_appointment", not_approved, leader),
        409,
        "void_decided_only",
    )
    stranger = responsibility_body(concluded, person={"name": "孙某"}, reason="")
    refusal(
        post(client, selection_id, "take_responsibility", stranger, leader),
        409,
        "person_on_record",
    )
    early = up_to(client, clerk, "record_inspection")
    refusal(
        post(client, early, "take_responsibility", responsibility_body(concluded), leader),
        409,
        "step_on_record",
    )
    body = refusal(post(client, early, "void_appointment", void_body(concluded), leader), 409)
    assert "已讨论决定" in body["detail_zh"]
    # Out of order is refused as such, whatever the basis.
    no_case = void_body(str(uuid4()))
    body = refusal(post(client, early, "void_appointment", no_case, leader), 409)
    assert "rule" not in body or body["rule"] != "basis_concluded"
    assert "已讨论决定" in body["detail_zh"]


def test_an_unknown_selection_a_bad_body_and_a_future_day(
    client: TestClient, clerk: dict[str, str], leader: dict[str, str], concluded: str
) -> None:
    refusal(post(client, str(uuid4()), "void_appointment", void_body(concluded), leader), 404)
    selection_id = appointed(client, clerk)
    no_basis = void_body(concluded)
    del no_basis["basis"]
    body = refusal(post(client, selection_id, "void_appointment", no_basis, leader), 422)
    assert "basis" in body["detail"]
    bad_ground = void_body(concluded, ground="nepotism")
    refusal(post(client, selection_id, "void_appointment", bad_ground, leader), 422)
    bad_step = responsibility_body(concluded, step="publicity")
    refusal(post(client, selection_id, "take_responsibility", bad_step, leader), 422)
    future = void_body(concluded, on="2026-04-11")
    body = refusal(post(client, selection_id, "void_appointment", future, leader), 422)
    assert "on" in body["detail"]


def test_the_routes_document_their_statuses(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for action in ("void_appointment", "take_responsibility"):
        responses = paths[f"{SELECTIONS}/{{selection_id}}/{action}"]["post"]["responses"]
        assert {"200", "401", "403", "404", "409", "422"} <= set(responses), action
