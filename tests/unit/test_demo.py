"""Demo data (``jiandu up --demo-data``): every path of the procedure, idempotent, varied;
reporters stay in the vault.

The seeded system is checked through what the applications recorded (the event logs and
the aggregates), not through the plan that produced them. The full demo has 400 reports;
these tests seed 120 (every featured story and enough random ones for every triage path)
to stay quick.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from schemas import commands as c
from schemas.events import EventEnvelope
from schemas.glossary import (
    AdmonitionOutcome,
    CaseKind,
    CaseState,
    Channel,
    ClearingMethod,
    Disposition,
    FindingKind,
    HandlingType,
    InquiryOutcome,
    PublicityDecision,
    ReportStatus,
    Verdict,
)
from schemas.submissions import RealNameReporter
from schemas.views_archive import IntegrityRequest
from services.bootstrap import EmbeddedSystem
from services.calendar.deadlines import WorkingDayCalendar
from services.casework.selections import INTEGRITY_REPLIER
from services.demo import describe, seed
from services.demo.featured import FEATURED, RESERVED_CADRES
from services.demo.planner import Planner
from services.demo.register import read_register
from services.demo.reports import REPORT_COUNT, SUMMARY_MAX, DemoReport, demo_reports
from services.demo.steps import DEMO_TODAY
from services.intake.base import IntakePolicy
from services.intake.domain import case_id_for_report, report_id_for_idempotency_key
from tests.unit.conftest import build_embedded, make_settings

COUNT = 120
DEMO_ACTORS = {"operator", "handler", "handler2", "leader"}
INTAKE_EVENTS = {
    "ReportReceived",
    "ReportRegistered",
    "ReportAccepted",
    "ReportTriaged",
    "ReporterIdentityVerified",
    "AcceptanceNoticeSent",
    "ReportSubjectIdentified",
}


@dataclass
class Seeded:
    system: EmbeddedSystem
    data_dir: Path
    reports: list[DemoReport]
    first: dict[str, int]
    second: dict[str, int]
    positions_after_first: tuple[int, int]
    positions_after_second: tuple[int, int]

    def envelopes(self, source: str) -> list[EventEnvelope]:
        app = self.system.intake if source == "intake" else self.system.casework
        envelopes, _ = app.read_envelopes(0, 10**6)
        return envelopes

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        source = "intake" if event_type in INTAKE_EVENTS else "casework"
        return [e.payload for e in self.envelopes(source) if e.event_type == event_type]

    def case_ids(self) -> list[UUID]:
        return [e.aggregate_id for e in self.envelopes("casework") if e.event_type == "CaseOpened"]


def positions(system: EmbeddedSystem) -> tuple[int, int]:
    return system.intake.max_position(), system.casework.max_position()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    data_dir = tmp_path_factory.mktemp("demo")
    system = build_embedded(make_settings(data_dir), DEMO_TODAY)
    first = seed(system, count=COUNT)
    after_first = positions(system)
    second = seed(system, count=COUNT)
    reports = demo_reports(read_register(), count=COUNT)
    yield Seeded(system, data_dir, reports, first, second, after_first, positions(system))
    system.stop()


def featured_case(seeded: Seeded, tag: str) -> UUID:
    (report,) = [r for r in seeded.reports if r.feature and r.feature.tag == tag]
    return case_id_for_report(report_id_for_idempotency_key(report.key))


# -- idempotence ---------------------------------------------------------------------------


def test_seeding_twice_adds_nothing(seeded: Seeded) -> None:
    # the random and featured reports, and the report of issue 10's scenario (per_cadre.py)
    # and the reports about selections (stories/selections.py)
    assert seeded.first["reports"] == seeded.first["reports_added"] == COUNT + 3
    assert seeded.first["intake_events_added"] > COUNT
    assert seeded.first["steps_added"] > 5 * seeded.first["cases"]
    assert seeded.first["stories_skipped"] == 0

    assert seeded.second["reports_added"] == 0
    assert seeded.second["steps_added"] == 0
    assert seeded.second["stories_skipped"] == 0
    assert seeded.second["intake_events_added"] == 0
    assert seeded.second["casework_events_added"] == 0
    assert seeded.positions_after_second == seeded.positions_after_first
    stable = [k for k in seeded.first if not k.endswith("added")]
    assert {k: seeded.second[k] for k in stable} == {k: seeded.first[k] for k in stable}


def test_the_summary_names_reports_cases_and_paths(seeded: Seeded) -> None:
    lines = describe(seeded.first)
    assert f"{COUNT + 3} reports" in lines[0]
    assert f"{seeded.first['cases']} cases" in lines[0]
    assert any("forward_up 1" in line for line in lines)
    assert any("dismissal 1" in line for line in lines)
    cases = len(seeded.case_ids())
    assert seeded.first["cases"] == cases


def test_seeding_resumes_and_leaves_a_case_changed_outside_the_demo_alone(
    tmp_path: Path,
) -> None:
    """Seeded as of mid-2026, then someone works on a demo case, then seeded to the demo's
    today: every story resumes where its events stand, except that case's. With the intake
    policy off, every acceptance is a triage step of the operator's."""
    system = build_embedded(make_settings(tmp_path, auto_accept=False), DEMO_TODAY)
    try:
        count = len(FEATURED) + 3
        reports = demo_reports(read_register(), count=count)
        first = seed(system, count=count, today=dt.date(2026, 6, 30))
        assert first["stories_skipped"] == 0

        def case_of(tag: str) -> UUID:
            (report,) = [r for r in reports if r.feature and r.feature.tag == tag]
            return case_id_for_report(report_id_for_idempotency_key(report.key))

        escalating = case_of("admonition_escalated")  # the follow-up comes in July
        assert system.casework.get_case(escalating).state is CaseState.CONCLUDED
        system.casework.execute(
            escalating,
            "hold_for_publicity",
            c.HoldForPublicity(
                cadre=c.CadreRef(cadre_id="QS-0005"),
                proposed_post="青山县交通运输局党组书记",
                publicity_ends_on=dt.date(2026, 7, 6),
            ),
            {"id": "operator", "role": "operator"},
        )
        second = seed(system, count=count)
        assert second["stories_skipped"] == 1
        assert second["steps_added"] > 0
        case = system.casework.get_case(escalating)
        assert [h["handling"] for h in case.handlings] == ["admonition"]  # left alone
        assert system.casework.get_case(case_of("feedback_overdue")).state is CaseState.CLOSED

        accepted = [
            e.payload
            for e in system.intake.read_envelopes(0, 10**6)[0]
            if e.event_type == "ReportAccepted"
        ]
        assert accepted
        assert {p["actor"]["id"] for p in accepted} == {"operator"}
    finally:
        system.stop()


