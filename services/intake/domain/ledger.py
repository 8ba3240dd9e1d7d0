"""The registration ledger (登记台账) of one year: gapless numbers under optimistic locking."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate

from services.intake.domain.ids import format_ledger_number, ledger_id_for_year


class Ledger(Aggregate, created_event_name="Opened"):
    """The registration ledger of one year: allocates gapless numbers under optimistic locking."""

    TOPIC = "jiandu.intake:Ledger"

    class Created(Aggregate.Created):
        TOPIC = "jiandu.intake:Ledger.Created"

    class Event(Aggregate.Event):
        TOPIC = "jiandu.intake:Ledger.Event"

    class Opened(Created):
        TOPIC = "jiandu.intake:Ledger.Opened"
        year: int

    class NumberAllocated(Event):
        TOPIC = "jiandu.intake:Ledger.NumberAllocated"
        sequence: int
        report_id: UUID

        def apply(self, ledger: Ledger) -> None:
            ledger.last_sequence = self.sequence

    def __init__(self, *, id: UUID, year: int) -> None:
        self.year = year
        self.last_sequence = 0

    @classmethod
    def open(cls, year: int) -> Ledger:
        return cls(id=ledger_id_for_year(year), year=year)

    def allocate(self, report_id: UUID) -> str:
        self.trigger_event(
            self.NumberAllocated, sequence=self.last_sequence + 1, report_id=report_id
        )
        return format_ledger_number(self.year, self.last_sequence)


# The ledger's events are internal: never published, no contract (the report's Registered
# event carries the number it allocated). Listed so that every event class is in a table.
LEDGER_CONTRACTS: dict[type[Aggregate.Event], None] = {
    Ledger.Opened: None,
    Ledger.NumberAllocated: None,
}
