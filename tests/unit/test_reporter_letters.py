"""The letters to a real-name reporter (decision 0037): the 受理告知书 and the 反馈意见书 are
the report's (intake's) documents, numbered in intake's own register, recorded without their
addressee; each download fills the name and address in from the vault through the audited
reveal — allowed to whom may see the reporter, recorded with its reason and the letter's
number, refused (and recorded) for everyone else. No identity in any event or answer.
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

from schemas.glossary import DocumentKind, Role
from schemas.views_cases import ReporterFeedback
from services.bootstrap import EmbeddedSystem
from services.common.documents import DOCX_MEDIA_TYPE, fields_of
from services.common.registers import DocumentRegister
from services.intake.domain.letters import LETTER_RULES, feedback_steps
from tests.support.auth import bearer
from tests.unit.conftest import (
    REPORTER_EMAIL,
    REPORTER_ID_NUMBER,
    REPORTER_NAME,
    REPORTER_PHONE,
    TODAY,
    all_envelopes,
    build_embedded,
    make_settings,
    real_name_reporter,
    stand_in_handlers,
)
from tests.unit.pages_support import build_system, csrf, sign_in

K = DocumentKind
SECTION = "干部监督一科"
ADDRESS = "某县人民路12号"
IDENTITY = (REPORTER_NAME, REPORTER_PHONE, REPORTER_EMAIL, REPORTER_ID_NUMBER, ADDRESS)
REASON = {"reason": "寄送受理告知书"}
ACCEPTANCE = {"kind": "acceptance_letter", "about": "acceptance"}
FEEDBACK_TEXT = "经核查，反映问题不属实。感谢你的监督。"


def text_of(content: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)


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
    }


class Story:
    def __init__(self, system: EmbeddedSystem, client: TestClient) -> None:
        self.system, self.client, self.t = system, client, tokens(system)

    def call(self, who: str, path: str, expect: int = 200, **body: Any) -> Any:
        response = self.client.post(path, json=body, headers=self.t[who])
        assert response.status_code == expect, f"{path}: {response.text}"
        return response.json()

    def report(self, *, anonymous: bool = False) -> str:
        reporter = (
            {"anonymous": True} if anonymous else {**real_name_reporter(), "address": ADDRESS}
        )
        receipt = self.call(
            "operator",
            "/api/v1/reports",
            201,
            channel="hotline",
            reporter=reporter,
            subjects=[{"name": "王建国", "unit": "某县财政局", "position": "局长"}],
            categories=["seeking_office", "vote_buying"],
            summary="反映王建国在干部调整前多次找领导要求提拔。",
            received_on="2026-02-02",
        )
        return str(receipt["report_id"])

    def accept(self, report_id: str) -> str:
        """Accepted into a new case on 2026-02-04; the case's id."""
        accepted = self.call(
            "operator", f"/api/v1/reports/{report_id}/accept", accepted_on="2026-02-04"
        )
        return str(accepted["case_id"])

    def through_feedback(self, report_id: str) -> str:
        """Accepted, its case concluded (untrue), closed and the feedback given."""
        case_id = self.accept(report_id)
        self.system.catch_up()
        case = f"/api/v1/cases/{case_id}"
        self.call("leader", f"{case}/assign", handler_id="handler-1")
        self.call(
            "handler",
            f"{case}/propose_disposition",
            disposition="preliminary_verification",
            reason="线索具体",
        )
        study = {"held_on": "2026-02-10", "participants": ["李科长", "王副科长"]}
        self.call("leader", f"{case}/approve_disposition", collective_study=study)
        self.call(
            "handler",
            f"{case}/record_finding",
            kind="interview",
            summary="与该局5名干部个别谈话",
            evidence_refs=["谈话笔录-01"],
            found_on="2026-02-24",
        )
        self.call(
            "handler",
            f"{case}/propose_conclusion",
            verdicts={"seeking_office": "untrue", "vote_buying": "untrue"},
            reason="经核查形成结论",
        )
        self.call("leader", f"{case}/approve_conclusion", reason="同意")
        self.call("leader", f"{case}/close", closed_on="2026-02-26", reason="反映不实，办结")
        self.call(
            "handler",
            f"{case}/give_feedback",
            given_on="2026-02-27",
            method="letter",
            text=FEEDBACK_TEXT,
        )
        self.system.catch_up()
        return str(case_id)


