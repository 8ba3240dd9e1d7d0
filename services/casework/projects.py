"""The supervision project's commands (立项督查, issue 14): each handler turns a validated
request (``schemas/project_commands.py``) into a step of the ``SupervisionProject``
aggregate, and the ``PROJECT_COMMANDS`` table names them: the actions the HTTP layer runs
through ``CaseworkApplication.execute_project``.

The application states what the domain must not read for itself: the business day (the one
stated, or today; never after today, ``business_day``), that the selection and the basis's
cases exist (422 naming the id), the candidates the selection appointed (only they can be
recommended void), and the deadlines, counted on the working-day calendar from the
configured ``TimeLimits`` (``project_plan``, ``project_conclusion`` from the opening,
``project_report_back`` from the approval).

Other parts ask ``project_conclusion(project_id)`` for an approved conclusion (the voiding of
appointments and the responsibility on the selection act on it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from schemas import project_commands as p
from schemas.glossary import Verdict
from services.casework.domain import Actor
from services.casework.project import SupervisionProject
from services.casework.project import rules as project_rules
from services.casework.rules import CaseNotFound, CaseworkError, InvalidInput
from services.casework.selections import (
    SelectionCommands,
    SelectionNotFound,
    dumped,
    keyed_id,
)


class ProjectKeyReused(CaseworkError, ValueError):
    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was already used to open a different project; "
            "send a new key for a new project",
            "该幂等键已用于另一项立项督查；新的立项请使用新的键",
        )


class ProjectNotFound(CaseworkError, LookupError):
    def __init__(self, project_id: object) -> None:
        super().__init__(f"no supervision project {project_id}", f"立项督查 {project_id} 不存在")


class NotFoundToOpenOn(InvalidInput):
    """The opening names a selection or a case that does not exist (422, naming it)."""

    def __init__(self, field: str, what: str, what_zh: str, item: object) -> None:
        self.field = field
        super().__init__(f"{field}: no {what} {item}", f"{field}：{what_zh} {item} 不存在")


def project_id_for(key: bytes, actor_id: str, idempotency_key: str) -> UUID:
    """The project a caller's Idempotency-Key names (``keyed_id``, as for a selection)."""
    return keyed_id(key, "supervision-project", actor_id, idempotency_key)


@dataclass(frozen=True)
class ProjectOutcome:
    """A project's approved conclusion: what the selection's voiding and responsibility act
    on. ``void_candidates``: the selection's candidate ids whose appointment the conclusion
    recommends void; ``responsible``: who to hold responsible (name, unit, position,
    cadre_id?, responsibility)."""

    project_id: UUID
    selection_id: UUID
    verdict: Verdict
    summary: str
    void_candidates: tuple[str, ...]
    responsible: tuple[dict[str, Any], ...]
    approved_on: dt.date
    approved_by: dict[str, str]

    @property
    def proven(self) -> bool:
        return self.verdict in project_rules.PROVEN


