"""Verdicts per cadre and allegation, and who a subject of a case is: pure functions the
Case's events and commands share (and the read side, ``overall_verdict``)."""

from __future__ import annotations

from typing import Any

from schemas.glossary import HandlingType, Verdict

PROVEN = (Verdict.TRUE, Verdict.PARTLY_TRUE)
# What an admonition whose follow-up found no improvement may escalate to (组织处理规定).
HEAVIER_HANDLINGS = frozenset(
    {
        HandlingType.REASSIGNMENT,
        HandlingType.ORDERED_RESIGNATION,
        HandlingType.DISMISSAL,
        HandlingType.DEMOTION,
    }
)


def unique_subjects(
    known: list[dict[str, Any]], joined: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The joined report's subjects as the case knows them (a known one as first named)."""
    by_key = {subject_key(s): s for s in known}
    return [by_key.get(subject_key(s), s) for s in joined]


def subject_key(subject: dict[str, Any]) -> str:
    """Who a subject of the case is, as the case knows them (name and unit, as joined)."""
    return f"{subject.get('name', '')}|{subject.get('unit', '') or ''}"


def cadre_verdicts_of(
    cadre_verdicts: list[dict[str, Any]] | None,
    verdicts: dict[str, str],
    subjects: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The verdicts per cadre and allegation. An event stored before verdicts were per cadre
    gave one verdict per category for the whole case: that is what it said of every subject."""
    if cadre_verdicts is not None:
        return list(cadre_verdicts)
    return [
        {"cadre": s, "category": cat, "verdict": v} for s in subjects for cat, v in verdicts.items()
    ]


def by_cadre(cadre_verdicts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """{subject_key: {cadre, verdicts: {category: verdict}, overall}}."""
    result: dict[str, dict[str, Any]] = {}
    for row in cadre_verdicts:
        entry = result.setdefault(
            subject_key(row["cadre"]), {"cadre": row["cadre"], "verdicts": {}}
        )
        entry["verdicts"][row["category"]] = row["verdict"]
    for entry in result.values():
        entry["overall"] = overall_verdict(Verdict(v) for v in entry["verdicts"].values()).value
    return result


VERDICT_STRENGTH = {Verdict.TRUE: 3, Verdict.PARTLY_TRUE: 2, Verdict.UNPROVEN: 1, Verdict.UNTRUE: 0}


def overall_verdict(verdicts: Any) -> Verdict:
    """The case's overall verdict: true if any allegation is true, partly true if some part is…"""
    values = list(verdicts)
    if all(v is Verdict.TRUE for v in values):
        return Verdict.TRUE
    if any(v in (Verdict.TRUE, Verdict.PARTLY_TRUE) for v in values):
        return Verdict.PARTLY_TRUE
    if all(v is Verdict.UNTRUE for v in values):
        return Verdict.UNTRUE
    return Verdict.UNPROVEN