@pytest.fixture
def story(system: EmbeddedSystem, client: TestClient) -> Story:
    return Story(system, client)


def test_the_acceptance_letter_issued_numbered_and_downloaded_addressed(story: Story) -> None:
    report_id = story.report()
    documents = f"/api/v1/reports/{report_id}/documents"
    t, client = story.t, story.client
    # Registered, not accepted yet: it cannot be told it was (受理).
    assert client.get(f"{documents}/open-steps", headers=t["operator"]).json() == []
    early = client.post(documents, json=ACCEPTANCE, headers=t["operator"])
    assert early.status_code == 409, early.text
    assert early.json()["rule"] == "letter_step_taken"
    story.accept(report_id)
    steps = client.get(f"{documents}/open-steps", headers=t["operator"]).json()
    assert [(s["kind"], s["about"]) for s in steps] == [("acceptance_letter", "acceptance")]

    issued = client.post(documents, json=ACCEPTANCE, headers=t["operator"])
    again = client.post(documents, json=ACCEPTANCE, headers=t["operator"])

    assert issued.status_code == 201, issued.text
    assert again.status_code == 200, again.text
    letter = issued.json()
    assert again.json() == letter
    assert letter["number"] == "组受告〔2026〕1号"
    assert letter["kind_zh"] == "受理告知书"
    assert letter["fields"]["matters"] == "跑官要官、拉票贿选"
    assert letter["fields"]["received_on"] == "2026年2月2日"
    assert letter["fields"]["channel"] == "12380举报电话"
    assert letter["fields"]["accepted_on"] == "2026年2月4日"
    assert "addressee" not in letter["fields"]
    assert client.get(documents, headers=t["auditor"]).json() == [letter]
    assert client.get(f"{documents}/open-steps", headers=t["operator"]).json() == []

    for ref in (letter["number"], letter["document_id"]):
        download = client.post(f"{documents}/{quote(ref)}.docx", json=REASON, headers=t["operator"])
        assert download.status_code == 200, download.text
        assert download.headers["content-type"] == DOCX_MEDIA_TYPE
        assert download.headers["cache-control"] == "no-store"
        disposition = download.headers["content-disposition"]
        assert f"filename*=UTF-8''{quote('组受告〔2026〕1号受理告知书.docx')}" in disposition
        text = text_of(download.content)
        assert text.startswith("受理告知书\n组受告〔2026〕1号\n")
        assert f"\n{REPORTER_NAME}同志：\n" in text
        assert f"（送达地址：{ADDRESS}）" in text
        assert "2026年2月2日通过12380举报电话反映的跑官要官、拉票贿选问题已收悉" in text
        assert "我部于2026年2月4日予以受理" in text
        assert letter["fields"]["ledger_number"] in text

    # Each download is a reveal, recorded with its reason and the letter's number.
    reads = [e for e in story.system.accounts.audit_entries() if e.item_id == report_id]
    assert [(e.item_kind, e.username, e.reason) for e in reads] == [
        ("reporter_identity", "operator", REASON["reason"])
    ] * 2
    assert all("受理告知书 组受告〔2026〕1号" in e.detail for e in reads)

    # No identity in any event, the letter's included; its fields are the kind's but the
    # addressee's.
    events = [
        e for e in all_envelopes(story.system.intake) if e.event_type == "ReportDocumentIssued"
    ]
    assert len(events) == 1
    for envelope in all_envelopes(story.system.intake):
        for secret in IDENTITY:
            assert secret not in envelope.model_dump_json()
    offered = set(fields_of(K.ACCEPTANCE_LETTER)) - {"addressee", "addressee_address"}
    assert set(events[0].payload["fields"]) == offered
    for answer in (issued.text, again.text):
        for secret in IDENTITY:
            assert secret not in answer


