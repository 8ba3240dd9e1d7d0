"""Issue 10, items 3, 5, 7, 8 and 9 (casework): verdicts, clearings, handlings and the
false-accusation link per cadre; as-of means as of; the false-accusation case about its
accuser; the heavier handling after closure; reopening redoes the round; the guards of
assign, publicity holds and objections. Embedded (SQLite); the PostgreSQL path:
tests/integration/test_procedure_http.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from schemas import commands as c
from schemas.events import ConclusionApprovedV1, parse_payload
from schemas.glossary import (
    CLEAN_WORDING,
    AccuserStatus,
    AdmonitionOutcome,
    CaseKind,
    CaseState,
    Disposition,
    FindingKind,
    HandlingType,
    Role,
    Verdict,
)
from schemas.views_archive import IntegrityRequest
from services.bootstrap import EmbeddedSystem
from services.casework import rules
from services.casework.domain import Case
from services.casework.handlers import false_accusation_case_id
from services.casework.rules import NotAHandler, RuleBroken, UnknownAccuser
from services.projections.archive.integrity import IntegrityReplies
from services.projections.archive.queries import ArchiveQueries
from tests.unit.conftest import build_embedded, envelope, make_settings
from tests.unit.test_archive_full import (
    EDUCATION,
    FINANCE,
    HANDLER,
    LEADER,
    REGISTER,
    Driver,
    token,
)

RECEIVED = dt.date(2025, 1, 6)
BOTH = [
    {"name": "王建国", "unit": FINANCE, "cadre_id": "C-001"},
    {"name": "李明华", "unit": EDUCATION, "cadre_id": "C-002"},
]
CATS = ("seeking_office",)


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path), RECEIVED)
    system.read.register.upsert(REGISTER)
    for username in ("handler-1", "handler-3"):
        system.accounts.create_user(
            username, "pw-for-tests-only", Role.HANDLER, username, enforce_policy=False
        )
    yield system
    system.stop()


def replies(system: EmbeddedSystem, *cadre_ids: str, as_of: dt.date) -> dict[str, object]:
    service = IntegrityReplies(ArchiveQueries(system.read.store, system.read.register))
    reply = service.reply(IntegrityRequest(cadre_ids=list(cadre_ids), as_of=as_of))
    return {x.cadre.cadre_id: x for x in reply.cadres}


def two_cadres_true_and_untrue(system: EmbeddedSystem) -> str:
    """A report naming C-001 and C-002: C-001 found true and dismissed, C-002 untrue and
    cleared."""
    drive = Driver(system)
    _, _, case_id = drive.submit(BOTH, received_on=RECEIVED)
    assert case_id
    drive.verify(
        case_id,
        CATS,
        Verdict.TRUE,
        dt.date(2025, 2, 1),
        per_cadre={"C-001": Verdict.TRUE, "C-002": Verdict.UNTRUE},
    )
    drive.handle(case_id, c.CadreRef(cadre_id="C-001"), HandlingType.DISMISSAL, dt.date(2025, 3, 3))
    drive.clear(case_id, c.CadreRef(cadre_id="C-002"), dt.date(2025, 3, 10))
    drive.close(case_id, dt.date(2025, 3, 20))
    system.catch_up()
    return case_id


# -- item 3: per cadre --------------------------------------------------------------------------


def test_two_cadres_of_one_report_get_the_reply_their_own_verdict_gives(
    system: EmbeddedSystem,
) -> None:
    """Rule: a verdict belongs to one cadre; an uninvolved co-subject is not 经核查属实."""
    two_cadres_true_and_untrue(system)

    by_id = replies(system, "C-001", "C-002", as_of=dt.date(2025, 6, 1))
    proven, cleared = by_id["C-001"], by_id["C-002"]

    assert proven.stands_in_the_way  # type: ignore[attr-defined]
    (item,) = proven.proven  # type: ignore[attr-defined]
    assert "经核查属实" in item.text_zh
    assert [h.handling for h in item.handlings] == ["dismissal"]
    assert cleared.clean  # type: ignore[attr-defined]
    assert cleared.proven == []  # type: ignore[attr-defined]
    (item,) = cleared.cleared  # type: ignore[attr-defined]
    assert item.conclusion.overall == "untrue"
    assert item.handlings == []
    assert "经核查属实" not in cleared.opinion_zh  # type: ignore[attr-defined]
    assert "澄清正名" in cleared.opinion_zh  # type: ignore[attr-defined]


def test_handling_needs_the_cadres_own_proven_verdict_and_clearing_their_own_untrue(
    system: EmbeddedSystem,
) -> None:
    """Rules proven_for_handling and untrue_for_clearing, per cadre."""
    drive = Driver(system)
    _, _, case_id = drive.submit(BOTH, received_on=RECEIVED)
    assert case_id
    drive.verify(
        case_id,
        CATS,
        Verdict.TRUE,
        dt.date(2025, 2, 1),
        per_cadre={"C-001": Verdict.TRUE, "C-002": Verdict.UNTRUE},
    )

    with pytest.raises(RuleBroken) as handling:
        drive.handle(case_id, c.CadreRef(cadre_id="C-002"), HandlingType.DEMOTION, RECEIVED)
    with pytest.raises(RuleBroken) as clearing:
        drive.clear(case_id, c.CadreRef(cadre_id="C-001"), RECEIVED)

    assert handling.value.rule is rules.PROVEN_FOR_HANDLING
    assert clearing.value.rule is rules.UNTRUE_FOR_CLEARING


def test_a_case_wide_verdict_for_two_cadres_is_refused_over_http(system: EmbeddedSystem) -> None:
    """Rule conclusion_per_cadre (409), and conclusion_covers_every_cadre."""
    drive = Driver(system)
    _, _, case_id = drive.submit(BOTH, received_on=RECEIVED)
    assert case_id
    drive.dispose(case_id, Disposition.PRELIMINARY_VERIFICATION)
    drive.run(
        case_id,
        ("record_finding", c.RecordFinding(kind=FindingKind.INTERVIEW, summary="谈话"), HANDLER),
    )
    system.accounts.create_user(
        "handler-1-web", "pw-for-tests-only", Role.HANDLER, "承办", enforce_policy=False
    )
    url = f"/api/v1/cases/{case_id}/propose_conclusion"
    with TestClient(system.web_app()) as client:
        headers = {
            "Authorization": "Bearer "
            + system.accounts.issue_token(system.accounts.principal("handler-1"))
        }
        case_wide = client.post(
            url, json={"verdicts": {"seeking_office": "true"}, "reason": "x"}, headers=headers
        )
        half = client.post(
            url,
            json={
                "cadre_verdicts": [
                    {
                        "cadre": {"cadre_id": "C-001"},
                        "category": "seeking_office",
                        "verdict": "true",
                    }
                ],
                "reason": "x",
            },
            headers=headers,
        )
        both_forms = client.post(
            url,
            json={
                "verdicts": {"seeking_office": "true"},
                "cadre_verdicts": [
                    {
                        "cadre": {"cadre_id": "C-001"},
                        "category": "seeking_office",
                        "verdict": "true",
                    }
                ],
                "reason": "x",
            },
            headers=headers,
        )
    assert case_wide.status_code == 409
    assert case_wide.json()["rule"] == "conclusion_per_cadre"
    assert half.status_code == 409
    assert half.json()["rule"] == "conclusion_covers_every_cadre"
    assert both_forms.status_code == 422
    assert system.casework.get_case(UUID(case_id)).state is CaseState.VERIFICATION


def test_an_old_case_wide_conclusion_still_reads_as_said_of_every_subject() -> None:
    """Stored events stay readable: a ConclusionApproved without cadre_verdicts (the first
    release) said its verdicts of every subject, in the contract and in the aggregate."""
    old = {
        "actor": {"id": "leader-1", "role": "leader"},
        "reason": "",
        "verdicts": {"seeking_office": "true"},
        "overall": "true",
    }
    payload = parse_payload(envelope("ConclusionApproved", old, source="casework"))
    assert isinstance(payload, ConclusionApprovedV1)
    assert payload.cadre_verdicts is None

    case = Case.open(
        UUID(int=1),
        report_id=None,
        ledger_number="JB-1",
        channel="hotline",
        categories=["seeking_office"],
        subjects=[{"name": "王建国", "unit": FINANCE}, {"name": "李明华", "unit": EDUCATION}],
        summary="",
        received_on=RECEIVED,
        opened_on=RECEIVED,
        reporter=None,
        actor={"id": "s", "role": "system"},
    )
    case._trigger(
        case.ConclusionApproved,
        actor=old["actor"],
        reason="",
        **{k: old[k] for k in ("verdicts", "overall")},
    )
    assert case.verdict_of({"name": "王建国", "unit": FINANCE}) is Verdict.TRUE
    assert case.verdict_of({"name": "李明华", "unit": EDUCATION}) is Verdict.TRUE


# -- item 5: as of ------------------------------------------------------------------------------


def test_a_reply_as_of_a_past_day_counts_only_what_had_happened_by_then(
    system: EmbeddedSystem,
) -> None:
    """Rule: as_of means as of (reception, conclusion, handling, clearing, closure)."""
    two_cadres_true_and_untrue(system)

    before_reception = replies(system, "C-001", as_of=dt.date(2025, 1, 5))["C-001"]
    before_conclusion = replies(system, "C-001", "C-002", as_of=dt.date(2025, 1, 20))
    before_handling = replies(system, "C-001", as_of=dt.date(2025, 3, 1))["C-001"]
    before_clearing = replies(system, "C-002", as_of=dt.date(2025, 3, 5))["C-002"]

    assert before_reception.opinion_zh == CLEAN_WORDING  # type: ignore[attr-defined]
    for cadre in before_conclusion.values():
        (item,) = cadre.open_items  # type: ignore[attr-defined]
        assert item.conclusion is None
        assert cadre.stands_in_the_way  # type: ignore[attr-defined]
    (item,) = before_handling.proven  # type: ignore[attr-defined]
    assert item.handlings == []  # the dismissal of 2025-03-03 had not been decided
    assert before_handling.running_bars == []  # type: ignore[attr-defined]
    assert before_clearing.cleared == []  # type: ignore[attr-defined]
    # Found untrue on 02-01, not yet cleared; the case closed on 03-20, but this cadre's part
    # was settled (review finding 7: per cadre, not per case).
    assert not before_clearing.stands_in_the_way  # type: ignore[attr-defined]
    (item,) = before_clearing.other  # type: ignore[attr-defined]
    assert item.status == "untrue"
    assert item.conclusion.overall == "untrue"
    assert item.clearing is None


# -- item 7: the false-accusation case ----------------------------------------------------------


def test_the_false_accusation_case_names_its_accuser_and_handles_them(
    system: EmbeddedSystem,
) -> None:
    """The counter-case is about the accuser (a registered cadre here): it is verified,
    concluded and its handling reaches the accuser's integrity reply, not the accused's."""
    case_id = two_cadres_true_and_untrue(system)
    drive = Driver(system)
    drive.run(
        case_id,
        (
            "suspect_false_accusation",
            c.SuspectFalseAccusation(
                cadre=c.CadreRef(cadre_id="C-002"),
                accuser=c.Accuser(cadre_id="C-003"),
                accuser_status=AccuserStatus.PARTY_MEMBER,
                reason="捏造事实诬告李明华",
            ),
            LEADER,
        ),
    )
    linked_id = false_accusation_case_id(UUID(case_id), {"name": "李明华", "unit": EDUCATION})
    linked = system.casework.get_case(linked_id)
    assert linked.kind is CaseKind.FALSE_ACCUSATION
    assert linked.subjects == [
        {"name": "赵志刚", "unit": "某县交通运输局", "position": "局长", "cadre_id": "C-003"}
    ]
    drive.verify(str(linked_id), ("other_conduct",), Verdict.TRUE, dt.date(2025, 4, 1))
    drive.handle(
        str(linked_id), c.CadreRef(cadre_id="C-003"), HandlingType.ADMONITION, dt.date(2025, 4, 8)
    )
    system.catch_up()

    by_id = replies(system, "C-002", "C-003", as_of=dt.date(2025, 6, 1))
    accuser, accused = by_id["C-003"], by_id["C-002"]
    assert accuser.stands_in_the_way  # type: ignore[attr-defined]
    (item,) = accuser.proven  # type: ignore[attr-defined]
    assert item.case_id == str(linked_id)
    assert "诬告陷害" in item.text_zh
    assert [h.handling for h in item.handlings] == ["admonition"]
    assert accused.clean  # type: ignore[attr-defined]
    assert str(linked_id) not in accused.model_dump_json()  # type: ignore[attr-defined]


def test_a_false_accusation_by_a_non_cadre_is_referred_and_an_unknown_cadre_id_refused(
    system: EmbeddedSystem,
) -> None:
    """A person who is not a cadre: name and status; the referral to 公安机关 is a step of
    the counter-case. An accuser cadre_id not in the register: refused (422), nothing
    stored."""
    case_id = two_cadres_true_and_untrue(system)
    drive = Driver(system)
    version = system.casework.get_case(UUID(case_id)).version
    with pytest.raises(UnknownAccuser):
        drive.run(
            case_id,
            (
                "suspect_false_accusation",
                c.SuspectFalseAccusation(
                    cadre=c.CadreRef(cadre_id="C-002"),
                    accuser=c.Accuser(cadre_id="C-999"),
                    accuser_status=AccuserStatus.PARTY_MEMBER,
                    reason="x",
                ),
                LEADER,
            ),
        )
    assert system.casework.get_case(UUID(case_id)).version == version
    drive.run(
        case_id,
        (
            "suspect_false_accusation",
            c.SuspectFalseAccusation(
                cadre=c.CadreRef(cadre_id="C-002"),
                accuser=c.Accuser(name="钱某", unit="某公司", position="职员"),
                accuser_status=AccuserStatus.SUSPECTED_CRIME,
                reason="伪造证据，涉嫌诬告陷害罪",
            ),
            LEADER,
        ),
    )
    linked_id = str(false_accusation_case_id(UUID(case_id), {"name": "李明华", "unit": EDUCATION}))
    drive.verify(linked_id, ("other_conduct",), Verdict.TRUE, dt.date(2025, 4, 1))
    drive.run(
        linked_id,
        (
            "refer_subject",
            c.ReferSubject(organ="某县公安局", document_ref="移送函〔2025〕1号", reason="涉嫌犯罪"),
            LEADER,
        ),
    )
    system.catch_up()

    linked = system.casework.get_case(UUID(linked_id))
    assert linked.referrals == [
        {"cadre": {"name": "钱某", "unit": "某公司", "position": "职员"}, "organ": "某县公安局"}
    ]
    assert linked.routing is not None
    assert linked.routing["accuser_status"] == "suspected_crime"
    timeline = system.read.queries.timeline(linked_id)
    assert timeline is not None
    assert "SubjectReferred" in [s.step for s in timeline.steps]


# -- item 8: after closure, and reopening ---------------------------------------------------------


def test_an_admonition_without_improvement_leads_to_the_named_handling_after_closure(
    system: EmbeddedSystem,
) -> None:
    """Rule escalation_pending: after closure only the named heavier handling."""
    drive = Driver(system)
    _, _, case_id = drive.submit([BOTH[0]], received_on=RECEIVED)
    assert case_id
    drive.verify(case_id, CATS, Verdict.TRUE, dt.date(2025, 2, 1))
    drive.handle(
        case_id, c.CadreRef(cadre_id="C-001"), HandlingType.ADMONITION, dt.date(2025, 2, 10)
    )
    drive.close(case_id, dt.date(2025, 2, 20), **{"admonition_follow_up#1": "限期改正期未满"})
    with pytest.raises(RuleBroken) as not_named:
        drive.handle(case_id, c.CadreRef(cadre_id="C-001"), HandlingType.DEMOTION, RECEIVED)
    drive.run(
        case_id,
        (
            "record_admonition_follow_up",
            c.AdmonitionFollowUp(
                handling_id=1,
                outcome=AdmonitionOutcome.ESCALATED,
                escalate_to=HandlingType.DEMOTION,
                followed_up_on=dt.date(2025, 8, 11),
                reason="拒不改正",
            ),
            HANDLER,
        ),
        (
            "decide_handling",
            c.DecideHandling(
                cadre=c.CadreRef(cadre_id="C-001"),
                handling=HandlingType.DEMOTION,
                decided_on=dt.date(2025, 8, 20),
                escalation_of=1,
                reason="诫勉后拒不改正，降职",
            ),
            LEADER,
        ),
    )
    system.catch_up()

    assert not_named.value.rule is rules.ESCALATION_PENDING
    case = system.casework.get_case(UUID(case_id))
    assert case.state is CaseState.CLOSED
    assert [h["handling"] for h in case.handlings] == ["admonition", "demotion"]
    (item,) = replies(system, "C-001", as_of=dt.date(2025, 9, 1))["C-001"].proven  # type: ignore[attr-defined]
    assert [h.handling for h in item.handlings] == ["admonition", "demotion"]
    with pytest.raises(ValueError, match="escalate_to"):
        c.AdmonitionFollowUp(
            handling_id=1, outcome=AdmonitionOutcome.IMPROVED, escalate_to=HandlingType.DEMOTION
        )


def test_reopening_redoes_findings_conclusion_and_clearing_and_keeps_the_old_round(
    system: EmbeddedSystem,
) -> None:
    """复查: the new round needs its own finding before a conclusion; the timeline numbers
    the rounds."""
    case_id = two_cadres_true_and_untrue(system)
    drive = Driver(system)
    drive.run(case_id, ("reopen", c.NewEvidence(new_evidence="举报人提供新证据"), LEADER))
    drive.dispose(case_id, Disposition.PRELIMINARY_VERIFICATION)
    case = system.casework.get_case(UUID(case_id))
    assert (case.findings, case.conclusion, case.clearings) == (0, None, {})
    with pytest.raises(RuleBroken) as no_finding:
        drive.run(
            case_id,
            (
                "propose_conclusion",
                c.ProposeConclusion(
                    cadre_verdicts=[
                        c.CadreVerdict(
                            cadre=c.CadreRef(cadre_id=who),
                            category="seeking_office",
                            verdict="true",  # type: ignore[arg-type]
                        )
                        for who in ("C-001", "C-002")
                    ],
                    reason="x",
                ),
                HANDLER,
            ),
        )
    system.catch_up()

    assert no_finding.value.rule is rules.FINDINGS_RECORDED
    timeline = system.read.queries.timeline(case_id)
    assert timeline is not None
    rounds = {(s.step, s.round) for s in timeline.steps}
    assert ("ConclusionApproved", 1) in rounds
    assert ("Reopened", 2) in rounds
    assert ("DispositionApproved", 2) in rounds


# -- item 9: casework guards ----------------------------------------------------------------------


def test_assign_takes_only_an_active_handler_account(system: EmbeddedSystem) -> None:
    """422 for an unknown name, a non-handler and a deactivated handler; nothing stored."""
    drive = Driver(system)
    _, _, case_id = drive.submit([BOTH[0]], received_on=RECEIVED)
    assert case_id
    system.accounts.create_user(
        "leader-x", "pw-for-tests-only", Role.LEADER, "L", enforce_policy=False
    )
    system.accounts.set_active("handler-3", False)
    with TestClient(system.web_app()) as client:
        headers = token(system, Role.LEADER)
        url = f"/api/v1/cases/{case_id}/assign"
        answers = {
            name: client.post(url, json={"handler_id": name}, headers=headers)
            for name in ("nobody", "leader-x", "handler-3", "handler-1")
        }
    assert [answers[n].status_code for n in ("nobody", "leader-x", "handler-3")] == [422] * 3
    assert "handler" in answers["leader-x"].json()["detail"]
    assert answers["handler-1"].status_code == 200, answers["handler-1"].text
    assert system.casework.get_case(UUID(case_id)).handler_id == "handler-1"
    with pytest.raises(NotAHandler):
        drive.run(case_id, ("assign", c.Assign(handler_id="leader-x"), LEADER))


def test_a_second_publicity_hold_is_refused_and_an_objection_has_an_answer_deadline(
    system: EmbeddedSystem,
) -> None:
    """Rule one_publicity_hold (409); the objection's answer is due in the configured
    working days, shown with the case's deadlines and in the timeline."""
    drive = Driver(system)
    _, _, case_id = drive.submit(
        [BOTH[0]],
        received_on=RECEIVED,
        reporter={"anonymous": False, "name": "某甲", "phone": "13800000000"},
    )
    assert case_id
    hold = c.HoldForPublicity(
        cadre=c.CadreRef(cadre_id="C-001"),
        proposed_post="局长",
        publicity_ends_on=dt.date(2025, 1, 13),
    )
    drive.run(case_id, ("hold_for_publicity", hold, LEADER))
    with pytest.raises(RuleBroken) as second:
        drive.run(case_id, ("hold_for_publicity", hold, LEADER))
    assert second.value.rule is rules.ONE_PUBLICITY_HOLD
    drive.verify(case_id, CATS, Verdict.UNTRUE, dt.date(2025, 2, 1))
    drive.close(case_id, dt.date(2025, 2, 10))
    drive.run(
        case_id,
        (
            "give_feedback",
            c.GiveFeedback(method="phone", text="不属实", given_on=dt.date(2025, 2, 12)),
            HANDLER,
        ),
        (
            "record_objection",
            c.RecordObjection(received_on=dt.date(2025, 2, 14), reason="不服"),
            HANDLER,
        ),
    )
    system.catch_up()

    case = system.casework.get_case(UUID(case_id))
    due = case.deadlines["objection_answer"]
    limit = system.casework.limits.objection_answer
    assert due["due"] == system.casework.calendar.add_working_days(dt.date(2025, 2, 14), limit).due
    assert due["met_on"] is None
    timeline = system.read.queries.timeline(case_id)
    assert timeline is not None
    assert "objection_answer" in {d.name for d in timeline.deadlines}
    drive.run(
        case_id,
        (
            "answer_objection",
            c.AnswerObjection(text="维持", answered_on=dt.date(2025, 2, 20)),
            LEADER,
        ),
    )
    assert system.casework.get_case(UUID(case_id)).deadlines["objection_answer"][
        "met_on"
    ] == dt.date(2025, 2, 20)


