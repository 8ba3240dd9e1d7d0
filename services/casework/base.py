"""What every part of the casework application shares: its configuration (the calendar,
the time limits, the handling effects), its process recorder, the case repository and the
deadlines it computes.

The application is composed in :mod:`services.casework.application` of this base, the
consumer of intake's events that opens cases (:mod:`services.casework.opening`) and the
command handlers with the ``COMMANDS`` table (:mod:`services.casework.handlers`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import ProcessRecorder

from schemas.glossary import DocumentKind, HandlingType
from services.calendar.deadlines import (
    Due,
    TimeLimits,
    WorkingDayCalendar,
    due_in_months,
    due_in_working_days,
)
from services.calendar.handling import HandlingEffect
from services.casework.domain import Case
from services.casework.rules import CaseNotFound
from services.casework.selection import Selection
from services.casework.selection.candidacies import Candidacies, candidacies_id
from services.common.application import JianduApplication
from services.common.china_time import china_today
from services.common.config import Config
from services.common.process_recorders import use_batch_recorders
from services.common.registers import DocumentRegister, document_register, number_document

# Is this username an active account with the handler role? (services/bootstrap.py asks
# the accounts store; casework does not know accounts otherwise.)
HandlerCheck = Callable[[str], bool]
# The register's record of a cadre ({cadre_id, name, unit, position}), or None.
CadreLookup = Callable[[str], dict[str, Any] | None]
# The information base's integrity reply (廉政意见回复) about registered cadres on a day: per
# cadre id, whether something stands in the way of their promotion and the reply's words;
# LookupError naming the ids the register does not hold.
IntegrityLookup = Callable[[list[str], dt.date, str], dict[str, tuple[bool, str]]]


class CaseworkBase(JianduApplication):
    """The casework application's state and reads (composed in ``application.py``)."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        config: Config | None = None,
        today: Callable[[], dt.date] = china_today,
        is_handler: HandlerCheck | None = None,
        cadre_lookup: CadreLookup | None = None,
        id_key: bytes | None = None,
        integrity: IntegrityLookup | None = None,
    ) -> None:
        super().__init__(env)
        # The key of ids derived from a caller's Idempotency-Key (selections.py): the
        # deployed processes derive it from JIANDU_SECRET_KEY, so a retry finds its first
        # answer in any process; without one (bare unit tests), a random key of this
        # instance: retries are recognised by this instance only.
        self.id_key = id_key if id_key is not None else secrets.token_bytes(32)
        self.config = config or Config()
        self.today = today
        # None: no accounts to ask (bare unit tests); the deployed processes always set it.
        self.is_handler = is_handler
        self.cadre_lookup = cadre_lookup
        # None: no information base to ask (bare unit tests); the deployed processes set it.
        self.integrity = integrity

    @property
    def calendar(self) -> WorkingDayCalendar:
        return self.config.calendar()

    @property
    def limits(self) -> TimeLimits:
        return self.config.limits()

    @property
    def effects(self) -> dict[HandlingType, HandlingEffect]:
        return self.config.effects()

    def construct_recorder(self) -> ProcessRecorder:
        use_batch_recorders(self.factory)  # a batch's tracking guard (process_recorders.py)
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        recorder = self.recorder
        assert isinstance(recorder, ProcessRecorder)
        return recorder

    def _find(self, case_id: UUID) -> Case | None:
        try:
            case: Case = self.repository.get(case_id)
        except AggregateNotFoundError:
            return None
        return case

    # -- queries -------------------------------------------------------------------------

    def get_case(self, case_id: UUID) -> Case:
        case = self._find(case_id)
        if case is None:
            raise CaseNotFound(case_id)
        return case

    def selection_holds_of(self, case: Case) -> list[dict[str, Any]]:
        """The selections' candidates this case's reports hold or held: found through the
        candidacies of each registered cadre the case names."""
        found: list[dict[str, Any]] = []
        cadre_ids = dict.fromkeys(str(s["cadre_id"]) for s in case.subjects if s.get("cadre_id"))
        for cadre_id in cadre_ids:
            try:
                candidacies: Candidacies = self.repository.get(candidacies_id(cadre_id))
            except AggregateNotFoundError:
                continue
            for selection_id, candidate_id in candidacies.selections.items():
                selection: Selection = self.repository.get(selection_id)
                assert isinstance(selection, Selection)  # candidacies list selections only
                for report_id in selection.held_by.get(candidate_id, {}):
                    if report_id not in case.report_ids:
                        continue
                    candidate = selection.candidates.get(candidate_id, {})
                    found.append(
                        {
                            "selection_id": selection_id,
                            "unit": selection.unit,
                            "posts": list(selection.posts),
                            "stage": selection.stage,
                            "candidate_id": candidate_id,
                            "candidate_name": candidate.get("name", ""),
                            "cadre_id": cadre_id,
                            "report_id": report_id,
                            "held": report_id in selection.holds.get(candidate_id, []),
                        }
                    )
        return found

    def held_on_selections(self, case: Case) -> frozenset[str]:
        """The cadres (ids) the case's reports hold on a selection now."""
        return frozenset(h["cadre_id"] for h in self.selection_holds_of(case) if h["held"])

    # -- official documents (decision 0035) ------------------------------------------------

    def document_register(self, kind: DocumentKind, year: int) -> DocumentRegister:
        """The register of ``kind``'s numbers in ``year`` (started when first used)."""
        return document_register(self.repository, kind, year)

    def number_document(
        self, kind: DocumentKind, owner_id: UUID, about: str, issued_on: dt.date
    ) -> tuple[DocumentRegister, dict[str, str], str]:
        """Take the next number of ``kind`` (``registers.number_document``)."""
        register = self.document_register(kind, issued_on.year)
        return number_document(register, self.config, owner_id, about, issued_on)

    # -- deadlines -------------------------------------------------------------------------

    def due_in_working_days(self, start: dt.date, days: int) -> Due:
        return due_in_working_days(self.calendar, start, days)

    def due_in_months(self, start: dt.date, months: int) -> Due:
        return due_in_months(start, months)
