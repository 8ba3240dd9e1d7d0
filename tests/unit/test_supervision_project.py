"""The supervision project on a selection (立项督查, issue 14), as a domain aggregate: who may
record which step at which stage, each named rule (a refusal stores nothing), the one stage
table, and a project rebuilt from its sealed, published events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

import pytest
from hypothesis import given as for_all
from hypothesis import strategies as st

from schemas.event_base import Source
from schemas.events import parse_payload
from schemas.glossary import Category, DocumentKind, ProjectStage, Role, Verdict
from services.accounts import access
from services.casework.chain import verify_chain
from services.casework.project import PROJECT_CONTRACTS, SupervisionProject
from services.casework.project import rules as r
from services.common.application import JianduApplication
from services.common.procedure import RoleNotAllowed, RuleBroken
from services.common.project_stages import FIXED, PROJECT_EVENT_TYPES, stage_after

D = dt.date
Ps = ProjectStage
E = TypeVar("E", bound=Exception)
LEADER = {"id": "leader-1", "role": Role.LEADER.value}
HANDLER = {"id": "handler-1", "role": Role.HANDLER.value}
CLERK = {"id": "clerk-1", "role": Role.SELECTION_CLERK.value}
OPERATOR = {"id": "op-1", "role": Role.OPERATOR.value}
SELECTION = UUID("00000000-0000-4000-8000-00000000005e")
CASE = UUID("00000000-0000-4000-8000-0000000000ca")


def due(start: D, days: int) -> dict[str, Any]:
    """A due date as the application counts it (here: calendar days, the domain does not
    count)."""
    return {
        "due": start + dt.timedelta(days=days),
        "provisional": False,
        "note": "",
        "started_on": start,
        "working_days": days,
    }


def open_project(**change: Any) -> SupervisionProject:
    fields: dict[str, Any] = {
        "selection_id": SELECTION,
        "basis": [CASE],
        "irregularities": [Category.VOTE_BUYING, Category.RUSHED_PROMOTION],
        "clues": "反映某局副局长人选在民主推荐前宴请拉票，线索具体",
        "plan_due": due(D(2026, 4, 13), 5),
        "conclusion_due": due(D(2026, 4, 13), 30),
        "actor": LEADER,
        "on": D(2026, 4, 13),
        "document_number": "督立〔2026〕1号",
    } | change
    return SupervisionProject.open(uuid4(), **fields)


def team(p: SupervisionProject, **change: Any) -> None:
    fields: dict[str, Any] = {
        "leader": {"name": "刘组长", "unit": "县委组织部", "position": "干部监督科科长"},
        "members": [
            {"name": "陈干事", "unit": "县委组织部"},
            {"name": "周干事", "cadre_id": "C-9"},
        ],
        "actor": LEADER,
        "on": D(2026, 4, 14),
    } | change
    p.form_team(**fields)


def plan(p: SupervisionProject, **change: Any) -> None:
    p.record_plan(
        **({"summary": "个别谈话、查阅推荐材料", "actor": HANDLER, "on": D(2026, 4, 15)} | change)
    )


def find(p: SupervisionProject, **change: Any) -> None:
    fields: dict[str, Any] = {
        "irregularity": Category.VOTE_BUYING,
        "confirmed": True,
        "summary": "经谈话核实，推荐前确有宴请拉票",
        "evidence_refs": ["谈话笔录-03"],
        "actor": HANDLER,
        "on": D(2026, 4, 20),
    } | change
    p.record_finding(**fields)


def propose(p: SupervisionProject, **change: Any) -> None:
    fields: dict[str, Any] = {
        "verdict": Verdict.TRUE,
        "summary": "拉票贿选问题属实",
        "void_candidates": ["a"],
        "responsible": [{"name": "王局长", "unit": "某县财政局", "responsibility": "用人失察"}],
        "appointed": frozenset({"a", "b"}),
        "actor": HANDLER,
        "on": D(2026, 5, 6),
    } | change
    p.propose_conclusion(**fields)


def approve(p: SupervisionProject, **change: Any) -> None:
    p.approve_conclusion(
        **(
            {"report_back_due": due(D(2026, 5, 8), 10), "actor": LEADER, "on": D(2026, 5, 8)}
            | change
        )
    )


def report(p: SupervisionProject, **change: Any) -> None:
    fields: dict[str, Any] = {
        "reported_to": "市委组织部",
        "document_number": "督报〔2026〕1号",
        "actor": HANDLER,
        "on": D(2026, 5, 12),
    } | change
    p.report_back(**fields)


def close(p: SupervisionProject, **change: Any) -> None:
    p.close(**({"actor": LEADER, "on": D(2026, 5, 13)} | change))


PATH: list[tuple[Callable[..., None], ProjectStage]] = [
    (team, Ps.TEAM_FORMED),
    (plan, Ps.PLANNED),
    (find, Ps.INVESTIGATING),
    (propose, Ps.CONCLUSION_PROPOSED),
    (approve, Ps.CONCLUDED),
    (report, Ps.REPORTED),
    (close, Ps.CLOSED),
]


def given(*steps: Callable[..., None]) -> SupervisionProject:
    p = open_project()
    for step in steps:
        step(p)
    p.collect_events()
    return p


def before(step: Callable[..., None]) -> tuple[Callable[..., None], ...]:
    steps = [s for s, _ in PATH]
    return tuple(steps[: steps.index(step)])


def refused(p: SupervisionProject, error: type[E], command: Callable[[], object]) -> E:
    """``command`` is refused with ``error`` and stores nothing."""
    version = p.version
    with pytest.raises(error) as caught:
        command()
    assert p.version == version
    assert p.collect_events() == []
    return caught.value


def broken(p: SupervisionProject, rule: r.Rule, command: Callable[[], object]) -> None:
    error = refused(p, RuleBroken, command)
    assert error.rule is rule


# -- the whole project -----------------------------------------------------------------------


def test_a_project_goes_from_its_opening_to_its_closing() -> None:
    p = open_project()
    assert p.stage is Ps.OPENED
    for step, stage in PATH:
        step(p)
        assert p.stage is stage, step.__name__
    assert p.concluded
    assert p.proven
    assert p.conclusion is not None
    assert p.conclusion["void_candidates"] == ["a"]
    assert p.conclusion["approved_by"] == LEADER
    assert p.report == {
        "reported_to": "市委组织部",
        "document_number": "督报〔2026〕1号",
        "summary": "",
        "on": D(2026, 5, 12),
    }
    assert {name: d["met_on"] for name, d in p.deadlines.items()} == {
        "project_plan": D(2026, 4, 15),
        "project_conclusion": D(2026, 5, 8),
        "project_report_back": D(2026, 5, 12),
    }
    assert p.closed_on == D(2026, 5, 13)


def test_a_returned_conclusion_goes_back_to_the_investigation() -> None:
    p = given(team, plan, find, propose)
    refused(p, RuleBroken, lambda: p.return_conclusion(actor=LEADER, on=D(2026, 5, 1), reason="x"))
    p.return_conclusion(actor=LEADER, on=D(2026, 5, 7), reason="证据不足，补充核查")
    assert p.stage is Ps.INVESTIGATING
    assert p.proposal is None
    assert not p.concluded
    assert p.returns[0]["reason"] == "证据不足，补充核查"
    find(p, on=D(2026, 5, 9), confirmed=False, summary="补充核查")
    propose(p, on=D(2026, 5, 11), verdict=Verdict.PARTLY_TRUE)
    approve(p, on=D(2026, 5, 12))
    assert p.conclusion is not None
    assert p.conclusion["verdict"] == "partly_true"


# -- who may record which step --------------------------------------------------------------


@pytest.mark.parametrize("actor", [HANDLER, CLERK, OPERATOR], ids=["handler", "clerk", "operator"])
def test_only_a_leader_opens_a_project(actor: dict[str, str]) -> None:
    with pytest.raises(RoleNotAllowed):
        open_project(actor=actor)


# Each step of PATH and the command it runs.
ACTIONS = dict(
    zip(
        [s for s, _ in PATH],
        [
            "form_team",
            "record_plan",
            "record_finding",
            "propose_conclusion",
            "approve_conclusion",
            "report_back",
            "close",
        ],
        strict=True,
    )
)


def test_each_step_is_refused_to_the_roles_it_is_not_for() -> None:
    assert set(ACTIONS.values()) == set(r.PERMISSIONS) - {"return_conclusion", "issue_document"}
    for step, _ in PATH:
        for actor in (CLERK, OPERATOR, HANDLER, LEADER):
            p = given(*before(step))
            if Role(actor["role"]) in r.PERMISSIONS[ACTIONS[step]].roles:
                step(p, actor=actor)
            else:
                refused(p, RoleNotAllowed, lambda p=p, actor=actor, step=step: step(p, actor=actor))


def test_a_handler_proposes_and_only_a_leader_approves() -> None:
    p = given(team, plan, find)
    refused(p, RoleNotAllowed, lambda: propose(p, actor=LEADER))
    propose(p)
    p.collect_events()
    refused(p, RoleNotAllowed, lambda: approve(p, actor=HANDLER))
    refused(
        p,
        RoleNotAllowed,
        lambda: p.return_conclusion(actor=HANDLER, on=D(2026, 5, 7), reason="退回"),
    )


def test_the_domains_roles_are_the_access_tables() -> None:
    assert frozenset(access.PROJECT_LEADERS) == r.LEADERS
    assert frozenset(access.PROJECT_WORKERS) == r.WORKERS
    assert frozenset(access.PROJECT_PROPOSERS) == r.HANDLERS
    for permission in r.PERMISSIONS.values():
        assert permission.roles in (r.LEADERS, r.WORKERS, r.HANDLERS)
    assert set(access.PROJECT_READERS) >= r.WORKERS
    assert Role.SELECTION_CLERK not in access.PROJECT_READERS  # the cadre section reads no report


# -- the order of the steps ------------------------------------------------------------------------


def test_a_step_out_of_order_is_refused_naming_the_rule() -> None:
    p = given()
    error = refused(p, r.StepOutOfOrder, lambda: plan(p))
    assert error.rule is r.STEP_ORDER
    assert "已组成督查组" in error.message_zh
    p = given(team, plan)
    refused(p, r.StepOutOfOrder, lambda: propose(p))  # no finding yet
    p = given(*before(close))
    refused(p, r.StepOutOfOrder, lambda: team(p, on=D(2026, 5, 20)))


def test_a_step_dated_before_the_last_one_is_refused() -> None:
    p = given(team)
    broken(p, r.DATES_IN_ORDER, lambda: plan(p, on=D(2026, 4, 13)))


# -- the named rules -------------------------------------------------------------------------


@pytest.mark.parametrize("clues", ["", "   "])
def test_a_project_needs_specific_clues(clues: str) -> None:
    with pytest.raises(RuleBroken) as caught:
        open_project(clues=clues)
    assert caught.value.rule is r.CLUES_SPECIFIC
    assert "线索具体的，要进行立项督查" in caught.value.message_zh


@pytest.mark.parametrize("basis", [[], [CASE, CASE]], ids=["none", "twice"])
def test_a_project_names_its_basis_each_once(basis: list[UUID]) -> None:
    with pytest.raises(RuleBroken) as caught:
        open_project(basis=basis)
    assert caught.value.rule is r.BASIS_NAMED


@pytest.mark.parametrize(
    "irregularities",
    [
        [],
        [Category.VOTE_BUYING, Category.VOTE_BUYING],
        [Category.EXCESS_POSTS],
        [Category.SEEKING_OFFICE, Category.OTHER_CONDUCT],
    ],
    ids=["none", "twice", "out_of_scope", "one_out_of_scope"],
)
def test_a_project_is_about_the_irregularities_of_its_scope(
    irregularities: list[Category],
) -> None:
    with pytest.raises(RuleBroken) as caught:
        open_project(irregularities=irregularities)
    assert caught.value.rule is r.IRREGULARITIES_IN_SCOPE


def test_every_irregularity_of_the_seed_opens_a_project() -> None:
    p = open_project(irregularities=sorted(r.IRREGULARITIES))
    assert {Category(i).zh for i in p.irregularities} == {
        "跑官要官",
        "买官卖官",
        "封官许愿",
        "拉票贿选",
        "突击提拔调整干部",
    }


@pytest.mark.parametrize(
    "change",
    [
        {"members": []},
        {"members": [{"name": "刘组长", "unit": "县委组织部"}]},
        {"members": [{"name": "甲", "cadre_id": "C-1"}, {"name": "乙", "cadre_id": "C-1"}]},
    ],
    ids=["no_member", "leader_again", "same_cadre"],
)
def test_a_team_has_a_leader_and_members_each_once(change: dict[str, Any]) -> None:
    p = given()
    broken(p, r.TEAM_NAMED, lambda: team(p, **change))


def test_a_finding_is_about_the_projects_irregularities() -> None:
    p = given(team, plan)
    broken(p, r.FINDING_IN_SCOPE, lambda: find(p, irregularity=Category.SEEKING_OFFICE))
    find(p, irregularity=Category.RUSHED_PROMOTION)
    find(p, on=D(2026, 4, 21))  # findings repeat
    assert [f["irregularity"] for f in p.findings] == ["rushed_promotion", "vote_buying"]


@pytest.mark.parametrize("void", [["c"], ["a", "a"]], ids=["not_appointed", "twice"])
def test_only_appointed_candidates_are_recommended_void(void: list[str]) -> None:
    p = given(team, plan, find)
    broken(p, r.VOID_APPOINTED_ONLY, lambda: propose(p, void_candidates=void))


@pytest.mark.parametrize("verdict", [Verdict.UNTRUE, Verdict.UNPROVEN])
@pytest.mark.parametrize(
    "change",
    [{"responsible": []}, {"void_candidates": []}],
    ids=["voiding", "responsibility"],
)
def test_recommendations_need_a_proven_verdict(verdict: Verdict, change: dict[str, Any]) -> None:
    p = given(team, plan, find)
    broken(p, r.RECOMMENDATION_NEEDS_PROVEN, lambda: propose(p, verdict=verdict, **change))
    propose(p, verdict=verdict, void_candidates=[], responsible=[])
    assert p.proposal is not None
    assert p.proposal["verdict"] == verdict.value


@pytest.mark.parametrize("verdict", [Verdict.TRUE, Verdict.PARTLY_TRUE])
def test_a_proven_verdict_needs_a_confirmed_finding(verdict: Verdict) -> None:
    p = given(team, plan)
    find(p, confirmed=False, summary="未发现宴请拉票")
    p.collect_events()
    broken(p, r.PROVEN_BY_FINDINGS, lambda: propose(p, verdict=verdict))
    propose(p, verdict=Verdict.UNPROVEN, void_candidates=[], responsible=[])
    assert p.stage is Ps.CONCLUSION_PROPOSED


def test_each_person_held_responsible_is_named_once() -> None:
    p = given(team, plan, find)
    person = {"name": "王局长", "unit": "某县财政局", "responsibility": "用人失察"}
    broken(p, r.RESPONSIBLE_DISTINCT, lambda: propose(p, responsible=[person, person]))


def test_the_approval_copies_the_proposal_and_sets_the_report_back_due() -> None:
    p = given(team, plan, find, propose)
    proposal = dict(p.proposal or {})
    approve(p)
    assert p.conclusion is not None
    for field in ("verdict", "summary", "void_candidates", "responsible"):
        assert p.conclusion[field] == proposal[field]
    assert p.deadlines["project_report_back"]["due"] == D(2026, 5, 18)


# -- the one stage table ---------------------------------------------------------------------


def test_each_command_records_its_event_and_the_tables_agree() -> None:
    assert set(r.RECORDS) == set(r.PERMISSIONS)
    event_types = {cls.__name__: contract[0] for cls, contract in PROJECT_CONTRACTS.items()}
    assert set(r.RECORDS.values()) | {"Opened"} == set(event_types)
    # Every event is a step that sets the stage, but its documents (decision 0035).
    assert (
        set(event_types.values()) == PROJECT_EVENT_TYPES == set(FIXED) | {"ProjectDocumentIssued"}
    )
    assert set(FIXED.values()) == set(Ps)
    takes_from = {stage for p in r.PERMISSIONS.values() for stage in p.stages}
    assert set(Ps) - takes_from == {Ps.CLOSED}


def test_the_aggregate_and_the_table_give_the_same_stage_for_every_event() -> None:
    p = open_project()
    for step, _ in PATH:
        step(p)
    stage = None
    for event in p.collect_events():
        stage = stage_after(type(event).CONTRACT[0], event) or stage  # type: ignore[attr-defined]
    assert stage is p.stage is Ps.CLOSED


# -- stored, published and rebuilt ------------------------------------------------------------


class ProjectStore(JianduApplication):
    source: ClassVar[Source] = "casework"


def notice_issued(p: SupervisionProject) -> None:
    """The 立项督查通知 (decision 0035), on the day of the project's last step."""
    p.issue_document(
        DocumentKind.PROJECT_NOTICE,
        "opening",
        number="组督〔2026〕1号",
        on=p.last_on,
        template_version="v1",
        fields=p.document_step(DocumentKind.PROJECT_NOTICE, "opening"),
        actor=HANDLER,
    )


