"""The case procedure as stories: given events, when a command, then events (or a refusal).

Directly on the ``Case`` aggregate (no database), except where the story is about the
application (reasons sent with a request, the linked false-accusation case, the stored
hash chain): those use ``CaseworkApplication`` on SQLite in ``tmp_path``.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest

from schemas import commands as c
from schemas.glossary import (
    AccuserStatus,
    AdmonitionOutcome,
    CaseKind,
    CaseState,
    Category,
    Disposition,
    DocumentKind,
    HandlingType,
    InquiryOutcome,
    PublicityDecision,
    Role,
    Verdict,
)
from services.calendar.handling import DEFAULT_EFFECTS
from services.casework import rules
from services.casework.application import CaseworkApplication
from services.casework.chain import verify_chain, verify_log
from services.casework.domain import Case
from services.casework.handlers import COMMANDS, FALSE_ACCUSATION_ROUTES, false_accusation_case_id
from services.casework.rules import (
    PERMISSIONS,
    CaseworkError,
    RoleNotAllowed,
    RuleBroken,
    TransitionNotAllowed,
)

S = CaseState
Actor = dict[str, str]
Step = Callable[[Case], object]
E = TypeVar("E", bound=CaseworkError)

TODAY = dt.date(2026, 3, 2)  # a Monday
SYSTEM: Actor = {"id": "intake-policy", "role": "system"}
LEADER: Actor = {"id": "leader-1", "role": "leader"}
HANDLER: Actor = {"id": "handler-1", "role": "handler"}  # the one the given steps assign
OTHER_HANDLER: Actor = {"id": "handler-2", "role": "handler"}
OPERATOR: Actor = {"id": "op-1", "role": "operator"}
ACTORS: dict[Role, Actor] = {
    Role.HANDLER: HANDLER,
    Role.LEADER: LEADER,
    Role.OPERATOR: OPERATOR,
}
SUBJECT = {"name": "王建国", "unit": "某县财政局", "position": "局长", "cadre_id": "C-001"}
CADRE = {"cadre_id": "C-001"}
STRANGER = {"name": "李四", "unit": "某县教育局"}
CATEGORIES = [Category.SEEKING_OFFICE.value, Category.VOTE_BUYING.value]
STUDY = {"held_on": dt.date(2026, 3, 3), "participants": ["张部长", "刘科长", "陈科长"]}
DUE = {"due": dt.date(2026, 3, 23), "provisional": False, "note": ""}
LATER = {"due": dt.date(2026, 9, 2), "provisional": False, "note": ""}
CJK = re.compile(r"[\u4e00-\u9fff]")


# -- the given steps ---------------------------------------------------------------------------


def open_case(*, real_name: bool = False) -> Case:
    return Case.open(
        uuid4(),
        report_id=uuid4(),
        ledger_number="JB-2026-000001",
        channel="hotline",
        categories=list(CATEGORIES),
        subjects=[SUBJECT],
        summary="反映王建国跑官要官、拉票贿选。",
        received_on=TODAY,
        opened_on=TODAY,
        reporter={"ref": "r-1", "anonymous": not real_name, "verified": real_name},
        actor=SYSTEM,
        reason="in the 12380 scope",
    )


def build(*steps: Step, real_name: bool = False) -> Case:
    """A case after the given steps, its events still pending (to save them)."""
    case = open_case(real_name=real_name)
    for step in steps:
        step(case)
    return case


def given(*steps: Step, real_name: bool = False) -> Case:
    """A case after the given steps, with nothing pending: what follows is the story."""
    case = build(*steps, real_name=real_name)
    case.collect_events()
    return case


def assigned(case: Case) -> None:
    case.assign("handler-1", LEADER, "熟悉该单位")


def proposed(disposition: Disposition) -> Step:
    def step(case: Case) -> None:
        case.propose_disposition(disposition, HANDLER, f"拟{disposition.zh}")

    return step


def disposition_approved(case: Case) -> None:
    case.approve_disposition(STUDY, LEADER, "集体研究同意", review_due=LATER)


def discipline_result(case: Case) -> None:
    case.record_discipline_result(
        "纪检监察机关", [{"cadre": CADRE, "verdict": "true"}], TODAY, "纪〔2026〕1号", LEADER
    )


def letter_sent(case: Case) -> None:
    case.send_inquiry_letter(TODAY, "letter", DUE, HANDLER, "函询本人")


def reply_received(case: Case) -> None:
    case.record_inquiry_reply(dt.date(2026, 3, 16), "HF-1", HANDLER)


def reply_evaluated(outcome: InquiryOutcome = InquiryOutcome.CLARIFIED) -> Step:
    def step(case: Case) -> None:
        case.evaluate_inquiry_reply(outcome, HANDLER, "说明清楚")

    return step


def finding_recorded(case: Case) -> None:
    case.record_finding("interview", "与王建国谈话", ["TH-1"], TODAY, HANDLER)


def conclusion_proposed(*verdicts: Verdict) -> Step:
    """One verdict per category (the last one repeated); TRUE when none is given."""

    def step(case: Case) -> None:
        chosen = list(verdicts or [Verdict.TRUE])
        chosen += [chosen[-1]] * (len(case.categories) - len(chosen))
        case.propose_conclusion(dict(zip(case.categories, chosen, strict=True)), HANDLER, "核实")

    return step


def conclusion_approved(case: Case) -> None:
    case.approve_conclusion(LEADER, "同意结论")


def handling_decided(handling: HandlingType) -> Step:
    def step(case: Case) -> None:
        effects = DEFAULT_EFFECTS[handling].model_dump()
        follow_up = LATER if DEFAULT_EFFECTS[handling].follow_up else None
        case.decide_handling(CADRE, handling, TODAY, effects, follow_up, LEADER, "部务会决定")

    return step


def clearing_proposed(case: Case) -> None:
    case.propose_clearing(CADRE, HANDLER, "反映不属实，拟澄清")


def clearing_approved(case: Case) -> None:
    case.approve_clearing(LEADER, "同意澄清")


def closed(case: Case) -> None:
    explanations = dict.fromkeys(case.unmet_deadlines(), "限期改正期未满，另行跟踪")
    case.close(dt.date(2026, 3, 20), explanations, DUE, LEADER, "办结")


def feedback_given(case: Case) -> None:
    case.give_feedback(
        dt.date(2026, 3, 25), "phone", "经核实，反映问题部分属实，已作处理。", HANDLER
    )


def objection_recorded(case: Case) -> None:
    case.record_objection(dt.date(2026, 3, 30), OPERATOR, "举报人对反馈有异议")


CO_SUBJECT = {"name": "李明华", "unit": "某县教育局", "position": "副局长", "cadre_id": "C-002"}
CO_CADRE = {"cadre_id": "C-002"}


def co_subject_joined(case: Case) -> None:
    """A second report joins, naming a second cadre on the same matters: the case now names
    two, each alleged every category (verdicts are asked on what a cadre's reports allege)."""
    case.join_report(
        report_id=uuid4(),
        ledger_number="JB-2026-000002",
        categories=list(CATEGORIES),
        subjects=[CO_SUBJECT],
        reporter={"ref": "r-2", "anonymous": True},
        actor=SYSTEM,
    )


def per_cadre_proposed(first: Verdict, second: Verdict) -> Step:
    """SUBJECT found ``first`` and CO_SUBJECT ``second`` on every category."""

    def step(case: Case) -> None:
        rows = [(CADRE, cat, first) for cat in case.categories]
        rows += [(CO_CADRE, cat, second) for cat in case.categories]
        case.propose_conclusion(None, HANDLER, "分别认定", cadre_verdicts=rows)

    return step


def two_cadres_concluded(first: Verdict, second: Verdict) -> tuple[Step, ...]:
    return (
        co_subject_joined,
        *UNDER_VERIFICATION,
        finding_recorded,
        per_cadre_proposed(first, second),
        conclusion_approved,
    )


def escalated_to(handling: HandlingType) -> Step:
    def step(case: Case) -> None:
        case.record_admonition_follow_up(
            1, AdmonitionOutcome.ESCALATED, TODAY, HANDLER, "拒不改正", escalate_to=handling
        )

    return step


def escalation_decided(handling: HandlingType) -> Step:
    def step(case: Case) -> None:
        effects = DEFAULT_EFFECTS[handling].model_dump()
        case.decide_handling(
            CADRE, handling, TODAY, effects, None, LEADER, "拒不改正，加重处理", escalation_of=1
        )

    return step


def publicity_held(case: Case) -> None:
    case.hold_for_publicity(
        CADRE, "某县财政局党组书记", dt.date(2026, 3, 9), OPERATOR, "公示期间收到举报"
    )


def path_concluded(*verdicts: Verdict) -> tuple[Step, ...]:
    return (
        *UNDER_VERIFICATION,
        finding_recorded,
        conclusion_proposed(*verdicts),
        conclusion_approved,
    )


def path_closed(*verdicts: Verdict) -> tuple[Step, ...]:
    return (*path_concluded(*verdicts), closed)


UNDER_INQUIRY = (assigned, proposed(Disposition.TALK_INQUIRY), disposition_approved)
UNDER_VERIFICATION = (
    assigned,
    proposed(Disposition.PRELIMINARY_VERIFICATION),
    disposition_approved,
)
PARKED = (assigned, proposed(Disposition.PARK), disposition_approved)
TRANSFERRED = (assigned, proposed(Disposition.TRANSFER_TO_DISCIPLINE), disposition_approved)
INQUIRY_EVALUATED = (*UNDER_INQUIRY, letter_sent, reply_received, reply_evaluated())

# A shortest way into each state.
STATE_PATHS: dict[CaseState, tuple[Step, ...]] = {
    S.OPEN: (),
    S.ASSIGNED: (assigned,),
    S.DISPOSITION_PROPOSED: (assigned, proposed(Disposition.PRELIMINARY_VERIFICATION)),
    S.INQUIRY: UNDER_INQUIRY,
    S.VERIFICATION: UNDER_VERIFICATION,
    S.PARKED: PARKED,
    S.CONCLUSION_PROPOSED: (*UNDER_VERIFICATION, finding_recorded, conclusion_proposed()),
    S.CONCLUDED: path_concluded(),
    S.CLOSED: path_closed(),
    S.TRANSFERRED: TRANSFERRED,
}


# -- when / then helpers --------------------------------------------------------------------


def when(case: Case, command: Callable[[], object]) -> list[Any]:
    """Run a command; the events it triggered."""
    version = case.version
    command()
    events = case.collect_events()
    assert case.version == version + len(events)
    return events


def names(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def refused(case: Case, error: type[E], command: Callable[[], object]) -> E:
    """Run a command that must be refused; the case must be left exactly as it was."""
    before = copy.deepcopy(vars(case))
    version = case.version
    with pytest.raises(error) as info:
        command()
    assert case.collect_events() == []
    assert case.version == version
    assert vars(case) == before
    assert_actionable(info.value)
    return info.value


def assert_actionable(error: CaseworkError) -> None:
    """English names the need; the Chinese text is Chinese (no identifiers leak into it)."""
    message = str(error)
    assert message
    assert not CJK.search(message), message
    assert CJK.search(error.message_zh), error.message_zh
    assert not re.search(r"[a-z]+_[a-z]+", error.message_zh), error.message_zh
    if isinstance(error, TransitionNotAllowed):
        assert f"cannot {error.action.replace('_', ' ')}" in message
        assert f"needs {error.needs}" in message
        assert error.state.zh in error.message_zh
    if isinstance(error, RoleNotAllowed):
        assert f"a {error.role.value} may not" in message
        assert "allowed: " in message
        assert error.role.zh in error.message_zh
    if isinstance(error, RuleBroken):
        assert (message, error.message_zh) == (error.rule.message, error.rule.message_zh)


# -- every transition: each command succeeds from a state and by a role that allow it ----------


@dataclasses.dataclass(frozen=True)
class Transition:
    action: str
    given: tuple[Step, ...]
    when: Callable[[Case, Actor], object]
    then: str  # the one event expected
    state: CaseState  # the case's state afterwards
    actor: Actor
    reason: str
    real_name: bool = False
    before: CaseState | None = None  # the state the command starts from (checked)
    check: Callable[[Case, Any], None] | None = None

    @property
    def id(self) -> str:
        return f"{self.action}-{self.actor['role']}-from-{self.before}"


def _transitions() -> Iterator[Transition]:  # noqa: PLR0912 — one table
    tr = Transition
    v = Verdict

    def _approve(disposition: Disposition, state: CaseState) -> Transition:
        def check(case: Case, event: Any) -> None:
            assert event.disposition == disposition.value
            assert event.collective_study == STUDY
            assert case.disposition is disposition
            parked = disposition is Disposition.PARK
            assert event.review_due == (LATER if parked else None)
            assert ("parked_review" in case.deadlines) is parked
            if state in (S.CLOSED, S.TRANSFERRED):
                assert case.closed_on is not None

        return tr(
            "approve_disposition",
            (assigned, proposed(disposition)),
            lambda case, a: case.approve_disposition(STUDY, a, "集体研究同意", review_due=LATER),
            "DispositionApproved",
            state,
            LEADER,
            "集体研究同意",
            check=check,
        )

    for state in sorted(PERMISSIONS["assign"].states):
        yield tr(
            "assign",
            STATE_PATHS[state],
            lambda case, a: case.assign("handler-9", a, "工作调整"),
            "HandlerAssigned",
            S.ASSIGNED if state is S.OPEN else state,
            LEADER,
            "工作调整",
        )
    yield tr(
        "propose_disposition",
        (assigned,),
        lambda case, a: case.propose_disposition(Disposition.TALK_INQUIRY, a, "拟函询"),
        "DispositionProposed",
        S.DISPOSITION_PROPOSED,
        HANDLER,
        "拟函询",
    )
    yield _approve(Disposition.TALK_INQUIRY, S.INQUIRY)
    yield _approve(Disposition.PRELIMINARY_VERIFICATION, S.VERIFICATION)
    yield _approve(Disposition.PARK, S.PARKED)
    yield _approve(Disposition.CLOSE, S.CLOSED)
    yield _approve(Disposition.TRANSFER_TO_DISCIPLINE, S.TRANSFERRED)
    yield tr(
        "return_disposition",
        (assigned, proposed(Disposition.PARK)),
        lambda case, a: case.return_disposition(a, "线索具体，应当核实"),
        "DispositionReturned",
        S.ASSIGNED,
        LEADER,
        "线索具体，应当核实",
    )
    yield tr(
        "send_inquiry_letter",
        UNDER_INQUIRY,
        lambda case, a: case.send_inquiry_letter(TODAY, "letter", DUE, a, "函询本人"),
        "InquiryLetterSent",
        S.INQUIRY,
        HANDLER,
        "函询本人",
        check=lambda case, e: case.unmet_deadlines() == ["inquiry_reply"],
    )
    yield tr(
        "record_inquiry_reply",
        (*UNDER_INQUIRY, letter_sent),
        lambda case, a: case.record_inquiry_reply(dt.date(2026, 3, 16), "HF-1", a),
        "InquiryReplyReceived",
        S.INQUIRY,
        HANDLER,
        "",
        check=lambda case, e: case.deadlines["inquiry_reply"]["met_on"] == dt.date(2026, 3, 16),
    )
    for outcome, state in [
        (InquiryOutcome.CLARIFIED, S.INQUIRY),
        (InquiryOutcome.REMINDED, S.INQUIRY),
        (InquiryOutcome.ESCALATED, S.VERIFICATION),
    ]:
        yield tr(
            "evaluate_inquiry_reply",
            (*UNDER_INQUIRY, letter_sent, reply_received),
            lambda case, a, outcome=outcome: case.evaluate_inquiry_reply(outcome, a, "评估"),
            "InquiryReplyEvaluated",
            state,
            HANDLER,
            "评估",
        )
    yield tr(
        "record_finding",
        UNDER_VERIFICATION,
        lambda case, a: case.record_finding("document", "查阅档案", ["DA-1"], TODAY, a),
        "FindingRecorded",
        S.VERIFICATION,
        HANDLER,
        "",
        check=lambda case, e: case.findings == 1 and e.evidence_refs == ["DA-1"],
    )
    yield tr(
        "review_parked",
        PARKED,
        lambda case, a: case.review_parked(TODAY, DUE, a, "暂无新线索"),
        "ParkedCaseReviewed",
        S.PARKED,
        HANDLER,
        "暂无新线索",
        check=lambda case, e: case.deadlines["parked_review"] == {**DUE, "met_on": None},
    )
    for role in sorted(PERMISSIONS["reactivate"].roles):
        yield tr(
            "reactivate",
            PARKED,
            lambda case, a: case.reactivate("新的举报材料", TODAY, a),
            "Reactivated",
            S.ASSIGNED,
            ACTORS[role],
            "新的举报材料",
            check=lambda case, e: case.unmet_deadlines() == [] and case.disposition is None,
        )
    yield tr(
        "propose_conclusion",
        INQUIRY_EVALUATED,
        lambda case, a: case.propose_conclusion(dict.fromkeys(CATEGORIES, v.UNTRUE), a, "说明清楚"),
        "ConclusionProposed",
        S.CONCLUSION_PROPOSED,
        HANDLER,
        "说明清楚",
        check=lambda case, e: (e.overall, e.returns_to) == ("untrue", "inquiry"),
    )
    yield tr(
        "propose_conclusion",
        (*UNDER_VERIFICATION, finding_recorded),
        lambda case, a: case.propose_conclusion(
            {CATEGORIES[0]: v.TRUE, CATEGORIES[1]: v.UNPROVEN}, a, "部分属实"
        ),
        "ConclusionProposed",
        S.CONCLUSION_PROPOSED,
        HANDLER,
        "部分属实",
        check=lambda case, e: (e.overall, e.returns_to) == ("partly_true", "verification"),
    )
    yield tr(
        "approve_conclusion",
        STATE_PATHS[S.CONCLUSION_PROPOSED],
        lambda case, a: case.approve_conclusion(a, "同意"),
        "ConclusionApproved",
        S.CONCLUDED,
        LEADER,
        "同意",
        check=lambda case, e: (
            case.conclusion["verdicts"] == e.verdicts and case.conclusion["overall"] is v.TRUE
        ),
    )
    yield tr(
        "return_conclusion",
        STATE_PATHS[S.CONCLUSION_PROPOSED],
        lambda case, a: case.return_conclusion(a, "证据不足，补充核实"),
        "ConclusionReturned",
        S.VERIFICATION,
        LEADER,
        "证据不足，补充核实",
    )
    yield tr(
        "return_conclusion",
        (*INQUIRY_EVALUATED, conclusion_proposed(v.UNTRUE)),
        lambda case, a: case.return_conclusion(a, "回复未说清"),
        "ConclusionReturned",
        S.INQUIRY,
        LEADER,
        "回复未说清",
    )
    yield tr(
        "decide_handling",
        path_concluded(v.TRUE, v.PARTLY_TRUE),
        lambda case, a: case.decide_handling(
            CADRE,
            HandlingType.DISMISSAL,
            TODAY,
            DEFAULT_EFFECTS[HandlingType.DISMISSAL].model_dump(),
            None,
            a,
            "部务会决定免职",
        ),
        "HandlingDecided",
        S.CONCLUDED,
        LEADER,
        "部务会决定免职",
        check=lambda case, e: e.cadre == SUBJECT and e.effects["bars_promotion_months"] == 24,
    )
    for state, path in [(S.CONCLUDED, path_concluded()), (S.CLOSED, path_closed())]:
        yield tr(
            "record_admonition_follow_up",
            (*path[:-1], handling_decided(HandlingType.ADMONITION), path[-1])
            if state is S.CLOSED
            else (*path, handling_decided(HandlingType.ADMONITION)),
            lambda case, a: case.record_admonition_follow_up(
                1, AdmonitionOutcome.IMPROVED, TODAY, a, "已改正"
            ),
            "AdmonitionFollowedUp",
            state,
            HANDLER,
            "已改正",
            check=lambda case, e: case.deadlines["admonition_follow_up#1"]["met_on"] == TODAY,
        )
    for state, path in [(S.CONCLUDED, path_concluded(v.UNTRUE)), (S.CLOSED, path_closed(v.UNTRUE))]:
        yield tr(
            "propose_clearing",
            path,
            lambda case, a: case.propose_clearing(CADRE, a, "拟澄清"),
            "ClearingProposed",
            state,
            HANDLER,
            "拟澄清",
            check=lambda case, e: not e.applied_for_by_cadre and e.cadre == SUBJECT,
        )
        for role in sorted(PERMISSIONS["apply_for_clearing"].roles):
            yield tr(
                "apply_for_clearing",
                path,
                lambda case, a: case.propose_clearing(
                    CADRE, a, "本人申请澄清", applied_for_by_cadre=True
                ),
                "ClearingProposed",
                state,
                ACTORS[role],
                "本人申请澄清",
                check=lambda case, e: e.applied_for_by_cadre,
            )
        yield tr(
            "approve_clearing",
            (*path, clearing_proposed),
            lambda case, a: case.approve_clearing(a, "同意澄清"),
            "ClearingApproved",
            state,
            LEADER,
            "同意澄清",
        )
        yield tr(
            "carry_out_clearing",
            (*path, clearing_proposed, clearing_approved),
            lambda case, a: case.carry_out_clearing(
                "party_committee_notice", "所在单位党组", TODAY, ["撤销诫勉"], a, "澄清"
            ),
            "ClearingCarriedOut",
            state,
            HANDLER,
            "澄清",
            check=lambda case, e: case.clearing["stage"] == "carried_out",
        )
        for role in sorted(PERMISSIONS["suspect_false_accusation"].roles):
            yield tr(
                "suspect_false_accusation",
                path,
                lambda case, a: case.suspect_false_accusation(
                    uuid4(), "party_member", "纪委监委（党纪处理）", a, "捏造事实"
                ),
                "FalseAccusationSuspected",
                state,
                ACTORS[role],
                "捏造事实",
            )
    yield tr(
        "close",
        path_concluded(v.UNTRUE),
        lambda case, a: case.close(TODAY, {}, DUE, a, "办结"),
        "Closed",
        S.CLOSED,
        LEADER,
        "办结",
        check=lambda case, e: e.feedback_due is None and case.closed_on == TODAY,
    )
    yield tr(
        "close",
        (*path_concluded(), handling_decided(HandlingType.ADMONITION)),
        lambda case, a: case.close(TODAY, {"admonition_follow_up#1": "期满后跟踪"}, DUE, a),
        "Closed",
        S.CLOSED,
        LEADER,
        "",
        real_name=True,
        check=lambda case, e: (
            e.unmet_deadlines == {"admonition_follow_up#1": "期满后跟踪"}
            and case.deadlines["feedback"] == {**DUE, "met_on": None}
        ),
    )
    for state, path in [(S.CLOSED, path_closed()), (S.TRANSFERRED, TRANSFERRED)]:
        yield tr(
            "give_feedback",
            path,
            lambda case, a: case.give_feedback(TODAY, "letter", "已办结", a),
            "FeedbackGiven",
            state,
            HANDLER,
            "",
            real_name=True,
        )
        for role in sorted(PERMISSIONS["record_objection"].roles):
            yield tr(
                "record_objection",
                (*path, feedback_given),
                lambda case, a: case.record_objection(TODAY, a, "对处理结果有异议"),
                "ObjectionRecorded",
                state,
                ACTORS[role],
                "对处理结果有异议",
                real_name=True,
            )
        for role in sorted(PERMISSIONS["answer_objection"].roles):
            yield tr(
                "answer_objection",
                (*path, feedback_given, objection_recorded),
                lambda case, a: case.answer_objection(TODAY, "维持原结论", a),
                "ObjectionAnswered",
                state,
                ACTORS[role],
                "",
                real_name=True,
                check=lambda case, e: case.open_objections == 0,
            )
    yield tr(
        "reopen",
        path_closed(),
        lambda case, a: case.reopen("举报人提供新证据", TODAY, a),
        "Reopened",
        S.ASSIGNED,
        LEADER,
        "举报人提供新证据",
        check=lambda case, e: case.conclusion is None and case.reopenings == 1,
    )
    for state in sorted(PERMISSIONS["hold_for_publicity"].states):
        for role in sorted(PERMISSIONS["hold_for_publicity"].roles):
            if role is Role.OPERATOR or state is S.OPEN:
                yield tr(
                    "hold_for_publicity",
                    STATE_PATHS[state],
                    lambda case, a: case.hold_for_publicity(
                        CADRE, "局长", dt.date(2026, 3, 9), a, "公示期间收到举报"
                    ),
                    "PublicityHeld",
                    state,
                    ACTORS[role],
                    "公示期间收到举报",
                )
    for actor in (HANDLER, LEADER):
        yield tr(
            "record_discipline_result",
            TRANSFERRED,
            lambda case, a: case.record_discipline_result(
                "纪检监察机关",
                [{"cadre": CADRE, "verdict": "true", "handling": None, "sanction": None}],
                TODAY,
                "青纪〔2026〕8号",
                a,
                "纪委监委反馈审查调查结果",
            ),
            "DisciplineResultRecorded",
            S.TRANSFERRED,
            actor,
            "纪委监委反馈审查调查结果",
            check=lambda case, e: (
                e.outcomes[0]["cadre"]["name"] == "王建国" and case.discipline_result is not None
            ),
        )
    for state in sorted(PERMISSIONS["decide_publicity"].states):
        yield tr(
            "decide_publicity",
            (publicity_held, *STATE_PATHS[state]),
            lambda case, a: case.decide_publicity(
                PublicityDecision.DEFER, TODAY, 3, dt.date(2026, 6, 2), a, "待核实后决定"
            ),
            "PublicityDecided",
            state,
            LEADER,
            "待核实后决定",
            check=lambda case, e: (
                e.defer_until == dt.date(2026, 6, 2) and case.publicity_hold is None
            ),
        )


def _document_transitions() -> Iterator[Transition]:
    """Decision 0035: a document about a step taken, in each state a step may be documented."""

    def issue(kind: DocumentKind, about: str) -> Callable[[Case, Actor], object]:
        def when(case: Case, a: Actor) -> object:
            case.may_issue(a)  # as the application asks: who, then which step
            fields = case.document_step(kind, about)
            case.issue_document(
                kind,
                about,
                number="组函〔2026〕1号",
                issued_on=TODAY,
                template_version="v1",
                fields=fields,
                actor=a,
                reason="制发",
            )
            return None

        return when

    inquiry = issue(DocumentKind.INQUIRY_NOTICE, "inquiry")
    admonition = issue(DocumentKind.ADMONITION_NOTICE, "handling:1")
    paths: list[tuple[tuple[Step, ...], Callable[[Case, Actor], object], CaseState]] = [
        ((*UNDER_INQUIRY, letter_sent), inquiry, S.INQUIRY),
        (
            (
                *UNDER_INQUIRY,
                letter_sent,
                reply_received,
                reply_evaluated(InquiryOutcome.ESCALATED),
            ),
            inquiry,
            S.VERIFICATION,
        ),
        ((*INQUIRY_EVALUATED, conclusion_proposed()), inquiry, S.CONCLUSION_PROPOSED),
        ((*path_concluded(), handling_decided(HandlingType.ADMONITION)), admonition, S.CONCLUDED),
        (
            (*path_concluded(), handling_decided(HandlingType.ADMONITION), closed),
            admonition,
            S.CLOSED,
        ),
    ]
    for path, when, state in paths:
        for actor in (HANDLER, LEADER):
            yield Transition(
                "issue_document",
                path,
                when,
                "DocumentIssued",
                state,
                actor,
                "制发",
                check=lambda case, e: (
                    e.number == "组函〔2026〕1号" and e.fields["addressee"] == "王建国"
                ),
            )


def _per_cadre_transitions() -> Iterator[Transition]:
    """Issue 10: escalation after closure, referral of a proven subject."""
    admonished_closed = (
        *path_concluded(),
        handling_decided(HandlingType.ADMONITION),
        closed,
        escalated_to(HandlingType.DEMOTION),
    )
    yield Transition(
        "decide_handling",
        admonished_closed,
        lambda case, a: case.decide_handling(
            CADRE, HandlingType.DEMOTION, TODAY, {}, None, a, "拒不改正，加重处理", escalation_of=1
        ),
        "HandlingDecided",
        S.CLOSED,
        LEADER,
        "拒不改正，加重处理",
        check=lambda case, e: e.escalation_of == 1 and case.escalations[1]["decided"] == 2,
    )
    for state, path in ((S.CONCLUDED, path_concluded()), (S.CLOSED, path_closed())):
        for role in sorted(PERMISSIONS["refer_subject"].roles):
            yield Transition(
                "refer_subject",
                path,
                lambda case, a: case.refer_subject(
                    CADRE, "公安机关", TODAY, "移送函1号", a, "涉嫌犯罪"
                ),
                "SubjectReferred",
                state,
                ACTORS[role],
                "涉嫌犯罪",
            )


TRANSITIONS = [
    dataclasses.replace(t, before=given(*t.given, real_name=t.real_name).state)
    for t in (*_transitions(), *_per_cadre_transitions(), *_document_transitions())
]


@pytest.mark.parametrize("t", TRANSITIONS, ids=[t.id for t in TRANSITIONS])
def test_each_allowed_command_triggers_its_one_event(t: Transition) -> None:
    case = given(*t.given, real_name=t.real_name)
    assert case.state in PERMISSIONS[t.action].states

    events = when(case, lambda: t.when(case, t.actor))

    assert names(events) == [t.then]
    (event,) = events
    assert event.actor == t.actor
    assert event.reason == t.reason
    assert event.originator_version == case.version
    assert case.state is t.state
    if t.check is not None:
        assert t.check(case, event) is not False


def test_the_transitions_cover_every_state_and_role_the_permissions_allow() -> None:
    assert set(PERMISSIONS) == set(COMMANDS)
    covered_states = {(t.action, t.before) for t in TRANSITIONS}
    covered_roles = {(t.action, Role(t.actor["role"])) for t in TRANSITIONS}
    for action, permission in PERMISSIONS.items():
        assert {(action, s) for s in permission.states} <= covered_states, action
        assert {(action, r) for r in permission.roles} <= covered_roles, action


# -- refusals by role and by state ------------------------------------------------------------

FIRST = {t.action: t for t in reversed(TRANSITIONS)}  # one allowed story per action


@pytest.mark.parametrize(
    ("action", "role"),
    [(a, r) for a, p in PERMISSIONS.items() for r in Role if r not in p.roles],
)
def test_a_role_the_procedure_does_not_name_is_refused(action: str, role: Role) -> None:
    t = FIRST[action]
    case = given(*t.given, real_name=t.real_name)
    actor = {"id": "handler-1" if role is Role.HANDLER else f"{role.value}-1", "role": role}

    error = refused(case, RoleNotAllowed, lambda: t.when(case, actor))

    assert (error.action, error.role) == (action, role)
    allowed = ", ".join(sorted(r.value for r in PERMISSIONS[action].roles))
    assert str(error).endswith(f"allowed: {allowed}")


@pytest.mark.parametrize(
    ("action", "state"),
    [(a, s) for a, p in PERMISSIONS.items() for s in CaseState if s not in p.states],
)
def test_a_command_in_a_state_that_does_not_allow_it_is_refused(
    action: str, state: CaseState
) -> None:
    t = FIRST[action]
    case = given(*STATE_PATHS[state], real_name=True)
    assert case.state is state

    error = refused(case, TransitionNotAllowed, lambda: t.when(case, t.actor))

    assert (error.action, error.state) == (action, state)
    assert error.needs == PERMISSIONS[action].needs


def test_a_conclusion_cannot_be_approved_before_an_approved_disposition() -> None:
    case = given(assigned, proposed(Disposition.PRELIMINARY_VERIFICATION))

    error = refused(case, TransitionNotAllowed, lambda: case.approve_conclusion(LEADER))
    assert str(error) == (
        "cannot approve conclusion a case that is disposition_proposed: needs a proposed conclusion"
    )
    refused(
        case,
        TransitionNotAllowed,
        lambda: case.propose_conclusion(dict.fromkeys(CATEGORIES, Verdict.TRUE), HANDLER, "x"),
    )


def test_a_case_under_verification_cannot_be_closed() -> None:
    case = given(*UNDER_VERIFICATION, finding_recorded)

    error = refused(case, TransitionNotAllowed, lambda: case.close(TODAY, {}, DUE, LEADER))

    assert "needs an approved conclusion" in str(error)
    assert "初步核实中" in error.message_zh


def test_an_open_case_cannot_be_reopened() -> None:
    case = given(*UNDER_INQUIRY)

    error = refused(case, TransitionNotAllowed, lambda: case.reopen("新证据", TODAY, LEADER))

    assert "needs a closed case" in str(error)


def test_a_transferred_case_cannot_be_reopened_here() -> None:
    case = given(*TRANSFERRED)

    refused(case, TransitionNotAllowed, lambda: case.reopen("新证据", TODAY, LEADER))


def test_an_operator_may_not_approve_a_disposition() -> None:
    case = given(assigned, proposed(Disposition.PARK))

    error = refused(case, RoleNotAllowed, lambda: case.approve_disposition(STUDY, OPERATOR))

    assert str(error).endswith("may not approve disposition; allowed: leader")
    assert error.message_zh == "“受理登记员”无权执行该操作，应由科室负责人/分管领导办理"


# -- the named rules ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Broken:
    rule: rules.Rule
    story: str
    given: tuple[Step, ...]
    when: Callable[[Case], object]
    real_name: bool = False


def _broken_rules() -> Iterator[Broken]:
    br = Broken
    v = Verdict
    verdicts = dict.fromkeys(CATEGORIES, v.TRUE)
    handler_steps: list[tuple[str, tuple[Step, ...], Callable[[Case], object]]] = [
        (
            "propose_disposition",
            (assigned,),
            lambda case: case.propose_disposition(Disposition.PARK, OTHER_HANDLER, "x"),
        ),
        (
            "send_inquiry_letter",
            UNDER_INQUIRY,
            lambda case: case.send_inquiry_letter(TODAY, "talk", DUE, OTHER_HANDLER),
        ),
        (
            "record_inquiry_reply",
            (*UNDER_INQUIRY, letter_sent),
            lambda case: case.record_inquiry_reply(TODAY, "HF", OTHER_HANDLER),
        ),
        (
            "evaluate_inquiry_reply",
            (*UNDER_INQUIRY, letter_sent, reply_received),
            lambda case: case.evaluate_inquiry_reply(InquiryOutcome.CLARIFIED, OTHER_HANDLER, "x"),
        ),
        (
            "record_finding",
            UNDER_VERIFICATION,
            lambda case: case.record_finding("other", "x", [], TODAY, OTHER_HANDLER),
        ),
        (
            "review_parked",
            PARKED,
            lambda case: case.review_parked(TODAY, DUE, OTHER_HANDLER, "x"),
        ),
        ("reactivate", PARKED, lambda case: case.reactivate("x", TODAY, OTHER_HANDLER)),
        (
            "propose_conclusion",
            (*UNDER_VERIFICATION, finding_recorded),
            lambda case: case.propose_conclusion(verdicts, OTHER_HANDLER, "x"),
        ),
        (
            "record_admonition_follow_up",
            (*path_concluded(), handling_decided(HandlingType.ADMONITION)),
            lambda case: case.record_admonition_follow_up(
                1, AdmonitionOutcome.IMPROVED, TODAY, OTHER_HANDLER, "x"
            ),
        ),
        (
            "propose_clearing",
            path_concluded(v.UNTRUE),
            lambda case: case.propose_clearing(CADRE, OTHER_HANDLER, "x"),
        ),
        (
            "carry_out_clearing",
            (*path_concluded(v.UNTRUE), clearing_proposed, clearing_approved),
            lambda case: case.carry_out_clearing("letter", "本人", TODAY, [], OTHER_HANDLER),
        ),
        (
            "give_feedback",
            path_closed(),
            lambda case: case.give_feedback(TODAY, "phone", "x", OTHER_HANDLER),
        ),
    ]
    for action, steps, command in handler_steps:
        yield br(rules.ASSIGNED_HANDLER_ONLY, f"{action}-by-another-handler", steps, command, True)

    approval = (assigned, proposed(Disposition.PRELIMINARY_VERIFICATION))
    for label, study in [
        ("nothing", {}),
        ("no-participants", {"held_on": TODAY, "participants": []}),
        ("no-date", {"participants": ["张部长"]}),
    ]:
        yield br(
            rules.COLLECTIVE_STUDY_RECORDED,
            f"approval-with-{label}",
            approval,
            lambda case, study=study: case.approve_disposition(study, LEADER, "同意"),
        )
    yield br(
        rules.INQUIRY_LETTER_SENT,
        "reply-before-letter",
        UNDER_INQUIRY,
        lambda case: case.record_inquiry_reply(TODAY, "HF", HANDLER),
    )
    yield br(
        rules.INQUIRY_REPLY_RECEIVED,
        "evaluation-before-reply",
        (*UNDER_INQUIRY, letter_sent),
        lambda case: case.evaluate_inquiry_reply(InquiryOutcome.CLARIFIED, HANDLER, "x"),
    )
    yield br(
        rules.INQUIRY_REPLY_EVALUATED,
        "conclusion-on-an-unevaluated-reply",
        (*UNDER_INQUIRY, letter_sent, reply_received),
        lambda case: case.propose_conclusion(dict.fromkeys(CATEGORIES, v.UNTRUE), HANDLER, "x"),
    )
    yield br(
        rules.FINDINGS_RECORDED,
        "conclusion-without-findings",
        UNDER_VERIFICATION,
        lambda case: case.propose_conclusion(verdicts, HANDLER, "x"),
    )
    for label, partial in [
        ("a-category-left-out", {CATEGORIES[0]: v.TRUE}),
        ("a-category-not-reported", {**verdicts, Category.EXCESS_POSTS.value: v.TRUE}),
    ]:
        yield br(
            rules.CONCLUSION_COVERS_ALLEGATIONS,
            f"conclusion-with-{label}",
            (*UNDER_VERIFICATION, finding_recorded),
            lambda case, partial=partial: case.propose_conclusion(partial, HANDLER, "x"),
        )

    def dismissal(case: Case) -> None:
        case.decide_handling(CADRE, HandlingType.DISMISSAL, TODAY, {}, None, LEADER, "x")

    for verdict in (v.UNTRUE, v.UNPROVEN):
        yield br(
            rules.PROVEN_FOR_HANDLING,
            f"handling-after-{verdict.value}",
            path_concluded(verdict),
            dismissal,
        )
    for label, path in [
        ("unproven", path_concluded(v.UNPROVEN)),  # 无法查实 is not 不属实
        ("untrue-and-unproven", path_concluded(v.UNTRUE, v.UNPROVEN)),
        ("true", path_concluded(v.TRUE)),
        ("unproven-closed", path_closed(v.UNPROVEN)),
    ]:
        yield br(
            rules.UNTRUE_FOR_CLEARING,
            f"clearing-after-{label}",
            path,
            lambda case: case.propose_clearing(CADRE, HANDLER, "x"),
        )
    yield br(
        rules.UNTRUE_FOR_CLEARING,
        "cadre-applies-after-unproven",
        path_concluded(v.UNPROVEN),
        lambda case: case.propose_clearing(CADRE, OPERATOR, "x", applied_for_by_cadre=True),
    )
    yield br(
        rules.CLEARING_NOT_STARTED,
        "clearing-proposed-twice",
        (*path_concluded(v.UNTRUE), clearing_proposed),
        lambda case: case.propose_clearing(CADRE, OPERATOR, "x", applied_for_by_cadre=True),
    )
    yield br(
        rules.CLEARING_PROPOSED,
        "clearing-approved-unproposed",
        path_concluded(v.UNTRUE),
        lambda case: case.approve_clearing(LEADER),
    )
    for label, steps in [
        ("unproposed", path_concluded(v.UNTRUE)),
        ("unapproved", (*path_concluded(v.UNTRUE), clearing_proposed)),
    ]:
        yield br(
            rules.CLEARING_APPROVED,
            f"clearing-carried-out-{label}",
            steps,
            lambda case: case.carry_out_clearing("letter", "本人", TODAY, [], HANDLER),
        )
    for label, steps, handling_id in [
        ("without-admonition", (*path_concluded(), handling_decided(HandlingType.DEMOTION)), 1),
        ("of-another-handling", (*path_concluded(), handling_decided(HandlingType.ADMONITION)), 2),
        ("without-any-handling", path_closed(), 1),
    ]:
        yield br(
            rules.ADMONITION_DECIDED,
            f"follow-up-{label}",
            steps,
            lambda case, handling_id=handling_id: case.record_admonition_follow_up(
                handling_id, AdmonitionOutcome.IMPROVED, TODAY, HANDLER, "x"
            ),
        )

    def improved(case: Case) -> None:
        case.record_admonition_follow_up(1, AdmonitionOutcome.IMPROVED, TODAY, HANDLER, "已改正")

    yield br(
        rules.ADMONITION_DECIDED,
        "follow-up-twice",
        (*path_concluded(), handling_decided(HandlingType.ADMONITION), improved),
        improved,
    )
    yield br(
        rules.ESCALATION_NAMES_HANDLING,
        "escalation-naming-nothing",
        (*path_concluded(), handling_decided(HandlingType.ADMONITION)),
        lambda case: case.record_admonition_follow_up(
            1, AdmonitionOutcome.ESCALATED, TODAY, HANDLER, ""
        ),
    )

    def suspect(case: Case) -> None:
        case.suspect_false_accusation(uuid4(), "other", "公安机关", LEADER, "捏造")

    for verdict in (v.TRUE, v.UNPROVEN):
        yield br(
            rules.UNTRUE_FOR_FALSE_ACCUSATION,
            f"false-accusation-after-{verdict.value}",
            path_concluded(verdict),
            suspect,
        )
    yield br(
        rules.FALSE_ACCUSATION_ONCE,
        "false-accusation-twice",
        (*path_concluded(v.UNTRUE), suspect),
        suspect,
    )
    for label, explanations in [("none", {}), ("blank", {"admonition_follow_up#1": "  "})]:
        yield br(
            rules.EXPLAIN_UNMET_DEADLINES,
            f"closing-with-an-unmet-deadline-explained-by-{label}",
            (*path_concluded(), handling_decided(HandlingType.ADMONITION)),
            lambda case, explanations=explanations: case.close(TODAY, explanations, DUE, LEADER),
        )
    yield br(
        rules.EXPLAIN_UNMET_DEADLINES,
        "closing-with-another-deadline-explained",
        (*path_concluded(), handling_decided(HandlingType.ADMONITION)),
        lambda case: case.close(TODAY, {"inquiry_reply": "已回复"}, DUE, LEADER),
    )
    yield br(
        rules.REAL_NAME_REPORTER_FOR_FEEDBACK,
        "feedback-to-an-anonymous-reporter",
        path_closed(),
        lambda case: case.give_feedback(TODAY, "online", "x", HANDLER),
    )
    yield br(
        rules.FEEDBACK_GIVEN_FOR_OBJECTION,
        "objection-before-feedback",
        path_closed(),
        lambda case: case.record_objection(TODAY, OPERATOR, "有异议"),
        real_name=True,
    )
    yield br(
        rules.OBJECTION_OPEN,
        "answering-no-objection",
        (*path_closed(), feedback_given),
        lambda case: case.answer_objection(TODAY, "x", LEADER),
        real_name=True,
    )

    def answered(case: Case) -> None:
        case.answer_objection(TODAY, "维持原结论", LEADER)

    yield br(
        rules.OBJECTION_OPEN,
        "answering-an-objection-twice",
        (*path_closed(), feedback_given, objection_recorded, answered),
        answered,
        real_name=True,
    )

    def appoint(case: Case) -> None:
        case.decide_publicity(PublicityDecision.APPOINT, TODAY, None, None, LEADER, "x")

    yield br(rules.PUBLICITY_HOLD_OPEN, "publicity-decided-without-hold", (assigned,), appoint)
    yield br(
        rules.PUBLICITY_HOLD_OPEN,
        "publicity-decided-twice",
        (publicity_held, assigned, appoint),
        appoint,
    )
    for months in (4, 0, None):
        yield br(
            rules.DEFERRAL_AT_MOST_THREE_MONTHS,
            f"deferral-of-{months}-months",
            (publicity_held,),
            lambda case, months=months: case.decide_publicity(
                PublicityDecision.DEFER, TODAY, months, dt.date(2026, 7, 2), LEADER, "x"
            ),
        )
    yield br(
        rules.DISCIPLINE_RESULT_ONCE,
        "the-discipline-commission-result-recorded-twice",
        (*TRANSFERRED, discipline_result),
        discipline_result,
    )
    yield br(
        rules.RESULT_FOR_EACH_CADRE,
        "a-discipline-result-without-an-outcome-for-the-cadre",
        TRANSFERRED,
        lambda case: case.record_discipline_result(
            "纪检监察机关", [], TODAY, "纪〔2026〕1号", LEADER
        ),
    )
    yield br(
        rules.NAMED_CADRE,
        "a-discipline-result-for-a-cadre-not-named",
        TRANSFERRED,
        lambda case: case.record_discipline_result(
            "纪检监察机关",
            [{"cadre": STRANGER, "verdict": "true"}],
            TODAY,
            "纪〔2026〕1号",
            LEADER,
        ),
    )
    yield br(
        rules.NAMED_CADRE,
        "handling-of-a-cadre-not-named",
        path_concluded(),
        lambda case: case.decide_handling(
            STRANGER, HandlingType.DISMISSAL, TODAY, {}, None, LEADER, "x"
        ),
    )
    yield br(
        rules.NAMED_CADRE,
        "handling-of-a-namesake-in-another-unit",
        path_concluded(),
        lambda case: case.decide_handling(
            {"name": SUBJECT["name"], "unit": "另一单位"},
            HandlingType.REASSIGNMENT,
            TODAY,
            {},
            None,
            LEADER,
            "x",
        ),
    )
    yield br(
        rules.NAMED_CADRE,
        "clearing-a-cadre-not-named",
        path_concluded(v.UNTRUE),
        lambda case: case.propose_clearing(STRANGER, HANDLER, "x"),
    )
    yield br(
        rules.NAMED_CADRE,
        "publicity-of-a-cadre-not-named",
        (assigned,),
        lambda case: case.hold_for_publicity({"cadre_id": "C-999"}, "局长", TODAY, OPERATOR, "x"),
    )


def _per_cadre_rules() -> Iterator[Broken]:
    br = Broken
    v = Verdict
    two_under_verification = (co_subject_joined, *UNDER_VERIFICATION, finding_recorded)
    yield br(
        rules.CONCLUSION_PER_CADRE,
        "one-verdict-per-category-for-two-cadres",
        two_under_verification,
        lambda case: case.propose_conclusion(dict.fromkeys(CATEGORIES, v.TRUE), HANDLER, "x"),
    )
    yield br(
        rules.CONCLUSION_COVERS_EVERY_CADRE,
        "a-cadre-left-without-verdicts",
        two_under_verification,
        lambda case: case.propose_conclusion(
            None, HANDLER, "x", cadre_verdicts=[(CADRE, cat, v.TRUE) for cat in CATEGORIES]
        ),
    )
    yield br(
        rules.CONCLUSION_COVERS_EVERY_CADRE,
        "a-verdict-given-twice",
        two_under_verification,
        lambda case: case.propose_conclusion(
            None,
            HANDLER,
            "x",
            cadre_verdicts=[(c_, cat, v.TRUE) for c_ in (CADRE, CO_CADRE) for cat in CATEGORIES]
            + [(CADRE, CATEGORIES[0], v.UNTRUE)],
        ),
    )
    yield br(
        rules.PROVEN_FOR_HANDLING,
        "handling-a-co-subject-found-untrue",
        two_cadres_concluded(v.TRUE, v.UNTRUE),
        lambda case: case.decide_handling(
            CO_CADRE, HandlingType.DEMOTION, TODAY, {}, None, LEADER, "x"
        ),
    )
    yield br(
        rules.UNTRUE_FOR_CLEARING,
        "clearing-a-co-subject-found-true",
        two_cadres_concluded(v.UNTRUE, v.TRUE),
        lambda case: case.propose_clearing(CO_CADRE, HANDLER, "x"),
    )

    def both_cleared_proposed(case: Case) -> None:
        case.propose_clearing(CADRE, HANDLER, "x")
        case.propose_clearing(CO_CADRE, HANDLER, "x")

    yield br(
        rules.CLEARING_NAMES_CADRE,
        "approving-one-of-two-clearings-without-naming-it",
        (*two_cadres_concluded(v.UNTRUE, v.UNTRUE), both_cleared_proposed),
        lambda case: case.approve_clearing(LEADER),
    )
    admonished = (*path_concluded(), handling_decided(HandlingType.ADMONITION))
    yield br(
        rules.ESCALATION_PENDING,
        "heavier-handling-after-closure-without-escalation",
        (*admonished, closed),
        handling_decided(HandlingType.DEMOTION),
    )
    yield br(
        rules.ESCALATION_PENDING,
        "escalation-to-another-handling-than-named",
        (*admonished, closed, escalated_to(HandlingType.DISMISSAL)),
        escalation_decided(HandlingType.DEMOTION),
    )
    yield br(
        rules.ESCALATION_PENDING,
        "escalation-decided-twice",
        (
            *admonished,
            escalated_to(HandlingType.DEMOTION),
            escalation_decided(HandlingType.DEMOTION),
        ),
        escalation_decided(HandlingType.DEMOTION),
    )
    yield br(
        rules.ESCALATION_NAMES_HANDLING,
        "escalation-to-a-lighter-handling",
        admonished,
        escalated_to(HandlingType.CRITICISM),
    )
    yield br(
        rules.PROVEN_FOR_HANDLING,
        "referring-a-subject-found-untrue",
        path_concluded(v.UNTRUE),
        lambda case: case.refer_subject(CADRE, "公安机关", TODAY, "", LEADER, "x"),
    )
    yield br(
        rules.ONE_PUBLICITY_HOLD,
        "a-second-publicity-hold-while-one-is-open",
        (assigned, publicity_held),
        publicity_held,
    )
    yield br(
        rules.HELD_ON_SELECTION,
        "a-publicity-hold-for-a-cadre-the-case-holds-on-a-selection",
        (assigned,),
        lambda case: case.hold_for_publicity(
            CADRE,
            "某县财政局党组书记",
            dt.date(2026, 3, 9),
            OPERATOR,
            "公示期间收到举报",
            held_on_selections=frozenset({"C-001"}),
        ),
    )

    # Official documents (decision 0035).
    yield br(
        rules.DOCUMENT_STEP_TAKEN,
        "an-admonition-notice-about-a-handling-that-is-not-an-admonition",
        (*path_concluded(), handling_decided(HandlingType.DEMOTION)),
        lambda case: case.document_step(DocumentKind.ADMONITION_NOTICE, "handling:1"),
    )
    yield br(
        rules.DOCUMENT_STEP_TAKEN,
        "a-clearing-letter-before-the-clearing-is-carried-out",
        (*path_concluded(v.UNTRUE), clearing_proposed, clearing_approved),
        lambda case: case.document_step(DocumentKind.CLEARING_LETTER, "clearing:王建国|某县财政局"),
    )
    yield br(
        rules.DOCUMENT_STEP_TAKEN,
        "an-inquiry-notice-named-about-another-step",
        (*UNDER_INQUIRY, letter_sent),
        lambda case: case.document_step(DocumentKind.INQUIRY_NOTICE, "handling:1"),
    )

    def inquiry_notice_issued(case: Case) -> None:
        case.issue_document(
            DocumentKind.INQUIRY_NOTICE,
            "inquiry",
            number="组函〔2026〕1号",
            issued_on=TODAY,
            template_version="v1",
            fields=case.document_step(DocumentKind.INQUIRY_NOTICE, "inquiry"),
            actor=HANDLER,
        )

    yield br(
        rules.ONE_DOCUMENT_PER_STEP,
        "a-second-document-of-a-kind-about-the-same-step",
        (*UNDER_INQUIRY, letter_sent, inquiry_notice_issued),
        inquiry_notice_issued,
    )


BROKEN = [*_broken_rules(), *_per_cadre_rules()]


@pytest.mark.parametrize("b", BROKEN, ids=[b.story for b in BROKEN])
def test_a_named_rule_refuses_the_command(b: Broken) -> None:
    case = given(*b.given, real_name=b.real_name)

    error = refused(case, RuleBroken, lambda: b.when(case))

    assert error.rule is b.rule


def test_every_named_rule_has_a_story() -> None:
    named = {r.name for r in vars(rules).values() if isinstance(r, rules.Rule)}
    assert named == {b.rule.name for b in BROKEN}


def test_the_assigned_handler_rule_is_about_who_not_the_state() -> None:
    assert rules.ASSIGNED_HANDLER_ONLY.about_who
    assert not any(
        r.about_who
        for r in vars(rules).values()
        if isinstance(r, rules.Rule) and r.name != "assigned_handler_only"
    )


def test_a_reassigned_case_is_handled_by_the_new_handler_only() -> None:
    case = given(assigned)
    when(case, lambda: case.assign("handler-2", LEADER, "工作调整"))

    refused(
        case,
        RuleBroken,
        lambda: case.propose_disposition(Disposition.PARK, HANDLER, "x"),
    )
    events = when(case, lambda: case.propose_disposition(Disposition.PARK, OTHER_HANDLER, "x"))
    assert names(events) == ["DispositionProposed"]


def test_escalation_naming_the_heavier_handling_is_recorded() -> None:
    case = given(*path_concluded(), handling_decided(HandlingType.ADMONITION))

    events = when(
        case,
        lambda: case.record_admonition_follow_up(
            1,
            AdmonitionOutcome.ESCALATED,
            TODAY,
            HANDLER,
            "拒不改正",
            escalate_to=HandlingType.DEMOTION,
        ),
    )
    events += when(case, lambda: escalation_decided(HandlingType.DEMOTION)(case))

    assert names(events) == ["AdmonitionFollowedUp", "HandlingDecided"]
    assert events[0].outcome == "escalated"
    assert events[0].escalate_to == "demotion"  # a structured field, not the free-text reason
    assert events[1].handling == "demotion"
    assert events[1].escalation_of == 1
    assert [h["handling"] for h in case.handlings] == ["admonition", "demotion"]


# -- the paths of domain.md, end to end on the aggregate ---------------------------------------


def story(case: Case, *steps: Step) -> list[str]:
    for step in steps:
        step(case)
    events = case.collect_events()
    assert verify_chain(case.id, events) is None
    return names(events)


def test_an_untrue_report_clears_the_cadre_name() -> None:
    case = open_case()

    happened = story(
        case,
        *path_concluded(Verdict.UNTRUE),
        clearing_proposed,
        clearing_approved,
        lambda case: case.carry_out_clearing(
            "scoped_notice", "财政局中层以上干部会议", TODAY, ["撤销对其暂缓提拔的决定"], HANDLER
        ),
        closed,
    )

    assert happened == [
        "Opened",
        "HandlerAssigned",
        "DispositionProposed",
        "DispositionApproved",
        "FindingRecorded",
        "ConclusionProposed",
        "ConclusionApproved",
        "ClearingProposed",
        "ClearingApproved",
        "ClearingCarriedOut",
        "Closed",
    ]
    assert case.state is S.CLOSED
    assert case.found_untrue
    assert not case.proven
    assert {k: case.clearing[k] for k in ("stage", "cadre")} == {
        "stage": "carried_out",
        "cadre": SUBJECT,
    }
    assert case.clearing["scope"] == "财政局中层以上干部会议"  # what its letter says (0035)
    assert "feedback" not in case.deadlines  # an anonymous reporter gets none


def test_a_proven_report_ends_in_dismissal_with_its_effects_recorded() -> None:
    case = open_case(real_name=True)

    happened = story(
        case,
        *path_concluded(Verdict.TRUE, Verdict.PARTLY_TRUE),
        handling_decided(HandlingType.DISMISSAL),
        closed,
        feedback_given,
    )

    assert happened[-4:] == ["ConclusionApproved", "HandlingDecided", "Closed", "FeedbackGiven"]
    assert case.conclusion is not None
    assert case.conclusion["verdicts"] == {CATEGORIES[0]: "true", CATEGORIES[1]: "partly_true"}
    assert case.conclusion["overall"] is Verdict.PARTLY_TRUE
    assert case.verdict_of(SUBJECT) is Verdict.PARTLY_TRUE
    assert case.handlings == [
        {"id": 1, "handling": "dismissal", "cadre": SUBJECT, "decided_on": TODAY}
    ]
    assert case.unmet_deadlines() == []
    assert case.deadlines["feedback"]["met_on"] == dt.date(2026, 3, 25)


def test_the_dismissal_event_carries_the_effects_in_force() -> None:
    case = given(*path_concluded())

    (event,) = when(case, lambda: handling_decided(HandlingType.DISMISSAL)(case))

    assert event.effects["bars_leading_post_months"] == 12
    assert event.effects["bars_promotion_months"] == 24
    assert event.follow_up_due is None


def test_an_inquiry_letter_answered_and_clarified_closes_the_case() -> None:
    case = open_case()

    happened = story(
        case,
        *INQUIRY_EVALUATED,
        conclusion_proposed(Verdict.UNTRUE),
        conclusion_approved,
        closed,
    )

    assert happened[3:] == [
        "DispositionApproved",
        "InquiryLetterSent",
        "InquiryReplyReceived",
        "InquiryReplyEvaluated",
        "ConclusionProposed",
        "ConclusionApproved",
        "Closed",
    ]
    assert case.disposition is Disposition.TALK_INQUIRY
    assert case.inquiry["outcome"] == "clarified"
    assert case.deadlines["inquiry_reply"]["met_on"] == dt.date(2026, 3, 16)
    assert case.unmet_deadlines() == []


def test_an_escalated_inquiry_goes_on_to_verification() -> None:
    case = given(*UNDER_INQUIRY, letter_sent, reply_received)

    events = when(case, lambda: reply_evaluated(InquiryOutcome.ESCALATED)(case))

    assert names(events) == ["InquiryReplyEvaluated"]
    assert (case.state, case.disposition) == (S.VERIFICATION, Disposition.PRELIMINARY_VERIFICATION)
    refused(case, RuleBroken, lambda: conclusion_proposed()(case))  # needs findings now
    for step in (finding_recorded, conclusion_proposed(), conclusion_approved):
        step(case)
    assert names(case.collect_events())[-1] == "ConclusionApproved"
    assert case.proven


def test_a_parked_case_is_reviewed_then_reactivated_by_new_evidence() -> None:
    case = open_case()

    happened = story(
        case,
        *PARKED,
        lambda case: case.review_parked(dt.date(2026, 9, 1), DUE, HANDLER, "暂无新线索"),
        lambda case: case.reactivate("审计发现新问题", dt.date(2026, 10, 8), LEADER),
        *UNDER_VERIFICATION[1:],
        finding_recorded,
    )

    assert happened[3:7] == [
        "DispositionApproved",
        "ParkedCaseReviewed",
        "Reactivated",
        "DispositionProposed",
    ]
    assert case.state is S.VERIFICATION
    assert case.deadlines["parked_review"]["met_on"] == dt.date(2026, 10, 8)
    assert case.unmet_deadlines() == []


def test_real_name_feedback_objection_answer_and_reopening() -> None:
    case = open_case(real_name=True)

    happened = story(
        case,
        *path_closed(Verdict.UNPROVEN),
        feedback_given,
        objection_recorded,
        lambda case: case.answer_objection(dt.date(2026, 4, 3), "将复查", LEADER),
        lambda case: case.reopen("举报人提供转账记录", dt.date(2026, 4, 3), LEADER),
        *UNDER_VERIFICATION[1:],
        finding_recorded,
        conclusion_proposed(Verdict.TRUE),
        conclusion_approved,
        handling_decided(HandlingType.DEMOTION),
    )

    assert happened[7:13] == [
        "Closed",
        "FeedbackGiven",
        "ObjectionRecorded",
        "ObjectionAnswered",
        "Reopened",
        "DispositionProposed",
    ]
    assert case.reopenings == 1
    assert case.open_objections == 0
    assert case.conclusion is not None
    assert case.conclusion["overall"] is Verdict.TRUE
    assert case.state is S.CONCLUDED


def test_a_case_transferred_to_discipline_inspection_is_finished_here() -> None:
    case = open_case(real_name=True)

    happened = story(case, *TRANSFERRED, feedback_given)

    assert happened[-2:] == ["DispositionApproved", "FeedbackGiven"]
    assert case.state is S.TRANSFERRED
    assert case.closed_on is not None
    refused(case, TransitionNotAllowed, lambda: conclusion_proposed()(case))


def test_a_pre_appointment_hold_is_decided_while_the_case_goes_on() -> None:
    case = open_case()

    story(case, publicity_held, *UNDER_VERIFICATION)
    assert case.publicity_hold == {"cadre": SUBJECT, "proposed_post": "某县财政局党组书记"}
    events = when(
        case,
        lambda: case.decide_publicity(
            PublicityDecision.APPOINT_WITH_REMINDER, TODAY, 6, None, LEADER, "问题轻微"
        ),
    )

    assert events[0].defer_until is None  # only a deferral has an end
    assert case.publicity_hold is None


# -- through the application: reasons, the linked false-accusation case, the stored chain ---


@pytest.fixture
def app(tmp_path: Path) -> Iterator[CaseworkApplication]:
    application = CaseworkApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "c.sqlite"),
        },
        today=lambda: TODAY,
    )
    yield application
    application.close()


