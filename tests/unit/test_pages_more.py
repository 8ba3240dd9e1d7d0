"""The remaining pages (services/web/desks/: information, intake, liaison, audit, admin):
queues, cadre archives, integrity replies, unregistered names, the liaison figures, the audit
and administration; and the reporter-protection test of issue 5: every page and API response,
for every role, holds no part of a real-name reporter's identity (the audited reveal
excepted)."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from schemas import commands as c
from schemas.glossary import (
    Category,
    Disposition,
    DocumentKind,
    HandlingType,
    MemberUnit,
    Queue,
    ReportStatus,
    Role,
    Verdict,
)
from schemas.project_commands import OpenProject
from schemas.selection_commands import ProposeSelection, SelectionPerson
from schemas.submissions import ReportSubmission
from schemas.views import CadreRecord
from services.bootstrap import EmbeddedSystem
from tests.unit import pages_support as support
from tests.unit.conftest import (
    REPORTER_EMAIL,
    REPORTER_ID_NUMBER,
    REPORTER_NAME,
    REPORTER_PHONE,
    real_name_reporter,
)
from tests.unit.pages_support import PASSWORD, PEOPLE, actor, build_system, csrf, run, sign_in

CADRE = CadreRecord(cadre_id="C-001", name="王建国", unit="某县财政局", position="局长")
SUBJECT = {"name": "王建国", "unit": "某县财政局", "position": "局长", "cadre_id": "C-001"}
# Every datum of the real-name reporter, and the name without its prefix.
IDENTITY = (REPORTER_NAME, REPORTER_NAME[3:], REPORTER_PHONE, REPORTER_EMAIL, REPORTER_ID_NUMBER)


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_system(tmp_path, register=[CADRE])
    yield system
    system.stop()


@pytest.fixture
def app(system: EmbeddedSystem) -> FastAPI:
    return system.web_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def submit(system: EmbeddedSystem, **overrides: Any) -> UUID:
    return support.submit(system, SUBJECT, **overrides)


def accepted_case(system: EmbeddedSystem, **overrides: Any) -> tuple[UUID, UUID]:
    report_id = submit(system, **overrides)
    report = system.intake.triage(
        report_id, "accept", c.Accept(reason="属于受理范围"), actor("operator")
    )
    system.catch_up()
    assert report.case_id is not None
    return report_id, report.case_id


def concluded_case(system: EmbeddedSystem, verdict: Verdict, **overrides: Any) -> tuple[UUID, UUID]:
    """A case through assignment, verification and an approved conclusion."""
    report_id, case_id = accepted_case(system, **overrides)
    run(system, case_id, "assign", c.Assign(handler_id="handler"), "leader")
    run(
        system,
        case_id,
        "propose_disposition",
        c.ProposeDisposition(disposition=Disposition.PRELIMINARY_VERIFICATION, reason="需核实"),
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
        "record_finding",
        c.RecordFinding(kind="document", summary="查阅档案", evidence_refs=["档案-1"]),
        "handler",
    )
    run(
        system,
        case_id,
        "propose_conclusion",
        c.ProposeConclusion(verdicts={Category.SEEKING_OFFICE: verdict}, reason="经核实"),
        "handler",
    )
    run(system, case_id, "approve_conclusion", c.Command(reason="同意"), "leader")
    return report_id, case_id


# -- who may open which page ---------------------------------------------------------------------

OP, H, L, LI, AU, AD = "operator", "handler", "leader", "liaison", "auditor", "admin"
CL = "clerk"  # the selection clerk (decision 0034)
LIAISON_ROLES = (LI, L, AU, AD, OP)
PAGES: dict[str, tuple[tuple[str, ...], str]] = {
    "/queues": ((OP, H, L), "待办队列"),
    "/cadres": ((OP, H, L, AU), "干部监督档案"),
    "/cadres/C-001": ((OP, H, L, AU), "王建国"),
    "/cadres/candidates": ((OP, AU), "待确认的被反映人"),
    "/integrity": ((L, H, OP, AU), "廉政意见回复"),
    "/liaison": (LIAISON_ROLES, "联席会议"),
    "/liaison/referrals": (LIAISON_ROLES, "转办事项"),
    "/liaison/quarterly": (LIAISON_ROLES, "季度报告"),
    "/audit": ((AU, AD), "敏感信息查阅审计"),
    "/admin/users": ((AD,), "用户管理"),
    "/admin/config": ((AD,), "办理时限"),
    "/selections": ((CL, H, L, AU), "进行中的选拔任用工作"),
}


@pytest.mark.parametrize("path", PAGES)
def test_each_page_opens_in_chinese_for_its_roles_and_only_for_them(
    client: TestClient, system: EmbeddedSystem, path: str
) -> None:
    allowed, text = PAGES[path]
    for username in PEOPLE:
        sign_in(client, system, username)
        page = client.get(path)
        if username in allowed:
            assert page.status_code == 200, (username, page.text)
            assert text in page.text
            assert PEOPLE[username][1] in page.text
            assert page.headers["cache-control"] == "no-store"
        else:
            assert page.status_code == 403, (username, path)
            assert "您的角色无权访问此页面" in page.text


@pytest.mark.parametrize("path", PAGES)
def test_without_a_session_the_page_sends_you_to_sign_in(client: TestClient, path: str) -> None:
    page = client.get(path, follow_redirects=False)

    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(
    ("username", "start"),
    [
        ("liaison", "/liaison"),
        ("auditor", "/audit"),
        ("admin", "/admin/users"),
        ("clerk", "/selections"),
    ],
)
def test_each_role_starts_on_its_own_page(
    client: TestClient, system: EmbeddedSystem, username: str, start: str
) -> None:
    sign_in(client, system, username)

    assert client.get("/", follow_redirects=False).headers["location"] == start


# -- queues ------------------------------------------------------------------------------------


def test_the_queues_show_each_role_its_own_work_with_deadline_clocks(
    client: TestClient, system: EmbeddedSystem
) -> None:
    waiting = submit(system)
    _, mine = accepted_case(system, summary="另一件：反映王建国违规用人。")
    run(system, mine, "assign", c.Assign(handler_id="handler"), "leader")
    system.accounts.create_user(
        "other", PASSWORD, Role.HANDLER, "外科室", section="其他科", enforce_policy=False
    )
    _, theirs = accepted_case(system, summary="第三件。")
    run(system, theirs, "assign", c.Assign(handler_id="other"), "leader")
    run(
        system,
        mine,
        "propose_disposition",
        c.ProposeDisposition(disposition=Disposition.CLOSE, reason="笼统"),
        "handler",
    )
    waiting_number = system.intake.get_report(waiting).ledger_number
    mine_number = system.casework.get_case(mine).ledger_number
    theirs_number = system.casework.get_case(theirs).ledger_number

    sign_in(client, system, "operator")
    operator = client.get("/queues").text
    assert str(waiting_number) in operator
    for queue in ("待分流", "即将到期", "已逾期"):
        assert queue in operator

    sign_in(client, system, "handler")
    handler = client.get("/queues").text
    assert f'href="/cases/{mine}"' in handler
    assert str(theirs_number) not in handler  # another section's case
    assert "我承办的案件" in handler

    sign_in(client, system, "leader")
    leader = client.get("/queues").text
    assert str(mine_number) in leader
    assert "处置方式待审批" in leader


def test_the_inbox_and_my_cases_come_from_the_queue_read_models(
    client: TestClient, system: EmbeddedSystem
) -> None:
    report_id = submit(system)
    number = system.intake.get_report(report_id).ledger_number
    _, case_id = accepted_case(system, summary="另一件。")
    run(system, case_id, "assign", c.Assign(handler_id="handler"), "leader")
    sign_in(client, system, "operator")
    assert str(number) in client.get("/intake/inbox").text
    sign_in(client, system, "handler")

    page = client.get("/cases/mine").text

    assert f'href="/cases/{case_id}"' in page


# -- cadres and integrity replies ------------------------------------------------------------------


def test_the_archive_shows_reports_cases_and_handling_with_effect_periods(
    client: TestClient, system: EmbeddedSystem
) -> None:
    _, case_id = concluded_case(system, Verdict.TRUE)
    run(
        system,
        case_id,
        "decide_handling",
        c.DecideHandling(
            cadre=c.CadreRef(cadre_id="C-001"),
            handling=HandlingType.REASSIGNMENT,
            decided_on=dt.date(2026, 3, 10),
            reason="党委研究决定",
        ),
        "leader",
    )
    sign_in(client, system, "auditor")

    found = client.get("/cadres?q=财政").text
    assert 'href="/cadres/C-001"' in found
    page = client.get("/cadres/C-001").text

    assert system.casework.get_case(case_id).ledger_number in page
    assert "影响期" in page
    assert "不得提拔" in page
    assert "2027-03-10" in page  # 12 months from the decision
    assert 'href="/integrity?cadre_ids=C-001"' in page
    assert client.get("/cadres/NOPE-1").status_code == 404


def test_an_integrity_reply_per_cadre_with_its_word_export(
    client: TestClient, system: EmbeddedSystem
) -> None:
    system.read.register.upsert(
        [CadreRecord(cadre_id="C-002", name="李清白", unit="某县教育局", position="局长")]
    )
    concluded_case(system, Verdict.TRUE)
    sign_in(client, system, "leader")
    form = client.get("/integrity?q=李清").text
    assert 'value="C-002"' in form

    page = client.get("/integrity?cadre_ids=C-001&cadre_ids=C-002&as_of=2026-04-01&purpose=拟提拔")

    assert page.status_code == 200, page.text
    assert "王建国" in page.text
    assert "李清白" in page.text
    assert "拟提拔" in page.text
    assert "2026-04-01" in page.text
    match = re.search(r'href="(/integrity\.docx\?[^"]+)"', page.text)
    assert match
    word = client.get(match.group(1).replace("&amp;", "&"))
    assert word.status_code == 200
    assert word.headers["content-type"].startswith("application/vnd.openxmlformats")
    text = docx_text(word.content)
    assert "李清白" in text
    assert "王建国" in text

    linked = client.get("/integrity?cadre_ids=C-001,C-002&as_of=2026-04-01")  # a list in a link
    assert linked.status_code == 200
    assert "王建国" in linked.text
    assert "李清白" in linked.text

    unknown = client.get("/integrity?ids=C-001,NOPE-9")
    assert unknown.status_code == 422
    assert "NOPE-9" in unknown.text
    bad_date = client.get("/integrity?ids=C-001&as_of=2026-13-01")
    assert bad_date.status_code == 422
    assert "不是日期" in bad_date.text


def docx_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as docx:
        return "".join(docx.read(n).decode("utf-8", "replace") for n in docx.namelist())


def test_an_operator_confirms_a_candidate_and_merges_another(
    client: TestClient, system: EmbeddedSystem
) -> None:
    system.read.register.upsert(
        [CadreRecord(cadre_id="C-003", name="赵大勇", unit="某县水利局", position="局长")]
    )
    first = submit(system, subjects=[{"name": "赵大勇", "unit": "县水利局"}])
    second = submit(system, subjects=[{"name": "孙某", "unit": "县水利局"}])
    third = submit(system, subjects=[{"name": "孙某某", "unit": "县水利局"}])
    sign_in(client, system, "auditor")
    assert "赵大勇" in client.get("/cadres/candidates").text
    assert 'action="/cadres/candidates/identify"' not in client.get("/cadres/candidates").text
    sign_in(client, system, "operator")
    page = client.get("/cadres/candidates").text
    assert "赵大勇" in page
    assert "C-003" in page  # the suggestion
    keys = {k.split("|")[0]: k for k in re.findall(r'name="candidate_key" value="([^"]+)"', page)}
    assert set(keys) == {"赵大勇", "孙某", "孙某某"}

    no_csrf = client.post(
        "/cadres/candidates/identify", data={"candidate_key": keys["赵大勇"], "cadre_id": "C-003"}
    )
    assert no_csrf.status_code == 403
    unknown = client.post(
        "/cadres/candidates/identify",
        data={"csrf_token": csrf(client), "candidate_key": keys["赵大勇"], "cadre_id": "C-999"},
    )
    assert unknown.status_code == 422
    assert "C-999" in unknown.text
    confirmed = client.post(
        "/cadres/candidates/identify",
        data={"csrf_token": csrf(client), "candidate_key": keys["赵大勇"], "cadre_id": "C-003"},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303, confirmed.text
    system.catch_up()
    assert system.intake.get_report(first).version > 2
    archive = client.get("/cadres/C-003").text
    assert str(system.intake.get_report(first).ledger_number) in archive

    page = client.get("/cadres/candidates").text
    assert "赵大勇" not in page
    sun_key, sunsun_key = keys["孙某"], keys["孙某某"]
    merged = client.post(
        "/cadres/candidates/identify",
        data={
            "csrf_token": csrf(client),
            "candidate_key": sunsun_key,
            "same_as_candidate": sun_key,
            "reason": "同一人",
        },
        follow_redirects=False,
    )
    assert merged.status_code == 303, merged.text
    system.catch_up()
    [group] = [v for v in system_candidates(system) if "孙某" in v.name]
    assert group.report_count == 2
    assert {r["report_id"] for r in group.report_refs} == {str(second), str(third)}


def system_candidates(system: EmbeddedSystem) -> list[Any]:
    from services.projections.archive.queries import ArchiveQueries

    return ArchiveQueries(system.read.store, system.read.register).candidates()


# -- the liaison pages --------------------------------------------------------------------------


def test_a_liaison_member_sees_the_figures_with_charts_and_their_unit_s_referrals(
    client: TestClient, system: EmbeddedSystem
) -> None:
    referred = submit(system, summary="反映王建国违纪，转纪委。")
    system.intake.triage(
        referred,
        "refer_out",
        c.ReferOut(member_unit=MemberUnit.DISCIPLINE_COMMISSION, reason="属纪委职责"),
        actor("operator"),
    )
    other = submit(system, summary="转其他单位。")
    other_unit = MemberUnit.AUDIT_BUREAU
    system.intake.triage(
        other, "refer_out", c.ReferOut(member_unit=other_unit, reason="转办"), actor("operator")
    )
    system.catch_up()
    sign_in(client, system, "liaison")

    page = client.get("/liaison")
    assert page.status_code == 200
    charts = re.findall(r'<img src="(/liaison/charts/[^"]+)"', page.text)
    assert len(charts) == 6
    svg = client.get(charts[0].replace("&amp;", "&"))
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in svg.text
    assert client.get("/liaison/charts/nothing.svg").status_code == 404
    assert client.get("/liaison?from=2026-99-01").status_code == 422

    referrals = client.get("/liaison/referrals").text
    assert MemberUnit.DISCIPLINE_COMMISSION.zh in referrals
    assert other_unit.zh not in referrals  # another unit's referral
    assert client.get(f"/liaison/referrals?unit={other_unit.value}").text.count(other_unit.zh) == 0

    quarterly = client.get("/liaison/quarterly?year=2026&quarter=1")
    assert quarterly.status_code == 200
    assert "2025-Q4" in quarterly.text
    word = client.get("/liaison/quarterly.docx?year=2026&quarter=1")
    assert word.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert client.get("/liaison/quarterly?year=2026&quarter=7").status_code == 422


def test_a_liaison_member_without_a_unit_is_told_so(
    client: TestClient, system: EmbeddedSystem
) -> None:
    system.accounts.create_user("nounit", PASSWORD, Role.LIAISON, "无单位", enforce_policy=False)
    sign_in(client, system, "nounit")

    page = client.get("/liaison/referrals")

    assert page.status_code == 403
    assert "未设置联席会议成员单位" in page.text


# -- the audit ------------------------------------------------------------------------------------


def test_the_auditor_searches_the_reads_and_verifies_the_record(
    client: TestClient, system: EmbeddedSystem
) -> None:
    report_id = submit(system, reporter=real_name_reporter())
    sign_in(client, system, "operator")
    shown = client.post(
        f"/reports/{report_id}/identity",
        data={"csrf_token": csrf(client), "reason": "电话核实举报人身份"},
    )
    assert REPORTER_NAME in shown.text
    accepted_case(system, summary="另一件。")
    sign_in(client, system, "auditor")

    page = client.get("/audit").text
    assert "电话核实举报人身份" in page
    assert "王丽" in page
    assert REPORTER_NAME not in page
    assert "电话核实举报人身份" not in client.get("/audit?user=handler").text
    assert "电话核实举报人身份" not in client.get("/audit?since=2000-01-01&until=2000-01-02").text
    assert client.get("/audit?since=yesterday").status_code == 422

    verified = client.post("/audit/verify", data={"csrf_token": csrf(client)})
    assert verified.status_code == 200
    assert "共核验 1 项记录（案件、选拔任用、立项督查）：全部哈希链完整。" in verified.text
    assert client.post("/audit/verify", data={}).status_code == 403


def test_the_verification_names_the_first_broken_link(
    client: TestClient, system: EmbeddedSystem
) -> None:
    _, case_id = accepted_case(system)
    run(system, case_id, "assign", c.Assign(handler_id="handler"), "leader")
    db = Path(system.settings.data_dir)
    tampered = _tamper_one_casework_event(db)
    assert tampered
    sign_in(client, system, "auditor")

    verified = client.post("/audit/verify", data={"csrf_token": csrf(client)})

    assert "共核验 1 项记录，其中 1 项的哈希链断裂。" in verified.text
    assert str(case_id) in verified.text


def _tamper_one_casework_event(data_dir: Path) -> bool:
    """Change a stored casework event's body (as someone with database access might)."""
    import sqlite3

    for path in sorted(data_dir.rglob("*.sqlite*")):
        if "casework" not in path.name or path.suffix != ".sqlite":
            continue
        with sqlite3.connect(path) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
                if "state" in columns and "originator_version" in columns:
                    row = db.execute(
                        f"SELECT rowid, state FROM {table} WHERE originator_version = 2 "
                        "AND topic LIKE '%:Case.%'"  # the case's assignment, not an index's event
                    ).fetchone()
                    if row is None:
                        continue
                    body = bytes(row[1]).replace(b"handler", b"handlex")
                    db.execute(f"UPDATE {table} SET state = ? WHERE rowid = ?", (body, row[0]))
                    return True
    return False


