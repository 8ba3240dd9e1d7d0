"""Liaison-meeting facts (联席会议): the tables behind the figures, redacted by construction.

Every column is declared below with its kind, and the DDL is generated from that
declaration: identifiers (UUIDs), dates, months, quarters, flags, small integers and
values of the glossary's enums. The only text that is not an enum value is about the
*reported* cadre: the unit named in the report and the cadre's register id (the
reported cadre's level is joined from the register at query time). No summary, reason,
feedback, finding, reference or name is ever written here, and no reporter reference:
nothing that could hold a reporter's identity can reach these tables.

Each event writes only the columns it knows (see ``rows.Upsert``), so the tables are
order-tolerant across intake and casework; a report's link to its case comes from
either side (``ReportAccepted``, ``CaseOpened``, ``ReportJoined``).
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

from schemas.events import (
    AdmonitionFollowedUpV1,
    CaseOpenedV1,
    ClearingCarriedOutV1,
    ClosedV1,
    ConclusionApprovedV1,
    DispositionApprovedV1,
    EventEnvelope,
    HandlingDecidedV1,
    ReopenedV1,
    ReportAcceptedV1,
    ReportJoinedV1,
    ReportReceivedV1,
    ReportRegisteredV1,
    ReportSubjectIdentifiedV1,
    ReportTriagedV1,
)
from schemas.events_project import ProjectOpenedV1
from schemas.events_selection import (
    AppointmentVoidedV1,
    ResponsibilityTakenV1,
    SelectionProposedV1,
)
from schemas.glossary import (
    AccountabilityHandling,
    AccuserStatus,
    AdmonitionOutcome,
    CaseKind,
    CaseState,
    Category,
    Channel,
    ClearingMethod,
    Disposition,
    HandlingType,
    MemberUnit,
    ReferralDirection,
    ReferralSource,
    ReportStatus,
    ResponsibilityStep,
    SelectionStage,
    Verdict,
    VoidGround,
)
from services.common.case_states import state_after
from services.common.project_stages import is_project_event
from services.common.selection_stages import is_selection_event, stage_after
from services.projections.days import step_day
from services.projections.rows import Upsert, payload_of, text

name = "liaison"
# 2, 3: steps dated by the day they state (decision 0016); 4: the report's day of receipt on
# its categories and subjects, so a range's counts read only that range's rows (0027); 5:
# selections, voided appointments and people held responsible (issue 14); 6: supervision
# projects (立项督查) by the irregularities they were opened on.
version = 6

# The unit that runs this system and receives referrals in (the 12380 office sits in the
# organization department).
HOME_UNIT = MemberUnit.ORGANIZATION_DEPARTMENT

# Column kinds. ``enum`` kinds name the glossary enum whose values alone may be stored.
ID, DATE, MONTH, QUARTER, FLAG, INT = "id", "date", "month", "quarter", "flag", "int"
UNIT = "reported_unit"  # the reported cadre's unit as named in the report (≤ 200 chars)
CADRE_REF = "cadre_ref"  # the reported cadre's register id (≤ 64 chars)
ColumnKind = str | type[Enum]

COLUMNS: dict[str, dict[str, ColumnKind]] = {
    "liaison_reports": {
        "report_id": ID,
        "received_on": DATE,
        "month": MONTH,
        "quarter": QUARTER,
        "channel": Channel,
        "referral_source": ReferralSource,
        "referral_unit": MemberUnit,
        "sealed": FLAG,
        "status": ReportStatus,
        "status_on": DATE,
        "case_id": ID,
    },
    "liaison_report_categories": {"report_id": ID, "category": Category, "received_on": DATE},
    "liaison_report_subjects": {
        "report_id": ID,
        "ordinal": INT,
        "unit": UNIT,
        "cadre_id": CADRE_REF,
        "received_on": DATE,
    },
    "liaison_referrals": {
        "report_id": ID,
        "direction": ReferralDirection,
        "referral_source": ReferralSource,
        "from_unit": MemberUnit,
        "to_unit": MemberUnit,
        "referred_on": DATE,
        "reported_back_on": DATE,
    },
    "liaison_cases": {
        "case_id": ID,
        "kind": CaseKind,
        "opened_on": DATE,
        "state": CaseState,
        "disposition": Disposition,
        "disposition_on": DATE,
        "verdict": Verdict,
        "concluded_on": DATE,
        "closed_on": DATE,
        "accuser_status": AccuserStatus,
        "origin_case_id": ID,
    },
    "liaison_conclusions": {
        "event_id": ID,
        "case_id": ID,
        "verdict": Verdict,
        "concluded_on": DATE,
    },
    "liaison_handlings": {
        "case_id": ID,
        "handling_id": INT,
        "handling": HandlingType,
        "decided_on": DATE,
        "follow_up_outcome": AdmonitionOutcome,
        "followed_up_on": DATE,
    },
    "liaison_clearings": {
        "event_id": ID,
        "case_id": ID,
        "method": ClearingMethod,
        "carried_out_on": DATE,
    },
    # Selections (issue 14): the day each was proposed and where it stands; each voided
    # appointment (one row per candidate) and each person held responsible, by the glossary's
    # grounds, steps and handlings only: never a name, a unit or a post.
    "liaison_selections": {
        "selection_id": ID,
        "proposed_on": DATE,
        "stage": SelectionStage,
    },
    "liaison_voided_appointments": {
        "event_id": ID,
        "ordinal": INT,
        "selection_id": ID,
        "ground": VoidGround,
        "voided_on": DATE,
    },
    "liaison_responsibilities": {
        "event_id": ID,
        "selection_id": ID,
        "step": ResponsibilityStep,
        "handling": AccountabilityHandling,
        "taken_on": DATE,
    },
    # Supervision projects (立项督查): one row per irregularity a project was opened on, and
    # the day it was opened; never its clues, its selection's unit or a name.
    "liaison_projects": {
        "project_id": ID,
        "irregularity": Category,
        "opened_on": DATE,
    },
}
KEYS: dict[str, tuple[str, ...]] = {
    "liaison_reports": ("report_id",),
    "liaison_report_categories": ("report_id", "category"),
    "liaison_report_subjects": ("report_id", "ordinal"),
    "liaison_referrals": ("report_id", "direction"),
    "liaison_cases": ("case_id",),
    "liaison_conclusions": ("event_id",),
    "liaison_handlings": ("case_id", "handling_id"),
    "liaison_clearings": ("event_id",),
    "liaison_selections": ("selection_id",),
    "liaison_voided_appointments": ("event_id", "ordinal"),
    "liaison_responsibilities": ("event_id",),
    "liaison_projects": ("project_id", "irregularity"),
}
INDEXES = (
    "CREATE INDEX IF NOT EXISTS liaison_reports_received ON liaison_reports (received_on)",
    "CREATE INDEX IF NOT EXISTS liaison_report_categories_received "
    "ON liaison_report_categories (received_on, category)",
    "CREATE INDEX IF NOT EXISTS liaison_report_subjects_received "
    "ON liaison_report_subjects (received_on)",
    "CREATE INDEX IF NOT EXISTS liaison_reports_case ON liaison_reports (case_id)",
)


def _ddl(table: str) -> str:
    columns = [
        f"{column} {'INTEGER' if kind in (FLAG, INT) else 'TEXT'}"
        + (" NOT NULL" if column in KEYS[table] else "")
        for column, kind in COLUMNS[table].items()
    ]
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (\n    "
        + ",\n    ".join([*columns, f"PRIMARY KEY ({', '.join(KEYS[table])})"])
        + "\n)"
    )


tables: tuple[str, ...] = tuple(COLUMNS)
# The queries at scale (0027): the quarterly report's sections find their quarter's rows by
# date. Added to existing installations by ``jiandu migrate`` (schema version 2).
QUERY_INDEXES: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS liaison_cases_disposition ON liaison_cases (disposition_on)",
    "CREATE INDEX IF NOT EXISTS liaison_cases_opened ON liaison_cases (opened_on)",
    "CREATE INDEX IF NOT EXISTS liaison_conclusions_on ON liaison_conclusions (concluded_on)",
    "CREATE INDEX IF NOT EXISTS liaison_handlings_on ON liaison_handlings (decided_on)",
    "CREATE INDEX IF NOT EXISTS liaison_clearings_on ON liaison_clearings (carried_out_on)",
    "CREATE INDEX IF NOT EXISTS liaison_referrals_on ON liaison_referrals (referred_on)",
    "CREATE INDEX IF NOT EXISTS liaison_selections_on ON liaison_selections (proposed_on)",
    "CREATE INDEX IF NOT EXISTS liaison_voided_on ON liaison_voided_appointments (voided_on)",
    "CREATE INDEX IF NOT EXISTS liaison_responsibilities_on ON liaison_responsibilities (taken_on)",
    "CREATE INDEX IF NOT EXISTS liaison_projects_on ON liaison_projects (opened_on)",
)
ddl: tuple[str, ...] = (*(_ddl(t) for t in tables), *INDEXES, *QUERY_INDEXES)


# Where a triage outcome's details keep the day it happened.
def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def quarter_of(day: dt.date) -> str:
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def _row(table: str, key: dict[str, Any], values: dict[str, Any] | None = None) -> Upsert:
    # Refuse, at the source, a column that is not declared.
    undeclared = set(key) | set(values or {})
    undeclared -= set(COLUMNS[table])
    if undeclared:
        raise ValueError(f"{table}: undeclared column(s) {sorted(undeclared)}")
    return Upsert(table, key, values or {})


def project(envelope: EventEnvelope) -> list[Upsert]:
    payload = payload_of(envelope)
    if envelope.source == "intake":
        return _intake(envelope, payload)
    return _casework(envelope, payload)


def _intake(envelope: EventEnvelope, payload: Any) -> list[Upsert]:
    report = {"report_id": text(envelope.aggregate_id)}
    match payload:
        case ReportReceivedV1():
            return _received(report, payload)
        case ReportRegisteredV1():
            return [_row("liaison_reports", report, {"status": ReportStatus.REGISTERED.value})]
        case ReportAcceptedV1():
            return [
                _row(
                    "liaison_reports",
                    report,
                    {
                        "status": ReportStatus.ACCEPTED.value,
                        "status_on": step_day(envelope),
                        "case_id": text(payload.case_id),
                    },
                )
            ]
        case ReportTriagedV1():
            return _triaged(envelope, report, payload)
        case ReportSubjectIdentifiedV1() if payload.cadre_id:
            # This report's subject is a registered cadre: unit and level come from the
            # register. (A merge of two unregistered candidates changes no figure.)
            return [
                _row(
                    "liaison_report_subjects",
                    {**report, "ordinal": payload.subject_index},
                    {"cadre_id": payload.cadre_id},
                )
            ]
    return []


def _received(report: dict[str, str], payload: ReportReceivedV1) -> list[Upsert]:
    referral = payload.referral
    rows = [
        _row(
            "liaison_reports",
            report,
            {
                "received_on": payload.received_on.isoformat(),
                "month": month_of(payload.received_on),
                "quarter": quarter_of(payload.received_on),
                "channel": payload.channel.value,
                "referral_source": referral.source.value if referral else None,
                "referral_unit": (
                    referral.member_unit.value if referral and referral.member_unit else None
                ),
                "sealed": int(payload.sealed),
                "status": ReportStatus.RECEIVED.value,
                "status_on": payload.received_on.isoformat(),
            },
        )
    ]
    received_on = payload.received_on.isoformat()
    rows += [
        _row(
            "liaison_report_categories",
            {**report, "category": c.value},
            {"received_on": received_on},
        )
        for c in dict.fromkeys(payload.categories)
    ]
    if not payload.sealed:  # a sealed item belongs to the level above: not even its subjects
        rows += [
            _row(
                "liaison_report_subjects",
                {**report, "ordinal": i},
                {"unit": s.unit, "cadre_id": s.cadre_id or None, "received_on": received_on},
            )
            for i, s in enumerate(payload.subjects)
        ]
    if referral is not None:
        rows.append(
            _row(
                "liaison_referrals",
                {**report, "direction": ReferralDirection.IN.value},
                {
                    "referral_source": referral.source.value,
                    "from_unit": referral.member_unit.value if referral.member_unit else None,
                    "to_unit": HOME_UNIT.value,
                    "referred_on": (referral.referred_on or payload.received_on).isoformat(),
                },
            )
        )
    return rows


def _triaged(
    envelope: EventEnvelope, report: dict[str, str], payload: ReportTriagedV1
) -> list[Upsert]:
    outcome = ReportStatus(payload.outcome)  # a value outside the glossary is refused
    details = payload.details
    on = step_day(envelope)
    rows = [_row("liaison_reports", report, {"status": outcome.value, "status_on": on})]
    out = {**report, "direction": ReferralDirection.OUT.value}
    if outcome is ReportStatus.REFERRED_OUT:
        rows.append(
            _row(
                "liaison_referrals",
                out,
                {
                    "from_unit": HOME_UNIT.value,
                    "to_unit": MemberUnit(details["member_unit"]).value,
                    "referred_on": on,
                    "reported_back_on": None,
                },
            )
        )
    elif outcome is ReportStatus.REFERRAL_CONCLUDED:
        # The receiver's result is free text: only the day it came back is kept.
        rows.append(_row("liaison_referrals", out, {"reported_back_on": on}))
    return rows


def _opened(case: dict[str, Any], payload: CaseOpenedV1) -> list[Upsert]:
    routing = payload.routing or {}
    status = routing.get("accuser_status")
    rows = [
        _row(
            "liaison_cases",
            case,
            {
                "kind": payload.kind.value,
                "opened_on": payload.received_on.isoformat(),
                "accuser_status": AccuserStatus(status).value if status else None,
                "origin_case_id": (
                    text(payload.linked_case_id) if payload.linked_case_id else None
                ),
            },
        )
    ]
    if payload.report_id is not None:
        rows.append(
            _row(
                "liaison_reports",
                {"report_id": text(payload.report_id)},
                {"case_id": case["case_id"]},
            )
        )
    return rows


def _disposition(
    envelope: EventEnvelope, case: dict[str, Any], payload: DispositionApprovedV1
) -> Upsert:
    held_on = payload.collective_study.get("held_on")
    # The collective study's day (stated by the user), else the approval's.
    day = dt.date.fromisoformat(str(held_on)) if held_on else payload.approved_on
    return _row(
        "liaison_cases",
        case,
        {
            "disposition": payload.disposition.value,
            "disposition_on": day.isoformat() if day else step_day(envelope),
        },
    )


def _selection(envelope: EventEnvelope, payload: Any) -> list[Upsert]:
    """A selection's event: its stage, the day it was proposed, what was voided and who was
    held responsible (grounds, steps and handlings: glossary values only)."""
    selection = {"selection_id": text(envelope.aggregate_id)}
    rows: list[Upsert] = []
    stage = stage_after(envelope.event_type, payload)
    if stage is not None:
        rows.append(_row("liaison_selections", selection, {"stage": stage.value}))
    match payload:
        case SelectionProposedV1():
            rows.append(
                _row("liaison_selections", selection, {"proposed_on": payload.on.isoformat()})
            )
        case AppointmentVoidedV1():
            rows += [
                _row(
                    "liaison_voided_appointments",
                    {"event_id": text(envelope.event_id), "ordinal": i},
                    {
                        **selection,
                        "ground": payload.ground.value,
                        "voided_on": payload.on.isoformat(),
                    },
                )
                for i, _ in enumerate(payload.candidates)
            ]
        case ResponsibilityTakenV1():
            rows.append(
                _row(
                    "liaison_responsibilities",
                    {"event_id": text(envelope.event_id)},
                    {
                        **selection,
                        "step": payload.step.value,
                        "handling": payload.handling.value,
                        "taken_on": payload.on.isoformat(),
                    },
                )
            )
    return rows


def _project(envelope: EventEnvelope, payload: Any) -> list[Upsert]:
    """A supervision project's opening: one row per irregularity it was opened on (glossary
    values only), with the day."""
    if not isinstance(payload, ProjectOpenedV1):
        return []
    return [
        _row(
            "liaison_projects",
            {"project_id": text(envelope.aggregate_id), "irregularity": irregularity.value},
            {"opened_on": payload.on.isoformat()},
        )
        for irregularity in payload.irregularities
    ]


def _casework(envelope: EventEnvelope, payload: Any) -> list[Upsert]:  # noqa: PLR0911
    if is_selection_event(envelope.event_type):
        return _selection(envelope, payload)
    if is_project_event(envelope.event_type):
        return _project(envelope, payload)
    case = {"case_id": text(envelope.aggregate_id)}
    rows: list[Upsert] = []
    state = state_after(envelope.event_type, payload)
    if state is not None:
        rows.append(_row("liaison_cases", case, {"state": state.value}))
    match payload:
        case CaseOpenedV1():
            return [*rows, *_opened(case, payload)]
        case ReportJoinedV1():
            return [
                *rows,
                _row(
                    "liaison_reports",
                    {"report_id": text(payload.report_id)},
                    {"case_id": case["case_id"]},
                ),
            ]
        case DispositionApprovedV1():
            return [*rows, _disposition(envelope, case, payload)]
        case ConclusionApprovedV1():
            on = step_day(envelope)
            verdict = payload.overall.value
            return [
                *rows,
                _row("liaison_cases", case, {"verdict": verdict, "concluded_on": on}),
                _row(
                    "liaison_conclusions",
                    {"event_id": text(envelope.event_id)},
                    {**case, "verdict": verdict, "concluded_on": on},
                ),
            ]
        case HandlingDecidedV1():
            return [
                *rows,
                _row(
                    "liaison_handlings",
                    {**case, "handling_id": payload.handling_id},
                    {
                        "handling": payload.handling.value,
                        "decided_on": payload.decided_on.isoformat(),
                    },
                ),
            ]
        case AdmonitionFollowedUpV1():
            return [
                *rows,
                _row(
                    "liaison_handlings",
                    {**case, "handling_id": payload.handling_id},
                    {
                        "follow_up_outcome": payload.outcome.value,
                        "followed_up_on": payload.followed_up_on.isoformat(),
                    },
                ),
            ]
        case ClearingCarriedOutV1():
            return [
                *rows,
                _row(
                    "liaison_clearings",
                    {"event_id": text(envelope.event_id)},
                    {
                        **case,
                        "method": payload.method.value,
                        "carried_out_on": payload.carried_out_on.isoformat(),
                    },
                ),
            ]
        case ClosedV1():
            return [
                *rows,
                _row("liaison_cases", case, {"closed_on": payload.closed_on.isoformat()}),
            ]
        case ReopenedV1():
            # Open again: the earlier conclusion no longer stands (its record stays in
            # liaison_conclusions).
            return [
                *rows,
                _row(
                    "liaison_cases",
                    case,
                    {"closed_on": None, "verdict": None, "concluded_on": None},
                ),
            ]
    return rows
