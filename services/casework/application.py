"""The casework process application: consumes intake's events exactly once, runs the procedure.

Composed of its parts: the shared state and reads (``base.py``), the consumer of intake's
events that opens cases exactly once (``opening.py``), the command handlers and the
``COMMANDS`` table (``handlers.py``); here, the one way commands run.

The selection record's steps (``execute_selection``, the ``SELECTION_COMMANDS`` table in
``selections.py``) run the same way on a selection, and a supervision project's
(``execute_project``, the ``PROJECT_COMMANDS`` table in ``projects.py``) on a project.

Commands (``execute``) load the case, check the caller's expected version, run the
domain command and save; a concurrent save of the same case makes the second one fail
with :class:`ConcurrentChange` instead of overwriting it.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from schemas import commands as c
from schemas.events import Source
from services.casework.domain import Actor, Case
from services.casework.handlers import COMMANDS, RETRIED_ON_CONFLICT, CaseCommands
from services.casework.opening import CaseOpening
from services.casework.project import SupervisionProject
from services.casework.projects import (
    PROJECT_COMMANDS,
    PROJECT_RETRIED_ON_CONFLICT,
    ProjectCommands,
)
from services.casework.rules import CaseworkError
from services.casework.selection import Selection
from services.casework.selections import (
    SELECTION_COMMANDS,
    SELECTION_RETRIED_ON_CONFLICT,
    SelectionCommands,
)


# Named here for the modules that take them from the application (the table itself lives
# in handlers.py, the injected look-ups in base.py).
class ConcurrentChange(CaseworkError):
    def __init__(
        self,
        case_id: UUID,
        expected: int | None,
        actual: int | None,
        *,
        what: str = "case",
        what_zh: str = "案件",
    ) -> None:
        detail = (
            f"you read version {expected}, it is now {actual}"
            if expected and actual
            else "someone else changed it at the same moment"
        )
        super().__init__(
            f"{what} {case_id} was changed by someone else ({detail}); reload it and try again",
            f"{what_zh}已被他人更新，请刷新后重试",
        )


# ProjectCommands is a SelectionCommands (a project reads its selection): named before it.
class CaseworkApplication(CaseOpening, CaseCommands, ProjectCommands, SelectionCommands):
    name = "casework"
    source: ClassVar[Source] = "casework"

    def execute(
        self,
        case_id: UUID,
        action: str,
        command: c.Command,
        actor: Actor,
        *,
        case: Case | None = None,
    ) -> Case:
        """Run one procedure command on a case; returns the case as saved.

        ``case``: the case as the caller just loaded it (to check who may act on it), so it
        is not read twice; a change saved in between is caught as a concurrent change (the
        commands of ``RETRIED_ON_CONFLICT`` without an ``expected_version``: tried again on
        the case and registers as saved, a few times)."""
        tries = 3 if action in RETRIED_ON_CONFLICT and command.expected_version is None else 1
        for attempt in range(tries):
            try:
                return self._execute_once(
                    case_id, action, command, actor, case=case if attempt == 0 else None
                )
            except ConcurrentChange:
                if attempt + 1 == tries:
                    raise
        raise AssertionError  # unreachable

    def _execute_once(
        self,
        case_id: UUID,
        action: str,
        command: c.Command,
        actor: Actor,
        *,
        case: Case | None = None,
    ) -> Case:
        model, handler = COMMANDS[action]
        if not isinstance(command, model):
            if not issubclass(model, type(command)):
                raise TypeError(f"{action} takes a {model.__name__}, not {type(command).__name__}")
            # A plainer form of this action's request (an Approve for a DatedApproval).
            command = model.model_validate(command.model_dump(exclude_unset=True))
        if case is None or case.id != case_id:
            case = self.get_case(case_id)
        if command.expected_version is not None and command.expected_version != case.version:
            raise ConcurrentChange(case_id, command.expected_version, case.version)
        extra = handler(self, case, command, actor)
        try:
            self.save(case, *extra)
        except IntegrityError:
            raise ConcurrentChange(case_id, command.expected_version, None) from None
        return case

    def execute_selection(
        self,
        selection_id: UUID,
        action: str,
        command: c.Command,
        actor: Actor,
    ) -> Selection:
        """Run one step of a selection (``SELECTION_COMMANDS``); returns it as saved. A stale
        ``expected_version``, or a save of the same selection in between, is a
        :class:`ConcurrentChange` (``SELECTION_RETRIED_ON_CONFLICT`` without a version: tried
        again a few times first)."""
        retried = action in SELECTION_RETRIED_ON_CONFLICT and command.expected_version is None
        tries = 3 if retried else 1
        for attempt in range(tries):
            try:
                return self._execute_selection_once(selection_id, action, command, actor)
            except ConcurrentChange:
                if attempt + 1 == tries:
                    raise
        raise AssertionError  # unreachable

    def _execute_selection_once(
        self,
        selection_id: UUID,
        action: str,
        command: c.Command,
        actor: Actor,
    ) -> Selection:
        model, handler = SELECTION_COMMANDS[action]
        if not isinstance(command, model):
            raise TypeError(f"{action} takes a {model.__name__}, not {type(command).__name__}")
        selection = self.get_selection(selection_id)
        expected = command.expected_version
        if expected is not None and expected != selection.version:
            raise ConcurrentChange(
                selection_id, expected, selection.version, what="selection", what_zh="选拔任用记录"
            )
        extra = handler(self, selection, command, actor) or []
        try:
            self.save(selection, *extra)
        except IntegrityError:
            raise ConcurrentChange(
                selection_id, expected, None, what="selection", what_zh="选拔任用记录"
            ) from None
        return selection

    def execute_project(
        self,
        project_id: UUID,
        action: str,
        command: c.Command,
        actor: Actor,
    ) -> SupervisionProject:
        """Run one step of a supervision project (``PROJECT_COMMANDS``); returns it as saved.
        A stale ``expected_version``, or a save of the same project in between, is a
        :class:`ConcurrentChange` (``PROJECT_RETRIED_ON_CONFLICT`` without a version: tried
        again a few times first)."""
        retried = action in PROJECT_RETRIED_ON_CONFLICT and command.expected_version is None
        for attempt in range(3 if retried else 1):
            try:
                return self._execute_project_once(project_id, action, command, actor)
            except ConcurrentChange:
                if not retried or attempt == 2:
                    raise
        raise AssertionError  # unreachable

    def _execute_project_once(
        self,
        project_id: UUID,
        action: str,
        command: c.Command,
        actor: Actor,
    ) -> SupervisionProject:
        model, handler = PROJECT_COMMANDS[action]
        if not isinstance(command, model):
            raise TypeError(f"{action} takes a {model.__name__}, not {type(command).__name__}")
        project = self.get_project(project_id)
        expected = command.expected_version
        if expected is not None and expected != project.version:
            raise ConcurrentChange(
                project_id,
                expected,
                project.version,
                what="supervision project",
                what_zh="立项督查",
            )
        extra = handler(self, project, command, actor) or []
        try:
            self.save(project, *extra)
        except IntegrityError:
            raise ConcurrentChange(
                project_id, expected, None, what="supervision project", what_zh="立项督查"
            ) from None
        return project
