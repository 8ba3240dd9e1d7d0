"""The report form shared by the public mailbox and the hotline form: its choices, the
submission a filled-in form describes, and the submission schema's problems under the form's
own field names."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from schemas.glossary import Category, Channel, MemberUnit, ReferralSource
from schemas.submissions import SUMMARY_MAX_CHARS
from services.web.forms import validation_errors
from services.web.i18n import Gettext
from services.web.shell import strings

SUBJECT_ROWS = 3


def form_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = strings(form)
    values["categories"] = [v for v in form.getlist("categories") if isinstance(v, str)]
    values.pop("csrf_token", None)
    return values


def report_form_context() -> dict[str, Any]:
    return {
        "categories": list(Category),
        "channels": [c for c in Channel if c is not Channel.MAILBOX],
        "referral_sources": list(ReferralSource),
        "member_units": list(MemberUnit),
        "summary_max": SUMMARY_MAX_CHARS,
        "subject_rows": SUBJECT_ROWS,
    }


def submission_data(form: FormData, channel: Channel) -> dict[str, Any]:
    """The report a form describes, as the submission schema's dictionary."""
    value = strings(form)

    def text(name: str) -> str:
        return value.get(name, "").strip()

    if text("reporter_kind") == "real_name":
        reporter: dict[str, Any] = {"anonymous": False, "name": text("reporter_name")}
        for key in ("phone", "email", "address", "id_number", "unit"):
            if text(f"reporter_{key}"):
                reporter[key] = text(f"reporter_{key}")
    else:
        reporter = {"anonymous": True}
    subjects = []
    for i in range(SUBJECT_ROWS):
        row = {k: text(f"subject-{i}-{k}") for k in ("name", "unit", "position", "cadre_id")}
        if any(row.values()):
            subjects.append({k: v for k, v in row.items() if v or k == "name"})
    data: dict[str, Any] = {
        "channel": channel.value,
        "reporter": reporter,
        "subjects": subjects,
        "categories": [v for v in form.getlist("categories") if isinstance(v, str)],
        "summary": value.get("summary", ""),
    }
    if channel is not Channel.MAILBOX and text("received_on"):
        data["received_on"] = text("received_on")
    if channel is Channel.REFERRAL:
        referral: dict[str, Any] = {"source": text("referral_source")}
        if text("referral_member_unit"):
            referral["member_unit"] = text("referral_member_unit")
        if text("referral_reference"):
            referral["reference"] = text("referral_reference")
        data["referral"] = referral
    return data


def submission_errors(error: ValidationError, _: Gettext) -> dict[str, str]:
    """Problems of a submission under the form's own field names."""
    raw = validation_errors(error, None, _)
    errors: dict[str, str] = {}
    for loc, problem in raw.items():
        message = problem
        parts = loc.split(".")
        if parts[0] == "reporter":
            # the union's tag ("real_name") sits between reporter and the field
            field_name = next((p for p in parts[1:] if p not in ("real_name", "anonymous")), "")
            key = f"reporter_{field_name}" if field_name else "reporter_kind"
            if key == "reporter_kind":
                message = _(
                    "A real-name reporter needs a phone number, an address or an e-mail "
                    "so that feedback can reach them."
                )
        elif parts[0] == "subjects" and len(parts) >= 3:
            key = f"subject-{parts[1]}-{parts[2]}"
        elif parts[0] == "subjects":
            key = "subject-0-name"
        elif parts[0] in ("categories", "summary", "received_on", "channel"):
            key = parts[0]
        elif parts[0] == "referral":
            key = "referral_" + (parts[1] if len(parts) > 1 else "source")
            key = key if key != "referral_" else "referral_source"
        else:
            key = ""
        errors[key] = f"{errors[key]} {message}".strip() if key in errors else message
    if "" in errors and not errors[""]:
        del errors[""]
    return errors
