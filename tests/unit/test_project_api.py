"""The supervision project (立项督查, issue 14) served over HTTP: a leader opens a project on a
selection on the reports of an irregularity, the supervision office takes it to its close,
each refusal's status and problem body, the Idempotency-Key of the opening, the deadlines
counted on the working-day calendar (the National Day holiday skipped) with their state
from the application's today, and the query the voiding of appointments asks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from schemas.events import Actor
from schemas.glossary import Role, Verdict
from services.bootstrap import EMBEDDED_CONSUMER, EmbeddedSystem
from services.casework.chain import verify_log
from tests.support.auth import bearer
from tests.unit.conftest import advance_to, build_embedded, make_settings, submission
from tests.unit.test_selection_api import SELECTIONS, up_to

D = dt.date
PROJECTS = "/api/v1/projects"
TODAY = D(2026, 4, 20)  # after the selection's appointment (10 April)


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
def clerk(system: EmbeddedSystem) -> dict[str, str]:
    return bearer(system.accounts, "clerk-1", Role.SELECTION_CLERK)


@pytest.fixture
def selection_id(client: TestClient, clerk: dict[str, str]) -> str:
    """A selection whose candidates a and b were appointed on 10 April 2026."""
    selection_id = up_to(client, clerk, "record_appointment")
    response = client.post(
        f"{SELECTIONS}/{selection_id}/record_appointment",
        json={
            "appointments": [
                {"candidate_id": "a", "post": "副局长"},
                {"candidate_id": "b", "post": "副局长"},
            ],
            "on": "2026-04-10",
        },
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


def opening(selection_id: str, case_id: str, **change: Any) -> dict[str, Any]:
    return {
        "selection_id": selection_id,
        "basis": [case_id],
        "irregularities": ["vote_buying"],
        "clues": "反映某局副局长人选在民主推荐前宴请拉票，时间、地点、参加人员具体",
        "on": "2026-04-13",
        "document_number": "督立〔2026〕1号",
    } | change


STEPS: dict[str, tuple[str, dict[str, Any]]] = {
    "form_team": (
        "leader",
        {
            "leader": {"name": "刘组长", "unit": "县委组织部", "position": "干部监督科科长"},
            "members": [{"name": "陈干事", "unit": "县委组织部"}],
            "on": "2026-04-14",
        },
    ),
    "record_plan": ("handler", {"summary": "个别谈话、查阅推荐材料", "on": "2026-04-15"}),
    "record_finding": (
        "handler",
        {
            "irregularity": "vote_buying",
            "confirmed": True,
            "summary": "经谈话核实，推荐前确有宴请拉票",
            "evidence_refs": ["谈话笔录-03"],
            "on": "2026-04-16",
        },
    ),
    "propose_conclusion": (
        "handler",
        {
            "verdict": "true",
            "summary": "拉票贿选问题属实",
            "void_candidates": ["a"],
            "responsible": [{"name": "王局长", "unit": "某县财政局", "responsibility": "用人失察"}],
            "on": "2026-04-17",
        },
    ),
    "approve_conclusion": ("leader", {"on": "2026-04-17", "reason": "同意"}),
    "report_back": (
        "handler",
        {"reported_to": "市委组织部", "document_number": "督报〔2026〕1号", "on": "2026-04-20"},
    ),
    "close": ("leader", {"on": "2026-04-20"}),
}
PATH = list(STEPS)


def step(
    client: TestClient, project_id: str, action: str, headers: dict[str, str], **change: Any
) -> Any:
    return client.post(
        f"{PROJECTS}/{project_id}/{action}", json=STEPS[action][1] | change, headers=headers
    )


def refusal(response: Any, status: int, rule: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    if rule is not None:
        assert body["rule"] == rule
        assert body["detail_zh"]
    return body


def open_one(client: TestClient, leader: dict[str, str], selection_id: str, case_id: str) -> str:
    response = client.post(PROJECTS, json=opening(selection_id, case_id), headers=leader)
    assert response.status_code == 201, response.text
    return str(response.json()["project_id"])


def up_to_step(
    client: TestClient, who: dict[str, dict[str, str]], project_id: str, last: str
) -> None:
    for action in PATH[: PATH.index(last)]:
        response = step(client, project_id, action, who[STEPS[action][0]])
        assert response.status_code == 200, (action, response.text)


# -- the whole project ---------------------------------------------------------------------------


def test_a_leader_opens_a_project_and_the_supervision_office_takes_it_to_its_close(
    client: TestClient,
    system: EmbeddedSystem,
    leader: dict[str, str],
    handler: dict[str, str],
    selection_id: str,
    case_id: str,
) -> None:
    opened = client.post(PROJECTS, json=opening(selection_id, case_id), headers=leader)

    assert opened.status_code == 201, opened.text
    created = opened.json()
    assert (created["version"], created["stage"], created["stage_zh"]) == (1, "opened", "已立项")
    project_id = created["project_id"]
    assert opened.headers["location"] == f"{PROJECTS}/{project_id}"
    assert system.casework.project_conclusion(UUID(project_id)) is None

    who = {"leader": leader, "handler": handler}
    stages = []
    for action in PATH:
        response = step(client, project_id, action, who[STEPS[action][0]])
        assert response.status_code == 200, (action, response.text)
        stages.append(response.json()["stage"])

    assert stages == [
        "team_formed",
        "planned",
        "investigating",
        "conclusion_proposed",
        "concluded",
        "reported",
        "closed",
    ]
    view = client.get(f"{PROJECTS}/{project_id}", headers=leader).json()
    assert view["version"] == 1 + len(PATH)
    assert (view["selection_id"], view["basis"]) == (selection_id, [case_id])
    assert (view["irregularities"], view["irregularities_zh"]) == (["vote_buying"], ["拉票贿选"])
    assert view["team"]["leader"]["name"] == "刘组长"
    assert view["conclusion"]["void_candidates"] == ["a"]
    assert view["conclusion"]["approved_by"] == {"id": "leader-1", "role": "leader"}
    assert view["report"]["document_number"] == "督报〔2026〕1号"
    assert {d["name"]: d["state"] for d in view["deadlines"]} == {
        "project_plan": "met",
        "project_conclusion": "met",
        "project_report_back": "met",
    }
    assert view["allowed_actions"] == []
    # What the voiding of appointments asks (sel-void): the approved conclusion.
    outcome = system.casework.project_conclusion(UUID(project_id))
    assert outcome is not None
    assert (outcome.selection_id, outcome.verdict) == (UUID(selection_id), Verdict.TRUE)
    assert outcome.void_candidates == ("a",)
    assert outcome.responsible[0]["responsibility"] == "用人失察"
    assert outcome.approved_on == D(2026, 4, 17)
    assert outcome.proven
    assert system.casework.project_concluded(UUID(project_id))
    # Sealed in its chain, and the followers project it without listing a case for it.
    system.catch_up()
    assert system.read.store.position(EMBEDDED_CONSUMER, "casework") == (
        system.casework.max_position()
    )
    checked, broken = verify_log(system.casework)
    assert (checked, broken) == (3, [])  # the case, the selection, the project
    listed = client.get("/api/v1/cases", headers=leader)
    assert listed.status_code == 200, listed.text
    assert project_id not in listed.text


def test_a_returned_conclusion_goes_back_to_the_findings(
    client: TestClient,
    leader: dict[str, str],
    handler: dict[str, str],
    selection_id: str,
    case_id: str,
) -> None:
    project_id = open_one(client, leader, selection_id, case_id)
    up_to_step(client, {"leader": leader, "handler": handler}, project_id, "approve_conclusion")

    unexplained = client.post(f"{PROJECTS}/{project_id}/return_conclusion", json={}, headers=leader)
    returned = client.post(
        f"{PROJECTS}/{project_id}/return_conclusion",
        json={"reason": "证据不足，补充核查", "on": "2026-04-17"},
        headers=leader,
    )

    refusal(unexplained, 422)
    assert returned.status_code == 200, returned.text
    assert returned.json()["stage"] == "investigating"
    assert returned.json()["returns"][0]["reason"] == "证据不足，补充核查"
    assert (
        "record_finding"
        in client.get(f"{PROJECTS}/{project_id}", headers=handler).json()["allowed_actions"]
    )


# -- the opening's refusals -------------------------------------------------------------------------


def test_only_a_leader_opens_a_project(
    client: TestClient,
    system: EmbeddedSystem,
    handler: dict[str, str],
    clerk: dict[str, str],
    selection_id: str,
    case_id: str,
) -> None:
    before = system.casework.max_position()
    body = opening(selection_id, case_id)

    refusal(client.post(PROJECTS, json=body), 401)
    refusal(client.post(PROJECTS, json=body, headers=handler), 403)
    refusal(client.post(PROJECTS, json=body, headers=clerk), 403)
    assert system.casework.max_position() == before


def test_an_opening_on_a_selection_or_case_that_does_not_exist_is_refused_naming_it(
    client: TestClient,
    system: EmbeddedSystem,
    leader: dict[str, str],
    selection_id: str,
    case_id: str,
) -> None:
    before = system.casework.max_position()
    nowhere = str(uuid4())

    no_selection = client.post(PROJECTS, json=opening(nowhere, case_id), headers=leader)
    no_case = client.post(
        PROJECTS, json=opening(selection_id, case_id, basis=[case_id, nowhere]), headers=leader
    )
    a_case_as_selection = client.post(PROJECTS, json=opening(case_id, case_id), headers=leader)

    assert refusal(no_selection, 422)["detail"] == f"selection_id: no selection {nowhere}"
    assert refusal(no_case, 422)["detail"] == f"basis: no case {nowhere}"
    assert refusal(a_case_as_selection, 422)["detail"].startswith("selection_id:")
    assert system.casework.max_position() == before


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"clues": "  "}, "clues_specific"),
        ({"irregularities": ["excess_posts"]}, "irregularities_in_scope"),
        ({"irregularities": []}, "irregularities_in_scope"),
        ({"basis": []}, "basis_named"),
    ],
    ids=["no_clues", "out_of_scope", "no_irregularity", "no_basis"],
)
def test_an_opening_a_named_rule_refuses_stores_nothing(
    client: TestClient,
    system: EmbeddedSystem,
    leader: dict[str, str],
    selection_id: str,
    case_id: str,
    change: dict[str, Any],
    rule: str,
) -> None:
    before = system.casework.max_position()

    response = client.post(PROJECTS, json=opening(selection_id, case_id, **change), headers=leader)

    refusal(response, 409, rule)
    assert system.casework.max_position() == before


def test_an_opening_dated_after_today_is_refused(
    client: TestClient, leader: dict[str, str], selection_id: str, case_id: str
) -> None:
    response = client.post(
        PROJECTS, json=opening(selection_id, case_id, on="2026-04-21"), headers=leader
    )
    assert refusal(response, 422)["detail"].startswith("on:")


def test_a_retried_opening_with_its_key_answers_the_same_project(
    client: TestClient,
    system: EmbeddedSystem,
    leader: dict[str, str],
    selection_id: str,
    case_id: str,
) -> None:
    keyed = leader | {"Idempotency-Key": "opening-1"}
    body = opening(selection_id, case_id)
    first = client.post(PROJECTS, json=body, headers=keyed)
    after_first = system.casework.max_position()

    retried = client.post(PROJECTS, json=body, headers=keyed)
    reused = client.post(PROJECTS, json=body | {"clues": "另一线索"}, headers=keyed)

    assert first.status_code == retried.status_code == 201, retried.text
    assert retried.json()["project_id"] == first.json()["project_id"]
    assert "Idempotency-Key" in refusal(reused, 422)["detail"]
    assert system.casework.max_position() == after_first  # neither stored anything


# -- the steps' refusals ------------------------------------------------------------------------------


def test_the_steps_refusals(
    client: TestClient,
    system: EmbeddedSystem,
    leader: dict[str, str],
    handler: dict[str, str],
    clerk: dict[str, str],
    selection_id: str,
    case_id: str,
) -> None:
    project_id = open_one(client, leader, selection_id, case_id)
    before = system.casework.max_position()

    refusal(step(client, str(uuid4()), "form_team", leader), 404)
    refusal(step(client, selection_id, "form_team", leader), 404)  # a selection is no project
    refusal(step(client, project_id, "form_team", handler), 403)
    refusal(step(client, project_id, "form_team", clerk), 403)
    refusal(step(client, project_id, "form_team", {}), 401)
    out_of_order = refusal(step(client, project_id, "record_plan", handler), 409)
    assert "已组成督查组" in out_of_order["detail_zh"]
    refusal(step(client, project_id, "form_team", leader, expected_version=3), 409)
    refusal(step(client, project_id, "form_team", leader, on="2026-04-21"), 422)
    refusal(step(client, project_id, "form_team", leader, on="2026-04-10"), 409)
    refusal(step(client, project_id, "form_team", leader, members=[]), 409, "team_named")
    refusal(client.post(f"{PROJECTS}/{project_id}/fly", json={}, headers=leader), 404)
    assert system.casework.max_position() == before
    formed = step(client, project_id, "form_team", leader, expected_version=1)
    assert formed.status_code == 200, formed.text
    refusal(client.get(f"{PROJECTS}/{project_id}", headers=clerk), 403)
    auditor = bearer(system.accounts, "auditor-1", Role.AUDITOR)
    as_auditor = client.get(f"{PROJECTS}/{project_id}", headers=auditor)
    assert as_auditor.status_code == 200
    assert as_auditor.json()["allowed_actions"] == []
    refusal(client.get(f"{PROJECTS}/{uuid4()}", headers=auditor), 404)


def test_only_an_appointed_candidate_is_recommended_void(
    client: TestClient,
    system: EmbeddedSystem,
    leader: dict[str, str],
    handler: dict[str, str],
    selection_id: str,
    case_id: str,
) -> None:
    project_id = open_one(client, leader, selection_id, case_id)
    up_to_step(client, {"leader": leader, "handler": handler}, project_id, "propose_conclusion")

    not_appointed = step(client, project_id, "propose_conclusion", handler, void_candidates=["c"])
    unproven = step(client, project_id, "propose_conclusion", handler, verdict="unproven")
    proposed = step(client, project_id, "propose_conclusion", handler, void_candidates=["b"])

    refusal(not_appointed, 409, "void_appointed_only")
    refusal(unproven, 409, "recommendation_needs_proven")
    assert proposed.status_code == 200, proposed.text
    assert proposed.json()["proposal"]["void_candidates"] == ["b"]
    refusal(step(client, project_id, "approve_conclusion", handler), 403)


# -- the deadlines ---------------------------------------------------------------------------------


def test_the_deadlines_skip_the_national_day_holiday_and_their_state_is_todays(
    client: TestClient,
    system: EmbeddedSystem,
    leader: dict[str, str],
    handler: dict[str, str],
    selection_id: str,
    case_id: str,
) -> None:
    """Opened Monday 28 September 2026: the plan (5 working days) is due Saturday 10 October,
    a make-up workday after the holiday of 1-7 October; the conclusion (30 working days) on
    Friday 13 November, not 9 November as on weekends alone."""
    advance_to(system, D(2026, 10, 12))
    leader = bearer(system.accounts, "leader-2", Role.LEADER)  # tokens live for hours
    project_id = open_one_on(client, leader, selection_id, case_id, "2026-09-28")

    view = client.get(f"{PROJECTS}/{project_id}", headers=leader).json()
    deadlines = {d["name"]: d for d in view["deadlines"]}
    assert deadlines["project_plan"]["due"] == "2026-10-10"
    assert deadlines["project_conclusion"]["due"] == "2026-11-13"
    assert not deadlines["project_conclusion"]["provisional"]
    assert (deadlines["project_plan"]["state"], deadlines["project_plan"]["state_zh"]) == (
        "overdue",
        "已逾期",
    )
    assert deadlines["project_conclusion"]["state"] == "running"

    for action, on in (("form_team", "2026-10-09"), ("record_plan", "2026-10-12")):
        response = step(client, project_id, action, leader, on=on)
        assert response.status_code == 200, response.text
    after = {d["name"]: d for d in response.json()["deadlines"]}
    assert (after["project_plan"]["met_on"], after["project_plan"]["state"]) == (
        "2026-10-12",
        "met_late",
    )

    advance_to(system, D(2026, 11, 11))  # two working days before the conclusion is due
    leader = bearer(system.accounts, "leader-3", Role.LEADER)
    later = client.get(f"{PROJECTS}/{project_id}", headers=leader).json()
    assert {d["name"]: d["state"] for d in later["deadlines"]}["project_conclusion"] == "due_soon"


def open_one_on(
    client: TestClient, leader: dict[str, str], selection_id: str, case_id: str, on: str
) -> str:
    response = client.post(PROJECTS, json=opening(selection_id, case_id, on=on), headers=leader)
    assert response.status_code == 201, response.text
    return str(response.json()["project_id"])


def test_the_report_back_is_due_ten_working_days_after_the_approval(
    client: TestClient,
    system: EmbeddedSystem,
    leader: dict[str, str],
    handler: dict[str, str],
    selection_id: str,
    case_id: str,
) -> None:
    project_id = open_one(client, leader, selection_id, case_id)
    up_to_step(client, {"leader": leader, "handler": handler}, project_id, "report_back")

    view = client.get(f"{PROJECTS}/{project_id}", headers=leader).json()
    report_back = {d["name"]: d for d in view["deadlines"]}["project_report_back"]
    # Approved Friday 17 April 2026: ten working days on, over Labour Day (1-5 May off):
    # 20-24 April, 27-30 April, then Wednesday 6 May.
    assert report_back["due"] == "2026-05-06"
    assert report_back["state"] == "running"


# -- the project as a basis for voiding and responsibility -----------------------------------------


def test_an_approved_project_is_the_basis_for_voiding_its_selections_appointment(
    client: TestClient,
    leader: dict[str, str],
    handler: dict[str, str],
    clerk: dict[str, str],
    selection_id: str,
    case_id: str,
) -> None:
    who = {"leader": leader, "handler": handler}
    project_id = open_one(client, leader, selection_id, case_id)
    up_to_step(client, who, project_id, "report_back")  # approved on 17 April
    basis = {"kind": "project", "id": project_id}
    void = {"candidates": ["a"], "ground": "canvassing_bribery", "basis": basis}
    other = up_to(client, clerk, "record_appointment")
    client.post(f"{SELECTIONS}/{other}/record_appointment", json={"appointments": [
        {"candidate_id": "a", "post": "副局长"}], "on": "2026-04-10"}, headers=clerk)  # fmt: skip

    too_early = client.post(
        f"{SELECTIONS}/{selection_id}/void_appointment", json=void | {"on": "2026-04-16"},
        headers=leader,
    )  # fmt: skip
    elsewhere = client.post(
        f"{SELECTIONS}/{other}/void_appointment", json=void | {"on": "2026-04-17"}, headers=leader
    )
    voided = client.post(
        f"{SELECTIONS}/{selection_id}/void_appointment", json=void | {"on": "2026-04-17"},
        headers=leader,
    )  # fmt: skip

    refusal(too_early, 409, "basis_concluded")  # before the conclusion was approved
    refusal(elsewhere, 409, "basis_on_this_selection")
    assert voided.status_code == 200, voided.text
    (entry,) = voided.json()["voided"]
    assert entry["basis_kind"] == "project"
    assert entry["basis_id"] == project_id


def test_a_project_that_found_nothing_is_no_basis(
    client: TestClient,
    leader: dict[str, str],
    handler: dict[str, str],
    selection_id: str,
    case_id: str,
) -> None:
    who = {"leader": leader, "handler": handler}
    project_id = open_one(client, leader, selection_id, case_id)
    up_to_step(client, who, project_id, "propose_conclusion")
    untrue = {"verdict": "untrue", "summary": "查无实据", "void_candidates": [], "responsible": []}
    assert step(client, project_id, "propose_conclusion", handler, **untrue).status_code == 200
    assert step(client, project_id, "approve_conclusion", leader).status_code == 200
    void = {
        "candidates": ["a"],
        "ground": "canvassing_bribery",
        "basis": {"kind": "project", "id": project_id},
        "on": "2026-04-17",
    }

    refused = client.post(
        f"{SELECTIONS}/{selection_id}/void_appointment", json=void, headers=leader
    )

    refusal(refused, 409, "basis_proven")
