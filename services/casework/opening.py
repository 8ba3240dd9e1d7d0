"""Casework consumes intake's events exactly once: an accepted report opens its case, or
joins the case named (并案); a report about a cadre a selection announced or publicized,
received within that notice, holds the candidate on the selection (``candidacies.py``).

Each upstream event is processed with a tracking record (upstream name and position)
written in the same transaction as the events it causes, so a redelivered event is
recognised and changes nothing. Over Kafka the upstream name includes the partition
(``intake#p3``): tracking keeps one maximum position per name.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent, project_aggregate
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Tracking

from schemas.events import EventEnvelope, ReportAcceptedV1, parse_payload
from services.casework.base import CaseworkBase
from services.casework.domain import Case
from services.casework.selection import Selection
from services.casework.selection.candidacies import Candidacies, candidacies_id
from services.common.china_time import china_date
from services.common.process_recorders import (
    TRACKING_FROM,
    BatchPostgresProcessRecorder,
    BatchSQLiteProcessRecorder,
)

log = logging.getLogger(__name__)

CONFLICT_ATTEMPTS = 3


class CaseOpening(CaseworkBase):
    """The consuming side of the casework application."""

    def position(self, upstream: str) -> int:
        """The last upstream position processed under this tracking name (0 if none)."""
        return self.process_recorder.max_tracking_id(upstream) or 0

    def handle(self, envelope: EventEnvelope, upstream: str) -> bool:
        """Process one upstream event; False when it was processed before."""
        return self.handle_batch([envelope], upstream) > 0

    def handle_batch(self, envelopes: Sequence[EventEnvelope], upstream: str) -> int:
        """Process a run of upstream events of one tracking name (one Kafka partition), in
        order, in ONE transaction: every event they cause and one tracking row, the last
        position processed. Returns how many were processed; the others (at or below the
        recorded position: a redelivered batch, or the overlap of one after a crash or a
        rebalance) were processed before and are skipped one by one.

        The transaction is refused when another consumer recorded a position at or above
        this batch's first one meanwhile, or saved a case this batch changes (a version
        conflict); the batch is then worked out again from what is stored now (its already
        processed events skipped), up to ``CONFLICT_ATTEMPTS`` times."""
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return self._handle_batch(envelopes, upstream)
            except IntegrityError:
                if attempt == CONFLICT_ATTEMPTS:
                    raise
                log.info("casework: %s batch met a concurrent change; again", upstream)
        raise AssertionError("unreachable")

    def _handle_batch(self, envelopes: Sequence[EventEnvelope], upstream: str) -> int:
        last = self.position(upstream)  # one read per batch, not per event
        batch = _Batch(self)
        todo: list[tuple[EventEnvelope, ReportAcceptedV1 | None]] = []
        for envelope in envelopes:
            if envelope.position <= last:
                continue  # processed before (a redelivery), or met twice in this batch
            todo.append((envelope, _accepted(envelope)))
            last = envelope.position
        if not todo:
            return 0
        batch.load([accepted.case_id for _, accepted in todo if accepted is not None])
        batch.load_candidacies(
            [cadre for _, accepted in todo if accepted is not None for cadre in _cadres(accepted)]
        )
        for envelope, accepted in todo:
            if accepted is not None:
                self._policy(envelope, accepted, batch)
        processing = batch.processing
        processing.tracking = Tracking(upstream, last)
        if len(todo) > 1:
            first = Tracking(upstream, todo[0][0].position)
            processing.collect_events(**{TRACKING_FROM: first})
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        return len(todo)

    def _policy(self, envelope: EventEnvelope, accepted: ReportAcceptedV1, batch: _Batch) -> None:
        """A report accepted: its case opens, or (并案) it joins the case named."""
        existing = batch.case(accepted.case_id)
        subjects = [s.model_dump() for s in accepted.subjects]
        categories = [cat.value for cat in accepted.categories]
        reporter = accepted.reporter.model_dump()
        if existing is not None:
            # Joining an open case (并案), or the same acceptance seen again: one case only.
            existing.join_report(
                report_id=envelope.aggregate_id,
                ledger_number=accepted.ledger_number,
                categories=categories,
                subjects=subjects,
                reporter=reporter,
                actor=accepted.actor.model_dump(mode="json"),
                joined_on=accepted.accepted_on or china_date(envelope.occurred_at),
            )
            batch.collect(existing)
            self._hold_candidates(envelope, accepted, batch)
            return
        case = Case.open(
            accepted.case_id,
            report_id=envelope.aggregate_id,
            ledger_number=accepted.ledger_number,
            channel=accepted.channel.value,
            categories=categories,
            subjects=subjects,
            summary=accepted.summary,
            received_on=accepted.received_on,
            reporter=reporter,
            actor=accepted.actor.model_dump(mode="json"),
            reason=accepted.reason,
            # Acceptances recorded before they carried their day: the China date they happened.
            opened_on=accepted.accepted_on or china_date(envelope.occurred_at),
        )
        batch.collect(case)
        self._hold_candidates(envelope, accepted, batch)

    def _hold_candidates(
        self, envelope: EventEnvelope, accepted: ReportAcceptedV1, batch: _Batch
    ) -> None:
        """The report is noted in the candidacies of each registered cadre it names (saved
        with the case: a selection's notice recorded at the same moment conflicts with it);
        each selection that announced or publicized the cadre, with a notice covering the
        day the report was received, holds the candidate, naming the report and the case
        (``Selection.hold_on_report``: once per report)."""
        report_id = envelope.aggregate_id
        for cadre_id in _cadres(accepted):
            candidacies = batch.candidacies(cadre_id)
            if not candidacies.note_report(report_id, accepted.case_id, accepted.received_on):
                continue  # noted before: this acceptance was processed before
            for selection_id, candidate_id in candidacies.selections.items():
                selection = batch.selection(selection_id)
                if selection is not None and selection.hold_on_report(
                    candidate_id=candidate_id,
                    report_id=report_id,
                    case_id=accepted.case_id,
                    received_on=accepted.received_on,
                ):
                    batch.collect(selection)
            batch.collect(candidacies)


def _accepted(envelope: EventEnvelope) -> ReportAcceptedV1 | None:
    """The acceptance this envelope carries (the one intake event casework acts on)."""
    if envelope.source != "intake" or envelope.event_type != "ReportAccepted":
        return None
    accepted = parse_payload(envelope)
    assert isinstance(accepted, ReportAcceptedV1)
    return accepted


def _cadres(accepted: ReportAcceptedV1) -> list[str]:
    """The registered cadres a report names (their ids, each once)."""
    return list(dict.fromkeys(s.cadre_id for s in accepted.subjects if s.cadre_id))


class _Batch:
    """What one batch of upstream events causes, and the aggregates it touched: a report
    accepted into a case opened earlier in the same batch (并案) joins that case, not a
    second one; a cadre's candidacies and a selection are changed by each report in turn."""

    def __init__(self, app: CaseworkBase) -> None:
        self.app = app
        self.processing = ProcessingEvent[UUID]()
        self.cases: dict[UUID, Case | None] = {}
        self.others: dict[UUID, Aggregate | None] = {}

    def _read(self, ids: list[UUID]) -> dict[UUID, Aggregate | None] | None:
        """These aggregates, read at once (one query): None for the ones with no event, the
        others rebuilt from their events as ``repository.get`` would from the log (a
        snapshot only shortens that; every event is kept). None without a batch recorder:
        each is then read from the repository as it is first met."""
        recorder = self.app.recorder
        if not isinstance(recorder, BatchPostgresProcessRecorder | BatchSQLiteProcessRecorder):
            return None
        events: dict[UUID, list[Any]] = {aggregate_id: [] for aggregate_id in ids}
        for stored in recorder.events_of(ids):
            event = self.app.mapper.to_domain_event(stored)
            events[event.originator_id].append(event)
        return {
            i: project_aggregate(None, history) if history else None
            for i, history in events.items()
        }

    def load(self, case_ids: list[UUID]) -> None:
        """The batch's cases, read at once; the ones with no event are new."""
        for case_id, case in (self._read(case_ids) or {}).items():
            if case is None or isinstance(case, Case):
                self.cases[case_id] = case

    def load_candidacies(self, cadre_ids: list[str]) -> None:
        """The candidacies of the cadres the batch's reports name, then the selections they
        list, each read at once."""
        found = self._read([candidacies_id(cadre_id) for cadre_id in set(cadre_ids)])
        if found is None:
            return
        self.others.update(found)
        selection_ids = {
            selection_id
            for candidacies in found.values()
            if isinstance(candidacies, Candidacies)
            for selection_id in candidacies.selections
        }
        self.others.update(self._read(list(selection_ids)) or {})

    def case(self, case_id: UUID) -> Case | None:
        if case_id not in self.cases:
            self.cases[case_id] = self.app._find(case_id)
        return self.cases[case_id]

    def _other(self, aggregate_id: UUID) -> Aggregate | None:
        if aggregate_id not in self.others:
            try:
                self.others[aggregate_id] = self.app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                self.others[aggregate_id] = None
        return self.others[aggregate_id]

    def candidacies(self, cadre_id: str) -> Candidacies:
        """The cadre's candidacies; started (not yet saved) when there are none."""
        found = self._other(candidacies_id(cadre_id))
        if isinstance(found, Candidacies):
            return found
        candidacies = Candidacies.start(cadre_id)
        self.others[candidacies.id] = candidacies
        return candidacies

    def selection(self, selection_id: UUID) -> Selection | None:
        found = self._other(selection_id)
        return found if isinstance(found, Selection) else None

    def collect(self, aggregate: Aggregate) -> None:
        if isinstance(aggregate, Case):
            self.cases[aggregate.id] = aggregate
        else:
            self.others[aggregate.id] = aggregate
        self.processing.collect_events(aggregate)
