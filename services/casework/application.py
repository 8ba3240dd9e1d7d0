"""The casework process application: consumes intake's events exactly once.

Each upstream event is processed with a tracking record (upstream name and position)
written in the same transaction as the events it causes, so a redelivered event is
recognised and changes nothing. Over Kafka the upstream name includes the partition
(``intake#p3``): tracking keeps one maximum position per name.
"""

from __future__ import annotations

import logging
from typing import ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent
from eventsourcing.persistence import IntegrityError, ProcessRecorder, Tracking

from schemas.events import EventEnvelope, ReportAcceptedV1, Source, parse_payload
from services.casework.domain import Case
from services.common.application import JianduApplication

log = logging.getLogger(__name__)


class CaseNotFound(LookupError):
    def __init__(self, case_id: UUID) -> None:
        super().__init__(f"no case {case_id}")


class CaseworkApplication(JianduApplication):
    name = "casework"
    source: ClassVar[Source] = "casework"

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        recorder = self.recorder
        assert isinstance(recorder, ProcessRecorder)
        return recorder

    # -- consuming -----------------------------------------------------------------------

    def position(self, upstream: str) -> int:
        """The last upstream position processed under this tracking name (0 if none)."""
        return self.process_recorder.max_tracking_id(upstream) or 0

    def handle(self, envelope: EventEnvelope, upstream: str) -> bool:
        """Process one upstream event; False when it was processed before."""
        if self.process_recorder.has_tracking_id(upstream, envelope.position):
            return False
        processing = ProcessingEvent[UUID](Tracking(upstream, envelope.position))
        self._policy(envelope, processing)
        try:
            recordings = self._record(processing)
        except IntegrityError:
            if self.process_recorder.has_tracking_id(upstream, envelope.position):
                return False  # a concurrent consumer got there first
            raise
        self._take_snapshots(processing)
        self.notify(processing.events)
        self._notify(recordings)
        return True

    def _policy(self, envelope: EventEnvelope, processing: ProcessingEvent[UUID]) -> None:
        if envelope.source != "intake" or envelope.event_type != "ReportAccepted":
            return
        accepted = parse_payload(envelope)
        assert isinstance(accepted, ReportAcceptedV1)
        if self._case_exists(accepted.case_id):
            return  # the same report accepted again through another path: one case only
        case = Case(
            id=accepted.case_id,
            report_id=envelope.aggregate_id,
            ledger_number=accepted.ledger_number,
            channel=accepted.channel.value,
            categories=[c.value for c in accepted.categories],
            subjects=[s.model_dump() for s in accepted.subjects],
            summary=accepted.summary,
            received_on=accepted.received_on,
            actor=accepted.actor.model_dump(mode="json"),
        )
        processing.collect_events(case)

    def _case_exists(self, case_id: UUID) -> bool:
        try:
            self.repository.get(case_id)
        except AggregateNotFoundError:
            return False
        return True

    # -- queries -------------------------------------------------------------------------

    def get_case(self, case_id: UUID) -> Case:
        try:
            case: Case = self.repository.get(case_id)
        except AggregateNotFoundError:
            raise CaseNotFound(case_id) from None
        return case