# -- administration ---------------------------------------------------------------------------------


def test_an_administrator_manages_accounts_through_the_forms(
    client: TestClient, system: EmbeddedSystem
) -> None:
    sign_in(client, system, "admin")
    weak = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf(client),
            "username": "newbie",
            "password": "short",
            "role": "handler",
        },
    )
    assert weak.status_code == 422
    assert "密码强度不足" in weak.text
    assert 'value="newbie"' in weak.text  # the form keeps what was typed (not the password)
    assert "newbie" not in {a.username for a in system.accounts.list_users()}

    created = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf(client),
            "username": "newbie",
            "display_name": "新同事",
            "password": "a-long-enough-pass",
            "role": "handler",
            "section": "干部监督科",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    assert system.accounts.get_user("newbie").section == "干部监督科"
    taken = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf(client),
            "username": "newbie",
            "password": "a-long-enough-pass",
            "role": "handler",
        },
    )
    assert "该用户名已存在" in taken.text

    client.post("/admin/users/newbie/role", data={"csrf_token": csrf(client), "role": "leader"})
    assert system.accounts.get_user("newbie").role is Role.LEADER
    client.post("/admin/users/newbie/active", data={"csrf_token": csrf(client), "active": "0"})
    assert not system.accounts.get_user("newbie").active
    client.post("/admin/users/newbie/active", data={"csrf_token": csrf(client), "active": "1"})
    assert system.accounts.get_user("newbie").active
    client.post(
        "/admin/users/newbie/password",
        data={"csrf_token": csrf(client), "password": "another-long-pass"},
    )
    assert system.accounts.authenticate("newbie", "another-long-pass", "test").username == "newbie"
    last = client.post(
        "/admin/users/admin/active", data={"csrf_token": csrf(client), "active": "0"}
    )
    assert last.status_code == 422
    assert "至少须保留一名启用的系统管理员" in last.text
    assert system.accounts.get_user("admin").active
    assert (
        client.post(
            "/admin/users/nobody/role", data={"csrf_token": csrf(client), "role": "leader"}
        ).status_code
        == 404
    )


