"""Demonstration accounts: one per role, named after the role (interfaces.md)."""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass

from schemas.glossary import MemberUnit, Role
from services.accounts.store import AccountStore, UserExists

OFFICE = "县委组织部"
SECTION = "干部监督科"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    display_name: str
    unit: str | None = OFFICE
    section: str | None = SECTION


DEMO_ACCOUNTS = (
    DemoAccount("operator", Role.OPERATOR, "王丽"),
    DemoAccount("handler", Role.HANDLER, "张强"),
    DemoAccount("handler2", Role.HANDLER, "李娜"),
    DemoAccount("leader", Role.LEADER, "刘建华"),
    DemoAccount("liaison", Role.LIAISON, "陈明", MemberUnit.DISCIPLINE_COMMISSION.zh, None),
    DemoAccount("auditor", Role.AUDITOR, "赵敏"),
    DemoAccount("admin", Role.ADMIN, "系统管理员", OFFICE, None),
    # The cadre section's desk (decision 0034): the selections and their steps.
    DemoAccount("selection_clerk", Role.SELECTION_CLERK, "孙伟", OFFICE, "干部科"),
)


def demo_password() -> str:
    """A random password for a demo run (printed at start)."""
    return secrets.token_urlsafe(12)


def ensure_demo_handlers(store: AccountStore) -> None:
    """The demo's stories assign its handlers, and only an active handler account can be
    assigned: create those missing (with a random password; ``seed_demo_accounts`` sets the
    one printed at start)."""
    for account in DEMO_ACCOUNTS:
        if account.role is Role.HANDLER:
            with contextlib.suppress(UserExists):
                store.create_user(
                    account.username,
                    demo_password(),
                    account.role,
                    account.display_name,
                    unit=account.unit,
                    section=account.section,
                    enforce_policy=False,
                )


def seed_demo_accounts(store: AccountStore, password: str) -> list[DemoAccount]:
    """Create the demo accounts, or give existing ones ``password`` again and reactivate
    them, so that the password printed at this start works. Demo data only: the password
    policy is not applied to a password chosen in ``JIANDU_DEMO_PASSWORD``."""
    for account in DEMO_ACCOUNTS:
        try:
            store.create_user(
                account.username,
                password,
                account.role,
                account.display_name,
                unit=account.unit,
                section=account.section,
                enforce_policy=False,
            )
        except UserExists:
            store.set_password(account.username, password, enforce_policy=False)
            store.set_role(account.username, account.role)
            store.set_active(account.username, True)
    return list(DEMO_ACCOUNTS)