# -- triage: every path ------------------------------------------------------------------


def test_every_triage_path_is_taken(seeded: Seeded) -> None:
    triaged = Counter(p["outcome"] for p in seeded.of_type("ReportTriaged"))
    for outcome in (
        ReportStatus.REPEAT,
        ReportStatus.FORWARDED_UP,
        ReportStatus.TRANSFERRED_DOWN,
        ReportStatus.TRANSFER_ACKNOWLEDGED,
        ReportStatus.REFERRED_OUT,
        ReportStatus.REFERRAL_CONCLUDED,
        ReportStatus.RETURN_PROPOSED,
        ReportStatus.RETURNED,
    ):
        assert triaged[outcome.value], outcome
    # Some referrals are still pending with the member unit.
    assert triaged[ReportStatus.REFERRED_OUT.value] > triaged[ReportStatus.REFERRAL_CONCLUDED.value]
    accepted = seeded.of_type("ReportAccepted")
    joins = [p for p in accepted if p["joins_case"]]
    assert joins
    assert len(accepted) > len(joins)
    case_ids = set(seeded.case_ids())
    assert all(UUID(p["case_id"]) in case_ids for p in joins)
    joined = seeded.of_type("ReportJoined")
    assert len(joined) == len(joins)
    assert seeded.of_type("ReporterIdentityVerified")
    assert seeded.of_type("AcceptanceNoticeSent")
    # Operators confirmed who some subjects named without a register id are; others remain
    # candidates.
    identified = seeded.of_type("ReportSubjectIdentified")
    assert identified
    assert all(p["cadre_id"] for p in identified)
    named_only = [
        s for p in seeded.of_type("ReportReceived") for s in p["subjects"] if not s.get("cadre_id")
    ]
    assert len(named_only) > len(identified)
    # Repeats are linked to the report they repeat.
    for repeat in (p for p in seeded.of_type("ReportTriaged") if p["outcome"] == "repeat"):
        assert repeat["details"]["of_report_id"]
        assert repeat["details"]["of_ledger_number"]


