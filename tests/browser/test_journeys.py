"""The main journeys in a real browser: a hotline call through to feedback, the reporter's
follow-up by query code, and a role boundary."""

from __future__ import annotations

import re
import time
import zipfile
from typing import Any

from tests.browser.conftest import PASSWORD, SCREENSHOTS, Running

REPORTER = "司马青云"
REPORTER_PHONE = "13912345678"


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(browser: Any, server: Running, username: str) -> Any:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{server.url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()
    return page


def open_until(page: Any, url: str, text: str, seconds: float = 10) -> None:
    """Open ``url`` until it shows ``text`` (the read models follow within moments)."""
    deadline = time.monotonic() + seconds
    while True:
        page.goto(url)
        if text in page.content():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} never showed {text!r}")
        time.sleep(0.2)


def do(page: Any, action: str, fill: dict[str, str] | None = None, select: Any = None) -> None:
    """Open an action's form on the page, fill it and submit it."""
    form = f"#form-{action}"
    if page.get_attribute(form, "open") is None:
        page.click(f"{form} > summary")
    for field, value in (fill or {}).items():
        page.fill(f"#{action}-{field}", value)
    for field, value in (select or {}).items():
        page.select_option(f"#{action}-{field}", value)
    page.click(f"{form} button[type=submit]")
    page.wait_for_load_state()


def test_a_hotline_call_through_to_feedback(browser: Any, server: Running) -> None:
    # The operator records a call from a real-name caller, with the cadre from the register.
    operator = sign_in(browser, server, "operator")
    assert "王丽" in operator.content()
    operator.goto(f"{server.url}/intake/new")
    assert operator.evaluate("document.activeElement.id") == "channel"
    assert operator.input_value("#channel") == "hotline"
    operator.check("input[name=reporter_kind][value=real_name]")
    operator.fill("#reporter_name", REPORTER)
    operator.fill("#reporter_phone", REPORTER_PHONE)
    operator.fill("#cadre-q", "交通")
    operator.click("#cadre-results button")
    assert operator.input_value("#subject-0-name") == "欧阳建国"
    assert operator.input_value("#subject-0-cadre_id") == "QS-001"
    operator.check("input[name=categories][value=seeking_office]")
    operator.fill("#summary", "来电反映欧阳建国在干部调整前多次找领导要求提拔。")
    shot(operator, "01-hotline-form")
    operator.click("form.report-form button[type=submit]")
    operator.wait_for_load_state()
    assert "已登记" in operator.content()
    assert REPORTER not in operator.content()
    ledger_number = re.search(r"JB-\d{4}-\d{6}", operator.content())
    assert ledger_number
    report_url = operator.url.split("?")[0]

    # The identity: only behind the recorded action.
    operator.fill("#identity-reason", "电话回访前核实举报人身份")
    operator.click(".identity button[type=submit]")
    operator.wait_for_load_state()
    assert REPORTER in operator.content()
    shot(operator, "02-identity-revealed")
    operator.goto(report_url)
    assert REPORTER not in operator.content()

    do(operator, "accept", fill={"reason": "属于12380受理范围"})
    assert "已受理" in operator.content()
    shot(operator, "03-report-accepted")
    case_link = operator.get_attribute("a[href^='/cases/']", "href")
    assert case_link
    case_url = f"{server.url}{case_link}"

    # The leader assigns it to a handler.
    leader = sign_in(browser, server, "leader")
    open_until(leader, f"{server.url}/approvals", ledger_number.group(0))
    leader.select_option(f"#assign-{case_link.split('/')[-1]}", "handler")
    leader.click(f"form[action='{case_link}/assign'] button[type=submit]")
    leader.wait_for_load_state()
    assert "已完成" in leader.content()

    # The handler proposes a preliminary verification.
    handler = sign_in(browser, server, "handler")
    open_until(handler, f"{server.url}/cases/mine", ledger_number.group(0))
    shot(handler, "04-my-cases")
    handler.goto(case_url)
    do(
        handler,
        "propose_disposition",
        fill={"reason": "反映具体，需初步核实"},
        select={"disposition": "preliminary_verification"},
    )
    assert "处置方式待审批" in handler.content()

    # The leader approves it after the collective study.
    open_until(leader, f"{server.url}/approvals", "批准处置方式")
    do(
        leader,
        "approve_disposition",
        fill={
            "collective_study-held_on": "2026-03-03",
            "collective_study-participants": "刘建华\n张强",
        },
    )
    assert "已完成" in leader.content()

    # The handler records a finding with its evidence and proposes the conclusion.
    handler.goto(case_url)
    assert "初步核实中" in handler.content()
    do(
        handler,
        "record_finding",
        fill={"summary": "调阅干部档案并个别谈话", "evidence_refs": "谈话记录-001\n档案摘录-002"},
        select={"kind": "interview"},
    )
    do(
        handler,
        "propose_conclusion",
        fill={"reason": "经核实，反映问题不属实"},
        select={"cadre_verdicts-0-seeking_office": "untrue"},
    )
    assert "核查结论待审批" in handler.content()

    # The leader approves the conclusion and closes the case.
    open_until(leader, f"{server.url}/approvals", "批准核查结论")
    do(leader, "approve_conclusion", fill={"reason": "同意"})
    leader.goto(case_url)
    do(leader, "close", fill={"reason": "核查完毕，予以办结"})
    assert "已办结" in leader.content()

    # The handler gives the real-name reporter feedback; the timeline shows every step.
    handler.goto(case_url)
    do(
        handler,
        "give_feedback",
        fill={"text": "经核实，您反映的问题不属实。感谢您的监督。"},
        select={"method": "phone"},
    )
    open_until(handler, case_url, "向举报人反馈")
    page = handler.content()
    for step in ("受理", "分办承办人", "集体研究并批准处置方式", "记录核实情况", "办结"):
        assert step in page
    assert "谈话记录-001" in page
    assert REPORTER not in page
    shot(handler, "05-case-closed-timeline")


