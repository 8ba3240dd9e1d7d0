"""The supervision project desk's pages (立项督查, issue 14 item 6): a leader opens a project
from a selection's page, the team, plan, findings, conclusion, approval, report back and close
go through the forms (each by the role that may take it); the list shows the selection's unit,
the irregularities, the stage and the deadline running with its state; a refused step shows
its rule and stores nothing; a stale form is a conflict; a clerk is refused the project pages;
an auditor reads with no forms. Served by casework's process (decision 0031):
tests/unit/test_pages_owners.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from schemas.events import Actor
from schemas.glossary import Role
from services.bootstrap import EmbeddedSystem
from tests.support.auth import bearer
from tests.unit.conftest import build_embedded, make_settings, submission
from tests.unit.pages_support import PASSWORD, PEOPLE, csrf, sign_in
from tests.unit.test_project_api import TODAY
from tests.unit.test_selection_api import SELECTIONS, up_to


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path, auto_accept=True), TODAY)
    system.accounts._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    for username, (role, name, unit) in PEOPLE.items():
        system.accounts.create_user(
            username, PASSWORD, role, name, unit=unit, section="干部监督科", enforce_policy=False
        )
    yield system
    system.stop()


@pytest.fixture
def client(system: EmbeddedSystem) -> Iterator[TestClient]:
    with TestClient(system.web_app()) as client:
        yield client


@pytest.fixture
def selection_id(system: EmbeddedSystem, client: TestClient) -> str:
    """A selection of 某县财政局 whose candidates a (王建国) and b were appointed on 10 April."""
    clerk = bearer(system.accounts, "clerk-api", Role.SELECTION_CLERK)
    selection_id = up_to(client, clerk, "record_appointment")
    appointments = [{"candidate_id": c, "post": "副局长"} for c in ("a", "b")]
    response = client.post(
        f"{SELECTIONS}/{selection_id}/record_appointment",
        json={"appointments": appointments, "on": "2026-04-10"},
        headers=clerk,
    )
    assert response.status_code == 200, response.text
    system.catch_up()
    return selection_id


@pytest.fixture
def case_id(system: EmbeddedSystem) -> str:
    receipt = system.intake.submit(
        submission(categories=["vote_buying"], summary="反映民主推荐前宴请拉票"),
        actor=Actor(id="op-1", role=Role.OPERATOR),
    )
    system.catch_up()
    case = system.intake.get_report(UUID(receipt.report_id)).case_id
    assert case is not None
    return str(case)


def post(client: TestClient, path: str, data: dict[str, object]) -> Any:
    return client.post(path, data={"csrf_token": csrf(client), **data}, follow_redirects=False)


def version_of(page: str, action: str) -> str:
    form = page[page.index(f'id="form-{action}"') :]
    match = re.search(r'name="expected_version" value="(\d+)"', form)
    assert match, form[:2000]
    return match[1]


def step(client: TestClient, project_id: UUID, action: str, **data: object) -> Any:
    page = client.get(f"/projects/{project_id}").text
    data.setdefault("expected_version", version_of(page, action))
    return post(client, f"/projects/{project_id}/{action}", data)


def recorded(response: Any, project_id: UUID, action: str) -> None:
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/projects/{project_id}?done={action}#steps"


def open_project(client: TestClient, selection_id: str, case_id: str) -> UUID:
    response = post(
        client,
        "/projects",
        {
            "selection_id": selection_id,
            "basis": case_id,
            "irregularities": ["vote_buying"],
            "clues": "反映某局副局长人选在民主推荐前宴请拉票，时间、地点、参加人员具体",
            "document_number": "督立〔2026〕1号",
            "on": "2026-04-13",
        },
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.endswith("?done=open")
    return UUID(location.split("/")[2].split("?")[0])


# -- the whole project through the forms --------------------------------------------------------


def test_a_leader_opens_a_project_from_a_selection_and_it_goes_through_the_forms(
    client: TestClient, system: EmbeddedSystem, selection_id: str, case_id: str
) -> None:
    sign_in(client, system, "leader")
    home = client.get("/approvals").text
    assert 'href="/projects"' in home
    assert "督查项目" in home
    selection_page = client.get(f"/selections/{selection_id}").text
    assert "本次选拔任用尚无立项督查" in selection_page
    assert f'href="/projects?selection_id={selection_id}#form-open"' in selection_page
    form_page = client.get(f"/projects?selection_id={selection_id}")
    assert form_page.status_code == 200
    assert f'<option value="{selection_id}" selected>' in form_page.text

    project_id = open_project(client, selection_id, case_id)
    page = client.get(f"/projects/{project_id}?done=open").text
    assert "已立项" in page
    assert "拉票贿选" in page
    assert "督查方案" in page  # the plan's deadline
    assert 'id="form-form_team"' in page

    recorded(
        step(
            client, project_id, "form_team",
            leader="刘组长，县委组织部，干部监督科科长", members="陈干事，县委组织部\n周干事",
            document_number="督组〔2026〕1号", on="2026-04-14",
        ),
        project_id, "form_team",
    )  # fmt: skip
    sign_in(client, system, "handler")
    recorded(
        step(client, project_id, "record_plan", summary="个别谈话、查阅推荐材料", on="2026-04-15"),
        project_id,
        "record_plan",
    )
    recorded(
        step(
            client, project_id, "record_finding",
            irregularity="vote_buying", confirmed="true", summary="经谈话核实，推荐前确有宴请拉票",
            evidence_refs="谈话笔录-03\n谈话笔录-04", on="2026-04-16",
        ),
        project_id, "record_finding",
    )  # fmt: skip
    recorded(
        step(
            client, project_id, "propose_conclusion",
            verdict="true", summary="拉票贿选问题属实", void_candidates=["a"],
            responsible="王局长，某县财政局，局长，用人失察", on="2026-04-17",
        ),
        project_id, "propose_conclusion",
    )  # fmt: skip
    page = client.get(f"/projects/{project_id}").text
    assert "已提出督查结论" in page
    assert "王建国（副局长）" in page  # the appointment recommended void
    assert "用人失察" in page
    assert 'id="form-approve_conclusion"' not in page  # a leader's step

    sign_in(client, system, "leader")
    recorded(step(client, project_id, "approve_conclusion", on="2026-04-17"), project_id,
             "approve_conclusion")  # fmt: skip
    sign_in(client, system, "handler")
    recorded(
        step(
            client, project_id, "report_back",
            reported_to="市委组织部", document_number="督报〔2026〕1号", on="2026-04-20",
        ),
        project_id, "report_back",
    )  # fmt: skip
    sign_in(client, system, "leader")
    recorded(step(client, project_id, "close", on="2026-04-20"), project_id, "close")

    project = system.casework.get_project(project_id)
    assert project.stage.value == "closed"
    assert project.team is not None
    assert [m["name"] for m in project.team["members"]] == ["陈干事", "周干事"]
    assert project.findings[0]["evidence_refs"] == ["谈话笔录-03", "谈话笔录-04"]
    outcome = system.casework.project_conclusion(project_id)
    assert outcome is not None
    assert outcome.void_candidates == ("a",)
    assert outcome.responsible[0]["responsibility"] == "用人失察"
    page = client.get(f"/projects/{project_id}").text
    for shown in (
        "已办结",
        "属实",
        "刘组长",
        "周干事",
        "市委组织部",
        "督报〔2026〕1号",
        "谈话笔录-04",
    ):
        assert shown in page, shown
    assert "张强" in page  # who recorded the plan
    ledger_number = system.casework.get_case(UUID(case_id)).ledger_number
    assert ledger_number
    assert f'<a href="/cases/{case_id}"><code>{ledger_number}</code></a>' in page
    # The list (the read model) and the selection's page show it.
    system.catch_up()
    listed = client.get("/projects?in_progress=false").text
    assert f'href="/projects/{project_id}"' in listed
    assert "某县财政局" in listed
    assert "已办结" in listed
    assert f'href="/projects/{project_id}"' in client.get(f"/selections/{selection_id}").text
    case_page = client.get(f"/cases/{case_id}").text  # the case it rests on lists it
    assert "依据本案件立项的督查项目" in case_page
    assert f'href="/projects/{project_id}"' in case_page


def test_the_opening_offers_the_cases_that_held_the_selections_candidates(
    client: TestClient,
    system: EmbeddedSystem,
    selection_id: str,
    case_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A report during the selection's notice held candidate a in its case (sel-holds): the
    opening from the selection's page offers that case as the basis."""
    real = system.casework.get_selection

    def held(wanted: UUID) -> Any:
        selection = real(wanted)
        selection.held_by = {"a": {UUID(int=1): UUID(case_id)}, "b": {UUID(int=2): None}}
        return selection

    monkeypatch.setattr(system.casework, "get_selection", held)
    sign_in(client, system, "leader")
    form = client.get(f"/projects?selection_id={selection_id}").text
    basis = form[form.index('name="basis"') :]
    assert basis[: basis.index("</textarea>")].endswith(case_id)
    blank = client.get("/projects").text
    basis = blank[blank.index('name="basis"') :]
    assert basis[: basis.index("</textarea>")].endswith(">")