def test_every_channel_and_many_member_units_appear(seeded: Seeded) -> None:
    received = seeded.of_type("ReportReceived")
    assert {p["channel"] for p in received} == {ch.value for ch in Channel}
    referral_units = {p["referral"]["member_unit"] for p in received if p["referral"]}
    referred_out = {
        p["details"]["member_unit"]
        for p in seeded.of_type("ReportTriaged")
        if p["outcome"] == "referred_out"
    }
    assert len(referral_units | referred_out) >= 4


def test_no_archived_step_is_dated_after_the_demo_today_and_cases_open_first(
    seeded: Seeded,
) -> None:
    """Every business date in the demo is the day its step happened, not the day the demo was
    seeded: nothing is dated after the demo's today, and a case is opened (立件) on the day its
    report was accepted, before any step of its handling."""
    seeded.system.catch_up()
    rows = seeded.system.read.store.query(
        "SELECT case_id, kind, on_date FROM archive_entries ORDER BY case_id, aggregate_version"
    )
    assert rows
    assert max(r["on_date"] for r in rows) <= DEMO_TODAY.isoformat()
    by_case: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_case.setdefault(row["case_id"], []).append(row)
    for case_id, entries in by_case.items():
        opened = [e["on_date"] for e in entries if e["kind"] == "CaseOpened"]
        assert opened, case_id
        later = [e["on_date"] for e in entries if e["kind"] != "CaseOpened"]
        assert all(opened[0] <= day for day in later), (case_id, opened, later)
    accepted = {
        str(e.aggregate_id): e.payload["accepted_on"]
        for e in seeded.envelopes("intake")
        if e.event_type == "ReportAccepted"
    }
    for opened in seeded.envelopes("casework"):
        if opened.event_type == "CaseOpened" and opened.payload.get("report_id"):
            assert opened.payload["opened_on"] == accepted[str(opened.payload["report_id"])]


def test_triage_steps_carry_business_dates_and_demo_actors(seeded: Seeded) -> None:
    triaged = seeded.of_type("ReportTriaged")
    assert {p["actor"]["id"] for p in triaged} <= DEMO_ACTORS
    forwarded = [p for p in triaged if p["outcome"] == "forwarded_up"]
    assert all(dt.date.fromisoformat(p["details"]["forwarded_on"]) <= DEMO_TODAY for p in forwarded)
    returned = [p for p in triaged if p["outcome"] == "returned"]
    assert all(p["actor"]["id"] == "leader" for p in returned)  # the leader approves


# -- cases: every path -------------------------------------------------------------------


def test_every_disposition_inquiry_outcome_finding_and_verdict_occurs(seeded: Seeded) -> None:
    approved = seeded.of_type("DispositionApproved")
    assert {p["disposition"] for p in approved} == {d.value for d in Disposition}
    assert all(p["collective_study"]["participants"] for p in approved)
    assert {p["outcome"] for p in seeded.of_type("InquiryReplyEvaluated")} == {
        o.value for o in InquiryOutcome
    }
    kinds = {p["kind"] for p in seeded.of_type("FindingRecorded")}
    assert {
        FindingKind.AUDIT.value,
        FindingKind.INTERVIEW.value,
        FindingKind.DOCUMENT.value,
    } <= kinds
    assert {p["overall"] for p in seeded.of_type("ConclusionApproved")} == {
        v.value for v in Verdict
    }
    assert seeded.of_type("DispositionReturned")
    assert seeded.of_type("ConclusionReturned")
    assigned = seeded.of_type("HandlerAssigned")
    assert {p["handler_id"] for p in assigned} == {"handler", "handler2"}
    assert any(p["previous_handler_id"] for p in assigned)  # a reassignment


