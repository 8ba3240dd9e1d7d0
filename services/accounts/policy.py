"""The rules of accounts: usernames, roles, passwords, login throttling, and the errors
that say which rule a request broke."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from schemas.glossary import Role

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


# -- errors users can act on ----------------------------------------------------------------


class AccountError(ValueError):
    """A refused account operation; the message says what to change."""


class BadCredentials(AccountError):
    def __init__(self) -> None:
        # One message for an unknown user, a wrong password and a deactivated account.
        super().__init__("username or password is wrong (用户名或密码错误)")


class LoginThrottled(AccountError):
    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = max(1, retry_after_seconds)
        minutes = -(-self.retry_after_seconds // 60)
        super().__init__(
            f"too many failed logins: try again in {minutes} minute(s) "
            f"(登录失败次数过多，请 {minutes} 分钟后再试)"
        )


class TooManyAttempts(AccountError):
    """The public's throttle (follow-up guesses, mailbox submissions): 429 with Retry-After."""

    def __init__(self, retry_after_seconds: int, message: str) -> None:
        self.retry_after_seconds = max(1, retry_after_seconds)
        super().__init__(message)


class WeakPassword(AccountError):
    pass


class InvalidAccount(AccountError):
    pass


class UserExists(AccountError):
    def __init__(self, username: str) -> None:
        super().__init__(f"an account named {username!r} already exists")


class UnknownUser(AccountError, LookupError):
    def __init__(self, username: str) -> None:
        super().__init__(f"no account named {username!r}")


class LastAdministrator(AccountError):
    def __init__(self) -> None:
        super().__init__(
            "at least one active administrator must remain: "
            "make another administrator before this change"
        )


# -- the login policy ----------------------------------------------------------------------


@dataclass(frozen=True)
class ThrottlePolicy:
    """``max_failures`` within ``window`` lock a username (``client_max_failures`` a
    client, which colleagues behind one address share) for ``first_lockout``, doubling with
    each further lockout up to ``max_lockout``; a key quiet for ``forget_after`` starts over."""

    max_failures: int = 5
    client_max_failures: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)
    first_lockout: dt.timedelta = dt.timedelta(minutes=5)
    max_lockout: dt.timedelta = dt.timedelta(hours=1)
    forget_after: dt.timedelta = dt.timedelta(hours=24)

    def lockout(self, lockouts: int) -> dt.timedelta:
        return min(self.first_lockout * (1 << max(0, lockouts - 1)), self.max_lockout)


@dataclass(frozen=True)
class PublicLimits:
    """What the public may try (services/accounts/throttle.py): failed follow-ups per query
    code (``follow_up.max_failures``) and per client (``follow_up.client_max_failures``)
    within ``follow_up.window``; mailbox submissions per client within a day."""

    follow_up: ThrottlePolicy = ThrottlePolicy()
    mailbox_per_day: int = 5


def check_password(password: str, username: str = "") -> None:
    """Refuse weak passwords with a message that says what is wrong."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            f"password too short: at least {MIN_PASSWORD_LENGTH} characters "
            f"(密码至少 {MIN_PASSWORD_LENGTH} 位)"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"password too long: at most {MAX_PASSWORD_LENGTH} characters")
    if len(set(password)) < 4:
        raise WeakPassword("password too simple: use at least 4 different characters")
    if username and username.lower() in password.lower():
        raise WeakPassword("password must not contain the username")


def normalize_username(username: str) -> str:
    return username.strip().lower()


def check_username(username: str) -> str:
    name = normalize_username(username)
    if not USERNAME.match(name):
        raise InvalidAccount(
            f"invalid username {username!r}: 2-64 characters, lower-case letters, digits, "
            "'.', '_' or '-', starting with a letter or digit"
        )
    return name


def check_text(label: str, value: str | None, *, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise InvalidAccount(f"{label} must not be empty")
        return None
    if len(value) > 200:
        raise InvalidAccount(f"{label} too long: at most 200 characters")
    return value.strip()


ASSIGNABLE_ROLES = frozenset(Role) - {Role.SYSTEM, Role.REPORTER}


def check_role(role: Role | str) -> Role:
    try:
        value = Role(role)
    except ValueError:
        value = None
    if value is None or value not in ASSIGNABLE_ROLES:
        names = ", ".join(sorted(r.value for r in ASSIGNABLE_ROLES))
        raise InvalidAccount(f"unknown role {role!r}: one of {names}")
    return value
