"""The selection record's tables and storage (decision 0034): who may record which step, the
one stage table, the contract of its events, and a selection rebuilt from its stored events
(with the project's transcodings, on eventsourcing's in-memory store) is the same selection."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from hypothesis import given as for_all
from hypothesis import strategies as st

from schemas.event_base import Source
from schemas.events import parse_payload
from schemas.glossary import DocumentKind, Role
from services.accounts import access
from services.casework.chain import verify_chain
from services.casework.selection import SELECTION_CONTRACTS, Selection, rules
from services.common.application import JianduApplication
from services.common.procedure import RoleNotAllowed
from services.common.selection_stages import FIXED, stage_after
from tests.unit.selection_support import (
    CLERK,
    HANDLER,
    LEADER,
    OPERATOR,
    PATH,
    REPORT,
    D,
    St,
    announce,
    before,
    decide,
    given,
    hold_responsible,
    opinion,
    propose,
    publicize,
    recommend,
    refused,
    void,
    vote,
)

# -- who may record which step ------------------------------------------------------------------


@pytest.mark.parametrize("actor", [OPERATOR, HANDLER], ids=["operator", "handler"])
def test_operators_and_handlers_do_not_record_a_selections_steps(actor: dict[str, str]) -> None:
    with pytest.raises(RoleNotAllowed):
        propose(actor=actor)
    for step, _ in PATH:
        s = given(*before(step))
        error = refused(s, RoleNotAllowed, lambda s=s, step=step: step(s, actor=actor))
        assert "选任工作人员" in error.message_zh


def test_a_leader_records_the_steps_and_a_selection_clerk_every_step() -> None:
    s = propose(actor=LEADER)
    for step, stage in PATH:
        step(s, actor=LEADER)
        assert s.stage is stage
    clerk_only = given(*before(decide))
    decide(clerk_only, actor=CLERK)
    assert clerk_only.stage is St.DECIDED


def test_the_supervision_office_holds_a_candidate_the_cadre_section_does_not() -> None:
    s = given(recommend, announce)
    hold = {"candidate_id": "a", "report_id": REPORT, "on": D(2026, 3, 10)}
    for actor in (CLERK, OPERATOR):
        refused(s, RoleNotAllowed, lambda actor=actor: s.hold_candidate(actor=actor, **hold))
    s.hold_candidate(actor=HANDLER, **hold)
    assert s.held("a")


def test_the_domains_roles_are_the_access_tables() -> None:
    assert frozenset(access.SELECTION_ACTORS) == rules.RECORDERS
    assert frozenset(access.SELECTION_HOLD_ACTORS) == rules.HOLDERS
    assert frozenset(access.SELECTION_ACCOUNTABLE) == rules.ACCOUNTABLE == {Role.LEADER}
    accountable = {"void_appointment", "take_responsibility"}
    for action, permission in rules.PERMISSIONS.items():
        office = action.endswith("_candidate") or action == "reply_integrity_opinions"
        expected = rules.HOLDERS if office else rules.RECORDERS
        if action in accountable:
            expected = rules.ACCOUNTABLE
        assert permission.roles == expected, action
    assert Role.SELECTION_CLERK.zh == "选任工作人员"


# -- the one stage table ------------------------------------------------------------------------


def test_each_command_records_its_event_and_the_tables_agree() -> None:
    assert set(rules.RECORDS) == set(rules.PERMISSIONS)
    event_types = {cls.__name__: contract[0] for cls, contract in SELECTION_CONTRACTS.items()}
    assert set(rules.RECORDS.values()) | {"Proposed"} == set(event_types)
    # From a withdrawn or a void selection, only a responsibility may still be taken.
    for stage in (St.WITHDRAWN, St.VOIDED):
        takes = {a for a, p in rules.PERMISSIONS.items() if stage in p.stages}
        assert takes == {"take_responsibility"}, stage
    # Every stage is reached by an event of its own type, but VOIDED: by the data of an
    # AppointmentVoided (the last approved candidate voided).
    assert set(St) - set(FIXED.values()) == {St.VOIDED}


def test_the_aggregate_and_the_table_give_the_same_stage_for_every_event() -> None:
    s = propose()
    for step, _ in PATH:
        step(s)
    stage = None
    for event in s.collect_events():
        stage = stage_after(type(event).CONTRACT[0], event) or stage  # type: ignore[attr-defined]
    assert stage is s.stage is St.APPOINTED


# -- stored, published and rebuilt ----------------------------------------------------------------


class SelectionStore(JianduApplication):
    """The casework source's transcodings and contract view, on the in-memory store."""

    source: ClassVar[Source] = "casework"