def test_who_may_issue_and_download_the_acceptance_letter(story: Story) -> None:
    report_id = story.report()
    story.accept(report_id)
    documents = f"/api/v1/reports/{report_id}/documents"
    t, client = story.t, story.client

    assert client.post(documents, json=ACCEPTANCE).status_code == 401
    for who in ("leader", "auditor", "handler"):
        refused = client.post(documents, json=ACCEPTANCE, headers=t[who])
        assert refused.status_code == 403, (who, refused.text)
    later = {**ACCEPTANCE, "issued_on": (TODAY + dt.timedelta(days=1)).isoformat()}
    assert client.post(documents, json=later, headers=t["operator"]).status_code == 422
    # Not dated before the acceptance it tells of (2026-02-04), nor about another step.
    earlier = {**ACCEPTANCE, "issued_on": "2026-02-03"}
    before = client.post(documents, json=earlier, headers=t["operator"])
    assert before.status_code == 422
    assert "issued_on" in before.json()["detail"]
    not_a_letter = {"kind": "inquiry_notice", "about": "inquiry"}
    assert client.post(documents, json=not_a_letter, headers=t["operator"]).status_code == 422
    for body in (
        {"kind": "acceptance_letter", "about": "feedback"},
        {"kind": "feedback_letter"},
        {"kind": "feedback_letter", "about": "feedback:yesterday"},
    ):
        wrong = client.post(documents, json=body, headers=t["operator"])
        assert wrong.status_code == 422, body
        assert "about" in wrong.json()["detail"]
    assert story.system.intake.get_report(UUID(report_id)).issued == []
    letter = client.post(documents, json=ACCEPTANCE, headers=t["operator"]).json()
    download = f"{documents}/{quote(letter['number'])}.docx"

    # Nobody else sees the addressee; a reason is asked first; every refusal recorded.
    for who in ("leader", "auditor", "handler"):
        refused = client.post(download, json=REASON, headers=t[who])
        assert refused.status_code == 403, who
        for secret in IDENTITY:
            assert secret not in refused.text
    assert client.post(download, json={"reason": " "}, headers=t["operator"]).status_code == 422
    assert client.post(download, json=REASON).status_code == 401
    unknown = client.post(f"{documents}/组受告〔2026〕9号.docx", json=REASON, headers=t["operator"])
    assert unknown.status_code == 404
    refusals = [e.username for e in story.system.accounts.audit_entries()]
    assert sorted(refusals) == ["auditor", "handler-1", "leader"]

    # Once the report has left triage and its notice was sent, the operator's need is over;
    # the refusal names the letter asked for.
    story.call(
        "operator", f"/api/v1/reports/{report_id}/send_acceptance_notice", sent_on="2026-02-05"
    )
    refused = client.post(download, json=REASON, headers=t["operator"])
    assert refused.status_code == 403
    assert refused.json()["rule"] == "identity_in_triage"
    (entry,) = [
        e
        for e in story.system.accounts.audit_entries()
        if (e.username, e.item_kind) == ("operator", "reporter_identity_refused")
    ]
    assert letter["number"] in entry.detail


def test_an_anonymous_report_has_no_letters(story: Story) -> None:
    report_id = story.report(anonymous=True)
    documents = f"/api/v1/reports/{report_id}/documents"
    refused = story.client.post(documents, json=ACCEPTANCE, headers=story.t["operator"])
    assert refused.status_code == 409
    assert refused.json()["rule"] == "letter_to_real_name"
    assert story.client.get(f"{documents}/open-steps", headers=story.t["operator"]).json() == []
    assert story.client.get(documents, headers=story.t["operator"]).json() == []


def test_the_feedback_letter_is_the_cases_handlers(story: Story) -> None:
    report_id = story.report()
    documents = f"/api/v1/reports/{report_id}/documents"
    t, client = story.t, story.client
    early = {"kind": "feedback_letter", "about": "feedback:2026-02-27:1"}
    story.accept(report_id)
    story.system.catch_up()
    assert client.post(documents, json=early, headers=t["leader"]).status_code == 403  # role
    report = client.get(f"/api/v1/reports/{report_id}", headers=t["operator"]).json()
    story.call("leader", f"/api/v1/cases/{report['case_id']}/assign", handler_id="handler-1")
    not_yet = client.post(documents, json=early, headers=t["handler"])
    assert not_yet.status_code == 409, not_yet.text  # no feedback given yet
    assert not_yet.json()["rule"] == "letter_step_taken"


