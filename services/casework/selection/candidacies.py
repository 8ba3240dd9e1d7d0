"""A cadre's candidacies: the selections that announced or publicized them, and the reports
casework received about them (issue 14, item 2: a report during a selection's notice holds
its candidate).

One small aggregate per cadre of the register, in casework's store, its id derived from the
cadre's id (``candidacies_id``: uuid5 under a fixed namespace; a cadre id is the information
base's key, nothing of a reporter). Both sides write it in their own transaction:

- a selection's inspection announcement (考察预告) and publicity (任前公示) note the
  selection for each candidate with a ``cadre_id`` (saved with the selection);
- casework, opening (or joining) a case from an accepted report, notes the report for each
  subject with a ``cadre_id`` (saved with the case).

Whichever comes second sees the other (the selection in the index, or the report) and holds
the candidate on the selection in the same transaction; two at the same moment write the
same version of this aggregate, so one is refused and tried again (the opening's batch) or
answered as a concurrent change (the step). The index is never published: no contract.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

# Fixed for good: every cadre's candidacies id is derived from it.
CANDIDACIES_NAMESPACE = UUID("5b0c6f5e-2d1a-4f7e-9c3b-0e8a4d6c1f27")


def candidacies_id(cadre_id: str) -> UUID:
    """The id of ``cadre_id``'s candidacies (the register's key, trimmed)."""
    return uuid5(CANDIDACIES_NAMESPACE, f"candidacies:{cadre_id.strip()}")


class CandidaciesCreated(Aggregate.Created):
    TOPIC = "jiandu.casework:Candidacies.Created"


class CandidaciesEvent(Aggregate.Event):
    TOPIC = "jiandu.casework:Candidacies.Event"


class Candidacies(Aggregate):
    """The selections a cadre stands in (by selection id: the candidate id there) and the
    reports about them (by report id: the case and the day received)."""

    TOPIC = "jiandu.casework:Candidacies"

    Created = CandidaciesCreated
    Event = CandidaciesEvent

    class Started(CandidaciesCreated):
        TOPIC = "jiandu.casework:Candidacies.Started"
        cadre_id: str

    class SelectionNoted(CandidaciesEvent):
        """A selection announced the cadre for inspection, or publicized them (``step``)."""

        TOPIC = "jiandu.casework:Candidacies.SelectionNoted"
        selection_id: UUID
        candidate_id: str
        step: str

        def apply(self, candidacies: Any) -> None:
            candidacies.selections[self.selection_id] = self.candidate_id

    class ReportNoted(CandidaciesEvent):
        """Casework opened (or joined) a case from a report about the cadre."""

        TOPIC = "jiandu.casework:Candidacies.ReportNoted"
        report_id: UUID
        case_id: UUID
        received_on: dt.date

        def apply(self, candidacies: Any) -> None:
            candidacies.reports[self.report_id] = {
                "case_id": self.case_id,
                "received_on": self.received_on,
            }

    def __init__(self, cadre_id: str) -> None:
        self.cadre_id = cadre_id
        self.selections: dict[UUID, str] = {}
        self.reports: dict[UUID, dict[str, Any]] = {}

    @classmethod
    def start(cls, cadre_id: str) -> Candidacies:
        return cls._create(cls.Started, id=candidacies_id(cadre_id), cadre_id=cadre_id)

    def note_selection(self, selection_id: UUID, candidate_id: str, step: str) -> None:
        self.trigger_event(
            self.SelectionNoted, selection_id=selection_id, candidate_id=candidate_id, step=step
        )

    def note_report(self, report_id: UUID, case_id: UUID, received_on: dt.date) -> bool:
        """Note a report; False (nothing recorded) when it was noted before."""
        if report_id in self.reports:
            return False
        self.trigger_event(
            self.ReportNoted, report_id=report_id, case_id=case_id, received_on=received_on
        )
        return True
