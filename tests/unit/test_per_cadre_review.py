"""Issue 10, the reviewer's findings 1, 3 and 6 on per-cadre outcomes (regression tests from
the reviewer's scenarios, /tmp/review/test_r2.py and test_r3.py):

1. a report joins a case only before its conclusion is proposed; a join that arrives later
   (intake read a lagging state) returns a proposal, and after approval keeps what it alleges
   open in the integrity reply;
6. verdicts are asked only on the (cadre, category) pairs each cadre's own reports allege;
3. a clearing names the handlings its correction revokes; their bars end that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from schemas import commands as c
from schemas.events import Actor, ClearingCarriedOutV1, ReportJoinedV1
from schemas.glossary import (
    CaseState,
    ClearingMethod,
    Disposition,
    FindingKind,
    Role,
    Verdict,
)
from schemas.submissions import ReportSubmission
from services.bootstrap import EmbeddedSystem
from services.casework import rules
from services.casework.domain import SYSTEM_ACTOR, subject_key
from services.casework.rules import InvalidInput, NotAlleged, NotTheCadresHandling, RuleBroken
from services.intake.domain import IntakeRuleBroken
from services.web.forms import FormContext, build_form
from services.web.i18n import gettext_for
from tests.unit.conftest import advance_to, build_embedded, make_settings
from tests.unit.test_archive_full import HANDLER, LEADER, REGISTER, Driver
from tests.unit.test_per_cadre import BOTH, RECEIVED, replies, two_cadres_true_and_untrue

OPERATOR = Actor(id="op-1", role=Role.OPERATOR)
C1, C2 = c.CadreRef(cadre_id="C-001"), c.CadreRef(cadre_id="C-002")


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path), RECEIVED)
    system.read.register.upsert(REGISTER)
    system.accounts.create_user(
        "handler-1", "pw-for-tests-only", Role.HANDLER, "handler-1", enforce_policy=False
    )
    yield system
    system.stop()


def join(
    system: EmbeddedSystem,
    case_id: str,
    subjects: list[dict[str, str]],
    cats: list[str],
    on: dt.date,
) -> None:
    """A report naming ``subjects`` for ``cats``, accepted into ``case_id`` (并案) on ``on``."""
    advance_to(system, on)
    receipt = system.intake.submit(
        ReportSubmission.model_validate(
            {
                "channel": "hotline",
                "reporter": {"anonymous": True},
                "subjects": subjects,
                "categories": cats,
                "summary": "反映问题",
                "received_on": on,
            }
        ),
        registered_on=on,
    )
    system.intake.triage(
        UUID(receipt.report_id),
        "accept",
        c.Accept(reason="并案", join_case_id=UUID(case_id), accepted_on=on),
        OPERATOR,
    )
    system.catch_up()


def lagging(system: EmbeddedSystem, monkeypatch: pytest.MonkeyPatch) -> None:
    """Intake reads a read model that has not caught up: the case still looks under way."""
    monkeypatch.setattr(system.intake, "case_states", lambda _id: CaseState.VERIFICATION)


def proposed_for_c001(system: EmbeddedSystem) -> str:
    drive = Driver(system)
    _, _, case_id = drive.submit([BOTH[0]], received_on=RECEIVED)
    assert case_id
    drive.dispose(case_id, Disposition.PRELIMINARY_VERIFICATION)
    drive.run(
        case_id,
        (
            "record_finding",
            c.RecordFinding(kind=FindingKind.AUDIT, summary="审计", found_on=dt.date(2025, 2, 1)),
            HANDLER,
        ),
        (
            "propose_conclusion",
            c.ProposeConclusion(verdicts={"seeking_office": "true"}, reason="核实"),  # type: ignore[dict-item]
            HANDLER,
        ),
    )
    return case_id


# -- finding 1: joins after the conclusion was proposed ------------------------------------------


def test_a_report_does_not_join_a_case_whose_conclusion_is_proposed(
    system: EmbeddedSystem,
) -> None:
    """Rule: 并案 only before the conclusion is proposed (it would be concluded on by nobody)."""
    case_id = proposed_for_c001(system)

    with pytest.raises(IntakeRuleBroken, match="before its conclusion is proposed"):
        join(system, case_id, [BOTH[1]], ["vote_buying"], dt.date(2025, 2, 10))

    case = system.casework.get_case(UUID(case_id))
    assert [s["cadre_id"] for s in case.subjects] == ["C-001"]
    assert case.state is CaseState.CONCLUSION_PROPOSED


def test_a_late_join_returns_the_proposed_conclusion_for_a_new_one(
    system: EmbeddedSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule: a join arriving at a proposed conclusion that does not cover it (read-model lag)
    is recorded and the proposal goes back, by the system, with the reason; the new proposal
    covers the joined cadre."""
    case_id = proposed_for_c001(system)
    lagging(system, monkeypatch)

    join(system, case_id, [BOTH[1]], ["vote_buying"], dt.date(2025, 2, 10))

    case = system.casework.get_case(UUID(case_id))
    assert [s["cadre_id"] for s in case.subjects] == ["C-001", "C-002"]
    assert case.state is CaseState.VERIFICATION
    assert case.proposed_conclusion is None
    (returned,) = [
        e
        for e in system.casework.repository.event_store.get(UUID(case_id))
        if type(e).__name__ == "ConclusionReturned"
    ]
    assert returned.actor == SYSTEM_ACTOR  # type: ignore[attr-defined]
    assert "并入举报件" in returned.reason  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="proposed conclusion"):
        Driver(system).run(case_id, ("approve_conclusion", c.Approve(), LEADER))
    Driver(system).run(
        case_id,
        (
            "propose_conclusion",
            c.ProposeConclusion(
                cadre_verdicts=[
                    c.CadreVerdict(cadre=C1, category="seeking_office", verdict=Verdict.TRUE),  # type: ignore[arg-type]
                    c.CadreVerdict(cadre=C2, category="vote_buying", verdict=Verdict.UNTRUE),  # type: ignore[arg-type]
                ],
                reason="重新提出",
            ),
            HANDLER,
        ),
        ("approve_conclusion", c.Approve(), LEADER),
    )
    assert system.casework.get_case(UUID(case_id)).verdict_of(BOTH[1]) is Verdict.UNTRUE