def test_a_feedbacks_name_is_not_changed_by_a_later_one() -> None:
    """Two feedbacks the same day are :1 and :2; one recorded later for an earlier day takes
    its own day's name and leaves the others'."""

    def given(day: str, text: str) -> ReporterFeedback:
        on = dt.date.fromisoformat(day)
        return ReporterFeedback(given_on=on, method="letter", method_zh="书面", text=text)

    first = [given("2026-02-27", "a"), given("2026-02-27", "b")]
    named = dict(feedback_steps(first))
    assert {k: v.text for k, v in named.items()} == {
        "feedback:2026-02-27:1": "a",
        "feedback:2026-02-27:2": "b",
    }
    later = [given("2026-02-20", "c"), *first]  # oldest first, as the read side gives them
    assert {k: v.text for k, v in feedback_steps(later)} == {
        "feedback:2026-02-20:1": "c",
        "feedback:2026-02-27:1": "a",
        "feedback:2026-02-27:2": "b",
    }


def test_the_feedback_letter_is_not_dated_before_the_feedback(story: Story) -> None:
    report_id = story.report()
    story.through_feedback(report_id)
    body = {"kind": "feedback_letter", "about": "feedback:2026-02-27:1", "issued_on": "2026-02-26"}
    refused = story.client.post(
        f"/api/v1/reports/{report_id}/documents", json=body, headers=story.t["handler"]
    )
    assert refused.status_code == 422
    assert "issued_on" in refused.json()["detail"]
    assert story.system.intake.get_report(UUID(report_id)).issued == []


def test_the_feedback_letter_carries_the_feedback_as_given(story: Story) -> None:
    report_id = story.report()
    story.through_feedback(report_id)
    documents = f"/api/v1/reports/{report_id}/documents"
    t, client = story.t, story.client
    steps = client.get(f"{documents}/open-steps", headers=t["handler"]).json()
    assert ("feedback_letter", "feedback:2026-02-27:1") in [(s["kind"], s["about"]) for s in steps]
    body = {"kind": "feedback_letter", "about": "feedback:2026-02-27:1"}

    for who in ("stranger", "operator", "leader", "auditor"):
        refused = client.post(documents, json=body, headers=t[who])
        assert refused.status_code == 403, (who, refused.text)
    issued = client.post(documents, json=body, headers=t["handler"])
    assert issued.status_code == 201, issued.text
    letter = issued.json()
    assert letter["number"] == "组反馈〔2026〕1号"
    assert letter["fields"]["feedback"] == FEEDBACK_TEXT
    assert letter["fields"]["given_on"] == "2026年2月27日"

    download = f"{documents}/{quote(letter['number'])}.docx"
    assert client.post(download, json=REASON, headers=t["stranger"]).status_code == 403
    addressed = client.post(download, json={"reason": "寄送反馈意见书"}, headers=t["handler"])
    assert addressed.status_code == 200, addressed.text
    text = text_of(addressed.content)
    assert text.startswith("反馈意见书\n组反馈〔2026〕1号\n")
    assert f"\n{REPORTER_NAME}同志：\n" in text
    assert FEEDBACK_TEXT in text
    (entry,) = [
        e
        for e in story.system.accounts.audit_entries()
        if e.item_kind == "reporter_identity" and e.username == "handler-1"
    ]
    assert "反馈意见书 组反馈〔2026〕1号" in entry.detail
    for envelope in all_envelopes(story.system.intake):
        for secret in IDENTITY:
            assert secret not in envelope.model_dump_json()


