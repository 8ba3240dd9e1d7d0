"""Case timelines (案件时间线): every step of a case and of the reports it came from.

Every published event becomes one step (what, who, when, why, details); events that
start or meet a deadline also keep that deadline's row, whose state the query computes
for the day it is asked.
"""

from __future__ import annotations

from typing import Any

from schemas.events import (
    CaseOpenedV1,
    EventEnvelope,
    ReportAcceptedV1,
    ReportJoinedV1,
)
from services.projections.rows import Upsert, as_json, data_of, payload_of, text

name = "timeline"
version = 4  # 3 (two branches): objection answers; settled items. 4: both
tables = ("timeline_steps", "case_reports", "case_deadlines")
ddl: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS timeline_steps (
        event_id TEXT PRIMARY KEY,
        subject_id TEXT NOT NULL,
        source TEXT NOT NULL,
        position BIGINT NOT NULL,
        occurred_at TEXT NOT NULL,
        step TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        actor_role TEXT NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS timeline_steps_subject ON timeline_steps (subject_id)",
    """CREATE TABLE IF NOT EXISTS case_reports (
        case_id TEXT NOT NULL,
        report_id TEXT NOT NULL,
        PRIMARY KEY (case_id, report_id)
    )""",
    "CREATE INDEX IF NOT EXISTS case_reports_report ON case_reports (report_id)",
    """CREATE TABLE IF NOT EXISTS case_deadlines (
        subject_id TEXT NOT NULL,
        name TEXT NOT NULL,
        due TEXT,
        provisional INTEGER NOT NULL DEFAULT 0,
        note TEXT NOT NULL DEFAULT '',
        started_on TEXT,
        working_days INTEGER,
        met_on TEXT,
        PRIMARY KEY (subject_id, name)
    )""",
)
# The queries at scale (0027): the deadline queues find the deadlines near or past today by
# their due day. Added to existing installations by ``jiandu migrate`` (schema version 2;
# the two on open and met deadlines, version 3). Nearly every deadline of a long history was
# met long ago: the queues read the open ones (``met_on IS NULL``) by their own index, and
# the few met after the day asked about (a past day recomputed) by ``met_on``.
QUERY_INDEXES: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS case_deadlines_due ON case_deadlines (due)",
    "CREATE INDEX IF NOT EXISTS case_deadlines_open ON case_deadlines (due) WHERE met_on IS NULL",
    "CREATE INDEX IF NOT EXISTS case_deadlines_met ON case_deadlines (met_on)",
)
ddl = (*ddl, *QUERY_INDEXES)

# Which payload field starts a deadline, and which event meets which deadline (and with
# which date field). Admonition deadlines are per handling: "name#<handling_id>".
STARTS: dict[str, list[tuple[str, str]]] = {
    "ReportRegistered": [("acceptance_notice_due", "acceptance_notice")],
    "InquiryLetterSent": [("reply_due", "inquiry_reply")],
    "DispositionApproved": [
        ("review_due", "parked_review"),
        ("feedback_due", "feedback"),
        ("report_back_due", "discipline_report_back"),
    ],
    "ParkedCaseReviewed": [("next_review_due", "parked_review")],
    "HandlingDecided": [("follow_up_due", "admonition_follow_up")],
    "Closed": [("feedback_due", "feedback")],
    "ObjectionRecorded": [("answer_due", "objection_answer")],
}
MEETS = {
    "AcceptanceNoticeSent": ("acceptance_notice", "sent_on"),
    "InquiryReplyReceived": ("inquiry_reply", "received_on"),
    "ParkedCaseReviewed": ("parked_review", "reviewed_on"),
    "Reactivated": ("parked_review", "reactivated_on"),
    "AdmonitionFollowedUp": ("admonition_follow_up", "followed_up_on"),
    "FeedbackGiven": ("feedback", "given_on"),
    "ObjectionAnswered": ("objection_answer", "answered_on"),
    "DisciplineResultRecorded": ("discipline_report_back", "reported_on"),
}
SEPARATE_COLUMNS = {"actor", "reason"}


def _triage_deadline_rows(subject: str, outcome: str, details: dict[str, Any]) -> list[Upsert]:
    """Triage's own time limits: forwarding up (met by the forwarding itself, perhaps late)
    and the level below's acceptance of a transferred report (met by its acknowledgement)."""
    key = {"subject_id": subject}
    match outcome:
        case "forwarded_up" if details.get("due"):
            values = {"due": details["due"], "met_on": details.get("forwarded_on")}
            name = "forward_up"
        case "transferred_down" if details.get("acceptance_due"):
            values = {
                "due": details["acceptance_due"],
                "started_on": details.get("transferred_on"),
                "met_on": None,
            }
            name = "transfer_acceptance"
        case "transfer_acknowledged":
            return [
                Upsert(
                    "case_deadlines",
                    key | {"name": "transfer_acceptance"},
                    {"met_on": details.get("acknowledged_on")},
                )
            ]
        case _:
            return []
    values["provisional"] = int(bool(details.get("provisional", False)))
    return [Upsert("case_deadlines", key | {"name": name}, values)]


