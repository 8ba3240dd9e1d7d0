"""The case list, the work queues and the reporter's follow-up: events -> rows -> queries.

Each queue is checked against what the aggregates say (replayed from their own events,
not from the read models), on a randomized history driven through the applications.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from schemas import commands as c
from schemas.events import Actor, EventEnvelope
from schemas.glossary import (
    CaseState,
    Category,
    Disposition,
    FindingKind,
    MemberUnit,
    ReportStatus,
    Role,
    Verdict,
)
from schemas.views_cases import CaseFollowUp, reporter_progress
from services.bootstrap import EmbeddedSystem, web_app
from services.calendar.deadlines import deadline_state
from services.casework.domain import Case
from services.common.china_time import FixedClock
from services.common.sql import Database
from services.intake import api as intake_api
from services.intake.domain import Report
from services.intake.triage import JOINABLE_STATES
from services.projections.cases import projection as cases
from services.projections.cases.queries import CaseQueries
from services.projections.cases.rows import CaseFilters
from services.projections.store import ReadStore
from tests.unit.conftest import (
    REPORTER_EMAIL,
    REPORTER_ID_NUMBER,
    REPORTER_NAME,
    REPORTER_PHONE,
    all_envelopes,
    build_embedded,
    dump_tables,
    make_settings,
    real_name_reporter,
    stand_in_handlers,
    submission,
)

OPERATOR = Actor(id="op-1", role=Role.OPERATOR)
LEADER = {"id": "leader-1", "role": "leader"}
HANDLERS = ("handler-a", "handler-b")
STUDY = c.CollectiveStudy(held_on=dt.date(2026, 3, 2), participants=["李书记", "王部长"])
IDENTITY = (REPORTER_NAME, REPORTER_PHONE, REPORTER_EMAIL, REPORTER_ID_NUMBER)


def handler(name: str) -> dict[str, str]:
    return {"id": name, "role": "handler"}


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    """The embedded system; reports wait for an operator's triage."""
    system = build_embedded(make_settings(tmp_path, auto_accept=False))
    stand_in_handlers(system)
    yield system
    system.stop()


def submit(system: EmbeddedSystem, *, real_name: bool = False, **overrides: Any) -> UUID:
    reporter = real_name_reporter() if real_name else {"anonymous": True}
    # A report received on a given day is registered on it (an import of history: staff may
    # not back-date beyond the configured limit from today, decision 0013).
    receipt = system.intake.submit(
        submission(reporter=reporter, **overrides), registered_on=overrides.get("received_on")
    )
    return UUID(receipt.report_id)


def accept(system: EmbeddedSystem, report_id: UUID, join: UUID | None = None) -> UUID:
    report = system.intake.triage(report_id, "accept", c.Accept(join_case_id=join), OPERATOR)
    assert report.case_id is not None
    system.catch_up()  # casework opens the case from intake's event
    return report.case_id


def run(system: EmbeddedSystem, case_id: UUID, action: str, command: c.Command, actor: Any) -> None:
    system.casework.execute(case_id, action, command, actor)


# -- driving a case along the procedure --------------------------------------------------------


def to_assigned(s: EmbeddedSystem, case_id: UUID, who: str) -> None:
    run(s, case_id, "assign", c.Assign(handler_id=who), LEADER)


def to_disposition(s: EmbeddedSystem, case_id: UUID, who: str, d: Disposition) -> None:
    to_assigned(s, case_id, who)
    run(
        s,
        case_id,
        "propose_disposition",
        c.ProposeDisposition(disposition=d, reason="研判"),
        handler(who),
    )


def to_approved(s: EmbeddedSystem, case_id: UUID, who: str, d: Disposition) -> None:
    to_disposition(s, case_id, who, d)
    run(s, case_id, "approve_disposition", c.ApproveDisposition(collective_study=STUDY), LEADER)


