"""Integrity opinion replies (廉政意见回复): open items with their stage, proven findings whose
effect still runs (end date, rule, months left), expired effects, cleared items, the clean
wording; as JSON and as a Word document; checked against the commands given."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from random import Random
from uuid import UUID

import pytest
from docx import Document
from fastapi.testclient import TestClient

from schemas import commands as c
from schemas.glossary import (
    CLEAN_WORDING,
    NO_OBSTACLE_WORDING,
    AdmonitionOutcome,
    Disposition,
    HandlingType,
    MemberUnit,
    Role,
    Verdict,
)
from schemas.views_archive import IntegrityRequest
from services.bootstrap import EmbeddedSystem
from services.projections.archive.documents import DOCX_MEDIA_TYPE
from services.projections.archive.integrity import IntegrityReplies, UnknownCadres
from services.projections.archive.integrity_items import months_remaining
from services.projections.archive.queries import ArchiveQueries
from tests.unit.conftest import (
    advance_to,
    build_embedded,
    make_settings,
    real_name_reporter,
    receiver_result,
    stand_in_handlers,
)
from tests.unit.test_archive_full import (
    EDUCATION,
    FINANCE,
    OPERATOR,
    REGISTER,
    SECRETS,
    TRANSPORT,
    Driver,
    add_months,
    expected_bars,
    random_history,
    token,
)

AS_OF = dt.date(2026, 3, 15)
THIRTEEN_MONTHS_AGO = dt.date(2025, 2, 15)
RECEIVED = dt.date(2025, 1, 6)


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path), RECEIVED)
    stand_in_handlers(system)
    system.read.register.upsert(REGISTER)
    yield system
    system.stop()


def replies(system: EmbeddedSystem) -> IntegrityReplies:
    return IntegrityReplies(
        ArchiveQueries(system.read.store, system.read.register), today=lambda: AS_OF
    )


def dismissed_and_cleared(system: EmbeddedSystem) -> None:
    """C-001 dismissed 13 months before AS_OF; C-002's untrue report ended with clearing;
    C-003 has a case still under verification; C-004 nothing at all."""
    drive = Driver(system)
    cats = ("seeking_office",)
    _, _, proven = drive.submit(
        [{"name": "王建国", "unit": FINANCE, "cadre_id": "C-001"}], reporter=real_name_reporter()
    )
    _, _, untrue = drive.submit([{"name": "李明华", "unit": EDUCATION, "cadre_id": "C-002"}])
    _, _, open_case = drive.submit([{"name": "赵志刚", "unit": TRANSPORT}])
    assert proven
    assert untrue
    assert open_case
    drive.verify(proven, cats, Verdict.TRUE, dt.date(2025, 2, 1))
    drive.handle(proven, c.CadreRef(cadre_id="C-001"), HandlingType.DISMISSAL, THIRTEEN_MONTHS_AGO)
    drive.close(proven, THIRTEEN_MONTHS_AGO)
    drive.verify(untrue, cats, Verdict.UNTRUE, dt.date(2025, 5, 1))
    drive.clear(untrue, c.CadreRef(cadre_id="C-002"), dt.date(2025, 6, 1))
    drive.close(untrue, dt.date(2025, 6, 2))
    drive.dispose(open_case, Disposition.PRELIMINARY_VERIFICATION)
    system.catch_up()


def test_a_cadre_dismissed_13_months_ago_may_hold_a_leading_post_but_not_be_promoted(
    system: EmbeddedSystem,
) -> None:
    dismissed_and_cleared(system)

    reply = replies(system).reply(IntegrityRequest(cadre_ids=["C-001"], as_of=AS_OF))

    (cadre,) = reply.cadres
    assert reply.as_of == AS_OF
    assert cadre.stands_in_the_way
    assert not cadre.clean
    (item,) = cadre.proven
    assert item.conclusion is not None
    assert item.conclusion.overall == "true"
    (handling,) = item.handlings
    assert handling.handling == "dismissal"
    assert handling.decided_on == THIRTEEN_MONTHS_AGO
    assert "免职的，1年内不得安排领导职务" in handling.rule_zh
    bars = {b.bar: b for b in handling.bars}
    leading, promotion = bars["leading_post"], bars["promotion"]
    assert not leading.running
    assert leading.ends_on == dt.date(2026, 2, 15)
    assert leading.months_remaining == 0
    assert promotion.running
    assert promotion.ends_on == dt.date(2027, 2, 15)
    assert promotion.months_remaining == 11
    assert [b.bar for b in cadre.running_bars] == ["promotion"]
    assert [b.bar for b in cadre.expired_bars] == ["leading_post"]
    assert "不得安排领导职务的期限已于2026年2月15日期满" in cadre.opinion_zh
    assert "不得提拔的期限至2027年2月15日期满，尚余11个月" in cadre.opinion_zh
    assert CLEAN_WORDING not in cadre.opinion_zh
    assert cadre.open_items == []


def test_a_cleared_cadre_shows_the_clearing_and_no_bar_and_says_nothing_stands_in_the_way(
    system: EmbeddedSystem,
) -> None:
    dismissed_and_cleared(system)

    (cadre,) = replies(system).reply(IntegrityRequest(cadre_ids=["C-002"])).cadres

    (item,) = cadre.cleared
    assert item.clearing is not None
    assert item.clearing.carried_out_on == dt.date(2025, 6, 1)
    assert item.clearing.method == "party_committee_notice"
    assert item.clearing.scope == "所在单位党组"
    assert "澄清正名" in item.text_zh
    assert not item.stands_in_the_way
    assert cadre.running_bars == cadre.expired_bars == []
    assert cadre.open_items == cadre.proven == []
    assert cadre.clean
    assert not cadre.stands_in_the_way
    # Not "no clues received": there was one, and the reply says how it ended.
    assert cadre.opinion_zh == f"{item.text_zh}{NO_OBSTACLE_WORDING}。"


def test_open_items_stand_in_the_way_with_their_stage_and_nothing_means_clean(
    system: EmbeddedSystem,
) -> None:
    dismissed_and_cleared(system)
    Driver(system).submit(
        [{"name": "张德山", "unit": TRANSPORT, "cadre_id": "C-004"}],
        categories=("other_conduct",),  # waits for an operator
    )
    reply = replies(system).reply(IntegrityRequest(cadre_ids=["C-003", "C-004", "C-003"]))

    assert [x.cadre.cadre_id for x in reply.cadres] == ["C-003", "C-004"]  # once each
    verifying, waiting = reply.cadres
    (item,) = verifying.open_items
    assert item.stage == "verification"
    assert item.stage_zh == "初步核实中"
    assert "正在办理（初步核实中）" in verifying.opinion_zh
    assert verifying.stands_in_the_way
    (report,) = waiting.open_items
    assert report.case_id is None
    assert report.stage == "registered"
    assert waiting.stands_in_the_way

    advance_to(system, AS_OF)
    for path in ("refer_out", "record_referral_result"):
        command: c.Command = (
            c.ReferOut(member_unit=MemberUnit.DISCIPLINE_COMMISSION)
            if path == "refer_out"
            else receiver_result(
                system.intake, report.report_id, result="已办结，未发现问题", reported_on=AS_OF
            )
        )
        system.intake.triage(UUID(report.report_id or ""), path, command, OPERATOR)
    system.catch_up()
    (settled,) = replies(system).reply(IntegrityRequest(cadre_ids=["C-004"])).cadres
    assert settled.open_items == []
    assert [i.status for i in settled.other] == ["untrue"]  # the member unit's verdict
    assert settled.clean
    assert settled.opinion_zh == f"{settled.other[0].text_zh}{NO_OBSTACLE_WORDING}。"


def test_an_admonition_shows_its_follow_up_and_bars_for_six_months(
    system: EmbeddedSystem,
) -> None:
    drive = Driver(system)
    _, _, case_id = drive.submit([{"name": "王建国", "unit": FINANCE, "cadre_id": "C-001"}])
    assert case_id
    decided = dt.date(2026, 1, 10)
    drive.verify(case_id, ("seeking_office",), Verdict.PARTLY_TRUE, decided)
    drive.handle(case_id, c.CadreRef(cadre_id="C-001"), HandlingType.ADMONITION, decided)
    drive.run(
        case_id,
        (
            "record_admonition_follow_up",
            c.AdmonitionFollowUp(
                handling_id=1,
                outcome=AdmonitionOutcome.IMPROVED,
                followed_up_on=dt.date(2026, 3, 1),
            ),
            {"id": "handler-1", "role": "handler"},
        ),
    )
    drive.close(case_id, dt.date(2026, 3, 2))
    system.catch_up()

    during, after = (
        replies(system).reply(IntegrityRequest(cadre_ids=["C-001"], as_of=day)).cadres[0]
        for day in (dt.date(2026, 5, 1), dt.date(2026, 7, 10))
    )

    (handling,) = during.proven[0].handlings
    assert handling.admonition_outcome == "improved"
    assert handling.admonition_followed_up_on == dt.date(2026, 3, 1)
    assert {(b.bar, b.ends_on, b.running) for b in handling.bars} == {
        ("promotion", dt.date(2026, 7, 10), True),
        ("key_post", dt.date(2026, 7, 10), True),
    }
    assert during.stands_in_the_way
    assert "诫勉限期改正情况：已改正" in during.opinion_zh
    assert not after.stands_in_the_way  # the bar ends on its end date
    assert after.opinion_zh.endswith(f"{NO_OBSTACLE_WORDING}。")
    assert "诫勉" in after.opinion_zh
    assert {b.bar for b in after.expired_bars} == {"promotion", "key_post"}


def test_months_remaining_counts_part_months_as_whole() -> None:
    assert months_remaining(dt.date(2026, 3, 15), dt.date(2027, 2, 15)) == 11
    assert months_remaining(dt.date(2026, 3, 16), dt.date(2027, 2, 15)) == 11
    assert months_remaining(dt.date(2026, 3, 14), dt.date(2027, 2, 15)) == 12
    assert months_remaining(dt.date(2027, 2, 15), dt.date(2027, 2, 15)) == 0
    assert months_remaining(dt.date(2026, 1, 31), dt.date(2026, 2, 28)) == 1


def test_unknown_cadre_ids_are_named_and_nothing_is_produced(system: EmbeddedSystem) -> None:
    with pytest.raises(UnknownCadres, match="C-404, C-405") as raised:
        replies(system).reply(IntegrityRequest(cadre_ids=["C-001", "C-404", "C-405"]))
    assert raised.value.cadre_ids == ["C-404", "C-405"]


# -- a random history ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [7, 23])
def test_replies_match_the_commands_of_a_random_history(system: EmbeddedSystem, seed: int) -> None:
    expected = random_history(system, seed)
    chance = Random(seed)
    service = replies(system)
    for _ in range(3):
        # After every business date of the history (what a past as_of leaves out: the as-of
        # tests of tests/unit/test_per_cadre.py); the bars run or have expired by then.
        as_of = dt.date(2026, 4, 1) + dt.timedelta(days=chance.randint(0, 800))
        reply = service.reply(
            IntegrityRequest(cadre_ids=[c.cadre_id for c in REGISTER], as_of=as_of)
        )
        for cadre in reply.cadres:
            mine = [e for e in expected if cadre.cadre.cadre_id in e.cadre_ids]
            open_paths = {"open", "parked", "transferred", "referred_out"}
            assert {i.report_id for i in cadre.open_items} == {
                e.report_id for e in mine if e.path in open_paths
            }
            assert {i.case_id for i in cadre.proven} == {
                e.case_id for e in mine if e.path == "proven"
            }
            assert {
                (i.case_id, i.clearing.carried_out_on if i.clearing else None)
                for i in cadre.cleared
            } == {(e.case_id, e.cleared_on) for e in mine if e.path == "cleared"}
            running = {
                (bar, end)
                for e in mine
                for handling, on, _ in e.handlings
                for bar, end in expected_bars(handling, on)
                if as_of < end
            }
            assert {(b.bar, b.ends_on) for b in cadre.running_bars} == running
            for bar in cadre.running_bars:
                assert add_months(as_of, bar.months_remaining) >= bar.ends_on
                assert add_months(as_of, bar.months_remaining - 1) < bar.ends_on
            clean = not running and not any(e.path in open_paths for e in mine)
            assert cadre.clean is clean
            assert cadre.opinion_zh.endswith(f"{NO_OBSTACLE_WORDING}。") is (clean and bool(mine))
            assert (cadre.opinion_zh == CLEAN_WORDING) is (clean and not mine)


# -- HTTP and the document -----------------------------------------------------------------------


def test_the_reply_over_http_checks_roles_and_names_unknown_ids(system: EmbeddedSystem) -> None:
    dismissed_and_cleared(system)
    body = {"cadre_ids": ["C-001", "C-002"], "as_of": AS_OF.isoformat(), "purpose": "拟提拔考察"}
    with TestClient(system.web_app()) as client:
        anonymous = client.post("/api/v1/integrity-replies", json=body)
        liaison = client.post(
            "/api/v1/integrity-replies", json=body, headers=token(system, Role.LIAISON)
        )
        leader = token(system, Role.LEADER)
        ok = client.post("/api/v1/integrity-replies", json=body, headers=leader)
        unknown = client.post(
            "/api/v1/integrity-replies",
            json={"cadre_ids": ["C-001", "X-9"]},
            headers=token(system, Role.HANDLER),
        )
        empty = client.post("/api/v1/integrity-replies", json={"cadre_ids": []}, headers=leader)
        bad_date = client.post(
            "/api/v1/integrity-replies",
            json={"cadre_ids": ["C-001"], "as_of": "2026-13-01"},
            headers=leader,
        )
        docx_unknown = client.get(
            "/api/v1/integrity-replies.docx?cadre_ids=C-001,X-9", headers=leader
        )

    assert anonymous.status_code == 401
    assert liaison.status_code == 403
    assert ok.status_code == 200, ok.text
    reply = ok.json()
    assert reply["title_zh"] == "廉政意见回复"
    assert reply["purpose"] == "拟提拔考察"
    assert [x["clean"] for x in reply["cadres"]] == [False, True]
    for secret in SECRETS:
        assert secret not in ok.text
    assert unknown.status_code == 422
    assert "X-9" in unknown.json()["detail"]
    assert "C-001" not in unknown.json()["detail"]
    assert empty.status_code == 422
    assert bad_date.status_code == 422
    assert docx_unknown.status_code == 422
    assert "X-9" in docx_unknown.json()["detail"]


def test_the_reply_as_a_word_document_holds_the_names_and_findings(
    system: EmbeddedSystem,
) -> None:
    dismissed_and_cleared(system)
    with TestClient(system.web_app()) as client:
        auditor = token(system, Role.AUDITOR)
        got = client.get(
            f"/api/v1/integrity-replies.docx?cadre_ids=C-001,C-002,C-004&as_of={AS_OF}",
            headers=auditor,
        )
        posted = client.post(
            "/api/v1/integrity-replies",
            json={"cadre_ids": ["C-001"], "as_of": AS_OF.isoformat()},
            headers=auditor | {"Accept": DOCX_MEDIA_TYPE},
        )
        no_token = client.get("/api/v1/integrity-replies.docx?cadre_ids=C-001")

    assert no_token.status_code == 401
    for response in (got, posted):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == DOCX_MEDIA_TYPE
        assert (
            response.headers["content-disposition"]
            == f'attachment; filename="integrity-reply-{AS_OF}.docx"'
        )
    document = Document(io.BytesIO(got.content))
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(cell.text for t in document.tables for row in t.rows for cell in row.cells)
    assert "廉政意见回复" in paragraphs
    assert "2026年3月15日" in paragraphs
    assert len(document.tables) == 3
    for name in ("王建国", "李明华", "张德山"):
        assert name in paragraphs
    assert "免职" in cells
    assert "不得提拔：至2027年2月15日期满（尚余11个月）" in cells
    assert "澄清正名" in cells
    assert cells.count(CLEAN_WORDING) == 1  # 张德山: nothing on file
    assert cells.count(NO_OBSTACLE_WORDING) == 1  # 李明华: cleared
    for secret in SECRETS:
        assert secret not in paragraphs + cells
    single = Document(io.BytesIO(posted.content))
    assert len(single.tables) == 1
