"""The accounts database: its tables, how its stamps and secrets are stored, and what every
part of the store shares (the database and the clock).

The parts of :class:`services.accounts.store.AccountStore` are each in their own module:
accounts and logins (``store.py``), tokens and page sessions (``credentials.py``), the
failed-attempt counters and lockouts (``lockouts.py``), the audit of sensitive reads
(``audit.py``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

from schemas.glossary import Role
from services.accounts.model import Account, Principal
from services.common.sql import Database

Clock = Callable[[], dt.datetime]

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


def utc_stamp(moment: dt.datetime) -> str:
    """UTC, fixed width: stored stamps compare as text in both databases."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must carry a time zone")
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def parse_stamp(stored: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stored)


def secret_digest(secret: str) -> str:
    """How a token or a session id is stored: its SHA-256, never the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def account_of(row: dict[str, Any]) -> Account:
    return Account(
        username=row["username"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        unit=row["unit"],
        section=row["section"],
        active=bool(row["active"]),
        created_at=row["created_at"],
    )


def principal_of(account: Account) -> Principal:
    return Principal(
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        unit=account.unit,
        section=account.section,
    )


class StoreBase:
    """The database and the clock every part of the account store works with."""

    db: Database
    _clock: Clock

    def now(self) -> dt.datetime:
        return self._clock()
