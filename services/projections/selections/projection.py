"""The selections (选拔任用工作): where each selection stands and its candidates.

- ``selection_list``: one row per selection: its unit and posts, its stage (from
  ``services/common/selection_stages.py``, the table the Selection reads too), the day it
  was proposed, its last step of the procedure and that step's day, the step expected next,
  the period it waits on (the inspection announcement's or the publicity's, and its last
  day) and the aggregate's version;
- ``selection_candidates``: one row per candidate of the democratic recommendation: who
  (``cadre_id`` when in the register), the recommendation's votes, where they stand
  (``CandidateStatus``: voided once their appointment is declared void), the decision's votes, the latest integrity opinion, the post
  appointed to;
- ``selection_holds``: one row per report that held a candidate, open until released, with
  the case its report opened when the hold was the case's own (an automatic hold).

Each event writes only the columns it knows, keyed by the selection (and candidate, and
report): what is computed from several rows (how many candidates, how many held, whether a
candidate is held) is counted by the queries, so no event reads what an earlier one wrote
and a replay in log order rebuilds the same rows (decision 0010). Circumstances, findings
and the people responsible stay on the record (the aggregate, the timeline).
"""

from __future__ import annotations

from typing import Any

from schemas.events import (
    AppointmentRecordedV1,
    AppointmentVoidedV1,
    CandidateHeldV1,
    CandidateReleasedV1,
    DecisionRecordedV1,
    EventEnvelope,
    InspectionAnnouncedV1,
    IntegrityOpinionRecordedV1,
    PublicityStartedV1,
    RecommendationRecordedV1,
    SelectionProposedV1,
    SelectionStep,
)
from schemas.glossary import CandidateStatus, SelectionStage, SelectionWait
from services.common.selection_stages import is_selection_event, stage_after
from services.projections.rows import Upsert, as_json, payload_of, text

St = SelectionStage

