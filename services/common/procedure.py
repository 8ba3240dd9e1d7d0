"""Refusals shared by the procedures of intake and casework: roles, states, named rules.

A refused command stores nothing and says, in English and Chinese, what it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from schemas.glossary import GlossaryEnum, Role


class ProcedureError(Exception):
    """A refused command. ``message_zh`` is what the web pages show."""

    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh


class TransitionNotAllowed(ProcedureError):
    """The state of the case (or report) does not allow the action now."""

    def __init__(
        self,
        action: str,
        state: GlossaryEnum,
        needs: str,
        needs_zh: str,
        *,
        what: str = "case",
        what_zh: str = "案件",
    ) -> None:
        super().__init__(
            f"cannot {action.replace('_', ' ')} a {what} that is {state.value}: needs {needs}",
            f"{what_zh}当前状态为“{state.zh}”，不能执行该操作：需要{needs_zh}",
        )
        self.action, self.state, self.needs = action, state, needs


class RoleNotAllowed(ProcedureError):
    def __init__(self, action: str, role: Role, allowed: frozenset[Role]) -> None:
        names = ", ".join(sorted(r.value for r in allowed))
        names_zh = "、".join(sorted(r.zh for r in allowed))
        super().__init__(
            f"a {role.value} may not {action.replace('_', ' ')}; allowed: {names}",
            f"“{role.zh}”无权执行该操作，应由{names_zh}办理",
        )
        self.action, self.role = action, role


class RuleBroken(ProcedureError):
    """A named business rule refused the command."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule.message, rule.message_zh)
        self.rule = rule


@dataclass(frozen=True)
class Rule:
    name: str
    message: str
    message_zh: str
    about_who: bool = False  # a rule about the person, not the state: refused as forbidden

    def require(self, condition: bool) -> None:
        if not condition:
            raise RuleBroken(self)


@dataclass(frozen=True)
class Permission:
    """Who may take a step of a record (a selection, a supervision project) and at which of
    its stages; what it needs, in both languages, when the stage does not allow it."""

    roles: frozenset[Role]
    stages: frozenset[GlossaryEnum]
    needs: str
    needs_zh: str


def permission(
    roles: frozenset[Role], stages: Iterable[GlossaryEnum], needs: str, needs_zh: str
) -> Permission:
    return Permission(roles, frozenset(stages), needs, needs_zh)


def permit_step(
    permissions: Mapping[str, Permission],
    action: str,
    role: Role,
    stage: GlossaryEnum,
    out_of_order: Callable[[str, Any, str, str], ProcedureError],
) -> None:
    """Raise unless ``role`` may take ``action`` at ``stage``: ``RoleNotAllowed``, or what
    ``out_of_order`` makes of the step's needs (the record's own ``StepOutOfOrder``)."""
    allowed = permissions[action]
    if role not in allowed.roles:
        raise RoleNotAllowed(action, role, allowed.roles)
    if stage not in allowed.stages:
        raise out_of_order(action, stage, allowed.needs, allowed.needs_zh)