def test_an_administrator_edits_the_configuration_tables_with_validation(
    client: TestClient, system: EmbeddedSystem
) -> None:
    sign_in(client, system, "admin")
    page = client.get("/admin/config").text
    values = dict(re.findall(r'id="limit-(\w+)" name="\w+" value="(\d+)"', page))
    assert values["acceptance_notice"] == "15"

    bad = client.post(
        "/admin/config/time_limits",
        data={"csrf_token": csrf(client)}
        | values
        | {"acceptance_notice": "0", "inquiry_reply": "x"},
    )
    assert bad.status_code == 422
    assert "须大于 0" in bad.text
    assert "请输入整数" in bad.text or "Enter a whole number" in bad.text
    assert system.config.limits().acceptance_notice == 15

    good = client.post(
        "/admin/config/time_limits",
        data={"csrf_token": csrf(client)} | values | {"acceptance_notice": "20"},
        follow_redirects=False,
    )
    assert good.status_code == 303, good.text
    system.config.invalidate()
    assert system.config.limits().acceptance_notice == 20

    effects = client.post(
        "/admin/config/handling_effects",
        data={"csrf_token": csrf(client), "reassignment.bars_promotion_months": "500"},
    )
    assert effects.status_code == 422
    assert "不得大于 120" in effects.text

    # Only the valid change is on the record, with who made it and what it changed.
    (change,) = system.config.changes()
    assert (change.changed_by, change.what) == ("admin", "time_limits")
    assert change.differences() == [
        f"{key}: — → {value}" for key, value in sorted(system.config.limits().model_dump().items())
    ]
    sign_in(client, system, "auditor")
    history = client.get("/audit/changes").text
    assert "配置表变更记录" in history
    assert "acceptance_notice: — → 20" in history