def test_the_list_shows_the_deadline_running_and_its_state(
    client: TestClient, system: EmbeddedSystem, selection_id: str, case_id: str
) -> None:
    sign_in(client, system, "leader")
    project_id = open_project(client, selection_id, case_id)
    system.catch_up()
    page = client.get("/projects").text
    row = page[page.index(f'href="/projects/{project_id}"') :]
    row = row[: row.index("</tr>")]
    assert "某县财政局" in row
    assert "拉票贿选" in row
    assert "督查方案" in row
    # Opened Monday 13 April: the plan is due five working days later, Monday 20 April,
    # which is today.
    assert "2026-04-20" in row
    assert "clock-due_soon" in row or "clock-due" in row
    english = client.get("/projects?lang=en").text
    assert "Supervision projects in progress" in english
    assert "vote buying" in english
    assert "Supervision plan" in english
    record = client.get(f"/projects/{project_id}?lang=en").text
    assert "Form the supervision team" in record
    assert "Project opened" in record  # the step, its type in words


def test_a_refused_step_shows_its_rule_and_stores_nothing(
    client: TestClient, system: EmbeddedSystem, selection_id: str, case_id: str
) -> None:
    sign_in(client, system, "leader")
    project_id = open_project(client, selection_id, case_id)
    before = system.casework.get_project(project_id).version

    alone = step(
        client, project_id, "form_team", leader="刘组长", members="刘组长", on="2026-04-14"
    )

    assert alone.status_code == 409
    assert "督查组须明确组长和成员，每人只列一次" in alone.text
    assert "刘组长" in alone.text  # refilled
    assert system.casework.get_project(project_id).version == before
    # A step of a later stage is refused by the order of the steps, in the page too.
    early = post(
        client, f"/projects/{project_id}/close", {"expected_version": before, "on": "2026-04-14"}
    )
    assert early.status_code == 409
    assert "不能执行该操作：需要已报送督查报告" in early.text
    # A day after today, on its field.
    later = step(
        client, project_id, "form_team", leader="刘组长", members="陈干事", on="2026-05-01"
    )
    assert later.status_code == 422
    # The opening's named rule: clues left blank.
    blank = post(
        client,
        "/projects",
        {"selection_id": selection_id, "basis": case_id, "irregularities": ["vote_buying"],
         "clues": "  ", "on": "2026-04-13"},
    )  # fmt: skip
    assert blank.status_code == 422  # a required field
    assert system.casework.get_project(project_id).version == before