def saved(app: CaseworkApplication, *steps: Step, real_name: bool = False) -> UUID:
    case = build(*steps, real_name=real_name)
    app.save(case)
    return case.id


WHY = "依据第十二条"
CADRE_REF = c.CadreRef(cadre_id="C-001")
REQUESTS: dict[str, tuple[tuple[Step, ...], c.Command, Actor]] = {
    "assign": ((), c.Assign(handler_id="handler-1", reason=WHY), LEADER),
    "propose_disposition": (
        (assigned,),
        c.ProposeDisposition(disposition=Disposition.PARK, reason=WHY),
        HANDLER,
    ),
    "approve_disposition": (
        STATE_PATHS[S.DISPOSITION_PROPOSED],
        c.ApproveDisposition(collective_study=c.CollectiveStudy(**STUDY), reason=WHY),
        LEADER,
    ),
    "return_disposition": (
        STATE_PATHS[S.DISPOSITION_PROPOSED],
        c.ReturnWithReason(reason=WHY),
        LEADER,
    ),
    "send_inquiry_letter": (UNDER_INQUIRY, c.SendInquiryLetter(reason=WHY), HANDLER),
    "record_inquiry_reply": (
        (*UNDER_INQUIRY, letter_sent),
        c.RecordInquiryReply(document_ref="HF-1", reason=WHY),
        HANDLER,
    ),
    "evaluate_inquiry_reply": (
        (*UNDER_INQUIRY, letter_sent, reply_received),
        c.EvaluateInquiryReply(outcome=InquiryOutcome.REMINDED, reason=WHY),
        HANDLER,
    ),
    "record_finding": (
        UNDER_VERIFICATION,
        c.RecordFinding(kind="interview", summary="谈话", reason=WHY),
        HANDLER,
    ),
    "review_parked": (PARKED, c.ReviewParked(reason=WHY), HANDLER),
    "reactivate": (PARKED, c.NewEvidence(new_evidence="新线索", reason=WHY), HANDLER),
    "propose_conclusion": (
        (*UNDER_VERIFICATION, finding_recorded),
        c.ProposeConclusion(verdicts=dict.fromkeys(CATEGORIES, Verdict.TRUE), reason=WHY),
        HANDLER,
    ),
    "approve_conclusion": (STATE_PATHS[S.CONCLUSION_PROPOSED], c.Approve(reason=WHY), LEADER),
    "return_conclusion": (
        STATE_PATHS[S.CONCLUSION_PROPOSED],
        c.ReturnWithReason(reason=WHY),
        LEADER,
    ),
    "decide_handling": (
        path_concluded(),
        c.DecideHandling(cadre=CADRE_REF, handling=HandlingType.ADMONITION, reason=WHY),
        LEADER,
    ),
    "record_admonition_follow_up": (
        (*path_concluded(), handling_decided(HandlingType.ADMONITION)),
        c.AdmonitionFollowUp(handling_id=1, outcome=AdmonitionOutcome.IMPROVED, reason=WHY),
        HANDLER,
    ),
    "propose_clearing": (
        path_concluded(Verdict.UNTRUE),
        c.ProposeClearing(cadre=CADRE_REF, reason=WHY),
        HANDLER,
    ),
    "apply_for_clearing": (
        path_concluded(Verdict.UNTRUE),
        c.ProposeClearing(cadre=CADRE_REF, reason=WHY),
        OPERATOR,
    ),
    "approve_clearing": (
        (*path_concluded(Verdict.UNTRUE), clearing_proposed),
        c.Approve(reason=WHY),
        LEADER,
    ),
    "carry_out_clearing": (
        (*path_concluded(Verdict.UNTRUE), clearing_proposed, clearing_approved),
        c.CarryOutClearing(method="letter", scope="本人", reason=WHY),
        HANDLER,
    ),
    "suspect_false_accusation": (
        path_concluded(Verdict.UNTRUE),
        c.SuspectFalseAccusation(
            accuser=c.Accuser(name="钱某", unit="某县某公司"),
            accuser_status=AccuserStatus.OTHER,
            reason=WHY,
        ),
        HANDLER,
    ),
    "refer_subject": (
        path_concluded(),
        c.ReferSubject(organ="公安机关", reason=WHY),
        LEADER,
    ),
    "close": (path_concluded(), c.Close(reason=WHY), LEADER),
    "give_feedback": (
        path_closed(),
        c.GiveFeedback(method="phone", text="已办结", reason=WHY),
        HANDLER,
    ),
    "record_objection": ((*path_closed(), feedback_given), c.RecordObjection(reason=WHY), OPERATOR),
    "answer_objection": (
        (*path_closed(), feedback_given, objection_recorded),
        c.AnswerObjection(text="维持", reason=WHY),
        LEADER,
    ),
    "reopen": (path_closed(), c.NewEvidence(new_evidence="新证据", reason=WHY), LEADER),
    "hold_for_publicity": (
        (assigned,),
        c.HoldForPublicity(
            cadre=CADRE_REF, proposed_post="局长", publicity_ends_on=TODAY, reason=WHY
        ),
        OPERATOR,
    ),
    "decide_publicity": (
        (publicity_held,),
        c.DecidePublicity(decision=PublicityDecision.DEFER, defer_months=2, reason=WHY),
        LEADER,
    ),
    "record_discipline_result": (
        TRANSFERRED,
        c.RecordDisciplineResult(
            outcomes=[c.CadreOutcome(cadre=CADRE_REF, verdict=Verdict.TRUE)],
            document_number="纪〔2026〕1号",
            reason=WHY,
        ),
        HANDLER,
    ),
    "issue_document": (
        (*UNDER_INQUIRY, letter_sent),
        c.IssueDocument(kind=DocumentKind.INQUIRY_NOTICE, about="inquiry", reason=WHY),
        HANDLER,
    ),
}


