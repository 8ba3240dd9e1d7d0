"""Official documents (公文, decision 0035): issued by a case's step, numbered gap-free in a
register per kind and year, given back when asked again, rendered as Word in Chinese from the
fields and template version they were issued with, templates replaceable (a bad one refused
naming the field), read and issued by the right people only, and never a reporter's identity.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID

import docx
import pytest
from fastapi.testclient import TestClient

from schemas import commands as c
from schemas.glossary import DocumentKind, HandlingType, Role, Verdict
from services.bootstrap import EmbeddedSystem
from services.casework.application import CaseworkApplication
from services.casework.domain import Case
from services.casework.rules import RuleBroken
from services.common.config import ConfigStore
from services.common.document_defaults import make
from services.common.document_views import docx_of
from services.common.documents import (
    DOCX_MEDIA_TYPE,
    TemplateRefused,
    check_template,
    default_template,
    fields_of,
    render,
)
from services.common.registers import DocumentRegister, register_id
from services.common.sql import Database
from tests.support.auth import bearer
from tests.unit.conftest import (
    REPORTER_EMAIL,
    REPORTER_ID_NUMBER,
    REPORTER_NAME,
    REPORTER_PHONE,
    advance_to,
    all_envelopes,
    build_embedded,
    make_settings,
    real_name_reporter,
    stand_in_handlers,
)
from tests.unit.pages_support import build_system, csrf, sign_in
from tests.unit.selection_support import announce, inspect, recommend
from tests.unit.selection_support import propose as propose_selection
from tests.unit.test_case_procedure import (
    HANDLER,
    LEADER,
    OPERATOR,
    TODAY,
    UNDER_INQUIRY,
    build,
    clearing_approved,
    clearing_proposed,
    handling_decided,
    letter_sent,
    path_concluded,
)
from tests.unit.test_project_api import TODAY as PROJECT_TODAY
from tests.unit.test_project_api import case_id as project_case_id
from tests.unit.test_project_api import open_one, up_to_step
from tests.unit.test_project_api import selection_id as project_selection_id
from tests.unit.test_selection_api import TODAY as SELECTION_TODAY
from tests.unit.test_selection_api import up_to

K = DocumentKind
INQUIRY = c.IssueDocument(kind=K.INQUIRY_NOTICE, about="inquiry")
IDENTITY = (REPORTER_NAME, REPORTER_PHONE, REPORTER_EMAIL, REPORTER_ID_NUMBER)


def text_of(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    return "\n".join(p.text for p in document.paragraphs)


def template_saying(*lines: str) -> bytes:
    """A .docx whose paragraphs are ``lines`` (Jinja fields in them)."""
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# -- on the application --------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path: Path) -> Iterator[CaseworkApplication]:
    application = CaseworkApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "c")},
        config=ConfigStore(Database(sqlite_path=tmp_path / "config.sqlite")),
        today=lambda: TODAY,
    )
    yield application
    application.close()


def saved(app: CaseworkApplication, *steps: Any) -> UUID:
    case = build(*steps, real_name=True)
    app.save(case)
    return case.id


def register(app: CaseworkApplication, kind: DocumentKind) -> DocumentRegister:
    found: DocumentRegister = app.repository.get(register_id(kind, 2026))
    return found


def test_documents_are_numbered_in_order_and_asked_again_give_the_same(
    app: CaseworkApplication,
) -> None:
    first, second = saved(app, *UNDER_INQUIRY, letter_sent), saved(app, *UNDER_INQUIRY, letter_sent)

    one = app.execute(first, "issue_document", INQUIRY, HANDLER).document_of(
        K.INQUIRY_NOTICE, "inquiry"
    )
    two = app.execute(second, "issue_document", INQUIRY, LEADER).document_of(
        K.INQUIRY_NOTICE, "inquiry"
    )
    stored = app.recorder.max_notification_id()
    again = app.execute(first, "issue_document", INQUIRY, HANDLER)

    assert one is not None
    assert two is not None
    assert (one["number"], two["number"]) == ("组函〔2026〕1号", "组函〔2026〕2号")
    assert again.issued == [one]  # the same document, nothing recorded
    assert app.recorder.max_notification_id() == stored
    assert [t["n"] for t in register(app, K.INQUIRY_NOTICE).taken] == [1, 2]
    assert one["fields"] | {"reply_due": "", "sent_on": ""} == {
        "number": "组函〔2026〕1号",
        "office_name": "中共××县委组织部",
        "issued_on": "2026年3月2日",
        "addressee": "王建国",
        "addressee_unit": "某县财政局",
        "addressee_position": "局长",
        "form": "函询",
        "sent_on": "",
        "reply_due": "",
    }
    assert one["fields"]["reply_due"] == "2026年3月23日"


def test_two_issues_at_once_take_two_numbers_without_a_gap(app: CaseworkApplication) -> None:
    """The second save of the register is refused and tried again, unseen by the user."""
    racing, other = saved(app, *UNDER_INQUIRY, letter_sent), saved(app, *UNDER_INQUIRY, letter_sent)
    stale = app.document_register(K.INQUIRY_NOTICE, 2026)  # read before the other issue saved
    app.execute(other, "issue_document", INQUIRY, HANDLER)
    loaded = app.document_register
    calls: list[int] = []

    def racing_read(kind: DocumentKind, year: int) -> DocumentRegister:
        calls.append(year)
        return stale if len(calls) == 1 else loaded(kind, year)

    app.document_register = racing_read  # type: ignore[method-assign]
    case = app.execute(racing, "issue_document", INQUIRY, HANDLER)

    assert len(calls) == 2  # the first attempt conflicted and was tried again
    assert case.issued[0]["number"] == "组函〔2026〕2号"
    taken = register(app, K.INQUIRY_NOTICE).taken
    assert [(t["n"], t["owner_id"]) for t in taken] == [(1, other), (2, racing)]


def test_a_stated_version_is_not_tried_again(app: CaseworkApplication) -> None:
    case_id = saved(app, *UNDER_INQUIRY, letter_sent)
    stale = INQUIRY.model_copy(update={"expected_version": 1})
    with pytest.raises(Exception, match="changed by someone else"):
        app.execute(case_id, "issue_document", stale, HANDLER)


def test_an_admonition_notice_names_the_day_to_correct_by(app: CaseworkApplication) -> None:
    case_id = saved(app, *path_concluded(), handling_decided(HandlingType.ADMONITION))
    command = c.IssueDocument(kind=K.ADMONITION_NOTICE, about="handling:1")

    case = app.execute(case_id, "issue_document", command, LEADER)

    document = case.document_of(K.ADMONITION_NOTICE, "handling:1")
    assert document is not None
    content, filename = docx_of(app.config, document)
    text = text_of(content)
    assert filename == "组诫〔2026〕1号诫勉通知书.docx"
    assert "诫勉通知书" in text
    assert "组诫〔2026〕1号" in text
    assert "限期改正" in text
    assert "2026年9月2日前" in text  # the follow-up's due day
    assert "王建国同志（某县财政局局长）" in text


def test_a_clearing_letter_after_the_clearing_is_carried_out(app: CaseworkApplication) -> None:
    def carried_out(case: Case) -> None:
        case.carry_out_clearing(
            "scoped_notice", "财政局中层以上干部会议", TODAY, ["撤销暂缓提拔"], HANDLER
        )

    about = "clearing:王建国|某县财政局"
    before = saved(app, *path_concluded(Verdict.UNTRUE), clearing_proposed, clearing_approved)
    with pytest.raises(RuleBroken) as refused:
        app.execute(
            before, "issue_document", c.IssueDocument(kind=K.CLEARING_LETTER, about=about), HANDLER
        )
    assert refused.value.rule.name == "document_step_taken"

    case_id = saved(
        app, *path_concluded(Verdict.UNTRUE), clearing_proposed, clearing_approved, carried_out
    )
    case = app.execute(
        case_id, "issue_document", c.IssueDocument(kind=K.CLEARING_LETTER, about=about), HANDLER
    )
    document = case.document_of(K.CLEARING_LETTER, about)
    assert document is not None
    text = text_of(docx_of(app.config, document)[0])
    assert "澄清正名函" in text
    assert "在一定范围内通报澄清" in text
    assert "财政局中层以上干部会议" in text
    assert "撤销暂缓提拔" in text


def test_an_operator_may_not_issue(app: CaseworkApplication) -> None:
    case_id = saved(app, *UNDER_INQUIRY, letter_sent)
    with pytest.raises(Exception, match="operator may not"):
        app.execute(case_id, "issue_document", INQUIRY, OPERATOR)


def test_an_old_document_renders_with_the_template_it_was_issued_with(
    app: CaseworkApplication,
) -> None:
    first, second = saved(app, *UNDER_INQUIRY, letter_sent), saved(app, *UNDER_INQUIRY, letter_sent)
    old = app.execute(first, "issue_document", INQUIRY, HANDLER).issued[0]
    assert isinstance(app.config, ConfigStore)

    replaced = app.config.replace_template(
        K.INQUIRY_NOTICE,
        template_saying(
            "新版函询通知 {{ number }}", "{{ addressee }}：请于{{ reply_due }}前回复。"
        ),
        changed_by="admin",
    )
    new = app.execute(second, "issue_document", INQUIRY, HANDLER).issued[0]

    assert new["template_version"] == replaced.version != old["template_version"]
    assert old["template_version"] == default_template(K.INQUIRY_NOTICE).version
    assert text_of(docx_of(app.config, new)[0]).startswith("新版函询通知 组函〔2026〕2号")
    old_text = text_of(docx_of(app.config, old)[0])
    assert "新版" not in old_text
    assert "谈话函询通知书" in old_text
    assert "组函〔2026〕1号" in old_text
    history = app.config.template_history(K.INQUIRY_NOTICE)
    assert {h["version"] for h in history} == {old["template_version"], replaced.version}
    (change,) = [ch for ch in app.config.changes() if ch.what == "template:inquiry_notice"]
    assert change.changed_by == "admin"


# -- templates ----------------------------------------------------------------------------------


def test_every_default_template_renders_with_its_kinds_fields() -> None:
    for kind in DocumentKind:
        template = default_template(kind)
        check_template(kind, template.content)
        # What the repository ships is what the script makes (text, not zip bytes).
        made = io.BytesIO()
        make(kind).save(made)
        assert text_of(made.getvalue()) == text_of(template.content)


def test_a_template_with_a_field_its_kind_does_not_offer_is_refused_naming_it() -> None:
    bad = template_saying("{{ number }}", "举报人：{{ reporter_name }}")
    with pytest.raises(TemplateRefused, match="reporter_name") as refused:
        check_template(K.INQUIRY_NOTICE, bad)
    assert "reporter_name" in refused.value.message_zh


def test_a_template_reaching_for_the_servers_internals_is_refused() -> None:
    """Templates render in Jinja's sandbox: an administrator's upload reads its fields only."""
    escape = template_saying("{{ number.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(TemplateRefused, match="does not render"):
        check_template(K.INQUIRY_NOTICE, escape)


def test_values_are_escaped_for_the_documents_xml() -> None:
    content = render(default_template(K.INQUIRY_NOTICE).content, {"addressee": "A&B <王>"})
    assert "A&B <王>同志" in text_of(content)


def test_a_template_that_does_not_parse_or_is_not_word_is_refused() -> None:
    with pytest.raises(TemplateRefused, match="template error"):
        check_template(K.INQUIRY_NOTICE, template_saying("{{ number "))
    with pytest.raises(TemplateRefused, match=r"not a Word \(.docx\) file"):
        check_template(K.INQUIRY_NOTICE, b"plain text")


def test_a_refused_template_is_not_kept(tmp_path: Path) -> None:
    store = ConfigStore(Database(sqlite_path=tmp_path / "config.sqlite"))
    with pytest.raises(TemplateRefused, match="reply_due_day"):
        store.replace_template(
            K.INQUIRY_NOTICE, template_saying("{{ reply_due_day }}"), changed_by="admin"
        )
    assert store.template(K.INQUIRY_NOTICE) == default_template(K.INQUIRY_NOTICE)
    assert store.changes() == []


def test_the_fields_of_each_kind_include_the_common_ones() -> None:
    for kind in DocumentKind:
        assert {"number", "addressee", "issued_on", "office_name"} <= set(fields_of(kind))


# -- over HTTP ---------------------------------------------------------------------------------

SECTION = "干部监督一科"


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = stand_in_handlers(build_embedded(make_settings(tmp_path), TODAY))
    yield system
    system.stop()


@pytest.fixture
def client(system: EmbeddedSystem) -> Iterator[TestClient]:
    with TestClient(system.web_app()) as client:
        yield client


def tokens(system: EmbeddedSystem) -> dict[str, dict[str, str]]:
    return {
        "operator": bearer(system.accounts, "operator", Role.OPERATOR, section=SECTION),
        "leader": bearer(system.accounts, "leader", Role.LEADER, section=SECTION),
        "handler": bearer(system.accounts, "handler-1", Role.HANDLER, section=SECTION),
        "stranger": bearer(system.accounts, "handler-9", Role.HANDLER, section="干部监督二科"),
        "auditor": bearer(system.accounts, "auditor", Role.AUDITOR),
        "clerk": bearer(system.accounts, "clerk", Role.SELECTION_CLERK),
    }


def under_inquiry(system: EmbeddedSystem, client: TestClient, t: dict[str, dict[str, str]]) -> str:
    """A real-name hotline report accepted, its case under inquiry, the letter sent."""

    def call(who: str, path: str, expect: int = 200, **body: Any) -> Any:
        response = client.post(path, json=body, headers=t[who])
        assert response.status_code == expect, f"{path}: {response.text}"
        return response.json()

    receipt = call(
        "operator",
        "/api/v1/reports",
        201,
        channel="hotline",
        reporter=real_name_reporter(),
        subjects=[{"name": "王建国", "unit": "某县财政局", "position": "局长"}],
        categories=["seeking_office"],
        summary="反映王建国在干部调整前多次找领导要求提拔。",
        received_on="2026-02-27",
    )
    case_id = call("operator", f"/api/v1/reports/{receipt['report_id']}/accept")["case_id"]
    system.catch_up()
    case = f"/api/v1/cases/{case_id}"
    call("leader", f"{case}/assign", handler_id="handler-1")
    call("handler", f"{case}/propose_disposition", disposition="talk_inquiry", reason="函询本人")
    study = {"held_on": "2026-03-02", "participants": ["李科长", "王副科长"]}
    call("leader", f"{case}/approve_disposition", collective_study=study)
    call("handler", f"{case}/send_inquiry_letter", form="talk")
    return str(case_id)


def test_a_document_issued_and_downloaded_as_word_in_chinese(
    system: EmbeddedSystem, client: TestClient
) -> None:
    t = tokens(system)
    case_id = under_inquiry(system, client, t)
    documents = f"/api/v1/cases/{case_id}/documents"
    shown = client.get(f"/api/v1/cases/{case_id}", headers=t["handler"]).json()
    assert [s["about"] for s in shown["documentable"]] == ["inquiry"]

    issued = client.post(
        documents, json={"kind": "inquiry_notice", "about": "inquiry"}, headers=t["handler"]
    )
    again = client.post(
        documents, json={"kind": "inquiry_notice", "about": "inquiry"}, headers=t["leader"]
    )

    assert issued.status_code == 201, issued.text
    assert again.status_code == 200, again.text
    document = issued.json()
    assert again.json() == document
    assert document["number"] == "组函〔2026〕1号"
    assert document["kind_zh"] == "谈话函询通知书"
    listed = client.get(documents, headers=t["auditor"])
    assert listed.status_code == 200, listed.text
    assert listed.json() == [document]
    shown = client.get(f"/api/v1/cases/{case_id}", headers=t["handler"]).json()
    assert shown["documents"] == [document]
    assert shown["documentable"] == []

    for ref in (document["number"], document["document_id"]):
        download = client.get(f"{documents}/{quote(ref)}.docx", headers=t["operator"])
        assert download.status_code == 200, download.text
        assert download.headers["content-type"] == DOCX_MEDIA_TYPE
        disposition = download.headers["content-disposition"]
        assert disposition.startswith("attachment; filename=")
        assert f"filename*=UTF-8''{quote('组函〔2026〕1号谈话函询通知书.docx')}" in disposition
        text = text_of(download.content)
        assert "谈话函询通知书" in text
        assert "组函〔2026〕1号" in text
        assert "进行谈话" in text
        assert "2026年3月23日" in text  # the reply's due day
    assert client.get(document["download"], headers=t["handler"]).status_code == 200

    # The case's timeline shows the step (the projections read the new event).
    system.catch_up()
    timeline = client.get(f"/api/v1/cases/{case_id}/timeline", headers=t["leader"]).json()["steps"]
    assert [s["step_zh"] for s in timeline if s["step"] == "DocumentIssued"] == ["制发公文"]

    # No reporter's identity in any event, the document's included.
    (event,) = [e for e in all_envelopes(system.casework) if e.event_type == "DocumentIssued"]
    for envelope in all_envelopes(system.casework):
        for secret in IDENTITY:
            assert secret not in envelope.model_dump_json()
    assert set(event.payload["fields"]) == set(fields_of(K.INQUIRY_NOTICE))


def test_who_may_read_and_issue_documents(system: EmbeddedSystem, client: TestClient) -> None:
    t = tokens(system)
    case_id = under_inquiry(system, client, t)
    documents = f"/api/v1/cases/{case_id}/documents"
    body = {"kind": "inquiry_notice", "about": "inquiry"}

    assert client.post(documents, json=body).status_code == 401
    assert client.get(documents).status_code == 401
    assert client.post(documents, json=body, headers=t["operator"]).status_code == 403
    assert client.post(documents, json=body, headers=t["auditor"]).status_code == 403
    assert client.post(documents, json=body, headers=t["stranger"]).status_code == 403
    assert client.get(documents, headers=t["stranger"]).status_code == 403
    assert client.get(documents, headers=t["clerk"]).status_code == 403
    wrong_step = client.post(
        documents, json={"kind": "admonition_notice", "about": "handling:1"}, headers=t["leader"]
    )
    assert wrong_step.status_code == 409
    assert wrong_step.json()["rule"] == "document_step_taken"
    assert (
        client.post(
            documents, json={"kind": "x", "about": "inquiry"}, headers=t["leader"]
        ).status_code
        == 422
    )
    later = {**body, "issued_on": (TODAY + dt.timedelta(days=1)).isoformat()}
    assert client.post(documents, json=later, headers=t["leader"]).status_code == 422
    assert client.get(f"{documents}/组函〔2026〕9号.docx", headers=t["leader"]).status_code == 404
    unknown = "/api/v1/cases/00000000-0000-4000-8000-000000000009/documents"
    assert client.get(unknown, headers=t["leader"]).status_code == 404
    assert client.post(documents, json=body, headers=t["handler"]).status_code == 201


def test_every_document_route_declares_its_answers(system: EmbeddedSystem) -> None:
    paths = system.web_app().openapi()["paths"]
    download = paths["/api/v1/cases/{case_id}/documents/{ref}.docx"]["get"]
    assert {"200", "401", "403", "404", "422"} <= set(download["responses"])
    assert DOCX_MEDIA_TYPE in download["responses"]["200"]["content"]
    issue = paths["/api/v1/cases/{case_id}/documents"]["post"]
    assert {"200", "201", "401", "403", "404", "409", "422"} <= set(issue["responses"])


# -- the selection's 考察反馈意见 ------------------------------------------------------------


def test_the_inspection_feedback_to_the_cadre_and_to_the_team(tmp_path: Path) -> None:
    system = build_embedded(make_settings(tmp_path), SELECTION_TODAY)
    try:
        with TestClient(system.web_app()) as client:
            clerk = bearer(system.accounts, "clerk-1", Role.SELECTION_CLERK)
            handler = bearer(system.accounts, "handler-1", Role.HANDLER)
            operator = bearer(system.accounts, "op-1", Role.OPERATOR)
            announced = up_to(client, clerk, "record_inspection")
            documents = f"/api/v1/selections/{announced}/documents"
            early = client.post(documents, json={"about": "inspection:a:cadre"}, headers=clerk)
            assert early.status_code == 409, early.text  # not inspected yet: the stage
            inspected = up_to(client, clerk, "record_integrity_opinion")
            documents = f"/api/v1/selections/{inspected}/documents"
            offered = client.get(f"/api/v1/selections/{inspected}/documentable", headers=handler)
            assert [d["about"] for d in offered.json()] == [
                "inspection:a:cadre",
                "inspection:a:team",
                "inspection:b:cadre",
                "inspection:b:team",
            ]

            to_cadre = client.post(documents, json={"about": "inspection:a:cadre"}, headers=clerk)
            to_team = client.post(documents, json={"about": "inspection:a:team"}, headers=clerk)
            again = client.post(documents, json={"about": "inspection:a:cadre"}, headers=clerk)

            assert to_cadre.status_code == 201, to_cadre.text
            assert to_team.status_code == 201, to_team.text
            assert again.status_code == 200
            assert again.json() == to_cadre.json()
            numbers = [to_cadre.json()["number"], to_team.json()["number"]]
            assert numbers == ["组考反〔2026〕1号", "组考反〔2026〕2号"]
            assert (
                client.post(
                    documents, json={"about": "inspection:a:cadre"}, headers=handler
                ).status_code
                == 403
            )
            assert client.get(documents, headers=operator).status_code == 403
            missing = client.post(documents, json={"about": "inspection:z:cadre"}, headers=clerk)
            assert missing.status_code == 409
            assert missing.json()["rule"] == "document_step_taken"
            assert [d["number"] for d in client.get(documents, headers=handler).json()] == numbers

            cadre_file = client.get(to_cadre.json()["download"], headers=handler)
            team_file = client.get(f"{documents}/{quote(numbers[1])}.docx", headers=clerk)
            assert cadre_file.status_code == team_file.status_code == 200
            assert cadre_file.headers["content-type"] == DOCX_MEDIA_TYPE
            assert "filename*=UTF-8''" in cadre_file.headers["content-disposition"]
            cadre_text, team_text = text_of(cadre_file.content), text_of(team_file.content)
            assert "考察反馈意见" in cadre_text
            assert "组考反〔2026〕1号" in cadre_text
            assert "王建国同志：" in cadre_text
            assert "德才表现突出" in cadre_text
            assert "陈科长、周干事" in cadre_text
            assert "2026年3月10日" in cadre_text
            assert "现将考察情况向你反馈如下" in cadre_text
            assert "某县财政局领导班子：" in team_text
            assert "向你单位领导班子反馈如下" in team_text
    finally:
        system.stop()


# -- the pages: the case's documents, the administrator's templates ---------------------------


@pytest.fixture
def pages(tmp_path: Path) -> Iterator[tuple[EmbeddedSystem, TestClient]]:
    system = build_system(tmp_path)
    try:
        with TestClient(system.web_app()) as client:
            yield system, client
    finally:
        system.stop()


def test_the_case_page_lists_its_documents_and_issues_them(
    pages: tuple[EmbeddedSystem, TestClient],
) -> None:
    system, client = pages
    case = build(*UNDER_INQUIRY, letter_sent, real_name=True)
    system.casework.save(case)
    sign_in(client, system, "leader")
    page = client.get(f"/cases/{case.id}").text
    assert "尚未制发公文" in page
    assert "制发 谈话函询通知书（谈话函询）" in page

    sign_in(client, system, "operator")
    refused = client.post(
        f"/cases/{case.id}/documents",
        data={"csrf_token": csrf(client), "kind": "inquiry_notice", "about": "inquiry"},
    )
    assert refused.status_code == 409
    assert system.casework.get_case(case.id).issued == []
    assert "制发 谈话函询通知书" not in client.get(f"/cases/{case.id}").text  # no button

    sign_in(client, system, "leader")
    issued = client.post(
        f"/cases/{case.id}/documents",
        data={"csrf_token": csrf(client), "kind": "inquiry_notice", "about": "inquiry"},
        follow_redirects=False,
    )
    assert issued.status_code == 303, issued.text
    page = client.get(f"/cases/{case.id}").text
    (document,) = system.casework.get_case(case.id).issued
    link = f"/cases/{case.id}/documents/{document['document_id']}.docx"
    assert f'href="{link}"' in page
    assert "组函〔2026〕1号 谈话函询通知书" in page
    assert "制发 谈话函询通知书" not in page  # issued: no second button
    sign_in(client, system, "auditor")
    download = client.get(link)
    assert download.status_code == 200
    assert download.headers["content-type"] == DOCX_MEDIA_TYPE
    assert "组函〔2026〕1号" in text_of(download.content)
    assert client.get(f"/cases/{case.id}/documents/none.docx").status_code == 404
    english = client.get(f"/cases/{case.id}?lang=en").text
    assert "Official documents" in english


def docx_upload(content: bytes) -> dict[str, Any]:
    return {"template": ("notice.docx", content, DOCX_MEDIA_TYPE)}


def test_the_administrator_replaces_a_template_on_the_page(
    pages: tuple[EmbeddedSystem, TestClient],
) -> None:
    system, client = pages
    sign_in(client, system, "admin")
    page = client.get("/admin/config").text
    assert "公文模板" in page
    assert "{{ reply_due }}" in page
    assert "回复期限" in page  # what the field means
    default = default_template(K.INQUIRY_NOTICE)
    assert default.version in page

    bad = client.post(
        "/admin/templates/inquiry_notice",
        data={"csrf_token": csrf(client)},
        files=docx_upload(template_saying("{{ reporter_phone }}")),
    )
    assert bad.status_code == 422
    assert "reporter_phone" in bad.text
    good_content = template_saying("新模板 {{ number }} {{ addressee }}")
    good = client.post(
        "/admin/templates/inquiry_notice",
        data={"csrf_token": csrf(client)},
        files=docx_upload(good_content),
        follow_redirects=False,
    )
    assert good.status_code == 303, good.text
    now = system.config.template(K.INQUIRY_NOTICE)
    assert now.content == good_content
    assert client.get("/admin/templates/inquiry_notice.docx").content == good_content
    sign_in(client, system, "leader")
    assert client.get("/admin/templates/inquiry_notice.docx").status_code in (401, 403)


def test_the_templates_over_the_api(pages: tuple[EmbeddedSystem, TestClient]) -> None:
    system, client = pages
    admin = bearer(system.accounts, "admin", Role.ADMIN)
    handler = bearer(system.accounts, "handler", Role.HANDLER)
    templates = "/api/v1/document-templates"

    listed = client.get(templates, headers=admin)
    assert listed.status_code == 200
    kinds = {t["kind"]: t for t in listed.json()}
    assert set(kinds) == {k.value for k in DocumentKind}
    assert {
        "name": "reply_due",
        "meaning": "the day the reply is due",
        "meaning_zh": "回复期限",
    } in kinds["inquiry_notice"]["fields"]
    assert client.get(templates, headers=handler).status_code == 403
    assert client.get(templates).status_code == 401
    old = kinds["inquiry_notice"]["version"]

    docx_type = {"Content-Type": DOCX_MEDIA_TYPE}
    refused = client.put(
        f"{templates}/inquiry_notice",
        content=template_saying("{{ reporter_email }}"),
        headers=admin | docx_type,
    )
    assert refused.status_code == 422
    assert "reporter_email" in refused.json()["detail"]
    assert (
        client.put(
            f"{templates}/inquiry_notice", content=b"x", headers=handler | docx_type
        ).status_code
        == 403
    )
    new_content = template_saying("{{ number }}")
    replaced = client.put(
        f"{templates}/inquiry_notice", content=new_content, headers=admin | docx_type
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] != old
    assert {h["version"] for h in replaced.json()["history"]} == {old, replaced.json()["version"]}
    kept = client.get(f"{templates}/inquiry_notice.docx?version={old}", headers=admin)
    assert kept.status_code == 200
    assert kept.content == default_template(K.INQUIRY_NOTICE).content
    assert client.get(f"{templates}/inquiry_notice.docx", headers=admin).content == new_content
    assert (
        client.get(f"{templates}/inquiry_notice.docx?version=nope", headers=admin).status_code
        == 404
    )


def test_the_selection_page_lists_its_feedbacks_and_issues_them(
    pages: tuple[EmbeddedSystem, TestClient],
) -> None:
    system, client = pages
    advance_to(system, dt.date(2026, 3, 20))
    selection = propose_selection()
    for step in (recommend, announce, inspect):
        step(selection)
    system.casework.save(selection)
    page = f"/selections/{selection.id}"
    sign_in(client, system, "handler")  # reads the record, issues nothing
    assert "尚未制发公文" in client.get(page).text
    assert "制发 考察反馈意见" not in client.get(page).text

    sign_in(client, system, "clerk")
    shown = client.get(page).text
    assert "制发 考察反馈意见（王建国（本人））" in shown
    assert "制发 考察反馈意见（王建国（所在单位领导班子））" in shown
    issued = client.post(
        f"{page}/documents",
        data={"csrf_token": csrf(client), "about": "inspection:a:team"},
        follow_redirects=False,
    )
    assert issued.status_code == 303, issued.text
    (document,) = system.casework.get_selection(selection.id).issued
    shown = client.get(page).text
    assert "组考反〔2026〕1号 考察反馈意见" in shown
    assert "制发 考察反馈意见（王建国（所在单位领导班子））" not in shown
    refused = client.post(
        f"{page}/documents", data={"csrf_token": csrf(client), "about": "inspection:z:team"}
    )
    assert refused.status_code == 409
    assert "考察反馈意见须在考察后" in refused.text
    sign_in(client, system, "auditor")
    download = client.get(f"{page}/documents/{document['document_id']}.docx")
    assert download.status_code == 200
    assert "某县财政局领导班子：" in text_of(download.content)


# -- the supervision project's 立项督查通知 -------------------------------------------------------


def test_the_project_notice_to_the_supervised_unit(tmp_path: Path) -> None:
    system = build_embedded(make_settings(tmp_path, auto_accept=True), PROJECT_TODAY)
    try:
        with TestClient(system.web_app()) as client:
            leader = bearer(system.accounts, "leader-1", Role.LEADER)
            handler = bearer(system.accounts, "handler-1", Role.HANDLER)
            auditor = bearer(system.accounts, "auditor-1", Role.AUDITOR)
            clerk = bearer(system.accounts, "clerk-1", Role.SELECTION_CLERK)
            selection = project_selection_id.__wrapped__(client, clerk)  # type: ignore[attr-defined]
            case = project_case_id.__wrapped__(system)  # type: ignore[attr-defined]
            project = open_one(client, leader, selection, case)
            documents = f"/api/v1/projects/{project}/documents"
            body = {"kind": "project_notice", "about": "opening"}
            early = client.post(documents, json=body, headers=handler)
            assert early.status_code == 409, early.text  # no team yet
            up_to_step(client, {"leader": leader, "handler": handler}, project, "record_plan")

            issued = client.post(documents, json=body, headers=handler)
            again = client.post(documents, json=body, headers=leader)

            assert issued.status_code == 201, issued.text
            assert again.status_code == 200
            document = issued.json()
            assert document["number"] == "组督〔2026〕1号"
            assert client.post(documents, json=body, headers=auditor).status_code == 403
            assert client.get(documents, headers=clerk).status_code == 403
            assert client.get(documents, headers=auditor).json() == [document]
            download = client.get(f"{documents}/{quote(document['number'])}.docx", headers=auditor)
            assert download.status_code == 200
            text = text_of(download.content)
            assert "立项督查通知" in text
            assert "某县财政局党委（党组）：" in text
            assert "拉票贿选" in text
            assert "督立〔2026〕1号" in text
            assert "刘组长同志任组长，陈干事同志为成员" in text
            assert "2026年4月13日" in text

            # The project's page lists it, with its download.
            sign_in(client, system, "handler-1")
            page = client.get(f"/projects/{project}").text
            link = f"/projects/{project}/documents/{document['document_id']}.docx"
            assert f'href="{link}"' in page
            assert "组督〔2026〕1号 立项督查通知" in page
            assert "制发 立项督查通知" not in page  # issued: no button
            assert client.get(link).status_code == 200
    finally:
        system.stop()


def test_the_project_page_issues_the_notice(tmp_path: Path) -> None:
    system = build_embedded(make_settings(tmp_path, auto_accept=True), PROJECT_TODAY)
    try:
        with TestClient(system.web_app()) as client:
            leader = bearer(system.accounts, "leader-1", Role.LEADER)
            handler = bearer(system.accounts, "handler-1", Role.HANDLER)
            clerk = bearer(system.accounts, "clerk-1", Role.SELECTION_CLERK)
            bearer(system.accounts, "auditor-1", Role.AUDITOR)
            selection = project_selection_id.__wrapped__(client, clerk)  # type: ignore[attr-defined]
            case = project_case_id.__wrapped__(system)  # type: ignore[attr-defined]
            project = open_one(client, leader, selection, case)
            up_to_step(client, {"leader": leader, "handler": handler}, project, "record_plan")
            sign_in(client, system, "auditor-1")  # reads it, issues nothing
            assert "制发 立项督查通知" not in client.get(f"/projects/{project}").text
            sign_in(client, system, "handler-1")
            assert "制发 立项督查通知" in client.get(f"/projects/{project}").text

            issued = client.post(
                f"/projects/{project}/documents",
                data={"csrf_token": csrf(client)},
                follow_redirects=False,
            )

            assert issued.status_code == 303, issued.text
            assert "组督〔2026〕1号 立项督查通知" in client.get(f"/projects/{project}").text
    finally:
        system.stop()


def test_the_office_and_the_prefixes_are_the_administrators(
    pages: tuple[EmbeddedSystem, TestClient],
) -> None:
    system, client = pages
    sign_in(client, system, "admin")
    prefixes = {f"prefix.{k.value}": "" for k in DocumentKind}
    bad = client.post(
        "/admin/config/document_settings",
        data={"csrf_token": csrf(client), "office_name": " "} | prefixes,
    )
    assert bad.status_code == 422
    assert "请填写此项" in bad.text
    saved = client.post(
        "/admin/config/document_settings",
        data={"csrf_token": csrf(client), "office_name": "中共青山县委组织部"}
        | prefixes
        | {"prefix.inquiry_notice": "青组函"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    system.config.invalidate()
    settings = system.config.documents()
    assert settings.office_name == "中共青山县委组织部"
    assert settings.prefix(K.INQUIRY_NOTICE) == "青组函"
    assert settings.prefix(K.ADMONITION_NOTICE) == "组诫"  # left blank: the default

    case = build(*UNDER_INQUIRY, letter_sent)
    system.casework.save(case)
    issued = system.casework.execute(case.id, "issue_document", INQUIRY, LEADER).issued[0]
    assert issued["number"] == "青组函〔2026〕1号"
    assert "中共青山县委组织部" in text_of(docx_of(system.casework.config, issued)[0])
    (change,) = [c for c in system.config.changes() if c.what == "document_settings"]
    assert change.changed_by == "admin"


def test_a_nul_in_a_forms_text_is_refused_not_in_its_file(
    pages: tuple[EmbeddedSystem, TestClient],
) -> None:
    """The NUL guard reads a multipart form's text fields; a .docx is a zip full of NULs."""
    system, client = pages
    sign_in(client, system, "admin")
    content = template_saying("{{ number }}")
    assert b"\x00" in content
    refused = client.post(
        "/admin/templates/inquiry_notice",
        data={"csrf_token": csrf(client), "note": "a\x00b"},
        files=docx_upload(content),
    )
    assert refused.status_code == 422
    assert "NUL" in refused.json()["detail"]
    assert system.config.template(K.INQUIRY_NOTICE) == default_template(K.INQUIRY_NOTICE)
