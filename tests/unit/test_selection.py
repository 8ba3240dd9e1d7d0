"""The selection record (decision 0034) as stories: given steps, when a
command, then the selection's stage and record (or a refusal by a named rule that stores
nothing). Directly on the ``Selection`` aggregate, no database."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from schemas.glossary import CircumstanceKind
from services.casework.selection import Selection, rules
from services.common.procedure import RuleBroken, TransitionNotAllowed
from tests.unit.selection_support import (
    CLERK,
    LEADER,
    PATH,
    REPORT,
    D,
    St,
    announce,
    appoint,
    before,
    decide,
    deliberate,
    given,
    inspect,
    integrity,
    opinion,
    propose,
    publicize,
    recommend,
    refused,
    vote,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


def broken(s: Selection, command: Callable[[], object]) -> rules.Rule:
    """The named rule that refuses ``command`` (which stores nothing)."""
    return refused(s, RuleBroken, command).rule


# -- the happy path ----------------------------------------------------------------------------


def test_a_selection_goes_through_every_step_in_order() -> None:
    s = propose()
    assert s.stage is St.PROPOSED
    for step, stage in PATH:
        step(s)
        assert s.stage is stage, step.__name__
    events = [type(e).__name__ for e in s.collect_events()]
    assert events == [
        "Proposed",
        "RecommendationRecorded",
        "InspectionAnnounced",
        "InspectionRecorded",
        "IntegrityOpinionRecorded",
        "DeliberationRecorded",
        "DecisionRecorded",
        "PublicityStarted",
        "AppointmentRecorded",
    ]
    assert s.subjects == ["a", "b"]
    assert s.approved == ["a", "b"]
    assert set(s.appointed) == {"a", "b"}
    assert s.appointed["a"] == {"candidate_id": "a", "post": "副局长", "on": D(2026, 3, 26)}
    assert s.candidates["a"]["cadre_id"] == "C-001"
    assert s.last_on == D(2026, 3, 26)


def test_every_step_records_who_was_responsible_and_the_day() -> None:
    s = propose()
    for step, _ in PATH:
        step(s)
    by_name = {type(e).__name__: e for e in s.collect_events()}
    assert by_name["Proposed"].proposers[0]["name"] == "张部长"  # type: ignore[attr-defined]
    assert by_name["RecommendationRecorded"].organizers  # type: ignore[attr-defined]
    assert by_name["InspectionRecorded"].inspectors  # type: ignore[attr-defined]
    assert by_name["DecisionRecorded"].decision_makers  # type: ignore[attr-defined]
    assert by_name["DecisionRecorded"].on == D(2026, 3, 18)  # type: ignore[attr-defined]
    assert by_name["DecisionRecorded"].actor == LEADER  # type: ignore[attr-defined]


# -- the order of the steps and their dates ------------------------------------------------


def test_a_step_out_of_order_is_refused_naming_what_it_needs() -> None:
    s = given()
    error = refused(s, TransitionNotAllowed, lambda: decide(s))
    assert isinstance(error, rules.StepOutOfOrder)
    assert error.rule is rules.STEP_ORDER
    assert "needs a deliberation recorded" in str(error)
    assert "已经酝酿" in error.message_zh
    assert "动议" in error.message_zh  # the stage it is at


def test_an_inspection_announced_before_a_recommendation_is_refused() -> None:
    s = given()
    error = refused(s, TransitionNotAllowed, lambda: announce(s))
    assert "经过民主推荐" in error.message_zh


def test_a_step_dated_before_the_previous_one_is_refused() -> None:
    s = given(recommend)
    assert broken(s, lambda: announce(s, on=D(2026, 3, 4))) is rules.DATES_IN_ORDER
    announce(s, on=D(2026, 3, 5))  # the same day as the step before it
    assert s.stage is St.INSPECTION_ANNOUNCED


def test_a_record_beside_the_steps_is_dated_from_the_last_step_and_does_not_move_it() -> None:
    s = given(recommend, announce)
    hold = {"candidate_id": "b", "report_id": REPORT, "actor": LEADER}
    assert broken(s, lambda: s.hold_candidate(**hold, on=D(2026, 3, 8))) is rules.DATES_IN_ORDER
    s.hold_candidate(**hold, on=D(2026, 3, 11))
    inspect(s, on=D(2026, 3, 10))  # the inspection began before the report came in
    assert s.last_on == D(2026, 3, 10)


def test_a_period_ending_before_it_starts_is_refused() -> None:
    s = given(recommend)
    assert broken(s, lambda: announce(s, ends_on=D(2026, 3, 8))) is rules.PERIOD_IN_ORDER


# -- the democratic recommendation and the inspection's announcement ----------------------


def test_a_candidate_named_twice_is_refused() -> None:
    s = given()
    twice = [{"candidate_id": "a", "name": "甲", "votes": 1}] * 2
    assert broken(s, lambda: recommend(s, candidates=twice)) is rules.CANDIDATES_DISTINCT
    assert broken(s, lambda: recommend(s, candidates=[])) is rules.CANDIDATES_DISTINCT


def test_more_votes_than_participants_are_refused() -> None:
    s = given()
    assert broken(s, lambda: recommend(s, participants=29)) is rules.VOTES_COUNTED
    recommend(s, participants=30)
    assert s.participants == 30


def test_a_subject_not_recommended_is_not_nominated() -> None:
    s = given(recommend)
    rule = broken(s, lambda: announce(s, subjects=["a", "x"]))
    assert rule is rules.NOT_RECOMMENDED_NOT_NOMINATED
    assert "没有经过民主推荐的不提名" in rule.message_zh


def test_passing_over_a_candidate_with_more_votes_needs_a_reason() -> None:
    s = given(recommend)
    # b (25 votes) is passed over while c (10 votes) becomes a subject.
    rule = broken(s, lambda: announce(s, subjects=["a", "c"]))
    assert rule is rules.VOTE_ORDER_EXPLAINED
    assert "都要说明理由" in rule.message_zh
    announce(s, subjects=["a", "c"], reason="乙同志近期已交流任职")
    assert s.subjects == ["a", "c"]


def test_subjects_in_the_order_of_their_votes_need_no_reason() -> None:
    s = given(recommend)
    announce(s, subjects=["a"])
    assert s.announcement == {"starts_on": D(2026, 3, 9), "ends_on": D(2026, 3, 13)}


# -- the integrity opinion, the inspection, the deliberation ------------------------------


def test_an_integrity_opinion_is_about_an_inspection_subject() -> None:
    s = given(*before(integrity))
    rule = broken(s, lambda: integrity(s, opinions=[opinion("c")]))
    assert rule is rules.INSPECTION_SUBJECT


def test_an_integrity_opinion_is_recorded_after_it_was_received() -> None:
    s = given(*before(integrity))
    late = [opinion("a", received_on=D(2026, 3, 13))]
    assert broken(s, lambda: integrity(s, opinions=late)) is rules.OPINION_RECEIVED


def test_an_inspection_is_recorded_from_the_announcements_first_day() -> None:
    s = given(recommend, lambda s: announce(s, on=D(2026, 3, 6)))
    assert broken(s, lambda: inspect(s, on=D(2026, 3, 8))) is rules.INSPECTION_AFTER_ANNOUNCEMENT
    inspect(s, on=D(2026, 3, 9))
    assert s.stage is St.INSPECTED


def test_an_inspection_finding_is_about_a_subject() -> None:
    s = given(recommend, announce)
    finding = [{"candidate_id": "c", "summary": "未列为考察对象"}]
    assert broken(s, lambda: inspect(s, findings=finding)) is rules.INSPECTION_SUBJECT


def test_a_candidate_not_inspected_is_not_deliberated() -> None:
    only_a = [{"candidate_id": "a", "summary": "德才表现突出"}]
    s = given(recommend, announce, lambda s: inspect(s, findings=only_a), integrity)
    rule = broken(s, lambda: deliberate(s))
    assert rule is rules.NO_INSPECTION_NO_DISCUSSION


# -- the decision -------------------------------------------------------------------------


def test_a_candidate_not_inspected_is_not_discussed() -> None:
    only_a = [{"candidate_id": "a", "summary": "德才表现突出"}]
    s = given(
        recommend,
        announce,
        lambda s: inspect(s, findings=only_a),
        integrity,
        lambda s: deliberate(s, candidates=["a"]),
    )
    rule = broken(s, lambda: decide(s))
    assert rule is rules.NO_INSPECTION_NO_DISCUSSION
    assert "未经组织人事部门认真考察（考核）的不讨论" in rule.message_zh


def test_a_candidate_without_an_integrity_opinion_is_not_put_to_the_meeting() -> None:
    s = given(
        recommend,
        announce,
        inspect,
        lambda s: integrity(s, opinions=[opinion("a")]),
        deliberate,
    )
    rule = broken(s, lambda: decide(s))
    assert rule is rules.NO_INTEGRITY_OPINION_NO_MEETING
    assert "纪检监察部门没有提供廉政鉴定的不上会" in rule.message_zh
    decide(s, votes=[vote("a", 7)])
    assert s.approved == ["a"]


def test_a_meeting_needs_two_thirds_of_its_members() -> None:
    s = given(*before(decide))
    votes = [vote("a", 5), vote("b", 5)]
    rule = broken(s, lambda: decide(s, members_present=5, votes=votes))
    assert rule is rules.QUORUM
    assert "三分之二以上成员参加" in rule.message_zh
    decide(s, members_present=6, votes=votes)  # exactly two thirds of nine
    assert s.decision is not None
    assert s.decision["members_present"] == 6


def test_votes_beyond_the_members_present_are_refused() -> None:
    s = given(*before(decide))
    too_many = [vote("a", 7, 1), vote("b", 6)]
    assert broken(s, lambda: decide(s, votes=too_many)) is rules.VOTES_COUNTED
    assert broken(s, lambda: decide(s, members_present=10)) is rules.VOTES_COUNTED


def test_a_minority_vote_is_recorded_as_not_approved_not_refused() -> None:
    s = given(*before(decide))
    # Nine members due, seven present: four agreeing is not more than half of nine.
    decide(s, votes=[vote("a", 5, 2), vote("b", 4, 2, 1)])
    (event,) = s.collect_events()
    assert [v["approved"] for v in event.votes] == [True, False]  # type: ignore[attr-defined]
    assert s.stage is St.DECIDED
    assert s.approved == ["a"]


def test_a_candidate_not_approved_is_not_publicized() -> None:
    s = given(*before(decide), lambda s: decide(s, votes=[vote("a", 5), vote("b", 4)]))
    rule = broken(s, lambda: publicize(s))
    assert rule is rules.APPROVED_ONLY
    assert "多数人不同意提拔任用的不通过" in rule.message_zh
    publicize(s, candidates=["a"])
    assert s.stage is St.PUBLICIZED


def test_a_decision_during_a_circumstance_is_refused_and_the_day_after_accepted() -> None:
    s = given(*before(decide))
    s.record_circumstance(
        kind=CircumstanceKind.PRINCIPAL_LEADER_TRANSFER,
        starts_on=D(2026, 3, 10),
        ends_on=D(2026, 3, 18),
        description="县委书记调任",
        actor=CLERK,
        on=D(2026, 3, 17),
    )
    assert s.stage is St.DELIBERATED  # a circumstance does not move the selection on
    s.collect_events()
    rule = broken(s, lambda: decide(s, on=D(2026, 3, 18)))
    assert rule is rules.SUDDEN_PROMOTION
    assert "突击提拔调整干部的，作出的干部任免决定一律无效" in rule.message_zh
    decide(s, on=D(2026, 3, 19))
    assert s.stage is St.DECIDED


def test_an_institutional_change_recorded_on_the_meeting_day_counts_from_its_start() -> None:
    s = given(*before(decide))
    s.record_circumstance(
        kind=CircumstanceKind.INSTITUTIONAL_CHANGE,
        starts_on=D(2026, 3, 18),
        ends_on=D(2026, 4, 30),
        actor=CLERK,
        on=D(2026, 3, 18),
    )
    s.collect_events()
    assert broken(s, lambda: decide(s)) is rules.SUDDEN_PROMOTION
    assert s.circumstances[0]["kind"] == "institutional_change"


# -- holds by reports ----------------------------------------------------------------------


def test_a_held_candidate_is_not_decided_until_released() -> None:
    s = given(recommend, announce)
    s.hold_candidate(candidate_id="b", report_id=REPORT, actor=LEADER, on=D(2026, 3, 11))
    for step in (inspect, integrity, deliberate):
        step(s)
    s.collect_events()
    rule = broken(s, lambda: decide(s))
    assert rule is rules.CANDIDATE_HELD
    s.release_candidate(candidate_id="b", report_id=REPORT, actor=LEADER, on=D(2026, 3, 17))
    decide(s)
    assert s.approved == ["a", "b"]
    assert s.holds == {}


def test_a_candidate_held_during_the_publicity_is_not_appointed_until_released() -> None:
    s = given(*before(appoint))
    s.hold_candidate(candidate_id="b", report_id=REPORT, actor=LEADER, on=D(2026, 3, 24))
    s.collect_events()
    assert broken(s, lambda: appoint(s)) is rules.CANDIDATE_HELD
    appoint(s, appointments=[{"candidate_id": "a", "post": "副局长"}])
    assert s.stage is St.APPOINTED
    s.release_candidate(candidate_id="b", report_id=REPORT, actor=LEADER, on=D(2026, 4, 2))
    appoint(s, appointments=[{"candidate_id": "b", "post": "副局长"}], on=D(2026, 4, 3))
    assert set(s.appointed) == {"a", "b"}


def test_a_hold_comes_during_the_announcement_or_the_publicity() -> None:
    s = given(recommend, announce, inspect)
    hold = dict(candidate_id="a", report_id=REPORT, actor=LEADER)
    rule = broken(s, lambda: s.hold_candidate(**hold, on=D(2026, 3, 14)))  # type: ignore[arg-type]
    assert rule is rules.HOLD_DURING_NOTICE
    s.hold_candidate(**hold, on=D(2026, 3, 13))  # type: ignore[arg-type]
    assert s.held("a")


def test_a_hold_is_on_a_subject_once_per_report_and_released_only_if_held() -> None:
    s = given(recommend, announce)
    hold = dict(report_id=REPORT, actor=LEADER, on=D(2026, 3, 10))
    assert broken(s, lambda: s.hold_candidate(candidate_id="c", **hold)) is rules.INSPECTION_SUBJECT  # type: ignore[arg-type]
    s.hold_candidate(candidate_id="a", **hold)  # type: ignore[arg-type]
    s.collect_events()
    assert (
        broken(s, lambda: s.hold_candidate(candidate_id="a", **hold)) is rules.ONE_HOLD_PER_REPORT
    )  # type: ignore[arg-type]
    assert broken(s, lambda: s.release_candidate(candidate_id="b", **hold)) is rules.HOLD_OPEN  # type: ignore[arg-type]


def test_a_hold_outside_the_announcement_and_the_publicity_stages_is_out_of_order() -> None:
    s = given(*before(publicize))
    error = refused(
        s,
        TransitionNotAllowed,
        lambda: s.hold_candidate(
            candidate_id="a", report_id=REPORT, actor=LEADER, on=D(2026, 3, 18)
        ),
    )
    assert error.rule is rules.STEP_ORDER  # type: ignore[attr-defined]


# -- the pre-appointment publicity and the appointment ------------------------------------


def test_the_publicity_lasts_at_least_five_working_days() -> None:
    s = given(*before(publicize))
    rule = broken(s, lambda: publicize(s, working_days=4))
    assert rule is rules.PUBLICITY_PERIOD
    assert "不少于5个工作日" in rule.message_zh
    # Five working days cannot fit in three calendar days, whatever the caller counted.
    short = {"ends_on": D(2026, 3, 21), "working_days": 5}
    assert broken(s, lambda: publicize(s, **short)) is rules.PUBLICITY_PERIOD
    publicize(s)
    assert s.publicity is not None
    assert s.publicity["working_days"] == 5


def test_an_appointment_comes_after_the_publicity_has_ended() -> None:
    s = given(*before(appoint))
    rule = broken(s, lambda: appoint(s, on=D(2026, 3, 25)))  # the publicity's last day
    assert rule is rules.APPOINTMENT_AFTER_PUBLICITY
    appoint(s, on=D(2026, 3, 26))
    assert s.stage is St.APPOINTED


def test_only_a_publicized_candidate_is_appointed_once() -> None:
    s = given(*before(publicize), lambda s: publicize(s, candidates=["a"]))
    b = [{"candidate_id": "b", "post": "副局长"}]
    assert broken(s, lambda: appoint(s, appointments=b)) is rules.APPOINTMENT_AFTER_PUBLICITY
    appoint(s, appointments=[{"candidate_id": "a", "post": "副局长"}])
    s.collect_events()
    again = [{"candidate_id": "a", "post": "副局长"}]
    assert broken(s, lambda: appoint(s, appointments=again)) is rules.APPOINTED_ONCE


# -- withdrawal -------------------------------------------------------------------------------


def test_a_selection_is_withdrawn_with_its_reason_and_then_takes_no_step() -> None:
    s = given(recommend)
    assert broken(s, lambda: s.withdraw(actor=CLERK, on=D(2026, 3, 6), reason=" ")) is (
        rules.WITHDRAWAL_EXPLAINED
    )
    s.withdraw(actor=CLERK, on=D(2026, 3, 6), reason="机构改革，职位暂缓配备")
    assert s.stage is St.WITHDRAWN
    s.collect_events()
    error = refused(s, TransitionNotAllowed, lambda: announce(s))
    assert error.rule is rules.STEP_ORDER  # type: ignore[attr-defined]


# -- every rule speaks both languages ----------------------------------------------------------


def test_every_named_rule_has_an_english_and_a_chinese_message() -> None:
    named = [v for v in vars(rules).values() if isinstance(v, rules.Rule)]
    assert len(named) >= 20
    assert len({r.name for r in named}) == len(named)
    for rule in named:
        assert rule.message, rule.name
        assert not CJK.search(rule.message), rule.name
        assert CJK.search(rule.message_zh), rule.name


def test_every_permission_says_what_it_needs_in_both_languages() -> None:
    for action, permission in rules.PERMISSIONS.items():
        assert not CJK.search(permission.needs), action
        assert CJK.search(permission.needs_zh), action


@pytest.mark.parametrize("step", [p for p, _ in PATH])
def test_every_step_is_out_of_order_on_a_withdrawn_selection(step: object) -> None:
    s = given(lambda s: s.withdraw(actor=CLERK, on=D(2026, 3, 3), reason="终止"))
    error = refused(s, TransitionNotAllowed, lambda: step(s))  # type: ignore[operator]
    assert error.rule is rules.STEP_ORDER  # type: ignore[attr-defined]
