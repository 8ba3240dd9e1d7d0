"""A selection's voided appointments and responsibilities in the information base (decision
0034, issue 14 item 4): the voided candidate's archive holds "appointment voided", the
responsible person's archive "held responsible for a selection"; the integrity reply lists
them (a responsibility's handling bars like an organizational handling, within its months);
people without a register id are in no archive; a rebuild gives the same tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from schemas.glossary import CLEAN_WORDING, NO_OBSTACLE_WORDING, Role, Verdict
from schemas.views import CadreRecord
from services.bootstrap import EmbeddedSystem
from services.casework.chain import verify_log
from services.common.sql import Database
from services.projections import store as store_module
from services.projections.archive import projection as archive
from services.projections.rebuild import rebuild_store
from services.projections.store import ReadStore
from tests.support.auth import bearer
from tests.unit.conftest import build_embedded, make_settings, stand_in_handlers
from tests.unit.test_case_views import to_concluded
from tests.unit.test_rebuild import assert_same, dump, logs_of
from tests.unit.test_selection_accountability_api import (
    a_case,
    appointed,
    post,
    responsibility_body,
    void_body,
)
from tests.unit.test_selection_api import TODAY

FINANCE, DEPARTMENT = "某县财政局", "县委组织部"
REGISTER = [
    CadreRecord(cadre_id="C-001", name="王建国", unit=FINANCE, position="局长"),
    CadreRecord(cadre_id="C-009", name="陈科长", unit=DEPARTMENT, position="干部科科长"),
    CadreRecord(cadre_id="C-010", name="县委书记", unit=DEPARTMENT, position="书记"),
]


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = stand_in_handlers(build_embedded(make_settings(tmp_path), TODAY))
    system.read.register.upsert(REGISTER)
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
def voided(client: TestClient, system: EmbeddedSystem, leader: dict[str, str]) -> str:
    """王建国 (candidate a, C-001) appointed, his appointment voided for 跑官要官 on a
    concluded case; the inspector 陈科长 (C-009) admonished; the decision maker (no register
    id given) circulated a criticism."""
    clerk = bearer(system.accounts, "clerk-1", Role.SELECTION_CLERK)
    operator = bearer(system.accounts, "op-1", Role.OPERATOR)
    case_id = a_case(client, system, operator)
    to_concluded(system, case_id, "handler-1", Verdict.TRUE)
    basis = str(case_id)
    selection_id = appointed(client, clerk)
    for action, body in (
        ("void_appointment", void_body(basis)),
        ("take_responsibility", responsibility_body(basis)),
        (
            "take_responsibility",
            responsibility_body(
                basis,
                person={"name": "县委书记", "unit": DEPARTMENT},
                step="decision",
                handling="circulated_criticism",
            ),
        ),
    ):
        response = post(client, selection_id, action, body, leader)
        assert response.status_code == 200, response.text
    system.catch_up()
    return selection_id


def archive_of(client: TestClient, cadre_id: str, headers: dict[str, str]) -> Any:
    response = client.get(f"/api/v1/cadres/{cadre_id}/archive", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def reply(client: TestClient, cadre_id: str, as_of: dt.date, headers: dict[str, str]) -> Any:
    body = {"cadre_ids": [cadre_id], "as_of": as_of.isoformat()}
    response = client.post("/api/v1/integrity-replies", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["cadres"][0]


def test_the_voided_candidates_archive_holds_the_voided_appointment(
    client: TestClient, leader: dict[str, str], voided: str
) -> None:
    (entry,) = archive_of(client, "C-001", leader)["selections"]
    assert entry["kind"] == "AppointmentVoided"
    assert entry["kind_zh"] == "任免决定无效"
    assert entry["selection_id"] == voided
    assert entry["unit"] == FINANCE
    assert entry["posts"] == ["副局长", "副局长"]
    assert entry["post"] == "副局长"
    assert entry["ground_zh"] == "跑官要官"
    assert entry["on"] == "2026-04-10"
    assert entry["basis_kind"] == "case"
    assert entry["document_number"] == "组通〔2026〕12号"
    assert entry["text_zh"] == (
        "2026年4月10日，某县财政局选拔任用工作中，该同志任副局长的任用决定因跑官要官"
        "被宣布无效（组通〔2026〕12号）。"
    )


def test_the_responsible_persons_archive_holds_the_step_and_the_handling(
    client: TestClient, leader: dict[str, str], voided: str
) -> None:
    (entry,) = archive_of(client, "C-009", leader)["selections"]
    assert entry["kind"] == "ResponsibilityTaken"
    assert (entry["step"], entry["step_zh"]) == ("inspection", "考察")
    assert (entry["handling"], entry["handling_zh"]) == ("admonition", "诫勉")
    assert {e["bar"] for e in entry["effects"]} == {"promotion", "key_post"}
    assert all(e["ends_on"] == "2026-10-10" for e in entry["effects"])
    # Named without a register id: in nobody's archive, not even a namesake's.
    assert archive_of(client, "C-010", leader)["selections"] == []


def test_the_integrity_reply_bars_the_responsible_person_within_the_handlings_months(
    client: TestClient, leader: dict[str, str], voided: str
) -> None:
    before = reply(client, "C-009", dt.date(2026, 4, 9), leader)
    assert before["opinion_zh"] == CLEAN_WORDING

    during = reply(client, "C-009", dt.date(2026, 6, 1), leader)
    assert during["stands_in_the_way"] is True
    (item,) = during["proven"]
    assert item["selection_kind"] == "ResponsibilityTaken"
    assert item["selection_id"] == voided
    assert {b["bar"] for b in during["running_bars"]} == {"promotion", "key_post"}
    assert "考察环节的责任，该同志受到诫勉处理" in during["opinion_zh"]
    assert "不得提拔的期限至2026年10月10日期满" in during["opinion_zh"]

    after = reply(client, "C-009", dt.date(2026, 10, 10), leader)
    assert after["stands_in_the_way"] is False
    assert after["running_bars"] == []
    assert after["expired_bars"]
    assert after["opinion_zh"].endswith(NO_OBSTACLE_WORDING + "。")
    assert "诫勉" in after["opinion_zh"]


def test_the_integrity_reply_lists_the_voided_appointment(
    client: TestClient, leader: dict[str, str], voided: str
) -> None:
    cadre = reply(client, "C-001", TODAY, leader)
    voids = [i for i in cadre["proven"] if i["selection_kind"] == "AppointmentVoided"]
    assert len(voids) == 1
    assert voids[0]["stands_in_the_way"] is False  # by itself it bars nothing
    assert "任副局长的任用决定因跑官要官被宣布无效" in cadre["opinion_zh"]


def test_a_rebuild_gives_the_same_archive(
    system: EmbeddedSystem, tmp_path: Path, voided: str
) -> None:
    count, broken = verify_log(system.casework)  # the new events are sealed in the chain
    assert broken == []
    assert count >= 2
    live = dump(system.read.store, (archive,))
    assert len(live["archive_selection_entries"]) == 2  # 王建国's void, 陈科长's admonition
    rebuilt = ReadStore(Database(sqlite_path=tmp_path / "rebuilt.sqlite"))
    rebuild_store(rebuilt, logs_of(system), show_progress=False)
    assert_same(dump(rebuilt, (archive,)), live)
    assert_same(dump(rebuilt, store_module.PROJECTIONS), dump(system.read.store))


def test_the_archive_page_shows_the_selection_records(
    client: TestClient, system: EmbeddedSystem, voided: str
) -> None:
    session = system.accounts.start_session(system.accounts.principal("leader-1"))
    client.cookies.set("jiandu_session", session)

    page = client.get("/cadres/C-009")
    assert page.status_code == 200, page.text
    assert "选拔任用记实" in page.text
    assert "追究环节" in page.text
    assert "诫勉" in page.text
    assert "2026-10-10" in page.text  # the admonition's bar ends
    voided_page = client.get("/cadres/C-001").text
    assert "无效事由" in voided_page
    assert "跑官要官" in voided_page
    nobody = client.get("/cadres/C-010").text
    assert "没有涉及该干部的选拔任用记实。" in nobody
    replied = client.get("/integrity?cadre_ids=C-009&as_of=2026-06-01").text
    assert "考察环节的责任" in replied


def test_the_liaison_figures_count_the_selection_the_void_and_the_people_held_responsible(
    system: EmbeddedSystem, voided: str
) -> None:
    """By the glossary's values alone: no name, unit or post reaches the liaison tables."""
    liaison_tables = (
        "liaison_selections",
        "liaison_voided_appointments",
        "liaison_responsibilities",
    )
    first = {s.name: s for s in system.read.liaison.quarterly_report(2026, 1).sections}
    sections = {s.name: s for s in system.read.liaison.quarterly_report(2026, 2).sections}

    def counts(name: str, sections: dict[str, Any] = sections) -> dict[str, int]:
        return {r.key: r.count for r in sections[name].rows if r.count}

    # Proposed on 2 March; one of its two appointments is void, the other stands.
    assert counts("selections", first) == {"appointed": 1}
    assert counts("selections") == {}  # none proposed in the second quarter
    assert counts("appointments_voided") == {"seeking_office": 1}
    assert counts("selection_responsibility") == {"admonition": 1, "circulated_criticism": 1}
    assert counts("appointments_voided", first) == {}
    assert sections["selection_responsibility"].title_zh == "本季度选人用人责任追究（按处理方式）"
    stored = " ".join(
        str(row)
        for table in liaison_tables
        for row in system.read.store.query(f"SELECT * FROM {table}")
    )
    for secret in ("王建国", "陈科长", "县委书记", FINANCE, DEPARTMENT, "副局长"):
        assert secret not in stored
