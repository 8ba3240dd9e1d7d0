"""Case timelines (案件时间线): every step of a case and of the reports it came from."""

from __future__ import annotations

from schemas.events import (
    CaseOpenedV1,
    EventEnvelope,
    ReportAcceptedV1,
    ReportReceivedV1,
    ReportRegisteredV1,
    parse_payload,
)
from services.projections.rows import Upsert, as_json

name = "timeline"
tables = ("timeline_steps", "case_reports")
ddl = (
    """CREATE TABLE IF NOT EXISTS timeline_steps (
        event_id TEXT PRIMARY KEY,
        subject_id TEXT NOT NULL,
        source TEXT NOT NULL,
        position BIGINT NOT NULL,
        occurred_at TEXT NOT NULL,
        step TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        actor_role TEXT NOT NULL,
        detail TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS timeline_steps_subject ON timeline_steps (subject_id)",
    """CREATE TABLE IF NOT EXISTS case_reports (
        case_id TEXT NOT NULL,
        report_id TEXT NOT NULL,
        PRIMARY KEY (case_id, report_id)
    )""",
    "CREATE INDEX IF NOT EXISTS case_reports_report ON case_reports (report_id)",
)


def _step(
    envelope: EventEnvelope, step: str, actor_id: str, actor_role: str, detail: dict[str, object]
) -> Upsert:
    return Upsert(
        "timeline_steps",
        {"event_id": str(envelope.event_id)},
        {
            "subject_id": str(envelope.aggregate_id),
            "source": envelope.source,
            "position": envelope.position,
            "occurred_at": envelope.occurred_at.isoformat(),
            "step": step,
            "actor_id": actor_id,
            "actor_role": actor_role,
            "detail": as_json(detail),
        },
    )


def project(envelope: EventEnvelope) -> list[Upsert]:
    payload = parse_payload(envelope)
    match payload:
        case ReportReceivedV1():
            return [
                _step(
                    envelope,
                    "report_received",
                    payload.actor.id,
                    payload.actor.role,
                    {
                        "channel": payload.channel.value,
                        "received_on": payload.received_on.isoformat(),
                    },
                )
            ]
        case ReportRegisteredV1():
            return [
                _step(
                    envelope,
                    "report_registered",
                    payload.actor.id,
                    payload.actor.role,
                    {"ledger_number": payload.ledger_number},
                )
            ]
        case ReportAcceptedV1():
            link = Upsert(
                "case_reports",
                {"case_id": str(payload.case_id), "report_id": str(envelope.aggregate_id)},
            )
            return [
                link,
                _step(
                    envelope,
                    "report_accepted",
                    payload.actor.id,
                    payload.actor.role,
                    {"case_id": str(payload.case_id), "reason": payload.reason},
                ),
            ]
        case CaseOpenedV1():
            link = Upsert(
                "case_reports",
                {"case_id": str(envelope.aggregate_id), "report_id": str(payload.report_id)},
            )
            return [
                link,
                _step(
                    envelope,
                    "case_opened",
                    payload.actor.id,
                    payload.actor.role,
                    {"ledger_number": payload.ledger_number},
                ),
            ]
    return []
