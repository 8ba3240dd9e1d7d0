"""A report received during a selection's notice holds its candidate (issue 14, item 2): casework,
opening (or joining) the report's case, holds the candidate on the selection in the same
transaction, once; a notice recorded after the report holds them as it is recorded; a notice
and an opening at the same moment conflict and the loser is worked out again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from schemas import commands as c
from schemas import selection_commands as s
from schemas.events import EventEnvelope
from schemas.glossary import CaseState, Disposition, Role
from services.bootstrap import EmbeddedSystem
from services.casework.api import case_view
from services.casework.application import CaseworkApplication, ConcurrentChange
from services.casework.opening import CaseOpening
from services.casework.selection import Selection
from services.casework.selection.candidacies import Candidacies, candidacies_id
from services.casework.selection_api import selection_view
from services.casework.selections import SELECTION_COMMANDS, SelectionCommands
from services.common.eventstore import eventstore_env
from services.common.procedure import RuleBroken
from services.common.settings import Settings
from services.intake.domain import case_id_for_report
from tests.support.auth import bearer
from tests.unit.conftest import all_envelopes, build_embedded, envelope, make_settings
from tests.unit.test_selection_api import PROPOSAL, SELECTIONS, STEPS

D = dt.date
TODAY = D(2026, 4, 20)
CLERK = {"id": "clerk-1", "role": "selection_clerk"}
LEADER = {"id": "leader-1", "role": "leader"}
HANDLER = {"id": "handler-1", "role": "handler"}
SYSTEM = {"id": "intake-policy", "role": "system"}
# Candidate a is cadre C-001 (an inspection subject); c, cadre C-003, is recommended but not
# a subject; b is not in the register.
C_A, C_C = "C-001", "C-003"
PATH = list(STEPS)


def steps() -> dict[str, dict[str, Any]]:
    out = {action: dict(body) for action, body in STEPS.items()}
    candidates = [dict(c) for c in out["record_recommendation"]["candidates"]]
    candidates[2]["cadre_id"] = C_C
    out["record_recommendation"]["candidates"] = candidates
    return out


def build(settings: Settings) -> CaseworkApplication:
    return CaseworkApplication(eventstore_env(settings, "casework"), today=lambda: TODAY)


@pytest.fixture
def casework(settings: Settings) -> Iterator[CaseworkApplication]:
    app = build(settings)
    yield app
    app.close()


def run(app: CaseworkApplication, selection_id: UUID, action: str, **change: Any) -> Selection:
    body = steps().get(action, {}) | change
    model = SELECTION_COMMANDS[action][0]
    actor = HANDLER if action in ("hold_candidate", "release_candidate") else CLERK
    return app.execute_selection(selection_id, action, model.model_validate(body), actor)


def selection_up_to(app: CaseworkApplication, last: str | None) -> UUID:
    """A selection taken through the steps before ``last`` (all of them: None)."""
    selection_id = app.propose_selection(s.ProposeSelection.model_validate(PROPOSAL), CLERK)
    for action in PATH[: PATH.index(last)] if last else PATH:
        run(app, selection_id, action)
    return selection_id


def accepted(
    received_on: D,
    *cadre_ids: str | None,
    report_id: UUID | None = None,
    position: int = 3,
    case_id: UUID | None = None,
) -> EventEnvelope:
    """Intake accepted a report received on ``received_on`` about cadres ``cadre_ids``."""
    report_id = report_id or uuid4()
    return envelope(
        "ReportAccepted",
        {
            "case_id": str(case_id or case_id_for_report(report_id)),
            "ledger_number": f"JB-2026-{position:06d}",
            "channel": "hotline",
            "categories": ["seeking_office"],
            "subjects": [
                {"name": f"某{i}", "unit": "某县财政局", "cadre_id": cadre_id}
                for i, cadre_id in enumerate(cadre_ids or (None,))
            ],
            "summary": "反映其跑官要官。",
            "received_on": received_on.isoformat(),
            "reporter": {"ref": f"ref-{report_id}", "anonymous": True, "verified": False},
            "joins_case": case_id is not None,
            "actor": SYSTEM,
            "reason": "in the 12380 scope",
            "accepted_on": received_on.isoformat(),
        },
        position=position,
        aggregate_id=report_id,
        aggregate_version=3,
    )


def held_events(app: CaseworkApplication) -> list[EventEnvelope]:
    return [e for e in all_envelopes(app) if e.event_type == "CandidateHeld"]


# -- a report during the inspection announcement (9 to 13 March) ----------------------------------


def test_a_report_during_the_announcement_holds_its_candidate_naming_report_and_case(
    casework: CaseworkApplication,
) -> None:
    selection_id = selection_up_to(casework, "record_inspection")
    report = accepted(D(2026, 3, 11), C_A)

    assert casework.handle(report, upstream="intake") is True

    selection = casework.get_selection(selection_id)
    case_id = case_id_for_report(report.aggregate_id)
    assert selection.holds == {"a": [report.aggregate_id]}
    assert selection.held_by == {"a": {report.aggregate_id: case_id}}
    (held,) = held_events(casework)
    assert held.aggregate_id == selection_id
    assert held.payload["actor"]["role"] == "system"
    assert held.payload["on"] == "2026-03-11"  # the day the report was received
    assert held.payload["case_id"] == str(case_id)
    assert held.payload["report_id"] == str(report.aggregate_id)
    # The case and the hold were stored together (one notification run, the case first).
    types = [e.event_type for e in all_envelopes(casework)]
    assert types[-2:] == ["CaseOpened", "CandidateHeld"]
    candidacies: Candidacies = casework.repository.get(candidacies_id(C_A))
    assert isinstance(candidacies, Candidacies)
    assert candidacies.selections == {selection_id: "a"}
    assert report.aggregate_id in candidacies.reports


@pytest.mark.parametrize("received_on", [D(2026, 3, 8), D(2026, 3, 14)])
def test_a_report_received_outside_the_announcement_holds_nothing(
    casework: CaseworkApplication, received_on: D
) -> None:
    selection_id = selection_up_to(casework, "record_inspection")

    casework.handle(accepted(received_on, C_A), upstream="intake")

    assert casework.get_selection(selection_id).holds == {}
    assert held_events(casework) == []
    assert [e.event_type for e in all_envelopes(casework)][-1] == "CaseOpened"


@pytest.mark.parametrize("cadre_id", [C_C, "C-999", None])
def test_a_report_about_someone_not_announced_holds_nothing(
    casework: CaseworkApplication, cadre_id: str | None
) -> None:
    # C-003 was recommended but not made an inspection subject; C-999 is no candidate;
    # a subject the intake did not match to the register has no cadre id.
    selection_id = selection_up_to(casework, "record_inspection")

    casework.handle(accepted(D(2026, 3, 11), cadre_id), upstream="intake")

    assert casework.get_selection(selection_id).holds == {}
    assert held_events(casework) == []


def test_a_redelivered_acceptance_holds_once(casework: CaseworkApplication) -> None:
    selection_id = selection_up_to(casework, "record_inspection")
    report = accepted(D(2026, 3, 11), C_A, position=5)
    casework.handle(report, upstream="intake#p0")

    assert casework.handle(report, upstream="intake#p0") is False
    # Under another tracking name (the partition reassigned), the tracking does not know it.
    assert casework.handle(report, upstream="intake#p1") is True

    assert casework.get_selection(selection_id).holds == {"a": [report.aggregate_id]}
    assert len(held_events(casework)) == 1


def test_a_report_joining_a_case_holds_the_candidate_naming_that_case(
    casework: CaseworkApplication,
) -> None:
    first = accepted(D(2026, 3, 2), "C-777", position=3)  # before the selection: no hold
    casework.handle(first, upstream="intake")
    case_id = case_id_for_report(first.aggregate_id)
    selection_id = selection_up_to(casework, "record_inspection")

    joined = accepted(D(2026, 3, 12), C_A, position=4, case_id=case_id)
    casework.handle(joined, upstream="intake")

    selection = casework.get_selection(selection_id)
    assert selection.held_by == {"a": {joined.aggregate_id: case_id}}
    assert casework.get_case(case_id).report_ids == [first.aggregate_id, joined.aggregate_id]


def test_one_report_about_two_candidates_holds_both_in_one_batch(
    casework: CaseworkApplication,
) -> None:
    selection_id = selection_up_to(casework, "record_recommendation")
    candidates = [dict(c) for c in steps()["record_recommendation"]["candidates"]]
    candidates[1]["cadre_id"] = "C-002"
    run(casework, selection_id, "record_recommendation", candidates=candidates)
    run(casework, selection_id, "announce_inspection")
    one = accepted(D(2026, 3, 10), C_A, "C-002", position=3)
    other = accepted(D(2026, 3, 13), C_A, position=4)

    assert casework.handle_batch([one, other], upstream="intake") == 2

    assert casework.get_selection(selection_id).holds == {
        "a": [one.aggregate_id, other.aggregate_id],
        "b": [one.aggregate_id],
    }


# -- a report during the publicity ----------------------------------------------------------------


def test_a_report_during_the_publicity_holds_a_publicized_candidate(
    casework: CaseworkApplication,
) -> None:
    selection_id = selection_up_to(casework, "record_appointment")
    report = accepted(D(2026, 4, 7), C_A)  # within 2 to 9 April

    casework.handle(report, upstream="intake")

    assert casework.get_selection(selection_id).holds == {"a": [report.aggregate_id]}
    with pytest.raises(RuleBroken) as refused:
        run(casework, selection_id, "record_appointment")
    assert refused.value.rule.name == "candidate_held"
    # b, not held, is appointed; a waits for the release.
    run(
        casework,
        selection_id,
        "record_appointment",
        appointments=[{"candidate_id": "b", "post": "副局长"}],
    )


def test_a_report_after_the_appointment_holds_nothing(casework: CaseworkApplication) -> None:
    selection_id = selection_up_to(casework, None)

    casework.handle(accepted(D(2026, 4, 8), C_A), upstream="intake")

    assert casework.get_selection(selection_id).holds == {}


# -- a notice recorded after the report ---------------------------------------------------------


def test_an_announcement_recorded_after_the_report_holds_as_it_is_recorded(
    casework: CaseworkApplication,
) -> None:
    # The report came in on the 10th and its case opened before the clerk recorded the
    # announcement (of the 9th to the 13th) on the 11th.
    selection_id = selection_up_to(casework, "announce_inspection")
    report = accepted(D(2026, 3, 10), C_A)
    casework.handle(report, upstream="intake")
    assert held_events(casework) == []

    selection = run(casework, selection_id, "announce_inspection", on="2026-03-11")

    assert selection.held_by == {
        "a": {report.aggregate_id: case_id_for_report(report.aggregate_id)}
    }
    types = [e.event_type for e in all_envelopes(casework)]
    assert types[-2:] == ["InspectionAnnounced", "CandidateHeld"]


# -- at the same moment ----------------------------------------------------------------------------


def test_an_opening_that_meets_a_concurrent_announcement_is_worked_out_again(
    casework: CaseworkApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The opening read C-001's candidacies (none yet); before it saves, the announcement
    # is saved: the opening's save conflicts on the candidacies, and its batch is worked
    # out again, now seeing the announcement.
    selection_id = selection_up_to(casework, "announce_inspection")
    report = accepted(D(2026, 3, 10), C_A)
    record = CaseOpening._record
    saves: list[int] = []

    def announced_meanwhile(self: CaseOpening, processing: Any) -> Any:
        if processing.tracking is not None:  # the opening's save (a step's has no tracking)
            if not saves:
                run(casework, selection_id, "announce_inspection")
            saves.append(len(processing.events))
        return record(self, processing)

    monkeypatch.setattr(CaseOpening, "_record", announced_meanwhile)

    assert casework.handle(report, upstream="intake") is True

    assert len(saves) == 2  # refused once, then saved
    assert casework.get_selection(selection_id).holds == {"a": [report.aggregate_id]}
    types = [e.event_type for e in all_envelopes(casework)]
    assert types.count("CaseOpened") == 1
    assert types.count("CandidateHeld") == 1


def test_an_announcement_that_meets_a_concurrent_opening_is_refused_then_holds(
    casework: CaseworkApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    selection_id = selection_up_to(casework, "announce_inspection")
    report = accepted(D(2026, 3, 10), C_A)
    read = SelectionCommands.candidacies
    reads: list[str] = []

    def opened_meanwhile(self: SelectionCommands, cadre_id: str) -> Candidacies:
        found = read(self, cadre_id)
        if not reads:
            casework.handle(report, upstream="intake")
        reads.append(cadre_id)
        return found

    monkeypatch.setattr(SelectionCommands, "candidacies", opened_meanwhile)

    with pytest.raises(ConcurrentChange):
        run(casework, selection_id, "announce_inspection")
    assert casework.get_selection(selection_id).subjects == []  # nothing of it stored

    selection = run(casework, selection_id, "announce_inspection")  # the clerk tries again

    assert selection.holds == {"a": [report.aggregate_id]}
    assert len(held_events(casework)) == 1


# -- the hold blocks the decision until it is released ---------------------------------------------


def test_the_decision_is_refused_while_held_and_taken_after_release(
    casework: CaseworkApplication,
) -> None:
    selection_id = selection_up_to(casework, "record_inspection")
    report = accepted(D(2026, 3, 11), C_A)
    casework.handle(report, upstream="intake")
    for action in ("record_inspection", "record_integrity_opinion", "record_deliberation"):
        run(casework, selection_id, action)

    with pytest.raises(RuleBroken) as refused:
        run(casework, selection_id, "record_decision")
    assert refused.value.rule.name == "candidate_held"

    close_case(casework, case_id_for_report(report.aggregate_id))
    release(casework, selection_id, report)
    selection = run(casework, selection_id, "record_decision")
    assert selection.approved == ["a", "b"]


# -- the release: by hand, once the case is settled ----------------------------------------------


def close_case(app: CaseworkApplication, case_id: UUID) -> None:
    """The case closed (予以了结): assigned, the closing proposed and approved."""
    study = c.CollectiveStudy(held_on=D(2026, 3, 16), participants=["张部长", "刘科长"])
    for action, command, actor in (
        ("assign", c.Assign(handler_id="handler-1"), LEADER),
        (
            "propose_disposition",
            c.ProposeDisposition(disposition=Disposition.CLOSE, reason="了结"),
            HANDLER,
        ),
        ("approve_disposition", c.ApproveDisposition(collective_study=study), LEADER),
    ):
        app.execute(case_id, action, command, actor)
    assert app.get_case(case_id).state is CaseState.CLOSED


def release(app: CaseworkApplication, selection_id: UUID, report: EventEnvelope) -> Selection:
    return run(
        app,
        selection_id,
        "release_candidate",
        candidate_id="a",
        report_id=str(report.aggregate_id),
        on="2026-03-17",
        reason="经核查，反映问题不属实",
    )


def test_a_hold_from_a_case_is_released_by_hand_only_once_the_case_is_settled(
    casework: CaseworkApplication,
) -> None:
    selection_id = selection_up_to(casework, "record_inspection")
    report = accepted(D(2026, 3, 11), C_A)
    casework.handle(report, upstream="intake")
    case_id = case_id_for_report(report.aggregate_id)

    with pytest.raises(RuleBroken) as refused:
        release(casework, selection_id, report)
    assert refused.value.rule.name == "case_settled"
    assert casework.get_selection(selection_id).held("a")

    close_case(casework, case_id)  # settling the case releases nothing by itself
    assert casework.get_selection(selection_id).held("a")

    released = release(casework, selection_id, report)
    assert not released.held("a")
    assert released.hold_case("a", report.aggregate_id) == case_id  # the record keeps it


def test_a_hold_placed_by_hand_is_released_by_hand_as_before(
    casework: CaseworkApplication,
) -> None:
    selection_id = selection_up_to(casework, "record_inspection")
    report_id = uuid4()
    run(
        casework,
        selection_id,
        "hold_candidate",
        candidate_id="b",
        report_id=str(report_id),
        on="2026-03-12",
    )

    released = run(
        casework, selection_id, "release_candidate", candidate_id="b", report_id=str(report_id)
    )

    assert not released.held("b")


# -- the views --------------------------------------------------------------------------------------


def test_the_case_and_the_selection_show_each_other(casework: CaseworkApplication) -> None:
    selection_id = selection_up_to(casework, "record_inspection")
    report = accepted(D(2026, 3, 11), C_A)
    casework.handle(report, upstream="intake")
    case_id = case_id_for_report(report.aggregate_id)
    case = casework.get_case(case_id)

    (hold,) = case_view(case, casework, Role.HANDLER).selection_holds
    assert hold.selection_id == str(selection_id)
    assert (hold.candidate_id, hold.candidate_name, hold.held) == ("a", "王建国", True)
    assert hold.report_id == str(report.aggregate_id)
    assert hold.unit == "某县财政局"
    assert hold.stage == "inspection_announced"
    assert case_view(case, casework, Role.OPERATOR).selection_holds == []  # reads no selection

    selection = casework.get_selection(selection_id)
    (held,) = selection_view(selection, Role.LEADER).holds
    assert held.candidate_id == "a"
    assert [(r.report_id, r.case_id, r.automatic) for r in held.reports] == [
        (str(report.aggregate_id), str(case_id), True)
    ]
    (for_clerk,) = selection_view(selection, Role.SELECTION_CLERK).holds[0].reports
    assert (for_clerk.case_id, for_clerk.automatic) == (None, True)  # the clerk reads no case

    close_case(casework, case_id)
    release(casework, selection_id, report)
    (released,) = case_view(casework.get_case(case_id), casework, Role.LEADER).selection_holds
    assert released.held is False
    assert selection_view(casework.get_selection(selection_id), Role.LEADER).holds == []


# -- the case's own publicity hold ---------------------------------------------------------------


def test_a_case_does_not_hold_for_publicity_a_cadre_its_report_holds_on_a_selection(
    casework: CaseworkApplication,
) -> None:
    selection_id = selection_up_to(casework, "record_appointment")
    report = accepted(D(2026, 4, 7), C_A, "C-888")  # about a and someone on no selection
    casework.handle(report, upstream="intake")
    case_id = case_id_for_report(report.aggregate_id)
    casework.execute(case_id, "assign", c.Assign(handler_id="handler-1"), LEADER)

    def hold_for_publicity(cadre_id: str) -> None:
        command = c.HoldForPublicity(
            cadre=c.CadreRef(cadre_id=cadre_id),
            proposed_post="副局长",
            publicity_ends_on=D(2026, 4, 9),
        )
        casework.execute(case_id, "hold_for_publicity", command, HANDLER)

    with pytest.raises(RuleBroken) as refused:
        hold_for_publicity(C_A)
    assert refused.value.rule.name == "held_on_selection"
    assert casework.get_selection(selection_id).held("a")

    hold_for_publicity("C-888")  # an appointment not on a selection's record: as before
    assert casework.get_case(case_id).publicity_hold is not None


# -- the embedded system, over HTTP ----------------------------------------------------------------


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path), D(2026, 4, 8))  # during the publicity
    yield system
    system.stop()


def test_a_report_accepted_during_the_publicity_holds_the_candidate_over_http(
    system: EmbeddedSystem,
) -> None:
    clerk = bearer(system.accounts, "clerk-1", Role.SELECTION_CLERK)
    operator = bearer(system.accounts, "op-1", Role.OPERATOR)
    leader = bearer(system.accounts, "leader-1", Role.LEADER)
    with TestClient(system.web_app()) as client:
        selection_id = client.post(SELECTIONS, json=PROPOSAL, headers=clerk).json()["selection_id"]
        for action in PATH[: PATH.index("record_appointment")]:
            done = client.post(
                f"{SELECTIONS}/{selection_id}/{action}", json=STEPS[action], headers=clerk
            )
            assert done.status_code == 200, (action, done.text)
        body = {
            "channel": "hotline",
            "reporter": {"anonymous": True},
            "subjects": [{"name": "王建国", "unit": "某县财政局", "cadre_id": C_A}],
            "categories": ["seeking_office"],
            "summary": "反映王建国跑官要官。",
        }
        report_id = client.post("/api/v1/reports", json=body, headers=operator).json()["report_id"]
        accepted = client.post(f"/api/v1/reports/{report_id}/accept", json={}, headers=operator)
        assert accepted.status_code == 200, accepted.text
        case_id = accepted.json()["case_id"]

        system.catch_up()  # casework follows intake's log
        case = client.get(f"/api/v1/cases/{case_id}", headers=leader).json()
        selection = client.get(f"{SELECTIONS}/{selection_id}", headers=leader).json()
        for_clerk = client.get(f"{SELECTIONS}/{selection_id}", headers=clerk).json()
        client.cookies.set(
            "jiandu_session", system.accounts.start_session(system.accounts.principal("leader-1"))
        )
        page = client.get(f"/cases/{case_id}").text

    # The case's page links the selection and says the candidate is held.
    assert "本案件暂缓的选拔任用人选" in page
    assert f'href="/selections/{selection_id}"' in page
    assert "暂缓：待本案件办结并经领导解除" in page
    assert [(h["selection_id"], h["candidate_id"], h["held"]) for h in case["selection_holds"]] == [
        (selection_id, "a", True)
    ]
    assert selection["holds"] == [
        {
            "candidate_id": "a",
            "report_ids": [report_id],
            "reports": [{"report_id": report_id, "case_id": case_id, "automatic": True}],
        }
    ]
    assert for_clerk["holds"][0]["reports"][0]["case_id"] is None
