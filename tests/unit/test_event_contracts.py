"""Every internal event is in its aggregate's contract table, and every published event's
payload model has exactly the event class's own fields, less the ones named internal
(decision 0029)."""

from __future__ import annotations

import pytest

from schemas.events import PAYLOADS
from services.casework.domain import CASE_CONTRACTS, CASE_INTERNAL_FIELDS, Case
from services.common.contracts import own_fields
from services.intake.domain import (
    LEDGER_CONTRACTS,
    REPORT_CONTRACTS,
    REPORT_INTERNAL_FIELDS,
    Ledger,
    Report,
)

PUBLISHED = [
    (cls, contract, REPORT_INTERNAL_FIELDS.get(cls, frozenset()))
    for cls, contract in REPORT_CONTRACTS.items()
] + [(cls, contract, CASE_INTERNAL_FIELDS[cls]) for cls, contract in CASE_CONTRACTS.items()]


def _event_classes(aggregate: type) -> set[type]:
    """The concrete events an aggregate stores (not its Created and Event bases)."""
    return {
        member
        for name, member in vars(aggregate).items()
        if isinstance(member, type) and name not in ("Created", "Event") and own_fields(member)
    }


@pytest.mark.parametrize(
    ("aggregate", "table"),
    [(Report, REPORT_CONTRACTS), (Ledger, LEDGER_CONTRACTS), (Case, CASE_CONTRACTS)],
)
def test_every_event_class_is_in_its_table(aggregate: type, table: dict[type, object]) -> None:
    assert _event_classes(aggregate) == set(table)


@pytest.mark.parametrize(
    ("event_class", "contract", "internal"), PUBLISHED, ids=lambda x: getattr(x, "__qualname__", "")
)
def test_payload_fields_are_the_event_fields(
    event_class: type, contract: tuple[str, int, type], internal: frozenset[str]
) -> None:
    event_type, version, model = contract
    assert PAYLOADS[(event_type, version)] is model
    assert internal <= own_fields(event_class)
    assert set(model.model_fields) == own_fields(event_class) - internal
    assert getattr(event_class, "CONTRACT") == contract  # noqa: B009


def test_every_published_contract_has_an_event() -> None:
    bound = {contract[:2] for _, contract, _ in PUBLISHED}
    assert bound == set(PAYLOADS)


def test_the_ledger_is_not_published() -> None:
    assert not any(hasattr(cls, "CONTRACT") for cls in LEDGER_CONTRACTS)
