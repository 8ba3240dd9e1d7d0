"""The selection desk's forms (decision 0034): one per step, built from what the selection
already knows (its candidates, inspection subjects, approved and held candidates), and the
posted form parsed back into the step's request model (``schemas/selection_commands.py``).

A selection's steps carry lists of people and of per-candidate entries, which the generic
form builder (``forms.py``, one field per model field) does not lay out: here people are
typed one per line ("name, unit, position"), the democratic recommendation's candidates one
per line ("name, unit, position, cadre number, votes"; each gets the number of its line as
its ``candidate_id``), and what a step says per candidate (an integrity opinion, a finding,
the meeting's votes, the post appointed to) is one group of fields per candidate, left blank
for a candidate the step is not about. A refused form comes back with each problem next to
its field (``FormInvalid``), as the other desks' forms do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from schemas import selection_commands as s
from schemas.glossary import (
    AccountabilityHandling,
    BasisKind,
    CircumstanceKind,
    GlossaryEnum,
    ResponsibilityStep,
    VoidGround,
)
from services.web.forms import PROBLEMS, FieldSpec, FormContext, FormInvalid, FormSpec
from services.web.i18n import N_, Gettext

# What each step is called (English message ids; the Chinese is in the catalog).
SELECTION_ACTION_LABELS: dict[str, str] = {
    "propose": N_("Propose a selection"),
    "issue_document": N_("Issue an official document"),
    "record_circumstance": N_("Record an institutional change or a leader's transfer"),
    "record_recommendation": N_("Record the democratic recommendation"),
    "announce_inspection": N_("Announce the inspection"),
    "record_integrity_opinion": N_("Record integrity opinions"),
    "record_inspection": N_("Record the inspection"),
    "record_deliberation": N_("Record the deliberation"),
    "record_decision": N_("Record the decision meeting"),
    "start_publicity": N_("Start the pre-appointment publicity"),
    "record_appointment": N_("Record appointments"),
    "hold_candidate": N_("Hold a candidate on a report"),
    "release_candidate": N_("Release a held candidate"),
    "withdraw": N_("Withdraw the selection"),
    "request_integrity_opinions": N_("Ask for integrity opinions"),
    "reply_integrity_opinions": N_("Reply with integrity opinions from the information base"),
    "void_appointment": N_("Declare an appointment void"),
    "take_responsibility": N_("Hold someone responsible"),
}

LABELS: dict[str, str] = {
    "unit": N_("Unit"),
    "posts": N_("Posts to fill (one per line)"),
    "proposers": N_("Proposed by (one per line: name, unit, position)"),
    "document_number": N_("Document number"),
    "kind": N_("Circumstance"),
    "starts_on": N_("From"),
    "ends_on": N_("Until"),
    "description": N_("Description"),
    "participants": N_("Number of participants"),
    "candidates_lines": N_("Candidates (one per line: name, unit, position, cadre number, votes)"),
    "organizers": N_("Organized by (one per line: name, unit, position)"),
    "subjects": N_("Inspection subjects"),
    "inspectors": N_("Inspected by (one per line: name, unit, position)"),
    "consulted": N_("Consulted (one per line: name, unit, position)"),
    "deliberated": N_("Candidates deliberated"),
    "summary": N_("Summary"),
    "body": N_("Decided by (the meeting)"),
    "members_due": N_("Members due"),
    "members_present": N_("Members present"),
    "decision_makers": N_("Decision makers (one per line: name, unit, position)"),
    "publicized": N_("Candidates publicized"),
    "candidate": N_("Candidate"),
    "report_id": N_("Report number"),
    "hold": N_("Held candidate and report"),
    "on": N_("Date"),
    "reason": N_("Reason / explanation"),
    "clean": N_("Integrity opinion"),
    "given_by": N_("Given by"),
    "received_on": N_("Received on"),
    "reference": N_("Reference"),
    "finding": N_("Finding"),
    "agree": N_("Votes for"),
    "disagree": N_("Votes against"),
    "defer": N_("Abstentions"),
    "post": N_("Post appointed to"),
    "requested_of": N_("Asked of"),
    "asked": N_("Candidates asked about"),
    "to_reply": N_("Candidates to reply about"),
    "voided": N_("Candidates whose appointment is void"),
    "ground": N_("Ground"),
    "basis_kind": N_("Rests on"),
    "basis_id": N_("Number of the case or supervision project"),
    "person.name": N_("Name"),
    "person.unit": N_("Unit"),
    "person.position": N_("Position"),
    "person.cadre_id": N_("Cadre number"),
    "step": N_("Step answered for"),
    "handling": N_("Handling"),
}
CLEAN_CHOICES = [("clean", N_("Clean")), ("not_clean", N_("Not clean"))]
SEPARATORS = re.compile(r"\s*[,，、|]\s*")


# -- building -------------------------------------------------------------------------------


def _f(
    name: str, label: str, kind: str, _: Gettext, *, required: bool = False, **more: Any
) -> FieldSpec:
    return FieldSpec(name, f"{_(LABELS.get(label, label))}", kind, required, **more)


def _kinds(lang: str) -> list[tuple[str, str]]:
    return [
        (k.value, k.zh if lang != "en" else k.value.replace("_", " ")) for k in CircumstanceKind
    ]


def _choices(enum: type[GlossaryEnum], lang: str) -> list[tuple[str, str]]:
    return [(k.value, k.zh if lang != "en" else k.value.replace("_", " ")) for k in enum]


def _who(candidate: Mapping[str, Any]) -> str:
    parts = [candidate.get("name") or candidate["candidate_id"], candidate.get("unit") or ""]
    return " ".join(p for p in parts if p)


def _common(
    fields: list[FieldSpec], version: int | None, _: Gettext, *, reason: bool = False
) -> list[FieldSpec]:
    """The date, the reason (required for a withdrawal) and the expected version."""
    return [
        *fields,
        _f("on", "on", "date", _),
        _f("reason", "reason", "textarea", _, required=reason),
        FieldSpec("expected_version", "", "hidden", value=str(version or "")),
    ]


def _basis(lang: str, _: Gettext) -> list[FieldSpec]:
    """What a voided appointment or a responsibility rests on: its kind and number."""
    return [
        FieldSpec("basis_kind", _(LABELS["basis_kind"]), "select", True, _choices(BasisKind, lang)),
        _f("basis_id", "basis_id", "text", _, required=True),
    ]


def proposal_form(_: Gettext) -> FormSpec:
    fields = [
        _f("unit", "unit", "text", _, required=True),
        _f("posts", "posts", "lines", _, required=True),
        _f("proposers", "proposers", "lines", _, required=True),
        _f("document_number", "document_number", "text", _),
        _f("on", "on", "date", _),
        _f("reason", "reason", "textarea", _),
    ]
    return FormSpec("propose", _(SELECTION_ACTION_LABELS["propose"]), fields)


def _office_fields(
    action: str,
    record: Any,
    candidates: dict[str, dict[str, Any]],
    subjects: list[dict[str, Any]],
    ctx: FormContext,
    _: Gettext,
) -> list[FieldSpec]:
    """The fields of the supervision office's and the leaders' steps: integrity opinions
    asked for and replied, an appointment declared void, someone held responsible."""

    def checks(among: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return [(c["candidate_id"], _who(c)) for c in among]

    match action:
        case "request_integrity_opinions":
            fields = [
                FieldSpec("candidates", _(LABELS["asked"]), "checks", True, checks(subjects)),
                _f("requested_of", "requested_of", "text", _, value="干部监督机构"),
            ]
        case "reply_integrity_opinions":
            asked = [candidates[k] for k in record.opinion_requests if k in candidates]
            fields = [
                FieldSpec("candidates", _(LABELS["to_reply"]), "checks", False, checks(asked))
            ]
        case "void_appointment":
            voided = {v.candidate_id for v in record.voided}
            standing = [
                candidates[k] for k in record.approved if k in candidates and k not in voided
            ]
            fields = [
                FieldSpec("candidates", _(LABELS["voided"]), "checks", True, checks(standing)),
                FieldSpec("ground", _(LABELS["ground"]), "select", True, _choices(VoidGround, ctx.lang)),
                *_basis(ctx.lang, _),
                _f("document_number", "document_number", "text", _),
            ]  # fmt: skip
        case "take_responsibility":
            fields = [
                _f("person.name", "person.name", "text", _, required=True),
                _f("person.unit", "person.unit", "text", _),
                _f("person.position", "person.position", "text", _),
                _f("person.cadre_id", "person.cadre_id", "text", _),
                FieldSpec("step", _(LABELS["step"]), "select", True, _choices(ResponsibilityStep, ctx.lang)),
                FieldSpec("handling", _(LABELS["handling"]), "select", True,
                          _choices(AccountabilityHandling, ctx.lang)),
                *_basis(ctx.lang, _),
                _f("document_number", "document_number", "text", _),
            ]  # fmt: skip
        case _:
            raise KeyError(action)
    return fields


def step_form(  # noqa: PLR0912 (one branch per step)
    action: str, record: Any, ctx: FormContext, _: Gettext
) -> FormSpec:
    """The form of ``action`` on the selection ``record`` (its ``SelectionView``)."""
    candidates = {c.candidate_id: c.model_dump() for c in record.candidates}
    subjects = [candidates[c] for c in record.subjects if c in candidates]

    def checks(among: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return [(c["candidate_id"], _who(c)) for c in among]

    fields: list[FieldSpec]
    match action:
        case "record_circumstance":
            fields = [
                FieldSpec("kind", _(LABELS["kind"]), "select", True, _kinds(ctx.lang)),
                _f("starts_on", "starts_on", "date", _, required=True),
                _f("ends_on", "ends_on", "date", _, required=True),
                _f("description", "description", "textarea", _),
                _f("document_number", "document_number", "text", _),
            ]
        case "record_recommendation":
            fields = [
                _f("participants", "participants", "number", _, required=True),
                _f("candidates", "candidates_lines", "lines", _, required=True),
                _f("organizers", "organizers", "lines", _, required=True),
                _f("document_number", "document_number", "text", _),
            ]
        case "announce_inspection":
            fields = [
                FieldSpec(
                    "subjects",
                    _(LABELS["subjects"]),
                    "checks",
                    True,
                    checks(list(candidates.values())),
                ),
                _f("starts_on", "starts_on", "date", _, required=True),
                _f("ends_on", "ends_on", "date", _, required=True),
                _f("document_number", "document_number", "text", _),
            ]
        case "record_integrity_opinion":
            fields = []
            for c in subjects:
                who, key = _who(c), c["candidate_id"]
                fields += [
                    FieldSpec(f"opinion.{key}.clean", f"{who}：{_(LABELS['clean'])}", "select", False,
                              [(v, _(t)) for v, t in CLEAN_CHOICES]),
                    FieldSpec(f"opinion.{key}.given_by", f"{who}：{_(LABELS['given_by'])}", "text"),
                    FieldSpec(f"opinion.{key}.received_on", f"{who}：{_(LABELS['received_on'])}", "date"),
                    FieldSpec(f"opinion.{key}.reference", f"{who}：{_(LABELS['reference'])}", "text"),
                    FieldSpec(f"opinion.{key}.summary", f"{who}：{_(LABELS['summary'])}", "text"),
                ]  # fmt: skip
        case "record_inspection":
            fields = [_f("inspectors", "inspectors", "lines", _, required=True)]
            fields += [
                FieldSpec(f"finding.{c['candidate_id']}", f"{_who(c)}：{_(LABELS['finding'])}", "textarea")
                for c in subjects
            ]  # fmt: skip
            fields.append(_f("document_number", "document_number", "text", _))
        case "record_deliberation":
            fields = [
                FieldSpec("candidates", _(LABELS["deliberated"]), "checks", True, checks(subjects)),
                _f("consulted", "consulted", "lines", _, required=True),
                _f("summary", "summary", "textarea", _),
            ]
        case "record_decision":
            fields = [
                _f("body", "body", "text", _, required=True),
                _f("members_due", "members_due", "number", _, required=True),
                _f("members_present", "members_present", "number", _, required=True),
            ]
            for c in [candidates[k] for k in record.deliberated if k in candidates] or subjects:
                who, key = _who(c), c["candidate_id"]
                fields += [
                    FieldSpec(f"vote.{key}.{n}", f"{who}：{_(LABELS[n])}", "number", minimum=0)
                    for n in ("agree", "disagree", "defer")
                ]
            fields += [
                _f("decision_makers", "decision_makers", "lines", _, required=True),
                _f("document_number", "document_number", "text", _),
            ]
        case "start_publicity":
            approved = [candidates[k] for k in record.approved if k in candidates]
            fields = [
                FieldSpec("candidates", _(LABELS["publicized"]), "checks", True, checks(approved)),
                _f("starts_on", "starts_on", "date", _, required=True),
                _f("ends_on", "ends_on", "date", _, required=True),
                _f("document_number", "document_number", "text", _),
            ]
        case "record_appointment":
            appointed = {a["candidate_id"] for a in record.appointed}
            publicized = (record.publicity or {}).get("candidates", [])
            fields = [
                FieldSpec(f"post.{k}", f"{_who(candidates[k])}：{_(LABELS['post'])}", "text")
                for k in publicized
                if k in candidates and k not in appointed
            ]
            fields.append(_f("document_number", "document_number", "text", _))
        case "hold_candidate":
            fields = [
                FieldSpec("candidate_id", _(LABELS["candidate"]), "select", True, checks(subjects)),
                _f("report_id", "report_id", "text", _, required=True),
            ]
        case "release_candidate":
            held = [
                (f"{h.candidate_id}|{r}", f"{_who(candidates.get(h.candidate_id, {'candidate_id': h.candidate_id}))} — {r}")
                for h in record.holds
                for r in h.report_ids
            ]  # fmt: skip
            fields = [FieldSpec("hold", _(LABELS["hold"]), "select", True, held)]
        case (
            "request_integrity_opinions"
            | "reply_integrity_opinions"
            | "void_appointment"
            | "take_responsibility"
        ):
            fields = _office_fields(action, record, candidates, subjects, ctx, _)
        case "withdraw":
            return FormSpec(
                action, _(SELECTION_ACTION_LABELS[action]), _common([], ctx.version, _, reason=True)
            )
        case _:
            raise KeyError(action)
    return FormSpec(action, _(SELECTION_ACTION_LABELS[action]), _common(fields, ctx.version, _))


# -- parsing --------------------------------------------------------------------------------


def people_of(raw: str) -> list[dict[str, str]]:
    """People typed one per line: "name, unit, position" (unit and position optional)."""
    people = []
    for line in raw.splitlines():
        if line.strip():
            parts = [*SEPARATORS.split(line.strip()), "", ""]
            people.append({"name": parts[0], "unit": parts[1], "position": parts[2]})
    return people


class _Lines(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)


def candidates_of(raw: str, _: Gettext) -> list[dict[str, Any]]:
    """The recommendation's candidates, one per line: "name, unit, position, cadre number,
    votes" (the last one a whole number); each one's ``candidate_id`` is its line's number."""
    candidates = []
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        parts = SEPARATORS.split(line)
        if len(parts) < 2 or not parts[-1].isdigit():
            raise _Lines(
                _(
                    "Line %(n)s: end it with the candidate's votes, e.g. 王建国，某县财政局，科长，C-001，30",
                    n=number,
                )
            )
        *who, votes = parts
        who += [""] * (4 - len(who))
        if len(who) > 4:
            raise _Lines(_("Line %(n)s: more than five parts", n=number))
        name, unit, position, cadre_id = who
        entry: dict[str, Any] = {
            "candidate_id": str(number), "name": name, "unit": unit, "position": position,
            "votes": int(votes),
        }  # fmt: skip
        if cadre_id:
            entry["cadre_id"] = cadre_id
        candidates.append(entry)
    return candidates


