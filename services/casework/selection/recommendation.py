"""The democratic recommendation and the inspection's announcement."""

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

# What a candidate is known by: ``candidate_id``, a stable key the caller chooses (reports,
# integrity opinions and holds name it later); ``name``, ``unit``, ``position`` and, when the
# candidate is in the cadre register, ``cadre_id``.
CANDIDATE_KEYS = ("candidate_id", "name", "unit", "position", "cadre_id")


class RecommendationRecorded(SelectionEvent):
    """The democratic recommendation: how many took part, each candidate's votes, who
    organized it (and answers for it)."""

    TOPIC = "jiandu.casework:Selection.RecommendationRecorded"
    participants: int
    candidates: list[dict[str, Any]]
    organizers: list[Person]
    document_number: str

    def apply(self, selection: SelectionRecord) -> None:
        selection.participants = self.participants
        selection.people["recommendation"] = [dict(p) for p in self.organizers]
        for entry in self.candidates:
            candidate_id = entry["candidate_id"]
            selection.candidates[candidate_id] = {k: entry[k] for k in CANDIDATE_KEYS if k in entry}
            selection.recommendation_votes[candidate_id] = entry["votes"]


class InspectionAnnounced(SelectionEvent):
    """The inspection's announcement: the inspection subjects, chosen from the recommended, and the period during
    which anyone may report on them."""

    TOPIC = "jiandu.casework:Selection.InspectionAnnounced"
    subjects: list[str]
    starts_on: dt.date
    ends_on: dt.date
    document_number: str

    def apply(self, selection: SelectionRecord) -> None:
        selection.subjects = list(self.subjects)
        selection.announcement = {"starts_on": self.starts_on, "ends_on": self.ends_on}


class RecommendationSteps(SelectionRecord):
    """The recommendation recorded; the inspection announced."""

    def record_recommendation(
        self,
        *,
        participants: int,
        candidates: list[dict[str, Any]],
        organizers: list[Person],
        actor: Actor,
        on: dt.date,
        document_number: str = "",
        reason: str = "",
    ) -> None:
        """The recommendation: ``participants`` took part; ``candidates`` are each
        ``{candidate_id, name, unit?, position?, cadre_id?, votes}``."""
        self._permit("record_recommendation", actor, on)
        distinct([c["candidate_id"] for c in candidates])
        rules.VOTES_COUNTED.require(
            participants > 0 and all(0 <= c["votes"] <= participants for c in candidates)
        )
        self._record(
            RecommendationRecorded,
            actor=actor,
            reason=reason,
            on=on,
            participants=participants,
            candidates=[dict(c) for c in candidates],
            organizers=[dict(p) for p in organizers],
            document_number=document_number,
        )

    def announce_inspection(
        self,
        *,
        subjects: list[str],
        starts_on: dt.date,
        ends_on: dt.date,
        actor: Actor,
        on: dt.date,
        document_number: str = "",
        reason: str = "",
    ) -> None:
        """Announce the inspection of ``subjects`` (candidate ids) from ``starts_on`` to ``ends_on``.

        Subjects come from the recommendation (``NOT_RECOMMENDED_NOT_NOMINATED``); passing
        over a candidate with more votes than a subject needs ``reason``
        (``VOTE_ORDER_EXPLAINED``)."""
        self._permit("announce_inspection", actor, on)
        distinct(subjects)
        rules.NOT_RECOMMENDED_NOT_NOMINATED.require(all(s in self.candidates for s in subjects))
        rules.VOTE_ORDER_EXPLAINED.require(
            not self.passed_over_with_more_votes(subjects) or bool(reason.strip())
        )
        fields: dict[str, Any] = period(starts_on, ends_on)
        self._record(
            InspectionAnnounced,
            actor=actor,
            reason=reason,
            on=on,
            subjects=list(subjects),
            document_number=document_number,
            **fields,
        )

    def passed_over_with_more_votes(self, subjects: list[str]) -> list[str]:
        """The recommended candidates left out of ``subjects`` who had more votes than one of
        them (the seed asks the reason for each)."""
        votes = self.recommendation_votes
        fewest = min(votes[s] for s in subjects)
        return sorted(c for c in votes if c not in subjects and votes[c] > fewest)