@pytest.mark.parametrize("action", sorted(COMMANDS))
def test_every_request_records_who_took_the_step_and_why(
    app: CaseworkApplication, action: str
) -> None:
    steps, command, actor = REQUESTS[action]
    case_id = saved(app, *steps, real_name=True)
    version = app.get_case(case_id).version

    case = app.execute(case_id, action, command, actor)

    *_, event = app.events.get(case_id)
    assert event.originator_version == case.version == version + 1
    assert event.actor == actor
    assert event.reason == WHY


def test_a_refused_request_stores_nothing(app: CaseworkApplication) -> None:
    case_id = saved(app, *UNDER_VERIFICATION)
    stored = app.recorder.max_notification_id()

    with pytest.raises(RuleBroken):
        app.execute(
            case_id,
            "propose_conclusion",
            c.ProposeConclusion(verdicts={Category.SEEKING_OFFICE: Verdict.TRUE}, reason="x"),
            HANDLER,
        )

    assert app.recorder.max_notification_id() == stored
    assert app.get_case(case_id).state is S.VERIFICATION


def test_a_real_name_case_closed_by_disposition_owes_the_reporter_feedback(
    app: CaseworkApplication,
) -> None:
    # domain.md: closed → real-name reporter: feedback due 15 working days after closure.
    # 予以了结 closes the case as surely as 结案 does.
    case_id = saved(app, assigned, proposed(Disposition.CLOSE), real_name=True)

    case = app.execute(
        case_id,
        "approve_disposition",
        c.ApproveDisposition(collective_study=c.CollectiveStudy(**STUDY)),
        LEADER,
    )

    assert case.state is S.CLOSED
    due = app.due_in_working_days(TODAY, app.limits.feedback_after_closure)["due"]
    assert "feedback" in case.deadlines, "no feedback deadline after 予以了结"
    assert case.deadlines["feedback"]["due"] == due
    assert case.deadlines["feedback"]["met_on"] is None


