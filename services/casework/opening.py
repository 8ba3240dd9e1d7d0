"""Casework consumes intake's events exactly once: an accepted report opens its case, or
joins the case named (并案).

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

from eventsourcing.application import ProcessingEvent, project_aggregate
from eventsourcing.persistence import IntegrityError, Tracking

from schemas.events import EventEnvelope, ReportAcceptedV1, parse_payload
from services.casework.base import CaseworkBase
from services.casework.domain import Case
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


def _accepted(envelope: EventEnvelope) -> ReportAcceptedV1 | None:
    """The acceptance this envelope carries (the one intake event casework acts on)."""
    if envelope.source != "intake" or envelope.event_type != "ReportAccepted":
        return None
    accepted = parse_payload(envelope)
    assert isinstance(accepted, ReportAcceptedV1)
    return accepted


class _Batch:
    """What one batch of upstream events causes, and the cases it touched: a report accepted
    into a case opened earlier in the same batch (并案) joins that case, not a second one."""

    def __init__(self, app: CaseworkBase) -> None:
        self.app = app
        self.processing = ProcessingEvent[UUID]()
        self.cases: dict[UUID, Case | None] = {}

    def load(self, case_ids: list[UUID]) -> None:
        """The batch's cases, read at once (one query): the ones with no event are new, the
        others are rebuilt from their events as ``repository.get`` would from the log (a
        snapshot only shortens that; every event is kept)."""
        recorder = self.app.recorder
        if not isinstance(recorder, BatchPostgresProcessRecorder | BatchSQLiteProcessRecorder):
            return  # each case then from the repository, as it is first met
        events: dict[UUID, list[Any]] = {case_id: [] for case_id in case_ids}
        for stored in recorder.events_of(case_ids):
            event = self.app.mapper.to_domain_event(stored)
            events[event.originator_id].append(event)
        for case_id, history in events.items():
            case = project_aggregate(None, history) if history else None
            if case is None or isinstance(case, Case):
                self.cases[case_id] = case

    def case(self, case_id: UUID) -> Case | None:
        if case_id not in self.cases:
            self.cases[case_id] = self.app._find(case_id)
        return self.cases[case_id]

    def collect(self, case: Case) -> None:
        self.cases[case.id] = case
        self.processing.collect_events(case)
