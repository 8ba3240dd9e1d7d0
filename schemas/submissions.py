"""What arrives at intake: one report through any channel (interfaces.md, POST /api/v1/reports)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from schemas.glossary import Category, Channel, MemberUnit, ReferralSource

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]

SUMMARY_MAX_CHARS = 20_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AnonymousReporter(Strict):
    anonymous: Literal[True] = True


class RealNameReporter(Strict):
    """A real-name reporter's identity. It is kept in intake's encrypted vault only."""

    anonymous: Literal[False] = False
    name: Text
    phone: OptionalText = ""
    id_number: OptionalText = ""
    unit: OptionalText = ""
    address: OptionalText = ""
    email: OptionalText = ""

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if not (self.phone or self.address or self.email):
            raise ValueError(
                "a real-name reporter needs a phone number, an address or an e-mail "
                "so that feedback can reach them"
            )
        return self


def _reporter_kind(value: object) -> str:
    if isinstance(value, dict):
        if "anonymous" in value:
            return "anonymous" if value["anonymous"] is True else "real_name"
        return "real_name" if "name" in value else "anonymous"
    return "anonymous" if getattr(value, "anonymous", True) else "real_name"


Reporter = Annotated[
    Annotated[AnonymousReporter, Tag("anonymous")] | Annotated[RealNameReporter, Tag("real_name")],
    Discriminator(_reporter_kind),
]


class ReportedCadre(Strict):
    """A cadre named in a report; ``cadre_id`` links to the cadre register when known."""

    name: Text
    unit: OptionalText = ""
    position: OptionalText = ""
    cadre_id: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None


class Referral(Strict):
    """Where a referred item (转办/移送) comes from."""

    source: ReferralSource
    member_unit: MemberUnit | None = None
    reference: OptionalText = ""
    referred_on: dt.date | None = None

    @model_validator(mode="after")
    def _member_unit_named(self) -> Self:
        if self.source is ReferralSource.MEMBER_UNIT and self.member_unit is None:
            raise ValueError("a referral from a member unit must name the member_unit")
        return self


class ReportSubmission(Strict):
    """One report as submitted through any channel."""

    channel: Channel
    reporter: Reporter
    subjects: Annotated[list[ReportedCadre], Field(min_length=1, max_length=50)]
    categories: Annotated[list[Category], Field(min_length=1, max_length=len(Category))]
    summary: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SUMMARY_MAX_CHARS)
    ]
    referral: Annotated[Referral | None, Field(validate_default=True)] = None
    received_on: dt.date | None = None
    sealed: bool = Field(
        default=False,
        description="Belongs to the level above: the content is kept sealed in the vault, "
        "and the case system sees a stub only.",
    )

    @field_validator("categories")
    @classmethod
    def _categories_distinct(cls, categories: list[Category]) -> list[Category]:
        if len(set(categories)) != len(categories):
            raise ValueError("categories repeat")
        return categories

    @field_validator("referral")
    @classmethod
    def _referral_matches_channel(
        cls, referral: Referral | None, info: ValidationInfo
    ) -> Referral | None:
        channel = info.data.get("channel")  # absent when the channel itself is invalid
        if channel is Channel.REFERRAL and referral is None:
            raise ValueError("channel 'referral' needs the referral details")
        if channel is not None and channel is not Channel.REFERRAL and referral is not None:
            raise ValueError(
                f"referral details are only for channel 'referral', not {channel.value!r}"
            )
        return referral


class SubmissionReceipt(BaseModel):
    """The answer to a submission (201)."""

    report_id: str
    ledger_number: str
    status: str
    case_id: str | None = None
    query_code: str | None = None
    password: str | None = Field(
        default=None, description="Shown once, for mailbox submissions; never stored in clear."
    )