def run(app: CaseworkApplication, case_id: UUID, *requests: tuple[str, c.Command, Actor]) -> Case:
    case = app.get_case(case_id)
    for action, command, actor in requests:
        case = app.execute(case_id, action, command, actor)
    return case


def verification_requests(*verdicts: Verdict) -> list[tuple[str, c.Command, Actor]]:
    study = c.CollectiveStudy(**STUDY)
    return [
        ("assign", c.Assign(handler_id="handler-1"), LEADER),
        (
            "propose_disposition",
            c.ProposeDisposition(disposition=Disposition.PRELIMINARY_VERIFICATION, reason="核实"),
            HANDLER,
        ),
        ("approve_disposition", c.ApproveDisposition(collective_study=study), LEADER),
        ("record_finding", c.RecordFinding(kind="audit", summary="审计报告"), HANDLER),
        (
            "propose_conclusion",
            c.ProposeConclusion(
                verdicts=dict(zip(CATEGORIES, verdicts, strict=True)), reason="核实结论"
            ),
            HANDLER,
        ),
        ("approve_conclusion", c.Approve(), LEADER),
    ]


def test_a_false_accusation_opens_a_linked_case_routed_by_the_accuser(
    app: CaseworkApplication,
) -> None:
    case_id = saved(app)
    run(app, case_id, *verification_requests(Verdict.UNTRUE, Verdict.UNTRUE))

    case = run(
        app,
        case_id,
        (
            "suspect_false_accusation",
            c.SuspectFalseAccusation(
                accuser=c.Accuser(name="钱某某", unit="某县某局", position="科员"),
                accuser_status=AccuserStatus.PUBLIC_OFFICIAL,
                reason="举报人捏造转账记录",
            ),
            LEADER,
        ),
    )

    linked_id = false_accusation_case_id(case_id, SUBJECT)
    assert case.false_accusation_case_id == linked_id
    linked = app.get_case(linked_id)
    assert linked.kind is CaseKind.FALSE_ACCUSATION
    assert linked.linked_case_id == case_id
    assert linked.state is S.OPEN
    assert linked.routing == {
        "accuser_status": "public_official",
        "routed_to": FALSE_ACCUSATION_ROUTES[AccuserStatus.PUBLIC_OFFICIAL],
        "falsely_accused": SUBJECT["name"],
    }
    # The accuser, as staff entered them, is the one subject of the linked case.
    assert linked.subjects == [{"name": "钱某某", "unit": "某县某局", "position": "科员"}]
    assert verify_log(app) == (2, [])
    with pytest.raises(RuleBroken) as twice:
        app.execute(
            case_id,
            "suspect_false_accusation",
            c.SuspectFalseAccusation(
                accuser=c.Accuser(name="钱某某"), accuser_status=AccuserStatus.OTHER, reason="再次"
            ),
            HANDLER,
        )
    assert twice.value.rule is rules.FALSE_ACCUSATION_ONCE
    # The linked case is a case like any other: it is assigned and handled.
    run(app, linked_id, ("assign", c.Assign(handler_id="handler-3"), LEADER))
    assert app.get_case(linked_id).state is S.ASSIGNED