name = "selections"
version = 1
tables: tuple[str, ...] = ("selection_list", "selection_candidates", "selection_holds")
ddl: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS selection_list (
        selection_id TEXT PRIMARY KEY,
        unit TEXT,
        posts TEXT,
        stage TEXT,
        proposed_on TEXT,
        last_step TEXT,
        last_step_on TEXT,
        next_step TEXT,
        waits_on TEXT,
        waits_until TEXT,
        version INTEGER NOT NULL,
        last_step_at TEXT
    )""",
    # The list's order, and its filters (a stage, a unit).
    "CREATE INDEX IF NOT EXISTS selection_list_recent "
    "ON selection_list (last_step_at DESC, selection_id)",
    "CREATE INDEX IF NOT EXISTS selection_list_stage ON selection_list (stage)",
    "CREATE INDEX IF NOT EXISTS selection_list_unit ON selection_list (unit)",
    """CREATE TABLE IF NOT EXISTS selection_candidates (
        selection_id TEXT NOT NULL,
        candidate_id TEXT NOT NULL,
        cadre_id TEXT,
        name TEXT,
        unit TEXT,
        position TEXT,
        votes INTEGER,
        status TEXT,
        decision_agree INTEGER,
        decision_disagree INTEGER,
        decision_defer INTEGER,
        integrity_clean INTEGER,
        integrity_given_by TEXT,
        integrity_received_on TEXT,
        integrity_reference TEXT,
        appointed_post TEXT,
        appointed_on TEXT,
        PRIMARY KEY (selection_id, candidate_id)
    )""",
    # The selections naming a cadre (the archive, holds).
    "CREATE INDEX IF NOT EXISTS selection_candidates_cadre ON selection_candidates (cadre_id)",
    """CREATE TABLE IF NOT EXISTS selection_holds (
        selection_id TEXT NOT NULL,
        candidate_id TEXT NOT NULL,
        report_id TEXT NOT NULL,
        open INTEGER NOT NULL,
        held_on TEXT,
        released_on TEXT,
        case_id TEXT,
        PRIMARY KEY (selection_id, candidate_id, report_id)
    )""",
)

# The step of the procedure a selection at each stage expects next (its command's name, as
# ``SELECTION_COMMANDS`` has it); none once appointed (later appointments of candidates held
# during the publicity may still come), withdrawn or voided.
NEXT_STEP: dict[SelectionStage, str | None] = {
    St.PROPOSED: "record_recommendation",
    St.RECOMMENDED: "announce_inspection",
    St.INSPECTION_ANNOUNCED: "record_inspection",
    St.INSPECTED: "record_deliberation",
    St.DELIBERATED: "record_decision",
    St.DECIDED: "start_publicity",
    St.PUBLICIZED: "record_appointment",
    St.APPOINTED: None,
    St.WITHDRAWN: None,
    St.VOIDED: None,
}
# The period a selection waits on: the inspection announcement's, set by the announcement
# and kept through the inspection and the deliberation (holds may come until its last day);
# the publicity's, set by the publicity; none after the decision, the appointment or the
# withdrawal.
NO_WAIT = {"waits_on": None, "waits_until": None}


def project(envelope: EventEnvelope) -> list[Upsert]:
    if not is_selection_event(envelope.event_type):
        return []  # reports and cases have read models of their own
    payload = payload_of(envelope)
    assert isinstance(payload, SelectionStep)  # every selection event is a step of its record
    selection_id = text(envelope.aggregate_id)
    values: dict[str, Any] = {
        "version": envelope.aggregate_version,
        "last_step_at": envelope.occurred_at.isoformat(),
    }
    stage = stage_after(envelope.event_type, payload)
    if stage is not None:  # a step of the procedure (not a record beside the steps)
        values |= {
            "stage": stage.value,
            "last_step": envelope.event_type,
            "last_step_on": payload.on.isoformat(),
            "next_step": NEXT_STEP[stage],
        }
        if stage in (St.DECIDED, St.APPOINTED, St.WITHDRAWN, St.VOIDED):
            values |= NO_WAIT
    rows = _rows_of(selection_id, payload, values)
    rows.append(Upsert("selection_list", {"selection_id": selection_id}, values))
    return rows


def _rows_of(selection_id: str, payload: SelectionStep, values: dict[str, Any]) -> list[Upsert]:
    """The candidates' and holds' rows of one event; the list's columns it knows go into
    ``values``."""
    rows: list[Upsert] = []
    match payload:
        case SelectionProposedV1():
            values |= {
                "unit": payload.unit,
                "posts": as_json(list(payload.posts)),
                "proposed_on": payload.on.isoformat(),
            }
        case RecommendationRecordedV1():
            rows += [
                _candidate(
                    selection_id,
                    c.candidate_id,
                    cadre_id=c.cadre_id,
                    name=c.name,
                    unit=c.unit,
                    position=c.position,
                    votes=c.votes,
                    status=CandidateStatus.RECOMMENDED.value,
                )
                for c in payload.candidates
            ]
        case InspectionAnnouncedV1():
            values |= {
                "waits_on": SelectionWait.INSPECTION_ANNOUNCEMENT.value,
                "waits_until": payload.ends_on.isoformat(),
            }
            rows += [
                _candidate(selection_id, s, status=CandidateStatus.INSPECTION_SUBJECT.value)
                for s in payload.subjects
            ]
        case IntegrityOpinionRecordedV1():
            rows += [
                _candidate(
                    selection_id,
                    o.candidate_id,
                    integrity_clean=int(o.clean),
                    integrity_given_by=o.given_by,
                    integrity_received_on=o.received_on.isoformat(),
                    integrity_reference=o.reference,
                )
                for o in payload.opinions
            ]
        case DecisionRecordedV1():
            rows += [
                _candidate(
                    selection_id,
                    v.candidate_id,
                    status=(
                        CandidateStatus.APPROVED if v.approved else CandidateStatus.NOT_APPROVED
                    ).value,
                    decision_agree=v.agree,
                    decision_disagree=v.disagree,
                    decision_defer=v.defer,
                )
                for v in payload.votes
            ]
        case PublicityStartedV1():
            values |= {
                "waits_on": SelectionWait.PUBLICITY.value,
                "waits_until": payload.ends_on.isoformat(),
            }
        case AppointmentRecordedV1():
            rows += [
                _candidate(
                    selection_id,
                    a.candidate_id,
                    status=CandidateStatus.APPOINTED.value,
                    appointed_post=a.post,
                    appointed_on=payload.on.isoformat(),
                )
                for a in payload.appointments
            ]
        case AppointmentVoidedV1():
            rows += [
                _candidate(selection_id, c.candidate_id, status=CandidateStatus.VOIDED.value)
                for c in payload.candidates
            ]
        case CandidateHeldV1():
            rows.append(
                _hold(
                    payload,
                    selection_id,
                    {
                        "open": 1,
                        "held_on": payload.on.isoformat(),
                        "released_on": None,
                        "case_id": text(payload.case_id) if payload.case_id else None,
                    },
                )
            )
        case CandidateReleasedV1():
            rows.append(
                _hold(payload, selection_id, {"open": 0, "released_on": payload.on.isoformat()})
            )
    return rows


def _candidate(selection_id: str, candidate_id: str, **values: Any) -> Upsert:
    return Upsert(
        "selection_candidates", {"selection_id": selection_id, "candidate_id": candidate_id}, values
    )


def _hold(
    payload: CandidateHeldV1 | CandidateReleasedV1, selection_id: str, values: dict[str, Any]
) -> Upsert:
    return Upsert(
        "selection_holds",
        {
            "selection_id": selection_id,
            "candidate_id": payload.candidate_id,
            "report_id": text(payload.report_id),
        },
        values,
    )
