"""The decision, the pre-appointment publicity and the appointment."""

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
    period,
)

# The publicity lasts at least 5 working days (the application counts them on its calendar).
PUBLICITY_WORKING_DAYS = 5


class DecisionRecorded(SelectionEvent):
    """The decision: the body, its members due and present, each candidate's votes and whether
    the candidate was approved (by more than half the members due), who decided (and
    answers for it)."""

    TOPIC = "jiandu.casework:Selection.DecisionRecorded"
    body: str
    members_due: int
    members_present: int
    votes: list[dict[str, Any]]
    decision_makers: list[Person]
    document_number: str

    def apply(self, selection: SelectionRecord) -> None:
        selection.decision = {
            "body": self.body,
            "members_due": self.members_due,
            "members_present": self.members_present,
            "on": self.on,
        }
        selection.approved = [v["candidate_id"] for v in self.votes if v["approved"]]
        selection.voted = [v["candidate_id"] for v in self.votes]
        selection.people["decision"] = [dict(p) for p in self.decision_makers]


class PublicityStarted(SelectionEvent):
    """The pre-appointment publicity of approved candidates: the period and its working days (counted by the
    application on its calendar)."""

    TOPIC = "jiandu.casework:Selection.PublicityStarted"
    candidates: list[str]
    starts_on: dt.date
    ends_on: dt.date
    working_days: int
    document_number: str

    def apply(self, selection: SelectionRecord) -> None:
        selection.publicity = {
            "candidates": list(self.candidates),
            "starts_on": self.starts_on,
            "ends_on": self.ends_on,
            "working_days": self.working_days,
        }


class AppointmentRecorded(SelectionEvent):
    """The appointment: the candidates appointed, each to a post."""

    TOPIC = "jiandu.casework:Selection.AppointmentRecorded"
    appointments: list[dict[str, Any]]
    document_number: str

    def apply(self, selection: SelectionRecord) -> None:
        for appointment in self.appointments:
            selection.appointed[appointment["candidate_id"]] = dict(appointment, on=self.on)


class DecisionSteps(SelectionRecord):
    """The decision, the publicity and the appointment recorded."""

    def record_decision(
        self,
        *,
        body: str,
        members_due: int,
        members_present: int,
        votes: list[dict[str, Any]],
        decision_makers: list[Person],
        actor: Actor,
        on: dt.date,
        document_number: str = "",
        reason: str = "",
    ) -> None:
        """The decision of ``body`` on ``on``: ``votes`` are each ``{candidate_id, agree, disagree,
        defer}``. A candidate without the agreement of more than half the members due is
        recorded as not approved, not refused."""
        self._permit("record_decision", actor, on)
        candidate_ids = [v["candidate_id"] for v in votes]
        distinct(candidate_ids)
        rules.NO_INSPECTION_NO_DISCUSSION.require(all(c in self.findings for c in candidate_ids))
        rules.NO_INTEGRITY_OPINION_NO_MEETING.require(
            all(c in self.opinions for c in candidate_ids)
        )
        rules.CANDIDATE_HELD.require(not any(self.held(c) for c in candidate_ids))
        rules.VOTES_COUNTED.require(
            0 < members_present <= members_due
            and all(
                min(v["agree"], v["disagree"], v["defer"]) >= 0
                and v["agree"] + v["disagree"] + v["defer"] <= members_present
                for v in votes
            )
        )
        rules.QUORUM.require(rules.quorate(members_present, members_due))
        rules.SUDDEN_PROMOTION.require(not self.in_circumstance(on))
        self._record(
            DecisionRecorded,
            actor=actor,
            reason=reason,
            on=on,
            body=body,
            members_due=members_due,
            members_present=members_present,
            votes=[
                {
                    "candidate_id": v["candidate_id"],
                    "agree": v["agree"],
                    "disagree": v["disagree"],
                    "defer": v["defer"],
                    "approved": rules.approved(v["agree"], members_due),
                }
                for v in votes
            ],
            decision_makers=[dict(p) for p in decision_makers],
            document_number=document_number,
        )

    def start_publicity(
        self,
        *,
        candidates: list[str],
        starts_on: dt.date,
        ends_on: dt.date,
        working_days: int,
        actor: Actor,
        on: dt.date,
        document_number: str = "",
        reason: str = "",
    ) -> None:
        """The publicity of approved ``candidates`` from ``starts_on`` to ``ends_on``, which the
        application counts as ``working_days`` on its calendar (at least 5:
        ``PUBLICITY_PERIOD``; the domain never reads a clock or a calendar)."""
        self._permit("start_publicity", actor, on)
        distinct(candidates)
        rules.APPROVED_ONLY.require(all(c in self.approved for c in candidates))
        rules.VOIDED_NOT_APPOINTED.require(not any(c in self.voided for c in candidates))
        fields: dict[str, Any] = period(starts_on, ends_on)
        calendar_days = (ends_on - starts_on).days + 1
        rules.PUBLICITY_PERIOD.require(PUBLICITY_WORKING_DAYS <= working_days <= calendar_days)
        self._record(
            PublicityStarted,
            actor=actor,
            reason=reason,
            on=on,
            candidates=list(candidates),
            working_days=working_days,
            document_number=document_number,
            **fields,
        )

    def record_appointment(
        self,
        *,
        appointments: list[dict[str, Any]],
        actor: Actor,
        on: dt.date,
        document_number: str = "",
        reason: str = "",
    ) -> None:
        """The appointment: ``appointments`` are each ``{candidate_id, post}``, of approved candidates
        whose publicity ended before ``on`` and who are not held."""
        self._permit("record_appointment", actor, on)
        candidate_ids = [a["candidate_id"] for a in appointments]
        distinct(candidate_ids)
        rules.APPROVED_ONLY.require(all(c in self.approved for c in candidate_ids))
        rules.VOIDED_NOT_APPOINTED.require(not any(c in self.voided for c in candidate_ids))
        publicity = self.publicity
        assert publicity is not None  # the stage says the publicity started
        rules.APPOINTMENT_AFTER_PUBLICITY.require(
            on > publicity["ends_on"] and all(c in publicity["candidates"] for c in candidate_ids)
        )
        rules.CANDIDATE_HELD.require(not any(self.held(c) for c in candidate_ids))
        rules.APPOINTED_ONCE.require(not any(c in self.appointed for c in candidate_ids))
        self._record(
            AppointmentRecorded,
            actor=actor,
            reason=reason,
            on=on,
            appointments=[dict(a) for a in appointments],
            document_number=document_number,
        )
