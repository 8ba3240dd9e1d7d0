"""Every internal event is in its aggregate's contract table, and every published event's
payload model has exactly the event class's own fields, less the ones named internal
(decision 0029)."""

from __future__ import annotations

import pytest

from schemas.events import PAYLOADS
from schemas.glossary import EVENT_LABELS
from services.casework.domain import CASE_CONTRACTS, CASE_INTERNAL_FIELDS, Case
from services.casework.project import (
    PROJECT_CONTRACTS,
    PROJECT_INTERNAL_FIELDS,
    SupervisionProject,
)
from services.casework.selection import SELECTION_CONTRACTS, SELECTION_INTERNAL_FIELDS, Selection
from services.common.contracts import own_fields
from services.intake.domain import (
    LEDGER_CONTRACTS,
    REPORT_CONTRACTS,
    REPORT_INTERNAL_FIELDS,
    Ledger,
    Report,
)

PUBLISHED = (
    [
        (cls, contract, REPORT_INTERNAL_FIELDS.get(cls, frozenset()))
        for cls, contract in REPORT_CONTRACTS.items()
    ]
    + [(cls, contract, CASE_INTERNAL_FIELDS[cls]) for cls, contract in CASE_CONTRACTS.items()]
    + [
        (cls, contract, SELECTION_INTERNAL_FIELDS[cls])
        for cls, contract in SELECTION_CONTRACTS.items()
    ]
    + [(cls, contract, PROJECT_INTERNAL_FIELDS[cls]) for cls, contract in PROJECT_CONTRACTS.items()]
)


def _event_classes(aggregate: type) -> set[type]:
    """The concrete events an aggregate stores (not its Created and Event bases)."""
    return {
        member
        for name, member in vars(aggregate).items()
        if isinstance(member, type) and name not in ("Created", "Event") and own_fields(member)
    }


@pytest.mark.parametrize(
    ("aggregate", "table"),
    [
        (Report, REPORT_CONTRACTS),
        (Ledger, LEDGER_CONTRACTS),
        (Case, CASE_CONTRACTS),
        (Selection, SELECTION_CONTRACTS),
        (SupervisionProject, PROJECT_CONTRACTS),
    ],
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


def test_event_types_are_unique_across_the_aggregates() -> None:
    """One event type, one event class: a consumer routes by the type alone."""
    types = [contract[0] for _, contract, _ in PUBLISHED]
    assert len(types) == len(set(types))


def test_every_published_event_type_has_its_label() -> None:
    """Timelines, archives and the audit's filter of steps name each step in Chinese; a step
    without a label showed its English type and could not be searched for."""
    types = {contract[0] for _, contract, _ in PUBLISHED}
    assert types - set(EVENT_LABELS) == set()


def test_the_selection_publishes_on_the_casework_source() -> None:
    """Selection events live in casework's store (decision 0034): their topics say so."""
    for cls in SELECTION_CONTRACTS:
        assert cls.TOPIC.startswith("jiandu.casework:Selection.")  # type: ignore[attr-defined]


def test_the_supervision_project_publishes_on_the_casework_source() -> None:
    """Project events live in casework's store, beside the cases and selections."""
    for cls in PROJECT_CONTRACTS:
        assert cls.TOPIC.startswith("jiandu.casework:SupervisionProject.")  # type: ignore[attr-defined]


def test_the_ledger_is_not_published() -> None:
    assert not any(hasattr(cls, "CONTRACT") for cls in LEDGER_CONTRACTS)
