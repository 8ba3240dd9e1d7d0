"""The selection record served over HTTP (decision 0034, issue 14's second slice): the whole
procedure as a selection clerk, the publicity's working days counted by the application on
its calendar, each refusal's status and problem body, and a handler holding a candidate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from schemas.glossary import Role
from schemas.selection_commands import ProposeSelection
from services.bootstrap import EMBEDDED_CONSUMER, EmbeddedSystem
from services.casework.chain import verify_log
from services.casework.selection import SELECTION_CONTRACTS
from services.casework.selections import selection_id_for
from services.common.selection_stages import SELECTION_EVENT_TYPES
from tests.support.auth import bearer
from tests.unit.conftest import build_embedded, make_settings

D = dt.date
SELECTIONS = "/api/v1/selections"
TODAY = D(2026, 4, 10)  # the clock stands after every step's day
REPORT = "00000000-0000-4000-8000-000000000001"
DEPARTMENT = "县委组织部"


def person(name: str, position: str = "") -> dict[str, str]:
    return {"name": name, "unit": DEPARTMENT, "position": position}


PROPOSAL: dict[str, Any] = {
    "unit": "某县财政局",
    "posts": ["副局长", "副局长"],
    "proposers": [person("张部长", "常务副部长")],
    "on": "2026-03-02",
    "document_number": "组干〔2026〕3号",
    "reason": "班子缺额两名",
}


def opinion(candidate_id: str) -> dict[str, Any]:
    return {
        "candidate_id": candidate_id,
        "given_by": "县纪委监委",
        "received_on": "2026-03-11",
        "clean": True,
        "summary": "未发现影响提拔使用的问题",
        "reference": f"廉鉴〔2026〕{candidate_id}",
    }


def vote(candidate_id: str, agree: int, disagree: int = 0) -> dict[str, Any]:
    return {"candidate_id": candidate_id, "agree": agree, "disagree": disagree, "defer": 0}


STEPS: dict[str, dict[str, Any]] = {
    "record_recommendation": {
        "participants": 40,
        "candidates": [
            {
                "candidate_id": "a",
                "name": "王建国",
                "unit": "某县财政局",
                "cadre_id": "C-001",
                "votes": 30,
            },
            {
                "candidate_id": "b",
                "name": "李明",
                "unit": "某县财政局",
                "position": "科长",
                "votes": 25,
            },
            {"candidate_id": "c", "name": "赵强", "unit": "某县审计局", "votes": 10},
        ],
        "organizers": [person("刘科长", "干部科科长")],
        "on": "2026-03-05",
        "document_number": "推荐-2026-01",
    },
    "announce_inspection": {
        "subjects": ["a", "b"],
        "starts_on": "2026-03-09",
        "ends_on": "2026-03-13",
        "on": "2026-03-09",
    },
    "record_inspection": {
        "inspectors": [person("陈科长", "考察组组长"), person("周干事")],
        "findings": [
            {"candidate_id": "a", "summary": "德才表现突出"},
            {"candidate_id": "b", "summary": "工作实绩较好"},
        ],
        "on": "2026-03-10",
    },
    "record_integrity_opinion": {"opinions": [opinion("a"), opinion("b")], "on": "2026-03-12"},
    "record_deliberation": {
        "candidates": ["a", "b"],
        "consulted": [person("县委书记"), person("县长")],
        "summary": "意见一致",
        "on": "2026-03-16",
    },
    "record_decision": {
        "body": "县委常委会",
        "members_due": 9,
        "members_present": 7,
        "votes": [vote("a", 7), vote("b", 6, 1)],
        "decision_makers": [person("县委书记", "主持人")],
        "on": "2026-03-18",
        "document_number": "常委会纪要〔2026〕5号",
    },
    # Thursday 2 April to Thursday 9 April 2026: eight calendar days, five working days
    # (the weekend and Qingming, Monday 6 April, are not counted).
    "start_publicity": {
        "candidates": ["a", "b"],
        "starts_on": "2026-04-02",
        "ends_on": "2026-04-09",
        "on": "2026-04-01",
    },
    "record_appointment": {
        "appointments": [
            {"candidate_id": "a", "post": "副局长"},
            {"candidate_id": "b", "post": "副局长"},
        ],
        "on": "2026-04-10",
        "document_number": "任〔2026〕8号",
    },
}
PATH = list(STEPS)


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


@pytest.fixture
def operator(system: EmbeddedSystem) -> dict[str, str]:
    return bearer(system.accounts, "op-1", Role.OPERATOR)


def propose(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post(SELECTIONS, json=PROPOSAL, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["selection_id"])


def step(
    client: TestClient, selection_id: str, action: str, headers: dict[str, str], **change: Any
) -> Any:
    return client.post(
        f"{SELECTIONS}/{selection_id}/{action}",
        json=STEPS.get(action, {}) | change,
        headers=headers,
    )


def up_to(client: TestClient, headers: dict[str, str], last: str, *skip: str) -> str:
    """A proposed selection taken through the steps before ``last`` (leaving out ``skip``)."""
    selection_id = propose(client, headers)
    for action in PATH[: PATH.index(last)]:
        if action not in skip:
            response = step(client, selection_id, action, headers)
            assert response.status_code == 200, (action, response.text)
    return selection_id


def refusal(response: Any, status: int, rule: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if rule is not None:
        assert body["rule"] == rule
        assert body["detail_zh"]
    return body


# -- the whole procedure ---------------------------------------------------------------------------


def test_a_selection_clerk_records_the_whole_procedure(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str]
) -> None:
    proposed = client.post(SELECTIONS, json=PROPOSAL, headers=clerk)

    assert proposed.status_code == 201, proposed.text
    created = proposed.json()
    assert (created["version"], created["stage"], created["stage_zh"]) == (1, "proposed", "动议")
    selection_id = created["selection_id"]
    assert proposed.headers["location"] == f"{SELECTIONS}/{selection_id}"

    stages = []
    for action in PATH:
        response = step(client, selection_id, action, clerk)
        assert response.status_code == 200, (action, response.text)
        stages.append(response.json()["stage"])

    assert stages == [
        "recommended",
        "inspection_announced",
        "inspected",
        "inspected",
        "deliberated",
        "decided",
        "publicized",
        "appointed",
    ]
    record = client.get(f"{SELECTIONS}/{selection_id}", headers=clerk)
    assert record.status_code == 200, record.text
    view = record.json()
    assert view["version"] == 1 + len(PATH)
    assert (view["unit"], view["posts"], view["proposed_on"]) == (
        "某县财政局",
        ["副局长", "副局长"],
        "2026-03-02",
    )
    assert {c["candidate_id"]: c["votes"] for c in view["candidates"]} == {
        "a": 30,
        "b": 25,
        "c": 10,
    }
    assert view["candidates"][0]["cadre_id"] == "C-001"
    assert view["subjects"] == ["a", "b"]
    assert [o["candidate_id"] for o in view["opinions"]] == ["a", "b"]
    assert [f["candidate_id"] for f in view["findings"]] == ["a", "b"]
    assert view["decision"]["body"] == "县委常委会"
    assert view["approved"] == ["a", "b"]
    assert view["publicity"]["working_days"] == 5
    assert [(a["candidate_id"], a["post"]) for a in view["appointed"]] == [
        ("a", "副局长"),
        ("b", "副局长"),
    ]
    assert view["holds"] == []
    # Every step is stored in the selection's hash chain, and the followers project them
    # (the read models do not fail on the selection's events).
    system.catch_up()
    projected = system.read.store.position(EMBEDDED_CONSUMER, "casework")
    assert projected == system.casework.max_position()
    assert verify_log(system.casework) == (1, [])


def test_a_reader_sees_the_record_and_what_their_role_may_do_now(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str]
) -> None:
    selection_id = up_to(client, clerk, "announce_inspection")
    auditor = bearer(system.accounts, "auditor-1", Role.AUDITOR)
    handler = bearer(system.accounts, "handler-1", Role.HANDLER)

    as_clerk = client.get(f"{SELECTIONS}/{selection_id}", headers=clerk).json()
    as_auditor = client.get(f"{SELECTIONS}/{selection_id}", headers=auditor).json()
    as_handler = client.get(f"{SELECTIONS}/{selection_id}", headers=handler).json()

    assert "announce_inspection" in as_clerk["allowed_actions"]
    assert as_auditor["allowed_actions"] == []
    assert as_handler["allowed_actions"] == []  # nothing to hold before the announcement
    assert as_auditor["stage"] == "recommended"


def test_a_step_left_undated_is_dated_today_on_the_applications_clock(
    client: TestClient, clerk: dict[str, str]
) -> None:
    selection_id = propose(client, clerk)
    body = {k: v for k, v in STEPS["record_recommendation"].items() if k != "on"}

    response = client.post(
        f"{SELECTIONS}/{selection_id}/record_recommendation", json=body, headers=clerk
    )

    assert response.status_code == 200, response.text
    assert response.json()["last_on"] == TODAY.isoformat()


# -- the publicity's working days, on the calendar ---------------------------------------------------


def test_the_publicity_counts_working_days_on_the_calendar_not_calendar_days(
    client: TestClient, clerk: dict[str, str]
) -> None:
    selection_id = up_to(client, clerk, "start_publicity")

    # Thursday 2 to Wednesday 8 April: seven calendar days, but only four working days
    # (a weekend and Qingming between): refused, by name.
    short = step(client, selection_id, "start_publicity", clerk, ends_on="2026-04-08")
    body = refusal(short, 409, "publicity_period")
    assert "5 working days" in body["detail"]

    # To Thursday 9 April: five working days.
    enough = step(client, selection_id, "start_publicity", clerk)
    assert enough.status_code == 200, enough.text
    assert enough.json()["publicity"] == {
        "candidates": ["a", "b"],
        "starts_on": "2026-04-02",
        "ends_on": "2026-04-09",
        "working_days": 5,
    }


def test_the_publicity_follows_the_schedule_loaded_into_the_calendar(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str]
) -> None:
    """The calendar is the application's (configuration): a schedule loaded for the year
    moves the count."""
    from services.calendar.deadlines import OfficialSchedule

    schedule = OfficialSchedule(
        year=2026,
        holidays=[D(2026, 4, 6), D(2026, 4, 9)],  # Qingming, and a day off loaded for the test
        makeup_workdays=[],
        source="测试安排",
    )
    system.config.load_schedule(schedule, changed_by="admin-1")
    selection_id = up_to(client, clerk, "start_publicity")

    refused = step(client, selection_id, "start_publicity", clerk)
    refusal(refused, 409, "publicity_period")
    longer = step(client, selection_id, "start_publicity", clerk, ends_on="2026-04-10")
    assert longer.status_code == 200, longer.text
    assert longer.json()["publicity"]["working_days"] == 5


def test_the_request_never_states_the_working_days(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str]
) -> None:
    selection_id = up_to(client, clerk, "start_publicity")
    before = system.casework.max_position()

    response = step(client, selection_id, "start_publicity", clerk, working_days=9)

    body = refusal(response, 422)
    assert [p["field"] for p in body["problems"]] == ["working_days"]
    assert system.casework.max_position() == before


# -- refusals ---------------------------------------------------------------------------------------


def test_a_decision_during_a_recorded_institutional_change_is_refused_as_sudden_promotion(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str]
) -> None:
    selection_id = up_to(client, clerk, "record_decision")
    circumstance = step(
        client,
        selection_id,
        "record_circumstance",
        clerk,
        kind="institutional_change",
        starts_on="2026-03-17",
        ends_on="2026-03-31",
        on="2026-03-17",
        description="县直机构改革",
    )
    assert circumstance.status_code == 200, circumstance.text
    before = system.casework.max_position()

    body = refusal(step(client, selection_id, "record_decision", clerk), 409, "sudden_promotion")

    assert "突击提拔" in body["detail_zh"]
    assert system.casework.max_position() == before


def test_a_decision_without_an_integrity_opinion_is_refused(
    client: TestClient, clerk: dict[str, str]
) -> None:
    selection_id = up_to(client, clerk, "record_decision", "record_integrity_opinion")

    response = step(client, selection_id, "record_decision", clerk)

    refusal(response, 409, "no_integrity_opinion_no_meeting")


def test_a_step_out_of_order_is_refused_with_what_it_needs(
    client: TestClient, clerk: dict[str, str]
) -> None:
    selection_id = propose(client, clerk)

    body = refusal(step(client, selection_id, "record_decision", clerk), 409)

    assert "a deliberation recorded" in body["detail"]


def test_an_operator_may_neither_propose_nor_read_nor_record(
    client: TestClient, clerk: dict[str, str], operator: dict[str, str]
) -> None:
    selection_id = propose(client, clerk)

    refusal(client.post(SELECTIONS, json=PROPOSAL, headers=operator), 403)
    refusal(client.get(f"{SELECTIONS}/{selection_id}", headers=operator), 403)
    refusal(step(client, selection_id, "record_recommendation", operator), 403)
    assert client.post(SELECTIONS, json=PROPOSAL).status_code == 401


def test_a_handler_may_not_record_a_step_and_a_clerk_may_not_hold(
    client: TestClient, clerk: dict[str, str], handler: dict[str, str]
) -> None:
    selection_id = up_to(client, clerk, "record_inspection")

    refusal(step(client, selection_id, "record_inspection", handler), 403)
    refusal(
        step(
            client,
            selection_id,
            "hold_candidate",
            clerk,
            candidate_id="a",
            report_id=REPORT,
            on="2026-03-10",
        ),
        403,
    )


def test_an_unknown_selection_is_not_found(client: TestClient, clerk: dict[str, str]) -> None:
    unknown = uuid4()

    refusal(client.get(f"{SELECTIONS}/{unknown}", headers=clerk), 404)
    refusal(step(client, str(unknown), "record_recommendation", clerk), 404)
    refusal(step(client, str(uuid4()), "no_such_step", clerk), 404)


def test_a_case_is_not_a_selection(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str], operator: dict[str, str]
) -> None:
    from tests.unit.test_embedded_api import BODY, post_and_accept

    case_id = post_and_accept(client, BODY, operator)["case_id"]
    system.catch_up()

    refusal(client.get(f"{SELECTIONS}/{case_id}", headers=clerk), 404)
    refusal(step(client, case_id, "withdraw", clerk, reason="不是选拔"), 404)


def test_a_stale_expected_version_is_a_conflict(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str]
) -> None:
    selection_id = up_to(client, clerk, "announce_inspection")  # version 2
    before = system.casework.max_position()

    response = step(client, selection_id, "announce_inspection", clerk, expected_version=1)

    body = refusal(response, 409)
    assert "version 1, it is now 2" in body["detail"]
    assert system.casework.max_position() == before
    current = step(client, selection_id, "announce_inspection", clerk, expected_version=2)
    assert current.status_code == 200, current.text


def test_a_bad_body_names_the_field_and_stores_nothing(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str]
) -> None:
    selection_id = propose(client, clerk)
    before = system.casework.max_position()

    response = step(client, selection_id, "record_recommendation", clerk, participants=-1)
    unknown_field = client.post(SELECTIONS, json=PROPOSAL | {"stage": "appointed"}, headers=clerk)
    no_posts = client.post(SELECTIONS, json=PROPOSAL | {"posts": []}, headers=clerk)

    assert [p["field"] for p in refusal(response, 422)["problems"]] == ["participants"]
    assert [p["field"] for p in refusal(unknown_field, 422)["problems"]] == ["stage"]
    assert [p["field"] for p in refusal(no_posts, 422)["problems"]] == ["posts"]
    assert system.casework.max_position() == before
    assert client.get(f"{SELECTIONS}/{selection_id}", headers=clerk).json()["version"] == 1


def test_a_day_after_today_is_refused_naming_the_field(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str]
) -> None:
    before = system.casework.max_position()

    response = client.post(SELECTIONS, json=PROPOSAL | {"on": "2026-04-11"}, headers=clerk)

    assert "on:" in refusal(response, 422)["detail"]
    assert system.casework.max_position() == before


# -- a retried proposal -----------------------------------------------------------------------------


def test_a_proposal_retried_with_its_idempotency_key_answers_the_first_selection(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str]
) -> None:
    keyed = clerk | {"Idempotency-Key": "proposal-1"}
    first = client.post(SELECTIONS, json=PROPOSAL, headers=keyed)
    after_first = system.casework.max_position()

    retried = client.post(SELECTIONS, json=PROPOSAL, headers=keyed)
    other_key = client.post(SELECTIONS, json=PROPOSAL, headers=clerk | {"Idempotency-Key": "2"})

    assert first.status_code == retried.status_code == 201, retried.text
    assert retried.json()["selection_id"] == first.json()["selection_id"]
    assert retried.headers["Location"] == first.headers["Location"]
    assert other_key.json()["selection_id"] != first.json()["selection_id"]
    assert system.casework.max_position() == after_first + 1  # the retry stored nothing


def test_a_key_is_the_callers_own_and_cannot_be_reused_for_another_proposal(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str]
) -> None:
    other_clerk = bearer(system.accounts, "clerk-2", Role.SELECTION_CLERK)
    first = client.post(SELECTIONS, json=PROPOSAL, headers=clerk | {"Idempotency-Key": "k"})
    before = system.casework.max_position()

    reused = client.post(
        SELECTIONS, json=PROPOSAL | {"unit": "另一单位"}, headers=clerk | {"Idempotency-Key": "k"}
    )
    stored_after_refusal = system.casework.max_position()
    theirs = client.post(SELECTIONS, json=PROPOSAL, headers=other_clerk | {"Idempotency-Key": "k"})

    assert "Idempotency-Key" in refusal(reused, 422)["detail"]
    assert stored_after_refusal == before  # the refusal stored nothing
    assert theirs.status_code == 201
    assert theirs.json()["selection_id"] != first.json()["selection_id"]


def test_two_requests_with_one_key_at_once_make_one_selection(
    system: EmbeddedSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second request looked before the first was saved: its save conflicts, and it
    answers the first's selection."""
    casework = system.casework
    actor = {"id": "clerk-1", "role": Role.SELECTION_CLERK.value}
    proposal = ProposeSelection.model_validate(PROPOSAL)
    first = casework.propose_selection(proposal, actor, "same-key")
    real_lookup = casework._proposed_by_key
    looks = []

    def not_yet_saved_at_first_look(selection_id: Any, command: Any) -> Any:
        looks.append(selection_id)
        return None if len(looks) == 1 else real_lookup(selection_id, command)

    monkeypatch.setattr(casework, "_proposed_by_key", not_yet_saved_at_first_look)
    before = casework.max_position()

    second = casework.propose_selection(proposal, actor, "same-key")

    assert second == first
    assert len(looks) == 2  # it did try to save, conflicted, and looked again
    assert casework.max_position() == before


