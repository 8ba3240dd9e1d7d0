"""Voided appointments (任免决定无效) and responsibility for a selection (选人用人责任追究) as
stories on the ``Selection`` aggregate (decision 0034): given steps, when a leader voids an
appointment or holds someone responsible, then the record (or a refusal by a named rule that
stores nothing)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from schemas.glossary import AccountabilityHandling, HandlingType, SettlementPath, VoidGround
from services.casework.selection import Selection, rules
from services.common.procedure import RoleNotAllowed, RuleBroken
from tests.unit.selection_support import (
    CASE,
    CLERK,
    DEPARTMENT,
    HANDLER,
    LEADER,
    PATH,
    D,
    St,
    appoint,
    before,
    decide,
    given,
    hold_responsible,
    inspect,
    publicize,
    recommend,
    refused,
    void,
    vote,
)

EVERY_STEP = [step for step, _ in PATH]


def broken(s: Selection, command: Callable[[], object]) -> rules.Rule:
    return refused(s, RuleBroken, command).rule


# -- voided appointments ------------------------------------------------------------------------


def test_voiding_every_appointed_candidate_voids_the_selection() -> None:
    s = given(*EVERY_STEP)
    void(s, candidates=["a", "b"])
    assert s.stage is St.VOIDED
    assert s.voided["a"]["ground"] == VoidGround.SUDDEN_PROMOTION
    assert s.voided["b"]["basis_id"] == str(CASE)
    (event,) = s.collect_events()
    assert type(event).__name__ == "AppointmentVoided"
    assert event.selection_void is True  # type: ignore[attr-defined]
    assert event.actor == LEADER  # type: ignore[attr-defined]
    # Each candidate as the record names them, with the post: the archive needs no other event.
    assert event.candidates[0] == {  # type: ignore[attr-defined]
        "candidate_id": "a",
        "name": "王建国",
        "unit": "某县财政局",
        "cadre_id": "C-001",
        "post": "副局长",
    }
    assert event.unit == "某县财政局"  # type: ignore[attr-defined]


def test_voiding_some_candidates_leaves_the_selection_where_it_was() -> None:
    s = given(*EVERY_STEP)
    void(s, candidates=["a"])
    assert s.stage is St.APPOINTED
    assert set(s.voided) == {"a"}
    assert s.collect_events()[0].selection_void is False  # type: ignore[attr-defined]
    void(s, candidates=["b"], ground="buying_selling_office", on=D(2026, 4, 21))
    assert s.stage is St.VOIDED
    assert s.last_on == D(2026, 4, 21)


def test_a_decision_not_yet_appointed_can_be_voided_and_is_then_not_carried_out() -> None:
    s = given(*before(publicize))
    assert s.stage is St.DECIDED
    void(s, on=D(2026, 3, 18))
    assert s.stage is St.DECIDED  # b still stands
    s.collect_events()
    assert broken(s, lambda: publicize(s)) is rules.VOIDED_NOT_APPOINTED
    publicize(s, candidates=["b"])
    s.collect_events()
    assert broken(s, lambda: appoint(s)) is rules.VOIDED_NOT_APPOINTED
    appoint(s, appointments=[{"candidate_id": "b", "post": "副局长"}])
    assert s.stage is St.APPOINTED


def test_only_an_approved_candidate_is_voided_and_only_once() -> None:
    s = given(*before(decide))
    decide(s, votes=[vote("a", 7), vote("b", 3, 4)])  # b not approved
    s.collect_events()
    for candidates in (["b"], ["c"], ["zz"]):
        assert broken(s, lambda c=candidates: void(s, candidates=c)) is rules.VOID_DECIDED_ONLY
    void(s)
    assert s.stage is St.VOIDED  # a was the only approved candidate
    s.collect_events()
    error = refused(s, rules.StepOutOfOrder, lambda: void(s))
    assert error.rule is rules.STEP_ORDER


def test_a_candidate_voided_once_is_not_voided_again() -> None:
    s = given(*EVERY_STEP)
    void(s)
    s.collect_events()
    assert broken(s, lambda: void(s, candidates=["a", "b"])) is rules.VOID_DECIDED_ONLY


def test_nothing_is_voided_before_a_decision() -> None:
    s = given(*before(decide))
    error = refused(s, rules.StepOutOfOrder, lambda: void(s))
    assert "讨论决定" in error.message_zh


def test_a_void_names_its_candidates_once_each() -> None:
    s = given(*EVERY_STEP)
    assert broken(s, lambda: void(s, candidates=[])) is rules.CANDIDATES_DISTINCT
    assert broken(s, lambda: void(s, candidates=["a", "a"])) is rules.CANDIDATES_DISTINCT


def test_a_void_rests_on_a_basis() -> None:
    s = given(*EVERY_STEP)
    assert broken(s, lambda: void(s, basis_id=None)) is rules.BASIS_REQUIRED
    assert broken(s, lambda: void(s, basis_kind=None)) is rules.BASIS_REQUIRED


def test_a_void_is_not_dated_before_the_last_step() -> None:
    s = given(*EVERY_STEP)
    assert broken(s, lambda: void(s, on=D(2026, 3, 25))) is rules.DATES_IN_ORDER


@pytest.mark.parametrize("actor", [CLERK, HANDLER], ids=["clerk", "handler"])
def test_only_a_leader_voids_an_appointment_or_holds_someone_responsible(
    actor: dict[str, str],
) -> None:
    s = given(*EVERY_STEP)
    error = refused(s, RoleNotAllowed, lambda: void(s, actor=actor))
    assert "领导" in error.message_zh
    refused(s, RoleNotAllowed, lambda: hold_responsible(s, actor=actor))


# -- responsibility -----------------------------------------------------------------------------


def test_a_person_the_record_names_is_held_responsible_for_their_step() -> None:
    s = given(*EVERY_STEP)
    hold_responsible(s)
    decider = {"name": "县委书记", "unit": DEPARTMENT, "position": "主持人"}
    hold_responsible(
        s, person=decider, step="decision", handling="circulated_criticism", effects={}
    )
    assert s.stage is St.APPOINTED  # a responsibility does not move the selection
    assert [r["step"] for r in s.responsibilities] == ["inspection", "decision"]
    first = s.responsibilities[0]
    assert first["person"]["cadre_id"] == "C-009"
    assert first["handling"] == "admonition"
    assert first["effects"]["bars_promotion_months"] == 6
    assert [type(e).__name__ for e in s.collect_events()] == ["ResponsibilityTaken"] * 2


def test_the_step_must_be_one_the_record_has_people_for() -> None:
    s = given(recommend)  # nominated and recommended; nobody inspected yet
    rule = broken(s, lambda: hold_responsible(s, on=D(2026, 3, 6)))
    assert rule is rules.STEP_ON_RECORD
    assert "谁考察谁负责" in rule.message_zh
    proposer = {"name": "张部长", "unit": DEPARTMENT}
    hold_responsible(s, person=proposer, step="nomination", on=D(2026, 3, 6), reason="")
    s.collect_events()
    assert s.responsibilities[0]["person"] == proposer
    given_inspection = given(*before(inspect), inspect)
    hold_responsible(given_inspection, on=D(2026, 3, 10))


def test_a_person_the_record_does_not_name_for_the_step_needs_a_reason() -> None:
    s = given(*EVERY_STEP)
    stranger = {"name": "孙某", "unit": "某县财政局", "position": "局长"}
    rule = broken(s, lambda: hold_responsible(s, person=stranger, reason=" "))
    assert rule is rules.PERSON_ON_RECORD
    hold_responsible(s, person=stranger, step="recommendation", reason="授意推荐")
    assert s.responsibilities[0]["person"]["name"] == "孙某"


def test_a_responsibility_rests_on_a_basis_and_is_dated_in_order() -> None:
    s = given(*EVERY_STEP)
    assert broken(s, lambda: hold_responsible(s, basis_id=None)) is rules.BASIS_REQUIRED
    rule = broken(s, lambda: hold_responsible(s, on=D(2026, 3, 20)))
    assert rule is rules.DATES_IN_ORDER


def test_responsibility_is_taken_for_a_withdrawn_or_a_void_selection_too() -> None:
    withdrawn = given(recommend)
    withdrawn.withdraw(actor=CLERK, on=D(2026, 3, 6), reason="岗位调整")
    hold_responsible(withdrawn, step="recommendation", person={"name": "刘科长"}, on=D(2026, 3, 7))
    assert withdrawn.stage is St.WITHDRAWN
    voided = given(*EVERY_STEP)
    void(voided, candidates=["a", "b"])
    hold_responsible(voided, on=D(2026, 4, 21))
    assert voided.stage is St.VOIDED
    assert len(voided.responsibilities) == 1


def test_every_new_rule_speaks_both_languages() -> None:
    for rule in (
        rules.VOID_DECIDED_ONLY,
        rules.VOIDED_NOT_APPOINTED,
        rules.BASIS_REQUIRED,
        rules.BASIS_CONCLUDED,
        rules.STEP_ON_RECORD,
        rules.PERSON_ON_RECORD,
    ):
        assert rule.message.isascii(), rule.name
        assert not rule.message_zh.isascii(), rule.name


def test_the_handlings_are_the_case_procedures_and_two_more() -> None:
    handlings = AccountabilityHandling.labels()
    assert HandlingType.labels().items() <= handlings.items()
    extra = set(handlings) - set(HandlingType.labels())
    assert extra == {"circulated_criticism", SettlementPath.DISCIPLINE_TRANSFER.value}
    assert handlings["discipline_transfer"] == SettlementPath.DISCIPLINE_TRANSFER.zh
    assert handlings["circulated_criticism"] == "通报批评"