def test_the_notice_is_issued_once_the_team_is_formed_by_who_works_on_it() -> None:
    p = given()
    error = refused(p, r.StepOutOfOrder, lambda: p.may_issue(HANDLER, p.last_on))
    assert error.needs == "a team formed"
    p = given(team)
    for actor in (CLERK, OPERATOR):
        refused(p, RoleNotAllowed, lambda actor=actor: p.may_issue(actor, p.last_on))
    assert p.documentable_steps() == [(DocumentKind.PROJECT_NOTICE, "opening", "立项督查")]
    notice_issued(p)
    (document,) = p.issued
    assert document["fields"]["team_leader"] == p.team["leader"]["name"]  # type: ignore[index]
    assert p.stage is Ps.TEAM_FORMED  # a document does not move the stage
    assert p.documentable_steps() == []
    p.collect_events()
    broken = refused(p, RuleBroken, lambda: notice_issued(p))
    assert broken.rule is r.ONE_DOCUMENT_PER_STEP


def full_record() -> SupervisionProject:
    """Every kind of event: a conclusion returned once, then approved (nothing collected)."""
    p = open_project()
    for step in (team, plan, find):
        step(p)
    notice_issued(p)
    propose(p)
    p.return_conclusion(actor=LEADER, on=D(2026, 5, 7), reason="补充核查")
    find(p, on=D(2026, 5, 7))
    propose(p, on=D(2026, 5, 7))
    approve(p)
    report(p)
    close(p)
    return p