def full_record() -> Selection:
    """Every kind of event: the happy path with a circumstance, a hold and its release."""
    s = propose()
    recommend(s)
    s.record_circumstance(
        kind="institutional_change",  # type: ignore[arg-type]
        starts_on=D(2026, 4, 1),
        ends_on=D(2026, 4, 30),
        actor=CLERK,
        on=D(2026, 3, 6),
        document_number="编委〔2026〕2号",
    )
    announce(s)
    s.hold_candidate(candidate_id="b", report_id=REPORT, actor=LEADER, on=D(2026, 3, 9))
    s.release_candidate(candidate_id="b", report_id=REPORT, actor=LEADER, on=D(2026, 3, 9))
    s.request_integrity_opinions(
        candidates=["a"], requested_of="干部监督机构", actor=CLERK, on=D(2026, 3, 9)
    )
    s.reply_integrity_opinions(opinions=[opinion("a")], actor=HANDLER, on=D(2026, 3, 11))
    assert s.opinion_requests == {}  # answered
    for step, _ in PATH[2:]:
        step(s)
    # The inspection's feedback to a candidate (decision 0035).
    about = "inspection:a:cadre"
    s.issue_document(
        DocumentKind.INSPECTION_FEEDBACK,
        about,
        number="组考反〔2026〕1号",
        on=s.last_on,
        template_version="v1",
        fields=s.document_step(DocumentKind.INSPECTION_FEEDBACK, about),
        actor=CLERK,
    )
    hold_responsible(s)
    void(s, candidates=["a", "b"])
    return s


def test_a_selection_rebuilt_from_its_stored_events_is_the_same() -> None:
    app = SelectionStore()
    s = full_record()
    app.save(s)
    rebuilt = app.repository.get(s.id)
    assert isinstance(rebuilt, Selection)
    assert vars(rebuilt) == vars(s)
    assert rebuilt.stage is St.VOIDED
    assert set(rebuilt.voided) == {"a", "b"}
    assert rebuilt.responsibilities[0]["person"]["cadre_id"] == "C-009"


def test_the_stored_events_are_sealed_and_publish_their_contract() -> None:
    app = SelectionStore()
    s = full_record()
    withdrawn = given(recommend)
    withdrawn.withdraw(actor=CLERK, on=D(2026, 3, 6), reason="终止")
    app.save(s, withdrawn)
    stored = list(app.events.get(s.id))
    assert verify_chain(s.id, stored) is None
    envelopes, _ = app.read_envelopes(0, 100)
    published = {e.event_type for e in envelopes}
    assert published == {contract[0] for contract in SELECTION_CONTRACTS.values()}
    for envelope in envelopes:
        payload: Any = parse_payload(envelope)
        assert payload.on >= D(2026, 3, 2)
    decided = next(e for e in envelopes if e.event_type == "DecisionRecorded")
    assert decided.payload["votes"][0] == {
        "candidate_id": "a",
        "agree": 7,
        "disagree": 0,
        "defer": 0,
        "approved": True,
    }


# -- a property of the decision -----------------------------------------------------------------


@st.composite
def meetings(draw: st.DrawFn) -> tuple[int, int, int, int]:
    due = draw(st.integers(1, 40))
    present = draw(st.integers(-(-2 * due // 3), due))  # at least two thirds: a quorum
    agree = draw(st.integers(0, present))
    disagree = draw(st.integers(0, present - agree))
    return due, present, agree, disagree


@for_all(meetings())
def test_a_candidate_is_approved_exactly_when_more_than_half_the_members_due_agree(
    meeting: tuple[int, int, int, int],
) -> None:
    due, present, agree, disagree = meeting
    s = given(*before(decide))
    decide(s, members_due=due, members_present=present, votes=[vote("a", agree, disagree)])
    assert s.stage is St.DECIDED
    assert (s.approved == ["a"]) is (agree * 2 > due)
    if s.approved:
        publicize(s, candidates=["a"])