def parse_step(spec: FormSpec, model: type[Any], form: Any, _: Gettext) -> Any:
    """The request model the posted ``form`` (Starlette's ``FormData``) describes, or
    :class:`FormInvalid` naming each field's problem."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    per: dict[str, dict[str, dict[str, str]]] = {}  # opinion/vote: candidate → part → value
    for f in spec.fields:
        if f.kind == "checks":
            chosen = [v for v in form.getlist(f.name) if isinstance(v, str) and v]
            if chosen or f.required:
                data[f.name] = chosen
            continue
        raw = str(form.get(f.name) or "").strip()
        if f.name.startswith(("opinion.", "vote.")):
            group, key, part = f.name.split(".", 2)
            if raw:
                per.setdefault(group, {}).setdefault(key, {})[part] = raw
            continue
        if not raw:
            if f.required and f.kind != "hidden":
                errors[f.name] = _("This field is required.")
            continue
        _put(f, raw, data, errors, _)
    _per_candidate(per, data, errors, _)
    for name in ("findings", "appointments", "opinions", "votes"):
        if name in model.model_fields and name not in data:
            data[name] = []  # none given: the step's rule says what it needs
    if errors:
        raise FormInvalid(errors)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise FormInvalid(_problems(error, spec, data, _)) from None


def _put(f: FieldSpec, raw: str, data: dict[str, Any], errors: dict[str, str], _: Gettext) -> None:
    """One posted field's value into the request's ``data`` (or its problem into ``errors``)."""
    if f.name.startswith("finding."):
        data.setdefault("findings", []).append({"candidate_id": f.name[8:], "summary": raw})
    elif f.name.startswith("post."):
        data.setdefault("appointments", []).append({"candidate_id": f.name[5:], "post": raw})
    elif f.name in ("basis_kind", "basis_id"):
        data.setdefault("basis", {})[f.name[6:]] = raw
    elif f.name.startswith("person."):
        data.setdefault("person", {})[f.name[7:]] = raw
    elif f.name == "hold":
        candidate_id, _sep, report_id = raw.partition("|")
        data |= {"candidate_id": candidate_id, "report_id": report_id}
    elif f.name == "candidates" and f.kind == "lines":
        try:
            data["candidates"] = candidates_of(raw, _)
        except _Lines as error:
            errors[f.name] = str(error)
    elif f.name in ("proposers", "organizers", "inspectors", "consulted", "decision_makers"):
        data[f.name] = people_of(raw)
    elif f.kind == "lines":
        data[f.name] = [line.strip() for line in raw.splitlines() if line.strip()]
    elif f.kind in {"hidden", "number"}:
        try:
            data[f.name] = int(raw)
        except ValueError:
            errors[f.name] = _("Enter a whole number.")
    else:
        data[f.name] = raw


def _per_candidate(
    per: dict[str, dict[str, dict[str, str]]],
    data: dict[str, Any],
    errors: dict[str, str],
    _: Gettext,
) -> None:
    """The integrity opinions and the meeting's votes typed per candidate, as the request's
    lists (a candidate left blank is not in them)."""
    for key, parts in per.get("opinion", {}).items():
        if "clean" not in parts:
            errors[f"opinion.{key}.clean"] = _("Choose one of the listed options.")
            continue
        opinion = {"candidate_id": key, "clean": parts.pop("clean") == "clean", **parts}
        data.setdefault("opinions", []).append(opinion)
    for key, parts in per.get("vote", {}).items():
        try:
            votes = {n: int(parts.get(n) or 0) for n in ("agree", "disagree", "defer")}
        except ValueError:
            errors[f"vote.{key}.agree"] = _("Enter a whole number.")
            continue
        data.setdefault("votes", []).append({"candidate_id": key, **votes})


# A request's list, and the form field each of its entries came from (by candidate).
ENTRY_FIELDS = {
    "opinions": "opinion.{}.{}",
    "votes": "vote.{}.{}",
    "findings": "finding.{}",
    "appointments": "post.{}",
}


def _problems(
    error: ValidationError, spec: FormSpec, data: dict[str, Any], _: Gettext
) -> dict[str, str]:
    """Each problem of the request model under the form field it came from (``""``: the
    form as a whole)."""
    names = {f.name for f in spec.fields}
    errors: dict[str, str] = {}
    for e in error.errors():
        loc = [str(p) for p in e.get("loc", ())]
        key = loc[0] if loc and loc[0] in names else ""
        if loc and loc[0] in ENTRY_FIELDS and len(loc) >= 2 and loc[1].isdigit():
            entry = data[loc[0]][int(loc[1])]
            part = loc[2] if len(loc) > 2 else "agree"
            candidate = ENTRY_FIELDS[loc[0]].format(entry["candidate_id"], part)
            key = candidate if candidate in names else ""
        elif loc and loc[0] in ("candidate_id", "report_id") and "hold" in names:
            key = "hold"
        elif len(loc) >= 2 and loc[0] in ("basis", "person"):  # basis.id -> basis_id
            joined = f"{loc[0]}_{loc[1]}" if loc[0] == "basis" else f"person.{loc[1]}"
            key = joined if joined in names else ""
        message = PROBLEMS.get(str(e.get("type")))
        text = _(message) if message else str(e.get("msg", "")).removeprefix("Value error, ")
        errors[key] = f"{errors[key]} {text}".strip() if key in errors else text
    return errors


def refill(spec: FormSpec, form: Any) -> FormSpec:
    """A refused form with what was typed (the boxes ticked, one per line)."""
    for f in spec.fields:
        if f.kind == "checks":
            f.value = "\n".join(v for v in form.getlist(f.name) if isinstance(v, str))
        elif f.kind != "hidden" and isinstance(form.get(f.name), str):
            f.value = form.get(f.name)
    return spec


def proposal_of(spec: FormSpec, form: Any, _: Gettext) -> s.ProposeSelection:
    command: s.ProposeSelection = parse_step(spec, s.ProposeSelection, form, _)
    return command


__all__ = [
    "SELECTION_ACTION_LABELS",
    "candidates_of",
    "parse_step",
    "people_of",
    "proposal_form",
    "proposal_of",
    "refill",
    "step_form",
]