def test_a_project_rebuilt_from_its_stored_events_is_the_same_and_its_chain_holds() -> None:
    app = ProjectStore()
    p = full_record()
    app.save(p)
    rebuilt = app.repository.get(p.id)
    assert isinstance(rebuilt, SupervisionProject)
    assert vars(rebuilt) == vars(p)
    assert rebuilt.stage is Ps.CLOSED
    assert verify_chain(p.id, list(app.events.get(p.id))) is None


def test_the_stored_events_publish_their_contract() -> None:
    app = ProjectStore()
    p = open_project()
    for step, _ in PATH:
        step(p)
    returned = open_project()
    for step in (team, plan, find, propose):
        step(returned)
    returned.return_conclusion(actor=LEADER, on=D(2026, 5, 7), reason="补充核查")
    notice_issued(returned)
    app.save(p, returned)
    envelopes, _ = app.read_envelopes(0, 100)
    assert {e.event_type for e in envelopes} == {c[0] for c in PROJECT_CONTRACTS.values()}
    for envelope in envelopes:
        payload: Any = parse_payload(envelope)
        assert payload.on >= D(2026, 4, 13)
    opened = next(e for e in envelopes if e.event_type == "ProjectOpened")
    assert opened.payload["basis"] == [str(CASE)]
    assert opened.payload["irregularities"] == ["vote_buying", "rushed_promotion"]
    assert opened.payload["conclusion_due"]["working_days"] == 30
    assert "chain" not in opened.payload


# -- a property: what the conclusion may recommend ---------------------------------------------


@for_all(
    verdict=st.sampled_from(list(Verdict)),
    void=st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
    responsible=st.booleans(),
)
def test_a_conclusion_is_refused_exactly_when_a_rule_says_so(
    verdict: Verdict, void: list[str], responsible: bool
) -> None:
    p = given(team, plan, find)
    people = [{"name": "王局长", "responsibility": "用人失察"}] if responsible else []
    appointed_once = set(void) <= {"a", "b"} and len(set(void)) == len(void)
    recommends = bool(void) or responsible
    allowed = appointed_once and (verdict in r.PROVEN or not recommends)
    if allowed:
        propose(p, verdict=verdict, void_candidates=void, responsible=people)
        assert p.stage is Ps.CONCLUSION_PROPOSED
    else:
        error = refused(
            p,
            RuleBroken,
            lambda: propose(p, verdict=verdict, void_candidates=void, responsible=people),
        )
        assert error.rule in (r.VOID_APPOINTED_ONLY, r.RECOMMENDATION_NEEDS_PROVEN)
