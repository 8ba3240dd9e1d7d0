"""The selections read model (decision 0034, issue 14 item 6): each step of a selection
lands in its rows (stage, last step and its day, the step expected next, the period it waits
on, candidates with their votes, status, integrity opinion, holds); the queries (in progress,
all, by stage, unit and cadre, paged with their total); and ``GET /api/v1/selections``
(who may read it, its paging and filters). That a random history projected in any order
equals its rebuild is in test_rebuild.py (with the other read models)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from schemas.glossary import Role, SelectionStage
from services.bootstrap import EmbeddedSystem
from services.projections.selections.queries import SelectionFilters, SelectionQueries
from tests.support.auth import bearer
from tests.unit.conftest import build_embedded, make_settings
from tests.unit.test_selection_api import (
    PATH,
    PROPOSAL,
    REPORT,
    SELECTIONS,
    STEPS,
    TODAY,
    propose,
    step,
    up_to,
)

St = SelectionStage


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path), TODAY)
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
def handler(system: EmbeddedSystem) -> dict[str, str]:
    return bearer(system.accounts, "handler-1", Role.HANDLER)


def row(system: EmbeddedSystem, selection_id: str) -> dict[str, Any]:
    system.catch_up()
    [found] = system.read.store.query(
        "SELECT * FROM selection_list WHERE selection_id = %s", (selection_id,)
    )
    return found


def candidates(system: EmbeddedSystem, selection_id: str) -> dict[str, Any]:
    system.catch_up()
    return {c.candidate_id: c for c in system.read.selections.candidates(selection_id)}


# -- each step, its rows --------------------------------------------------------------------------


def test_each_step_lands_in_the_selections_rows(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str], handler: dict[str, str]
) -> None:
    selection_id = propose(client, clerk)
    proposed = row(system, selection_id)
    assert (proposed["unit"], proposed["posts"], proposed["stage"]) == (
        "某县财政局",
        '["副局长", "副局长"]',
        "proposed",
    )
    assert (proposed["proposed_on"], proposed["last_step"], proposed["last_step_on"]) == (
        "2026-03-02",
        "SelectionProposed",
        "2026-03-02",
    )
    assert (proposed["next_step"], proposed["waits_until"], proposed["version"]) == (
        "record_recommendation",
        None,
        1,
    )

    expected = {
        "record_recommendation": ("recommended", "announce_inspection", None, None),
        "announce_inspection": (
            "inspection_announced",
            "record_inspection",
            "inspection_announcement",
            "2026-03-13",
        ),
        "record_inspection": (
            "inspected",
            "record_deliberation",
            "inspection_announcement",
            "2026-03-13",
        ),
        "record_integrity_opinion": (
            "inspected",
            "record_deliberation",
            "inspection_announcement",
            "2026-03-13",
        ),
        "record_deliberation": (
            "deliberated",
            "record_decision",
            "inspection_announcement",
            "2026-03-13",
        ),
        "record_decision": ("decided", "start_publicity", None, None),
        "start_publicity": ("publicized", "record_appointment", "publicity", "2026-04-09"),
        "record_appointment": ("appointed", None, None, None),
    }
    for action in PATH:
        response = step(client, selection_id, action, clerk)
        assert response.status_code == 200, (action, response.text)
        found = row(system, selection_id)
        got = (found["stage"], found["next_step"], found["waits_on"], found["waits_until"])
        assert got == expected[action], action
        assert found["version"] == response.json()["version"]  # the aggregate's
        if action == "record_integrity_opinion":  # beside the steps: the last step stays
            assert (found["last_step"], found["last_step_on"]) == (
                "InspectionRecorded",
                "2026-03-10",
            )
        else:
            assert found["last_step_on"] == STEPS[action]["on"], action
        if action == "announce_inspection":
            listed = candidates(system, selection_id)
            assert {c: listed[c].status for c in listed} == {
                "a": "inspection_subject",
                "b": "inspection_subject",
                "c": "recommended",
            }
            assert (listed["a"].name, listed["a"].cadre_id, listed["a"].votes) == (
                "王建国",
                "C-001",
                30,
            )
            assert listed["a"].integrity_clean is None
        if action == "start_publicity":  # a report during the publicity holds b
            held = step(
                client, selection_id, "hold_candidate", handler,
                candidate_id="b", report_id=REPORT, on="2026-04-03", reason="收到反映",
            )  # fmt: skip
            assert held.status_code == 200, held.text
            listed = candidates(system, selection_id)
            assert (listed["b"].held, listed["b"].status, listed["b"].status_zh) == (
                True,
                "approved",
                "讨论决定通过",
            )
            assert system.read.selections.get(selection_id).held == 1  # type: ignore[union-attr]
            released = step(
                client, selection_id, "release_candidate", handler,
                candidate_id="b", report_id=REPORT, on="2026-04-09", reason="经核查不影响任用",
            )  # fmt: skip
            assert released.status_code == 200, released.text

    listed = candidates(system, selection_id)
    assert {c: (listed[c].status, listed[c].held) for c in listed} == {
        "a": ("appointed", False),
        "b": ("appointed", False),
        "c": ("recommended", False),
    }
    assert (listed["a"].integrity_clean, listed["a"].appointed_post) == (True, "副局长")
    holds = system.read.store.query("SELECT * FROM selection_holds")
    assert [(h["candidate_id"], h["open"], h["held_on"], h["released_on"]) for h in holds] == [
        ("b", 0, "2026-04-03", "2026-04-09")
    ]
    item = system.read.selections.get(selection_id)
    assert item is not None
    assert (item.candidates, item.held, item.stage_zh) == (3, 0, "任职")


def test_a_candidate_not_approved_and_a_withdrawal(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str]
) -> None:
    selection_id = up_to(client, clerk, "record_decision")
    decided = step(
        client, selection_id, "record_decision", clerk,
        votes=[{"candidate_id": "a", "agree": 7}, {"candidate_id": "b", "agree": 4, "disagree": 3}],
    )  # fmt: skip
    assert decided.status_code == 200, decided.text
    listed = candidates(system, selection_id)
    assert (listed["a"].status, listed["b"].status, listed["b"].status_zh) == (
        "approved",
        "not_approved",
        "讨论决定未通过",
    )
    rows = system.read.store.query(
        "SELECT decision_agree, decision_disagree FROM selection_candidates "
        "WHERE candidate_id = 'b'"
    )
    assert rows == [{"decision_agree": 4, "decision_disagree": 3}]

    withdrawn = step(client, selection_id, "withdraw", clerk, reason="岗位调整", on="2026-03-20")
    assert withdrawn.status_code == 200, withdrawn.text
    found = row(system, selection_id)
    assert (found["stage"], found["next_step"], found["last_step"]) == (
        "withdrawn",
        None,
        "SelectionWithdrawn",
    )


# -- the queries ------------------------------------------------------------------------------------


def test_the_queries_in_progress_all_by_stage_unit_and_cadre(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str]
) -> None:
    first = up_to(client, clerk, "announce_inspection")  # recommended
    second = propose(client, clerk)
    elsewhere = client.post(SELECTIONS, json=PROPOSAL | {"unit": "某县教育局"}, headers=clerk)
    third = elsewhere.json()["selection_id"]
    done = up_to(client, clerk, "record_appointment")
    assert step(client, done, "record_appointment", clerk).status_code == 200
    system.catch_up()
    queries: SelectionQueries = system.read.selections

    in_progress = queries.in_progress()
    assert in_progress.total == 3
    assert {i.selection_id for i in in_progress.items} == {first, second, third}
    assert queries.selection_list(SelectionFilters(in_progress=False)).total == 4
    assert [i.selection_id for i in queries.in_progress(stage=St.RECOMMENDED).items] == [first]
    assert [i.selection_id for i in queries.in_progress(unit="某县教育局").items] == [third]
    assert {i.selection_id for i in queries.naming("C-001")} == {first, done}
    assert queries.naming("C-404") == []
    assert queries.in_progress(stage=St.RECOMMENDED).items[0].candidates == 3

    queries.PAGE_SIZE = 2  # type: ignore[misc]
    page_one, page_two = queries.in_progress(page=1), queries.in_progress(page=2)
    assert (page_one.total, len(page_one.items), len(page_two.items)) == (3, 2, 1)
    seen = {i.selection_id for i in page_one.items} | {i.selection_id for i in page_two.items}
    assert seen == {first, second, third}


# -- the API ----------------------------------------------------------------------------------------


def test_the_list_api_for_its_readers_paged_and_filtered(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str]
) -> None:
    first = up_to(client, clerk, "announce_inspection")
    second = propose(client, clerk)
    system.catch_up()

    for role in (Role.SELECTION_CLERK, Role.HANDLER, Role.LEADER, Role.AUDITOR):
        headers = bearer(system.accounts, f"{role.value}-list", role)
        listed = client.get(SELECTIONS, headers=headers)
        assert listed.status_code == 200, (role, listed.text)
        assert listed.json()["total"] == 2
    for role in (Role.OPERATOR, Role.LIAISON, Role.ADMIN):
        headers = bearer(system.accounts, f"{role.value}-list", role)
        assert client.get(SELECTIONS, headers=headers).status_code == 403, role
    assert client.get(SELECTIONS).status_code == 401

    body = client.get(SELECTIONS, params={"stage": "recommended"}, headers=clerk).json()
    assert [i["selection_id"] for i in body["items"]] == [first]
    item = body["items"][0]
    assert (item["stage_zh"], item["next_step"], item["candidates"], item["held"]) == (
        "民主推荐",
        "announce_inspection",
        3,
        0,
    )
    assert body["filters"] == {"in_progress": "true", "stage": "recommended"}
    by_cadre = client.get(SELECTIONS, params={"cadre_id": "C-001"}, headers=clerk).json()
    assert [i["selection_id"] for i in by_cadre["items"]] == [first]
    assert client.get(SELECTIONS, params={"page": 2}, headers=clerk).json()["items"] == []
    assert client.get(SELECTIONS, params={"stage": "nowhere"}, headers=clerk).status_code == 422
    assert client.get(SELECTIONS, params={"page": 0}, headers=clerk).status_code == 422
    # The same path's POST is still casework's proposal.
    assert second in {
        i["selection_id"] for i in client.get(SELECTIONS, headers=clerk).json()["items"]
    }
    assert client.post(SELECTIONS, json=PROPOSAL, headers=clerk).status_code == 201


def test_the_list_api_documents_its_statuses(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operations = schema["paths"]["/api/v1/selections"]
    assert set(operations["get"]["responses"]) >= {"200", "401", "403", "422"}
    assert "201" in operations["post"]["responses"]


def test_both_modes_serve_the_list_and_the_proposal(system: EmbeddedSystem) -> None:
    """The embedded app serves both methods of ``/api/v1/selections``; distributed, the list
    is ``jiandu projections-api``'s and the proposal ``jiandu casework``'s (the proxy sends
    each there: test_pages_owners.py)."""
    from tests.fuzz.apps import distributed_apps
    from tests.unit.test_api_access import api_routes

    embedded = api_routes(system.web_app())
    assert {("GET", SELECTIONS), ("POST", SELECTIONS)} <= embedded
    apps = {name: api_routes(app) for name, app in distributed_apps(system).items()}
    assert ("GET", SELECTIONS) in apps["projections-api"]
    assert ("POST", SELECTIONS) not in apps["projections-api"]
    assert ("POST", SELECTIONS) in apps["casework"]
    assert ("GET", SELECTIONS) not in apps["casework"]
