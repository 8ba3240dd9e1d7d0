"""Integrity opinions asked for on a selection and replied from the information base
(decision 0034, issue 14 item 2): the cadre section asks; the supervision office replies
with each candidate's integrity reply on the day (clean when nothing stands in the way);
the reply is recorded on the selection and lets the decision meeting go ahead
(没有提供廉政鉴定的不上会); refusals by name, by role, and for a candidate the register
does not hold."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from schemas import selection_commands as s
from schemas.glossary import Role
from schemas.views import CadreRecord
from services.bootstrap import EmbeddedSystem
from services.casework.selections import INTEGRITY_REPLIER, SELECTION_COMMANDS
from tests.support.auth import bearer
from tests.unit.conftest import build_embedded, make_settings
from tests.unit.test_selection_api import (
    PATH,
    PROPOSAL,
    SELECTIONS,
    STEPS,
    TODAY,
    refusal,
    step,
    up_to,
)

REGISTER = [CadreRecord(cadre_id="C-001", name="王建国", unit="某县财政局", position="科长")]
ASK = {"candidates": ["a"], "on": "2026-03-10"}


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path), TODAY)
    system.read.register.upsert(REGISTER)
    yield system
    system.stop()


@pytest.fixture
def client(system: EmbeddedSystem) -> Iterator[TestClient]:
    with TestClient(system.web_app()) as client:
        yield client


@pytest.fixture
def people(system: EmbeddedSystem) -> dict[str, dict[str, str]]:
    return {
        "clerk": bearer(system.accounts, "clerk-1", Role.SELECTION_CLERK),
        "handler": bearer(system.accounts, "handler-1", Role.HANDLER),
    }


def announced(client: TestClient, clerk: dict[str, str]) -> str:
    """Inspected: a (C-001, registered) and b (no register number) are the subjects."""
    return up_to(client, clerk, "record_integrity_opinion")


def post(client: TestClient, selection_id: str, action: str, body: dict[str, Any], who: Any) -> Any:
    return client.post(f"{SELECTIONS}/{selection_id}/{action}", json=body, headers=who)


def test_the_office_replies_from_the_information_base_and_the_meeting_may_decide(
    client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    clerk, handler = people["clerk"], people["handler"]
    selection_id = announced(client, clerk)
    asked = post(client, selection_id, "request_integrity_opinions", ASK, clerk)
    assert asked.status_code == 200, asked.text
    assert asked.json()["opinion_requests"] == {"a": "2026-03-10"}

    replied = post(client, selection_id, "reply_integrity_opinions", {"on": "2026-03-11"}, handler)

    assert replied.status_code == 200, replied.text
    record = replied.json()
    (opinion,) = record["opinions"]
    assert opinion["candidate_id"] == "a"
    assert opinion["given_by"] == INTEGRITY_REPLIER
    assert opinion["clean"] is True  # nothing on file about C-001
    assert opinion["received_on"] == "2026-03-11"
    assert "没有发现影响该同志提拔使用的问题" in opinion["summary"]
    assert record["opinion_requests"] == {}
    # b has an opinion of the discipline commission, recorded by hand; then the meeting.
    by_hand = {"opinions": [STEPS["record_integrity_opinion"]["opinions"][1]], "on": "2026-03-12"}
    assert post(client, selection_id, "record_integrity_opinion", by_hand, clerk).status_code == 200
    for action in PATH[PATH.index("record_inspection") : PATH.index("record_decision") + 1]:
        assert step(client, selection_id, action, clerk).status_code == 200, action


def test_a_reply_about_a_candidate_not_asked_for_or_without_a_register_number_is_refused(
    client: TestClient, system: EmbeddedSystem, people: dict[str, dict[str, str]]
) -> None:
    clerk, handler = people["clerk"], people["handler"]
    selection_id = announced(client, clerk)
    before = system.casework.max_position()

    unasked = post(client, selection_id, "reply_integrity_opinions", {"on": "2026-03-11"}, handler)
    refusal(unasked, 409, "opinion_requested")
    assert system.casework.max_position() == before
    ask_b = {"candidates": ["a", "b"], "on": "2026-03-10"}
    assert post(client, selection_id, "request_integrity_opinions", ask_b, clerk).status_code == 200
    before = system.casework.max_position()

    about_b = post(client, selection_id, "reply_integrity_opinions", {"candidates": ["b"]}, handler)

    refusal(about_b, 409, "opinion_from_register")  # b has no register number
    assert system.casework.max_position() == before
    assert post(client, selection_id, "reply_integrity_opinions", {"candidates": ["a"]}, handler)


def test_a_candidate_whose_number_the_register_does_not_hold_gets_no_reply(
    client: TestClient, system: EmbeddedSystem, people: dict[str, dict[str, str]]
) -> None:
    clerk, handler = people["clerk"], people["handler"]
    strangers = [
        {**c, "cadre_id": "C-404"} if c["candidate_id"] == "a" else c
        for c in STEPS["record_recommendation"]["candidates"]
    ]
    selection_id = client.post(
        SELECTIONS, json={"unit": "某县财政局", "posts": ["副局长"],
                          "proposers": [{"name": "张部长"}], "on": "2026-03-02"}, headers=clerk,
    ).json()["selection_id"]  # fmt: skip
    assert step(client, selection_id, "record_recommendation", clerk, candidates=strangers)
    assert step(client, selection_id, "announce_inspection", clerk).status_code == 200
    assert post(client, selection_id, "request_integrity_opinions", ASK, clerk).status_code == 200
    before = system.casework.max_position()

    replied = post(client, selection_id, "reply_integrity_opinions", {}, handler)

    refusal(replied, 409, "opinion_from_register")
    assert system.casework.max_position() == before


def test_the_clerk_asks_and_the_office_replies_no_other_way_round(
    client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    clerk, handler = people["clerk"], people["handler"]
    selection_id = announced(client, clerk)

    refusal(post(client, selection_id, "request_integrity_opinions", ASK, handler), 403)
    assert post(client, selection_id, "request_integrity_opinions", ASK, clerk).status_code == 200
    refusal(post(client, selection_id, "reply_integrity_opinions", {}, clerk), 403)


def test_a_reply_shows_what_stands_in_the_way(
    system: EmbeddedSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The information base's answer decides ``clean``: a running bar is not clean."""
    casework = system.casework
    clerk = {"id": "clerk-1", "role": Role.SELECTION_CLERK.value}
    office = {"id": "handler-1", "role": Role.HANDLER.value}
    selection_id = casework.propose_selection(s.ProposeSelection.model_validate(PROPOSAL), clerk)
    for action in ("record_recommendation", "announce_inspection"):
        command = SELECTION_COMMANDS[action][0].model_validate(STEPS[action])
        casework.execute_selection(selection_id, action, command, clerk)
    ask = s.RequestIntegrityOpinions.model_validate(ASK)
    casework.execute_selection(selection_id, "request_integrity_opinions", ask, clerk)
    barred = "该同志受到诫勉处理，不得提拔的期限至2026年9月1日期满，尚余6个月。"
    asked_about: list[Any] = []

    def information_base(cadre_ids: list[str], as_of: Any, purpose: str) -> dict[str, Any]:
        asked_about.append((cadre_ids, as_of, purpose))
        return {"C-001": (True, barred)}

    monkeypatch.setattr(casework, "integrity", information_base)
    reply = s.ReplyIntegrityOpinions.model_validate({"on": "2026-03-11"})

    after = casework.execute_selection(selection_id, "reply_integrity_opinions", reply, office)

    assert after.opinions["a"]["clean"] is False
    assert after.opinions["a"]["summary"] == barred
    ((cadre_ids, as_of, purpose),) = asked_about
    assert cadre_ids == ["C-001"]
    assert str(as_of) == "2026-03-11"
    assert "某县财政局" in purpose
