"""Bearer tokens for tests: an account per (username, role), made on first use."""

from __future__ import annotations

from schemas.glossary import Role
from services.accounts.store import AccountStore, UnknownUser

TEST_PASSWORD = "test-password-not-for-production"  # test accounts only


def bearer(
    accounts: AccountStore,
    username: str,
    role: Role | str,
    *,
    unit: str | None = None,
    section: str | None = None,
) -> dict[str, str]:
    """The ``Authorization`` header of a fresh token for ``username``, created with ``role``
    (and ``unit``/``section``) if missing. An existing account must match what is given."""
    the_role = Role(role)
    try:
        principal = accounts.principal(username)
    except UnknownUser:
        principal = accounts.create_user(
            username,
            TEST_PASSWORD,
            the_role,
            username,
            unit=unit,
            section=section,
            enforce_policy=False,
        )
    if principal.role is not the_role:
        raise AssertionError(f"{username} exists as {principal.role.value}, not {the_role.value}")
    for field, wanted, held in (
        ("unit", unit, principal.unit),
        ("section", section, principal.section),
    ):
        if wanted is not None and wanted != held:
            raise AssertionError(f"{username} exists with {field} {held!r}, not {wanted!r}")
    return {"Authorization": f"Bearer {accounts.issue_token(principal)}"}
