"""How a submission can be refused for what happened to it before, not for its content."""

from __future__ import annotations


class IdempotencyKeyReused(Exception):
    """The key was used before for a different submission."""

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was already used for a different submission; "
            "use a new key for a new report"
        )


class SubmissionContention(Exception):
    """503: the ledger is contended for a moment (sent with Retry-After)."""

    retry_after_seconds = 1

    def __init__(self) -> None:
        super().__init__("too many concurrent registrations; retry with the same Idempotency-Key")
