"""Repairs of intake's stored events (docs/decisions/0013).

Events are immutable; this is the one sanctioned exception, and it is recorded. Before
decision 0013, ``Report.Received`` stored ``submission_digest = sha256(submission json)``: an
unkeyed hash over data holding a real-name reporter's name and phone, recoverable by trying
the likely values. :func:`redact_unkeyed_digests` rewrites that one field of each such stored
event, in place, to ``hmac-sha256-legacy:<HMAC(key, old digest)>`` (see ``keyed.py``): the
old value is gone from the table, and a client retrying an old Idempotency-Key is still
recognised. Every other field, the event's position and its timestamp stay as they were.
Each run is written to ``intake_migrations`` (what, when, how many events changed).

The rewrite is idempotent (a second run changes nothing) and runs inside one transaction.
An ``UPDATE`` alone leaves the old bytes on disk, so the run also removes them from the
live database files:

- **SQLite**: ``PRAGMA secure_delete=ON`` before the rewrite (freed space is zeroed), then
  ``wal_checkpoint(TRUNCATE)`` (the write-ahead log, which held the old pages, is emptied)
  and ``VACUUM`` (the file is rebuilt without free pages);
- **PostgreSQL**: ``VACUUM FULL`` of the events table after the transaction (the old row
  versions — dead tuples — are gone only once the table is rewritten).

Neither reaches copies made before: WAL archives, base backups, replicas and dumps still
hold the old digests until they age out; rotate them (decision 0013).

Two runs never overlap: PostgreSQL, an advisory lock — a second run while one holds it is
refused (:class:`MigrationBusy`); SQLite, the write lock of ``BEGIN IMMEDIATE``. Run it with
the intake service stopped: ``VACUUM FULL`` locks the events table exclusively while it
rewrites it, and a live service would wait (or time out) meanwhile.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from uuid import uuid4

from services.common.sql import Database
from services.intake.keyed import IntakeKeys, is_unkeyed

RECEIVED_TOPIC = "jiandu.intake:Report.Received"
# Taken for the run's transaction: a second run at the same time is refused.
ADVISORY_LOCK = "SELECT pg_try_advisory_xact_lock(hashtext('jiandu-intake-redact-digests')) AS got"
MIGRATION = "0013-redact-unkeyed-submission-digests"

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS intake_migrations (
        run_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        ran_at TEXT NOT NULL,
        events_changed INTEGER NOT NULL
    )""",
]


def events_table(db: Database) -> str:
    """Where eventsourcing keeps intake's events: ``stored_events`` in SQLite, the
    application's name + ``_events`` in PostgreSQL (in the ``intake`` schema)."""
    return "stored_events" if db.dialect == "sqlite" else "intake_events"


class MigrationBusy(RuntimeError):
    def __init__(self) -> None:
        super().__init__(
            "another run of the digest migration holds its lock; wait for it to finish"
        )


@dataclass(frozen=True)
class MigrationRun:
    name: str
    ran_at: str
    events_changed: int


def redact_unkeyed_digests(
    db: Database, keys: IntakeKeys, *, now: dt.datetime, dry_run: bool = False
) -> MigrationRun:
    """Rewrite every stored ``Report.Received`` whose digest is unkeyed; record the run."""
    if now.tzinfo is None:
        raise ValueError("the run's time must carry a time zone")
    db.create_tables(SCHEMA)
    ran_at = now.astimezone(dt.UTC).isoformat(timespec="microseconds")
    changed = 0
    table = events_table(db)
    if db.dialect == "sqlite" and not dry_run:
        # Freed space (the old row's cells) is overwritten with zeros, not left behind.
        db.run_outside_transaction(["PRAGMA secure_delete=ON"])
    with db.transaction() as cur:
        if db.dialect == "postgres":
            cur.execute(ADVISORY_LOCK)
            got = cur.fetchone()
            if not got or not got["got"]:
                raise MigrationBusy
        cur.execute(
            f"SELECT originator_id, originator_version, state FROM {table} "
            "WHERE topic = %s ORDER BY originator_id, originator_version",
            (RECEIVED_TOPIC,),
        )
        for row in cur.fetchall():
            raw = row["state"]
            state = json.loads(bytes(raw).decode() if not isinstance(raw, str) else raw)
            digest = state.get("submission_digest")
            if not isinstance(digest, str) or not is_unkeyed(digest):
                continue
            state["submission_digest"] = keys.rekey_legacy(digest)
            changed += 1
            if dry_run:
                continue
            cur.execute(
                f"UPDATE {table} SET state = %s "
                "WHERE originator_id = %s AND originator_version = %s",
                (
                    json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode(),
                    row["originator_id"],
                    row["originator_version"],
                ),
            )
        if not dry_run:
            cur.execute(
                "INSERT INTO intake_migrations (run_id, name, ran_at, events_changed) "
                "VALUES (%s, %s, %s, %s)",
                (str(uuid4()), MIGRATION, ran_at, changed),
            )
    if not dry_run:
        _remove_old_versions(db, table)
    return MigrationRun(MIGRATION, ran_at, changed)


def _remove_old_versions(db: Database, table: str) -> None:
    """The rewritten rows' old versions, out of the live files (see the module's doc)."""
    if db.dialect == "sqlite":
        db.run_outside_transaction(
            ["PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"]
        )
    else:
        db.run_outside_transaction([f"VACUUM FULL {table}"])


def migration_runs(db: Database) -> list[MigrationRun]:
    db.create_tables(SCHEMA)
    with db.transaction() as cur:
        cur.execute(
            "SELECT name, ran_at, events_changed FROM intake_migrations ORDER BY ran_at, run_id"
        )
        return [
            MigrationRun(r["name"], r["ran_at"], int(r["events_changed"])) for r in cur.fetchall()
        ]