def to_conclusion(
    s: EmbeddedSystem, case_id: UUID, who: str, verdict: Verdict = Verdict.UNTRUE
) -> None:
    to_approved(s, case_id, who, Disposition.PRELIMINARY_VERIFICATION)
    finding = c.RecordFinding(kind=FindingKind.INTERVIEW, summary="个别谈话")
    run(s, case_id, "record_finding", finding, handler(who))
    verdicts = {Category.SEEKING_OFFICE: verdict}
    proposal = c.ProposeConclusion(verdicts=verdicts, reason="查无实据")
    run(s, case_id, "propose_conclusion", proposal, handler(who))


def to_concluded(
    s: EmbeddedSystem, case_id: UUID, who: str, verdict: Verdict = Verdict.UNTRUE
) -> None:
    to_conclusion(s, case_id, who, verdict)
    run(s, case_id, "approve_conclusion", c.Approve(), LEADER)


def to_closed(s: EmbeddedSystem, case_id: UUID, who: str) -> None:
    to_concluded(s, case_id, who)
    run(s, case_id, "close", c.Close(), LEADER)


def to_feedback(
    s: EmbeddedSystem, case_id: UUID, who: str, text: str = "经核查，反映问题不属实。"
) -> None:
    to_closed(s, case_id, who)
    run(s, case_id, "give_feedback", c.GiveFeedback(method="letter", text=text), handler(who))


def to_clearing(s: EmbeddedSystem, case_id: UUID, who: str) -> None:
    to_concluded(s, case_id, who)
    proposal = c.ProposeClearing(cadre=c.CadreRef(name="王建国"), reason="不属实，予以澄清")
    run(s, case_id, "propose_clearing", proposal, handler(who))


def to_inquiry(s: EmbeddedSystem, case_id: UUID, who: str) -> None:
    to_approved(s, case_id, who, Disposition.TALK_INQUIRY)
    run(s, case_id, "send_inquiry_letter", c.SendInquiryLetter(), handler(who))


def on_hold(s: EmbeddedSystem, case_id: UUID, who: str) -> None:
    hold = c.HoldForPublicity(
        cadre=c.CadreRef(name="王建国"),
        proposed_post="某县财政局局长",
        publicity_ends_on=s.casework.today() + dt.timedelta(days=5),
        reason="公示期间收到举报",
    )
    run(s, case_id, "hold_for_publicity", hold, LEADER)


PATHS = [
    lambda s, i, w: None,
    to_assigned,
    lambda s, i, w: to_disposition(s, i, w, Disposition.PRELIMINARY_VERIFICATION),
    lambda s, i, w: to_approved(s, i, w, Disposition.PRELIMINARY_VERIFICATION),
    lambda s, i, w: to_approved(s, i, w, Disposition.CLOSE),
    lambda s, i, w: to_approved(s, i, w, Disposition.PARK),
    to_inquiry,
    to_conclusion,
    to_concluded,
    to_closed,
    to_feedback,
    to_clearing,
    on_hold,
]


def random_history(system: EmbeddedSystem, rng: random.Random, reports: int = 26) -> None:
    """Reports left untriaged, returned, referred, repeated or accepted; accepted ones driven
    along a random path of the procedure, some joined to an open case."""
    accepted: list[UUID] = []
    report_ids: list[UUID] = []
    for n in range(reports):
        report_id = submit(
            system, real_name=rng.random() < 0.5, summary=f"第{n}件：反映王建国跑官要官。"
        )
        choice = rng.random()
        if choice < 0.15:
            pass  # waits for triage
        elif choice < 0.25:
            system.intake.triage(
                report_id, "propose_return", c.ReturnWithReason(reason="无实质内容"), OPERATOR
            )
        elif choice < 0.3:
            refer = c.ReferOut(member_unit=MemberUnit.DISCIPLINE_COMMISSION, reason="不属本部门")
            system.intake.triage(report_id, "refer_out", refer, OPERATOR)
        elif choice < 0.35 and report_ids:
            repeat = c.MarkRepeat(of_report_id=report_ids[0], reason="重复举报")
            system.intake.triage(report_id, "mark_repeat", repeat, OPERATOR)
        elif choice < 0.45 and accepted:
            case = system.casework.get_case(accepted[-1])
            if case.state not in JOINABLE_STATES:  # joins only before a conclusion is proposed
                accepted.append(accept(system, report_id))
            else:
                accept(system, report_id, join=case.id)
        else:
            case_id = accept(system, report_id)
            path = rng.choice(PATHS)
            if path is to_feedback and not system.casework.get_case(case_id).real_name_reporters:
                path = to_closed  # feedback goes to real-name reporters only
            path(system, case_id, rng.choice(HANDLERS))
            accepted.append(case_id)
        report_ids.append(report_id)
    system.catch_up()


