"""The integrity opinion, the inspection and the deliberation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.casework.selection import rules
from services.casework.selection.record import (
    Actor,
    Person,
    SelectionEvent,
    SelectionRecord,
    distinct,
)


class IntegrityOpinionsRequested(SelectionEvent):
    """The organization department asks for the integrity opinions of ``candidates`` (廉政意见),
    of ``requested_of`` (the supervision office, which replies from the information base)."""

    TOPIC = "jiandu.casework:Selection.IntegrityOpinionsRequested"
    candidates: list[str]
    requested_of: str

    def apply(self, selection: SelectionRecord) -> None:
        for candidate_id in self.candidates:
            selection.opinion_requests[candidate_id] = self.on


class IntegrityOpinionRecorded(SelectionEvent):
    """The integrity opinion: per candidate, the unit that gave it, when it was received, clean
    or not, its summary and a reference. Recorded by the cadre section from the discipline
    commission's letter, or by the supervision office as its reply from the information base
    (which answers the request)."""

    TOPIC = "jiandu.casework:Selection.IntegrityOpinionRecorded"
    opinions: list[dict[str, Any]]

    def apply(self, selection: SelectionRecord) -> None:
        for opinion in self.opinions:
            selection.opinions[opinion["candidate_id"]] = dict(opinion)
            selection.opinion_requests.pop(opinion["candidate_id"], None)


class InspectionRecorded(SelectionEvent):
    """The inspection: who inspected (and answers for it) and the findings per subject."""

    TOPIC = "jiandu.casework:Selection.InspectionRecorded"
    inspectors: list[Person]
    findings: list[dict[str, Any]]
    document_number: str

    def apply(self, selection: SelectionRecord) -> None:
        for finding in self.findings:
            selection.findings[finding["candidate_id"]] = dict(finding)
        selection.inspected_on = self.on  # the day its feedback names (decision 0035)
        inspectors = selection.people.setdefault("inspection", [])
        inspectors += [dict(p) for p in self.inspectors if p not in inspectors]


class DeliberationRecorded(SelectionEvent):
    """The deliberation: the candidates deliberated, who was consulted, what came of it."""

    TOPIC = "jiandu.casework:Selection.DeliberationRecorded"
    candidates: list[str]
    consulted: list[Person]
    summary: str

    def apply(self, selection: SelectionRecord) -> None:
        selection.deliberated = list(self.candidates)
        selection.people["deliberation"] = [dict(p) for p in self.consulted]


class InspectionSteps(SelectionRecord):
    """Integrity opinions, the inspection and the deliberation recorded."""

    def request_integrity_opinions(
        self,
        *,
        candidates: list[str],
        requested_of: str,
        actor: Actor,
        on: dt.date,
        reason: str = "",
    ) -> None:
        """Ask ``requested_of`` (the supervision office) for the integrity opinions of
        ``candidates``, inspection subjects (没有提供廉政鉴定的不上会)."""
        self._permit("request_integrity_opinions", actor, on)
        distinct(candidates)
        rules.INSPECTION_SUBJECT.require(all(c in self.subjects for c in candidates))
        self._record(
            IntegrityOpinionsRequested,
            actor=actor,
            reason=reason,
            on=on,
            candidates=list(candidates),
            requested_of=requested_of,
        )

    def reply_integrity_opinions(
        self,
        *,
        opinions: list[dict[str, Any]],
        actor: Actor,
        on: dt.date,
        reason: str = "",
    ) -> None:
        """The supervision office's reply to a request (``OPINION_REQUESTED``): the opinions,
        as ``record_integrity_opinion`` takes them, produced by the application from the
        information base."""
        self._permit("reply_integrity_opinions", actor, on)
        rules.OPINION_REQUESTED.require(
            all(o["candidate_id"] in self.opinion_requests for o in opinions)
        )
        self._opinions(opinions, actor, on, reason)

    def record_integrity_opinion(
        self,
        *,
        opinions: list[dict[str, Any]],
        actor: Actor,
        on: dt.date,
        reason: str = "",
    ) -> None:
        """Integrity opinions: ``opinions`` are each ``{candidate_id, given_by, received_on, clean,
        summary, reference}``, about inspection subjects; a later opinion about the same
        candidate replaces the earlier one."""
        self._permit("record_integrity_opinion", actor, on)
        self._opinions(opinions, actor, on, reason)

    def _opinions(
        self, opinions: list[dict[str, Any]], actor: Actor, on: dt.date, reason: str
    ) -> None:
        distinct([o["candidate_id"] for o in opinions])
        rules.INSPECTION_SUBJECT.require(all(o["candidate_id"] in self.subjects for o in opinions))
        rules.OPINION_RECEIVED.require(all(o["received_on"] <= on for o in opinions))
        self._record(
            IntegrityOpinionRecorded,
            actor=actor,
            reason=reason,
            on=on,
            opinions=[dict(o) for o in opinions],
        )

    def record_inspection(
        self,
        *,
        inspectors: list[Person],
        findings: list[dict[str, Any]],
        actor: Actor,
        on: dt.date,
        document_number: str = "",
        reason: str = "",
    ) -> None:
        """The inspection by ``inspectors``: ``findings`` are each ``{candidate_id, summary}``, about
        inspection subjects, on or after the announcement's first day."""
        self._permit("record_inspection", actor, on)
        announcement = self.announcement
        assert announcement is not None  # the stage says the inspection was announced
        rules.INSPECTION_AFTER_ANNOUNCEMENT.require(on >= announcement["starts_on"])
        distinct([f["candidate_id"] for f in findings])
        rules.INSPECTION_SUBJECT.require(all(f["candidate_id"] in self.subjects for f in findings))
        self._record(
            InspectionRecorded,
            actor=actor,
            reason=reason,
            on=on,
            inspectors=[dict(p) for p in inspectors],
            findings=[dict(f) for f in findings],
            document_number=document_number,
        )

    def record_deliberation(
        self,
        *,
        candidates: list[str],
        consulted: list[Person],
        actor: Actor,
        on: dt.date,
        summary: str = "",
        reason: str = "",
    ) -> None:
        """The deliberation of ``candidates`` (inspected ones: ``NO_INSPECTION_NO_DISCUSSION``) with
        ``consulted``."""
        self._permit("record_deliberation", actor, on)
        distinct(candidates)
        rules.NO_INSPECTION_NO_DISCUSSION.require(all(c in self.findings for c in candidates))
        self._record(
            DeliberationRecorded,
            actor=actor,
            reason=reason,
            on=on,
            candidates=list(candidates),
            consulted=[dict(p) for p in consulted],
            summary=summary,
        )
