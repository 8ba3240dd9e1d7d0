"""Intake's aggregates (decision 0032): the Report and the registration ledger.

- ``report.py``: ``Report`` put together from its events, its commands, ``REPORT_CONTRACTS``;
- ``report_events.py``: what a report knows (``ReportRecord``) and the Report's events;
- ``triage.py``: who may do which report command in which state (``TRIAGE``), the refusals;
- ``ledger.py``: ``Ledger``, the gapless numbers of one year, ``LEDGER_CONTRACTS``;
- ``ids.py``: deterministic ids (report, case, ledger) and ledger numbers.

The names below are the package's public surface: import them from here.
"""

from services.intake.domain.ids import (
    LEDGER_PREFIX,
    NAMESPACE,
    case_id_for_report,
    format_ledger_number,
    ledger_id_for_year,
    report_id_for_idempotency_key,
)
from services.intake.domain.ledger import LEDGER_CONTRACTS, Ledger
from services.intake.domain.report import REPORT_CONTRACTS, REPORT_INTERNAL_FIELDS, Report
from services.intake.domain.triage import TRIAGE, TRIAGE_ACTIONS, IntakeRuleBroken, ReportNotFound

__all__ = [
    "LEDGER_CONTRACTS",
    "LEDGER_PREFIX",
    "NAMESPACE",
    "REPORT_CONTRACTS",
    "REPORT_INTERNAL_FIELDS",
    "TRIAGE",
    "TRIAGE_ACTIONS",
    "IntakeRuleBroken",
    "Ledger",
    "Report",
    "ReportNotFound",
    "case_id_for_report",
    "format_ledger_number",
    "ledger_id_for_year",
    "report_id_for_idempotency_key",
]