def test_the_reporter_follows_up_by_query_code(browser: Any, server: Running) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{server.url}/mailbox")
    page.fill("#subject-0-name", "欧阳红")
    page.fill("#subject-0-unit", "青山县教育局")
    page.check("input[name=categories][value=vote_buying]")
    page.fill("#summary", "换届前有人为欧阳红拉票。")
    page.click("form.report-form button[type=submit]")
    page.wait_for_load_state()
    shot(page, "06-mailbox-receipt")
    code = page.inner_text("#query-code").strip()
    password = page.inner_text("#query-password").strip()
    assert "只显示这一次" in page.content()

    page.goto(f"{server.url}/follow-up")
    page.fill("#query_code", code)
    page.fill("#fu-password", password)
    page.click("form button[type=submit].primary")
    page.wait_for_load_state()
    assert "follow-up" in page.url
    assert password not in page.url
    assert "已登记待分流" in page.inner_text("#follow-up-result")
    shot(page, "07-follow-up")


def test_a_liaison_member_cannot_open_a_case_page(browser: Any, server: Running) -> None:
    case_ids = server.system.read.store.query(
        "SELECT subject_id FROM timeline_steps WHERE step = %s", ("CaseOpened",)
    )
    assert case_ids, "the server fixture opens a case"
    liaison = sign_in(browser, server, "liaison")

    response = liaison.goto(f"{server.url}/cases/{case_ids[0]['subject_id']}")

    assert response is not None
    assert response.status == 403
    assert "您的角色无权访问此页面" in liaison.content()
    assert "承办人" in liaison.content()
    shot(liaison, "08-liaison-forbidden")


def test_a_liaison_member_reads_the_figures_with_charts(browser: Any, server: Running) -> None:
    liaison = sign_in(browser, server, "liaison")
    assert liaison.url.endswith("/liaison")
    assert "联席会议" in liaison.content()

    charts = liaison.locator(".charts img")
    assert charts.count() == 6
    for i in range(charts.count()):
        charts.nth(i).scroll_into_view_if_needed()
        # every chart loaded as an image (an SVG the page's session may read)
        assert liaison.evaluate(
            "(img) => img.complete && img.naturalWidth > 0", charts.nth(i).element_handle()
        )
    assert int(liaison.inner_text("#total-reports")) >= 1
    shot(liaison, "09-liaison-figures")

    liaison.click("nav.main-nav a[href='/liaison/referrals']")
    liaison.wait_for_load_state()
    assert "转办事项" in liaison.content()
    forbidden = liaison.goto(f"{server.url}/cadres")
    assert forbidden is not None
    assert forbidden.status == 403


def test_a_leader_produces_an_integrity_reply_and_exports_it(browser: Any, server: Running) -> None:
    leader = sign_in(browser, server, "leader")
    leader.goto(f"{server.url}/integrity")
    leader.fill("#integrity-q", "欧阳")
    leader.click("button[name=search]")
    leader.wait_for_load_state()
    leader.check("input[name=cadre_ids][value='QS-001']")
    leader.check("input[name=cadre_ids][value='QS-002']")
    leader.fill("#integrity-as-of", "2026-06-30")
    leader.fill("#integrity-purpose", "拟提拔")
    leader.click("button[name=produce]")
    leader.wait_for_load_state()
    page = leader.inner_text("#reply")
    assert "欧阳建国" in page
    assert "欧阳红" in page
    assert "拟提拔" in page
    assert REPORTER not in leader.content()
    shot(leader, "10-integrity-reply")

    with leader.expect_download() as download_info:
        leader.click("#export-docx")
    download = download_info.value
    assert download.suggested_filename.endswith(".docx")
    path = download.path()
    assert path is not None
    with zipfile.ZipFile(path) as docx:
        text = docx.read("word/document.xml").decode("utf-8")
    assert "欧阳建国" in text
    assert "欧阳红" in text