def test_a_stale_form_is_a_conflict(
    client: TestClient, system: EmbeddedSystem, selection_id: str, case_id: str
) -> None:
    sign_in(client, system, "leader")
    project_id = open_project(client, selection_id, case_id)
    stale = version_of(client.get(f"/projects/{project_id}").text, "form_team")
    team = {"leader": "刘组长", "members": "陈干事", "on": "2026-04-14"}
    recorded(step(client, project_id, "form_team", **team), project_id, "form_team")
    sign_in(client, system, "handler")

    again = step(
        client, project_id, "record_plan", expected_version=stale, summary="谈话", on="2026-04-15"
    )

    assert again.status_code == 409
    assert "立项督查已被他人更新，请刷新后重试" in again.text
    assert system.casework.get_project(project_id).plan is None


def test_who_may_see_and_do_what(
    client: TestClient, system: EmbeddedSystem, selection_id: str, case_id: str
) -> None:
    sign_in(client, system, "leader")
    project_id = open_project(client, selection_id, case_id)
    system.catch_up()

    sign_in(client, system, "clerk")
    assert client.get("/projects").status_code == 403
    assert client.get(f"/projects/{project_id}").status_code == 403
    assert "立项督查" not in client.get(f"/selections/{selection_id}").text
    sign_in(client, system, "operator")
    assert client.get("/projects").status_code == 403

    sign_in(client, system, "auditor")
    page = client.get(f"/projects/{project_id}").text
    assert "已立项" in page
    assert 'class="command"' not in page  # no forms
    assert 'id="form-open"' not in client.get("/projects").text
    assert 'href="/projects"' in client.get("/audit").text

    sign_in(client, system, "handler")
    assert 'id="form-open"' not in client.get("/projects").text
    assert 'id="form-form_team"' not in client.get(f"/projects/{project_id}").text
    refused = post(client, f"/projects/{project_id}/form_team", {"leader": "x", "members": "y"})
    assert refused.status_code == 403
    assert post(client, "/projects", {"selection_id": selection_id}).status_code == 403
    assert post(client, f"/projects/{project_id}/nowhere", {}).status_code == 404
    assert client.get(f"/projects/{UUID(int=7)}").status_code == 404
    assert system.casework.get_project(project_id).version == 1
    # No CSRF token: refused.
    no_token = client.post(f"/projects/{project_id}/record_plan", data={"summary": "x"})
    assert no_token.status_code == 403


def test_the_opening_form_posted_twice_opens_one_project(
    client: TestClient, system: EmbeddedSystem, selection_id: str, case_id: str
) -> None:
    sign_in(client, system, "leader")
    form = client.get("/projects").text
    match = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', form)
    assert match, form
    opening = {
        "selection_id": selection_id, "basis": case_id, "irregularities": ["vote_buying"],
        "clues": "反映宴请拉票，时间地点具体", "on": "2026-04-13", "idempotency_key": match[1],
    }  # fmt: skip

    first = post(client, "/projects", opening)
    again = post(client, "/projects", opening)

    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    changed = post(client, "/projects", opening | {"clues": "另一线索，时间地点具体"})
    assert changed.status_code == 422
    assert "该幂等键已用于另一项立项督查" in changed.text
    system.catch_up()
    assert system.read.projects.project_list().total == 1
    other = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', client.get("/projects").text)
    assert other
    assert other[1] != match[1]  # each form its own key