# -- the reporter's identity appears nowhere ---------------------------------------------------------


@dataclass
class History:
    report_id: UUID
    case_id: UUID
    query_code: str
    password: str
    selection_id: UUID
    project_id: UUID


def identity_history(system: EmbeddedSystem) -> History:
    """A real-name report taken through the whole procedure to feedback, its identity read
    once through the audited action, plus a referral and an unregistered name."""
    receipt = system.intake.submit(
        ReportSubmission.model_validate(
            {
                "channel": "mailbox",
                "reporter": real_name_reporter(),
                "subjects": [SUBJECT],
                "categories": ["seeking_office"],
                "summary": "反映王建国在干部调整前多次找领导要求提拔。",
            }
        )
    )
    system.catch_up()
    report_id = UUID(receipt.report_id)
    report = system.intake.triage(report_id, "accept", c.Accept(reason="受理"), actor("operator"))
    case_id = report.case_id
    assert case_id is not None
    system.catch_up()
    run(system, case_id, "assign", c.Assign(handler_id="handler"), "leader")
    run(
        system,
        case_id,
        "propose_disposition",
        c.ProposeDisposition(disposition=Disposition.PRELIMINARY_VERIFICATION, reason="需核实"),
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
        "record_finding",
        c.RecordFinding(kind="interview", summary="个别谈话", evidence_refs=["谈话记录-1"]),
        "handler",
    )
    run(
        system,
        case_id,
        "propose_conclusion",
        c.ProposeConclusion(verdicts={Category.SEEKING_OFFICE: Verdict.TRUE}, reason="属实"),
        "handler",
    )
    run(system, case_id, "approve_conclusion", c.Command(reason="同意"), "leader")
    run(
        system,
        case_id,
        "decide_handling",
        c.DecideHandling(
            cadre=c.CadreRef(cadre_id="C-001"), handling=HandlingType.REASSIGNMENT, reason="决定"
        ),
        "leader",
    )
    run(system, case_id, "close", c.Close(reason="办结"), "leader")
    run(
        system,
        case_id,
        "give_feedback",
        c.GiveFeedback(method="phone", text="经核实，反映问题属实，已作处理。"),
        "handler",
    )
    referred = submit(system, subjects=[{"name": "钱某", "unit": "县林业局"}])
    system.intake.triage(
        referred,
        "refer_out",
        c.ReferOut(member_unit=MemberUnit.DISCIPLINE_COMMISSION, reason="转纪委"),
        actor("operator"),
    )
    system.catch_up()
    assert system.intake.get_report(report_id).status is ReportStatus.ACCEPTED
    selection_id = system.casework.propose_selection(
        ProposeSelection(
            unit="某县财政局", posts=["副局长"], proposers=[SelectionPerson(name="张部长")]
        ),
        {"id": "leader", "role": "leader"},
    )
    project_id = system.casework.open_project(
        OpenProject(
            selection_id=selection_id,
            basis=[case_id],
            irregularities=[Category.SEEKING_OFFICE],
            clues="反映拟任人选跑官要官，线索具体",
        ),
        {"id": "leader", "role": "leader"},
    )
    return History(
        report_id, case_id, receipt.query_code, receipt.password, selection_id, project_id
    )