def test_the_dismissal_was_decided_thirteen_months_ago(seeded: Seeded) -> None:
    case = seeded.system.casework.get_case(featured_case(seeded, "dismissal"))
    assert case.state is CaseState.CLOSED
    assert case.feedback_given == 1
    (dismissal,) = [h for h in case.handlings if h["handling"] == HandlingType.DISMISSAL.value]
    assert dismissal["decided_on"] == dt.date(2025, 10, 30)
    assert dismissal["cadre"]["cadre_id"] == "QS-0038"
    decided = [
        p
        for p in seeded.of_type("HandlingDecided")
        if p["handling"] == "dismissal" and p["cadre"]["cadre_id"] == "QS-0038"
    ]
    assert decided[0]["effects"]["bars_promotion_months"] == 24
    assert decided[0]["effects"]["bars_leading_post_months"] == 12


def test_the_clean_examples_have_no_other_reports(seeded: Seeded) -> None:
    named = Counter(
        s.get("cadre_id")
        for p in seeded.of_type("ReportReceived")
        for s in p["subjects"]
        if s.get("cadre_id")
    )
    for cadre_id in RESERVED_CADRES:
        assert named[cadre_id] == 1, cadre_id


def test_admonitions_followed_up_improved_and_escalated(seeded: Seeded) -> None:
    handlings = Counter(p["handling"] for p in seeded.of_type("HandlingDecided"))
    assert handlings[HandlingType.ADMONITION.value] >= 3
    assert handlings[HandlingType.DEMOTION.value] >= 1
    outcomes = {p["outcome"] for p in seeded.of_type("AdmonitionFollowedUp")}
    assert outcomes == {o.value for o in AdmonitionOutcome}
    escalated = seeded.system.casework.get_case(featured_case(seeded, "admonition_escalated"))
    assert [h["handling"] for h in escalated.handlings] == ["admonition", "demotion"]


def test_clearing_proposed_applied_approved_and_carried_out(seeded: Seeded) -> None:
    proposed = seeded.of_type("ClearingProposed")
    assert {p["applied_for_by_cadre"] for p in proposed} == {True, False}
    assert len(seeded.of_type("ClearingApproved")) < len(proposed)  # one awaits approval
    methods = {p["method"] for p in seeded.of_type("ClearingCarriedOut")}
    assert ClearingMethod.PARTY_COMMITTEE_NOTICE.value in methods
    cleared = seeded.system.casework.get_case(featured_case(seeded, "cleared"))
    assert cleared.clearing["stage"] == "carried_out"
    assert cleared.conclusion is not None
    assert cleared.conclusion["overall"] is Verdict.UNTRUE


def test_a_false_accusation_opens_a_linked_case(seeded: Seeded) -> None:
    case_id = featured_case(seeded, "false_accusation")
    case = seeded.system.casework.get_case(case_id)
    assert case.false_accusation_case_id is not None
    linked = seeded.system.casework.get_case(case.false_accusation_case_id)
    assert linked.kind is CaseKind.FALSE_ACCUSATION
    assert linked.linked_case_id == case_id
    assert linked.state is CaseState.TRANSFERRED
    assert linked.received_on > dt.date(2025, 12, 8)  # opened on the day it was suspected


def test_feedback_objections_and_a_reopening(seeded: Seeded) -> None:
    assert seeded.of_type("FeedbackGiven")
    assert len(seeded.of_type("ObjectionRecorded")) == len(seeded.of_type("ObjectionAnswered")) >= 2
    reopened = seeded.system.casework.get_case(featured_case(seeded, "objection_reopened"))
    assert reopened.reopenings == 1
    assert reopened.state is CaseState.CLOSED
    assert reopened.feedback_given == 2


def test_an_inquiry_notice_is_issued_and_numbered(seeded: Seeded) -> None:
    """Decision 0035: the overdue inquiry's 谈话函询通知书, in the register's first number."""
    (issued,) = seeded.of_type("DocumentIssued")
    assert issued["kind"] == "inquiry_notice"
    assert issued["number"].endswith("〔2026〕1号")
    assert issued["fields"]["form"] == "函询"


