"""Keyed digests of intake (docs/decisions/0013): nothing intake stores in its events is an
unkeyed hash of data that holds a reporter's identity.

- The **submission digest** (compared when a client retries with the same Idempotency-Key)
  is HMAC-SHA-256 under a key derived from ``JIANDU_SECRET_KEY``. Stored as
  ``hmac-sha256:<hex>``. Events written before this change held ``sha256(submission json)``
  (64 hex digits, no prefix): ``jiandu intake-redact-digests`` rewrites each one to
  ``hmac-sha256-legacy:<HMAC(key, old digest)>``, which can still be compared with a retried
  submission (recompute the old digest, then key it) but no longer be brute-forced.
- The **report id of an Idempotency-Key** is per submitter: a uuid5 of
  ``HMAC(key, submitter, key)`` — neither the submitter (an account, or the client address
  of a public mailbox submission) nor the key can be read back from it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from uuid import NAMESPACE_URL, UUID, uuid5

from schemas.submissions import ReportSubmission

DIGEST_PREFIX = "hmac-sha256:"
LEGACY_PREFIX = "hmac-sha256-legacy:"
_UNKEYED = re.compile(r"^[0-9a-f]{64}$")
_NAMESPACE = uuid5(NAMESPACE_URL, "https://jiandu.example/ns/intake/idempotency")


def unkeyed_submission_digest(submission: ReportSubmission) -> str:
    """The digest intake stored before decision 0013. Only ever compared, never stored."""
    return hashlib.sha256(submission.model_dump_json().encode()).hexdigest()


def is_unkeyed(stored_digest: str) -> bool:
    """Whether a stored digest is the old, unkeyed kind (to be redacted)."""
    return bool(_UNKEYED.match(stored_digest))


class IntakeKeys:
    """The keyed digests, under one key (``Settings.derived_key("submission-digest")``)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the submission-digest key must be at least 32 bytes")
        self._key = key

    def _mac(self, purpose: str, data: bytes) -> str:
        return hmac.new(self._key, purpose.encode() + b"\x00" + data, hashlib.sha256).hexdigest()

    def submission_digest(self, submission: ReportSubmission) -> str:
        return DIGEST_PREFIX + self._mac("submission", submission.model_dump_json().encode())

    def rekey_legacy(self, unkeyed: str) -> str:
        """What the migration stores in place of an old unkeyed digest."""
        if not is_unkeyed(unkeyed):
            raise ValueError("not an unkeyed submission digest")
        return LEGACY_PREFIX + self._mac("legacy-submission", unkeyed.encode())

    def matches(self, stored: str, submission: ReportSubmission) -> bool:
        """Whether ``submission`` is the one a stored event's digest was made of, whichever
        kind of digest the event holds (new, migrated, or not yet migrated)."""
        if stored.startswith(DIGEST_PREFIX):
            expected = self.submission_digest(submission)
        elif stored.startswith(LEGACY_PREFIX):
            expected = self.rekey_legacy(unkeyed_submission_digest(submission))
        else:
            expected = unkeyed_submission_digest(submission)
        return hmac.compare_digest(stored, expected)

    def report_id_for(self, submitter: str, idempotency_key: str) -> UUID:
        """The report an Idempotency-Key names, for this submitter only."""
        mac = self._mac("idempotency", submitter.encode() + b"\x00" + idempotency_key.encode())
        return uuid5(_NAMESPACE, mac)

    def client_pseudonym(self, client: str) -> str:
        """The submitter of a public mailbox submission: its client address, keyed."""
        return "client:" + self._mac("client", client.encode())[:32]
