"""Every item that leaves the office is settled (issue 10, item 4; domain.md "Per cadre, not
per case"): a case transferred to the discipline commission, a report transferred down and
a referral out each come back with the receiver's result per cadre, or stay visibly open with
their report-back deadline (in the queues and the timeline) and the reply says so."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from schemas import commands as c
from schemas.events import Actor, receiver_result_of
from schemas.glossary import Disposition, MemberUnit, ReportStatus, Role
from schemas.views import CadreRecord
from schemas.views_archive import IntegrityRequest
from services.bootstrap import EmbeddedSystem
from services.casework.rules import RuleBroken
from services.intake.domain import IntakeRuleBroken
from services.projections.archive.integrity import IntegrityReplies
from services.projections.archive.queries import ArchiveQueries
from services.projections.cases.queries import CaseQueries
from tests.unit.conftest import (
    advance_to,
    build_embedded,
    envelope,
    make_settings,
    stand_in_handlers,
    submission,
)

OPERATOR = Actor(id="op-1", role=Role.OPERATOR)
LEADER = {"id": "leader-1", "role": "leader"}
HANDLER = {"id": "handler-a", "role": "handler"}
TODAY = dt.date(2026, 3, 2)  # a Monday
STUDY = c.CollectiveStudy(held_on=TODAY, participants=["李书记", "王部长"])
FINANCE = "某县财政局"
WANG = {"name": "王建国", "unit": FINANCE, "position": "局长", "cadre_id": "C-001"}
LI = {"name": "李明华", "unit": FINANCE, "position": "副局长", "cadre_id": "C-002"}


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = stand_in_handlers(build_embedded(make_settings(tmp_path), TODAY))
    system.read.register.upsert(
        [CadreRecord(**{k: v for k, v in s.items() if k != "position"}, position=s["position"])
         for s in (WANG, LI)]
    )  # fmt: skip
    yield system
    system.stop()


def reply(system: EmbeddedSystem, cadre_id: str, as_of: dt.date) -> Any:
    replies = IntegrityReplies(ArchiveQueries(system.read.store, system.read.register))
    (cadre,) = replies.reply(IntegrityRequest(cadre_ids=[cadre_id], as_of=as_of)).cadres
    return cadre


def queues(system: EmbeddedSystem, on: dt.date) -> CaseQueries:
    return CaseQueries(system.read.store, system.config, today=lambda: on)


def two_cadre_report(system: EmbeddedSystem, **overrides: Any) -> UUID:
    return UUID(system.intake.submit(submission(subjects=[WANG, LI], **overrides)).report_id)


def transferred_case(system: EmbeddedSystem) -> UUID:
    report = system.intake.triage(two_cadre_report(system), "accept", c.Accept(), OPERATOR)
    assert report.case_id is not None
    system.catch_up()
    run = system.casework.execute
    run(report.case_id, "assign", c.Assign(handler_id="handler-a"), LEADER)
    run(
        report.case_id,
        "propose_disposition",
        c.ProposeDisposition(disposition=Disposition.TRANSFER_TO_DISCIPLINE, reason="涉嫌违纪"),
        HANDLER,
    )
    run(report.case_id, "approve_disposition", c.ApproveDisposition(collective_study=STUDY), LEADER)
    system.catch_up()
    return report.case_id


def outcomes(**by_cadre: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"cadre": {"cadre_id": k.replace("_", "-")}} | v for k, v in by_cadre.items()]


# -- the discipline commission -------------------------------------------------------------------


def test_a_transferred_case_stays_open_with_its_report_back_deadline_until_the_result(
    system: EmbeddedSystem,
) -> None:
    case_id = transferred_case(system)
    due = system.config.calendar().add_working_days(TODAY, 90).due

    waiting = reply(system, "C-001", TODAY)
    (item,) = waiting.open_items
    assert waiting.stands_in_the_way
    assert item.report_back_due == due
    assert "移送纪检监察机关" in item.text_zh
    assert "尚未反馈办理结果" in item.text_zh
    # The handler's queue keeps the transferred case, with the deadline; overdue after it.
    (listed,) = queues(system, TODAY).mine("handler-a")
    assert [d.name for d in listed.deadlines] == ["discipline_report_back"]
    late = queues(system, due + dt.timedelta(days=1)).overdue()
    assert [(i.case_id, i.clock.name) for i in late] == [(str(case_id), "discipline_report_back")]
    assert "已逾期" in reply(system, "C-001", due + dt.timedelta(days=1)).open_items[0].text_zh


def test_the_discipline_commission_s_result_settles_each_cadre_on_its_own(
    system: EmbeddedSystem,
) -> None:
    case_id = transferred_case(system)
    reported = dt.date(2026, 5, 6)
    result = c.RecordDisciplineResult.model_validate(
        {
            "outcomes": outcomes(
                C_001={
                    "verdict": "true",
                    "handling": "dismissal",
                    "sanction": {"kind": "party_discipline", "text": "党内严重警告",
                                 "bars_promotion_months": 18},
                },
                C_002={"verdict": "untrue"},
            ),
            "reported_on": reported,
            "document_number": "青纪审〔2026〕12号",
            "reason": "纪委监委反馈审查调查结果",
        }
    )  # fmt: skip

    advance_to(system, reported)  # a result is not reported in the future (review finding 8)
    system.casework.execute(case_id, "record_discipline_result", result, HANDLER)
    system.catch_up()

    wang = reply(system, "C-001", dt.date(2026, 6, 1))
    (proven,) = wang.proven
    assert wang.stands_in_the_way
    assert wang.open_items == []
    assert proven.receiver_result is not None
    assert proven.receiver_result.document_number == "青纪审〔2026〕12号"
    assert [o.cadre["cadre_id"] for o in proven.receiver_result.outcomes] == ["C-001"]
    # The same effects table as the office's own dismissals: no leading post 12 months, no
    # promotion 24; and the sanction's own 18 months.
    bars = {(b.bar, b.months, b.ends_on) for b in wang.running_bars}
    assert ("leading_post", 12, dt.date(2027, 5, 6)) in bars
    assert ("promotion", 24, dt.date(2028, 5, 6)) in bars
    assert ("promotion", 18, dt.date(2027, 11, 6)) in bars
    assert "免职" in proven.text_zh
    assert "党内严重警告" in proven.text_zh

    li = reply(system, "C-002", dt.date(2026, 6, 1))
    assert not li.stands_in_the_way
    assert li.clean
    assert [i.status for i in li.other] == ["untrue"]
    assert li.running_bars == []
    # Each cadre's archive holds only their own outcome.
    archive = ArchiveQueries(system.read.store, system.read.register).archive("C-002")
    (case,) = archive.cases
    (step,) = [e for e in case.entries if e.kind == "DisciplineResultRecorded"]
    assert [o["cadre"]["cadre_id"] for o in step.detail["outcomes"]] == ["C-002"]
    # As of a day before the result came back, the case was still open for both.
    assert reply(system, "C-002", dt.date(2026, 5, 5)).stands_in_the_way
    # The deadline is met and leaves the queues; the timeline has the step.
    assert queues(system, dt.date(2027, 1, 4)).overdue() == []
    timeline = system.read.queries.timeline(str(case_id))
    assert timeline is not None
    assert timeline.steps[-1].step == "DisciplineResultRecorded"


def test_a_discipline_result_must_name_each_cadre_of_the_case_once(
    system: EmbeddedSystem,
) -> None:
    case_id = transferred_case(system)
    run = system.casework.execute

    def attempt(by_cadre: dict[str, dict[str, Any]]) -> None:
        command = c.RecordDisciplineResult.model_validate(
            {"outcomes": outcomes(**by_cadre), "document_number": "纪〔2026〕1号"}
        )
        run(case_id, "record_discipline_result", command, LEADER)

    with pytest.raises(RuleBroken, match="one outcome for each cadre"):
        attempt({"C_001": {"verdict": "true"}})
    with pytest.raises(RuleBroken, match="named in the case"):
        attempt({"C_001": {"verdict": "true"}, "C_009": {"verdict": "true"}})
    attempt({"C_001": {"verdict": "unproven"}, "C_002": {"verdict": "untrue"}})
    with pytest.raises(RuleBroken, match="already recorded"):
        attempt({"C_001": {"verdict": "true"}, "C_002": {"verdict": "true"}})


def test_a_handling_goes_with_a_proven_verdict_only() -> None:
    with pytest.raises(ValidationError, match="true or partly true only"):
        c.CadreOutcome.model_validate(
            {"cadre": {"cadre_id": "C-001"}, "verdict": "untrue", "handling": "dismissal"}
        )
    with pytest.raises(ValidationError, match="document_number"):
        c.RecordDisciplineResult.model_validate(
            {"outcomes": [{"cadre": {"cadre_id": "C-001"}, "verdict": "true"}]}
        )


# -- a report transferred down ------------------------------------------------------------------


def test_a_report_transferred_down_is_open_until_the_level_below_reports_its_result(
    system: EmbeddedSystem,
) -> None:
    report_id = two_cadre_report(system)
    system.intake.triage(
        report_id,
        "transfer_down",
        c.TransferDown(to_unit="某镇党委", reason="属下级管理"),
        OPERATOR,
    )
    advance_to(system, dt.date(2026, 3, 4))
    system.intake.triage(
        report_id,
        "acknowledge_transfer",
        c.AcknowledgeTransfer(acknowledged_on=dt.date(2026, 3, 4)),
        OPERATOR,
    )
    system.catch_up()
    due = system.config.calendar().add_working_days(TODAY, 60).due

    (item,) = reply(system, "C-002", TODAY).open_items
    assert item.report_back_due == due
    assert "转下级办理" in item.text_zh
    late = queues(system, due + dt.timedelta(days=1)).overdue()
    assert [(i.subject_id, i.clock.name) for i in late] == [
        (str(report_id), "transfer_report_back")
    ]
    # The report's own timeline shows the same clock.
    timeline = system.read.queries.report_timeline(str(report_id))
    assert timeline is not None
    clocks = {d.name: d for d in timeline.deadlines}
    assert clocks["transfer_report_back"].due == due

    result = c.RecordTransferResult.model_validate(
        {
            "outcomes": [
                {"cadre": {"name": "王建国", "unit": FINANCE}, "verdict": "partly_true",
                 "handling": "admonition"},
                {"cadre": {"cadre_id": "C-002"}, "verdict": "unproven"},
            ],
            "reported_on": dt.date(2026, 4, 1),
            "document_number": "某镇党委〔2026〕3号",
        }
    )  # fmt: skip
    advance_to(system, dt.date(2026, 4, 1))
    report = system.intake.triage(report_id, "record_transfer_result", result, OPERATOR)
    system.catch_up()

    assert report.status is ReportStatus.TRANSFER_CONCLUDED
    wang = reply(system, "C-001", dt.date(2026, 5, 1))
    (proven,) = wang.proven
    assert {(b.bar, b.months) for b in wang.running_bars} == {("promotion", 6), ("key_post", 6)}
    assert "诫勉" in proven.text_zh
    li = reply(system, "C-002", dt.date(2026, 5, 1))
    assert [i.status for i in li.other] == ["unproven"]
    assert not li.stands_in_the_way
    assert queues(system, due + dt.timedelta(days=1)).overdue() == []  # met on 1 April


def test_a_transfer_result_waits_for_the_acknowledgement_and_names_the_report_s_cadres(
    system: EmbeddedSystem,
) -> None:
    report_id = two_cadre_report(system)
    system.intake.triage(report_id, "transfer_down", c.TransferDown(to_unit="某镇党委"), OPERATOR)
    both = {
        "outcomes": [
            {"cadre": {"cadre_id": "C-001"}, "verdict": "untrue"},
            {"cadre": {"cadre_id": "C-002"}, "verdict": "untrue"},
        ],
        "document_number": "某镇〔2026〕1号",
    }
    with pytest.raises(Exception, match="acknowledged"):
        system.intake.triage(
            report_id, "record_transfer_result", c.RecordTransferResult(**both), OPERATOR
        )
    system.intake.triage(report_id, "acknowledge_transfer", c.AcknowledgeTransfer(), OPERATOR)
    one = {**both, "outcomes": both["outcomes"][:1]}
    with pytest.raises(IntakeRuleBroken, match="missing: 李明华"):
        system.intake.triage(
            report_id, "record_transfer_result", c.RecordTransferResult(**one), OPERATOR
        )
    stranger = {**both, "outcomes": [*both["outcomes"][:1], {"cadre": {"name": "张三"},
                                                              "verdict": "true"}]}  # fmt: skip
    with pytest.raises(IntakeRuleBroken, match="not one of the cadres"):
        system.intake.triage(
            report_id, "record_transfer_result", c.RecordTransferResult(**stranger), OPERATOR
        )
    assert system.intake.get_report(report_id).status is ReportStatus.TRANSFER_ACKNOWLEDGED


# -- a referral out --------------------------------------------------------------------------------


def test_a_referral_result_is_structured_and_free_text_alone_is_refused_over_http(
    system: EmbeddedSystem,
) -> None:
    report_id = two_cadre_report(system, categories=["other_conduct"])
    system.intake.triage(
        report_id, "refer_out", c.ReferOut(member_unit=MemberUnit.AUDIT_BUREAU), OPERATOR
    )
    advance_to(system, dt.date(2026, 4, 20))  # the day the member unit's result is recorded
    principal = system.accounts.create_user(
        "op-settle", "pw-for-tests-only", Role.OPERATOR, "op", enforce_policy=False
    )
    headers = {"Authorization": f"Bearer {system.accounts.issue_token(principal)}"}
    path = f"/api/v1/reports/{report_id}/record_referral_result"
    with TestClient(system.web_app()) as client:
        free_text = client.post(path, json={"result": "已办结"}, headers=headers)
        assert free_text.status_code == 422
        assert "outcomes" in free_text.json()["detail"]
        done = client.post(
            path,
            json={
                "result": "审计发现违规发放补贴，已责令退回",
                "document_number": "审〔2026〕7号",
                "reported_on": "2026-04-20",
                "outcomes": [
                    {"cadre": {"cadre_id": "C-001"}, "verdict": "true",
                     "handling": "written_self_examination"},
                    {"cadre": {"cadre_id": "C-002"}, "verdict": "untrue"},
                ],
            },
            headers=headers,
        )  # fmt: skip
        assert done.status_code == 200, done.text
    system.catch_up()

    triage = system.intake.get_report(report_id).triage
    result = receiver_result_of(triage)
    assert result is not None
    assert result.receiver == MemberUnit.AUDIT_BUREAU.zh
    assert triage["result"] == "审计发现违规发放补贴，已责令退回"  # the words, kept
    wang = reply(system, "C-001", dt.date(2026, 5, 1))
    assert [i.status for i in wang.proven] == ["proven"]
    assert not wang.stands_in_the_way  # 责令检查: recorded, no bar
    assert reply(system, "C-002", dt.date(2026, 5, 1)).clean
    # Before the result, the referral's 3-month report-back deadline stood in the reply.
    (before,) = reply(system, "C-002", dt.date(2026, 4, 19)).open_items
    assert before.report_back_due == dt.date(2026, 6, 2)


def test_an_old_free_text_referral_result_stays_readable(system: EmbeddedSystem) -> None:
    """Events stored before results were structured: no receiver_result, a closed item."""
    report_id = uuid4()
    actor = {"id": "op-1", "role": "operator"}
    subject = {"name": "王建国", "unit": FINANCE, "position": "局长", "cadre_id": "C-001"}
    old = [
        envelope("ReportReceived", {
            "channel": "hotline", "categories": ["other_conduct"], "subjects": [subject],
            "summary": "反映问题", "reporter": {"ref": "r", "anonymous": True}, "referral": None,
            "received_on": "2026-01-05", "actor": actor}, aggregate_id=report_id, position=1),
        envelope("ReportRegistered", {"ledger_number": "JB-2026-000001", "actor": actor},
                 aggregate_id=report_id, position=2, aggregate_version=2),
        envelope("ReportTriaged", {
            "outcome": "referred_out", "details": {"member_unit": "audit_bureau",
            "referred_on": "2026-01-06"}, "actor": actor, "reason": ""},
            aggregate_id=report_id, position=3, aggregate_version=3),
        envelope("ReportTriaged", {
            "outcome": "referral_concluded", "details": {"result": "已办结",
            "reported_on": "2026-02-01"}, "actor": actor, "reason": ""},
            aggregate_id=report_id, position=4, aggregate_version=4),
    ]  # fmt: skip
    system.read.store.apply(old, consumer="old-events")

    assert receiver_result_of(old[-1].payload["details"]) is None
    wang = reply(system, "C-001", TODAY)
    assert [i.status for i in wang.other] == ["closed"]
    assert not wang.stands_in_the_way


# -- the pages -------------------------------------------------------------------------------------


def test_the_operator_records_a_referral_result_per_cadre_with_the_page_form(
    tmp_path: Path,
) -> None:
    from tests.unit import pages_support as support

    system = support.build_system(tmp_path / "pages")
    try:
        report_id = support.submit(system, WANG, categories=["other_conduct"])
        system.intake.triage(
            report_id, "refer_out", c.ReferOut(member_unit=MemberUnit.AUDIT_BUREAU), OPERATOR
        )
        advance_to(system, dt.date(2026, 4, 1))
        with TestClient(system.web_app()) as client:
            support.sign_in(client, system, "operator")
            page = client.get(f"/reports/{report_id}")
            assert page.status_code == 200, page.text
            assert 'name="outcomes.0.verdict"' in page.text
            assert "办理结果文号" in page.text
            assert "转办单位反馈办理结果" in page.text  # its report-back deadline
            posted = client.post(
                f"/reports/{report_id}/record_referral_result",
                data={
                    "csrf_token": support.csrf(client),
                    "outcomes.0.verdict": "true",
                    "outcomes.0.sanction.kind": "government_sanction",
                    "outcomes.0.sanction.text": "政务记过",
                    "outcomes.0.sanction.bars_promotion_months": "12",
                    "document_number": "审〔2026〕9号",
                    "reported_on": "2026-04-01",
                },
                follow_redirects=False,
            )
            assert posted.status_code == 303, posted.text
        result = receiver_result_of(system.intake.get_report(report_id).triage)
        assert result is not None
        (outcome,) = result.outcomes
        assert (outcome.cadre.cadre_id, outcome.verdict.value) == ("C-001", "true")
        assert outcome.sanction == {
            "kind": "government_sanction",
            "text": "政务记过",
            "bars_promotion_months": 12,
        }
    finally:
        system.stop()


def test_the_case_page_of_a_transferred_case_asks_the_result_per_cadre(tmp_path: Path) -> None:
    from tests.unit import pages_support as support

    system = support.build_system(tmp_path / "pages")
    try:
        report_id = support.submit(system, WANG, subjects=[WANG, LI])
        report = system.intake.triage(report_id, "accept", c.Accept(), OPERATOR)
        assert report.case_id is not None
        system.catch_up()
        case_id = report.case_id
        support.run(system, case_id, "assign", c.Assign(handler_id="handler"), "leader")
        support.run(
            system,
            case_id,
            "propose_disposition",
            c.ProposeDisposition(disposition=Disposition.TRANSFER_TO_DISCIPLINE, reason="违纪"),
            "handler",
        )
        support.run(
            system, case_id, "approve_disposition", c.ApproveDisposition(collective_study=STUDY),
            "leader",
        )  # fmt: skip
        with TestClient(system.web_app()) as client:
            support.sign_in(client, system, "handler")
            page = client.get(f"/cases/{case_id}")
            assert page.status_code == 200, page.text
            assert "登记纪检监察机关反馈的办理结果" in page.text
            assert 'name="outcomes.1.verdict"' in page.text
            assert "纪检监察机关反馈办理结果" in page.text  # the deadline, by its name
    finally:
        system.stop()


# -- rebuild ---------------------------------------------------------------------------------------


def test_a_rebuild_of_the_settled_items_equals_the_live_read_models(
    system: EmbeddedSystem, tmp_path: Path
) -> None:
    """The demo's settling stories, projected live step by step, and again from the logs in
    one go (timeline v3, archive v3 and every other projection)."""
    from services.common.sql import Database
    from services.demo.stories.settling import seed_settled_items
    from services.projections.store import ReadStore
    from tests.unit.conftest import all_envelopes
    from tests.unit.test_rebuild import assert_same, dump

    seed_settled_items(system)
    events = [*all_envelopes(system.intake), *all_envelopes(system.casework)]
    fresh = ReadStore(Database(sqlite_path=tmp_path / "rebuilt.sqlite"))
    fresh.apply(events, consumer="rebuild")

    live = dump(system.read.store)
    assert live["case_deadlines"]  # the report-back deadlines are there
    assert_same(dump(fresh), live)
