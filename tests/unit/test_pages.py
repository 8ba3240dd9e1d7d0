"""The pages (services/web): who may open which, CSRF, forms that do what they say."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from babel.messages.extract import extract_from_dir
from fastapi.testclient import TestClient

from schemas import commands as c
from schemas.glossary import Category, Disposition, ReportStatus, Role
from services.bootstrap import EmbeddedSystem
from services.web.i18n import messages
from tests.unit import pages_support as support
from tests.unit.conftest import (
    REPORTER_ID_NUMBER,
    REPORTER_NAME,
    REPORTER_PHONE,
    real_name_reporter,
)
from tests.unit.pages_support import PASSWORD, PEOPLE, actor, build_system, csrf, run, sign_in

SUBJECT = {"name": "王建国", "unit": "某县财政局", "position": "局长"}


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_system(tmp_path)
    yield system
    system.stop()


@pytest.fixture
def client(system: EmbeddedSystem) -> Iterator[TestClient]:
    with TestClient(system.web_app()) as client:
        yield client


def submit(system: EmbeddedSystem, **overrides: Any) -> UUID:
    return support.submit(system, SUBJECT, **overrides)


def accepted_case(system: EmbeddedSystem, **overrides: Any) -> UUID:
    report_id = submit(system, **overrides)
    report = system.intake.triage(
        report_id, "accept", c.Accept(reason="属于受理范围"), actor("operator")
    )
    system.catch_up()
    assert report.case_id is not None
    return report.case_id


# -- who may open which page -----------------------------------------------------------------

PAGES = {
    "/intake/new": ("operator", "电话举报登记"),
    "/intake/inbox": ("operator", "待分流"),
    "/ledger": ("operator", "登记台账"),
    "/cases/mine": ("handler", "我的案件"),
    "/approvals": ("leader", "待审批"),
}


@pytest.mark.parametrize("path", PAGES)
def test_each_page_renders_in_chinese_for_its_role(
    client: TestClient, system: EmbeddedSystem, path: str
) -> None:
    username, text = PAGES[path]
    sign_in(client, system, username)

    page = client.get(path)

    assert page.status_code == 200, page.text
    assert text in page.text
    assert PEOPLE[username][1] in page.text  # the header names who is signed in
    assert Role(PEOPLE[username][0]).zh in page.text
    assert page.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("path", "username"),
    [
        ("/intake/new", "handler"),
        ("/intake/inbox", "liaison"),
        ("/cases/mine", "operator"),
        ("/approvals", "handler"),
        ("/ledger", "liaison"),
    ],
)
def test_a_page_is_forbidden_to_other_roles_with_the_role_it_needs(
    client: TestClient, system: EmbeddedSystem, path: str, username: str
) -> None:
    sign_in(client, system, username)

    page = client.get(path)

    assert page.status_code == 403
    assert "您的角色无权访问此页面" in page.text
    needed = PAGES[path][0]
    assert Role(PEOPLE[needed][0]).zh in page.text


@pytest.mark.parametrize("path", [*PAGES, "/cases/00000000-0000-0000-0000-000000000001"])
def test_without_a_session_a_page_sends_you_to_sign_in(client: TestClient, path: str) -> None:
    page = client.get(path, follow_redirects=False)

    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")


def test_a_liaison_member_cannot_open_a_case_page(
    client: TestClient, system: EmbeddedSystem
) -> None:
    case_id = accepted_case(system)
    sign_in(client, system, "liaison")

    page = client.get(f"/cases/{case_id}")

    assert page.status_code == 403
    assert "王建国" not in page.text


def test_public_pages_need_no_account(client: TestClient) -> None:
    for path, text in (("/mailbox", "网上举报信箱"), ("/follow-up", "查询码"), ("/", "举报")):
        page = client.get(path)
        assert page.status_code == 200
        assert text in page.text


def test_english_is_available_and_remembered(client: TestClient) -> None:
    page = client.get("/mailbox?lang=en")

    assert "Online reporting mailbox" in page.text
    assert page.cookies.get("lang") == "en" or client.cookies.get("lang") == "en"
    assert "Send the report" in client.get("/mailbox").text


# -- sign-in ---------------------------------------------------------------------------------


def test_sign_in_with_the_form_and_sign_out(client: TestClient) -> None:
    token = csrf(client)
    wrong = client.post(
        "/login", data={"username": "operator", "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 401
    assert "用户名或密码错误" in wrong.text

    right = client.post(
        "/login",
        data={"username": "operator", "password": PASSWORD, "csrf_token": token, "next": "/ledger"},
        follow_redirects=False,
    )
    assert right.status_code == 303
    assert right.headers["location"] == "/ledger"
    assert client.get("/ledger").status_code == 200

    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/ledger", follow_redirects=False).status_code == 303


def test_sign_in_goes_nowhere_outside_the_site(client: TestClient) -> None:
    response = client.post(
        "/login",
        data={
            "username": "operator",
            "password": PASSWORD,
            "csrf_token": csrf(client),
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/intake/inbox"


def test_repeated_failures_are_throttled_with_a_chinese_message(client: TestClient) -> None:
    token = csrf(client)
    statuses = [
        client.post(
            "/login", data={"username": "leader", "password": "bad", "csrf_token": token}
        ).status_code
        for _ in range(6)
    ]
    assert statuses[-1] == 429
    last = client.post(
        "/login", data={"username": "leader", "password": PASSWORD, "csrf_token": token}
    )
    assert last.status_code == 429
    assert "登录失败次数过多" in last.text


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/login", {"username": "operator", "password": PASSWORD}),
        ("/mailbox", {"summary": "x"}),
        ("/intake/new", {"summary": "x"}),
        ("/logout", {}),
    ],
)
def test_a_form_without_its_security_token_is_refused(
    client: TestClient, system: EmbeddedSystem, path: str, data: dict[str, str]
) -> None:
    sign_in(client, system, "operator")
    csrf(client)  # the browser has its seed cookie, but the form does not carry the token

    response = client.post(path, data=data, follow_redirects=False)

    assert response.status_code == 403
    assert "表单安全校验失败" in response.text


def test_a_forged_security_token_is_refused(client: TestClient, system: EmbeddedSystem) -> None:
    case_id = accepted_case(system)
    sign_in(client, system, "leader")
    csrf(client)

    response = client.post(
        f"/cases/{case_id}/assign", data={"handler_id": "handler", "csrf_token": "forged"}
    )

    assert response.status_code == 403
    assert system.casework.get_case(case_id).handler_id is None


def test_assigning_a_case_to_a_non_handler_on_the_page_is_refused_as_bad_input(
    client: TestClient, system: EmbeddedSystem
) -> None:
    """An unusable value is bad input (422, as the API answers), not a rule refusing the step."""
    case_id = accepted_case(system)
    sign_in(client, system, "leader")

    response = client.post(
        f"/cases/{case_id}/assign", data={"handler_id": "operator", "csrf_token": csrf(client)}
    )

    assert response.status_code == 422
    assert "不是在用的承办人账号" in response.text
    assert system.casework.get_case(case_id).handler_id is None


# -- the public mailbox and the follow-up ---------------------------------------------------


def mailbox_form(token: str, **extra: str) -> dict[str, Any]:
    return {
        "csrf_token": token,
        "reporter_kind": "anonymous",
        "subject-0-name": "王建国",
        "subject-0-unit": "某县财政局",
        "categories": ["vote_buying", "seeking_office"],
        "summary": "换届前有人拉票。",
    } | extra


def test_the_mailbox_shows_the_query_code_and_password_once(
    client: TestClient, system: EmbeddedSystem
) -> None:
    response = client.post("/mailbox", data=mailbox_form(csrf(client)))

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    code = re.search(r'id="query-code">([^<]+)<', response.text)
    password = re.search(r'id="query-password">([^<]+)<', response.text)
    assert code
    assert password
    assert "只显示这一次" in response.text
    report_id = system.intake.vault.report_for_credentials(code.group(1), password.group(1))
    assert report_id is not None
    report = system.intake.get_report(report_id)
    assert report.channel == "mailbox"
    assert report.categories == ["vote_buying", "seeking_office"]


def test_a_mailbox_form_with_problems_is_shown_again_and_nothing_is_stored(
    client: TestClient, system: EmbeddedSystem
) -> None:
    before = system.intake.max_position()
    form = mailbox_form(csrf(client), reporter_kind="real_name", reporter_name="李四")
    form.pop("categories")

    response = client.post("/mailbox", data=form)

    assert response.status_code == 422
    assert "举报未提交" in response.text
    assert "请更正" in response.text
    assert system.intake.max_position() == before


def follow_up(client: TestClient, code: str, password: str) -> Any:
    return client.post(
        "/follow-up", data={"query_code": code, "password": password, "csrf_token": csrf(client)}
    )


def test_follow_up_shows_status_and_feedback_only(
    client: TestClient, system: EmbeddedSystem
) -> None:
    form = mailbox_form(
        csrf(client),
        reporter_kind="real_name",
        reporter_name=REPORTER_NAME,
        reporter_phone=REPORTER_PHONE,
    )
    receipt = client.post("/mailbox", data=form).text
    code = re.search(r'id="query-code">([^<]+)<', receipt).group(1)  # type: ignore[union-attr]
    password = re.search(r'id="query-password">([^<]+)<', receipt).group(1)  # type: ignore[union-attr]
    system.catch_up()

    assert follow_up(client, code, "WRONG-PASSWORD").status_code == 404
    page = follow_up(client, code, password)
    assert page.status_code == 200
    assert ReportStatus.REGISTERED.zh in page.text
    assert "暂无反馈" in page.text

    report_id = system.intake.vault.report_for_credentials(code, password)
    assert report_id is not None
    report = system.intake.triage(report_id, "accept", c.Accept(), actor("operator"))
    system.catch_up()
    case_id = report.case_id
    assert case_id is not None
    run(system, case_id, "assign", c.Assign(handler_id="handler"), "leader")
    run(
        system,
        case_id,
        "propose_disposition",
        c.ProposeDisposition(disposition=Disposition.CLOSE, reason="反映问题笼统，无可查性"),
        "handler",
    )
    run(
        system,
        case_id,
        "approve_disposition",
        c.ApproveDisposition(
            collective_study={"held_on": dt.date(2026, 3, 3), "participants": ["刘建华"]}
        ),
        "leader",
    )
    run(
        system,
        case_id,
        "give_feedback",
        c.GiveFeedback(method="online", text="经研究，予以了结，感谢您的监督。"),
        "handler",
    )

    page = follow_up(client, code, password)
    assert "经研究，予以了结，感谢您的监督。" in page.text
    assert "反映问题笼统" not in page.text  # the case's reasons are not the reporter's to see
    assert "王建国" not in page.text
    assert "张强" not in page.text


def test_feedback_reaches_only_the_real_name_reporter_it_was_given_to(
    client: TestClient, system: EmbeddedSystem
) -> None:
    credentials = []
    for form in (
        mailbox_form(
            csrf(client),
            reporter_kind="real_name",
            reporter_name=REPORTER_NAME,
            reporter_phone=REPORTER_PHONE,
        ),
        mailbox_form(csrf(client)),  # anonymous, about the same matter
    ):
        receipt = client.post("/mailbox", data=form).text
        code = re.search(r'id="query-code">([^<]+)<', receipt)
        password = re.search(r'id="query-password">([^<]+)<', receipt)
        assert code
        assert password
        credentials.append((code.group(1), password.group(1)))
    system.catch_up()
    named, anonymous = (
        system.intake.vault.report_for_credentials(code, password) for code, password in credentials
    )
    assert named is not None
    assert anonymous is not None
    case_id = system.intake.triage(named, "accept", c.Accept(), actor("operator")).case_id
    assert case_id is not None
    system.catch_up()
    system.intake.triage(anonymous, "accept", c.Accept(join_case_id=case_id), actor("operator"))
    system.catch_up()
    run(system, case_id, "assign", c.Assign(handler_id="handler"), "leader")
    run(
        system,
        case_id,
        "propose_disposition",
        c.ProposeDisposition(disposition=Disposition.CLOSE, reason="反映问题笼统，无可查性"),
        "handler",
    )
    run(
        system,
        case_id,
        "approve_disposition",
        c.ApproveDisposition(
            collective_study={"held_on": dt.date(2026, 3, 3), "participants": ["刘建华"]}
        ),
        "leader",
    )
    run(
        system,
        case_id,
        "give_feedback",
        c.GiveFeedback(method="online", text="经研究，予以了结，感谢您的监督。"),
        "handler",
    )

    assert "经研究，予以了结" in follow_up(client, *credentials[0]).text
    page = follow_up(client, *credentials[1])
    assert page.status_code == 200
    assert "经研究，予以了结" not in page.text
    assert "暂无反馈" in page.text


# -- intake ------------------------------------------------------------------------------------


def hotline_form(token: str, **extra: str) -> dict[str, Any]:
    return {
        "csrf_token": token,
        "channel": "hotline",
        "idempotency_key": "call-1",
        "reporter_kind": "real_name",
        "reporter_name": REPORTER_NAME,
        "reporter_phone": REPORTER_PHONE,
        "reporter_id_number": REPORTER_ID_NUMBER,
        "subject-0-name": "王建国",
        "subject-0-unit": "某县财政局",
        "subject-0-cadre_id": "C-001",
        "categories": ["seeking_office"],
        "summary": "来电反映王建国多次找领导要求提拔。",
    } | extra


def test_an_operator_registers_a_hotline_call_with_a_real_name_caller(
    client: TestClient, system: EmbeddedSystem
) -> None:
    sign_in(client, system, "operator")

    response = client.post("/intake/new", data=hotline_form(csrf(client)), follow_redirects=False)

    assert response.status_code == 303, response.text
    report_id = UUID(response.headers["location"].split("/")[2].split("?")[0])
    report = system.intake.get_report(report_id)
    assert report.status is ReportStatus.REGISTERED
    assert report.real_name
    assert report.actor["id"] == "operator" if hasattr(report, "actor") else True
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    assert report.ledger_number in page.text
    assert "实名" in page.text
    for secret in (REPORTER_NAME, REPORTER_PHONE, REPORTER_ID_NUMBER):
        assert secret not in page.text  # only behind the "show identity" action
    again = client.post("/intake/new", data=hotline_form(csrf(client)), follow_redirects=False)
    assert again.headers["location"] == response.headers["location"]  # same call, one report


def test_a_hotline_form_with_problems_names_them_and_stores_nothing(
    client: TestClient, system: EmbeddedSystem
) -> None:
    sign_in(client, system, "operator")
    before = system.intake.max_position()

    response = client.post(
        "/intake/new", data=hotline_form(csrf(client), reporter_phone="", summary="")
    )

    assert response.status_code == 422
    assert "未登记" in response.text
    assert 'class="field has-error"' in response.text
    assert system.intake.max_position() == before


def test_the_cadre_look_up_answers_signed_in_staff(
    client: TestClient, system: EmbeddedSystem
) -> None:
    from schemas.views import CadreRecord

    system.read.register.upsert(
        [CadreRecord(cadre_id="C-9", name="欧阳明", unit="青山县交通局", position="局长")]
    )
    assert client.get("/intake/cadres?q=欧阳", follow_redirects=False).status_code == 303
    sign_in(client, system, "operator")

    found = client.get("/intake/cadres?q=交通").json()

    assert [c["cadre_id"] for c in found] == ["C-9"]


def test_the_inbox_and_ledger_list_registered_reports(
    client: TestClient, system: EmbeddedSystem
) -> None:
    report_id = submit(system)
    number = system.intake.get_report(report_id).ledger_number
    assert number is not None
    sign_in(client, system, "operator")

    assert number in client.get("/intake/inbox").text
    assert number in client.get("/ledger").text


def test_an_operator_accepts_a_report_from_its_page(
    client: TestClient, system: EmbeddedSystem
) -> None:
    report_id = submit(system)
    sign_in(client, system, "operator")
    page = client.get(f"/reports/{report_id}")
    assert "受理" in page.text
    assert 'action="/reports/' in page.text

    response = client.post(
        f"/reports/{report_id}/accept",
        data={"csrf_token": csrf(client), "reason": "属于受理范围", "expected_version": "2"},
        follow_redirects=False,
    )

    assert response.status_code == 303, response.text
    assert system.intake.get_report(report_id).status is ReportStatus.ACCEPTED
    system.catch_up()
    assert number_not_in_inbox(client, system, report_id)


def test_the_inbox_offers_the_operator_an_accept_button(
    client: TestClient, system: EmbeddedSystem
) -> None:
    """Triage before acceptance (issue 10, item 6): the queue itself has the accept action."""
    report_id = submit(system)
    system.catch_up()
    sign_in(client, system, "operator")
    inbox = client.get("/intake/inbox").text
    assert f'action="/reports/{report_id}/accept"' in inbox
    assert 'data-action="accept"' in inbox

    response = client.post(
        f"/reports/{report_id}/accept",
        data={"csrf_token": csrf(client), "expected_version": "2"},
        follow_redirects=False,
    )

    assert response.status_code == 303, response.text
    assert system.intake.get_report(report_id).status is ReportStatus.ACCEPTED


def number_not_in_inbox(client: TestClient, system: EmbeddedSystem, report_id: UUID) -> bool:
    number = system.intake.get_report(report_id).ledger_number
    return str(number) not in client.get("/intake/inbox").text


def test_repeat_suggestions_name_other_reports_about_the_same_cadre(
    client: TestClient, system: EmbeddedSystem
) -> None:
    first = submit(system)
    second = submit(system, summary="再次反映王建国跑官。")
    sign_in(client, system, "operator")

    page = client.get(f"/reports/{second}")

    assert "反映同一干部的其他举报" in page.text
    assert str(first) in page.text
    response = client.post(
        f"/reports/{second}/mark_repeat",
        data={"csrf_token": csrf(client), "of_report_id": str(first), "reason": "同一事项"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert system.intake.get_report(second).status is ReportStatus.REPEAT


def test_a_refused_triage_shows_the_rule_in_chinese(
    client: TestClient, system: EmbeddedSystem
) -> None:
    report_id = submit(system)
    sign_in(client, system, "operator")

    response = client.post(
        f"/reports/{report_id}/mark_repeat",
        data={"csrf_token": csrf(client), "of_report_id": "", "reason": "同一事项"},
    )

    assert response.status_code == 422
    assert "此项必填" in response.text
    assert system.intake.get_report(report_id).status is ReportStatus.REGISTERED


# -- the reporter's identity -------------------------------------------------------------------


def test_the_identity_is_shown_only_behind_the_recorded_action(
    client: TestClient, system: EmbeddedSystem
) -> None:
    report_id = submit(system, reporter=real_name_reporter())
    sign_in(client, system, "operator")
    assert REPORTER_NAME not in client.get(f"/reports/{report_id}").text

    no_reason = client.post(
        f"/reports/{report_id}/identity", data={"csrf_token": csrf(client), "reason": ""}
    )
    assert no_reason.status_code == 422
    assert REPORTER_NAME not in no_reason.text
    assert system.accounts.audit_entries() == []

    shown = client.post(
        f"/reports/{report_id}/identity",
        data={"csrf_token": csrf(client), "reason": "电话核实举报人身份"},
    )

    assert shown.status_code == 200
    assert REPORTER_NAME in shown.text
    assert REPORTER_PHONE in shown.text
    assert shown.headers["cache-control"] == "no-store"
    [entry] = system.accounts.audit_entries()
    assert (entry.username, entry.item_id, entry.reason) == (
        "operator",
        str(report_id),
        "电话核实举报人身份",
    )
    assert REPORTER_NAME not in client.get(f"/reports/{report_id}").text


def test_leaders_may_not_reveal_the_identity(client: TestClient, system: EmbeddedSystem) -> None:
    report_id = submit(system, reporter=real_name_reporter())
    sign_in(client, system, "leader")
    page = client.get(f"/reports/{report_id}")
    assert "显示举报人身份" not in page.text

    response = client.post(
        f"/reports/{report_id}/identity", data={"csrf_token": csrf(client), "reason": "想看看"}
    )

    assert response.status_code == 403
    assert REPORTER_NAME not in response.text
    assert system.accounts.audit_entries() == []


# -- cases -------------------------------------------------------------------------------------


def test_the_case_page_shows_only_the_allowed_next_steps(
    client: TestClient, system: EmbeddedSystem
) -> None:
    case_id = accepted_case(system)
    run(system, case_id, "assign", c.Assign(handler_id="handler"), "leader")
    sign_in(client, system, "handler")

    page = client.get(f"/cases/{case_id}")

    assert page.status_code == 200
    assert "已分办待定处置方式" in page.text
    assert "分办承办人" in page.text  # the timeline's step
    assert f'action="/cases/{case_id}/propose_disposition"' in page.text
    assert f'action="/cases/{case_id}/approve_disposition"' not in page.text
    assert f'action="/cases/{case_id}/close"' not in page.text
    assert "谈话函询" in page.text  # the disposition select, in Chinese


def test_a_handler_proposes_and_a_leader_approves_through_the_forms(
    client: TestClient, system: EmbeddedSystem
) -> None:
    case_id = accepted_case(system)
    run(system, case_id, "assign", c.Assign(handler_id="handler"), "leader")
    sign_in(client, system, "handler")
    bad = client.post(
        f"/cases/{case_id}/propose_disposition",
        data={"csrf_token": csrf(client), "disposition": "preliminary_verification"},
    )
    assert bad.status_code == 422
    assert "此项必填" in bad.text
    assert system.casework.get_case(case_id).state.value == "assigned"

    proposed = client.post(
        f"/cases/{case_id}/propose_disposition",
        data={
            "csrf_token": csrf(client),
            "disposition": "preliminary_verification",
            "reason": "线索具体，需初步核实",
        },
        follow_redirects=False,
    )
    assert proposed.status_code == 303, proposed.text
    system.catch_up()
    assert system.casework.get_case(case_id).state.value == "disposition_proposed"
    assert "我的案件" in client.get("/cases/mine").text

    sign_in(client, system, "leader")
    approvals = client.get("/approvals")
    assert system.casework.get_case(case_id).ledger_number in approvals.text
    approved = client.post(
        f"/cases/{case_id}/approve_disposition",
        data={
            "csrf_token": csrf(client),
            "back": "/approvals",
            "collective_study.held_on": "2026-03-03",
            "collective_study.participants": "刘建华\n张强",
        },
        follow_redirects=False,
    )
    assert approved.status_code == 303, approved.text
    assert approved.headers["location"].startswith("/approvals")
    assert system.casework.get_case(case_id).state.value == "verification"

    sign_in(client, system, "handler")
    finding = client.post(
        f"/cases/{case_id}/record_finding",
        data={
            "csrf_token": csrf(client),
            "kind": "interview",
            "summary": "与有关人员个别谈话",
            "evidence_refs": "谈话记录-001\n谈话记录-002",
        },
        follow_redirects=False,
    )
    assert finding.status_code == 303, finding.text
    system.catch_up()
    page = client.get(f"/cases/{case_id}")
    assert "谈话记录-001" in page.text
    assert "记录核实情况" in page.text


def test_a_step_the_rules_refuse_is_shown_with_the_guard_s_message(
    client: TestClient, system: EmbeddedSystem
) -> None:
    case_id = accepted_case(system)
    run(system, case_id, "assign", c.Assign(handler_id="handler"), "leader")
    sign_in(client, system, "leader")  # a leader may not propose a disposition

    response = client.post(
        f"/cases/{case_id}/propose_disposition",
        data={"csrf_token": csrf(client), "disposition": "park", "reason": "暂存"},
    )

    assert response.status_code == 409
    assert 'class="alert"' in response.text
    assert system.casework.get_case(case_id).state.value == "assigned"


def test_a_conclusion_form_asks_a_verdict_per_cadre_and_category(
    client: TestClient, system: EmbeddedSystem
) -> None:
    case_id = accepted_case(
        system, categories=[Category.SEEKING_OFFICE.value, Category.VOTE_BUYING.value]
    )
    run(system, case_id, "assign", c.Assign(handler_id="handler"), "leader")
    run(
        system,
        case_id,
        "propose_disposition",
        c.ProposeDisposition(disposition=Disposition.PRELIMINARY_VERIFICATION, reason="核实"),
        "handler",
    )
    run(
        system,
        case_id,
        "approve_disposition",
        c.ApproveDisposition(
            collective_study={"held_on": dt.date(2026, 3, 3), "participants": ["刘建华"]}
        ),
        "leader",
    )
    sign_in(client, system, "handler")
    too_soon = client.post(
        f"/cases/{case_id}/propose_conclusion",
        data={
            "csrf_token": csrf(client),
            "cadre_verdicts.0.seeking_office": "untrue",
            "cadre_verdicts.0.vote_buying": "untrue",
            "reason": "经核实",
        },
    )
    assert too_soon.status_code == 409
    assert "初步核实须至少记录一项核实情况" in too_soon.text  # the guard's own words
    run(
        system,
        case_id,
        "record_finding",
        c.RecordFinding(kind="document", summary="查阅档案", evidence_refs=["档案-1"]),
        "handler",
    )
    page = client.get(f"/cases/{case_id}").text
    assert 'name="cadre_verdicts.0.seeking_office"' in page
    assert 'name="cadre_verdicts.0.vote_buying"' in page
    assert 'name="verdicts.seeking_office"' not in page

    response = client.post(
        f"/cases/{case_id}/propose_conclusion",
        data={
            "csrf_token": csrf(client),
            "cadre_verdicts.0.seeking_office": "untrue",
            "cadre_verdicts.0.vote_buying": "partly_true",
            "reason": "经核实",
        },
        follow_redirects=False,
    )

    assert response.status_code == 303, response.text
    assert system.casework.get_case(case_id).state.value == "conclusion_proposed"


def test_a_handler_of_another_section_cannot_open_the_case(
    client: TestClient, system: EmbeddedSystem
) -> None:
    system.accounts.create_user(
        "outsider", PASSWORD, Role.HANDLER, "外科室", section="其他科", enforce_policy=False
    )
    case_id = accepted_case(system)
    run(system, case_id, "assign", c.Assign(handler_id="handler"), "leader")
    sign_in(client, system, "outsider")

    assert client.get(f"/cases/{case_id}").status_code == 403


# -- the catalog -------------------------------------------------------------------------------


def test_every_message_of_the_pages_has_its_chinese() -> None:
    root = Path(__file__).resolve().parents[2] / "services" / "web"
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    ids = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(
            root, method_map, options, keywords={"_": None, "N_": None}
        )
    }
    assert len(ids) > 100
    missing = sorted(ids - set(messages("zh-CN")))
    assert missing == []


@pytest.mark.parametrize(("forwarded", "secure"), [(None, False), ("https", True), ("http", False)])
def test_the_session_cookie_is_secure_whenever_the_site_is_served_over_https(
    client: TestClient, forwarded: str | None, secure: bool
) -> None:
    token = csrf(client)
    headers = {"X-Forwarded-Proto": forwarded} if forwarded else {}
    signed_in = client.post(
        "/login",
        data={"username": "operator", "password": PASSWORD, "csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )

    assert signed_in.status_code == 303
    (cookie,) = [c for c in signed_in.headers.get_list("set-cookie") if "jiandu_session=" in c]
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert ("; secure" in cookie.lower()) is secure