# -- what the aggregates say -------------------------------------------------------------------


def every_report(system: EmbeddedSystem) -> list[Report]:
    ids = {e.aggregate_id for e in all_envelopes(system.intake) if e.event_type == "ReportReceived"}
    return [system.intake.get_report(i) for i in ids]


def every_case(system: EmbeddedSystem) -> list[Case]:
    ids = {e.aggregate_id for e in all_envelopes(system.casework) if e.event_type == "CaseOpened"}
    return [system.casework.get_case(i) for i in ids]


FINISHED = (CaseState.CLOSED, CaseState.TRANSFERRED)


def owed(name: str, case: Case) -> bool:
    """A case's deadline still runs: the case is open, or it is one owed after closure."""
    return case.state not in FINISHED or name.split("#", maxsplit=1)[0] in (
        "feedback",
        "admonition_follow_up",
    )


def expected_deadlines(system: EmbeddedSystem, on: dt.date, state: str) -> set[tuple[str, str]]:
    calendar, limits = system.config.calendar(), system.config.limits()
    found = set()

    def check(subject: UUID, name: str, d: dict[str, Any]) -> None:
        if d["met_on"] is None or d["met_on"] > on:
            clock = deadline_state(d["due"], on, None, calendar, limits.due_soon_threshold)
            if clock.value == state:
                found.add((str(subject), name))

    for case in every_case(system):
        for name, d in case.deadlines.items():
            if owed(name, case):
                check(case.id, name, d)
    for report in every_report(system):
        if report.acceptance_notice is not None:
            check(report.id, "acceptance_notice", report.acceptance_notice)
        back = report.triage.get("report_back_due")
        if back and report.status in REPORT_BACK:  # the receiver's result is owed by then
            result = report.triage.get("receiver_result") or {}
            met = dt.date.fromisoformat(result["reported_on"]) if result else None
            due = {"due": dt.date.fromisoformat(back), "met_on": met}
            check(report.id, REPORT_BACK[report.status], due)
    return found


REPORT_BACK = {
    ReportStatus.TRANSFERRED_DOWN: "transfer_report_back",
    ReportStatus.TRANSFER_ACKNOWLEDGED: "transfer_report_back",
    ReportStatus.TRANSFER_CONCLUDED: "transfer_report_back",
    ReportStatus.REFERRED_OUT: "referral_report_back",
    ReportStatus.REFERRAL_CONCLUDED: "referral_report_back",
}


# -- queues against the aggregates -------------------------------------------------------------