def all_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route, whether FastAPI keeps included routers flat or nested."""
    found: list[tuple[str, str]] = []

    def add(route: Any) -> None:
        path = getattr(route, "path", None)
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD" and path is not None:
                found.append((method, path))

    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for context in contexts():
                add(context)
        elif isinstance(route, APIRoute | Route):
            add(route)
    return sorted(set(found))


def fills(history: History) -> dict[str, list[str]]:
    return {
        "report_id": [str(history.report_id)],
        "case_id": [str(history.case_id)],
        "selection_id": [str(history.selection_id)],
        "project_id": [str(history.project_id)],
        "cadre_id": [CADRE.cadre_id],
        "query_code": [history.query_code],
        "queue": [q.value for q in Queue],
        "name": ["category", "channel", "unit", "level", "outcome", "month", "referrals"],
        # official documents (decision 0035): the kinds' templates; the story issues none
        "kind": [k.value for k in DocumentKind],
        "ref": ["none"],
        "document_id": ["none"],
    }


# Query strings that make a page show its content rather than its empty form.
QUERIES = {
    "/cadres": "q=王",
    "/intake/cadres": "q=王",
    "/api/v1/cadres": "q=王",
    "/integrity": "cadre_ids=C-001&purpose=拟提拔",
    "/integrity.docx": "ids=C-001",
    "/api/v1/integrity-replies.docx": "cadre_ids=C-001",
    "/liaison/quarterly": "year=2026&quarter=1",
    "/api/v1/liaison/quarterly-report": "year=2026&quarter=1&format=html",
}


def fill(path: str, known: dict[str, list[str]]) -> list[str]:
    """Every URL of a route path with its parameters filled with the history's real ids;
    a parameter without a known fill fails the test, so a new page cannot go unchecked."""
    names = re.findall(r"{(\w+)(?::\w+)?}", path)
    urls = [path]
    for name in names:
        if name not in known:
            pytest.fail(f"no fill for {{{name}}} in {path}: add one to fills()")
        urls = [
            re.sub(r"{" + name + r"(?::\w+)?}", value, url) for url in urls for value in known[name]
        ]
    query = QUERIES.get(path)
    return [f"{u}?{query}" if query else u for u in urls]


def test_a_route_without_a_known_fill_fails_the_identity_test() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"no fill for \{unknown\}"):
        fill("/new-page/{unknown}", {"report_id": ["x"]})


def body_text(response: Any) -> str:
    kind = response.headers.get("content-type", "")
    if "openxmlformats" in kind:
        return docx_text(response.content)
    return response.content.decode("utf-8", "replace")


LINK = re.compile(r'(?:href|src)="(/[^"#]*)')


def test_no_page_or_api_response_shows_the_reporter_s_identity_to_any_role(
    app: FastAPI, system: EmbeddedSystem, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    history = identity_history(system)
    known = fills(history)
    gets = [path for method, path in all_routes(app) if method == "GET"]
    assert {"/cases/{case_id}", "/reports/{report_id}", "/liaison", "/audit"} <= set(gets)
    # The reveal works (so the data is there to find) and is the one exception.
    with TestClient(app) as operator:
        sign_in(operator, system, "operator")
        shown = operator.post(
            f"/reports/{history.report_id}/identity",
            data={"csrf_token": csrf(operator), "reason": "回访前核实身份"},
        )
        assert all(datum in shown.text for datum in (REPORTER_NAME, REPORTER_PHONE))

    checked = 0
    for who in [*PEOPLE, None]:
        with TestClient(app) as client:
            headers = {}
            if who is not None:
                sign_in(client, system, who)
                token = system.accounts.issue_token(system.accounts.principal(who))
                headers = {"Authorization": f"Bearer {token}"}
            queue = [url for path in gets for url in fill(path, known)]
            seen: set[str] = set()
            while queue:
                url = queue.pop()
                if url in seen or urlsplit(url).path in ("/logout",):
                    continue
                seen.add(url)
                response = client.get(url, headers=headers, follow_redirects=False)
                text = body_text(response)
                for datum in IDENTITY:
                    assert datum not in text, (who, url, response.status_code, datum)
                    assert datum not in str(response.headers), (who, url, datum)
                checked += 1
                if response.headers.get("content-type", "").startswith("text/html"):
                    queue += [
                        link.replace("&amp;", "&")
                        for link in LINK.findall(text)
                        if not link.startswith("/static/")
                    ]
            # the case page itself was read by the roles that may (not only refused)
            if who in ("operator", "handler", "leader", "auditor"):
                assert client.get(f"/cases/{history.case_id}").status_code == 200
    assert checked > 7 * len(gets)
    for record in caplog.records:
        message = record.getMessage()
        for datum in IDENTITY:
            assert datum not in message, message


def test_the_auditor_searches_who_changed_what(client: TestClient, system: EmbeddedSystem) -> None:
    _, case_id = accepted_case(system)
    run(system, case_id, "assign", c.Assign(handler_id="handler", reason="按分工交办"), "leader")
    system.catch_up()
    sign_in(client, system, "auditor")

    everything = client.get("/audit/changes")
    by_leader = client.get("/audit/changes?actor=leader&step=HandlerAssigned")
    by_handler = client.get("/audit/changes?actor=handler")
    long_ago = client.get("/audit/changes?since=2000-01-01&until=2000-01-02")

    assert everything.status_code == 200
    assert "全程记录变更查询" in everything.text
    assert "按分工交办" in everything.text
    assert "受理" in everything.text
    assert "按分工交办" in by_leader.text
    assert f'href="/cases/{case_id}"' in by_leader.text
    assert "按分工交办" not in by_handler.text
    assert "按分工交办" not in long_ago.text
    assert client.get("/audit/changes?since=someday").status_code == 422
    sign_in(client, system, "handler")
    assert client.get("/audit/changes").status_code == 403


def test_who_changed_what_over_the_api(system: EmbeddedSystem) -> None:
    _, case_id = accepted_case(system)
    run(system, case_id, "assign", c.Assign(handler_id="handler", reason="按分工交办"), "leader")
    system.catch_up()
    system.accounts.create_user("auditor2", PASSWORD, Role.AUDITOR, "审计员", enforce_policy=False)
    token = system.accounts.issue_token(system.accounts.principal("auditor2"))
    with TestClient(system.web_app()) as api:
        headers = {"Authorization": f"Bearer {token}"}
        changes = api.get("/api/v1/audit/changes?actor=leader", headers=headers).json()
        wrong_step = api.get("/api/v1/audit/changes?step=Nothing", headers=headers)
        backwards = api.get("/api/v1/audit/changes?from=2026-02-01&to=2026-01-01", headers=headers)

    assert [(x["step"], x["reason"], x["subject_id"]) for x in changes] == [
        ("HandlerAssigned", "按分工交办", str(case_id))
    ]
    assert wrong_step.status_code == 422
    assert "no step 'Nothing'" in wrong_step.text
    assert backwards.status_code == 422
    assert "starts (2026-02-01) after it ends" in backwards.text


def test_recorded_moments_are_shown_in_beijing_time() -> None:
    from services.web.shell import local_time

    assert local_time("2026-11-30T16:30:05+00:00") == "2026-12-01 00:30"
    assert local_time(dt.datetime(2026, 11, 30, 16, 30, 5), seconds=True) == "2026-12-01 00:30:05"
    assert local_time(None) == ""


def test_every_time_limit_has_its_label_on_the_configuration_page() -> None:
    from services.calendar.deadlines import TimeLimits
    from services.web.desks.admin import LIMIT_LABELS

    assert set(LIMIT_LABELS) == set(TimeLimits.model_fields)