def test_parked_cases_reviewed_and_reactivated(seeded: Seeded) -> None:
    assert seeded.of_type("ParkedCaseReviewed")
    assert seeded.of_type("Reactivated")
    reviewed = seeded.system.casework.get_case(featured_case(seeded, "parked_reviewed"))
    assert reviewed.state is CaseState.PARKED
    assert reviewed.deadlines["parked_review"]["due"] > DEMO_TODAY


def test_publicity_holds_with_every_decision_and_one_still_held(seeded: Seeded) -> None:
    held = seeded.of_type("PublicityHeld")
    decided = seeded.of_type("PublicityDecided")
    assert {p["decision"] for p in decided} == {d.value for d in PublicityDecision}
    assert len(held) == len(decided) + 1
    on_hold = seeded.system.casework.get_case(featured_case(seeded, "publicity_on_hold"))
    assert on_hold.publicity_hold is not None


# -- the queues have items ----------------------------------------------------------------


def test_every_queue_has_something_in_it(seeded: Seeded) -> None:
    casework, intake = seeded.system.casework, seeded.system.intake
    cases = [casework.get_case(case_id) for case_id in seeded.case_ids()]
    states = Counter(case.state for case in cases)
    assert set(CaseState) <= set(states)  # cases stand at every stage
    open_cases = [c for c in cases if c.state not in (CaseState.CLOSED, CaseState.TRANSFERRED)]
    assert {c.handler_id for c in open_cases} >= {"handler", "handler2", None}

    calendar = WorkingDayCalendar()
    soon = calendar.add_working_days(DEMO_TODAY, 3).due
    open_deadlines = [
        (name.split("#")[0], d["due"])
        for case in cases
        for name, d in case.deadlines.items()
        if d["met_on"] is None
    ]
    overdue = {name for name, due in open_deadlines if due < DEMO_TODAY}
    due_soon = {name for name, due in open_deadlines if DEMO_TODAY <= due <= soon}
    assert {"inquiry_reply", "parked_review", "feedback", "admonition_follow_up"} <= overdue
    assert {"inquiry_reply", "feedback"} <= due_soon

    statuses = Counter(
        intake.get_report(report_id_for_idempotency_key(r.key)).status for r in seeded.reports
    )
    assert statuses[ReportStatus.REGISTERED] >= 2  # untriaged
    assert statuses[ReportStatus.RETURN_PROPOSED] >= 1  # awaiting the leader
    assert statuses[ReportStatus.REFERRED_OUT] >= 1  # pending with a member unit


# -- planning -----------------------------------------------------------------------------


@pytest.mark.parametrize("auto_accept", [True, False])
def test_planning_holds_for_any_count(auto_accept: bool) -> None:
    """The featured stories' fixed dates fit whatever the random gaps (which depend on
    the reports' order, hence on the count)."""
    cadres = read_register()
    for count in range(len(FEATURED), REPORT_COUNT + 1, 23):
        reports = demo_reports(cadres, count=count)
        received = {r.key: r.submission.received_on for r in reports}
        stories = Planner(reports, IntakePolicy(auto_accept=auto_accept), 12380, cadres).plan()
        for story in stories:
            days = [step.on for step in story.steps]
            assert days == sorted(days), story.key
            start = received[story.key.removesuffix("#WG")]
            assert start is not None
            assert all(day >= start for day in days), story.key


def test_too_few_reports_for_the_featured_stories_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        demo_reports(read_register(), count=len(FEATURED) - 1)


def test_reports_are_deterministic_and_well_formed() -> None:
    cadres = read_register()
    reports = demo_reports(cadres)
    again = demo_reports(cadres)
    assert [(r.key, r.submission) for r in reports] == [(r.key, r.submission) for r in again]
    assert len({r.key for r in reports}) == REPORT_COUNT
    assert {r.feature.tag for r in reports if r.feature} == {f.tag for f in FEATURED}
    for report in reports:
        submission = report.submission
        assert 1 <= len(submission.categories) <= 3
        assert len(submission.summary) <= SUMMARY_MAX
        assert submission.received_on is not None
        assert "{" not in submission.summary
        assert (submission.referral is not None) == (submission.channel is Channel.REFERRAL)