@pytest.mark.parametrize("seed", [4, 17])
def test_each_queue_shows_exactly_what_the_aggregates_say(
    system: EmbeddedSystem, seed: int
) -> None:
    random_history(system, random.Random(seed))
    reports, all_cases = every_report(system), every_case(system)
    queries = system.read.cases

    untriaged = {str(r.id) for r in reports if r.status is ReportStatus.REGISTERED}
    assert {i.report_id for i in queries.untriaged()} == untriaged
    assert untriaged  # the history leaves some
    assert [i.report_id for i in queries.unregistered()] == []  # intake registers at once

    for who in HANDLERS:
        mine = {
            str(k.id)
            for k in all_cases
            if k.handler_id == who
            and (
                k.state not in FINISHED
                or any(d["met_on"] is None and owed(n, k) for n, d in k.deadlines.items())
            )
        }
        got = queries.mine(who)
        assert {i.case_id for i in got} == mine
        by_id = {str(k.id): k for k in all_cases}
        for item in got:
            case = by_id[item.case_id]
            assert item.state == case.state.value
            assert item.state_zh == case.state.zh
            assert item.handler_id == who
            assert item.report_count == len(case.report_ids)
            assert item.real_name_reporters == case.real_name_reporters
            assert set(item.categories) == set(case.categories)
            assert item.disposition == (case.disposition.value if case.disposition else None)

    awaiting = {
        (str(k.id), "disposition") for k in all_cases if k.state is CaseState.DISPOSITION_PROPOSED
    }
    awaiting |= {
        (str(k.id), "conclusion") for k in all_cases if k.state is CaseState.CONCLUSION_PROPOSED
    }
    awaiting |= {
        (str(k.id), "clearing") for k in all_cases if k.clearing.get("stage") == "proposed"
    }
    awaiting |= {(str(k.id), "publicity") for k in all_cases if k.publicity_hold}
    awaiting |= {
        (str(r.id), "report_return") for r in reports if r.status is ReportStatus.RETURN_PROPOSED
    }
    assert {(i.subject_id, i.kind) for i in queries.awaiting_approval()} == awaiting
    assert awaiting

    page = queries.case_list()
    assert page.total == len(all_cases)
    for state in CaseState:
        listed = queries.case_list(CaseFilters(state=state))
        assert listed.total == sum(1 for k in all_cases if k.state is state), state


def test_due_soon_and_overdue_follow_the_clock(system: EmbeddedSystem) -> None:
    random_history(system, random.Random(8))
    to_inquiry(system, accept(system, submit(system)), "handler-a")
    to_approved(system, accept(system, submit(system)), "handler-b", Disposition.PARK)
    system.catch_up()
    calendar, today = system.config.calendar(), system.casework.today()
    # Today; 2 working days before the 15-working-day limits; 1 and 25 working days after
    # them; 200 days on (past the parked case's 3-month review).
    days = [calendar.add_working_days(today, n).due for n in (13, 16, 40)]
    for on in [today, *days, today + dt.timedelta(days=200)]:
        queries = CaseQueries(system.read.store, system.config, today=lambda on=on: on)

        due_soon = {(i.subject_id, i.clock.name) for i in queries.due_soon()}
        overdue = {(i.subject_id, i.clock.name) for i in queries.overdue()}

        assert due_soon == expected_deadlines(system, on, "due_soon"), on
        assert overdue == expected_deadlines(system, on, "overdue"), on
        for item in [*queries.due_soon(), *queries.overdue()]:
            left = calendar.working_days_between(on, item.clock.due)
            assert item.clock.working_days_left == left
            assert (left < 0) == (item.clock.state == "overdue")
        if on == days[0]:
            assert {"acceptance_notice", "feedback", "inquiry_reply"} <= {n for _, n in due_soon}
        if on == days[1]:
            assert {"acceptance_notice", "feedback", "inquiry_reply"} <= {n for _, n in overdue}
    assert "parked_review" in {n for _, n in overdue}


def test_a_handler_sees_only_the_deadlines_of_their_own_cases(system: EmbeddedSystem) -> None:
    case_a = accept(system, submit(system))
    case_b = accept(system, submit(system))
    to_inquiry(system, case_a, "handler-a")
    to_inquiry(system, case_b, "handler-b")
    system.catch_up()
    later = system.casework.today() + dt.timedelta(days=60)
    queries = CaseQueries(system.read.store, system.config, today=lambda: later)

    assert {i.case_id for i in queries.overdue(handler="handler-a")} == {str(case_a)}
    assert {i.case_id for i in queries.overdue()} == {str(case_a), str(case_b)}
    (item,) = queries.overdue(handler="handler-b")
    assert item.clock.name == "inquiry_reply"
    assert item.clock.name_zh == "函询回复"
    assert item.clock.state_zh == "已逾期"


def test_a_closed_case_leaves_mine_once_its_feedback_is_given(system: EmbeddedSystem) -> None:
    closed = accept(system, submit(system, real_name=True))
    to_closed(system, closed, "handler-a")
    system.catch_up()
    (item,) = system.read.cases.mine("handler-a")
    assert item.state == "closed"
    assert [d.name for d in item.deadlines] == ["feedback"]

    run(
        system,
        closed,
        "give_feedback",
        c.GiveFeedback(method="phone", text="已办结"),
        handler("handler-a"),
    )
    system.catch_up()
    assert system.read.cases.mine("handler-a") == []