def test_the_selection_a_key_names_cannot_be_computed_without_the_applications_key() -> None:
    one = selection_id_for(b"k" * 32, "clerk-1", "proposal-1")

    assert one == selection_id_for(b"k" * 32, "clerk-1", "proposal-1")
    assert one != selection_id_for(b"x" * 32, "clerk-1", "proposal-1")
    assert one != selection_id_for(b"k" * 32, "clerk-2", "proposal-1")
    assert one.version == 4


# -- holds by the supervision office ---------------------------------------------------------------


def test_a_handler_holds_a_candidate_and_releases_them(
    client: TestClient, clerk: dict[str, str], handler: dict[str, str]
) -> None:
    selection_id = up_to(client, clerk, "record_inspection")
    hold = {"candidate_id": "a", "report_id": REPORT}

    held = step(
        client, selection_id, "hold_candidate", handler, **hold, on="2026-03-11", reason="收到反映"
    )
    assert held.status_code == 200, held.text
    assert held.json()["holds"] == [
        {
            "candidate_id": "a",
            "report_ids": [REPORT],
            "reports": [{"report_id": REPORT, "case_id": None, "automatic": False}],
        }
    ]
    assert "release_candidate" in held.json()["allowed_actions"]
    for action in ("record_inspection", "record_integrity_opinion", "record_deliberation"):
        assert step(client, selection_id, action, clerk).status_code == 200, action
    refusal(step(client, selection_id, "record_decision", clerk), 409, "candidate_held")

    released = step(
        client,
        selection_id,
        "release_candidate",
        handler,
        **hold,
        on="2026-03-17",
        reason="经核查不影响使用",
    )
    assert released.status_code == 200, released.text
    assert released.json()["holds"] == []
    decided = step(client, selection_id, "record_decision", clerk)
    assert decided.status_code == 200, decided.text
    again = step(client, selection_id, "release_candidate", handler, **hold, on="2026-03-18")
    refusal(again, 409, "hold_open")


