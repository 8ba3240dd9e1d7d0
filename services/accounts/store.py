"""Accounts, credentials and the audit of sensitive reads, in their own small database.

Passwords are argon2id hashes (OWASP parameters, as in the reporter vault), computed
outside database transactions. API tokens and page session ids are random
(``secrets.token_urlsafe(32)``) and stored only as SHA-256 digests, with an expiry.
Failed logins are counted per username and per client: five failures within fifteen
minutes lock that key for a period that doubles with each lockout, and a locked or
wrong login answers the same whether the account exists or not (docs/decisions/0011).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal
from uuid import uuid4

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from prometheus_client import Counter

from schemas.glossary import Role
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

Clock = Callable[[], dt.datetime]
CredentialKind = Literal["token", "session"]

LOGIN_FAILURES = Counter(
    "jiandu_login_failures_total", "Refused logins (never labelled by user)", ["reason"]
)

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS accounts (
        username TEXT PRIMARY KEY,
        display_name TEXT NOT NULL,
        role TEXT NOT NULL,
        unit TEXT,
        section TEXT,
        password_hash TEXT NOT NULL,
        active INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        password_changed_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS account_credentials (
        digest TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        username TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS account_credentials_user ON account_credentials (username)",
    # Before the counters were keyed (HMAC), login_throttle held plain sha256("client:<ip>"):
    # an address recoverable by trying them all. The counters are transient: drop them.
    "DROP TABLE IF EXISTS login_throttle",
    """CREATE TABLE IF NOT EXISTS throttle_counters (
        throttle_key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        window_started_at TEXT,
        last_failure_at TEXT,
        lockouts INTEGER NOT NULL,
        locked_until TEXT,
        expires_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS throttle_counters_expiry ON throttle_counters (expires_at)",
    """CREATE TABLE IF NOT EXISTS sensitive_reads (
        entry_id TEXT PRIMARY KEY,
        read_at TEXT NOT NULL,
        username TEXT NOT NULL,
        role TEXT NOT NULL,
        item_kind TEXT NOT NULL,
        item_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS sensitive_reads_at ON sensitive_reads (read_at)",
    "CREATE INDEX IF NOT EXISTS sensitive_reads_user ON sensitive_reads (username, read_at)",
    "CREATE INDEX IF NOT EXISTS sensitive_reads_item ON sensitive_reads (item_kind, item_id)",
]


def _stamp(moment: dt.datetime) -> str:
    """UTC, fixed width: stored stamps compare as text in both databases."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must carry a time zone")
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _parse(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _seconds(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() + 0.999)


def client_subject(client: str) -> str:
    """What a client is counted as: an IPv4 address (an IPv4-mapped IPv6 one too) per
    address, an IPv6 address per /64; anything else (no address) as it is."""
    try:
        ip = ipaddress.ip_address(client.strip())
    except ValueError:
        return client
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(frozen=True)
class Reservation:
    """One attempt counted by :meth:`AccountStore.reserve`."""

    refused_for: int  # seconds until the keys are free; 0: the attempt may go ahead
    locked_for: int  # the longest lockout this attempt started, in seconds (0: none)
    keys: tuple[str, ...]  # the keys it was counted on
    started: tuple[str, ...]  # the keys whose lockout it started


# -- the store ------------------------------------------------------------------------------


class AccountStore:
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

    def now(self) -> dt.datetime:
        return self._clock()

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
        stamp = _stamp(self.now())
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
        return _account(row)

    def principal(self, username: str) -> Principal:
        return _principal(self.get_user(username))

    def list_users(self) -> list[Account]:
        with self.db.transaction() as cur:
            cur.execute("SELECT * FROM accounts ORDER BY username")
            return [_account(row) for row in cur.fetchall()]

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
                (password_hash, _stamp(self.now()), name),
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
        return _principal(_account(row))

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password[:MAX_PASSWORD_LENGTH])
        except (VerificationError, InvalidHashError):
            return False

    # -- the same throttle for other guesses (services/accounts/throttle.py) ----------------

    def throttle_key(self, kind: str, value: str) -> str:
        """A keyed digest naming what is counted: a client address or a query code is never
        stored in clear, nor as a hash one could reverse by trying every address."""
        key = hmac.new(self.csrf_key, b"throttle", hashlib.sha256).digest()
        return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def client_key(self, kind: str, client: str) -> str:
        """The keyed digest of a client: IPv4 per address, IPv6 per /64 (one subscriber's
        prefix: an attacker holding a /64 gets no fresh counter per address)."""
        return self.throttle_key(kind, client_subject(client))

    def reserve(self, keys: dict[str, int], policy: ThrottlePolicy) -> Reservation:
        """Count one attempt on every key, in the transaction that checks them: N parallel
        attempts cannot all pass a check made before any of them is counted.

        Refused (``refused_for`` > 0, nothing counted) while a key is locked. The attempt
        that reaches a key's limit is let through and starts that key's lockout
        (``locked_for``); :meth:`refund` takes an attempt back when it turned out right.
        Expired counters are purged on the way (an index range, cheap)."""
        now = self.now()
        stamp = _stamp(now)
        suffix = " FOR UPDATE" if self.db.dialect == "postgres" else ""
        started: list[str] = []
        longest = 0
        with self.db.transaction() as cur:  # SQLite: BEGIN IMMEDIATE, one writer at a time
            cur.execute("DELETE FROM throttle_counters WHERE expires_at < %s", (stamp,))
            rows: dict[str, dict[str, Any]] = {}
            for key in sorted(keys):  # a fixed order: no deadlock between two reservations
                cur.execute(
                    "INSERT INTO throttle_counters (throttle_key, failures, lockouts, expires_at) "
                    "VALUES (%s, 0, 0, %s) ON CONFLICT (throttle_key) DO NOTHING",
                    (key, stamp),
                )
                cur.execute(
                    "SELECT * FROM throttle_counters WHERE throttle_key = %s" + suffix, (key,)
                )
                row = cur.fetchone()
                assert row is not None
                rows[key] = row
            waits = [
                _seconds(_parse(r["locked_until"]) - now)
                for r in rows.values()
                if r["locked_until"] and _parse(r["locked_until"]) > now
            ]
            if waits:
                return Reservation(refused_for=max(waits), locked_for=0, keys=(), started=())
            for key, row in rows.items():
                failures, lockouts = int(row["failures"]), int(row["lockouts"])
                started_at = _parse(row["window_started_at"]) if row["window_started_at"] else None
                last = _parse(row["last_failure_at"]) if row["last_failure_at"] else None
                locked_until = _parse(row["locked_until"]) if row["locked_until"] else None
                if last is not None and now - last > policy.forget_after:
                    lockouts = 0
                if (
                    locked_until is not None
                    or started_at is None
                    or now - started_at > policy.window
                ):
                    failures, started_at, locked_until = 0, now, None  # a lock ended: start over
                failures += 1
                if failures >= keys[key]:
                    lockouts += 1
                    lock = policy.lockout(lockouts)
                    locked_until = now + lock
                    longest = max(longest, int(lock.total_seconds()))
                    started.append(key)
                expires = max(now + policy.forget_after, now + policy.window, locked_until or now)
                cur.execute(
                    "UPDATE throttle_counters SET failures = %s, window_started_at = %s, "
                    "last_failure_at = %s, lockouts = %s, locked_until = %s, expires_at = %s "
                    "WHERE throttle_key = %s",
                    (
                        failures,
                        _stamp(started_at),
                        stamp,
                        lockouts,
                        _stamp(locked_until) if locked_until else None,
                        _stamp(expires),
                        key,
                    ),
                )
        return Reservation(
            refused_for=0, locked_for=longest, keys=tuple(keys), started=tuple(started)
        )

    def refund(self, attempt: Reservation, *, forget: Sequence[str] = ()) -> None:
        """Take back an attempt that turned out right: its count, and a lockout it started;
        the keys in ``forget`` are cleared altogether."""
        with self.db.transaction() as cur:
            for key in sorted(attempt.keys):
                if key in forget:
                    cur.execute("DELETE FROM throttle_counters WHERE throttle_key = %s", (key,))
                elif key in attempt.started:
                    cur.execute(
                        "UPDATE throttle_counters SET failures = failures - 1, "
                        "lockouts = lockouts - 1, locked_until = NULL "
                        "WHERE throttle_key = %s AND failures > 0 AND lockouts > 0",
                        (key,),
                    )
                else:
                    cur.execute(
                        "UPDATE throttle_counters SET failures = failures - 1 "
                        "WHERE throttle_key = %s AND failures > 0",
                        (key,),
                    )

    # -- tokens and sessions ----------------------------------------------------------------

    def issue_token(self, principal: Principal) -> str:
        """A bearer token for the API, valid ``token_hours``."""
        return self._issue(principal, "token", self.token_lifetime)

    def token_expiry(self, token: str) -> dt.datetime | None:
        return self._expiry(token, "token")

    def principal_for_token(self, token: str) -> Principal | None:
        return self._principal_for(token, "token")

    def start_session(self, principal: Principal) -> str:
        """An opaque page-session id (for the ``jiandu_session`` cookie), valid ``session_hours``."""
        return self._issue(principal, "session", self.session_lifetime)

    def principal_for_session(self, session_id: str) -> Principal | None:
        return self._principal_for(session_id, "session")

    def end_session(self, session_id: str) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "DELETE FROM account_credentials WHERE digest = %s AND kind = %s",
                (_digest(session_id), "session"),
            )

    def revoke_token(self, token: str) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "DELETE FROM account_credentials WHERE digest = %s AND kind = %s",
                (_digest(token), "token"),
            )

    def _issue(self, principal: Principal, kind: CredentialKind, lifetime: dt.timedelta) -> str:
        secret = secrets.token_urlsafe(32)
        now = self.now()
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM account_credentials WHERE expires_at <= %s", (_stamp(now),))
            cur.execute(
                "INSERT INTO account_credentials (digest, kind, username, issued_at, expires_at) "
                "VALUES (%s, %s, %s, %s, %s)",
                (_digest(secret), kind, principal.username, _stamp(now), _stamp(now + lifetime)),
            )
        return secret

    def _expiry(self, secret: str, kind: CredentialKind) -> dt.datetime | None:
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT expires_at FROM account_credentials WHERE digest = %s AND kind = %s",
                (_digest(secret), kind),
            )
            row = cur.fetchone()
        return _parse(row["expires_at"]) if row else None

    def _principal_for(self, secret: str, kind: CredentialKind) -> Principal | None:
        if not secret or len(secret) > 200:
            return None
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT a.* FROM account_credentials c JOIN accounts a ON a.username = c.username "
                "WHERE c.digest = %s AND c.kind = %s AND c.expires_at > %s AND a.active = 1",
                (_digest(secret), kind, _stamp(self.now())),
            )
            row = cur.fetchone()
        return _principal(_account(row)) if row else None

    # -- audit of sensitive reads -------------------------------------------------------------

    def record_read(
        self, principal: Principal, item_kind: str, item_id: str, reason: str, detail: str = ""
    ) -> AuditEntry:
        """Record that ``principal`` read a sensitive item, and why. Call before showing it."""
        if not reason.strip():
            raise AccountError("a read of a sensitive item needs a reason")
        entry = AuditEntry(
            entry_id=str(uuid4()),
            read_at=_stamp(self.now()),
            username=principal.username,
            role=principal.role.value,
            item_kind=item_kind,
            item_id=item_id,
            reason=reason.strip(),
            detail=detail,
        )
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO sensitive_reads (entry_id, read_at, username, role, item_kind, "
                "item_id, reason, detail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                tuple(asdict(entry).values()),
            )
        return entry

    def audit_entries(
        self,
        user: str | None = None,
        item_kind: str | None = None,
        item_id: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AuditEntry]:
        """Recorded reads, newest first; ``since`` inclusive, ``until`` exclusive."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("username", user), ("item_kind", item_kind), ("item_id", item_id)):
            if value:
                clauses.append(f"{column} = %s")
                params.append(normalize_username(value) if column == "username" else value)
        if since is not None:
            clauses.append("read_at >= %s")
            params.append(_stamp(since))
        if until is not None:
            clauses.append("read_at < %s")
            params.append(_stamp(until))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        params.extend([max(0, min(limit, 1000)), max(0, offset)])
        with self.db.transaction() as cur:
            cur.execute(
                f"SELECT * FROM sensitive_reads {where} "
                "ORDER BY read_at DESC, entry_id LIMIT %s OFFSET %s",
                params,
            )
            return [AuditEntry(**row) for row in cur.fetchall()]


def _account(row: dict[str, Any]) -> Account:
    return Account(
        username=row["username"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        unit=row["unit"],
        section=row["section"],
        active=bool(row["active"]),
        created_at=row["created_at"],
    )


def _principal(account: Account) -> Principal:
    return Principal(
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        unit=account.unit,
        section=account.section,
    )