def test_two_letters_at_once_take_two_numbers_without_a_gap(
    story: Story, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second save of the register is refused and tried again, unseen by the user."""
    first, second = story.report(), story.report()
    story.accept(first)
    story.accept(second)
    intake = story.system.intake
    stale = intake.letter_register(K.ACCEPTANCE_LETTER, 2026)  # read before the other saved
    documents = "/api/v1/reports/{}/documents"
    story.call("operator", documents.format(first), 201, **ACCEPTANCE)
    loaded = intake.letter_register
    calls: list[int] = []

    def racing_read(kind: DocumentKind, year: int) -> DocumentRegister:
        calls.append(year)
        return stale if len(calls) == 1 else loaded(kind, year)

    monkeypatch.setattr(intake, "letter_register", racing_read)
    letter = story.call("operator", documents.format(second), 201, **ACCEPTANCE)

    assert len(calls) == 2  # the first attempt conflicted and was tried again
    assert letter["number"] == "组受告〔2026〕2号"
    taken = loaded(K.ACCEPTANCE_LETTER, 2026).taken
    assert [t["n"] for t in taken] == [1, 2]
    assert [str(t["owner_id"]) for t in taken] == [first, second]


def test_every_letter_route_declares_its_answers(system: EmbeddedSystem) -> None:
    paths = system.web_app().openapi()["paths"]
    download = paths["/api/v1/reports/{report_id}/documents/{ref}.docx"]["post"]
    assert {"200", "401", "403", "404", "422", "503"} <= set(download["responses"])
    assert DOCX_MEDIA_TYPE in download["responses"]["200"]["content"]
    issue = paths["/api/v1/reports/{report_id}/documents"]["post"]
    assert {"200", "201", "401", "403", "404", "409", "422", "503"} <= set(issue["responses"])


def test_every_letter_rule_speaks_both_languages() -> None:
    for rule in LETTER_RULES:
        assert rule.message, rule.name
        assert rule.message_zh, rule.name
        assert rule.name.isidentifier()


# -- the report page --------------------------------------------------------------------------


def test_the_report_page_issues_the_letter_and_downloads_it_addressed(tmp_path: Path) -> None:
    system = build_system(tmp_path)
    try:
        with TestClient(system.web_app()) as client:
            sign_in(client, system, "operator")
            receipt = client.post(
                "/api/v1/reports",
                json={
                    "channel": "hotline",
                    "reporter": {**real_name_reporter(), "address": ADDRESS},
                    "subjects": [{"name": "王建国", "unit": "某县财政局"}],
                    "categories": ["seeking_office"],
                    "summary": "反映王建国要官。",
                },
                headers=bearer(system.accounts, "operator", Role.OPERATOR),
            ).json()
            page_url = f"/reports/{receipt['report_id']}"
            page = client.get(page_url).text
            assert "致举报人告知文书" in page
            assert "尚未制发告知文书" in page
            assert "制发 受理告知书" not in page  # not accepted yet
            accepted = client.post(
                f"{page_url}/accept",
                data={"csrf_token": csrf(client), "reason": "属于受理范围"},
                follow_redirects=False,
            )
            assert accepted.status_code == 303, accepted.text
            page = client.get(page_url).text
            assert "制发 受理告知书" in page
            assert "请先制发并下载受理告知书" in page

            sign_in(client, system, "leader")  # reads the report, issues nothing
            assert "制发 受理告知书" not in client.get(page_url).text
            refused = client.post(
                f"{page_url}/letters",
                data={"csrf_token": csrf(client), **ACCEPTANCE},
            )
            assert refused.status_code == 403

            sign_in(client, system, "operator")
            issued = client.post(
                f"{page_url}/letters",
                data={"csrf_token": csrf(client), **ACCEPTANCE},
                follow_redirects=False,
            )
            assert issued.status_code == 303, issued.text
            page = client.get(page_url).text
            assert "组受告〔2026〕1号 受理告知书" in page
            assert "制发 受理告知书" not in page
            (letter,) = system.intake.get_report(UUID(receipt["report_id"])).issued
            download = f"{page_url}/letters/{letter['document_id']}.docx"
            assert REPORTER_NAME not in page

            no_reason = client.post(download, data={"csrf_token": csrf(client), "reason": ""})
            assert no_reason.status_code == 422
            addressed = client.post(download, data={"csrf_token": csrf(client), **REASON})
            assert addressed.status_code == 200, addressed.text
            assert addressed.headers["content-type"] == DOCX_MEDIA_TYPE
            assert f"{REPORTER_NAME}同志：" in text_of(addressed.content)
            entries = [e.item_kind for e in system.accounts.audit_entries()]
            assert entries == ["reporter_identity"]

            # The notice sent, the operator's need to know is over: no download form (and no
            # refusal written under their name for trying).
            noticed = client.post(
                f"{page_url}/send_acceptance_notice",
                data={"csrf_token": csrf(client)},
                follow_redirects=False,
            )
            assert noticed.status_code == 303, noticed.text
            page = client.get(page_url).text
            assert "组受告〔2026〕1号 受理告知书" in page
            assert "下载填写收件人的文书" not in page
            assert "Letters to the reporter" in client.get(f"{page_url}?lang=en").text
    finally:
        system.stop()
