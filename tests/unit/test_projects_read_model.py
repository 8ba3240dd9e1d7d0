"""The projects read model (立项督查, issue 14 item 6): each step of a project lands in its
rows (stage, last step and its day, the verdict once approved, its deadlines and the day
each was met); the queries (in progress, all, by stage, on one selection, paged with their
total; the selection's unit; the open deadline with its state today); and
``GET /api/v1/projects`` (who may read it, its paging and filters, its statuses, served by
the read side while casework keeps the opening and the record). That a random history
projected in any order equals its rebuild is in test_rebuild.py (with the other read
models)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from schemas.events import Actor
from schemas.glossary import ProjectStage, Role
from services.bootstrap import EmbeddedSystem
from services.projections.projects.queries import ProjectFilters
from tests.support.auth import bearer
from tests.unit.conftest import build_embedded, make_settings, submission
from tests.unit.test_project_api import (
    PATH,
    PROJECTS,
    STEPS,
    TODAY,
    open_one,
    opening,
    step,
    up_to_step,
)
from tests.unit.test_selection_api import SELECTIONS, up_to


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path, auto_accept=True), TODAY)
    yield system
    system.stop()


@pytest.fixture
def client(system: EmbeddedSystem) -> Iterator[TestClient]:
    with TestClient(system.web_app()) as client:
        yield client


@pytest.fixture
def leader(system: EmbeddedSystem) -> dict[str, str]:
    return bearer(system.accounts, "leader-1", Role.LEADER)


@pytest.fixture
def handler(system: EmbeddedSystem) -> dict[str, str]:
    return bearer(system.accounts, "handler-1", Role.HANDLER)


@pytest.fixture
def selection_id(system: EmbeddedSystem, client: TestClient) -> str:
    """A selection (of 某县财政局) whose candidates a and b were appointed on 10 April 2026."""
    clerk = bearer(system.accounts, "clerk-1", Role.SELECTION_CLERK)
    selection_id = up_to(client, clerk, "record_appointment")
    appointments = [{"candidate_id": c, "post": "副局长"} for c in ("a", "b")]
    response = client.post(
        f"{SELECTIONS}/{selection_id}/record_appointment",
        json={"appointments": appointments, "on": "2026-04-10"},
        headers=clerk,
    )
    assert response.status_code == 200, response.text
    return selection_id


@pytest.fixture
def case_id(system: EmbeddedSystem) -> str:
    """A report of vote buying, accepted: the case a project is opened on."""
    receipt = system.intake.submit(
        submission(categories=["vote_buying"], summary="反映民主推荐前宴请拉票"),
        actor=Actor(id="op-1", role=Role.OPERATOR),
    )
    system.catch_up()
    case = system.intake.get_report(UUID(receipt.report_id)).case_id
    assert case is not None
    return str(case)


def row(system: EmbeddedSystem, project_id: str) -> dict[str, Any]:
    system.catch_up()
    [found] = system.read.store.query(
        "SELECT * FROM project_list WHERE project_id = %s", (project_id,)
    )
    return found


def deadlines(system: EmbeddedSystem, project_id: str) -> dict[str, Any]:
    rows = system.read.store.query(
        "SELECT * FROM project_deadlines WHERE project_id = %s", (project_id,)
    )
    return {r["name"]: r for r in rows}


def test_each_step_lands_in_the_projects_rows(
    client: TestClient,
    system: EmbeddedSystem,
    leader: dict[str, str],
    handler: dict[str, str],
    selection_id: str,
    case_id: str,
) -> None:
    project_id = open_one(client, leader, selection_id, case_id)
    opened = row(system, project_id)
    assert (opened["selection_id"], opened["stage"], opened["opened_on"]) == (
        selection_id,
        "opened",
        "2026-04-13",
    )
    assert (opened["last_step"], opened["verdict"], opened["version"]) == ("ProjectOpened", None, 1)
    due = deadlines(system, project_id)
    record = client.get(f"{PROJECTS}/{project_id}", headers=leader).json()
    on_record = {d["name"]: d["due"] for d in record["deadlines"]}
    assert {n: d["due"] for n, d in due.items()} == on_record
    assert set(due) == {"project_plan", "project_conclusion"}
    assert all(d["met_on"] is None for d in due.values())

    who = {"leader": leader, "handler": handler}
    for action in PATH:
        response = step(client, project_id, action, who[STEPS[action][0]])
        assert response.status_code == 200, (action, response.text)
        now = row(system, project_id)
        assert now["stage"] == response.json()["stage"]
        assert now["version"] == response.json()["version"]
        assert now["last_step_on"] == STEPS[action][1]["on"]
    assert (now["stage"], now["verdict"], now["last_step"]) == ("closed", "true", "ProjectClosed")
    met = {n: d["met_on"] for n, d in deadlines(system, project_id).items()}
    assert met == {
        "project_plan": "2026-04-15",
        "project_conclusion": "2026-04-17",
        "project_report_back": "2026-04-20",
    }


def test_the_queries_in_progress_all_by_stage_and_on_a_selection(
    client: TestClient,
    system: EmbeddedSystem,
    leader: dict[str, str],
    handler: dict[str, str],
    selection_id: str,
    case_id: str,
) -> None:
    who = {"leader": leader, "handler": handler}
    first = open_one(client, leader, selection_id, case_id)
    second = open_one(client, leader, selection_id, case_id)
    up_to_step(client, who, second, "record_finding")  # planned: the plan met
    system.catch_up()
    projects = system.read.projects

    page = projects.project_list()
    assert (page.total, {i.project_id for i in page.items}) == (2, {first, second})
    item = projects.get(first)
    assert item is not None
    assert (item.unit, item.irregularities, item.irregularities_zh) == (
        "某县财政局",
        ["vote_buying"],
        ["拉票贿选"],
    )
    # The open deadline due first: the plan's while it is not recorded, then the conclusion's.
    record = client.get(f"{PROJECTS}/{first}", headers=leader).json()
    plan = next(d for d in record["deadlines"] if d["name"] == "project_plan")
    assert item.deadline is not None
    assert (item.deadline.name, str(item.deadline.due), item.deadline.state) == (
        "project_plan",
        plan["due"],
        plan["state"],
    )
    later = projects.get(second)
    assert later is not None
    assert later.deadline is not None
    assert (later.stage, later.deadline.name) == ("planned", "project_conclusion")

    staged = projects.project_list(ProjectFilters(stage=ProjectStage.PLANNED))
    assert [i.project_id for i in staged.items] == [second]
    assert sorted(i.project_id for i in projects.on_selection(selection_id)) == sorted(
        [first, second]
    )
    assert projects.on_selection("nowhere") == []
    assert sorted(i.project_id for i in projects.resting_on(case_id)) == sorted([first, second])
    assert projects.resting_on(selection_id) == []

    up_to_step(client, who, first, "close")
    step(client, first, "close", leader)
    system.catch_up()
    assert [i.project_id for i in projects.in_progress().items] == [second]
    everything = projects.project_list(ProjectFilters(in_progress=False))
    assert everything.total == 2
    closed = projects.get(first)
    assert closed is not None
    assert (closed.stage_zh, closed.verdict_zh, closed.deadline) == ("已办结", "属实", None)


def test_the_list_api_for_its_readers_paged_and_filtered(
    client: TestClient,
    system: EmbeddedSystem,
    leader: dict[str, str],
    selection_id: str,
    case_id: str,
) -> None:
    project_id = open_one(client, leader, selection_id, case_id)
    system.catch_up()

    for role in (Role.HANDLER, Role.LEADER, Role.AUDITOR):
        headers = bearer(system.accounts, f"{role.value}-list", role)
        listed = client.get(PROJECTS, headers=headers)
        assert listed.status_code == 200, (role, listed.text)
        assert [i["project_id"] for i in listed.json()["items"]] == [project_id]
    for role in (Role.OPERATOR, Role.LIAISON, Role.ADMIN, Role.SELECTION_CLERK):
        headers = bearer(system.accounts, f"{role.value}-list", role)
        assert client.get(PROJECTS, headers=headers).status_code == 403, role
    assert client.get(PROJECTS).status_code == 401

    body = client.get(PROJECTS, params={"stage": "opened"}, headers=leader).json()
    item = body["items"][0]
    assert (body["total"], item["unit"], item["stage_zh"]) == (1, "某县财政局", "已立项")
    assert item["deadline"]["name"] == "project_plan"
    assert body["filters"] == {"in_progress": "true", "stage": "opened"}
    on_it = client.get(PROJECTS, params={"selection_id": selection_id}, headers=leader).json()
    assert on_it["total"] == 1
    assert (
        client.get(PROJECTS, params={"stage": "team_formed"}, headers=leader).json()["total"] == 0
    )
    assert client.get(PROJECTS, params={"page": 2}, headers=leader).json()["items"] == []
    assert client.get(PROJECTS, params={"stage": "nowhere"}, headers=leader).status_code == 422
    assert client.get(PROJECTS, params={"page": 0}, headers=leader).status_code == 422
    assert client.get(PROJECTS, params={"selection_id": "x"}, headers=leader).status_code == 422
    # The same path's POST is still casework's opening; the record casework's too.
    assert client.post(PROJECTS, json=opening(selection_id, case_id), headers=leader).status_code
    assert client.get(f"{PROJECTS}/{project_id}", headers=leader).status_code == 200


def test_the_list_api_documents_its_statuses(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operations = schema["paths"]["/api/v1/projects"]
    assert set(operations["get"]["responses"]) >= {"200", "401", "403", "422"}
    assert "201" in operations["post"]["responses"]


def test_both_modes_serve_the_list_and_the_opening(system: EmbeddedSystem) -> None:
    """The embedded app serves both methods of ``/api/v1/projects``; distributed, the list
    is ``jiandu projections-api``'s and the opening and the record ``jiandu casework``'s (the
    proxy sends each there: test_pages_owners.py)."""
    from tests.fuzz.apps import distributed_apps
    from tests.unit.test_api_access import api_routes

    embedded = api_routes(system.web_app())
    assert {("GET", PROJECTS), ("POST", PROJECTS)} <= embedded
    apps = {name: api_routes(app) for name, app in distributed_apps(system).items()}
    assert ("GET", PROJECTS) in apps["projections-api"]
    assert ("POST", PROJECTS) not in apps["projections-api"]
    assert ("GET", PROJECTS + "/{project_id}") not in apps["projections-api"]
    assert ("POST", PROJECTS) in apps["casework"]
    assert ("GET", PROJECTS + "/{project_id}") in apps["casework"]
    assert ("GET", PROJECTS) not in apps["casework"]


# -- the liaison quarterly report ----------------------------------------------------------------


def test_the_liaison_figures_count_the_projects_by_the_irregularities_reported(
    client: TestClient, system: EmbeddedSystem, leader: dict[str, str], selection_id: str,
    case_id: str,
) -> None:  # fmt: skip
    """By the glossary's values alone: no clue, unit or name reaches the liaison table."""
    open_one(client, leader, selection_id, case_id)
    both = opening(selection_id, case_id, irregularities=["vote_buying", "rushed_promotion"])
    assert client.post(PROJECTS, json=both, headers=leader).status_code == 201
    system.catch_up()

    second = {s.name: s for s in system.read.liaison.quarterly_report(2026, 2).sections}
    first = {s.name: s for s in system.read.liaison.quarterly_report(2026, 1).sections}

    section = second["selection_projects"]
    assert section.title_zh == "本季度立项督查（按反映的违规情形）"
    assert {r.key: r.count for r in section.rows if r.count} == {
        "vote_buying": 2,
        "rushed_promotion": 1,
    }
    assert {r.key: r.label for r in section.rows}["vote_buying"] == "拉票贿选"
    assert not any(r.count for r in first["selection_projects"].rows)  # opened 13 April
    stored = " ".join(map(str, system.read.store.query("SELECT * FROM liaison_projects")))
    for secret in ("宴请拉票", "某县财政局", "督立", "leader-1"):
        assert secret not in stored
