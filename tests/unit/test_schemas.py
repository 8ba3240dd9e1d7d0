"""The contracts: what a submission must say, and how events cross the boundary."""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin
from uuid import UUID

import pytest
from pydantic import BaseModel, ValidationError

from schemas import events
from schemas.events import (
    PAYLOADS,
    EventEnvelope,
    Payload,
    ReportReceivedV1,
    UnknownEventType,
    json_schemas,
    parse_payload,
)
from schemas.submissions import RealNameReporter, ReportSubmission
from tests.unit.conftest import envelope, real_name_reporter

VALID: dict[str, Any] = {
    "channel": "hotline",
    "reporter": {"anonymous": True},
    "subjects": [{"name": "王建国", "unit": "某县财政局"}],
    "categories": ["seeking_office"],
    "summary": "反映王建国跑官要官。",
}


def problems(data: dict[str, Any], model: type[BaseModel] = ReportSubmission) -> list[str]:
    """Each problem as 'location: message'."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in caught.value.errors()]


def test_a_valid_submission_is_accepted() -> None:
    report = ReportSubmission.model_validate(VALID)
    assert report.subjects[0].name == "王建国"
    assert report.referral is None


# -- every problem is named --------------------------------------------------------------


def test_a_submission_with_several_field_errors_names_each_of_them() -> None:
    found = problems(
        VALID
        | {
            "channel": "carrier_pigeon",
            "subjects": [],
            "categories": ["seeking_office", "not_a_category"],
            "summary": "   ",
        }
    )
    locations = sorted(p.split(":")[0] for p in found)
    assert locations == ["categories.1", "channel", "subjects", "summary"]


def test_cross_field_problems_are_named_together_with_field_problems() -> None:
    # A referral without its details, repeated categories and an empty summary: three problems,
    # and the submitter hears of all three at once, not one per attempt.
    found = problems(
        VALID | {"channel": "referral", "categories": ["vote_buying", "vote_buying"], "summary": ""}
    )
    text = "\n".join(found)
    assert "summary" in text
    assert "categories repeat" in text
    assert "needs the referral details" in text
    assert len(found) == 3


def test_two_cross_field_problems_are_both_named() -> None:
    found = problems(VALID | {"channel": "referral", "categories": ["vote_buying", "vote_buying"]})
    text = "\n".join(found)
    assert "categories repeat" in text
    assert "needs the referral details" in text


# -- channel and referral ---------------------------------------------------------------------


def test_the_referral_channel_requires_referral_details() -> None:
    found = problems(VALID | {"channel": "referral"})
    assert any("needs the referral details" in p for p in found)


def test_a_referral_with_its_details_is_accepted() -> None:
    report = ReportSubmission.model_validate(
        VALID
        | {
            "channel": "referral",
            "referral": {"source": "member_unit", "member_unit": "audit_bureau"},
        }
    )
    assert report.referral is not None
    assert report.referral.member_unit == "audit_bureau"


@pytest.mark.parametrize("channel", ["hotline", "mailbox", "letter", "visit", "internal"])
def test_other_channels_refuse_referral_details(channel: str) -> None:
    found = problems(VALID | {"channel": channel, "referral": {"source": "level_above"}})
    assert any(f"only for channel 'referral', not '{channel}'" in p for p in found)


def test_a_referral_from_a_member_unit_names_the_unit() -> None:
    found = problems(VALID | {"channel": "referral", "referral": {"source": "member_unit"}})
    assert any("must name the member_unit" in p for p in found)


# -- the reporter -------------------------------------------------------------------------------


def test_a_real_name_reporter_needs_a_way_to_be_reached() -> None:
    found = problems(VALID | {"reporter": {"anonymous": False, "name": "李四"}})
    assert any(
        p.startswith("reporter.") and "phone number, an address or an e-mail" in p for p in found
    )


@pytest.mark.parametrize("contact", ["phone", "address", "email"])
def test_any_one_contact_is_enough_for_a_real_name_reporter(contact: str) -> None:
    reporter = RealNameReporter.model_validate({"name": "李四", contact: "x"})
    assert reporter.anonymous is False


def test_an_anonymous_reporter_carries_no_identity_fields() -> None:
    found = problems(VALID | {"reporter": {"anonymous": True, "name": "李四"}})
    assert any("reporter" in p and "Extra inputs" in p for p in found)


def test_duplicate_categories_are_refused() -> None:
    found = problems(VALID | {"categories": ["vote_buying", "seeking_office", "vote_buying"]})
    assert any("categories repeat" in p for p in found)


def test_unknown_fields_are_refused_not_ignored() -> None:
    found = problems(VALID | {"priority": "high"})
    assert found == ["priority: Extra inputs are not permitted"]


def test_the_public_contract_cannot_carry_a_reporter_identity() -> None:
    reporter = {"ref": "r-1", "anonymous": False} | real_name_reporter()
    with pytest.raises(ValidationError, match="Extra inputs"):
        events.ReporterRef.model_validate(reporter)


# -- payloads round-trip ------------------------------------------------------------------------


SCALARS: list[tuple[type, Any]] = [  # most specific first: bool is an int, datetime a date
    (bool, True),
    (int, 3),
    (str, "示例"),
    (dt.datetime, dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)),
    (dt.date, dt.date(2026, 3, 2)),
    (UUID, UUID("12345678-1234-5678-1234-567812345678")),
]


def sample(annotation: Any) -> Any:
    """A valid value for ``annotation`` (every optional part filled in, to exercise it)."""
    origin, args = get_origin(annotation), get_args(annotation)
    composite: dict[Any, Any] = {
        Union: lambda: sample(next(a for a in args if a is not type(None))),
        types.UnionType: lambda: sample(next(a for a in args if a is not type(None))),
        typing.Annotated: lambda: sample(args[0]),
        Literal: lambda: args[0],
        list: lambda: [sample(args[0])],
        dict: lambda: {sample(args[0]): sample(args[1])},
    }
    if origin in composite:
        return composite[origin]()
    if annotation is Any:
        return {"note": "any"}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return sample_model(annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return next(iter(annotation))
    return next(value for kind, value in SCALARS if issubclass(annotation, kind))


def sample_model(model: type[BaseModel]) -> BaseModel:
    return model.model_validate(
        {name: sample(field.annotation) for name, field in model.model_fields.items()}
    )


@pytest.mark.parametrize(("event_type", "version"), sorted(PAYLOADS))
def test_every_payload_type_round_trips_through_an_envelope(event_type: str, version: int) -> None:
    model = PAYLOADS[(event_type, version)]
    original = sample_model(model)
    sent = envelope(event_type, original.model_dump(mode="json"), version=version)

    received = EventEnvelope.from_bytes(sent.to_bytes())
    parsed = parse_payload(received)

    assert received == sent
    assert type(parsed) is model
    assert parsed == original


def test_an_unknown_event_type_raises_unknown_event_type() -> None:
    with pytest.raises(UnknownEventType, match="ReportTeleported"):
        parse_payload(envelope("ReportTeleported", {}))


def test_a_payload_that_breaks_its_contract_is_refused() -> None:
    with pytest.raises(ValidationError):
        parse_payload(envelope("ReportRegistered", {"ledger_number": "JB-2026-000001"}))


def test_an_envelope_is_keyed_by_its_aggregate_id() -> None:
    sent = envelope("ReportRegistered", {})
    assert sent.key() == str(sent.aggregate_id).encode()


class ReportRegisteredV2(Payload):
    """A fake next version: ``ledger_number`` split into its year and sequence."""

    ledger_year: int
    ledger_sequence: int
    acceptance_notice_due: events.DueDate | None = None
    actor: events.Actor


def registered_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    _, year, sequence = data.pop("ledger_number").split("-")
    return data | {"ledger_year": int(year), "ledger_sequence": int(sequence)}


def test_an_older_version_is_upcast_by_its_registered_upcaster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(PAYLOADS, ("ReportRegistered", 2), ReportRegisteredV2)
    monkeypatch.setitem(events.CURRENT_VERSION, "ReportRegistered", 2)
    monkeypatch.setitem(events.UPCASTERS, ("ReportRegistered", 1), registered_v1_to_v2)
    actor = {"id": "op-1", "role": "operator"}
    v1 = envelope("ReportRegistered", {"ledger_number": "JB-2026-000042", "actor": actor})
    v2 = envelope(
        "ReportRegistered",
        {"ledger_year": 2026, "ledger_sequence": 7, "actor": actor},
        version=2,
    )

    upcast = parse_payload(v1)
    current = parse_payload(v2)

    assert upcast == ReportRegisteredV2(
        ledger_year=2026, ledger_sequence=42, actor=events.Actor(id="op-1", role="operator")
    )
    assert isinstance(current, ReportRegisteredV2)
    assert current.ledger_sequence == 7


def test_json_schema_is_exported_for_the_envelope_and_every_payload_version() -> None:
    exported = json_schemas()
    assert set(exported) == {"EventEnvelope"} | {f"{t}.v{v}" for t, v in PAYLOADS}
    received = exported["ReportReceived.v1"]
    assert set(received["required"]) >= {"channel", "reporter", "subjects", "actor"}
    assert ReportReceivedV1.model_json_schema() == received