# -- read side and reporter protection -----------------------------------------------------


def test_the_register_is_upserted_not_duplicated(seeded: Seeded) -> None:
    rows = seeded.system.read.store.query("SELECT COUNT(*) AS n FROM cadres")
    assert rows[0]["n"] == seeded.first["cadres"] == len(read_register())
    assert seeded.system.read.register.search("交通")


def test_every_report_is_projected_once(seeded: Seeded) -> None:
    store = seeded.system.read.store
    # the demo set, the per-cadre scenario's report, the settling stories' reports and the
    # report about a selection
    count = COUNT + 1 + seeded.first["settling_reports"] + seeded.first["selection_reports"]
    assert store.query("SELECT COUNT(*) AS n FROM archive_reports")[0]["n"] == count
    channels = {r["channel"] for r in store.query("SELECT DISTINCT channel FROM archive_reports")}
    assert channels == {c.value for c in Channel}


def test_some_reports_name_people_outside_the_register(seeded: Seeded) -> None:
    registered = {(c.name, c.unit) for c in read_register()}
    subjects = seeded.system.read.store.query("SELECT name, unit FROM archive_subjects")
    assert any((s["name"], s["unit"]) not in registered for s in subjects)


def test_real_name_reporters_stay_in_the_vault(seeded: Seeded) -> None:
    reporters = [
        r.submission.reporter
        for r in seeded.reports
        if isinstance(r.submission.reporter, RealNameReporter)
    ]
    assert reporters
    assert seeded.first["real_name"] == len(reporters)
    secrets = {reporter.name for reporter in reporters} | {r.phone for r in reporters if r.phone}
    # The check below means something only if no report's content mentions a reporter.
    content = "".join(
        r.submission.summary + "".join(s.model_dump_json() for s in r.submission.subjects)
        for r in seeded.reports
    )
    assert not [s for s in secrets if s in content]

    files = sorted(seeded.data_dir.glob("*.sqlite*"))
    names = {f.name for f in files}
    assert {"projections.sqlite", "casework.sqlite", "intake.sqlite"} <= names
    # A positive control: the byte search finds what is there (a cadre's name, in UTF-8),
    # in the case log and the read tables alike. Recent pages may still be in the
    # write-ahead log, hence every file of each database.
    for database in ("projections", "casework"):
        data = b"".join(f.read_bytes() for f in files if f.name.startswith(database))
        assert "邹庆丰".encode() in data, database  # the dismissed cadre
    for file in files:
        data = file.read_bytes()
        leaked = [s for s in secrets if s.encode() in data]
        assert not leaked, f"{file.name} holds reporter identity: {leaked[:3]}"


def test_the_sealed_report_forwarded_up_is_handed_over_on_paper(seeded: Seeded) -> None:
    """Decision 0013: the demo's sealed, forwarded report shows its handover (never its
    content), so a leader can try opening it once."""
    handed = [
        e.payload for e in seeded.envelopes("intake") if e.event_type == "SealedContentHandedOver"
    ]
    forwarded = [t for t in seeded.of_type("ReportTriaged") if t["outcome"] == "forwarded_up"]
    assert seeded.first["sealed"] >= 1
    assert len(handed) == len(forwarded) >= 1
    assert {(h["method"], h["actor"]["id"]) for h in handed} == {("paper", "operator")}
    assert all(h["reference"].startswith("机要件 JB-") for h in handed)


