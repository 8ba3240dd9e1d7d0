"""The supervision archive of each cadre (领导干部监督档案): every report naming them, its case,
and every step of that case that belongs in the file, with its date and ledger number.

Tables are keyed by the report, the case or the event, and each event writes only what it
knows, so events of different aggregates may arrive in any order and a redelivered event
changes nothing:

- ``archive_reports`` / ``archive_subjects``: each report and the people it names (as
  named, with the normalised ``candidate_key`` of an unregistered name);
- ``archive_cases``: each case's ledger number, kind, current state and disposition;
- ``archive_entries``: one row per archived case event (disposition, inquiry, finding,
  conclusion, handling, admonition follow-up, clearing, false-accusation link, closure,
  reopening …), keyed by event id, holding an allow-listed ``detail`` only;
- ``subject_identifications``: operators' word on who an unregistered name is; the query
  side resolves names through it (``archive/queries.py``), so the archive follows a merge
  and a rebuild gives the same answer;
- ``archive_selection_entries``: what a selection's record says of a registered cadre
  (decision 0034): their appointment voided (任免决定无效), or they held responsible for a
  step of it (选人用人责任追究); one row per cadre an event names by ``cadre_id``, each from
  that event alone (it carries the selection's unit and posts).

Reporter identity is never here: no reporter reference, no feedback or objection text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.events import (
    CaseOpenedV1,
    EventEnvelope,
    ReportAcceptedV1,
    ReportReceivedV1,
    ReportRegisteredV1,
    ReportSubjectIdentifiedV1,
    ReportTriagedV1,
    candidate_key,
)
from schemas.glossary import ReportStatus
from services.common.case_states import state_after
from services.common.china_time import china_date
from services.projections.days import step_day
from services.projections.rows import Upsert, as_json, data_of, payload_of, text

name = "archive"
# 3: business days, per-cadre verdicts, clearings, false-accusation links, settled items;
# 4: a late join's unconcluded allegations, the handlings a clearing revokes
# 5: a selection's voided appointments and responsibilities (archive_selection_entries)
version = 5
tables = (
    "archive_reports",
    "archive_subjects",
    "archive_cases",
    "archive_entries",
    "subject_identifications",
    "archive_selection_entries",
)
ddl: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS archive_reports (
        report_id TEXT PRIMARY KEY,
        ledger_number TEXT,
        channel TEXT,
        categories TEXT,
        summary TEXT,
        sealed INTEGER,
        received_on TEXT,
        referral TEXT,
        status TEXT,
        status_on TEXT,
        triage TEXT,
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
        candidate_key TEXT NOT NULL,
        PRIMARY KEY (report_id, ordinal)
    )""",
    "CREATE INDEX IF NOT EXISTS archive_subjects_cadre ON archive_subjects (cadre_id)",
    "CREATE INDEX IF NOT EXISTS archive_subjects_name ON archive_subjects (name, unit)",
    "CREATE INDEX IF NOT EXISTS archive_subjects_key ON archive_subjects (candidate_key)",
    """CREATE TABLE IF NOT EXISTS archive_cases (
        case_id TEXT PRIMARY KEY,
        kind TEXT,
        ledger_number TEXT,
        report_id TEXT,
        linked_case_id TEXT,
        received_on TEXT,
        opened_at TEXT,
        state TEXT,
        state_since TEXT,
        disposition TEXT,
        closed_on TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS archive_entries (
        event_id TEXT PRIMARY KEY,
        case_id TEXT NOT NULL,
        aggregate_version INTEGER NOT NULL,
        occurred_at TEXT NOT NULL,
        on_date TEXT NOT NULL,
        kind TEXT NOT NULL,
        cadre_name TEXT,
        cadre_unit TEXT,
        cadre_id TEXT,
        candidate_key TEXT,
        detail TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS archive_entries_case ON archive_entries (case_id)",
    """CREATE TABLE IF NOT EXISTS subject_identifications (
        event_id TEXT PRIMARY KEY,
        position BIGINT NOT NULL,
        report_id TEXT NOT NULL,
        subject_index INTEGER NOT NULL,
        candidate_key TEXT NOT NULL,
        cadre_id TEXT,
        same_as_candidate TEXT,
        occurred_at TEXT NOT NULL,
        actor_id TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS subject_identifications_key "
    "ON subject_identifications (candidate_key)",
    """CREATE TABLE IF NOT EXISTS archive_selection_entries (
        entry_id TEXT PRIMARY KEY,
        selection_id TEXT NOT NULL,
        aggregate_version INTEGER NOT NULL,
        occurred_at TEXT NOT NULL,
        on_date TEXT NOT NULL,
        kind TEXT NOT NULL,
        cadre_id TEXT NOT NULL,
        cadre_name TEXT NOT NULL,
        detail TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS archive_selection_entries_cadre "
    "ON archive_selection_entries (cadre_id)",
)
# The queries at scale (0027): a cadre's archive and the integrity replies find the steps that
# name the cadre, and a case's reports, by index. Added to existing installations by
# ``jiandu migrate`` (schema version 2 of the projections' database).
QUERY_INDEXES: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS archive_entries_cadre ON archive_entries (cadre_id)",
    "CREATE INDEX IF NOT EXISTS archive_entries_key ON archive_entries (candidate_key)",
    "CREATE INDEX IF NOT EXISTS archive_reports_case ON archive_reports (case_id)",
)
ddl = (*ddl, *QUERY_INDEXES)

# Which case events belong in the archive, which payload fields they keep (an allow-list:
# no reporter reference, no free text written to or by the reporter), and which field
# dates them (else the day the event happened).
ARCHIVED: dict[str, tuple[tuple[str, ...], str | None]] = {
    "CaseOpened": (
        ("kind", "ledger_number", "channel", "categories", "linked_case_id", "opened_on"),
        "opened_on",
    ),
    "ReportJoined": (
        ("report_id", "ledger_number", "categories", "joined_on", "unconcluded"),
        "joined_on",
    ),
    "DispositionApproved": (
        ("disposition", "collective_study", "approved_on", "report_back_due"),
        "approved_on",
    ),
    "InquiryLetterSent": (("sent_on", "form", "reply_due"), "sent_on"),
    "InquiryReplyReceived": (("received_on", "document_ref"), "received_on"),
    "InquiryReplyEvaluated": (("outcome", "evaluated_on"), "evaluated_on"),
    "FindingRecorded": (("kind", "summary", "evidence_refs", "found_on"), "found_on"),
    "ParkedCaseReviewed": (("reviewed_on", "next_review_due"), "reviewed_on"),
    "Reactivated": (("reactivated_on",), "reactivated_on"),
    "ConclusionApproved": (
        ("verdicts", "overall", "approved_on", "cadre_verdicts"),
        "approved_on",
    ),
    "HandlingDecided": (
        (
            "handling_id",
            "handling",
            "decided_on",
            "effects",
            "follow_up_due",
            "reason",
            "escalation_of",
        ),
        "decided_on",
    ),
    "AdmonitionFollowedUp": (
        ("handling_id", "outcome", "followed_up_on", "escalate_to"),
        "followed_up_on",
    ),
    "ClearingProposed": (("applied_for_by_cadre", "proposed_on"), "proposed_on"),
    "ClearingApproved": (("approved_on",), "approved_on"),
    "ClearingCarriedOut": (
        ("method", "scope", "carried_out_on", "corrections", "revokes"),
        "carried_out_on",
    ),
    "FalseAccusationSuspected": (("false_accusation_case_id", "suspected_on"), "suspected_on"),
    "SubjectReferred": (("organ", "referred_on", "document_ref"), "referred_on"),
    "Closed": (("closed_on",), "closed_on"),
    "Reopened": (("reopened_on",), "reopened_on"),
    "PublicityHeld": (("proposed_post", "publicity_ends_on", "held_on"), "held_on"),
    "PublicityDecided": (("decision", "defer_until", "decided_on"), "decided_on"),
    "DisciplineResultRecorded": (
        ("receiver", "outcomes", "reported_on", "document_number", "summary"),
        "reported_on",
    ),
}

# Dispositions after which the case is over as far as the case office goes.
CLOSING_DISPOSITIONS = {"close", "transfer_to_discipline"}


def _blank_to_none(value: str | None) -> str | None:
    return value or None


# A selection's events that name cadres for their archive, and the fields each keeps (the
# rest of a selection's record is the selections read model's).
SELECTION_ARCHIVED: dict[str, tuple[str, ...]] = {
    "AppointmentVoided": (
        "unit",
        "posts",
        "ground",
        "basis_kind",
        "basis_id",
        "document_number",
        "reason",
    ),
    "ResponsibilityTaken": (
        "unit",
        "posts",
        "step",
        "handling",
        "effects",
        "basis_kind",
        "basis_id",
        "document_number",
        "reason",
    ),
}


def project(envelope: EventEnvelope) -> list[Upsert]:
    payload = payload_of(envelope)
    if envelope.source == "intake":
        return _report_rows(envelope, payload)
    if envelope.event_type in SELECTION_ARCHIVED:
        return _selection_rows(envelope)
    return _case_rows(envelope, payload)


def _selection_rows(envelope: EventEnvelope) -> list[Upsert]:
    """One row per registered cadre the event names: each voided candidate with a
    ``cadre_id``, or the person held responsible if they have one."""
    data = data_of(envelope)
    common = {f: data.get(f) for f in SELECTION_ARCHIVED[envelope.event_type]}
    if envelope.event_type == "AppointmentVoided":
        named = [
            (c, {"candidate_id": c["candidate_id"], "post": c.get("post") or ""})
            for c in data["candidates"]
        ]
    else:
        named = [(data["person"], {"person": data["person"]})]
    return [
        Upsert(
            "archive_selection_entries",
            {"entry_id": f"{envelope.event_id}:{i}"},
            {
                "selection_id": text(envelope.aggregate_id),
                "aggregate_version": envelope.aggregate_version,
                "occurred_at": envelope.occurred_at.isoformat(),
                "on_date": data["on"],
                "kind": envelope.event_type,
                "cadre_id": who["cadre_id"],
                "cadre_name": who["name"],
                "detail": as_json(common | own),
            },
        )
        for i, (who, own) in enumerate(named)
        if who.get("cadre_id")
    ]


def _report_rows(envelope: EventEnvelope, payload: Any) -> list[Upsert]:
    report_id = text(envelope.aggregate_id)
    on = step_day(envelope)  # the day the report's status changed
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
                        "sealed": int(payload.sealed),
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
                        "cadre_id": _blank_to_none(s.cadre_id),
                        "candidate_key": candidate_key(s.name, s.unit),
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
                    {
                        "ledger_number": payload.ledger_number,
                        "status": ReportStatus.REGISTERED.value,
                        "status_on": on,
                    },
                )
            ]
        case ReportAcceptedV1():
            return [
                Upsert(
                    "archive_reports",
                    {"report_id": report_id},
                    {
                        "case_id": text(payload.case_id),
                        "status": ReportStatus.ACCEPTED.value,
                        "status_on": on,
                    },
                )
            ]
        case ReportTriagedV1():
            return [
                Upsert(
                    "archive_reports",
                    {"report_id": report_id},
                    {
                        "status": payload.outcome,
                        "status_on": on,
                        "triage": as_json(payload.details),
                    },
                )
            ]
        case ReportSubjectIdentifiedV1():
            return [
                Upsert(
                    "subject_identifications",
                    {"event_id": text(envelope.event_id)},
                    {
                        "position": envelope.position,
                        "report_id": report_id,
                        "subject_index": payload.subject_index,
                        "candidate_key": payload.candidate_key,
                        "cadre_id": payload.cadre_id,
                        "same_as_candidate": payload.same_as_candidate,
                        "occurred_at": envelope.occurred_at.isoformat(),
                        "actor_id": payload.actor.id,
                    },
                )
            ]
    return []


def _case_rows(envelope: EventEnvelope, payload: Any) -> list[Upsert]:
    case_id = text(envelope.aggregate_id)
    rows: list[Upsert] = []
    case: dict[str, Any] = {}
    state = state_after(envelope.event_type, payload)
    if state is not None:
        case |= {"state": state.value, "state_since": envelope.occurred_at.isoformat()}
    data = data_of(envelope)
    match envelope.event_type:
        case "CaseOpened":
            assert isinstance(payload, CaseOpenedV1)
            case |= {
                "kind": payload.kind.value,
                "ledger_number": payload.ledger_number,
                "report_id": text(payload.report_id) if payload.report_id else None,
                "linked_case_id": text(payload.linked_case_id) if payload.linked_case_id else None,
                "received_on": payload.received_on.isoformat(),
                "opened_at": envelope.occurred_at.isoformat(),
            }
            if payload.report_id is not None:
                rows.append(
                    Upsert(
                        "archive_reports",
                        {"report_id": text(payload.report_id)},
                        {"case_id": case_id, "case_opened_at": envelope.occurred_at.isoformat()},
                    )
                )
        case "DispositionApproved":
            case["disposition"] = data["disposition"]
            if data["disposition"] in CLOSING_DISPOSITIONS:
                case["closed_on"] = (
                    data.get("approved_on") or china_date(envelope.occurred_at).isoformat()
                )
        case "InquiryReplyEvaluated" if data["outcome"] == "escalated":
            case["disposition"] = "preliminary_verification"
        case "Reactivated" | "Reopened":
            case |= {"disposition": None, "closed_on": None}
        case "Closed":
            case["closed_on"] = data["closed_on"]
    if case:
        rows.append(Upsert("archive_cases", {"case_id": case_id}, case))
    if envelope.event_type in ARCHIVED:
        rows.append(_entry(envelope, data))
    return rows


def _entry(envelope: EventEnvelope, data: dict[str, Any]) -> Upsert:
    fields, date_field = ARCHIVED[envelope.event_type]
    # Dating fields added later are absent (None) from older events: those use the event's day.
    on = (data.get(date_field) if date_field else None) or step_day(envelope, data)
    cadre = data.get("cadre") or {}
    if envelope.event_type == "CaseOpened" and data.get("kind") == "false_accusation":
        # A false-accusation case is about its accuser: the accuser's archive holds it.
        cadre = (data.get("subjects") or [{}])[0]
    named = bool(cadre.get("name"))
    return Upsert(
        "archive_entries",
        {"event_id": text(envelope.event_id)},
        {
            "case_id": text(envelope.aggregate_id),
            "aggregate_version": envelope.aggregate_version,
            "occurred_at": envelope.occurred_at.isoformat(),
            "on_date": dt.date.fromisoformat(str(on)).isoformat(),
            "kind": envelope.event_type,
            "cadre_name": cadre.get("name") if named else None,
            "cadre_unit": cadre.get("unit", "") if named else None,
            "cadre_id": _blank_to_none(cadre.get("cadre_id")) if named else None,
            "candidate_key": candidate_key(cadre["name"], cadre.get("unit", "")) if named else None,
            "detail": as_json({f: data.get(f) for f in fields}),
        },
    )