# -- the projection: idempotent, order-tolerant, no reporter data ------------------------------


def history_events(tmp_path: Path) -> tuple[list[EventEnvelope], list[EventEnvelope]]:
    system = build_embedded(make_settings(tmp_path / "source", auto_accept=False))
    stand_in_handlers(system)
    try:
        random_history(system, random.Random(23), reports=18)
        to_feedback(system, accept(system, submit(system, real_name=True)), "handler-a")
        return all_envelopes(system.intake), all_envelopes(system.casework)
    finally:
        system.stop()


def fresh_store(path: Path) -> ReadStore:
    return ReadStore(Database(sqlite_path=path))


def partition_of(envelope: EventEnvelope, partitions: int = 3) -> int:
    return envelope.aggregate_id.int % partitions


def test_projection_order_and_redelivery_do_not_change_the_tables(tmp_path: Path) -> None:
    intake_events, casework_events = history_events(tmp_path)

    in_order = tmp_path / "in_order.sqlite"
    fresh_store(in_order).apply([*intake_events, *casework_events], consumer="c")
    expected = dump_tables(in_order, list(cases.tables))
    assert expected["case_list"]
    assert expected["report_queue"]
    assert expected["report_feedback"]

    # Casework's events first, then intake's: nothing in one table depends on the other.
    reversed_sources = tmp_path / "casework_first.sqlite"
    store = fresh_store(reversed_sources)
    store.apply(casework_events, consumer="c")
    store.apply(intake_events, consumer="c")
    assert dump_tables(reversed_sources, list(cases.tables)) == expected

    # Partitions keyed by aggregate (as on Kafka), interleaved at random, every event
    # delivered twice: per-aggregate order holds, nothing else does.
    rng = random.Random(5)
    streams: dict[tuple[str, int], list[EventEnvelope]] = {}
    for e in [*intake_events, *casework_events]:
        streams.setdefault((e.source, partition_of(e)), []).append(e)
    shuffled = tmp_path / "shuffled.sqlite"
    store = fresh_store(shuffled)
    while streams:
        key = rng.choice(sorted(streams))
        n = rng.randint(1, 4)
        batch, streams[key] = streams[key][:n], streams[key][n:]
        store.apply(batch, consumer="w", partition=key[1])
        store.apply(batch, consumer="w", partition=key[1])  # redelivered
        if not streams[key]:
            del streams[key]
    assert dump_tables(shuffled, list(cases.tables)) == expected


def test_the_projection_is_pure_and_holds_no_reporter_identity(tmp_path: Path) -> None:
    intake_events, casework_events = history_events(tmp_path)
    for event in [*intake_events, *casework_events]:
        rows = cases.project(event)
        assert rows == cases.project(event)
        assert {r.table for r in rows} <= set(cases.tables)
        text = repr(rows)
        assert not any(secret in text for secret in IDENTITY)


def test_feedback_text_stays_out_of_every_table_but_report_feedback(tmp_path: Path) -> None:
    intake_events, casework_events = history_events(tmp_path)
    path = tmp_path / "read.sqlite"
    fresh_store(path).apply([*intake_events, *casework_events], consumer="c")
    text = "经核查，反映问题不属实。"
    tables = dump_tables(path, list(cases.tables))
    holding = {t for t, rows in tables.items() if any(text in repr(r) for r in rows)}
    assert holding == {"report_feedback"}


# -- the reporter's follow-up ------------------------------------------------------------------


def mailbox(system: EmbeddedSystem, *, real_name: bool) -> tuple[UUID, str, str]:
    reporter = real_name_reporter() if real_name else {"anonymous": True}
    receipt = system.intake.submit(submission(channel="mailbox", reporter=reporter))
    assert receipt.query_code
    assert receipt.password
    return UUID(receipt.report_id), receipt.query_code, receipt.password


def follow(client: TestClient, code: str, password: str) -> Any:
    return client.get(f"/api/v1/follow-up/{code}", headers={"X-Follow-Up-Password": password})


