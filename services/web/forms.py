"""Forms built from the pydantic command models, and submitted forms parsed back into them.

Each procedure or triage command becomes one form: dates are date pickers, glossary enums
are selects with their Chinese labels, lists are one item per line, and the fields that
need the case (the handler to assign, a cadre named in the case, a verdict per category,
an explanation per missed deadline, a report this one repeats) are filled from it. A
refused form is shown again with each problem next to its field.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from schemas.commands import Accuser, CadreRef, CollectiveStudy, Command
from schemas.glossary import GlossaryEnum
from services.web.i18n import N_, Gettext

# What each action is called (English message ids; the Chinese is in the catalog).
ACTION_LABELS: dict[str, str] = {
    # casework
    "assign": N_("Assign a handler"),
    "propose_disposition": N_("Propose a disposition"),
    "approve_disposition": N_("Approve the disposition"),
    "return_disposition": N_("Return the disposition"),
    "send_inquiry_letter": N_("Send the inquiry letter"),
    "record_inquiry_reply": N_("Record the inquiry reply"),
    "evaluate_inquiry_reply": N_("Evaluate the inquiry reply"),
    "record_finding": N_("Record a finding"),
    "review_parked": N_("Review the parked case"),
    "reactivate": N_("Reactivate"),
    "propose_conclusion": N_("Propose a conclusion"),
    "approve_conclusion": N_("Approve the conclusion"),
    "return_conclusion": N_("Return the conclusion"),
    "decide_handling": N_("Decide the handling"),
    "record_admonition_follow_up": N_("Record the admonition follow-up"),
    "propose_clearing": N_("Propose clearing the cadre's name"),
    "apply_for_clearing": N_("Record the cadre's application for clearing"),
    "approve_clearing": N_("Approve the clearing"),
    "carry_out_clearing": N_("Carry out the clearing"),
    "suspect_false_accusation": N_("Hand over a suspected false accusation"),
    "refer_subject": N_("Refer to the competent organ"),
    "close": N_("Close the case"),
    "give_feedback": N_("Give feedback to the reporter"),
    "record_objection": N_("Record the reporter's objection"),
    "answer_objection": N_("Answer the objection"),
    "reopen": N_("Reopen"),
    "hold_for_publicity": N_("Hold an appointment under publicity"),
    "decide_publicity": N_("Decide the appointment on hold"),
    "issue_document": N_("Issue an official document"),
    "issue_letter": N_("Issue a letter to the reporter"),
    # triage of reports
    "accept": N_("Accept"),
    "mark_repeat": N_("Mark as a repeat report"),
    "forward_up": N_("Forward to the level above"),
    "transfer_down": N_("Transfer to the level below"),
    "acknowledge_transfer": N_("Record that the level below received it"),
    "refer_out": N_("Refer out to a member unit"),
    "record_referral_result": N_("Record the referral's result"),
    "record_transfer_result": N_("Record the result the level below reports"),
    "record_discipline_result": N_("Record the discipline commission's result"),
    "propose_return": N_("Propose returning it (no substance)"),
    "approve_return": N_("Approve the return"),
    "reject_return": N_("Reject the return"),
    "verify_identity": N_("Record the identity check"),
    "send_acceptance_notice": N_("Record the acceptance notice"),
}

FIELD_LABELS: dict[str, str] = {
    "reason": N_("Reason / explanation"),
    "handler_id": N_("Handler"),
    "disposition": N_("Disposition"),
    "collective_study.held_on": N_("Collective study held on"),
    "collective_study.meeting": N_("Meeting"),
    "collective_study.participants": N_("Participants (one per line)"),
    "collective_study.decision_ref": N_("Decision reference"),
    "sent_on": N_("Sent on"),
    "form": N_("Form"),
    "received_on": N_("Received on"),
    "document_ref": N_("Document reference"),
    "outcome": N_("Outcome"),
    "kind": N_("Kind"),
    "summary": N_("Summary"),
    "evidence_refs": N_("Evidence references (one per line)"),
    "found_on": N_("Found on"),
    "accepted_on": N_("Accepted on"),
    "approved_on": N_("Approved on"),
    "reviewed_on": N_("Reviewed on"),
    "new_evidence": N_("New evidence"),
    "on": N_("Date"),
    "verdicts": N_("Verdict"),
    "cadre_verdicts": N_("Verdict"),
    "accuser.cadre_id": N_("Accuser: cadre number (if a registered cadre)"),
    "accuser.name": N_("Accuser: name (if not a registered cadre)"),
    "accuser.unit": N_("Accuser: unit"),
    "accuser.position": N_("Accuser: position or status"),
    "escalate_to": N_("Escalated to (heavier handling)"),
    "escalation_of": N_("Escalates admonition number"),
    "organ": N_("Referred to (organ)"),
    "cadre": N_("Cadre"),
    "handling": N_("Handling"),
    "decided_on": N_("Decided on"),
    "handling_id": N_("Handling number"),
    "followed_up_on": N_("Followed up on"),
    "method": N_("Method"),
    "scope": N_("Scope"),
    "carried_out_on": N_("Carried out on"),
    "corrections": N_("Corrections (one per line)"),
    "revokes": N_("Handling numbers the correction revokes (one per line)"),
    "accuser_status": N_("The accuser is"),
    "closed_on": N_("Closed on"),
    "explanations": N_("Why this deadline was missed"),
    "given_on": N_("Given on"),
    "text": N_("Text"),
    "answered_on": N_("Answered on"),
    "proposed_post": N_("Proposed post"),
    "publicity_ends_on": N_("Publicity ends on"),
    "decision": N_("Decision"),
    "defer_months": N_("Deferred by (months)"),
    "join_case_id": N_("Join an open case (optional)"),
    "of_report_id": N_("Repeat of report"),
    "to_authority": N_("To the authority"),
    "forwarded_on": N_("Forwarded on"),
    "to_unit": N_("To the unit"),
    "transferred_on": N_("Transferred on"),
    "member_unit": N_("Member unit"),
    "referred_on": N_("Referred on"),
    "acknowledged_on": N_("Acknowledged on"),
    "result": N_("Result"),
    "reported_on": N_("Reported on"),
    "verified_on": N_("Verified on"),
    "document_number": N_("The receiver's document number"),
    "outcomes": N_("Result for"),
}

# Fixed choices of plain-text fields (a pattern in the model).
CHOICES: dict[str, list[tuple[str, str]]] = {
    "form": [("letter", N_("Inquiry letter")), ("talk", N_("Talk"))],
    "method": [
        ("phone", N_("By phone")),
        ("letter", N_("By letter")),
        ("in_person", N_("In person")),
        ("online", N_("Online")),
    ],
}

LONG_TEXT = {"reason", "summary", "text", "new_evidence", "scope", "result"}

DEADLINE_LABELS: dict[str, str] = {
    "acceptance_notice": N_("Acceptance notice to the reporter"),
    "inquiry_reply": N_("Inquiry reply"),
    "parked_review": N_("Review of the parked case"),
    "feedback": N_("Feedback to the reporter"),
    "admonition_follow_up": N_("Admonition follow-up"),
    "objection_answer": N_("Answer to the reporter's objection"),
    "forward_up": N_("Forwarding to the level above"),
    "transfer_acceptance": N_("Acceptance by the level below"),
    "transfer_report_back": N_("Result from the level below"),
    "referral_report_back": N_("Result from the member unit"),
    "discipline_report_back": N_("Result from the discipline commission"),
    "project_plan": N_("Supervision plan"),
    "project_conclusion": N_("Supervision conclusion"),
    "project_report_back": N_("Supervision report back"),
}


@dataclass
class FormContext:
    """What a form needs from the case or report it acts on."""

    version: int | None = None
    subjects: Sequence[Mapping[str, Any]] = ()
    categories: Sequence[str] = ()
    handlers: Sequence[tuple[str, str]] = ()  # (username, display name)
    unmet_deadlines: Sequence[str] = ()
    report_suggestions: Sequence[tuple[str, str]] = ()  # (report id, label)
    case_suggestions: Sequence[tuple[str, str]] = ()  # (case id, label)
    lang: str = "zh-CN"
    # Per subject (by index): the categories that subject's own reports allege, on which
    # alone a verdict is asked (None: every category of the case).
    allegations: Sequence[Sequence[str]] | None = None


@dataclass
class FieldSpec:
    name: str
    label: str
    kind: str  # text, textarea, date, number, select, lines, hidden
    required: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    value: str = ""
    free_text: bool = False  # a select that also takes a typed value
    minimum: int = 1  # the least a number field takes (a vote count may be 0)


@dataclass
class FormSpec:
    action: str
    title: str
    fields: list[FieldSpec]
    errors: dict[str, str] = field(default_factory=dict)
    error: str = ""


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The type inside ``X | None``, and whether None was allowed."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else annotation), True
    return annotation, False


def _enum_options(enum: type[GlossaryEnum], lang: str) -> list[tuple[str, str]]:
    return [(m.value, m.zh if lang != "en" else m.value.replace("_", " ")) for m in enum]


def _cadre_label(subject: Mapping[str, Any]) -> str:
    return " ".join(str(subject.get(k) or "") for k in ("name", "unit", "position")).strip()


def _field_specs(
    model: type[BaseModel], ctx: FormContext, _: Gettext, prefix: str = ""
) -> list[FieldSpec]:
    specs: list[FieldSpec] = []
    for name, info in model.model_fields.items():
        specs += _specs_for(prefix + name, name, info, ctx, _)
    return specs


def _specs_for(  # noqa: PLR0911, PLR0912 (one branch per kind of field)
    full: str, name: str, info: FieldInfo, ctx: FormContext, _: Gettext
) -> list[FieldSpec]:
    annotation, _optional = _unwrap(info.annotation)
    required = info.is_required()
    label = _(FIELD_LABELS.get(full, FIELD_LABELS.get(name, name)))
    origin = typing.get_origin(annotation)
    if name == "expected_version":
        return [FieldSpec(full, "", "hidden", value=str(ctx.version or ""))]
    if name == "handler_id":
        return [FieldSpec(full, label, "select", required, list(ctx.handlers), free_text=True)]
    if annotation in (CollectiveStudy, Accuser):
        return _field_specs(annotation, ctx, _, prefix=f"{full}.")
    if annotation is CadreRef:
        options = [(str(i), _cadre_label(s)) for i, s in enumerate(ctx.subjects)]
        return [FieldSpec(full, label, "select", required, options)]
    if origin is list and name == "outcomes":
        return _outcome_specs(full, label, ctx, _)
    if name == "cadre_verdicts":  # a verdict per cadre named in the case and per category
        from schemas.glossary import Category, Verdict

        return [
            FieldSpec(
                f"{full}.{i}.{category}",
                f"{label}：{_cadre_label(subject)} — "
                f"{Category(category).zh if ctx.lang != 'en' else category}",
                "select",
                True,
                _enum_options(Verdict, ctx.lang),
            )
            for i, subject in enumerate(ctx.subjects)
            for category in (ctx.allegations[i] if ctx.allegations else ctx.categories)
        ]
    if name == "verdicts":  # asked per cadre and category instead (cadre_verdicts)
        return []
    if origin is dict:  # close: an explanation per missed deadline
        return [
            FieldSpec(
                f"{full}.{deadline}",
                f"{label}：{_(DEADLINE_LABELS.get(deadline.split('#')[0], deadline))}",
                "textarea",
                True,
            )
            for deadline in ctx.unmet_deadlines
        ]
    if isinstance(annotation, type) and issubclass(annotation, GlossaryEnum):
        return [FieldSpec(full, label, "select", required, _enum_options(annotation, ctx.lang))]
    if annotation is dt.date:
        return [FieldSpec(full, label, "date", required)]
    if annotation is int:
        return [FieldSpec(full, label, "number", required)]
    if annotation is UUID:
        options = list(ctx.report_suggestions if name == "of_report_id" else ctx.case_suggestions)
        return [FieldSpec(full, label, "select", required, options, free_text=True)]
    if origin is list:
        return [FieldSpec(full, label, "lines", required)]
    if name in CHOICES:
        options = [(v, _(text)) for v, text in CHOICES[name]]
        return [FieldSpec(full, label, "select", required, options)]
    return [FieldSpec(full, label, "textarea" if name in LONG_TEXT else "text", required)]


def _outcome_specs(full: str, label: str, ctx: FormContext, _: Gettext) -> list[FieldSpec]:
    """A receiver's result: for each cadre named, the verdict, and any handling or sanction."""
    from schemas.glossary import HandlingType, SanctionKind, Verdict

    specs = []
    for i, subject in enumerate(ctx.subjects):
        who = _cadre_label(subject)
        at = f"{full}.{i}"
        specs += [
            FieldSpec(
                f"{at}.verdict", f"{label} {who}：{_('Verdict')}", "select", True,
                _enum_options(Verdict, ctx.lang),
            ),
            FieldSpec(
                f"{at}.handling", f"{who}：{_('Handling')}", "select", False,
                _enum_options(HandlingType, ctx.lang),
            ),
            FieldSpec(
                f"{at}.sanction.kind", f"{who}：{_('Sanction')}", "select", False,
                _enum_options(SanctionKind, ctx.lang),
            ),
            FieldSpec(f"{at}.sanction.text", f"{who}：{_('Sanction as decided')}", "text"),
            FieldSpec(
                f"{at}.sanction.bars_promotion_months",
                f"{who}：{_('Sanction bars promotion (months)')}",
                "number",
            ),
            FieldSpec(f"{at}.decided_on", f"{who}：{_('Handling decided on')}", "date"),
        ]  # fmt: skip
    return specs