# -- the read models: a rebuild equals the live projection ----------------------------------------


def test_the_per_cadre_history_rebuilt_equals_the_live_read_models(
    system: EmbeddedSystem, tmp_path: Path
) -> None:
    """Per-cadre conclusions, two clearings, a false-accusation case with its referral, an
    escalation after closure, a reopening and an objection's deadline: every read model
    rebuilt from the event stores equals the one projected live."""
    from tests.unit.test_rebuild import dump, fresh_rebuild, logs_of

    case_id = two_cadres_true_and_untrue(system)
    drive = Driver(system)
    drive.run(
        case_id,
        (
            "suspect_false_accusation",
            c.SuspectFalseAccusation(
                cadre=c.CadreRef(cadre_id="C-002"),
                accuser=c.Accuser(name="钱某"),
                accuser_status=AccuserStatus.SUSPECTED_CRIME,
                reason="捏造",
            ),
            LEADER,
        ),
    )
    linked = str(false_accusation_case_id(UUID(case_id), {"name": "李明华", "unit": EDUCATION}))
    drive.verify(linked, ("other_conduct",), Verdict.TRUE, dt.date(2025, 4, 1))
    drive.run(
        linked, ("refer_subject", c.ReferSubject(organ="公安机关", reason="涉嫌犯罪"), LEADER)
    )
    drive.run(case_id, ("reopen", c.NewEvidence(new_evidence="新材料"), LEADER))
    system.catch_up()

    live = dump(system.read.store)
    assert live["archive_entries"]
    assert dump(system.read.store) == fresh_rebuild(
        tmp_path, "rebuilt", system.read.store.projections, logs_of(system)
    )


