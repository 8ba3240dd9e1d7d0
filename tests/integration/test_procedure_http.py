"""Every path of the procedure (domain.md) driven over HTTP, on PostgreSQL.

Two embedded systems, each on its own fresh database for the module: one with the
default intake policy (reports in the 12380 scope are accepted on registration), one
with ``auto_accept=False`` so that operators triage every report by hand (repeats,
returns, joining). The clock of casework, intake and the read side is pinned to
``TODAY`` so that the deadline states asserted here do not depend on the day the tests
run; every other date is given in the requests.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from fastapi.testclient import TestClient

from schemas.glossary import EVENT_LABELS
from services.bootstrap import EmbeddedSystem
from services.calendar.deadlines import OfficialSchedule, WorkingDayCalendar, add_calendar_months
from services.casework.handlers import COMMANDS
from services.common.china_time import CHINA_TIME
from services.intake.domain import case_id_for_report
from services.intake.registration import SEALED_SUMMARY
from tests.integration.helpers import pg_settings
from tests.support.auth import bearer
from tests.support.postgres import ThrowawayPostgres
from tests.unit.conftest import advance_to, build_embedded

pytestmark = pytest.mark.integration

TODAY = dt.date(2026, 11, 23)  # a Monday; the 2026 official schedule is known
CALENDAR = WorkingDayCalendar()  # computes expected dates independently of the system

CADRE = {"name": "张三", "unit": "青山县交通运输局", "position": "局长", "cadre_id": "QS-0001"}
REPORTER_NAME = "举报人欧阳明"
REPORTER_PHONE = "13800001111"
REAL_NAME = {"anonymous": False, "name": REPORTER_NAME, "phone": REPORTER_PHONE}
ANONYMOUS = {"anonymous": True}

SECTION = "干部监督科"  # every account of the desk: handlers see their section's cases
OPERATOR = ("op-1", "operator")
LEADER = ("leader-1", "leader")
HANDLER = ("h-1", "handler")
OTHER_HANDLER = ("h-2", "handler")
STUDY = {
    "held_on": "2026-11-12",
    "meeting": "干部监督科集体研究会",
    "participants": ["李科长", "王副科长", "赵干事"],
    "decision_ref": "监研〔2026〕12号",
}


def as_json(response: Any) -> dict[str, Any]:
    data: dict[str, Any] = response.json()
    return data


@dataclass
class Desk:
    """The HTTP API of one embedded system, as the staff use it."""

    client: TestClient
    system: EmbeddedSystem
    tokens: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def on(self, day: dt.date) -> None:
        """The office's clock moves on to ``day`` (tokens are issued anew from then)."""
        advance_to(self.system, day)
        self.tokens.clear()

    def headers(self, who: tuple[str, str]) -> dict[str, str]:
        """A bearer token of ``who`` (username, role), an account of the section."""
        if who not in self.tokens:
            self.tokens[who] = bearer(self.system.accounts, *who, section=SECTION)
        return self.tokens[who]

    def submit(self, *, reporter: dict[str, Any] = ANONYMOUS, **changes: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "channel": "hotline",
            "reporter": reporter,
            "subjects": [CADRE],
            "categories": ["vote_buying"],
            "summary": f"反映张三在换届期间宴请拉票（{uuid4().hex[:6]}）",
            "received_on": "2026-11-02",
        } | changes
        response = self.client.post("/api/v1/reports", json=body, headers=self.headers(OPERATOR))
        assert response.status_code == 201, response.text
        return as_json(response)

    def report(self, report_id: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/reports/{report_id}", headers=self.headers(OPERATOR))
        assert response.status_code == 200, response.text
        return as_json(response)

    def triage(
        self,
        report_id: str,
        action: str,
        who: tuple[str, str] = OPERATOR,
        expect: int = 200,
        **body: Any,
    ) -> dict[str, Any]:
        response = self.client.post(
            f"/api/v1/reports/{report_id}/{action}", json=body, headers=self.headers(who)
        )
        assert response.status_code == expect, response.text
        return as_json(response)

    def case(self, case_id: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/cases/{case_id}", headers=self.headers(LEADER))
        assert response.status_code == 200, response.text
        return as_json(response)

    def act(
        self,
        case_id: str,
        action: str,
        who: tuple[str, str],
        expect: int = 200,
        **body: Any,
    ) -> dict[str, Any]:
        response = self.client.post(
            f"/api/v1/cases/{case_id}/{action}", json=body, headers=self.headers(who)
        )
        assert response.status_code == expect, f"{action}: {response.text}"
        return as_json(response)

    def refused(
        self, case_id: str, action: str, who: tuple[str, str], status: int, **body: Any
    ) -> dict[str, Any]:
        """A refused command: the status, both messages, and nothing stored."""
        version = self.case(case_id)["version"]
        position = self.system.casework.max_position()
        error = self.act(case_id, action, who, expect=status, **body)
        assert error["detail"], error
        assert error["detail_zh"], error
        assert self.case(case_id)["version"] == version
        assert self.system.casework.max_position() == position
        return error

    def timeline(self, case_id: str) -> dict[str, Any]:
        self.system.catch_up()
        response = self.client.get(
            f"/api/v1/cases/{case_id}/timeline", headers=self.headers(LEADER)
        )
        assert response.status_code == 200, response.text
        return as_json(response)

    def opened_case(self, **changes: Any) -> tuple[str, str]:
        """A report accepted on registration: (report id, case id), the case opened."""
        receipt = self.submit(**changes)
        assert receipt["status"] == "accepted"
        self.system.catch_up()
        assert self.case(receipt["case_id"])["state"] == "open"
        return receipt["report_id"], receipt["case_id"]

    def disposed(self, case_id: str, disposition: str) -> dict[str, Any]:
        """Assigned to HANDLER, disposition proposed and approved after collective study."""
        assert self.act(case_id, "assign", LEADER, handler_id=HANDLER[0])["state"] == "assigned"
        view = self.act(
            case_id,
            "propose_disposition",
            HANDLER,
            disposition=disposition,
            reason="线索具体，具备核查条件",
        )
        assert view["state"] == "disposition_proposed"
        return self.act(case_id, "approve_disposition", LEADER, collective_study=STUDY)

    def concluded(self, case_id: str, verdict: str, category: str = "vote_buying") -> None:
        """Preliminary verification with one finding, conclusion proposed and approved."""
        assert self.disposed(case_id, "preliminary_verification")["state"] == "verification"
        finding = self.act(
            case_id,
            "record_finding",
            HANDLER,
            kind="interview",
            summary="与该局5名干部个别谈话",
            evidence_refs=["谈话笔录-01", "谈话笔录-02"],
            found_on="2026-11-16",
        )
        assert finding["state"] == "verification"
        proposed = self.act(
            case_id,
            "propose_conclusion",
            HANDLER,
            verdicts={category: verdict},
            reason="经核查形成结论",
        )
        assert proposed["state"] == "conclusion_proposed"
        approved = self.act(case_id, "approve_conclusion", LEADER, reason="同意")
        assert approved["state"] == "concluded"
        assert approved["conclusion"]["overall"] == verdict


CASE_STEPS_TO_CONCLUSION = [
    ("CaseOpened", "intake-policy"),
    ("HandlerAssigned", LEADER[0]),
    ("DispositionProposed", HANDLER[0]),
    ("DispositionApproved", LEADER[0]),
    ("FindingRecorded", HANDLER[0]),
    ("ConclusionProposed", HANDLER[0]),
    ("ConclusionApproved", LEADER[0]),
]


def case_steps(timeline: dict[str, Any], case_id: str) -> list[tuple[str, str]]:
    """(step, actor) of the case's own steps, oldest first; every step labelled in Chinese."""
    for step in timeline["steps"]:
        assert step["step_zh"] == EVENT_LABELS[step["step"]], step
        assert step["step_zh"] != step["step"]
        assert step["actor_id"], step
        assert step["actor_role"], step
        assert step["at"], step
    return [(s["step"], s["actor_id"]) for s in timeline["steps"] if s["subject_id"] == case_id]


def report_steps(timeline: dict[str, Any], report_id: str) -> list[str]:
    return [s["step"] for s in timeline["steps"] if s["subject_id"] == report_id]


def step(timeline: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [s for s in timeline["steps"] if s["step"] == name]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def deadlines(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in view["deadlines"]}


def working_days_after(start: str, days: int) -> str:
    return CALENDAR.add_working_days(dt.date.fromisoformat(start), days).due.isoformat()


# -- fixtures ---------------------------------------------------------------------------------


def _desk(postgres_server: ThrowawayPostgres, data_dir: Path, **settings: Any) -> Iterator[Desk]:
    with postgres_server.fresh_database() as dsn:
        system = build_embedded(pg_settings(dsn, data_dir, **settings), TODAY)
        for handler in (HANDLER, OTHER_HANDLER):  # only an active handler account is assigned
            bearer(system.accounts, *handler, section=SECTION)
        try:
            yield Desk(TestClient(system.web_app()), system)
        finally:
            system.stop()


@pytest.fixture(scope="module")
def desk(
    postgres_server: ThrowawayPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Desk]:
    """The auto-accept policy (an option; the default is operator triage): reports in the
    12380 scope are accepted on registration."""
    yield from _desk(postgres_server, tmp_path_factory.mktemp("auto"), auto_accept=True)


@pytest.fixture(scope="module")
def manual(
    postgres_server: ThrowawayPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Desk]:
    """Every report waits for an operator's triage."""
    yield from _desk(postgres_server, tmp_path_factory.mktemp("manual"), auto_accept=False)


# -- a. untrue, cleared, feedback ----------------------------------------------------------------


def test_an_untrue_report_ends_in_clearing_and_feedback_to_the_real_name_reporter(
    desk: Desk,
) -> None:
    report_id, case_id = desk.opened_case(reporter=REAL_NAME, received_on="2026-11-02")
    opened = desk.case(case_id)
    assert opened["real_name_reporters"] == 1
    assert opened["report_ids"] == [report_id]
    notice = desk.triage(report_id, "send_acceptance_notice", sent_on="2026-11-10")
    assert notice["acceptance_notice"]["met_on"] == "2026-11-10"

    desk.concluded(case_id, "untrue")
    assert desk.case(case_id)["disposition"] == "preliminary_verification"

    applied = desk.act(
        case_id,
        "apply_for_clearing",
        OPERATOR,
        cadre={"name": "张三"},
        reason="本人书面申请澄清正名",
    )
    assert (applied["state"], applied["clearing_stage"]) == ("concluded", "proposed")
    desk.refused(case_id, "propose_clearing", HANDLER, 409, cadre={"name": "张三"}, reason="再提")
    approved = desk.act(case_id, "approve_clearing", LEADER, reason="同意澄清")
    assert approved["clearing_stage"] == "approved"
    done = desk.act(
        case_id,
        "carry_out_clearing",
        HANDLER,
        method="party_committee_notice",
        scope="向县交通运输局党组通报核查结论",
        carried_out_on="2026-11-19",
    )
    assert (done["state"], done["clearing_stage"]) == ("concluded", "carried_out")

    closed = desk.act(case_id, "close", LEADER, closed_on="2026-11-20", reason="予以澄清，办结")
    assert closed["state"] == "closed"
    feedback_due = working_days_after("2026-11-20", 15)
    assert feedback_due == "2026-12-11"
    assert deadlines(closed)["feedback"]["due"] == feedback_due
    assert deadlines(closed)["feedback"]["state"] == "running"
    given = desk.act(
        case_id,
        "give_feedback",
        HANDLER,
        given_on="2026-11-23",
        method="phone",
        text="经核查，反映问题不属实，已为该同志澄清正名。",
    )
    assert given["state"] == "closed"
    assert deadlines(given)["feedback"]["state"] == "met"

    timeline = desk.timeline(case_id)
    assert case_steps(timeline, case_id) == [
        *CASE_STEPS_TO_CONCLUSION,
        ("ClearingProposed", OPERATOR[0]),
        ("ClearingApproved", LEADER[0]),
        ("ClearingCarriedOut", HANDLER[0]),
        ("Closed", LEADER[0]),
        ("FeedbackGiven", HANDLER[0]),
    ]
    assert report_steps(timeline, report_id) == [
        "ReportReceived",
        "ReportRegistered",
        "ReportAccepted",
        "AcceptanceNoticeSent",
    ]
    labels = {s["step"]: s["step_zh"] for s in timeline["steps"]}
    assert labels["ClearingCarriedOut"] == "实施澄清正名"
    assert labels["DispositionApproved"] == "集体研究并批准处置方式"
    approval = step(timeline, "DispositionApproved")["detail"]
    assert approval["disposition"] == "preliminary_verification"
    assert approval["collective_study"]["participants"] == STUDY["participants"]
    assert approval["collective_study"]["held_on"] == STUDY["held_on"]
    assert step(timeline, "ClearingCarriedOut")["detail"]["method"] == "party_committee_notice"
    assert step(timeline, "ClearingProposed")["detail"]["applied_for_by_cadre"] is True
    assert step(timeline, "ConclusionApproved")["detail"]["overall"] == "untrue"
    assert step(timeline, "Closed")["reason"] == "予以澄清，办结"
    clocks = deadlines(timeline)
    assert clocks["acceptance_notice"]["due"] == working_days_after("2026-11-02", 15)
    assert clocks["acceptance_notice"]["met_on"] == "2026-11-10"
    assert clocks["acceptance_notice"]["state"] == "met"
    assert clocks["feedback"] | {"note": ""} == {
        "name": "feedback",
        "due": feedback_due,
        "provisional": False,
        "note": "",
        "met_on": "2026-11-23",
        "state": "met",
        "state_zh": "按期完成",
    }
    text = str(timeline)
    assert REPORTER_NAME not in text
    assert REPORTER_PHONE not in text


# -- b. proven, dismissal ------------------------------------------------------------------------


def test_a_proven_report_leads_to_dismissal_with_its_recorded_effects(desk: Desk) -> None:
    _, case_id = desk.opened_case()
    desk.concluded(case_id, "true")
    error = desk.refused(
        case_id, "apply_for_clearing", OPERATOR, 409, cadre={"name": "张三"}, reason="申请"
    )
    assert error["rule"] == "untrue_for_clearing"
    error = desk.refused(
        case_id,
        "decide_handling",
        LEADER,
        409,
        cadre={"name": "李四"},
        handling="dismissal",
        reason="x",
    )
    assert error["rule"] == "named_cadre"

    decided = desk.act(
        case_id,
        "decide_handling",
        LEADER,
        cadre={"cadre_id": "QS-0001"},
        handling="dismissal",
        decided_on="2026-11-20",
        reason="经部务会研究，免去其局长职务",
    )
    assert decided["handlings"] == [
        {"id": 1, "handling": "dismissal", "cadre": CADRE, "decided_on": "2026-11-20"}
    ]
    closed = desk.act(case_id, "close", LEADER, closed_on="2026-11-23")
    assert closed["state"] == "closed"
    assert closed["deadlines"] == []  # anonymous: no feedback is due
    error = desk.refused(case_id, "give_feedback", HANDLER, 409, method="phone", text="反馈")
    assert error["rule"] == "real_name_reporter_for_feedback"

    timeline = desk.timeline(case_id)
    assert case_steps(timeline, case_id) == [
        *CASE_STEPS_TO_CONCLUSION,
        ("HandlingDecided", LEADER[0]),
        ("Closed", LEADER[0]),
    ]
    handling = step(timeline, "HandlingDecided")
    assert handling["step_zh"] == "作出组织处理"
    assert handling["detail"]["handling"] == "dismissal"
    effects = handling["detail"]["effects"]
    assert effects["bars_leading_post_months"] == 12
    assert effects["bars_promotion_months"] == 24
    assert "免职" in effects["rule_zh"]
    assert step(timeline, "ConclusionApproved")["detail"]["overall"] == "true"


# -- c. talk or written inquiry ------------------------------------------------------------------


def test_an_inquiry_letter_is_answered_within_working_days_and_the_case_closes(
    desk: Desk,
) -> None:
    _, case_id = desk.opened_case(received_on="2026-09-21")
    assert desk.disposed(case_id, "talk_inquiry")["state"] == "inquiry"
    desk.refused(case_id, "record_inquiry_reply", HANDLER, 409, received_on="2026-10-20")

    sent = desk.act(case_id, "send_inquiry_letter", HANDLER, sent_on="2026-09-25", form="letter")
    reply = deadlines(sent)["inquiry_reply"]
    # 15 working days after Fri 25 Sep 2026 (中秋 25-27 Sep, 国庆 1-7 Oct, Sat 10 Oct worked):
    # 28, 29, 30 Sep; 8, 9, 10, 12, 13, 14, 15, 16, 19, 20, 21, 22 Oct.
    assert reply["due"] == working_days_after("2026-09-25", 15) == "2026-10-22"
    assert reply["provisional"] is False
    assert reply["state"] == "overdue"  # as of TODAY, no reply recorded yet

    error = desk.refused(
        case_id, "propose_conclusion", HANDLER, 409, verdicts={"vote_buying": "untrue"}, reason="x"
    )
    assert error["rule"] == "inquiry_reply_evaluated"
    received = desk.act(
        case_id, "record_inquiry_reply", HANDLER, received_on="2026-10-20", document_ref="复函-07"
    )
    assert deadlines(received)["inquiry_reply"]["state"] == "met"
    evaluated = desk.act(
        case_id, "evaluate_inquiry_reply", HANDLER, outcome="clarified", reason="说明清楚，予以采信"
    )
    assert evaluated["state"] == "inquiry"
    desk.act(
        case_id,
        "propose_conclusion",
        HANDLER,
        verdicts={"vote_buying": "unproven"},
        reason="函询说明清楚，现有材料无法查实",
    )
    concluded = desk.act(case_id, "approve_conclusion", LEADER)
    assert concluded["conclusion"]["overall"] == "unproven"
    error = desk.refused(
        case_id, "propose_clearing", HANDLER, 409, cadre={"name": "张三"}, reason="澄清"
    )
    assert error["rule"] == "untrue_for_clearing"  # unproven is not untrue
    assert desk.act(case_id, "close", LEADER, closed_on="2026-11-23")["state"] == "closed"

    timeline = desk.timeline(case_id)
    assert case_steps(timeline, case_id) == [
        ("CaseOpened", "intake-policy"),
        ("HandlerAssigned", LEADER[0]),
        ("DispositionProposed", HANDLER[0]),
        ("DispositionApproved", LEADER[0]),
        ("InquiryLetterSent", HANDLER[0]),
        ("InquiryReplyReceived", HANDLER[0]),
        ("InquiryReplyEvaluated", HANDLER[0]),
        ("ConclusionProposed", HANDLER[0]),
        ("ConclusionApproved", LEADER[0]),
        ("Closed", LEADER[0]),
    ]
    assert step(timeline, "InquiryLetterSent")["step_zh"] == "发出函询"
    assert step(timeline, "InquiryReplyEvaluated")["detail"]["outcome"] == "clarified"
    clock = deadlines(timeline)["inquiry_reply"]
    assert (clock["due"], clock["met_on"], clock["state"]) == ("2026-10-22", "2026-10-20", "met")


# -- d. parked, reviewed, reactivated ------------------------------------------------------------


def test_a_parked_case_is_reviewed_then_reactivated_and_needs_a_new_disposition(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Registered on its day (staff back-date at most 90 days, decision 0013).
    monkeypatch.setattr(desk.system.intake, "_today", lambda: dt.date(2026, 8, 10))
    _, case_id = desk.opened_case(received_on="2026-08-10")
    monkeypatch.setattr(desk.system.intake, "_today", lambda: TODAY)
    monkeypatch.setattr(desk.system.casework, "today", lambda: dt.date(2026, 8, 20))
    parked = desk.disposed(case_id, "park")
    monkeypatch.setattr(desk.system.casework, "today", lambda: TODAY)
    assert parked["state"] == "parked"
    assert deadlines(desk.case(case_id))["parked_review"]["due"] == "2026-11-20"
    assert deadlines(desk.case(case_id))["parked_review"]["state"] == "overdue"

    reviewed = desk.act(
        case_id, "review_parked", HANDLER, reviewed_on="2026-11-20", reason="暂无新线索，继续暂存"
    )
    assert reviewed["state"] == "parked"
    clock = deadlines(reviewed)["parked_review"]
    assert (clock["due"], clock["state"]) == ("2027-02-20", "running")
    assert clock["due"] == add_calendar_months(dt.date(2026, 11, 20), 3).isoformat()

    desk.refused(case_id, "propose_disposition", HANDLER, 409, disposition="close", reason="x")
    woken = desk.act(
        case_id, "reactivate", HANDLER, new_evidence="审计发现新的问题线索", on="2026-11-23"
    )
    assert (woken["state"], woken["disposition"]) == ("assigned", None)
    assert deadlines(woken)["parked_review"]["state"] == "met"
    desk.refused(
        case_id, "propose_conclusion", HANDLER, 409, verdicts={"vote_buying": "true"}, reason="x"
    )
    desk.act(
        case_id,
        "propose_disposition",
        HANDLER,
        disposition="preliminary_verification",
        reason="新线索具体，转初步核实",
    )
    again = desk.act(case_id, "approve_disposition", LEADER, collective_study=STUDY)
    assert (again["state"], again["disposition"]) == ("verification", "preliminary_verification")

    timeline = desk.timeline(case_id)
    assert case_steps(timeline, case_id) == [
        ("CaseOpened", "intake-policy"),
        ("HandlerAssigned", LEADER[0]),
        ("DispositionProposed", HANDLER[0]),
        ("DispositionApproved", LEADER[0]),
        ("ParkedCaseReviewed", HANDLER[0]),
        ("Reactivated", HANDLER[0]),
        ("DispositionProposed", HANDLER[0]),
        ("DispositionApproved", LEADER[0]),
    ]
    assert step(timeline, "Reactivated")["step_zh"] == "重新启动核查"
    assert step(timeline, "Reactivated")["reason"] == "审计发现新的问题线索"
    clock = deadlines(timeline)["parked_review"]
    assert (clock["due"], clock["met_on"], clock["state"]) == ("2027-02-20", "2026-11-23", "met")


# -- e. feedback, objection, reopening (复查) -----------------------------------------------------


def test_a_real_name_reporter_objects_and_new_evidence_reopens_the_case(desk: Desk) -> None:
    _, case_id = desk.opened_case(reporter=REAL_NAME, received_on="2026-10-12")
    desk.concluded(case_id, "unproven")
    closed = desk.act(case_id, "close", LEADER, closed_on="2026-11-02")
    assert deadlines(closed)["feedback"]["due"] == working_days_after("2026-11-02", 15)
    assert deadlines(closed)["feedback"]["due"] == "2026-11-23"
    assert deadlines(closed)["feedback"]["state"] == "due_soon"
    error = desk.refused(
        case_id, "record_objection", OPERATOR, 409, reason="不服", received_on="2026-11-23"
    )
    assert error["rule"] == "feedback_given_for_objection"

    desk.act(
        case_id,
        "give_feedback",
        HANDLER,
        given_on="2026-11-23",
        method="letter",
        text="经核查，反映问题无法查实。",
    )
    objection = desk.act(
        case_id,
        "record_objection",
        OPERATOR,
        received_on="2026-11-23",
        reason="举报人对核查结论有异议，称另有证人",
    )
    assert objection["state"] == "closed"
    desk.refused(case_id, "answer_objection", OPERATOR, 403, text="答复")
    desk.act(
        case_id, "answer_objection", HANDLER, answered_on="2026-11-23", text="请提供证人联系方式"
    )
    desk.refused(case_id, "answer_objection", HANDLER, 409, text="再答复")
    desk.refused(case_id, "reopen", HANDLER, 403, new_evidence="证人证言")
    reopened = desk.act(
        case_id, "reopen", LEADER, new_evidence="举报人提供两名证人证言", on="2026-11-23"
    )
    assert (reopened["state"], reopened["disposition"], reopened["conclusion"]) == (
        "assigned",
        None,
        None,
    )
    assert reopened["handler_id"] == HANDLER[0]
    as_handler = desk.client.get(f"/api/v1/cases/{case_id}", headers=desk.headers(HANDLER)).json()
    assert "propose_disposition" in as_handler["allowed_actions"]

    timeline = desk.timeline(case_id)
    assert case_steps(timeline, case_id) == [
        *CASE_STEPS_TO_CONCLUSION,
        ("Closed", LEADER[0]),
        ("FeedbackGiven", HANDLER[0]),
        ("ObjectionRecorded", OPERATOR[0]),
        ("ObjectionAnswered", HANDLER[0]),
        ("Reopened", LEADER[0]),
    ]
    assert step(timeline, "Reopened")["step_zh"] == "复查"
    assert step(timeline, "ObjectionRecorded")["step_zh"] == "登记举报人异议"
    clock = deadlines(timeline)["feedback"]
    assert (clock["due"], clock["met_on"], clock["state"]) == ("2026-11-23", "2026-11-23", "met")


# -- f. forwarded up, sealed ---------------------------------------------------------------------


def test_a_sealed_report_is_forwarded_up_without_a_case_and_its_content_stays_sealed(
    desk: Desk,
) -> None:
    secret = "密件：反映市管干部钱某在县级换届中打招呼、定人选（上级管辖）"
    receipt = desk.submit(
        sealed=True, summary=secret, received_on="2026-11-16", subjects=[{"name": "钱某"}]
    )
    assert (receipt["status"], receipt["case_id"]) == ("registered", None)
    report_id = receipt["report_id"]
    view = desk.report(report_id)
    assert (view["sealed"], view["summary"]) == (True, SEALED_SUMMARY)
    assert "forward_up" in view["allowed_actions"]

    desk.triage(report_id, "forward_up", HANDLER, expect=403, to_authority="市委组织部")
    forwarded = desk.triage(
        report_id, "forward_up", to_authority="市委组织部", forwarded_on="2026-11-19"
    )
    assert forwarded["status"] == "forwarded_up"
    assert forwarded["triage"]["due"] == working_days_after("2026-11-16", 5) == "2026-11-23"
    assert forwarded["triage"]["late"] is False
    assert forwarded["summary"] == SEALED_SUMMARY
    desk.triage(report_id, "accept", expect=409)

    desk.system.catch_up()
    case_id = case_id_for_report(UUID(report_id))
    missing = desk.client.get(f"/api/v1/cases/{case_id}", headers=desk.headers(LEADER))
    assert missing.status_code == 404
    assert missing.json()["detail_zh"]
    timeline = desk.client.get(f"/api/v1/cases/{case_id}/timeline", headers=desk.headers(LEADER))
    assert timeline.status_code == 404
    assert desk.system.intake.vault.reveal_content(UUID(report_id)) == secret
    dsn = desk.system.settings.database_url
    assert dsn is not None
    with psycopg.connect(dsn) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('intake', 'casework', 'projections', 'config')"
        ).fetchall()
        for schema, table in tables:
            dump = conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t').fetchall()
            assert not any("钱某在县级换届" in row[0] for row in dump), f"{schema}.{table}"


# -- g. referred out -----------------------------------------------------------------------------


def test_other_conduct_is_referred_out_to_a_member_unit_and_its_result_recorded(
    desk: Desk,
) -> None:
    receipt = desk.submit(categories=["other_conduct"], summary="反映张三公车私用")
    assert (receipt["status"], receipt["case_id"]) == ("registered", None)
    report_id = receipt["report_id"]
    subjects = desk.system.intake.get_report(UUID(report_id)).subjects
    outcomes = [
        {"cadre": {"name": s["name"], "unit": s["unit"]}, "verdict": "true",
         "handling": "reminder_talk"}
        for s in subjects
    ]  # fmt: skip
    result = {"outcomes": outcomes, "document_number": "青纪函〔2026〕5号"}
    desk.triage(report_id, "record_referral_result", expect=422, result="已处理")  # words only
    desk.triage(report_id, "record_referral_result", expect=409, result="已处理", **result)
    referred = desk.triage(
        report_id, "refer_out", member_unit="discipline_commission", referred_on="2026-11-20"
    )
    assert referred["status"] == "referred_out"
    assert referred["triage"]["member_unit"] == "discipline_commission"
    done = desk.triage(
        report_id,
        "record_referral_result",
        result="县纪委监委已给予提醒谈话",
        reported_on="2026-11-23",
        **result,
    )
    assert (done["status"], done["status_zh"]) == ("referral_concluded", "转办单位已反馈")
    assert done["triage"]["result"] == "县纪委监委已给予提醒谈话"
    assert done["triage"]["receiver_result"]["outcomes"][0]["verdict"] == "true"
    assert done["allowed_actions"] == [
        "identify_subject",
        "send_acceptance_notice",
        "verify_identity",
    ]
    desk.triage(report_id, "record_referral_result", expect=409, result="again", **result)
    desk.system.catch_up()
    case_id = case_id_for_report(UUID(report_id))
    assert (
        desk.client.get(f"/api/v1/cases/{case_id}", headers=desk.headers(LEADER)).status_code == 404
    )


# -- h. repeat, return ---------------------------------------------------------------------------


def test_a_repeat_report_opens_no_case_and_a_return_needs_the_leader(manual: Desk) -> None:
    first = manual.submit()
    assert (first["status"], first["case_id"]) == ("registered", None)
    accepted = manual.triage(first["report_id"], "accept", reason="属12380受理范围")
    case_id = accepted["case_id"]
    assert case_id == str(case_id_for_report(UUID(first["report_id"])))
    manual.system.catch_up()
    assert manual.case(case_id)["report_ids"] == [first["report_id"]]

    second = manual.submit(summary="再次反映张三宴请拉票")
    manual.triage(second["report_id"], "mark_repeat", expect=422, of_report_id=first["report_id"])
    position = manual.system.casework.max_position()
    repeat = manual.triage(
        second["report_id"],
        "mark_repeat",
        of_report_id=first["report_id"],
        reason="与前件反映同一问题，无新内容",
    )
    assert repeat["status"] == "repeat"
    assert repeat["case_id"] is None
    assert repeat["triage"]["of_report_id"] == first["report_id"]
    assert repeat["triage"]["of_case_id"] == case_id
    assert repeat["triage"]["of_ledger_number"] == first["ledger_number"]
    manual.system.catch_up()
    assert manual.system.casework.max_position() == position  # no new case, no join
    assert manual.case(case_id)["report_ids"] == [first["report_id"]]
    repeat_case = case_id_for_report(UUID(second["report_id"]))
    repeat = manual.client.get(f"/api/v1/cases/{repeat_case}", headers=manual.headers(LEADER))
    assert repeat.status_code == 404

    third = manual.submit(summary="内容空泛，无具体事实")["report_id"]
    proposed = manual.triage(third, "propose_return", reason="无实质内容，建议了结")
    assert proposed["status"] == "return_proposed"
    refused = manual.triage(third, "approve_return", OPERATOR, expect=403)
    assert refused["detail"]
    assert refused["detail_zh"]
    assert manual.report(third)["version"] == proposed["version"]
    returned = manual.triage(third, "approve_return", LEADER, reason="同意了结")
    assert (returned["status"], returned["allowed_actions"]) == (
        "returned",
        ["identify_subject", "send_acceptance_notice", "verify_identity"],
    )

    fourth = manual.submit(summary="反映张三突击提拔亲属")["report_id"]
    manual.triage(fourth, "propose_return", reason="建议了结")
    back = manual.triage(fourth, "reject_return", LEADER, reason="有具体线索，应予受理")
    assert back["status"] == "registered"
    assert back["triage"]["return_rejected"] is True
    assert "accept" in back["allowed_actions"]
    assert manual.triage(fourth, "accept")["status"] == "accepted"


# -- i. joining (并案) ----------------------------------------------------------------------------


def test_a_report_joins_an_open_case(manual: Desk) -> None:
    first = manual.submit()["report_id"]
    case_id = manual.triage(first, "accept")["case_id"]
    manual.system.catch_up()
    manual.act(case_id, "assign", LEADER, handler_id=HANDLER[0])

    second = manual.submit(
        categories=["seeking_office"],
        summary="反映张三跑官要官",
        reporter=REAL_NAME,
        channel="letter",
    )["report_id"]
    joined = manual.triage(second, "accept", join_case_id=case_id, reason="同一对象同类问题，并案")
    assert (joined["status"], joined["case_id"]) == ("accepted", case_id)
    manual.system.catch_up()
    case = manual.case(case_id)
    assert case["report_ids"] == [first, second]
    assert case["categories"] == ["vote_buying", "seeking_office"]
    assert case["real_name_reporters"] == 1
    assert case["state"] == "assigned"
    own = case_id_for_report(UUID(second))
    assert (
        manual.client.get(f"/api/v1/cases/{own}", headers=manual.headers(LEADER)).status_code == 404
    )

    timeline = manual.timeline(case_id)
    assert case_steps(timeline, case_id) == [
        ("CaseOpened", OPERATOR[0]),
        ("HandlerAssigned", LEADER[0]),
        ("ReportJoined", OPERATOR[0]),
    ]
    joined_step = step(timeline, "ReportJoined")
    assert joined_step["step_zh"] == "并案"
    assert joined_step["detail"]["report_id"] == second
    assert report_steps(timeline, second) == [
        "ReportReceived",
        "ReportRegistered",
        "ReportAccepted",
    ]
    assert deadlines(timeline)["acceptance_notice"]["due"] == working_days_after("2026-11-02", 15)


# -- j. admonition ---------------------------------------------------------------------------------


def test_an_admonition_has_a_six_month_follow_up_that_ends_improved(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Registered on its day (staff back-date at most 90 days, decision 0013).
    monkeypatch.setattr(desk.system.intake, "_today", lambda: dt.date(2026, 4, 1))
    _, case_id = desk.opened_case(received_on="2026-04-01")
    monkeypatch.setattr(desk.system.intake, "_today", lambda: TODAY)
    desk.concluded(case_id, "partly_true")
    decided = desk.act(
        case_id,
        "decide_handling",
        LEADER,
        cadre={"name": "张三", "unit": "青山县交通运输局"},
        handling="admonition",
        decided_on="2026-05-20",
        reason="给予诫勉，限期6个月改正",
    )
    clock = deadlines(decided)["admonition_follow_up#1"]
    assert clock["due"] == add_calendar_months(dt.date(2026, 5, 20), 6).isoformat()
    assert (clock["due"], clock["state"]) == ("2026-11-20", "overdue")
    for lighter in ({}, {"escalate_to": "criticism"}):  # names nothing, or nothing heavier
        error = desk.refused(
            case_id,
            "record_admonition_follow_up",
            HANDLER,
            409,
            handling_id=1,
            outcome="escalated",
            **lighter,
        )
        assert error["rule"] == "escalation_names_handling"
    desk.refused(
        case_id,
        "record_admonition_follow_up",
        OTHER_HANDLER,
        403,
        handling_id=1,
        outcome="improved",
    )
    improved = desk.act(
        case_id,
        "record_admonition_follow_up",
        HANDLER,
        handling_id=1,
        outcome="improved",
        followed_up_on="2026-11-18",
        reason="已按期整改",
    )
    assert deadlines(improved)["admonition_follow_up#1"]["state"] == "met"
    error = desk.refused(
        case_id, "record_admonition_follow_up", HANDLER, 409, handling_id=1, outcome="improved"
    )
    assert error["rule"] == "admonition_decided"

    timeline = desk.timeline(case_id)
    assert case_steps(timeline, case_id) == [
        *CASE_STEPS_TO_CONCLUSION,
        ("HandlingDecided", LEADER[0]),
        ("AdmonitionFollowedUp", HANDLER[0]),
    ]
    effects = step(timeline, "HandlingDecided")["detail"]["effects"]
    assert (effects["bars_promotion_months"], effects["follow_up"]) == (6, True)
    follow_up = step(timeline, "AdmonitionFollowedUp")
    assert (follow_up["step_zh"], follow_up["detail"]["outcome"]) == (
        "诫勉限期改正情况",
        "improved",
    )
    clock = deadlines(timeline)["admonition_follow_up#1"]
    assert (clock["due"], clock["met_on"], clock["state"]) == ("2026-11-20", "2026-11-18", "met")


# -- k. pre-appointment publicity ------------------------------------------------------------------


def test_an_appointment_under_publicity_is_deferred_three_months_but_not_four(
    desk: Desk,
) -> None:
    _, case_id = desk.opened_case()
    desk.act(case_id, "assign", LEADER, handler_id=HANDLER[0])
    error = desk.refused(case_id, "decide_publicity", LEADER, 409, decision="appoint", reason="x")
    assert error["rule"] == "publicity_hold_open"
    held = desk.act(
        case_id,
        "hold_for_publicity",
        OPERATOR,
        cadre={"name": "张三"},
        proposed_post="县交通运输局党组书记",
        publicity_ends_on="2026-11-27",
        reason="公示期间收到反映",
    )
    assert held["state"] == "assigned"

    error = desk.refused(
        case_id,
        "decide_publicity",
        LEADER,
        409,
        decision="defer",
        defer_months=4,
        decided_on="2026-11-23",
        reason="待核查清楚",
    )
    assert error["detail"] == "an appointment may be deferred by at most 3 months"
    assert error["detail_zh"] == "暂缓任职一般不超过3个月"
    deferred = desk.act(
        case_id,
        "decide_publicity",
        LEADER,
        decision="defer",
        defer_months=3,
        decided_on="2026-11-23",
        reason="待核查清楚后再定",
    )
    assert deferred["state"] == "assigned"

    timeline = desk.timeline(case_id)
    assert case_steps(timeline, case_id) == [
        ("CaseOpened", "intake-policy"),
        ("HandlerAssigned", LEADER[0]),
        ("PublicityHeld", OPERATOR[0]),
        ("PublicityDecided", LEADER[0]),
    ]
    decided = step(timeline, "PublicityDecided")
    assert (decided["step_zh"], decided["detail"]["decision"]) == ("任前公示事项决定", "defer")
    assert decided["detail"]["defer_until"] == "2027-02-23"
    assert step(timeline, "PublicityHeld")["detail"]["proposed_post"] == "县交通运输局党组书记"


# -- refusals ---------------------------------------------------------------------------------------


def test_refusals_say_why_and_store_nothing(desk: Desk) -> None:
    report_id, case_id = desk.opened_case()

    error = desk.refused(case_id, "assign", OPERATOR, 403, handler_id="h-9")
    assert "operator may not assign" in error["detail"]
    assert "无权" in error["detail_zh"]
    error = desk.refused(case_id, "assign", HANDLER, 403, handler_id="h-9")
    assert error["rule"] == "own_or_section_case"  # not yet assigned to anyone
    desk.act(case_id, "assign", LEADER, handler_id=HANDLER[0])
    elsewhere = bearer(desk.system.accounts, "h-elsewhere", "handler", section="信访科")
    for refused in (
        desk.client.get(f"/api/v1/cases/{case_id}", headers=elsewhere),
        desk.client.get(f"/api/v1/cases/{case_id}/timeline", headers=elsewhere),
        desk.client.post(
            f"/api/v1/cases/{case_id}/propose_disposition",
            json={"disposition": "park", "reason": "x"},
            headers=elsewhere,
        ),
    ):
        assert refused.status_code == 403, refused.text
        assert refused.json()["rule"] == "own_or_section_case"
    error = desk.refused(
        case_id, "propose_disposition", OTHER_HANDLER, 403, disposition="park", reason="x"
    )
    assert error["rule"] == "assigned_handler_only"
    error = desk.refused(case_id, "approve_conclusion", LEADER, 409)
    assert "cannot approve conclusion" in error["detail"]
    assert "已分办" in error["detail_zh"]

    position = desk.system.casework.max_position()
    bad = desk.client.post(
        f"/api/v1/cases/{case_id}/propose_conclusion",
        json={"verdicts": {"astrology": "maybe"}, "reason": " ", "expected_version": 0, "x": 1},
        headers=desk.headers(HANDLER),
    )
    assert bad.status_code == 422
    fields = {p["field"] for p in bad.json()["problems"]}
    assert {
        "verdicts.astrology.[key]",
        "verdicts.astrology",
        "reason",
        "expected_version",
        "x",
    } <= (fields)
    assert all(p["problem"] for p in bad.json()["problems"])
    assert desk.system.casework.max_position() == position
    anonymous = desk.client.post(
        f"/api/v1/cases/{case_id}/propose_conclusion", json={"verdicts": {"astrology": "maybe"}}
    )
    assert anonymous.status_code == 401  # who is asking comes before what is asked

    unknown = uuid4()
    missing = desk.client.post(
        f"/api/v1/cases/{unknown}/assign", json={"handler_id": "h-1"}, headers=desk.headers(LEADER)
    )
    assert missing.status_code == 404
    assert str(unknown) in missing.json()["detail"]
    assert missing.json()["detail_zh"]
    reader = desk.headers(LEADER)
    assert desk.client.get(f"/api/v1/cases/{unknown}", headers=reader).status_code == 404
    assert desk.client.get(f"/api/v1/reports/{unknown}", headers=reader).status_code == 404

    no_action = desk.client.post(
        f"/api/v1/cases/{case_id}/fly", json={}, headers=desk.headers(LEADER)
    )
    assert no_action.status_code == 404
    assert all(action in no_action.json()["detail"] for action in COMMANDS)
    assert "'fly'" in no_action.json()["detail"]

    triage_refused = desk.client.post(
        f"/api/v1/reports/{report_id}/refer_out",
        json={"member_unit": "audit_bureau"},
        headers=desk.headers(OPERATOR),
    )
    assert triage_refused.status_code == 409
    assert triage_refused.json()["detail_zh"]
    assert desk.system.casework.max_position() == position


def test_two_edits_of_the_same_version_one_wins_the_other_is_told(desk: Desk) -> None:
    _, case_id = desk.opened_case()
    version = desk.case(case_id)["version"]
    first = desk.act(case_id, "assign", LEADER, handler_id="h-1", expected_version=version)
    assert first["version"] == version + 1
    position = desk.system.casework.max_position()
    late = desk.act(
        case_id, "assign", LEADER, expect=409, handler_id="h-2", expected_version=version
    )
    assert "changed by someone else" in late["detail"]
    assert f"you read version {version}, it is now {version + 1}" in late["detail"]
    assert late["detail_zh"] == "案件已被他人更新，请刷新后重试"
    assert desk.case(case_id)["handler_id"] == "h-1"
    assert desk.system.casework.max_position() == position


def _case_events(dsn: str, case_id: str) -> list[tuple[int, str]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT originator_version, topic FROM casework.casework_events "
            "WHERE originator_id = %s ORDER BY originator_version",
            (UUID(case_id),),
        ).fetchall()
    return [(v, t.rsplit(".", 1)[-1]) for v, t in rows]


def test_two_racing_commands_without_a_version_never_overwrite_each_other(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests read the case before either saves (held at a barrier); PostgreSQL's
    unique (case, version) lets one append, and the other is refused with 409."""
    _, case_id = desk.opened_case()
    desk.concluded(case_id, "true")
    dsn = desk.system.settings.database_url
    assert dsn is not None
    before = _case_events(dsn, case_id)
    position = desk.system.casework.max_position()

    barrier = threading.Barrier(2, timeout=10)
    load: Callable[[UUID], Any] = desk.system.casework.get_case

    def get_case_then_wait(case: UUID) -> Any:
        loaded = load(case)
        barrier.wait()  # both requests now hold the same version
        return loaded

    monkeypatch.setattr(desk.system.casework, "get_case", get_case_then_wait)
    answers: dict[str, Any] = {}
    app = desk.client.app
    leader = desk.headers(LEADER)

    def decide(handling: str) -> None:
        with TestClient(app) as client:
            answers[handling] = client.post(
                f"/api/v1/cases/{case_id}/decide_handling",
                json={"cadre": {"name": "张三"}, "handling": handling, "reason": handling},
                headers=leader,
            )

    threads = [threading.Thread(target=decide, args=(h,)) for h in ("demotion", "criticism")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    monkeypatch.undo()

    statuses = sorted(r.status_code for r in answers.values())
    assert statuses == [200, 409], {h: r.text for h, r in answers.items()}
    winner = next(h for h, r in answers.items() if r.status_code == 200)
    loser = next(r for r in answers.values() if r.status_code == 409)
    assert "changed by someone else" in loser.json()["detail"]
    assert loser.json()["detail_zh"] == "案件已被他人更新，请刷新后重试"
    after = _case_events(dsn, case_id)
    assert after == [*before, (before[-1][0] + 1, "HandlingDecided")]
    assert desk.system.casework.max_position() == position + 1
    case = desk.case(case_id)
    assert [h["handling"] for h in case["handlings"]] == [winner]
    assert case["version"] == after[-1][0]

    # Without the barrier, many racers: every success appends exactly one event.
    outcomes: list[int] = []
    lock = threading.Lock()

    def find(n: int) -> None:
        with TestClient(app) as client:
            response = client.post(
                f"/api/v1/cases/{case_id}/decide_handling",
                json={"cadre": {"name": "张三"}, "handling": "criticism", "reason": f"#{n}"},
                headers=leader,
            )
        with lock:
            outcomes.append(response.status_code)

    racers = [threading.Thread(target=find, args=(n,)) for n in range(6)]
    for thread in racers:
        thread.start()
    for thread in racers:
        thread.join(timeout=30)
    assert set(outcomes) <= {200, 409}, outcomes
    final = _case_events(dsn, case_id)
    assert len(final) == len(after) + outcomes.count(200)
    assert [v for v, _ in final] == list(range(1, len(final) + 1))
    assert len(desk.case(case_id)["handlings"]) == 1 + outcomes.count(200)


# -- configuration reaches the procedure and the timeline ------------------------------------------

SCHEDULE_2027 = OfficialSchedule(
    year=2027,
    holidays=[dt.date(2027, 1, 1), dt.date(2027, 1, 2), dt.date(2027, 1, 3)],
    makeup_workdays=[dt.date(2027, 1, 9)],
    source="国办发明电〔2026〕测试号",
)


def test_a_provisional_deadline_is_recounted_everywhere_once_the_year_is_loaded(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Registered on its day: never a receipt in the future (decision 0013).
    monkeypatch.setattr(desk.system.intake, "_today", lambda: dt.date(2026, 12, 14))
    _, case_id = desk.opened_case(received_on="2026-12-14")
    desk.disposed(case_id, "talk_inquiry")
    sent = desk.act(case_id, "send_inquiry_letter", HANDLER, sent_on="2026-12-21")
    projected = CALENDAR.add_working_days(dt.date(2026, 12, 21), 15)
    assert projected.provisional
    clock = deadlines(sent)["inquiry_reply"]
    assert (clock["due"], clock["provisional"]) == (projected.due.isoformat(), True)
    assert "暂定" in clock["note"]
    clock = deadlines(desk.timeline(case_id))["inquiry_reply"]
    assert (clock["due"], clock["provisional"]) == (projected.due.isoformat(), True)

    firm = CALENDAR.with_schedule(SCHEDULE_2027).add_working_days(dt.date(2026, 12, 21), 15)
    assert (firm.due, firm.provisional) == (dt.date(2027, 1, 11), False)
    assert firm.due != projected.due
    desk.system.config.load_schedule(SCHEDULE_2027, changed_by="admin-1")
    try:
        clock = deadlines(desk.case(case_id))["inquiry_reply"]
        assert (clock["due"], clock["provisional"]) == ("2027-01-11", False)
        clock = deadlines(desk.timeline(case_id))["inquiry_reply"]
        assert (clock["due"], clock["provisional"]) == ("2027-01-11", False), clock
    finally:
        with desk.system.config.db.transaction() as cur:
            cur.execute("DELETE FROM calendar_schedules WHERE year = 2027")
        desk.system.config.invalidate()


def test_the_publicity_deferral_limit_is_the_configured_one(desk: Desk) -> None:
    _, case_id = desk.opened_case()
    desk.act(
        case_id,
        "hold_for_publicity",
        OPERATOR,
        cadre={"name": "张三"},
        proposed_post="县交通运输局党组书记",
        publicity_ends_on="2026-11-27",
    )
    desk.system.config.set_table(
        "time_limits", {"publicity_defer_max_months": 4}, changed_by="admin-1"
    )
    try:
        error = desk.refused(
            case_id, "decide_publicity", LEADER, 409, decision="defer", defer_months=5, reason="x"
        )
        assert error["detail"] == "an appointment may be deferred by at most 4 months"
        assert error["detail_zh"] == "暂缓任职一般不超过4个月"
        deferred = desk.act(
            case_id,
            "decide_publicity",
            LEADER,
            decision="defer",
            defer_months=4,
            decided_on="2026-11-23",
            reason="按配置可暂缓4个月",
        )
        assert deferred["state"] == "open"
    finally:
        desk.system.config.set_table("time_limits", {}, changed_by="admin-1")


# -- issue 10: per cadre, as of, the false-accusation case, after closure, guards ---------------


def test_two_cadres_of_one_report_each_get_their_own_verdict_and_reply(desk: Desk) -> None:
    """One report, two cadres: 属实 for one (admonished; after closure the failed follow-up
    leads to the demotion it names), 不属实 for the other (cleared; the accuser, a registered
    cadre, handled in the false-accusation case). Integrity replies differ, as of each day."""
    from schemas.views import CadreRecord

    desk.system.read.register.upsert(
        [
            CadreRecord(cadre_id="QS-0101", name="钱程", unit="青山县审计局", position="副局长"),
            CadreRecord(cadre_id="QS-0102", name="孙岩", unit="青山县审计局", position="科长"),
            CadreRecord(cadre_id="QS-0103", name="周密", unit="青山县审计局", position="科员"),
        ]
    )
    first = {"name": "钱程", "unit": "青山县审计局", "cadre_id": "QS-0101"}
    second = {"name": "孙岩", "unit": "青山县审计局", "cadre_id": "QS-0102"}
    # The report came in and was accepted a fortnight ago; the steps since state their days.
    desk.system.clock.set(dt.datetime(2026, 11, 9, 10, 0, tzinfo=CHINA_TIME))
    _, case_id = desk.opened_case(subjects=[first, second], categories=["seeking_office"])
    assert desk.disposed(case_id, "preliminary_verification")["state"] == "verification"
    desk.on(dt.date(2026, 11, 16))  # the office's clock moves with the story
    desk.act(
        case_id,
        "record_finding",
        HANDLER,
        kind="interview",
        summary="分别谈话",
        found_on="2026-11-16",
    )
    error = desk.refused(
        case_id,
        "propose_conclusion",
        HANDLER,
        409,
        verdicts={"seeking_office": "true"},
        reason="一并认定",
    )
    assert error["rule"] == "conclusion_per_cadre"
    desk.act(
        case_id,
        "propose_conclusion",
        HANDLER,
        cadre_verdicts=[
            {"cadre": {"cadre_id": "QS-0101"}, "category": "seeking_office", "verdict": "true"},
            {"cadre": {"cadre_id": "QS-0102"}, "category": "seeking_office", "verdict": "untrue"},
        ],
        reason="分别认定",
    )
    desk.on(dt.date(2026, 11, 17))
    desk.act(case_id, "approve_conclusion", LEADER, approved_on="2026-11-17")
    error = desk.refused(
        case_id,
        "decide_handling",
        LEADER,
        409,
        cadre={"cadre_id": "QS-0102"},
        handling="demotion",
        reason="x",
    )
    assert error["rule"] == "proven_for_handling"
    desk.on(dt.date(2026, 11, 18))
    desk.act(
        case_id,
        "decide_handling",
        LEADER,
        cadre={"cadre_id": "QS-0101"},
        handling="admonition",
        decided_on="2026-11-18",
        reason="诫勉",
    )
    desk.on(dt.date(2026, 11, 19))
    desk.act(case_id, "propose_clearing", HANDLER, cadre={"cadre_id": "QS-0102"}, reason="澄清")
    desk.act(
        case_id, "approve_clearing", LEADER, cadre={"cadre_id": "QS-0102"}, approved_on="2026-11-19"
    )
    desk.act(
        case_id,
        "carry_out_clearing",
        HANDLER,
        cadre={"cadre_id": "QS-0102"},
        method="letter",
        scope="本人",
        carried_out_on="2026-11-19",
    )
    desk.act(
        case_id,
        "suspect_false_accusation",
        LEADER,
        cadre={"cadre_id": "QS-0102"},
        accuser={"cadre_id": "QS-0103"},
        accuser_status="party_member",
        reason="捏造事实",
    )
    unknown = desk.refused(
        case_id,
        "suspect_false_accusation",
        LEADER,
        422,
        cadre={"cadre_id": "QS-0101"},
        accuser={"cadre_id": "QS-9999"},
        accuser_status="other",
        reason="x",
    )
    assert "QS-9999" in unknown["detail"]
    desk.on(dt.date(2026, 11, 20))
    desk.act(
        case_id,
        "close",
        LEADER,
        closed_on="2026-11-20",
        explanations={"admonition_follow_up#1": "限期改正期未满"},
    )
    desk.on(TODAY)
    desk.act(
        case_id,
        "record_admonition_follow_up",
        HANDLER,
        handling_id=1,
        outcome="escalated",
        escalate_to="demotion",
        followed_up_on="2026-11-23",
        reason="拒不改正",
    )
    after = desk.act(
        case_id,
        "decide_handling",
        LEADER,
        cadre={"cadre_id": "QS-0101"},
        handling="demotion",
        decided_on="2026-11-23",
        escalation_of=1,
        reason="加重处理",
    )
    assert after["state"] == "closed"
    assert [h["handling"] for h in after["handlings"]] == ["admonition", "demotion"]

    counter_id = desk.case(case_id)["linked_case_id"]
    counter = desk.case(counter_id)
    assert counter["kind"] == "false_accusation"
    assert counter["subjects"] == [
        {"name": "周密", "unit": "青山县审计局", "position": "科员", "cadre_id": "QS-0103"}
    ]
    desk.concluded(counter_id, "true", category="other_conduct")
    desk.act(
        counter_id,
        "decide_handling",
        LEADER,
        cadre={"cadre_id": "QS-0103"},
        handling="admonition",
        decided_on="2026-11-23",
        reason="诬告陷害，诫勉",
    )
    desk.system.catch_up()

    def reply(as_of: str) -> dict[str, dict[str, Any]]:
        response = desk.client.post(
            "/api/v1/integrity-replies",
            json={"cadre_ids": ["QS-0101", "QS-0102", "QS-0103"], "as_of": as_of},
            headers=desk.headers(LEADER),
        )
        assert response.status_code == 200, response.text
        return {c["cadre"]["cadre_id"]: c for c in response.json()["cadres"]}

    now, before = reply("2026-11-23"), reply("2026-11-17")
    assert [h["handling"] for h in now["QS-0101"]["proven"][0]["handlings"]] == [
        "admonition",
        "demotion",
    ]
    assert now["QS-0102"]["clean"]
    assert now["QS-0102"]["cleared"][0]["conclusion"]["overall"] == "untrue"
    assert now["QS-0101"]["opinion_zh"] != now["QS-0102"]["opinion_zh"]
    assert now["QS-0103"]["proven"][0]["case_id"] == counter_id
    # As of 2026-11-17: concluded, not yet handled, cleared or closed.
    (item,) = before["QS-0101"]["proven"]
    assert (item["stage"], item["handlings"]) == ("concluded", [])
    assert before["QS-0102"]["cleared"] == []
    assert before["QS-0103"]["proven"] == []


def test_assign_takes_only_an_active_handler_and_one_publicity_hold_at_a_time(
    desk: Desk,
) -> None:
    _, case_id = desk.opened_case()
    for name in ("nobody", LEADER[0]):
        error = desk.refused(case_id, "assign", LEADER, 422, handler_id=name)
        assert "handler" in error["detail"]
    hold = {
        "cadre": {"cadre_id": "QS-0001"},
        "proposed_post": "局长",
        "publicity_ends_on": "2026-11-27",
    }
    desk.act(case_id, "hold_for_publicity", OPERATOR, **hold)
    error = desk.refused(case_id, "hold_for_publicity", OPERATOR, 409, **hold)
    assert error["rule"] == "one_publicity_hold"