def test_follow_up_shows_progress_and_only_this_reporters_feedback(system: EmbeddedSystem) -> None:
    first, code1, pw1 = mailbox(system, real_name=True)
    joined, code2, pw2 = mailbox(system, real_name=False)
    other, code3, pw3 = mailbox(system, real_name=True)
    _waiting, code4, pw4 = mailbox(system, real_name=True)
    case_id = accept(system, first)
    accept(system, joined, join=case_id)
    other_case = accept(system, other)
    to_feedback(system, case_id, "handler-a", text="第一件的反馈：反映问题不属实。")
    to_approved(system, other_case, "handler-b", Disposition.PRELIMINARY_VERIFICATION)
    system.catch_up()

    with TestClient(system.web_app()) as client:
        answer = follow(client, code1, pw1)
        assert answer.status_code == 200
        body = answer.json()
        assert body["progress"] == "closed"
        assert body["progress_zh"] == "已办结"
        assert [f["text"] for f in body["feedback"]] == ["第一件的反馈：反映问题不属实。"]
        assert body["feedback"][0]["method_zh"] == "书面反馈"
        assert set(body) == {
            "ledger_number",
            "status",
            "status_zh",
            "received_on",
            "progress",
            "progress_zh",
            "feedback",
        }
        for secret in (*IDENTITY, str(case_id), "handler-a", str(joined)):
            assert secret not in answer.text

        anonymous = follow(client, code2, pw2).json()  # joined the same case, gave no name
        assert anonymous["progress"] == "closed"
        assert anonymous["feedback"] == []

        elsewhere = follow(client, code3, pw3).json()
        assert elsewhere["progress"] == "under_verification"
        assert elsewhere["feedback"] == []

        untriaged = follow(client, code4, pw4).json()
        assert untriaged["progress"] == "received"

        wrong = follow(client, code1, pw3)
        assert wrong.status_code == 404
        assert "反馈" not in wrong.text
        assert follow(client, code3, pw1).status_code == 404


def test_feedback_for_report_needs_a_real_name_reporter(system: EmbeddedSystem) -> None:
    named, anonymous = submit(system, real_name=True), submit(system)
    case_id = accept(system, named)
    accept(system, anonymous, join=case_id)
    to_feedback(system, case_id, "handler-a", text="已核查")
    system.catch_up()

    assert [f.text for f in system.read.cases.feedback_for_report(str(named))] == ["已核查"]
    assert system.read.cases.feedback_for_report(str(anonymous)) == []
    assert system.read.cases.follow_up(str(anonymous)).case_state == "closed"


@pytest.mark.parametrize(
    ("status", "case_state", "progress"),
    [
        (ReportStatus.REGISTERED, None, "received"),
        (ReportStatus.RETURN_PROPOSED, None, "received"),
        (ReportStatus.ACCEPTED, None, "accepted"),
        (ReportStatus.ACCEPTED, CaseState.DISPOSITION_PROPOSED, "accepted"),
        (ReportStatus.ACCEPTED, CaseState.PARKED, "under_verification"),
        (ReportStatus.ACCEPTED, CaseState.CONCLUSION_PROPOSED, "under_verification"),
        (ReportStatus.ACCEPTED, CaseState.CONCLUDED, "concluded"),
        (ReportStatus.ACCEPTED, CaseState.TRANSFERRED, "closed"),
        (ReportStatus.REFERRED_OUT, None, "referred"),
        (ReportStatus.RETURNED, None, "closed"),
    ],
)
def test_progress_in_reporter_terms(
    status: ReportStatus, case_state: CaseState | None, progress: str
) -> None:
    assert reporter_progress(status, case_state).value == progress


# -- HTTP --------------------------------------------------------------------------------------


def token_for(
    system: EmbeddedSystem, username: str, role: Role, section: str | None = None
) -> dict[str, str]:
    system.accounts.create_user(
        username,
        "a long enough password",
        role,
        username,
        unit="县委组织部",
        section=section,
        enforce_policy=False,
    )
    token = system.accounts.issue_token(system.accounts.principal(username))
    return {"Authorization": f"Bearer {token}"}