def test_a_proposal_that_does_not_cover_a_joined_report_is_not_approved(
    system: EmbeddedSystem,
) -> None:
    """Rule conclusion_covers_every_cadre, re-checked on approval (a join stored before joins
    returned the proposal)."""
    case_id = proposed_for_c001(system)
    case = system.casework.get_case(UUID(case_id))
    case._trigger(  # a ReportJoined as stored before: no return followed it
        case.ReportJoined,
        actor=OPERATOR.model_dump(mode="json"),
        reason="并案",
        report_id=UUID(int=7),
        ledger_number="X-7",
        categories=["vote_buying"],
        subjects=[BOTH[1]],
        reporter={"anonymous": True},
    )
    assert case.state is CaseState.CONCLUSION_PROPOSED

    with pytest.raises(RuleBroken) as refused:
        case.approve_conclusion(LEADER)
    assert refused.value.rule is rules.CONCLUSION_COVERS_EVERY_CADRE


def test_a_report_joined_after_the_conclusion_keeps_its_cadre_open_in_the_reply(
    system: EmbeddedSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule: never silently add an unconcluded cadre to a case whose conclusion stands: the
    join is recorded with what it leaves unconcluded; the reply keeps that cadre open (the
    case closes; a 复查 concludes them)."""
    drive = Driver(system)
    _, _, case_id = drive.submit([BOTH[0]], received_on=RECEIVED)
    assert case_id
    drive.verify(case_id, ("seeking_office",), Verdict.TRUE, dt.date(2025, 2, 1))
    lagging(system, monkeypatch)
    join(system, case_id, [BOTH[1]], ["seeking_office"], dt.date(2025, 2, 10))
    case = system.casework.get_case(UUID(case_id))
    assert case.state is CaseState.CONCLUDED
    drive.close(case_id, dt.date(2025, 3, 1))
    system.catch_up()

    by_id = replies(system, "C-001", "C-002", as_of=dt.date(2025, 6, 1))
    late = by_id["C-002"]
    assert late.stands_in_the_way  # type: ignore[attr-defined]
    (item,) = late.open_items  # type: ignore[attr-defined]
    assert "尚待核查认定" in item.text_zh
    assert by_id["C-001"].proven  # type: ignore[attr-defined]

    # 复查: the new round concludes on both cadres, and C-002 is no longer open.
    advance_to(system, dt.date(2025, 5, 1))
    drive.run(
        case_id, ("reopen", c.NewEvidence(new_evidence="并案", on=dt.date(2025, 5, 1)), LEADER)
    )
    drive.verify(
        case_id,
        ("seeking_office",),
        Verdict.TRUE,
        dt.date(2025, 5, 2),
        per_cadre={"C-001": Verdict.TRUE, "C-002": Verdict.UNTRUE},
    )
    drive.close(case_id, dt.date(2025, 5, 6))
    system.catch_up()
    after = replies(system, "C-002", as_of=dt.date(2025, 6, 1))["C-002"]
    assert not after.stands_in_the_way  # type: ignore[attr-defined]
    assert after.open_items == []  # type: ignore[attr-defined]


def test_a_late_join_is_flagged_in_the_contract() -> None:
    """Old ReportJoined payloads stay valid; new ones carry what they leave unconcluded."""
    base = {
        "actor": {"id": "op-1", "role": "operator"},
        "reason": "并案",
        "report_id": str(UUID(int=1)),
        "ledger_number": "L-1",
        "categories": ["seeking_office"],
        "subjects": [BOTH[1]],
        "reporter": {"ref": "r-1", "anonymous": True},
    }
    assert ReportJoinedV1.model_validate(base).unconcluded is None
    flagged = ReportJoinedV1.model_validate(
        {**base, "unconcluded": [{"cadre": BOTH[1], "category": "seeking_office"}]}
    )
    assert flagged.unconcluded is not None
    assert flagged.unconcluded[0].cadre.cadre_id == "C-002"
    assert SYSTEM_ACTOR["role"] == Role.SYSTEM.value


# -- finding 6: verdicts only on what each cadre's reports allege --------------------------------


def test_verdicts_are_asked_only_on_what_each_cadres_own_reports_allege(
    system: EmbeddedSystem,
) -> None:
    """Rule: a conclusion gives one verdict per alleged (cadre, category) pair, and only those:
    a verdict on a pair no report alleges is refused (422) naming it; each cadre's overall
    verdict is over their own pairs."""
    drive = Driver(system)
    _, _, case_id = drive.submit([BOTH[0]], received_on=RECEIVED)
    assert case_id
    join(system, case_id, [BOTH[1]], ["vote_buying"], dt.date(2025, 1, 10))
    drive.dispose(case_id, Disposition.PRELIMINARY_VERIFICATION)
    drive.run(
        case_id,
        (
            "record_finding",
            c.RecordFinding(kind=FindingKind.AUDIT, summary="审计", found_on=dt.date(2025, 2, 1)),
            HANDLER,
        ),
    )
    only_alleged = [
        c.CadreVerdict(cadre=C1, category="seeking_office", verdict=Verdict.TRUE),  # type: ignore[arg-type]
        c.CadreVerdict(cadre=C2, category="vote_buying", verdict=Verdict.UNTRUE),  # type: ignore[arg-type]
    ]
    never_alleged = c.CadreVerdict(cadre=C1, category="vote_buying", verdict=Verdict.UNTRUE)  # type: ignore[arg-type]

    with pytest.raises(NotAlleged, match=r"vote_buying.*C-001") as refused:
        drive.run(
            case_id,
            (
                "propose_conclusion",
                c.ProposeConclusion(cadre_verdicts=[*only_alleged, never_alleged], reason="r"),
                HANDLER,
            ),
        )
    assert isinstance(refused.value, InvalidInput)  # answered 422
    assert "拉票贿选" in refused.value.message_zh
    with pytest.raises(RuleBroken) as missing:
        drive.run(
            case_id,
            (
                "propose_conclusion",
                c.ProposeConclusion(cadre_verdicts=only_alleged[:1], reason="r"),
                HANDLER,
            ),
        )
    assert missing.value.rule is rules.CONCLUSION_COVERS_EVERY_CADRE

    drive.run(
        case_id,
        (
            "propose_conclusion",
            c.ProposeConclusion(cadre_verdicts=only_alleged, reason="r"),
            HANDLER,
        ),
        ("approve_conclusion", c.Approve(), LEADER),
    )
    case = system.casework.get_case(UUID(case_id))
    assert case.verdict_of(BOTH[0]) is Verdict.TRUE
    assert case.verdict_of(BOTH[1]) is Verdict.UNTRUE
    system.catch_up()
    by_id = replies(system, "C-001", "C-002", as_of=dt.date(2025, 6, 1))
    (proven,) = by_id["C-001"].proven  # type: ignore[attr-defined]
    assert [v["category"] for v in proven.conclusion.verdicts] == ["seeking_office"]
    assert not by_id["C-002"].proven  # type: ignore[attr-defined]


def test_verdicts_over_a_known_cadre_in_a_joined_report_follow_their_reports(
    system: EmbeddedSystem,
) -> None:
    """Rule: a joined report adds its categories to the cadres it names only."""
    drive = Driver(system)
    _, _, case_id = drive.submit(BOTH, received_on=RECEIVED)
    assert case_id
    join(system, case_id, [BOTH[0]], ["vote_buying"], dt.date(2025, 1, 10))
    case = system.casework.get_case(UUID(case_id))
    assert case.alleged() == {
        "王建国|" + BOTH[0]["unit"]: ["seeking_office", "vote_buying"],
        "李明华|" + BOTH[1]["unit"]: ["seeking_office"],
    }


# -- finding 3: a clearing revokes the wrongful handling -----------------------------------------


def reround_untrue(system: EmbeddedSystem, case_id: str, on: dt.date) -> None:
    drive = Driver(system)
    advance_to(system, on)
    drive.run(case_id, ("reopen", c.NewEvidence(new_evidence="新证据", on=on), LEADER))
    drive.verify(
        case_id,
        ("seeking_office",),
        Verdict.UNTRUE,
        on,
        per_cadre={"C-001": Verdict.UNTRUE, "C-002": Verdict.UNTRUE},
    )
    drive.run(
        case_id,
        ("propose_clearing", c.ProposeClearing(cadre=C1, reason="复查不属实"), HANDLER),
        ("approve_clearing", c.Approve(), LEADER),
    )


def carry_out(revokes: list[int]) -> c.CarryOutClearing:
    return c.CarryOutClearing(
        method=ClearingMethod.PARTY_COMMITTEE_NOTICE,
        scope="单位",
        carried_out_on=dt.date(2025, 5, 5),
        corrections=["撤销免职处理"],
        revokes=revokes,
    )


def test_a_clearing_revokes_the_wrongful_handling_and_its_bars_end_that_day(
    system: EmbeddedSystem,
) -> None:
    """Rule: the correction names the handlings it revokes; their bars end on the clearing's
    carry-out day, and the reply says the handling was revoked (dismissed in round 1, 不属实
    in the 复查)."""
    case_id = two_cadres_true_and_untrue(system)  # C-001 dismissed 2025-03-03 (handling 1)
    reround_untrue(system, case_id, dt.date(2025, 5, 1))
    Driver(system).run(case_id, ("carry_out_clearing", carry_out([1]), HANDLER))
    Driver(system).close(case_id, dt.date(2025, 5, 6))
    system.catch_up()

    reply = replies(system, "C-001", as_of=dt.date(2025, 6, 1))["C-001"]
    assert not reply.stands_in_the_way  # type: ignore[attr-defined]
    assert reply.running_bars == []  # type: ignore[attr-defined]
    (handling,) = [h for i in reply.cleared for h in i.handlings]  # type: ignore[attr-defined]
    assert handling.revoked_on == dt.date(2025, 5, 5)
    assert {b.ends_on for b in handling.bars} == {dt.date(2025, 5, 5)}
    assert "撤销" in reply.opinion_zh  # type: ignore[attr-defined]

    before = replies(system, "C-001", as_of=dt.date(2025, 5, 4))["C-001"]
    assert before.running_bars  # type: ignore[attr-defined]


def test_a_clearing_revokes_only_the_cleared_cadres_own_handlings(
    system: EmbeddedSystem,
) -> None:
    """Rule: ``revokes`` names handlings of the cleared cadre in this case (422 otherwise,
    naming the id); old payloads without it stay valid."""
    case_id = two_cadres_true_and_untrue(system)
    reround_untrue(system, case_id, dt.date(2025, 5, 1))

    for wrong in (2, 99):
        with pytest.raises(NotTheCadresHandling, match=f"handling {wrong} "):
            Driver(system).run(case_id, ("carry_out_clearing", carry_out([wrong]), HANDLER))
    assert system.casework.get_case(UUID(case_id)).clearing_of(BOTH[0])["stage"] == "approved"

    old = {
        "actor": {"id": "handler-1", "role": "handler"},
        "reason": "",
        "method": "party_committee_notice",
        "scope": "单位",
        "carried_out_on": "2025-05-05",
        "corrections": ["撤销免职处理"],
    }
    assert ClearingCarriedOutV1.model_validate(old).revokes is None
    assert ClearingCarriedOutV1.model_validate({**old, "revokes": [1]}).revokes == [1]


def test_the_conclusion_form_asks_each_cadre_only_on_what_their_reports_allege(
    system: EmbeddedSystem,
) -> None:
    """Rule: the page's conclusion form offers a verdict only on alleged pairs."""
    drive = Driver(system)
    _, _, case_id = drive.submit([BOTH[0]], received_on=RECEIVED)
    assert case_id
    join(system, case_id, [BOTH[1]], ["vote_buying"], dt.date(2025, 1, 10))
    case = system.casework.get_case(UUID(case_id))
    ctx = FormContext(
        subjects=case.subjects,
        categories=case.categories,
        allegations=[case.alleged()[subject_key(s)] for s in case.subjects],
    )
    form = build_form("propose_conclusion", c.ProposeConclusion, ctx, gettext_for("zh-CN"))
    assert [f.name for f in form.fields if f.name.startswith("cadre_verdicts.")] == [
        "cadre_verdicts.0.seeking_office",
        "cadre_verdicts.1.vote_buying",
    ]


def test_a_verdict_on_a_pair_never_alleged_is_answered_422_and_a_foreign_revocation_too(
    system: EmbeddedSystem,
) -> None:
    """Rules of findings 6 and 3 over HTTP: bad input, 422 naming it, nothing stored."""
    case_id = two_cadres_true_and_untrue(system)
    reround_untrue(system, case_id, dt.date(2025, 5, 1))
    with TestClient(system.web_app()) as client:
        headers = {
            "Authorization": "Bearer "
            + system.accounts.issue_token(system.accounts.principal("handler-1"))
        }
        foreign = client.post(
            f"/api/v1/cases/{case_id}/carry_out_clearing",
            json={"method": "party_committee_notice", "scope": "单位", "revokes": [7]},
            headers=headers,
        )
    assert foreign.status_code == 422
    assert "handling 7" in foreign.text
    assert system.casework.get_case(UUID(case_id)).clearing_of(BOTH[0])["stage"] == "approved"

    drive = Driver(system)
    _, _, other = drive.submit([BOTH[0]], received_on=dt.date(2025, 5, 2))
    assert other
    drive.dispose(other, Disposition.PRELIMINARY_VERIFICATION)
    drive.run(
        other,
        ("record_finding", c.RecordFinding(kind=FindingKind.INTERVIEW, summary="谈话"), HANDLER),
    )
    with TestClient(system.web_app()) as client:
        headers = {  # a new day: a fresh token
            "Authorization": "Bearer "
            + system.accounts.issue_token(system.accounts.principal("handler-1"))
        }
        never = client.post(
            f"/api/v1/cases/{other}/propose_conclusion",
            json={
                "cadre_verdicts": [
                    {"cadre": {"cadre_id": "C-001"}, "category": c_, "verdict": "untrue"}
                    for c_ in ("seeking_office", "vote_buying")
                ],
                "reason": "x",
            },
            headers=headers,
        )
    assert never.status_code == 422
    assert "vote_buying" in never.text
    assert system.casework.get_case(UUID(other)).state is CaseState.VERIFICATION
