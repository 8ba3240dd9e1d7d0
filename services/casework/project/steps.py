"""The supervision project's steps after its opening: the team (督查组), the plan (督查方案),
the findings, the conclusion proposed and approved or returned, the report back (督查报告)
and the closing. Each event with its ``apply``; the commands in ``ProjectSteps``."""

from __future__ import annotations

import datetime as dt

from schemas.glossary import Category, Verdict
from services.casework.project import rules
from services.casework.project.record import (
    Actor,
    Due,
    Person,
    ProjectEvent,
    ProjectRecord,
    distinct_people,
)


class TeamFormed(ProjectEvent):
    """The supervision team sent (派出督查组): its leader and members."""

    TOPIC = "jiandu.casework:SupervisionProject.TeamFormed"
    leader: Person
    members: list[Person]
    document_number: str

    def apply(self, project: ProjectRecord) -> None:
        project.team = {
            "leader": dict(self.leader),
            "members": [dict(m) for m in self.members],
            "document_number": self.document_number,
            "on": self.on,
        }


class PlanRecorded(ProjectEvent):
    """The supervision plan (督查方案)."""

    TOPIC = "jiandu.casework:SupervisionProject.PlanRecorded"
    summary: str
    document_number: str

    def apply(self, project: ProjectRecord) -> None:
        project.plan = {
            "summary": self.summary,
            "document_number": self.document_number,
            "on": self.on,
        }
        project.deadlines["project_plan"]["met_on"] = self.on


class FindingRecorded(ProjectEvent):
    """One finding: about which irregularity, whether it was confirmed, the evidence."""

    TOPIC = "jiandu.casework:SupervisionProject.FindingRecorded"
    irregularity: str
    confirmed: bool
    summary: str
    evidence_refs: list[str]

    def apply(self, project: ProjectRecord) -> None:
        project.findings.append(
            {
                "irregularity": self.irregularity,
                "confirmed": self.confirmed,
                "summary": self.summary,
                "evidence_refs": list(self.evidence_refs),
                "on": self.on,
            }
        )


class ConclusionProposed(ProjectEvent):
    """The conclusion a handler proposes: the verdict, and what it recommends (the
    appointments of the selection's candidates to void, who to hold responsible)."""

    TOPIC = "jiandu.casework:SupervisionProject.ConclusionProposed"
    verdict: str
    summary: str
    void_candidates: list[str]
    responsible: list[Person]

    def apply(self, project: ProjectRecord) -> None:
        project.proposal = {
            "verdict": self.verdict,
            "summary": self.summary,
            "void_candidates": list(self.void_candidates),
            "responsible": [dict(p) for p in self.responsible],
            "proposed_by": dict(self.actor),
            "on": self.on,
        }


class ConclusionApproved(ProjectEvent):
    """A leader approves the proposed conclusion (copied here, as a case's approval copies
    its verdicts); the report back is due from this day."""

    TOPIC = "jiandu.casework:SupervisionProject.ConclusionApproved"
    verdict: str
    summary: str
    void_candidates: list[str]
    responsible: list[Person]
    report_back_due: Due

    def apply(self, project: ProjectRecord) -> None:
        project.conclusion = {
            "verdict": self.verdict,
            "summary": self.summary,
            "void_candidates": list(self.void_candidates),
            "responsible": [dict(p) for p in self.responsible],
            "approved_by": dict(self.actor),
            "on": self.on,
        }
        project.proposal = None
        project.deadlines["project_conclusion"]["met_on"] = self.on
        project.deadlines["project_report_back"] = {**self.report_back_due, "met_on": None}


class ConclusionReturned(ProjectEvent):
    """A leader returns the proposed conclusion (with the reason): back to investigating."""

    TOPIC = "jiandu.casework:SupervisionProject.ConclusionReturned"

    def apply(self, project: ProjectRecord) -> None:
        project.returns.append({"reason": self.reason, "on": self.on, "by": dict(self.actor)})
        project.proposal = None


class ReportedBack(ProjectEvent):
    """The supervision report sent (督查报告): to whom, under which document number."""

    TOPIC = "jiandu.casework:SupervisionProject.ReportedBack"
    reported_to: str
    document_number: str
    summary: str

    def apply(self, project: ProjectRecord) -> None:
        project.report = {
            "reported_to": self.reported_to,
            "document_number": self.document_number,
            "summary": self.summary,
            "on": self.on,
        }
        project.deadlines["project_report_back"]["met_on"] = self.on


class Closed(ProjectEvent):
    TOPIC = "jiandu.casework:SupervisionProject.Closed"

    def apply(self, project: ProjectRecord) -> None:
        project.closed_on = self.on