def test_an_old_conclusion_in_the_archive_is_everyones_and_a_new_one_each_cadres_own() -> None:
    from services.projections.archive.resolver import Resolver
    from services.projections.archive.views import verdicts_of

    resolver = Resolver({}, {})
    me = ("cadre", "C-002")
    old = {"verdicts": {"seeking_office": "true"}, "overall": "true", "cadre_verdicts": None}
    new = old | {
        "cadre_verdicts": [
            {"cadre": BOTH[0], "category": "seeking_office", "verdict": "true"},
            {"cadre": BOTH[1], "category": "seeking_office", "verdict": "untrue"},
        ]
    }

    assert verdicts_of(old, me, resolver) == old
    mine = verdicts_of(new, me, resolver)
    assert mine is not None
    assert (mine["verdicts"], mine["overall"]) == ({"seeking_office": "untrue"}, "untrue")
    assert verdicts_of(new, ("cadre", "C-004"), resolver) is None


def test_the_conclusion_form_asks_each_cadre_on_each_category() -> None:
    from services.web.forms import FormContext, build_form, parse_form

    ctx = FormContext(subjects=BOTH, categories=["seeking_office", "vote_buying"])
    spec = build_form("propose_conclusion", c.ProposeConclusion, ctx, lambda s: s)
    grid = [f.name for f in spec.fields if f.name.startswith("cadre_verdicts.")]
    assert len(grid) == 4  # 2 cadres x 2 categories
    values = dict.fromkeys(grid, "untrue") | {"reason": "分别认定"}
    values["cadre_verdicts.0.vote_buying"] = "true"

    command = parse_form(spec, c.ProposeConclusion, values, ctx, lambda s: s)

    assert isinstance(command, c.ProposeConclusion)
    assert command.verdicts is None
    assert command.cadre_verdicts is not None
    found = {(v.cadre.cadre_id, v.category.value): v.verdict.value for v in command.cadre_verdicts}
    assert found == {
        ("C-001", "seeking_office"): "untrue",
        ("C-001", "vote_buying"): "true",
        ("C-002", "seeking_office"): "untrue",
        ("C-002", "vote_buying"): "untrue",
    }
