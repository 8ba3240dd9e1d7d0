"""Failed attempts counted per key, and the lockouts they start (docs/decisions/0011).

Logins count per username and per client; services/accounts/throttle.py counts other
guesses (follow-up query codes, public submissions) the same way. Five failures within the
policy's window lock a key for a period that doubles with each lockout. Keys are keyed
digests: a client address or a query code is never stored in clear.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.accounts.policy import ThrottlePolicy
from services.accounts.tables import StoreBase, parse_stamp, utc_stamp


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


class Lockouts(StoreBase):
    """The throttle's counters, in the accounts database."""

    csrf_key: bytes  # the store's key; the counters' keys are derived from it

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
        stamp = utc_stamp(now)
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
                _seconds(parse_stamp(r["locked_until"]) - now)
                for r in rows.values()
                if r["locked_until"] and parse_stamp(r["locked_until"]) > now
            ]
            if waits:
                return Reservation(refused_for=max(waits), locked_for=0, keys=(), started=())
            for key, row in rows.items():
                failures, lockouts = int(row["failures"]), int(row["lockouts"])
                started_at = (
                    parse_stamp(row["window_started_at"]) if row["window_started_at"] else None
                )
                last = parse_stamp(row["last_failure_at"]) if row["last_failure_at"] else None
                locked_until = parse_stamp(row["locked_until"]) if row["locked_until"] else None
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
                        utc_stamp(started_at),
                        stamp,
                        lockouts,
                        utc_stamp(locked_until) if locked_until else None,
                        utc_stamp(expires),
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