class ProjectCommands(SelectionCommands):
    """The project's command handlers and reads (composed into the casework application);
    a SelectionCommands, for a project reads its selection."""

    # -- reads ------------------------------------------------------------------------------

    def get_project(self, project_id: UUID) -> SupervisionProject:
        try:
            project: SupervisionProject = self.repository.get(project_id)
        except AggregateNotFoundError:
            raise ProjectNotFound(project_id) from None
        if not isinstance(project, SupervisionProject):  # e.g. the id of a case
            raise ProjectNotFound(project_id)
        return project

    def project_history(self, project_id: UUID) -> list[Any]:
        """The project's events as stored, oldest first: each step with its day, who recorded
        it and what it says (the project desk's record page)."""
        self.get_project(project_id)  # ProjectNotFound for anything else
        events: list[Any] = list(self.events.get(project_id))
        return events

    def project_conclusion(self, project_id: UUID) -> ProjectOutcome | None:
        """The project's approved conclusion, or None while it has none (ProjectNotFound
        when there is no such project)."""
        project = self.get_project(project_id)
        conclusion = project.conclusion
        if conclusion is None:
            return None
        return ProjectOutcome(
            project_id=project.id,
            selection_id=UUID(project.selection_id),
            verdict=Verdict(conclusion["verdict"]),
            summary=conclusion["summary"],
            void_candidates=tuple(conclusion["void_candidates"]),
            responsible=tuple(dict(r) for r in conclusion["responsible"]),
            approved_on=conclusion["on"],
            approved_by=dict(conclusion["approved_by"]),
        )

    def project_concluded(self, project_id: UUID) -> bool:
        """Whether the project's conclusion is approved."""
        return self.project_conclusion(project_id) is not None

    # -- the opening ------------------------------------------------------------------------

    def open_project(
        self, command: p.OpenProject, actor: Actor, idempotency_key: str | None = None
    ) -> UUID:
        """Open a project; its id. Without an ``idempotency_key`` the id is random; with one
        it is derived from the key and the caller under the application's key
        (``project_id_for``): a retry answers the project the first request opened, the same
        key with another opening is refused (``ProjectKeyReused``, 422), nothing stored."""
        if idempotency_key is not None:  # a retry answers first, whatever changed since
            project_id = project_id_for(self.id_key, actor["id"], idempotency_key)
            existing = self._opened_by_key(project_id, command)
            if existing is not None:
                return existing
        try:
            self.get_selection(command.selection_id)
        except SelectionNotFound:
            raise NotFoundToOpenOn(
                "selection_id", "selection", "选拔任用记录", command.selection_id
            ) from None
        for case_id in dict.fromkeys(command.basis):
            try:
                self.get_case(case_id)
            except CaseNotFound:
                raise NotFoundToOpenOn("basis", "case", "案件", case_id) from None
        on = self.business_day(command.on)
        limits = self.limits

        def opened(project_id: UUID) -> SupervisionProject:
            return SupervisionProject.open(
                project_id,
                selection_id=command.selection_id,
                basis=list(command.basis),
                irregularities=list(command.irregularities),
                clues=command.clues,
                plan_due=self.project_due(on, limits.project_plan),
                conclusion_due=self.project_due(on, limits.project_conclusion),
                actor=actor,
                on=on,
                document_number=command.document_number,
                reason=command.reason,
            )

        return self.create_once(
            "supervision-project",
            actor,
            idempotency_key,
            opened,
            lambda project_id: self._opened_by_key(project_id, command),
        )

    def _opened_by_key(self, project_id: UUID, command: p.OpenProject) -> UUID | None:
        """The project a key opened before, if the same opening; None if the key is new."""
        try:
            earlier = self.get_project(project_id)
        except ProjectNotFound:
            return None
        same = (
            earlier.selection_id == str(command.selection_id)
            and earlier.basis == [str(b) for b in command.basis]
            and earlier.irregularities == [i.value for i in command.irregularities]
            and earlier.clues == command.clues
            and earlier.opening_document == command.document_number
            and earlier.opening_reason == command.reason
            and (command.on is None or earlier.opened_on == command.on)
        )
        if not same:
            raise ProjectKeyReused
        return project_id

    def project_due(self, start: dt.date, working_days: int) -> dict[str, Any]:
        """``working_days`` after ``start`` on the calendar, as events carry a deadline."""
        try:
            return dict(self.due_in_working_days(start, working_days))
        except (ValueError, OverflowError):  # a day the calendar cannot count (year 9999)
            raise InvalidInput(
                f"on: the deadline {working_days} working days after {start} cannot be counted",
                f"on：无法计算 {start} 之后 {working_days} 个工作日的期限",
            ) from None

    # -- the steps (named ``_project_…``: the case's handlers have the same actions) ---------

    def _project_form_team(self, pr: SupervisionProject, cmd: p.FormTeam, actor: Actor) -> None:
        pr.form_team(
            leader=cmd.leader.model_dump(exclude_none=True),
            members=dumped(cmd.members),
            actor=actor,
            on=self.business_day(cmd.on),
            document_number=cmd.document_number,
            reason=cmd.reason,
        )

    def _project_record_plan(self, pr: SupervisionProject, cmd: p.RecordPlan, actor: Actor) -> None:
        pr.record_plan(
            summary=cmd.summary,
            actor=actor,
            on=self.business_day(cmd.on),
            document_number=cmd.document_number,
            reason=cmd.reason,
        )

    def _project_record_finding(
        self, pr: SupervisionProject, cmd: p.RecordProjectFinding, actor: Actor
    ) -> None:
        pr.record_finding(
            irregularity=cmd.irregularity,
            confirmed=cmd.confirmed,
            summary=cmd.summary,
            evidence_refs=list(cmd.evidence_refs),
            actor=actor,
            on=self.business_day(cmd.on),
            reason=cmd.reason,
        )

    def _project_propose_conclusion(
        self, pr: SupervisionProject, cmd: p.ProposeProjectConclusion, actor: Actor
    ) -> None:
        """The selection's appointed candidates are read here: only they can be voided."""
        selection = self.get_selection(UUID(pr.selection_id))
        pr.propose_conclusion(
            verdict=cmd.verdict,
            summary=cmd.summary,
            void_candidates=list(cmd.void_candidates),
            responsible=dumped(cmd.responsible),
            appointed=frozenset(selection.appointed),
            actor=actor,
            on=self.business_day(cmd.on),
            reason=cmd.reason,
        )

    def _project_approve_conclusion(
        self, pr: SupervisionProject, cmd: p.ApproveProjectConclusion, actor: Actor
    ) -> None:
        on = self.business_day(cmd.on)
        pr.approve_conclusion(
            report_back_due=self.project_due(on, self.limits.project_report_back),
            actor=actor,
            on=on,
            reason=cmd.reason,
        )

    def _project_return_conclusion(
        self, pr: SupervisionProject, cmd: p.ReturnProjectConclusion, actor: Actor
    ) -> None:
        pr.return_conclusion(actor=actor, on=self.business_day(cmd.on), reason=cmd.reason)

    def _project_report_back(self, pr: SupervisionProject, cmd: p.ReportBack, actor: Actor) -> None:
        pr.report_back(
            reported_to=cmd.reported_to,
            document_number=cmd.document_number,
            actor=actor,
            on=self.business_day(cmd.on),
            summary=cmd.summary,
            reason=cmd.reason,
        )

    def _project_close(self, pr: SupervisionProject, cmd: p.CloseProject, actor: Actor) -> None:
        pr.close(actor=actor, on=self.business_day(cmd.on), reason=cmd.reason)

    def _project_issue_document(
        self, pr: SupervisionProject, cmd: p.IssueProjectDocument, actor: Actor
    ) -> list[Any]:
        """Issue the 立项督查通知 (decision 0035) to the selection's unit: numbered in its
        register, saved with the project; asked again, the same document (nothing new)."""
        on = self.business_day(cmd.on)
        pr.may_issue(actor, on)
        if pr.document_of(cmd.kind, cmd.about) is not None:
            return []
        step = pr.document_step(cmd.kind, cmd.about)
        selection = self.get_selection(UUID(str(pr.selection_id)))
        unit = selection.unit
        register, common, version = self.number_document(cmd.kind, pr.id, cmd.about, on)
        pr.issue_document(
            cmd.kind,
            cmd.about,
            number=common["number"],
            on=on,
            template_version=version,
            fields={
                **common,
                "addressee": f"{unit}党委（党组）",
                "unit": unit,
                "posts": "、".join(dict.fromkeys(selection.posts)),
                **step,
            },
            actor=actor,
            reason=cmd.reason,
        )
        return [register]