class ProjectSteps(ProjectRecord):
    """The commands after the opening."""

    def form_team(
        self,
        *,
        leader: Person,
        members: list[Person],
        actor: Actor,
        on: dt.date,
        document_number: str = "",
        reason: str = "",
    ) -> None:
        """Send the supervision team: a ``leader`` and at least one of ``members``."""
        self._permit("form_team", actor, on)
        rules.TEAM_NAMED.require(bool(members) and distinct_people([leader, *members]))
        self._record(
            TeamFormed,
            actor=actor,
            reason=reason,
            on=on,
            leader=dict(leader),
            members=[dict(m) for m in members],
            document_number=document_number,
        )

    def record_plan(
        self,
        *,
        summary: str,
        actor: Actor,
        on: dt.date,
        document_number: str = "",
        reason: str = "",
    ) -> None:
        self._permit("record_plan", actor, on)
        self._record(
            PlanRecorded,
            actor=actor,
            reason=reason,
            on=on,
            summary=summary,
            document_number=document_number,
        )

    def record_finding(
        self,
        *,
        irregularity: Category,
        confirmed: bool,
        summary: str,
        evidence_refs: list[str],
        actor: Actor,
        on: dt.date,
        reason: str = "",
    ) -> None:
        """A finding about one of the project's irregularities (``FINDING_IN_SCOPE``)."""
        self._permit("record_finding", actor, on)
        rules.FINDING_IN_SCOPE.require(Category(irregularity).value in self.irregularities)
        self._record(
            FindingRecorded,
            actor=actor,
            reason=reason,
            on=on,
            irregularity=Category(irregularity).value,
            confirmed=confirmed,
            summary=summary,
            evidence_refs=list(evidence_refs),
        )

    def propose_conclusion(
        self,
        *,
        verdict: Verdict,
        summary: str,
        void_candidates: list[str],
        responsible: list[Person],
        appointed: frozenset[str],
        actor: Actor,
        on: dt.date,
        reason: str = "",
    ) -> None:
        """Propose the conclusion. ``appointed``: the candidates the selection appointed, as
        the application reads them from the selection (the domain reads no other
        aggregate); only they can be recommended void (``VOID_APPOINTED_ONLY``), and only on
        a verdict of (partly) true, as holding people responsible
        (``RECOMMENDATION_NEEDS_PROVEN``)."""
        self._permit("propose_conclusion", actor, on)
        verdict = Verdict(verdict)
        rules.PROVEN_BY_FINDINGS.require(
            verdict not in rules.PROVEN or any(f["confirmed"] for f in self.findings)
        )
        rules.VOID_APPOINTED_ONLY.require(
            all(c in appointed for c in void_candidates)
            and len(set(void_candidates)) == len(void_candidates)
        )
        rules.RECOMMENDATION_NEEDS_PROVEN.require(
            verdict in rules.PROVEN or not (void_candidates or responsible)
        )
        rules.RESPONSIBLE_DISTINCT.require(distinct_people(responsible))
        self._record(
            ConclusionProposed,
            actor=actor,
            reason=reason,
            on=on,
            verdict=verdict.value,
            summary=summary,
            void_candidates=list(void_candidates),
            responsible=[dict(p) for p in responsible],
        )

    def approve_conclusion(
        self, *, report_back_due: Due, actor: Actor, on: dt.date, reason: str = ""
    ) -> None:
        """Approve the proposed conclusion; ``report_back_due`` counted by the application
        from ``on`` on its calendar."""
        self._permit("approve_conclusion", actor, on)
        proposal = self.proposal
        assert proposal is not None  # the stage says a conclusion was proposed
        self._record(
            ConclusionApproved,
            actor=actor,
            reason=reason,
            on=on,
            verdict=proposal["verdict"],
            summary=proposal["summary"],
            void_candidates=list(proposal["void_candidates"]),
            responsible=[dict(p) for p in proposal["responsible"]],
            report_back_due=dict(report_back_due),
        )

    def return_conclusion(self, *, actor: Actor, on: dt.date, reason: str) -> None:
        self._permit("return_conclusion", actor, on)
        self._record(ConclusionReturned, actor=actor, reason=reason, on=on)

    def report_back(
        self,
        *,
        reported_to: str,
        document_number: str,
        actor: Actor,
        on: dt.date,
        summary: str = "",
        reason: str = "",
    ) -> None:
        self._permit("report_back", actor, on)
        self._record(
            ReportedBack,
            actor=actor,
            reason=reason,
            on=on,
            reported_to=reported_to,
            document_number=document_number,
            summary=summary,
        )

    def close(self, *, actor: Actor, on: dt.date, reason: str = "") -> None:
        self._permit("close", actor, on)
        self._record(Closed, actor=actor, reason=reason, on=on)