def test_the_two_cadre_case_gives_each_cadre_their_own_reply(seeded: Seeded) -> None:
    """Issue 10's demo scenario (services/demo/stories/per_cadre.py): one report, 属实 for QS-0037
    (admonished, then demoted after closure), 不属实 for QS-0008 (cleared); the accuser
    QS-0012 handled in the false-accusation case."""
    from schemas.views_archive import IntegrityRequest
    from services.casework.handlers import false_accusation_case_id
    from services.demo.stories.per_cadre import CLEARED_SUBJECT, KEY
    from services.projections.archive.integrity import IntegrityReplies
    from services.projections.archive.queries import ArchiveQueries

    system = seeded.system
    case_id = case_id_for_report(report_id_for_idempotency_key(KEY))
    service = IntegrityReplies(ArchiveQueries(system.read.store, system.read.register))
    reply = service.reply(
        IntegrityRequest(cadre_ids=["QS-0037", "QS-0008", "QS-0012"], as_of=DEMO_TODAY)
    )
    proven, cleared, accuser = reply.cadres

    (mine,) = [i for i in proven.proven if i.case_id == str(case_id)]
    assert mine.conclusion is not None
    assert mine.conclusion.overall == "true"
    assert [h.handling for h in mine.handlings] == ["admonition", "demotion"]
    assert any(b.bar == "promotion" and b.running for b in proven.running_bars)
    (theirs,) = [i for i in cleared.cleared if i.case_id == str(case_id)]
    assert theirs.conclusion is not None
    assert theirs.conclusion.overall == "untrue"
    assert theirs.handlings == []
    assert proven.opinion_zh != cleared.opinion_zh
    counter_case = false_accusation_case_id(case_id, CLEARED_SUBJECT)
    (false_accusation,) = [i for i in accuser.proven if i.case_id == str(counter_case)]
    assert [h.handling for h in false_accusation.handlings] == ["admonition"]
    assert "诬告陷害" in false_accusation.text_zh
    case = system.casework.get_case(case_id)
    assert case.state is CaseState.CLOSED
    assert case.escalations == {1: {"to": "demotion", "decided": 2}}


def test_items_that_left_the_office_come_back_settled_or_stay_visibly_open(
    seeded: Seeded,
) -> None:
    """services/demo/stories/settling.py: the discipline commission's result per cadre, one still
    awaited (overdue), a transfer down's and a referral's structured results."""
    from schemas.views_archive import IntegrityRequest
    from services.projections.archive.integrity import IntegrityReplies
    from services.projections.archive.queries import ArchiveQueries
    from services.projections.cases.queries import CaseQueries

    system = seeded.system
    replies = IntegrityReplies(ArchiveQueries(system.read.store, system.read.register))
    ids = ["QS-0012", "QS-0013", "QS-0024", "QS-0051", "QS-0037"]
    request = IntegrityRequest(cadre_ids=ids, as_of=DEMO_TODAY)
    he, cao, jiang, he_wj, jiang_wm = replies.reply(request).cadres

    (demoted,) = [i for i in he.proven if i.receiver_result is not None]
    assert demoted.receiver_result is not None
    assert demoted.receiver_result.document_number == "青纪审〔2026〕15号"
    assert he.stands_in_the_way
    assert {b.bar for b in he.running_bars} >= {"promotion"}
    assert not any(i.receiver_result for i in cao.proven)
    assert any(i.status == "untrue" and i.receiver_result for i in cao.other)
    awaited = [i for i in jiang.open_items if i.report_back_due is not None]
    assert awaited
    assert "已逾期" in awaited[0].text_zh
    assert any(i.receiver_result and i.status == "proven" for i in he_wj.proven)
    assert any(b.bar == "promotion" for b in jiang_wm.running_bars)  # admonition, 6 months
    overdue = CaseQueries(system.read.store, system.config, today=lambda: DEMO_TODAY).overdue()
    assert "discipline_report_back" in {i.clock.name for i in overdue}


def test_the_relays_bytes_are_the_envelopes_of_every_event_of_the_demo(seeded: Seeded) -> None:
    """The relay builds each envelope's bytes in one pass (``read_messages``, 0024): for every
    event type the demo produces they are ``EventEnvelope.to_bytes()`` byte for byte."""
    for app in (seeded.system.intake, seeded.system.casework):
        envelopes, last = app.read_envelopes(0, 10**6)
        messages, last_read = app.read_messages(0, 10**6)
        assert last_read == last == app.max_position()
        assert [m.value for m in messages] == [e.to_bytes() for e in envelopes]
        assert [m.key for m in messages] == [e.key() for e in envelopes]
        assert [m.position for m in messages] == [e.position for e in envelopes]
        assert len({e.event_type for e in envelopes}) >= 5


