"""The reporter vault: reporter identity, encrypted at rest, never leaving intake in clear.

Everything outside this module sees a pseudonymous ``reporter_ref`` and flags only
(检举控告工作规则 Art. 47). Identities are sealed with AES-GCM under a key derived from
``JIANDU_SECRET_KEY``; the reference is bound into the ciphertext as associated data, so a
row moved to another reference does not decrypt.

Mailbox reporters follow up with a query code and a password. Both are derived from the
report id with a keyed hash, so a retried submission can show them again; only hashes are
stored (argon2 for the password).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from schemas.submissions import RealNameReporter
from services.common.sql import Database

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS reporter_vault (
        reporter_ref TEXT PRIMARY KEY,
        report_id TEXT NOT NULL,
        sealed_identity TEXT NOT NULL,
        identity_digest TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS reporter_vault_digest ON reporter_vault (identity_digest)",
    """CREATE TABLE IF NOT EXISTS sealed_contents (
        report_id TEXT PRIMARY KEY,
        sealed_content TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS follow_up_credentials (
        query_code_digest TEXT PRIMARY KEY,
        report_id TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL
    )""",
]


class VaultError(Exception):
    pass


@dataclass(frozen=True)
class VaultRow:
    """One row a submission adds to the vault, sealed and hashed already: written in the
    intake batch's transaction (group commit, decision 0023) or on its own."""

    table: str
    columns: tuple[str, ...]
    values: tuple[Any, ...]
    conflict: str  # the unique column: a repeated row keeps the first


# argon2 hashes run here, never in the group commit's thread: as many at once as there
# are cores (argon2-cffi releases the GIL), whatever the number of callers waiting.
_HASHERS = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="argon2")


def _code(digest: bytes, length: int) -> str:
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, 32)
        chars.append(_CROCKFORD[index])
    return "".join(chars)


