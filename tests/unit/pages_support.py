"""What the page tests share: the people at the desks, a system with their accounts, and the
steps they take (signing in, reading the CSRF token, submitting, acting on a case)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from uuid import UUID

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from schemas.events import Actor
from schemas.glossary import MemberUnit, Role
from schemas.submissions import ReportSubmission
from schemas.views import CadreRecord
from services.bootstrap import EmbeddedSystem
from tests.unit.conftest import build_embedded, make_settings

PASSWORD = "correct horse battery"
# username: (role, display name, unit)
PEOPLE: dict[str, tuple[Role, str, str | None]] = {
    "operator": (Role.OPERATOR, "王丽", None),
    "handler": (Role.HANDLER, "张强", None),
    "leader": (Role.LEADER, "刘建华", None),
    "liaison": (Role.LIAISON, "陈明", MemberUnit.DISCIPLINE_COMMISSION.zh),
    "auditor": (Role.AUDITOR, "赵敏", None),
    "admin": (Role.ADMIN, "管理员", None),
    "clerk": (Role.SELECTION_CLERK, "孙丽", "县委组织部"),
}


def build_system(tmp_path: Path, register: Iterable[CadreRecord] = ()) -> EmbeddedSystem:
    """An embedded system whose reports wait for triage, with one account per person."""
    system = build_embedded(make_settings(tmp_path, auto_accept=False))
    # Fast hashes for these throwaway accounts (the store's own tests check the real ones).
    system.accounts._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    for username, (role, name, unit) in PEOPLE.items():
        system.accounts.create_user(
            username, PASSWORD, role, name, unit=unit, section="干部监督科", enforce_policy=False
        )
    system.read.register.upsert(list(register))
    return system


def sign_in(client: TestClient, system: EmbeddedSystem, username: str) -> None:
    client.cookies.set(
        "jiandu_session", system.accounts.start_session(system.accounts.principal(username))
    )


def csrf(client: TestClient) -> str:
    page = client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def actor(username: str) -> Actor:
    return Actor(id=username, role=PEOPLE[username][0])


def submit(system: EmbeddedSystem, subject: dict[str, str], **overrides: Any) -> UUID:
    """A letter about ``subject`` (or what ``overrides`` say), registered and projected."""
    data: dict[str, Any] = {
        "channel": "letter",
        "reporter": {"anonymous": True},
        "subjects": [subject],
        "categories": ["seeking_office"],
        "summary": "反映王建国跑官要官。",
    } | overrides
    receipt = system.intake.submit(ReportSubmission.model_validate(data))
    system.catch_up()
    return UUID(receipt.report_id)


def run(system: EmbeddedSystem, case_id: UUID, action: str, command: Any, who: str) -> None:
    system.casework.execute(case_id, action, command, {"id": who, "role": PEOPLE[who][0]})
    system.catch_up()
