"""The case list and the work queues (案件列表、待办队列), and the feedback owed to reporters.

- ``case_list``: one row per case, where it stands (state via ``case_states``), who handles
  it, its disposition, conclusion, clearing and closure; ``case_list_reports``,
  ``case_list_categories`` and ``case_list_subjects`` hold what joined reports add, one row
  each, so no event needs to read what an earlier one wrote.
- ``report_queue``: one row per report, its triage status (unregistered, untriaged, ...),
  from intake's events.
- ``report_feedback``: the feedback texts given to a case's real-name reporters, for their
  follow-up by query code. Free text for the reporter: no other view copies it.

Every event writes only the columns it knows, keyed by its own aggregate, so the rows are
right whatever the order across aggregates; within one aggregate the log's order holds
(Kafka partitions are keyed by aggregate). Deadlines are not kept here: the timeline's
``case_deadlines`` table has them, and the queries read it. No reporter data: only the
real-name flag of each report.
"""

from __future__ import annotations

from typing import Any

from schemas.events import (
    AcceptanceNoticeSentV1,
    CaseOpenedV1,
    ClosedV1,
    ConclusionApprovedV1,
    DispositionApprovedV1,
    DispositionProposedV1,
    EventEnvelope,
    FalseAccusationSuspectedV1,
    FeedbackGivenV1,
    HandlerAssignedV1,
    InquiryReplyEvaluatedV1,
    NamedCadre,
    ReportAcceptedV1,
    ReportJoinedV1,
    ReportReceivedV1,
    ReportRegisteredV1,
    ReportTriagedV1,
)
from schemas.glossary import (
    CaseState,
    ClearingStage,
    Disposition,
    InquiryOutcome,
    ReportStatus,
)
from schemas.submissions import ReportedCadre
from services.common.case_states import state_after
from services.common.china_time import china_date
from services.common.project_stages import is_project_event
from services.common.selection_stages import is_selection_event
from services.projections.rows import Upsert, as_json, payload_of, text