# A handler answers the other aggregates to save with the project (a register), or None.
ProjectHandler = Callable[[ProjectCommands, SupervisionProject, Any, Actor], list[Any] | None]
A = ProjectCommands

# action -> (request model, handler): one HTTP route each (project_api.py).
PROJECT_COMMANDS: dict[str, tuple[type[p.ProjectCommand], ProjectHandler]] = {
    "form_team": (p.FormTeam, A._project_form_team),
    "record_plan": (p.RecordPlan, A._project_record_plan),
    "record_finding": (p.RecordProjectFinding, A._project_record_finding),
    "propose_conclusion": (p.ProposeProjectConclusion, A._project_propose_conclusion),
    "approve_conclusion": (p.ApproveProjectConclusion, A._project_approve_conclusion),
    "return_conclusion": (p.ReturnProjectConclusion, A._project_return_conclusion),
    "report_back": (p.ReportBack, A._project_report_back),
    "close": (p.CloseProject, A._project_close),
    "issue_document": (p.IssueProjectDocument, A._project_issue_document),
}
# Retried when a concurrent save refuses them (and the caller stated no version): a
# document's number is taken from a register another issue may have just saved.
PROJECT_RETRIED_ON_CONFLICT = frozenset({"issue_document"})
assert set(PROJECT_COMMANDS) == set(project_rules.PERMISSIONS), "one command per step"
