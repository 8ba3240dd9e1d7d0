"""What an attacker holding a copy of a store would try: every unkeyed digest of a known
reporter's identity, over the serialisations intake might plausibly have hashed.

Used by the unit (SQLite) and integration (PostgreSQL) tests of decision 0013: a search of
every raw stored row for these finds none.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections.abc import Iterable
from typing import Any

from schemas.submissions import RealNameReporter, ReportSubmission

HASHES = ("sha256", "sha1", "md5", "sha512", "sha3_256", "blake2b")


def serialisations(identity: RealNameReporter, *submissions: ReportSubmission) -> set[str]:
    """The texts one would hash: identity fields alone and combined, in several joinings,
    the identity's and each whole submission's JSON (compact and spaced, modes json and
    python)."""
    parts = [identity.name, identity.phone, identity.id_number, identity.email]
    parts = [p for p in parts if p]
    texts: set[str] = set(parts)
    for size in (2, 3, len(parts)):
        for combo in itertools.permutations(parts, size):
            for sep in ("", "|", ":", ",", " ", "\n", "\x00", "-", "/"):
                texts.add(sep.join(combo))
                texts.add(sep.join(combo).lower())
    dumps: list[Any] = [identity.model_dump(), identity.model_dump(exclude={"anonymous"})]
    texts.add(identity.model_dump_json())
    for submission in submissions:
        texts.add(submission.model_dump_json())
        dumps.append(submission.model_dump(mode="json"))
        dumps.append(submission.model_dump(mode="json", exclude_none=True))
    for data in dumps:
        for kwargs in (
            {},
            {"ensure_ascii": False},
            {"separators": (",", ":")},
            {"separators": (",", ":"), "ensure_ascii": False},
            {"sort_keys": True},
            {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False},
        ):
            texts.add(json.dumps(data, **kwargs))  # type: ignore[arg-type]
    return texts


def candidate_digests(identity: RealNameReporter, *submissions: ReportSubmission) -> set[str]:
    """Hex (lower and upper) and base64 of every hash of every serialisation."""
    found: set[str] = set()
    for text in serialisations(identity, *submissions):
        for name in HASHES:
            raw = hashlib.new(name, text.encode()).digest()
            found |= {raw.hex(), raw.hex().upper(), base64.b64encode(raw).decode()}
            found.add(base64.urlsafe_b64encode(raw).decode().rstrip("="))
    return found


CLIENT_KINDS = (
    "",
    "client:",
    "login-client:",
    "mailbox-client:",
    "follow-up-client:",
    "audit-client:",
    "idempotency:",
)


def client_candidates(address: str, *usernames: str) -> set[str]:
    """What one would try to find a client address (or a signed-in name) in a store: the
    address itself, and every hash of it bare and under each key-name prefix the throttles
    and intake use (``client:203.0.113.5``, ``mailbox-client:…``; ``user:<name>``) — the
    keyed-name candidates an unkeyed counter would have stored."""
    texts = {kind + address for kind in CLIENT_KINDS}
    texts |= {f"{kind}{name}" for name in usernames for kind in ("", "user:", "login-user:")}
    found: set[str] = {address}
    for text in texts:
        for name in HASHES:
            raw = hashlib.new(name, text.encode()).digest()
            found |= {raw.hex(), raw.hex().upper(), base64.b64encode(raw).decode()}
            found.add(base64.urlsafe_b64encode(raw).decode().rstrip("="))
    return found


def texts_of(rows: Iterable[Iterable[Any]]) -> list[str]:
    """Every cell of every row as text (bytes decoded, so JSON state is searchable)."""
    out = []
    for row in rows:
        for cell in row:
            if isinstance(cell, bytes | memoryview):
                out.append(bytes(cell).decode("utf-8", "replace"))
            else:
                out.append(str(cell))
    return out


def digests_found(cells: Iterable[str], digests: set[str]) -> set[str]:
    """Which of ``digests`` occur in any cell."""
    blob = "\n".join(cells)
    return {d for d in digests if d in blob}
