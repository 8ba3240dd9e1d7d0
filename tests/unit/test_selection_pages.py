"""The selection desk's pages (decision 0034, issue 14 items 6 and 7): the selection clerk
starts on the selections in progress, proposes one and records its steps through the forms;
a refused step shows its rule in the page and stores nothing; a stale form is a conflict; a
handler holds a candidate on a report; an operator is refused. Served by casework's process
(decision 0031): tests/unit/test_pages_owners.py."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from schemas.commands import Accept
from schemas.events import Actor
from schemas.glossary import Role, Verdict
from schemas.views import CadreRecord
from services.bootstrap import EmbeddedSystem
from tests.unit.conftest import advance_to, submission
from tests.unit.pages_support import build_system, csrf, sign_in
from tests.unit.test_case_views import to_concluded

D = dt.date
DESK = Actor(id="operator", role=Role.OPERATOR)
REPORT = "00000000-0000-4000-8000-0000000000a1"
CANDIDATES = "王建国，某县财政局，科长，C-001，30\n李明，某县财政局，副科长，，25\n赵强，某县审计局，科员，，10"


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_system(tmp_path)  # with the selection clerk "clerk" (孙丽)
    advance_to(system, D(2026, 4, 10))
    yield system
    system.stop()


@pytest.fixture
def client(system: EmbeddedSystem) -> Iterator[TestClient]:
    with TestClient(system.web_app()) as client:
        yield client


def post(client: TestClient, path: str, data: dict[str, object]) -> object:
    return client.post(path, data={"csrf_token": csrf(client), **data}, follow_redirects=False)


def version_of(page: str, action: str) -> str:
    form = page[page.index(f'id="form-{action}"') :]
    match = re.search(r'name="expected_version" value="(\d+)"', form)
    assert match, form[:2000]
    return match[1]


def propose(client: TestClient) -> UUID:
    response = post(
        client,
        "/selections",
        {
            "unit": "某县财政局",
            "posts": "副局长\n副局长",
            "proposers": "张部长，县委组织部，常务副部长",
            "document_number": "组干〔2026〕3号",
            "on": "2026-03-02",
            "reason": "班子缺额两名",
        },
    )
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    location = response.headers["location"]  # type: ignore[attr-defined]
    assert location.endswith("?done=propose")
    return UUID(location.split("/")[2].split("?")[0])


def step(client: TestClient, selection_id: UUID, action: str, **data: object) -> object:
    page = client.get(f"/selections/{selection_id}").text
    data.setdefault("expected_version", version_of(page, action))
    return post(client, f"/selections/{selection_id}/{action}", data)


def recorded(response: object, selection_id: UUID, action: str) -> None:
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    assert response.headers["location"] == f"/selections/{selection_id}?done={action}#steps"  # type: ignore[attr-defined]


# Every step of the procedure through its form, as the clerk fills it in.
FORM_STEPS: list[tuple[str, dict[str, object]]] = [
    ("record_recommendation", {
        "participants": "40", "candidates": CANDIDATES, "organizers": "刘科长",
        "on": "2026-03-05",
    }),
    ("announce_inspection", {
        "subjects": ["1", "2"], "starts_on": "2026-03-09", "ends_on": "2026-03-13",
        "on": "2026-03-09", "document_number": "考预〔2026〕1号",
    }),
    ("record_inspection", {
        "inspectors": "陈科长，县委组织部，考察组组长\n周干事", "finding.1": "德才表现突出",
        "finding.2": "工作实绩较好", "on": "2026-03-10",
    }),
    ("record_integrity_opinion", {
        "opinion.1.clean": "clean", "opinion.1.given_by": "县纪委监委",
        "opinion.1.received_on": "2026-03-11", "opinion.1.reference": "廉鉴〔2026〕1号",
        "opinion.2.clean": "not_clean", "opinion.2.given_by": "县纪委监委",
        "opinion.2.received_on": "2026-03-11", "on": "2026-03-12",
    }),
    ("record_deliberation", {
        "candidates": ["1", "2"], "consulted": "县委书记\n县长", "on": "2026-03-16",
    }),
    ("record_decision", {
        "body": "县委常委会", "members_due": "9", "members_present": "7",
        "vote.1.agree": "7", "vote.2.agree": "3", "vote.2.disagree": "4",
        "decision_makers": "县委书记，县委，主持人", "on": "2026-03-18",
        "document_number": "常委会纪要〔2026〕5号",
    }),
    ("start_publicity", {
        "candidates": ["1"], "starts_on": "2026-04-02", "ends_on": "2026-04-09",
        "on": "2026-04-01",
    }),
    ("record_appointment", {"post.1": "副局长", "on": "2026-04-10", "document_number": "任〔2026〕8号"}),
]  # fmt: skip


# -- the clerk's desk ---------------------------------------------------------------------------


def test_the_clerk_starts_on_the_selections_and_records_steps_through_the_forms(
    client: TestClient, system: EmbeddedSystem
) -> None:
    sign_in(client, system, "clerk")
    assert client.get("/", follow_redirects=False).headers["location"] == "/selections"
    empty = client.get("/selections")
    assert empty.status_code == 200
    assert "进行中的选拔任用工作" in empty.text
    assert 'href="/selections"' in empty.text  # the navigation
    assert "提出动议" in empty.text  # the proposal form

    selection_id = propose(client)
    record = client.get(f"/selections/{selection_id}").text
    assert "组干〔2026〕3号" in record  # the step's document number
    assert "张部长" in record  # who proposed, and answers for it
    assert "登记民主推荐情况" in record  # the next step's form

    recorded(
        step(
            client, selection_id, "record_recommendation",
            participants="40", candidates=CANDIDATES, organizers="刘科长，县委组织部，干部科科长",
            document_number="推荐-2026-01", on="2026-03-05",
        ),
        selection_id, "record_recommendation",
    )  # fmt: skip
    record = client.get(f"/selections/{selection_id}").text
    assert "王建国" in record
    assert "C-001" in record
    assert "刘科长" in record
    assert system.casework.get_selection(selection_id).recommendation_votes == {
        "1": 30,
        "2": 25,
        "3": 10,
    }

    recorded(
        step(
            client, selection_id, "announce_inspection",
            subjects=["1", "2"], starts_on="2026-03-09", ends_on="2026-03-13", on="2026-03-09",
        ),
        selection_id, "announce_inspection",
    )  # fmt: skip
    assert system.casework.get_selection(selection_id).subjects == ["1", "2"]

    # The list: in progress, with its stage, its next step and the period it waits on.
    system.catch_up()
    listed = client.get("/selections").text
    assert f'href="/selections/{selection_id}"' in listed
    assert "考察预告" in listed
    assert "登记考察情况" in listed  # the next step
    assert "2026-03-13" in listed  # the announcement's last day
    english = client.get("/selections?lang=en").text
    assert "Selections in progress" in english
    assert "Record the inspection" in english
    record = client.get(f"/selections/{selection_id}?lang=en").text
    assert "Inspection announced" in record
    assert "Record integrity opinions" in record


def test_a_refused_step_shows_its_rule_and_stores_nothing(
    client: TestClient, system: EmbeddedSystem
) -> None:
    sign_in(client, system, "clerk")
    selection_id = propose(client)
    step(
        client, selection_id, "record_recommendation",
        participants="40", candidates=CANDIDATES, organizers="刘科长", on="2026-03-05",
    )  # fmt: skip
    before = system.casework.get_selection(selection_id).version

    # Candidate 3 (10 votes) named a subject over candidate 2 (25) without a reason.
    refused = step(
        client, selection_id, "announce_inspection",
        subjects=["1", "3"], starts_on="2026-03-09", ends_on="2026-03-13", on="2026-03-09",
    )  # fmt: skip

    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert "对得票多而没有被列为考察对象的或得票少被列为考察对象的，都要说明理由" in refused.text  # type: ignore[attr-defined]
    assert system.casework.get_selection(selection_id).version == before
    assert 'value="3" checked' in refused.text  # type: ignore[attr-defined]  # refilled
    assert 'value="2" checked' not in refused.text  # type: ignore[attr-defined]
    # A step of a later stage is refused by the order of the steps, in the page too.
    early = post(
        client, f"/selections/{selection_id}/record_deliberation",
        {"candidates": ["1"], "consulted": "县委书记", "on": "2026-03-06"},
    )  # fmt: skip
    assert early.status_code == 409  # type: ignore[attr-defined]
    assert "需要已经考察" in early.text  # type: ignore[attr-defined]
    # A withdrawal without its reason: the field is named.
    unexplained = step(client, selection_id, "withdraw", reason="", on="2026-03-06")
    assert unexplained.status_code == 422  # type: ignore[attr-defined]
    assert "此项必填" in unexplained.text  # type: ignore[attr-defined]
    assert system.casework.get_selection(selection_id).version == before
    # A bad line of candidates is named, on its field.
    fresh = propose(client)
    bad = step(
        client, fresh, "record_recommendation", participants="40", candidates="王建国，某县财政局"
    )
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert "第1行" in bad.text or "Line 1" in bad.text  # type: ignore[attr-defined]
    assert system.casework.get_selection(fresh).version == 1


def test_a_stale_form_is_a_conflict(client: TestClient, system: EmbeddedSystem) -> None:
    sign_in(client, system, "clerk")
    selection_id = propose(client)
    page = client.get(f"/selections/{selection_id}").text
    stale = version_of(page, "record_circumstance")
    recorded(
        step(
            client, selection_id, "record_circumstance",
            kind="institutional_change", starts_on="2026-03-20", ends_on="2026-03-31",
            on="2026-03-03",
        ),
        selection_id, "record_circumstance",
    )  # fmt: skip

    again = step(
        client, selection_id, "record_circumstance", expected_version=stale,
        kind="principal_leader_transfer", starts_on="2026-03-20", ends_on="2026-03-31",
        on="2026-03-03",
    )  # fmt: skip

    assert again.status_code == 409  # type: ignore[attr-defined]
    assert "选拔任用记录" in again.text  # type: ignore[attr-defined]
    assert len(system.casework.get_selection(selection_id).circumstances) == 1


# -- the supervision office and the others ----------------------------------------------------------


def test_a_handler_holds_a_candidate_and_a_clerk_may_not(
    client: TestClient, system: EmbeddedSystem
) -> None:
    sign_in(client, system, "clerk")
    selection_id = propose(client)
    step(
        client, selection_id, "record_recommendation",
        participants="40", candidates=CANDIDATES, organizers="刘科长", on="2026-03-05",
    )  # fmt: skip
    step(
        client, selection_id, "announce_inspection",
        subjects=["1", "2"], starts_on="2026-03-09", ends_on="2026-03-13", on="2026-03-09",
    )  # fmt: skip
    refused = post(
        client, f"/selections/{selection_id}/hold_candidate",
        {"candidate_id": "1", "report_id": REPORT, "on": "2026-03-11"},
    )  # fmt: skip
    assert refused.status_code == 403  # type: ignore[attr-defined]

    sign_in(client, system, "handler")
    page = client.get(f"/selections/{selection_id}")
    assert page.status_code == 200
    assert 'id="form-hold_candidate"' in page.text
    assert 'id="form-announce_inspection"' not in page.text  # the clerk's steps are not his
    recorded(
        step(
            client, selection_id, "hold_candidate",
            candidate_id="1", report_id=REPORT, on="2026-03-11", reason="收到反映",
        ),
        selection_id, "hold_candidate",
    )  # fmt: skip
    held = client.get(f"/selections/{selection_id}").text
    assert REPORT in held
    assert "因举报暂缓人选" in held  # the step, by its label
    assert system.casework.get_selection(selection_id).held("1")
    recorded(
        step(client, selection_id, "release_candidate", hold=f"1|{REPORT}", on="2026-03-12"),
        selection_id, "release_candidate",
    )  # fmt: skip
    assert not system.casework.get_selection(selection_id).held("1")


def test_an_operator_is_refused_the_selection_pages(
    client: TestClient, system: EmbeddedSystem
) -> None:
    sign_in(client, system, "clerk")
    selection_id = propose(client)
    sign_in(client, system, "operator")
    assert client.get("/selections").status_code == 403
    assert client.get(f"/selections/{selection_id}").status_code == 403
    refused = post(client, f"/selections/{selection_id}/withdraw", {"reason": "x"})
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert post(client, "/selections", {"unit": "x"}).status_code == 403  # type: ignore[attr-defined]
    sign_in(client, system, "auditor")  # reads, takes no step
    page = client.get(f"/selections/{selection_id}")
    assert page.status_code == 200
    assert 'class="command"' not in page.text
    # Without the form's token nothing is recorded.
    sign_in(client, system, "clerk")
    no_token = client.post(
        f"/selections/{selection_id}/withdraw", data={"reason": "x"}, follow_redirects=False
    )
    assert no_token.status_code == 403
    assert system.casework.get_selection(selection_id).version == 1


def test_the_whole_procedure_through_the_forms(client: TestClient, system: EmbeddedSystem) -> None:
    """Every step's form, in order, as the clerk; the record page shows what each one
    recorded, and no form is left once every approved candidate is appointed."""
    sign_in(client, system, "clerk")
    selection_id = propose(client)
    for action, data in FORM_STEPS:
        recorded(step(client, selection_id, action, **data), selection_id, action)

    selection = system.casework.get_selection(selection_id)
    assert selection.stage.value == "appointed"
    assert selection.approved == ["1"]  # 3 of 9 members due: not approved
    assert selection.opinions["2"]["clean"] is False
    assert selection.publicity is not None
    assert selection.publicity["working_days"] == 5
    assert selection.appointed["1"]["post"] == "副局长"
    record = client.get(f"/selections/{selection_id}").text
    for shown in (
        "考预〔2026〕1号", "陈科长", "考察组组长", "县长", "常委会纪要〔2026〕5号",
        "县委常委会：应到会9人，实到会7人", "同意7票，不同意0票，缓议0票", "讨论决定未通过",
        "有影响提拔使用的问题", "已任职：副局长", "任〔2026〕8号", "2026-04-02 — 2026-04-09",
    ):  # fmt: skip
        assert shown in record, shown
    assert "此项选拔任用工作目前没有需要您办理的环节" in record
    system.catch_up()
    assert client.get("/selections").text.count(f"/selections/{selection_id}") == 0  # done
    assert f"/selections/{selection_id}" in client.get("/selections?in_progress=false").text


def test_every_step_of_a_selection_has_its_form() -> None:
    from services.casework.selections import SELECTION_COMMANDS
    from services.web.selection_forms import SELECTION_ACTION_LABELS

    assert set(SELECTION_COMMANDS) <= set(SELECTION_ACTION_LABELS)


def test_the_office_replies_integrity_opinions_and_a_leader_voids_through_the_forms(
    client: TestClient, system: EmbeddedSystem
) -> None:
    """The clerk asks for an integrity opinion, a handler replies from the information base;
    once appointed, a leader declares the appointment void on a concluded case and holds the
    inspector responsible, each through its form."""
    system.read.register.upsert(
        [CadreRecord(cadre_id="C-001", name="王建国", unit="某县财政局", position="科长")]
    )
    sign_in(client, system, "clerk")
    selection_id = propose(client)
    for action, data in FORM_STEPS[:2]:  # recommended and announced
        recorded(step(client, selection_id, action, **data), selection_id, action)
    asked = {"candidates": ["1"], "requested_of": "干部监督科", "on": "2026-03-10"}
    recorded(step(client, selection_id, "request_integrity_opinions", **asked), selection_id,
             "request_integrity_opinions")  # fmt: skip
    assert "已于2026-03-10申请，待回复" in client.get(f"/selections/{selection_id}").text
    sign_in(client, system, "handler")
    reply = {"candidates": ["1"], "on": "2026-03-11"}
    recorded(step(client, selection_id, "reply_integrity_opinions", **reply), selection_id,
             "reply_integrity_opinions")  # fmt: skip
    assert system.casework.get_selection(selection_id).opinions["1"]["clean"] is True
    assert "干部监督信息库" in client.get(f"/selections/{selection_id}").text
    sign_in(client, system, "clerk")
    for action, data in FORM_STEPS[2:]:
        recorded(step(client, selection_id, action, **data), selection_id, action)
    receipt = system.intake.submit(submission(categories=["seeking_office"]), actor=DESK)
    system.intake.triage(UUID(receipt.report_id), "accept", Accept(), DESK)
    system.catch_up()
    case_id = system.intake.get_report(UUID(receipt.report_id)).case_id
    assert case_id is not None
    to_concluded(system, case_id, "handler", Verdict.TRUE)
    sign_in(client, system, "leader")
    basis = {"basis_kind": "case", "basis_id": str(case_id), "on": "2026-04-10"}

    voided = step(client, selection_id, "void_appointment", candidates=["1"],
                  ground="seeking_office", **basis)  # fmt: skip
    recorded(voided, selection_id, "void_appointment")
    responsible = step(client, selection_id, "take_responsibility", **{
        "person.name": "陈科长", "person.unit": "县委组织部", "step": "inspection",
        "handling": "criticism", **basis,
    })  # fmt: skip
    recorded(responsible, selection_id, "take_responsibility")

    selection = system.casework.get_selection(selection_id)
    assert selection.stage.value == "voided"
    assert selection.responsibilities[0]["person"]["name"] == "陈科长"
    page = client.get(f"/selections/{selection_id}").text
    assert "任免决定无效" in page
    assert "选人用人责任追究" in page
    bad_basis = step(client, selection_id, "take_responsibility", **{
        "person.name": "陈科长", "step": "inspection", "handling": "criticism",
        "basis_kind": "case", "basis_id": "not-a-number", "on": "2026-04-10",
    })  # fmt: skip
    assert bad_basis.status_code == 422  # type: ignore[attr-defined]
