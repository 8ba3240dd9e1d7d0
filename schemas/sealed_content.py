"""Request bodies for a sealed report's content (issue 10, item 14; decision 0013).

A report that belongs to the level above is sealed: its content is kept in intake's vault
only. After it is forwarded up, an operator hands the content over — as an export encrypted
for the receiver's public key, or on paper with the paper's reference — and a leader may
open it once, with a reason. Each is an event on the report; none carries the content.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from schemas.commands import Command

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]

HandOverMethod = Literal["encrypted_export", "paper"]


class HandOverSealedContent(Command):
    """Hand the sealed content to the level above it was forwarded to: once, saying why,
    on a day neither in the future nor before the forwarding."""

    reason: Reason

    method: HandOverMethod = Field(
        description="encrypted_export: the answer holds the content encrypted for "
        "recipient_public_key (RSA-OAEP-SHA256 wrapping an AES-256-GCM key); paper: the "
        "answer holds the content to print, and reference names the paper handed over"
    )
    reference: Reference = Field(
        "", description="the paper's or the sending letter's reference (文号); paper needs one"
    )
    recipient_public_key: Annotated[str, StringConstraints(max_length=10_000)] | None = Field(
        None, description="the receiver's RSA public key, PEM (encrypted_export only)"
    )
    handed_over_on: dt.date | None = None

    @model_validator(mode="after")
    def _method_needs(self) -> Self:
        if self.method == "paper" and not self.reference:
            raise ValueError("a handover on paper names the paper's reference")
        if self.method == "encrypted_export" and not self.recipient_public_key:
            raise ValueError("an encrypted export needs the receiver's recipient_public_key")
        if self.method == "paper" and self.recipient_public_key:
            raise ValueError("recipient_public_key is for an encrypted export only")
        return self


class OpenSealedContent(Command):
    """A leader opens the sealed content, once, saying why."""

    reason: Reason