# -- selections (issue 14) --------------------------------------------------------------------


def test_a_clean_selection_is_appointed_and_a_sudden_promotion_waits_refused(
    seeded: Seeded,
) -> None:
    proposed = {
        e.aggregate_id: e.payload["unit"]
        for e in seeded.envelopes("casework")
        if e.event_type == "SelectionProposed"
    }
    stages = {
        unit: seeded.system.casework.get_selection(selection_id).stage.value
        for selection_id, unit in proposed.items()
    }
    decisions = sorted(d["on"] for d in seeded.of_type("DecisionRecorded"))

    assert stages == {
        "青山县财政局": "appointed",
        "中共青山县白沙镇委员会": "deliberated",
        "青山县住房和城乡建设局": "voided",
        "青山县卫生健康局": "inspection_announced",
    }
    assert decisions == ["2026-04-07", "2026-09-01"]  # the sudden one never met
    assert [c["kind"] for c in seeded.of_type("CircumstanceRecorded")] == [
        "principal_leader_transfer"
    ]
    assert seeded.first["selections"] == seeded.second["selections"] == 4
    assert seeded.first["selection_refusals"] == 1  # 突击提拔, tried on 27 November
    assert seeded.first["selection_steps_added"] == 9 + 6 + 8 + 3 + 3
    assert seeded.second["selection_steps_added"] == 0
    # The clean selection's opinion is the supervision office's reply from the information
    # base; the held one's request waits for its reply.
    opinions = seeded.of_type("IntegrityOpinionRecorded")
    (replied,) = [o for o in opinions if o["actor"]["role"] == "handler"]
    assert replied["opinions"][0]["given_by"] == INTEGRITY_REPLIER
    assert len(opinions) == 3  # the others: the discipline commission's, recorded by hand
    assert len(seeded.of_type("IntegrityOpinionsRequested")) == 2


def test_a_canvassing_report_voids_the_appointment_and_the_inspector_and_chair_answer(
    seeded: Seeded,
) -> None:
    archives = seeded.system.read.archives
    replies = seeded.system.read.replies
    (void,) = archives.archive("QS-0029").selections  # 丁晓军, appointed after canvassing
    (inspector,) = archives.archive("QS-0044").selections  # 任天佑, the inspection's leader
    (chair,) = archives.archive("QS-0001").selections  # 陈立诚, who chaired the decision
    reply = replies.reply(IntegrityRequest(cadre_ids=["QS-0044"], as_of=DEMO_TODAY))

    assert (void.kind, void.ground) == ("AppointmentVoided", "canvassing_bribery")
    # on the supervision project (立项督查) opened on the letter's case
    assert void.basis_kind == "project"
    (project,) = {
        e.aggregate_id for e in seeded.envelopes("casework") if e.event_type == "ProjectClosed"
    }
    assert str(project) == str(void.basis_id)
    assert seeded.first["projects"] == 1
    assert seeded.first["project_steps_added"] == 5 + 2
    assert seeded.second["project_steps_added"] == 0
    assert (inspector.step, inspector.handling) == ("inspection", "admonition")
    assert (chair.step, chair.handling) == ("decision", "circulated_criticism")
    # The admonition (27 July) bars the inspector's promotion for six months.
    assert reply.cadres[0].stands_in_the_way is True


def test_a_call_during_the_inspection_announcement_holds_the_candidate_it_names(
    seeded: Seeded,
) -> None:
    (held,) = seeded.of_type("CandidateHeld")
    (report,) = [
        e
        for e in seeded.envelopes("intake")
        if e.event_type == "ReportReceived"
        and e.payload["received_on"] == "2026-11-25"
        and e.payload["subjects"][0].get("cadre_id") == "QS-0025"
    ]

    assert held["candidate_id"] == "a"  # 沈博文; 蒋红旗, the other subject, is not held
    assert held["report_id"] == str(report.aggregate_id)
    assert held["on"] == "2026-11-25"
    assert held["actor"]["role"] == "system"