# -- the hash chain over stored events ---------------------------------------------------------


def long_case(app: CaseworkApplication) -> tuple[UUID, list[Any]]:
    case_id = saved(app, publicity_held, real_name=True)
    run(
        app,
        case_id,
        *verification_requests(Verdict.TRUE, Verdict.UNPROVEN),
        (
            "decide_handling",
            c.DecideHandling(cadre=CADRE_REF, handling=HandlingType.ADMONITION, reason="诫勉"),
            LEADER,
        ),
        (
            "decide_publicity",
            c.DecidePublicity(decision=PublicityDecision.DO_NOT_APPOINT, reason="诫勉期内"),
            LEADER,
        ),
        ("close", c.Close(explanations={"admonition_follow_up#1": "诫勉期未满"}), LEADER),
        ("give_feedback", c.GiveFeedback(method="phone", text="已处理"), HANDLER),
        ("record_objection", c.RecordObjection(reason="处理太轻"), OPERATOR),
        ("answer_objection", c.AnswerObjection(text="维持"), LEADER),
        (
            "record_admonition_follow_up",
            c.AdmonitionFollowUp(handling_id=1, outcome=AdmonitionOutcome.IMPROVED),
            HANDLER,
        ),
        ("reopen", c.NewEvidence(new_evidence="新的转账记录"), LEADER),
    )
    events = list(app.events.get(case_id))
    assert len(events) == 16
    return case_id, events


