"""The supervision archive of each cadre (领导干部监督档案): every report naming them, and its case."""

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

name = "archive"
version = 1
tables = ("archive_reports", "archive_subjects")
ddl = (
    """CREATE TABLE IF NOT EXISTS archive_reports (
        report_id TEXT PRIMARY KEY,
        ledger_number TEXT,
        channel TEXT,
        categories TEXT,
        summary TEXT,
        received_on TEXT,
        referral TEXT,
        case_id TEXT,
        case_opened_at TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS archive_subjects (
        report_id TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        name TEXT NOT NULL,
        unit TEXT NOT NULL,
        position TEXT NOT NULL,
        cadre_id TEXT,
        PRIMARY KEY (report_id, ordinal)
    )""",
    "CREATE INDEX IF NOT EXISTS archive_subjects_cadre ON archive_subjects (cadre_id)",
    "CREATE INDEX IF NOT EXISTS archive_subjects_name ON archive_subjects (name, unit)",
)


def project(envelope: EventEnvelope) -> list[Upsert]:
    payload = parse_payload(envelope)
    report_id = str(envelope.aggregate_id)
    match payload:
        case ReportReceivedV1():
            referral = payload.referral.model_dump(mode="json") if payload.referral else None
            rows = [
                Upsert(
                    "archive_reports",
                    {"report_id": report_id},
                    {
                        "channel": payload.channel.value,
                        "categories": as_json([c.value for c in payload.categories]),
                        "summary": payload.summary,
                        "received_on": payload.received_on.isoformat(),
                        "referral": as_json(referral),
                    },
                )
            ]
            rows += [
                Upsert(
                    "archive_subjects",
                    {"report_id": report_id, "ordinal": i},
                    {
                        "name": s.name,
                        "unit": s.unit,
                        "position": s.position,
                        "cadre_id": s.cadre_id,
                    },
                )
                for i, s in enumerate(payload.subjects)
            ]
            return rows
        case ReportRegisteredV1():
            return [
                Upsert(
                    "archive_reports",
                    {"report_id": report_id},
                    {"ledger_number": payload.ledger_number},
                )
            ]
        case ReportAcceptedV1():
            return [
                Upsert(
                    "archive_reports", {"report_id": report_id}, {"case_id": str(payload.case_id)}
                )
            ]
        case CaseOpenedV1() if payload.report_id is not None:
            return [
                Upsert(
                    "archive_reports",
                    {"report_id": str(payload.report_id)},
                    {
                        "case_id": str(envelope.aggregate_id),
                        "case_opened_at": envelope.occurred_at.isoformat(),
                    },
                )
            ]
    return []
