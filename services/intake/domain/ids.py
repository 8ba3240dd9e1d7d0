"""Deterministic ids and ledger numbers of intake: a redelivery or a retry finds the same
report, case or ledger instead of making a second one."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

NAMESPACE = uuid5(NAMESPACE_URL, "https://jiandu.example/ns/intake")
LEDGER_PREFIX = "JB"


def report_id_for_idempotency_key(key: str) -> UUID:
    """The report id of an Idempotency-Key before keys became per submitter (decision 0013):
    one id per key, whoever sent it. Only looked up, for reports registered that way."""
    return uuid5(NAMESPACE, f"idempotency-key:{key}")


def case_id_for_report(report_id: UUID) -> UUID:
    """The case a report opens: deterministic, so a redelivery cannot open a second one."""
    return uuid5(NAMESPACE, f"case-of:{report_id}")


def ledger_id_for_year(year: int) -> UUID:
    return uuid5(NAMESPACE, f"ledger:{year}")


def format_ledger_number(year: int, sequence: int) -> str:
    return f"{LEDGER_PREFIX}-{year}-{sequence:06d}"