class ReporterVault:
    def __init__(self, db: Database, *, vault_key: bytes, follow_up_key: bytes) -> None:
        self._db = db
        self._aead = AESGCM(vault_key)
        self._follow_up_key = follow_up_key
        # Argon2id with OWASP's parameters (19 MiB, 2 passes): ~30 ms, not argon2-cffi's
        # 64 MiB default that costs ~0.4 s per mailbox submission on a small server.
        self._hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
        db.create_tables(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def derived_key(self, purpose: str) -> bytes:
        """A key for another of intake's keyed digests, when none is passed in (tests)."""
        return hmac.new(self._follow_up_key, f"derive:{purpose}".encode(), hashlib.sha256).digest()

    # -- identity --------------------------------------------------------------------------

    def identity_digest(self, identity: RealNameReporter) -> str:
        """A keyed digest that links reports of the same person without revealing them."""
        material = "|".join(
            part.strip().lower() for part in (identity.name, identity.phone, identity.id_number)
        )
        return hmac.new(
            self._follow_up_key, b"identity:" + material.encode(), hashlib.sha256
        ).hexdigest()

    def seal(self, reporter_ref: str, report_id: UUID, identity: RealNameReporter) -> None:
        """Keep the identity for ``reporter_ref``; a repeated call keeps the first."""
        self.write_rows([self.identity_row(reporter_ref, report_id, identity)])

    def identity_row(
        self, reporter_ref: str, report_id: UUID, identity: RealNameReporter
    ) -> VaultRow:
        nonce = secrets.token_bytes(12)
        sealed = nonce + self._aead.encrypt(
            nonce, identity.model_dump_json().encode(), reporter_ref.encode()
        )
        return VaultRow(
            "reporter_vault",
            ("reporter_ref", "report_id", "sealed_identity", "identity_digest"),
            (
                reporter_ref,
                str(report_id),
                base64.b64encode(sealed).decode(),
                self.identity_digest(identity),
            ),
            "reporter_ref",
        )

    def write_rows(self, rows: list[VaultRow]) -> None:
        """Rows prepared by ``*_row``, in one transaction of the vault's own database."""
        if not rows:
            return
        with self._db.transaction() as cur:
            for row in rows:
                cur.execute(
                    f"INSERT INTO {row.table} ({', '.join(row.columns)}) "
                    f"VALUES ({', '.join('%s' for _ in row.columns)}) "
                    f"ON CONFLICT ({row.conflict}) DO NOTHING",
                    row.values,
                )

    def reveal(self, reporter_ref: str) -> RealNameReporter:
        """The identity behind a reference. Callers record who asked and why."""
        with self._db.transaction() as cur:
            cur.execute(
                "SELECT sealed_identity FROM reporter_vault WHERE reporter_ref = %s",
                (reporter_ref,),
            )
            row = cur.fetchone()
        if row is None:
            raise VaultError("no identity is kept for this reporter reference")
        sealed = base64.b64decode(row["sealed_identity"])
        plain = self._aead.decrypt(sealed[:12], sealed[12:], reporter_ref.encode())
        return RealNameReporter.model_validate_json(plain)

    # -- sealed content (items that belong to the level above) ------------------------------

    def seal_content(self, report_id: UUID, text: str) -> None:
        self.write_rows([self.content_row(report_id, text)])

    def content_row(self, report_id: UUID, text: str) -> VaultRow:
        nonce = secrets.token_bytes(12)
        sealed = nonce + self._aead.encrypt(nonce, text.encode(), f"content:{report_id}".encode())
        return VaultRow(
            "sealed_contents",
            ("report_id", "sealed_content"),
            (str(report_id), base64.b64encode(sealed).decode()),
            "report_id",
        )

    def reveal_content(self, report_id: UUID) -> str:
        """A sealed report's content, for the few who must forward it. Callers record the read."""
        with self._db.transaction() as cur:
            cur.execute(
                "SELECT sealed_content FROM sealed_contents WHERE report_id = %s", (str(report_id),)
            )
            row = cur.fetchone()
        if row is None:
            raise VaultError("no sealed content is kept for this report")
        sealed = base64.b64decode(row["sealed_content"])
        return self._aead.decrypt(
            sealed[:12], sealed[12:], f"content:{report_id}".encode()
        ).decode()

    # -- follow-up credentials ---------------------------------------------------------------

    def _derive(self, purpose: str, report_id: UUID) -> bytes:
        return hmac.new(
            self._follow_up_key, f"{purpose}:{report_id}".encode(), hashlib.sha256
        ).digest()

    def credentials_for(self, report_id: UUID) -> tuple[str, str]:
        """The query code (查询码) and password of a report, as shown to the reporter."""
        code = _code(self._derive("query-code", report_id), 12)
        password = _code(self._derive("password", report_id), 10)
        return f"{code[:4]}-{code[4:8]}-{code[8:]}", password

    def _code_digest(self, query_code: str) -> str:
        normal = query_code.replace("-", "").strip().upper()
        return hmac.new(self._follow_up_key, b"code:" + normal.encode(), hashlib.sha256).hexdigest()

    def issue_credentials(self, report_id: UUID) -> tuple[str, str]:
        self.write_rows([self.credentials_row(report_id)])
        return self.credentials_for(report_id)

    def credentials_row(self, report_id: UUID) -> VaultRow:
        """The follow-up credentials' row; the argon2 hash is computed in the hashing pool
        (sized to the cores), the caller waiting: never in a transaction, never in a batch."""
        query_code, password = self.credentials_for(report_id)
        password_hash = _HASHERS.submit(self._hasher.hash, password).result()
        return VaultRow(
            "follow_up_credentials",
            ("query_code_digest", "report_id", "password_hash"),
            (self._code_digest(query_code), str(report_id), password_hash),
            "query_code_digest",
        )

    def report_for_credentials(self, query_code: str, password: str) -> UUID | None:
        """The report a reporter may follow up, or None when code or password is wrong."""
        with self._db.transaction() as cur:
            cur.execute(
                "SELECT report_id, password_hash FROM follow_up_credentials "
                "WHERE query_code_digest = %s",
                (self._code_digest(query_code),),
            )
            row = cur.fetchone()
        if row is None:
            return None
        try:
            self._hasher.verify(row["password_hash"], password.strip().upper())
        except VerificationError:
            return None
        return UUID(row["report_id"])