def test_queue_routes_check_who_asks_and_name_the_queues(system: EmbeddedSystem) -> None:
    waiting = submit(system)
    mine = accept(system, submit(system))
    theirs = accept(system, submit(system))
    to_assigned(system, mine, "handler-a")
    to_disposition(system, theirs, "handler-b", Disposition.PARK)
    system.catch_up()
    operator = token_for(system, "op-1", Role.OPERATOR)
    handler_a = token_for(system, "handler-a", Role.HANDLER, section="一科")
    leader = token_for(system, "leader-1", Role.LEADER, section="一科")
    token_for(system, "handler-b", Role.HANDLER, section="二科")
    liaison = token_for(system, "liaison-1", Role.LIAISON)

    with TestClient(system.web_app()) as client:
        assert client.get("/api/v1/queues/untriaged").status_code == 401
        assert client.get("/api/v1/cases").status_code == 401
        refused = client.get("/api/v1/queues/untriaged", headers=liaison)
        assert refused.status_code == 403
        assert "operator" in refused.json()["detail"]
        assert client.get("/api/v1/queues/awaiting-approval", headers=operator).status_code == 403
        assert client.get("/api/v1/cases", headers=liaison).status_code == 403

        unknown = client.get("/api/v1/queues/everything", headers=operator)
        assert unknown.status_code == 404
        assert "no queue 'everything'" in unknown.json()["detail"]
        assert "untriaged" in unknown.json()["detail"]

        untriaged = client.get("/api/v1/queues/untriaged", headers=operator).json()
        assert untriaged["queue_zh"] == "待分流"
        assert [i["report_id"] for i in untriaged["items"]] == [str(waiting)]
        assert untriaged["items"][0]["status_zh"] == "已登记待分流"

        own = client.get("/api/v1/queues/mine", headers=handler_a).json()
        assert [i["case_id"] for i in own["items"]] == [str(mine)]
        assert own["count"] == 1

        section = client.get("/api/v1/queues/section", headers=leader).json()
        assert [i["case_id"] for i in section["items"]] == [str(mine)]

        approval = client.get("/api/v1/queues/awaiting-approval", headers=leader).json()
        assert [(i["subject_id"], i["kind_zh"]) for i in approval["items"]] == [
            (str(theirs), "处置方式待审批")
        ]
        assert client.get("/api/v1/queues/overdue", headers=operator).json()["items"] == []

        listed = client.get("/api/v1/cases", params={"state": "assigned"}, headers=leader).json()
        assert [i["case_id"] for i in listed["items"]] == [str(mine)]
        assert listed["total"] == 1
        assert listed["items"][0]["state_zh"] == "已分办待定处置方式"
        by_handler = client.get("/api/v1/cases", params={"handler": "handler-b"}, headers=leader)
        assert [i["case_id"] for i in by_handler.json()["items"]] == [str(theirs)]
        assert client.get("/api/v1/cases", params={"page": 2}, headers=leader).json()["items"] == []

        # A handler lists their own and their section's cases only (handler-b: another section).
        seen = client.get("/api/v1/cases", headers=handler_a).json()
        assert [i["case_id"] for i in seen["items"]] == [str(mine)]
        assert client.get("/api/v1/cases", headers=leader).json()["total"] == 2

        bad = client.get("/api/v1/cases", params={"state": "finished"}, headers=leader)
        assert bad.status_code == 422
        assert "state" in bad.json()["detail"]
        for secret in IDENTITY:
            assert secret not in listed.__repr__()