# The receiver of an item that left the office reports its result back by a deadline:
# outcome that starts it → (deadline, the day it counts from); outcome that meets it.
REPORT_BACK_STARTS = {
    "transferred_down": ("transfer_report_back", "transferred_on"),
    "referred_out": ("referral_report_back", "referred_on"),
}
REPORT_BACK_MET = {
    "transfer_concluded": "transfer_report_back",
    "referral_concluded": "referral_report_back",
}


def _report_back_rows(subject: str, outcome: str, details: dict[str, Any]) -> list[Upsert]:
    """The report-back deadline of a report transferred down or referred out, met by the
    receiver's result (older triage events carry no such deadline: no row)."""
    key = {"subject_id": subject}
    if outcome in REPORT_BACK_STARTS and details.get("report_back_due"):
        name, start = REPORT_BACK_STARTS[outcome]
        values = {
            "due": details["report_back_due"],
            "provisional": int(bool(details.get("report_back_provisional", False))),
            "started_on": details.get(start),
            "met_on": None,
        }
        return [Upsert("case_deadlines", key | {"name": name}, values)]
    if outcome in REPORT_BACK_MET and details.get("receiver_result"):
        met_on = details["receiver_result"]["reported_on"]
        return [
            Upsert("case_deadlines", key | {"name": REPORT_BACK_MET[outcome]}, {"met_on": met_on})
        ]
    return []


def _deadline_rows(envelope: EventEnvelope, data: dict[str, Any]) -> list[Upsert]:
    subject = text(envelope.aggregate_id)
    if envelope.event_type == "ReportTriaged":
        details = data.get("details") or {}
        return _triage_deadline_rows(subject, data["outcome"], details) + _report_back_rows(
            subject, data["outcome"], details
        )
    rows = []
    suffix = f"#{data['handling_id']}" if "handling_id" in data else ""
    if envelope.event_type in MEETS:
        base, field = MEETS[envelope.event_type]
        rows.append(
            Upsert(
                "case_deadlines",
                {"subject_id": subject, "name": base + suffix},
                {"met_on": data[field]},
            )
        )
    for field, base in STARTS.get(envelope.event_type, []):
        due = data.get(field)
        if due:
            rows.append(
                Upsert(
                    "case_deadlines",
                    {"subject_id": subject, "name": base + suffix},
                    {
                        "due": due["due"],
                        "provisional": int(due.get("provisional", False)),
                        "note": due.get("note", ""),
                        "started_on": due.get("started_on"),
                        "working_days": due.get("working_days"),
                        "met_on": None,
                    },
                )
            )
    return rows


def project(envelope: EventEnvelope) -> list[Upsert]:
    payload = payload_of(envelope)
    data = data_of(envelope)
    actor = data.get("actor") or {"id": "", "role": ""}
    rows: list[Upsert] = []
    match payload:
        case ReportAcceptedV1():
            rows.append(
                Upsert(
                    "case_reports",
                    {"case_id": text(payload.case_id), "report_id": text(envelope.aggregate_id)},
                )
            )
        case CaseOpenedV1() if payload.report_id is not None:
            rows.append(
                Upsert(
                    "case_reports",
                    {"case_id": text(envelope.aggregate_id), "report_id": text(payload.report_id)},
                )
            )
        case ReportJoinedV1():
            rows.append(
                Upsert(
                    "case_reports",
                    {"case_id": text(envelope.aggregate_id), "report_id": text(payload.report_id)},
                )
            )
    rows += _deadline_rows(envelope, data)
    detail = {k: v for k, v in data.items() if k not in SEPARATE_COLUMNS}
    rows.append(
        Upsert(
            "timeline_steps",
            {"event_id": text(envelope.event_id)},
            {
                "subject_id": text(envelope.aggregate_id),
                "source": envelope.source,
                "position": envelope.position,
                "occurred_at": envelope.occurred_at.isoformat(),
                "step": envelope.event_type,
                "actor_id": actor["id"],
                "actor_role": actor["role"],
                "reason": data.get("reason", ""),
                "detail": as_json(detail),
            },
        )
    )
    return rows
