"""Request bodies of the supervision project (立项督查, issue 14): ``POST /api/v1/projects``
opens a project, ``POST /api/v1/projects/{project_id}/{action}`` records one step.

Each step has ``reason``, ``on`` (the business day the user states; today, on the
application's clock, when it is left out; never after today) and ``expected_version``. The
application counts the deadlines on its calendar: a request never states them. What the
seeds name as a rule (specific clues, the irregularities in scope, a team with a leader and
members) is checked by the project's named rules (409 with ``rule``), not here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

from pydantic import Field

from schemas.commands import Command, Name, Required, Text
from schemas.glossary import Category, DocumentKind, Verdict
from schemas.selection_commands import MAX_ITEMS, Key, Part, Short, ShortRequired


class ProjectPerson(Part):
    """A member of the team, or its leader: ``cadre_id`` when they are in the register."""

    name: Name
    unit: Short = ""
    position: Short = ""
    cadre_id: Key | None = None


class ResponsiblePerson(ProjectPerson):
    """Someone to hold responsible (违规用人或用人失察失误), and for what."""

    responsibility: Required


class OpenProject(Part):
    """The opening (立项): the selection, the reports (cases) it rests on, the irregularities,
    the specific clues."""

    selection_id: UUID
    basis: Annotated[list[UUID], Field(max_length=MAX_ITEMS)]
    irregularities: Annotated[list[Category], Field(max_length=len(Category))]
    clues: Text
    on: dt.date | None = None
    document_number: Short = ""
    reason: Text = ""


class ProjectCommand(Command):
    """A step of a project: ``reason``, ``expected_version`` and its business day ``on``."""

    on: dt.date | None = None


class FormTeam(ProjectCommand):
    leader: ProjectPerson
    members: Annotated[list[ProjectPerson], Field(max_length=MAX_ITEMS)]
    document_number: Short = ""


class RecordPlan(ProjectCommand):
    summary: Required
    document_number: Short = ""


class RecordProjectFinding(ProjectCommand):
    irregularity: Category
    confirmed: bool
    summary: Required
    evidence_refs: Annotated[list[ShortRequired], Field(default_factory=list, max_length=MAX_ITEMS)]


class ProposeProjectConclusion(ProjectCommand):
    verdict: Verdict
    summary: Required
    void_candidates: Annotated[list[Key], Field(default_factory=list, max_length=MAX_ITEMS)]
    responsible: Annotated[
        list[ResponsiblePerson], Field(default_factory=list, max_length=MAX_ITEMS)
    ]


class ApproveProjectConclusion(ProjectCommand):
    pass


class ReturnProjectConclusion(ProjectCommand):
    reason: Required


class ReportBack(ProjectCommand):
    reported_to: ShortRequired
    document_number: ShortRequired
    summary: Text = ""


class CloseProject(ProjectCommand):
    pass


class IssueProjectDocument(ProjectCommand):
    """Issue the project's official document (decision 0035): the 立项督查通知
    (``project_notice``) about its ``opening``, once the team is formed; ``on``: the day
    issued (default today). Asked again, the same document is given back."""

    kind: DocumentKind = DocumentKind.PROJECT_NOTICE
    about: Annotated[str, Field(min_length=1, max_length=300)] = "opening"