def _outcomes_as_list(data: dict[str, Any], ctx: FormContext) -> None:
    """The per-cadre fields (``outcomes.<i>.…``) as the list of outcomes the model takes."""
    by_index = data.get("outcomes")
    if not isinstance(by_index, dict):
        return
    outcomes = []
    for index, outcome in sorted(by_index.items(), key=lambda kv: int(kv[0])):
        subject = ctx.subjects[int(index)]
        cadre = {k: subject[k] for k in ("cadre_id", "name", "unit") if subject.get(k)}
        outcomes.append({"cadre": cadre, **outcome})
    data["outcomes"] = outcomes


def build_form(action: str, model: type[Command], ctx: FormContext, _: Gettext) -> FormSpec:
    return FormSpec(action, _(ACTION_LABELS.get(action, action)), _field_specs(model, ctx, _))


# -- parsing ------------------------------------------------------------------------------------


class FormInvalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


def parse_form(  # noqa: PLR0912 (one branch per kind of field)
    spec: FormSpec, model: type[Command], values: Mapping[str, str], ctx: FormContext, _: Gettext
) -> Command:
    """The command the form describes; :class:`FormInvalid` names each field's problem."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in spec.fields:
        raw = (values.get(f.name) or "").strip()
        if f.name.startswith("cadre_verdicts.") and raw:
            index, category = f.name.split(".", 2)[1:]
            subject = ctx.subjects[int(index)]
            data.setdefault("cadre_verdicts", []).append(
                {
                    "cadre": {
                        k: subject[k] for k in ("cadre_id", "name", "unit") if subject.get(k)
                    },
                    "category": category,
                    "verdict": raw,
                }
            )
            continue
        if f.free_text and values.get(f"{f.name}__typed", "").strip():
            raw = values[f"{f.name}__typed"].strip()
        if raw == "":
            if f.required and f.kind != "hidden":
                errors[f.name] = _("This field is required.")
            continue
        if f.kind == "lines":
            _set(data, f.name, [line.strip() for line in raw.splitlines() if line.strip()])
        elif f.kind in {"hidden", "number"}:
            try:
                _set(data, f.name, int(raw))
            except ValueError:
                errors[f.name] = _("Enter a whole number.")
        elif f.name.split(".")[-1] == "cadre" or f.name == "cadre":
            try:
                subject = ctx.subjects[int(raw)]
            except (ValueError, IndexError):
                errors[f.name] = _("Choose one of the listed options.")
                continue
            _set(
                data,
                f.name,
                {k: subject[k] for k in ("cadre_id", "name", "unit") if subject.get(k)},
            )
        else:
            _set(data, f.name, raw)
    if errors:
        raise FormInvalid(errors)
    _outcomes_as_list(data, ctx)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise FormInvalid(validation_errors(error, spec, _)) from None


PROBLEMS: dict[str, str] = {
    "missing": N_("This field is required."),
    "string_too_short": N_("This field is required."),
    "too_short": N_("Give at least one."),
    "enum": N_("Choose one of the listed options."),
    "literal_error": N_("Choose one of the listed options."),
    "string_pattern_mismatch": N_("Choose one of the listed options."),
    "date_from_datetime_parsing": N_("Enter a date such as 2026-03-02."),
    "date_parsing": N_("Enter a date such as 2026-03-02."),
    "uuid_parsing": N_("Not a valid record number."),
    "int_parsing": N_("Enter a whole number."),
    "greater_than_equal": N_("The number is too small."),
    "less_than_equal": N_("The number is too large."),
    "string_too_long": N_("The text is too long."),
}


def validation_errors(error: ValidationError, spec: FormSpec | None, _: Gettext) -> dict[str, str]:
    """Each problem under the form field it belongs to (``""``: the form as a whole)."""
    names = {f.name for f in spec.fields} if spec else set()
    errors: dict[str, str] = {}
    for e in error.errors():
        loc = ".".join(str(p) for p in e.get("loc", ()) if not isinstance(p, bool))
        if spec is None:
            key = loc
        else:
            key = loc if loc in names else next((n for n in names if loc.startswith(n)), "")
        message = PROBLEMS.get(str(e.get("type")))
        text = _(message) if message else str(e.get("msg", "")).removeprefix("Value error, ")
        errors[key] = f"{errors[key]} {text}".strip() if key in errors else text
    return errors


def enum_label(enum: type[StrEnum], value: str, lang: str) -> str:
    try:
        member = enum(value)
    except ValueError:
        return value
    zh = getattr(member, "zh", None)
    return zh if lang != "en" and zh else member.value.replace("_", " ")
