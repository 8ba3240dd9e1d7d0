"""Accounts and logins, in their own small database (with credentials.py, lockouts.py,
audit.py: the account store).

Passwords are argon2id hashes (OWASP parameters, as in the reporter vault), computed
outside database transactions. API tokens and page session ids are random
(``secrets.token_urlsafe(32)``) and stored only as SHA-256 digests, with an expiry.
Failed logins are counted per username and per client: five failures within fifteen
minutes lock that key for a period that doubles with each lockout, and a locked or
wrong login answers the same whether the account exists or not (docs/decisions/0011).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from collections.abc import Sequence
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from prometheus_client import Counter

from schemas.glossary import Role
from services.accounts.audit import SensitiveReads
from services.accounts.credentials import Credentials
from services.accounts.lockouts import Lockouts
from services.accounts.model import Account, AuditEntry, Principal
from services.accounts.policy import (
    MAX_PASSWORD_LENGTH,
    AccountError,
    BadCredentials,
    InvalidAccount,
    LastAdministrator,
    LoginThrottled,
    PublicLimits,
    ThrottlePolicy,
    TooManyAttempts,
    UnknownUser,
    UserExists,
    WeakPassword,
    check_password,
    check_role,
    check_text,
    check_username,
    normalize_username,
)
from services.accounts.tables import SCHEMA, Clock, account_of, principal_of, utc_stamp
from services.common.china_time import utc_now
from services.common.sql import Cursor, Database

# The errors and checks live in policy.py; callers may take them from here.
__all__ = [
    "Account",
    "AccountError",
    "AccountStore",
    "AuditEntry",
    "BadCredentials",
    "InvalidAccount",
    "LastAdministrator",
    "LoginThrottled",
    "ThrottlePolicy",
    "TooManyAttempts",
    "UnknownUser",
    "UserExists",
    "WeakPassword",
    "check_password",
    "check_role",
    "check_username",
]

LOGIN_FAILURES = Counter(
    "jiandu_login_failures_total", "Refused logins (never labelled by user)", ["reason"]
)


class AccountStore(Credentials, Lockouts, SensitiveReads):
    """Accounts and logins (here), tokens and sessions (credentials.py), the failed-attempt
    counters (lockouts.py) and the audit of sensitive reads (audit.py): one object over the
    accounts database (tables.py)."""

    def __init__(
        self,
        db: Database,
        *,
        session_hours: float = 8,
        token_hours: float = 12,
        clock: Clock = utc_now,
        throttle: ThrottlePolicy | None = None,
        csrf_key: bytes | None = None,
        trusted_proxies: Sequence[str] = (),
        public_limits: PublicLimits | None = None,
    ) -> None:
        self.db = db
        # Peers whose X-Forwarded-For is believed (services/accounts/throttle.py).
        self.trusted_proxies = tuple(ipaddress.ip_network(p.strip()) for p in trusted_proxies)
        self.public_limits = public_limits or PublicLimits()
        self.session_lifetime = dt.timedelta(hours=session_hours)
        self.token_lifetime = dt.timedelta(hours=token_hours)
        self.throttle = throttle or ThrottlePolicy()
        self._clock = clock
        # Signs the CSRF tokens of pages (services/accounts/web.py).
        self.csrf_key = csrf_key or secrets.token_bytes(32)
        # Argon2id with OWASP's parameters (19 MiB, 2 passes), as the reporter vault uses.
        self._hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
        # Verifying against a decoy costs an unknown user the same time as a known one.
        self._decoy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        db.create_tables(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -- accounts -----------------------------------------------------------------------

    def create_user(
        self,
        username: str,
        password: str,
        role: Role | str,
        display_name: str,
        unit: str | None = None,
        section: str | None = None,
        *,
        enforce_policy: bool = True,
    ) -> Principal:
        """A new active account; refuses a taken name, an unknown role, a weak password."""
        name = check_username(username)
        the_role = check_role(role)
        shown = check_text("display name", display_name, required=True)
        assert shown is not None
        if enforce_policy:
            check_password(password, name)
        password_hash = self._hasher.hash(password)  # before the transaction: no lock held
        stamp = utc_stamp(self.now())
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO accounts (username, display_name, role, unit, section, "
                "password_hash, active, created_at, password_changed_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, 1, %s, %s) ON CONFLICT (username) DO NOTHING",
                (
                    name,
                    shown,
                    the_role.value,
                    check_text("unit", unit),
                    check_text("section", section),
                    password_hash,
                    stamp,
                    stamp,
                ),
            )
            if cur.rowcount != 1:
                raise UserExists(name)
        return self.principal(name)

    def get_user(self, username: str) -> Account:
        with self.db.transaction() as cur:
            row = self._account_row(cur, normalize_username(username))
        if row is None:
            raise UnknownUser(username)
        return account_of(row)

    def principal(self, username: str) -> Principal:
        return principal_of(self.get_user(username))

    def list_users(self) -> list[Account]:
        with self.db.transaction() as cur:
            cur.execute("SELECT * FROM accounts ORDER BY username")
            return [account_of(row) for row in cur.fetchall()]

    def has_users(self) -> bool:
        with self.db.transaction() as cur:
            cur.execute("SELECT 1 AS one FROM accounts LIMIT 1")
            return cur.fetchone() is not None

    def set_active(self, username: str, active: bool) -> Account:
        """(De)activate an account; deactivation ends its sessions and tokens at once."""
        name = normalize_username(username)
        with self.db.transaction() as cur:
            row = self._account_row(cur, name, lock=True)
            if row is None:
                raise UnknownUser(username)
            if not active and row["role"] == Role.ADMIN.value and row["active"]:
                self._keep_an_administrator(cur, name)
            cur.execute(
                "UPDATE accounts SET active = %s WHERE username = %s", (1 if active else 0, name)
            )
            if not active:
                cur.execute("DELETE FROM account_credentials WHERE username = %s", (name,))
        return self.get_user(name)

    def set_role(self, username: str, role: Role | str) -> Account:
        """Change a role; open sessions and tokens carry the new role from their next use."""
        name = normalize_username(username)
        the_role = check_role(role)
        with self.db.transaction() as cur:
            row = self._account_row(cur, name, lock=True)
            if row is None:
                raise UnknownUser(username)
            if row["role"] == Role.ADMIN.value and the_role is not Role.ADMIN and row["active"]:
                self._keep_an_administrator(cur, name)
            cur.execute("UPDATE accounts SET role = %s WHERE username = %s", (the_role.value, name))
        return self.get_user(name)

    def set_password(self, username: str, password: str, *, enforce_policy: bool = True) -> None:
        """A new password (policy checked); every session and token of the account ends."""
        name = normalize_username(username)
        self.get_user(name)  # unknown user: say so before hashing
        if enforce_policy:
            check_password(password, name)
        password_hash = self._hasher.hash(password)
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE accounts SET password_hash = %s, password_changed_at = %s "
                "WHERE username = %s",
                (password_hash, utc_stamp(self.now()), name),
            )
            if cur.rowcount != 1:
                raise UnknownUser(username)
            cur.execute("DELETE FROM account_credentials WHERE username = %s", (name,))

    def _keep_an_administrator(self, cur: Cursor, leaving: str) -> None:
        cur.execute(
            "SELECT COUNT(*) AS n FROM accounts WHERE role = %s AND active = 1 AND username <> %s",
            (Role.ADMIN.value, leaving),
        )
        row = cur.fetchone()
        if row is None or int(row["n"]) == 0:
            raise LastAdministrator()

    def _account_row(self, cur: Cursor, name: str, *, lock: bool = False) -> dict[str, Any] | None:
        suffix = " FOR UPDATE" if lock and self.db.dialect == "postgres" else ""
        cur.execute("SELECT * FROM accounts WHERE username = %s" + suffix, (name,))
        return cur.fetchone()

    # -- login ----------------------------------------------------------------------------

    def authenticate(self, username: str, password: str, client: str) -> Principal:
        """The account's principal, or ``BadCredentials`` / ``LoginThrottled``.

        Refused the same way, after the same work, whether the account exists or not.
        """
        name = normalize_username(username)[:128]
        user_key = self.throttle_key("login-user", name)
        keys = {
            user_key: self.throttle.max_failures,
            self.client_key("login-client", client): self.throttle.client_max_failures,
        }
        attempt = self.reserve(keys, self.throttle)
        if attempt.refused_for:
            LOGIN_FAILURES.labels("throttled").inc()
            raise LoginThrottled(attempt.refused_for)
        with self.db.transaction() as cur:
            row = self._account_row(cur, name)
        usable = row is not None and bool(row["active"])
        stored = row["password_hash"] if usable and row is not None else self._decoy_hash
        verified = self._verify(stored, password) and usable
        if not verified:
            LOGIN_FAILURES.labels("bad_credentials").inc()
            if attempt.locked_for:
                raise LoginThrottled(attempt.locked_for)
            raise BadCredentials()
        assert row is not None
        # Only the username's count is forgotten: one good login must not clear a guessing
        # client's; the client's counts this attempt no more.
        self.refund(attempt, forget=(user_key,))
        if self._hasher.check_needs_rehash(row["password_hash"]):
            new_hash = self._hasher.hash(password)
            with self.db.transaction() as cur:
                cur.execute(
                    "UPDATE accounts SET password_hash = %s WHERE username = %s", (new_hash, name)
                )
        return principal_of(account_of(row))

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password[:MAX_PASSWORD_LENGTH])
        except (VerificationError, InvalidHashError):
            return False