def test_a_publicity_the_calendar_cannot_count_is_refused_naming_the_field(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str]
) -> None:
    selection_id = up_to(client, clerk, "start_publicity")
    before = system.casework.max_position()

    response = step(client, selection_id, "start_publicity", clerk, ends_on="9999-12-31")

    assert refusal(response, 422)["detail"].startswith("ends_on:")
    assert system.casework.max_position() == before


# -- the read side, which this slice does not serve selections from -----------------------------------


def test_every_selection_event_type_is_known_to_the_read_side() -> None:
    names = {contract[0] for contract in SELECTION_CONTRACTS.values()}

    assert names == SELECTION_EVENT_TYPES


def test_the_projections_follow_a_selection_without_failing_and_list_no_case_for_it(
    client: TestClient, system: EmbeddedSystem, clerk: dict[str, str]
) -> None:
    selection_id = up_to(client, clerk, "record_appointment")
    held = up_to(client, clerk, "record_inspection")
    handler = bearer(system.accounts, "handler-1", Role.HANDLER)
    hold = {"candidate_id": "a", "report_id": REPORT, "on": "2026-03-11"}
    assert step(client, held, "hold_candidate", handler, **hold).status_code == 200

    system.catch_up()  # every follower: casework's log into the projections

    assert system.read.store.position(EMBEDDED_CONSUMER, "casework") == (
        system.casework.max_position()
    )
    leader = bearer(system.accounts, "leader-1", Role.LEADER)
    listed = client.get("/api/v1/cases", headers=leader)
    assert listed.status_code == 200, listed.text
    assert selection_id not in listed.text
    assert held not in listed.text