def test_follow_up_says_so_when_the_read_models_cannot_be_read(system: EmbeddedSystem) -> None:
    _, code, password = mailbox(system, real_name=True)

    from services.common.unavailable import DatabaseUnavailable

    def unreachable(report_id: str) -> CaseFollowUp:
        raise DatabaseUnavailable("projections database down")

    def broken(report_id: str) -> CaseFollowUp:
        raise KeyError("a fault of ours")

    app = web_app("intake", [intake_api.build_router(system.intake, follow_up=unreachable)], dict)
    with TestClient(app) as client:
        answer = follow(client, code, password)
    bug = web_app("intake", [intake_api.build_router(system.intake, follow_up=broken)], dict)
    with TestClient(bug, raise_server_exceptions=False) as client:
        # Not "try again later": a fault is a 500 (logged with its request id), not hidden.
        assert follow(client, code, password).status_code == 500
    assert answer.status_code == 503
    assert answer.json()["detail"] == "the progress cannot be read right now; try again later"
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert int(answer.headers["Retry-After"]) > 0


def test_triage_time_limits_are_deadlines_in_the_operators_queues(tmp_path: Path) -> None:
    # A stated day is never in the future: the clock stands on each day a step is taken.
    clock = FixedClock.on(dt.date(2026, 3, 2))
    system = build_embedded(make_settings(tmp_path, auto_accept=False), clock=clock)
    try:
        triage_time_limits_are_deadlines(system, clock)
    finally:
        system.stop()


def triage_time_limits_are_deadlines(system: EmbeddedSystem, clock: FixedClock) -> None:
    late_forward = submit(system, received_on=dt.date(2026, 3, 2))
    transferred = submit(system, received_on=dt.date(2026, 3, 2))
    system.intake.triage(
        transferred,
        "transfer_down",
        c.TransferDown(to_unit="柳溪乡党委", transferred_on=dt.date(2026, 3, 2)),
        OPERATOR,
    )
    clock.advance(dt.timedelta(days=14))  # Monday 16 March
    system.intake.triage(
        late_forward,
        "forward_up",
        c.ForwardUp(to_authority="市委组织部", forwarded_on=dt.date(2026, 3, 16)),
        OPERATOR,
    )
    system.catch_up()

    def queries(on: dt.date) -> CaseQueries:
        return CaseQueries(system.read.store, system.read.queries.config, today=lambda: on)

    def clocks(queue: list[Any]) -> set[tuple[str, str, dt.date]]:
        return {(i.subject_id, i.clock.name, i.clock.due) for i in queue}

    # Five working days from Monday 2 March: Monday 9 March, for both. As the queues stood
    # on each day: the forwarding (recorded for 16 March) had not happened yet.
    both = {
        (str(late_forward), "forward_up", dt.date(2026, 3, 9)),
        (str(transferred), "transfer_acceptance", dt.date(2026, 3, 9)),
    }
    assert clocks(queries(dt.date(2026, 3, 6)).due_soon()) == both
    assert clocks(queries(dt.date(2026, 3, 10)).overdue()) == both
    assert {i.clock.name_zh for i in queries(dt.date(2026, 3, 10)).overdue()} == {
        "报送上级",
        "下级接收转办件",
    }
    assert clocks(queries(dt.date(2026, 3, 16)).overdue()) == {  # forwarded that day
        (str(transferred), "transfer_acceptance", dt.date(2026, 3, 9))
    }
    (row,) = system.read.store.query(
        "SELECT * FROM case_deadlines WHERE subject_id = %s", (str(late_forward),)
    )
    forward = queries(dt.date(2026, 3, 16)).clock(row)
    assert (forward.name, forward.state, forward.met_on) == (
        "forward_up",
        "met_late",
        dt.date(2026, 3, 16),
    )

    system.intake.triage(
        transferred,
        "acknowledge_transfer",
        c.AcknowledgeTransfer(acknowledged_on=dt.date(2026, 3, 11)),
        OPERATOR,
    )
    system.catch_up()
    assert clocks(queries(dt.date(2026, 3, 12)).overdue()) == {
        (str(late_forward), "forward_up", dt.date(2026, 3, 9))
    }
    (row,) = system.read.store.query(
        "SELECT * FROM case_deadlines WHERE subject_id = %s AND name = %s",
        (str(transferred), "transfer_acceptance"),
    )
    acknowledged = queries(dt.date(2026, 3, 12)).clock(row)
    assert (acknowledged.state, acknowledged.met_on) == ("met_late", dt.date(2026, 3, 11))
    assert queries(dt.date(2026, 3, 16)).overdue() == []