name = "cases"
version = 2
tables: tuple[str, ...] = (
    "case_list",
    "case_list_reports",
    "case_list_categories",
    "case_list_subjects",
    "report_queue",
    "report_feedback",
)
ddl: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS case_list (
        case_id TEXT PRIMARY KEY,
        kind TEXT,
        ledger_number TEXT,
        channel TEXT,
        received_on TEXT,
        opened_at TEXT,
        linked_case_id TEXT,
        state TEXT,
        handler_id TEXT,
        proposed_disposition TEXT,
        disposition TEXT,
        conclusion TEXT,
        clearing_stage TEXT,
        publicity_pending INTEGER NOT NULL DEFAULT 0,
        closed_on TEXT,
        last_step_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS case_list_state ON case_list (state)",
    "CREATE INDEX IF NOT EXISTS case_list_handler ON case_list (handler_id)",
    """CREATE TABLE IF NOT EXISTS case_list_reports (
        case_id TEXT NOT NULL,
        report_id TEXT NOT NULL,
        ledger_number TEXT NOT NULL,
        real_name INTEGER NOT NULL,
        PRIMARY KEY (case_id, report_id)
    )""",
    """CREATE TABLE IF NOT EXISTS case_list_categories (
        case_id TEXT NOT NULL,
        category TEXT NOT NULL,
        PRIMARY KEY (case_id, category)
    )""",
    """CREATE TABLE IF NOT EXISTS case_list_subjects (
        case_id TEXT NOT NULL,
        name TEXT NOT NULL,
        unit TEXT NOT NULL,
        position TEXT NOT NULL,
        cadre_id TEXT,
        PRIMARY KEY (case_id, name, unit)
    )""",
    """CREATE TABLE IF NOT EXISTS report_queue (
        report_id TEXT PRIMARY KEY,
        ledger_number TEXT,
        status TEXT,
        channel TEXT,
        received_on TEXT,
        categories TEXT,
        subjects TEXT,
        sealed INTEGER,
        real_name INTEGER,
        case_id TEXT,
        last_step_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS report_queue_status ON report_queue (status)",
    "CREATE INDEX IF NOT EXISTS report_queue_case ON report_queue (case_id)",
    """CREATE TABLE IF NOT EXISTS report_feedback (
        case_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        given_on TEXT NOT NULL,
        method TEXT NOT NULL,
        text TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (case_id, event_id)
    )""",
)
# The queries at scale (0027): the case list's pages in their order, a handler's live cases,
# what waits for approval, the report queues in their order. Added to existing installations
# by ``jiandu migrate`` (schema version 2 of the projections' database).
QUERY_INDEXES: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS case_list_recent ON case_list (last_step_at DESC, case_id)",
    "CREATE INDEX IF NOT EXISTS case_list_handler_state ON case_list (handler_id, state)",
    "CREATE INDEX IF NOT EXISTS case_list_clearing ON case_list (clearing_stage)",
    "CREATE INDEX IF NOT EXISTS case_list_publicity ON case_list (publicity_pending)",
    "CREATE INDEX IF NOT EXISTS report_queue_order "
    "ON report_queue (status, received_on, ledger_number, report_id)",
)
ddl = (*ddl, *QUERY_INDEXES)

INTAKE_STATUS: dict[str, ReportStatus] = {
    "ReportReceived": ReportStatus.RECEIVED,
    "ReportRegistered": ReportStatus.REGISTERED,
    "ReportAccepted": ReportStatus.ACCEPTED,
}


def project(envelope: EventEnvelope) -> list[Upsert]:
    if is_selection_event(envelope.event_type):
        return []  # a selection is not a case (casework's log holds both)
    if is_project_event(envelope.event_type):
        return []  # nor is a supervision project
    payload = payload_of(envelope)
    if envelope.source == "intake":
        return _report_rows(envelope, payload)
    return _case_rows(envelope, payload)


# -- intake: the report queue ------------------------------------------------------------------


def _report_rows(envelope: EventEnvelope, payload: Any) -> list[Upsert]:
    values: dict[str, Any] = {"last_step_at": envelope.occurred_at.isoformat()}
    if envelope.event_type in INTAKE_STATUS:
        values["status"] = INTAKE_STATUS[envelope.event_type].value
    match payload:
        case ReportReceivedV1():
            values |= {
                "channel": payload.channel.value,
                "received_on": payload.received_on.isoformat(),
                "categories": as_json([c.value for c in payload.categories]),
                "subjects": as_json([_reported(s) for s in payload.subjects]),
                "sealed": int(payload.sealed),
                "real_name": int(not payload.reporter.anonymous),
            }
        case ReportRegisteredV1():
            values["ledger_number"] = payload.ledger_number
        case ReportAcceptedV1():
            values |= {"case_id": text(payload.case_id), "ledger_number": payload.ledger_number}
        case ReportTriagedV1():
            values["status"] = ReportStatus(payload.outcome).value
        case AcceptanceNoticeSentV1():
            pass  # its deadline is the timeline's; the row only records the step
    return [Upsert("report_queue", {"report_id": text(envelope.aggregate_id)}, values)]


def _reported(subject: ReportedCadre) -> dict[str, Any]:
    return {
        "name": subject.name,
        "unit": subject.unit,
        "position": subject.position,
        "cadre_id": subject.cadre_id,
    }


# -- casework: the case list -------------------------------------------------------------------


def _case_rows(envelope: EventEnvelope, payload: Any) -> list[Upsert]:  # noqa: PLR0912
    case_id = text(envelope.aggregate_id)
    at = envelope.occurred_at
    values: dict[str, Any] = {"last_step_at": at.isoformat()}
    state = state_after(envelope.event_type, payload)
    if state is not None:
        values["state"] = state.value
    rows: list[Upsert] = []
    match payload:
        case CaseOpenedV1():
            values |= {
                "kind": payload.kind.value,
                "ledger_number": payload.ledger_number,
                "channel": payload.channel.value,
                "received_on": payload.received_on.isoformat(),
                "opened_at": at.isoformat(),
                "linked_case_id": text(payload.linked_case_id) if payload.linked_case_id else None,
            }
            if payload.report_id is not None:
                real_name = payload.reporter is not None and not payload.reporter.anonymous
                rows.append(
                    _case_report(case_id, text(payload.report_id), payload.ledger_number, real_name)
                )
            rows += _categories_and_subjects(case_id, payload.categories, payload.subjects)
        case ReportJoinedV1():
            rows.append(
                _case_report(
                    case_id,
                    text(payload.report_id),
                    payload.ledger_number,
                    not payload.reporter.anonymous,
                )
            )
            rows += _categories_and_subjects(case_id, payload.categories, payload.subjects)
        case HandlerAssignedV1():
            values["handler_id"] = payload.handler_id
        case DispositionProposedV1():
            values["proposed_disposition"] = payload.disposition.value
        case DispositionApprovedV1():
            values |= {"disposition": payload.disposition.value, "proposed_disposition": None}
            if state in (CaseState.CLOSED, CaseState.TRANSFERRED):
                values["closed_on"] = (payload.approved_on or china_date(at)).isoformat()
        case InquiryReplyEvaluatedV1() if payload.outcome is InquiryOutcome.ESCALATED:
            values["disposition"] = Disposition.PRELIMINARY_VERIFICATION.value
        case ConclusionApprovedV1():
            values["conclusion"] = payload.overall.value
        case FalseAccusationSuspectedV1():
            values["linked_case_id"] = text(payload.false_accusation_case_id)
        case ClosedV1():
            values["closed_on"] = payload.closed_on.isoformat()
        case FeedbackGivenV1():
            rows.append(
                Upsert(
                    "report_feedback",
                    {"case_id": case_id, "event_id": text(envelope.event_id)},
                    {
                        "given_on": payload.given_on.isoformat(),
                        "method": payload.method,
                        "text": payload.text,
                        "recorded_at": at.isoformat(),
                    },
                )
            )
    values |= CASE_RESETS.get(envelope.event_type, {})
    rows.append(Upsert("case_list", {"case_id": case_id}, values))
    return rows


# Columns set by the event's type alone.
CASE_RESETS: dict[str, dict[str, Any]] = {
    "DispositionReturned": {"proposed_disposition": None},
    "Reactivated": {"disposition": None},
    "Reopened": {"disposition": None, "conclusion": None, "closed_on": None},
    "ClearingProposed": {"clearing_stage": ClearingStage.PROPOSED.value},
    "ClearingApproved": {"clearing_stage": ClearingStage.APPROVED.value},
    "ClearingCarriedOut": {"clearing_stage": ClearingStage.CARRIED_OUT.value},
    "PublicityHeld": {"publicity_pending": 1},
    "PublicityDecided": {"publicity_pending": 0},
}


def _case_report(case_id: str, report_id: str, ledger_number: str, real_name: bool) -> Upsert:
    return Upsert(
        "case_list_reports",
        {"case_id": case_id, "report_id": report_id},
        {"ledger_number": ledger_number, "real_name": int(real_name)},
    )


def _categories_and_subjects(
    case_id: str, categories: list[Any], subjects: list[NamedCadre]
) -> list[Upsert]:
    rows = [
        Upsert("case_list_categories", {"case_id": case_id, "category": c.value})
        for c in categories
    ]
    rows += [
        Upsert(
            "case_list_subjects",
            {"case_id": case_id, "name": s.name, "unit": s.unit},
            {"position": s.position, "cadre_id": s.cadre_id},
        )
        for s in subjects
    ]
    return rows