def test_the_stored_chain_of_a_long_case_verifies(app: CaseworkApplication) -> None:
    case_id, events = long_case(app)

    assert verify_chain(case_id, events) is None
    assert verify_log(app) == (1, [])
    assert app.get_case(case_id).chain_head == events[-1].chain


def test_an_altered_field_breaks_the_chain_at_that_event(app: CaseworkApplication) -> None:
    case_id, events = long_case(app)
    altered = list(events)
    altered[7] = dataclasses.replace(events[7], reason="改过的理由")  # version 8

    broken = verify_chain(case_id, altered)

    assert broken is not None
    assert (broken.version, broken.topic) == (8, "jiandu.casework:Case.ConclusionApproved")
    assert "altered" in broken.reason
    assert verify_chain(case_id, events) is None  # the stored events themselves are intact


def test_an_altered_nested_value_breaks_the_chain(app: CaseworkApplication) -> None:
    case_id, events = long_case(app)
    altered = list(events)
    decision = copy.deepcopy(events[8])  # version 9: HandlingDecided
    object.__setattr__(decision, "effects", {**decision.effects, "bars_promotion_months": 0})
    altered[8] = decision

    broken = verify_chain(case_id, altered)

    assert broken is not None
    assert (broken.version, broken.topic) == (9, "jiandu.casework:Case.HandlingDecided")


def test_an_altered_actor_or_time_breaks_the_chain(app: CaseworkApplication) -> None:
    case_id, events = long_case(app)
    for index, change in [
        (3, {"actor": {"id": "leader-2", "role": "leader"}}),
        (12, {"timestamp": events[12].timestamp + dt.timedelta(days=1)}),
        (0, {"summary": "换了内容"}),
    ]:
        altered = list(events)
        altered[index] = dataclasses.replace(events[index], **change)

        broken = verify_chain(case_id, altered)

        assert broken is not None
        assert broken.version == index + 1


def test_a_missing_or_reordered_event_breaks_the_chain(app: CaseworkApplication) -> None:
    case_id, events = long_case(app)

    missing = verify_chain(case_id, events[:4] + events[5:])
    swapped = verify_chain(case_id, [*events[:4], events[5], events[4], *events[6:]])
    elsewhere = verify_chain(uuid4(), events)

    assert missing is not None
    assert (missing.version, missing.reason) == (5, "event 5 is missing")
    assert swapped is not None
    assert swapped.version == 5
    assert elsewhere is not None
    assert elsewhere.version == 1
