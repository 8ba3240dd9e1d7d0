"""The audit of sensitive reads: who read which item, when and why (recorded before it is
shown)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any
from uuid import uuid4

from services.accounts.model import AuditEntry, Principal
from services.accounts.policy import AccountError, normalize_username
from services.accounts.tables import StoreBase, utc_stamp


class SensitiveReads(StoreBase):
    """Recording and listing reads of sensitive items."""

    def record_read(
        self, principal: Principal, item_kind: str, item_id: str, reason: str, detail: str = ""
    ) -> AuditEntry:
        """Record that ``principal`` read a sensitive item, and why. Call before showing it."""
        if not reason.strip():
            raise AccountError("a read of a sensitive item needs a reason")
        entry = AuditEntry(
            entry_id=str(uuid4()),
            read_at=utc_stamp(self.now()),
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
            params.append(utc_stamp(since))
        if until is not None:
            clauses.append("read_at < %s")
            params.append(utc_stamp(until))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        params.extend([max(0, min(limit, 1000)), max(0, offset)])
        with self.db.transaction() as cur:
            cur.execute(
                f"SELECT * FROM sensitive_reads {where} "
                "ORDER BY read_at DESC, entry_id LIMIT %s OFFSET %s",
                params,
            )
            return [AuditEntry(**row) for row in cur.fetchall()]
