"""The supervision project desk's forms (立项督查, issue 14): the opening and one per step,
built from what the project already knows (its irregularities, its selection's appointed
candidates), and the posted form parsed back into the request model
(``schemas/project_commands.py``), as the selection desk's forms are (``selection_forms.py``).

People are typed one per line ("name, unit, position"; the team's leader on one line), the
people held responsible one per line ("name, unit, position, responsibility"), the basis's
cases one id per line; the irregularities and the candidates to recommend void are boxes to
tick. A refused form comes back with each problem next to its field (``FormInvalid``).
"""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

from pydantic import ValidationError

from schemas import project_commands as p
from schemas.glossary import Category, Verdict
from services.casework.project.rules import IRREGULARITIES
from services.web.forms import FieldSpec, FormInvalid, FormSpec
from services.web.i18n import N_, Gettext
from services.web.selection_forms import SEPARATORS, _problems, people_of, refill

# What each step is called (English message ids; the Chinese is in the catalog).
PROJECT_ACTION_LABELS: dict[str, str] = {
    "open": N_("Open a supervision project"),
    "issue_document": N_("Issue an official document"),
    "form_team": N_("Form the supervision team"),
    "record_plan": N_("Record the supervision plan"),
    "record_finding": N_("Record a supervision finding"),
    "propose_conclusion": N_("Propose the conclusion"),
    "approve_conclusion": N_("Approve the supervision conclusion"),
    "return_conclusion": N_("Return the supervision conclusion"),
    "report_back": N_("Report back"),
    "close": N_("Close the project"),
}

LABELS: dict[str, str] = {
    "selection_id": N_("Selection"),
    "basis": N_("Cases it rests on (one case number per line)"),
    "irregularities": N_("Irregularities reported"),
    "clues": N_("Specific clues"),
    "document_number": N_("Document number"),
    "leader": N_("Team leader (name, unit, position)"),
    "members": N_("Team members (one per line: name, unit, position)"),
    "summary": N_("Summary"),
    "irregularity": N_("Irregularity"),
    "confirmed": N_("Confirmed?"),
    "evidence_refs": N_("Evidence (one reference per line)"),
    "verdict": N_("Verdict"),
    "void_candidates": N_("Appointments to recommend void"),
    "responsible": N_(
        "People to hold responsible (one per line: name, unit, position, responsibility)"
    ),
    "reported_to": N_("Reported to"),
    "on": N_("Date"),
    "reason": N_("Reason / explanation"),
}
CONFIRMED = [("true", N_("Confirmed")), ("false", N_("Not confirmed"))]
# The request model of the opening and of each step.
MODELS: dict[str, type[Any]] = {
    "open": p.OpenProject,
    "form_team": p.FormTeam,
    "record_plan": p.RecordPlan,
    "record_finding": p.RecordProjectFinding,
    "propose_conclusion": p.ProposeProjectConclusion,
    "approve_conclusion": p.ApproveProjectConclusion,
    "return_conclusion": p.ReturnProjectConclusion,
    "report_back": p.ReportBack,
    "close": p.CloseProject,
}


def _f(name: str, kind: str, _: Gettext, *, required: bool = False, **more: Any) -> FieldSpec:
    return FieldSpec(name, _(LABELS[name]), kind, required, **more)


def _label(enum_value: Category | Verdict, lang: str) -> str:
    return enum_value.zh if lang != "en" else enum_value.value.replace("_", " ")


def open_form(
    selections: list[tuple[str, str]],
    lang: str,
    _: Gettext,
    selection_id: str = "",
    basis: list[str] | None = None,
) -> FormSpec:
    """The opening (立项): a selection (``selections``: id, label; ``selection_id`` chosen),
    the cases (``basis`` offered), the irregularities in scope, the clues."""
    in_scope = [(c.value, _label(c, lang)) for c in Category if c in IRREGULARITIES]
    fields = [
        _f("selection_id", "select", _, required=True, options=selections, value=selection_id),
        _f("basis", "lines", _, required=True, value="\n".join(basis or [])),
        _f("irregularities", "checks", _, required=True, options=in_scope),
        _f("clues", "textarea", _, required=True),
        _f("document_number", "text", _),
        _f("on", "date", _),
        _f("reason", "textarea", _),
        # Sent as the opening's Idempotency-Key: the form posted twice opens one project.
        FieldSpec("idempotency_key", "", "hidden", value=uuid4().hex),
    ]
    return FormSpec("open", _(PROJECT_ACTION_LABELS["open"]), fields)


def step_form(
    action: str, record: Any, appointed: list[tuple[str, str]], lang: str, _: Gettext
) -> FormSpec:
    """The form of ``action`` on the project ``record`` (its ``ProjectView``); ``appointed``:
    the selection's appointed candidates (id, label), the only ones to recommend void."""
    fields: list[FieldSpec]
    reason_required = False
    match action:
        case "form_team":
            fields = [
                _f("leader", "text", _, required=True),
                _f("members", "lines", _, required=True),
                _f("document_number", "text", _),
            ]
        case "record_plan":
            fields = [_f("summary", "textarea", _, required=True), _f("document_number", "text", _)]
        case "record_finding":
            options = [(i, _label(Category(i), lang)) for i in record.irregularities]
            fields = [
                _f("irregularity", "select", _, required=True, options=options),
                _f("confirmed", "select", _, required=True, options=[(v, _(t)) for v, t in CONFIRMED]),
                _f("summary", "textarea", _, required=True),
                _f("evidence_refs", "lines", _),
            ]  # fmt: skip
        case "propose_conclusion":
            verdicts = [(v.value, _label(v, lang)) for v in Verdict]
            fields = [
                _f("verdict", "select", _, required=True, options=verdicts),
                _f("summary", "textarea", _, required=True),
                _f("void_candidates", "checks", _, options=appointed),
                _f("responsible", "lines", _),
            ]
        case "report_back":
            fields = [
                _f("reported_to", "text", _, required=True),
                _f("document_number", "text", _, required=True),
                _f("summary", "textarea", _),
            ]
        case "approve_conclusion" | "close":
            fields = []
        case "return_conclusion":
            fields, reason_required = [], True
        case _:
            raise KeyError(action)
    fields += [
        _f("on", "date", _),
        _f("reason", "textarea", _, required=reason_required),
        FieldSpec("expected_version", "", "hidden", value=str(record.version)),
    ]
    return FormSpec(action, _(PROJECT_ACTION_LABELS[action]), fields)


def responsible_of(raw: str) -> list[dict[str, str]]:
    """People held responsible, one per line: "name, unit, position, responsibility" (the
    last part is the responsibility; unit and position may be left out)."""
    people = []
    for line in raw.splitlines():
        if line.strip():
            *who, responsibility = [*SEPARATORS.split(line.strip())]
            who += ["", "", ""]
            people.append(
                {
                    "name": who[0],
                    "unit": who[1],
                    "position": who[2],
                    "responsibility": responsibility,
                }
                if who[0]
                else {"name": responsibility, "responsibility": ""}
            )
    return people


def parse(spec: FormSpec, form: Any, _: Gettext) -> Any:  # noqa: PLR0912 (a branch per kind)
    """The request model the posted ``form`` describes, or :class:`FormInvalid` naming each
    field's problem."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in spec.fields:
        if f.kind == "checks":
            chosen = [v for v in form.getlist(f.name) if isinstance(v, str) and v]
            if chosen or f.required:
                data[f.name] = chosen
            continue
        raw = str(form.get(f.name) or "").strip()
        if f.name == "idempotency_key":  # not the request's: ``idempotency_key_of``
            continue
        if not raw:
            if f.required and f.kind != "hidden":
                errors[f.name] = _("This field is required.")
            continue
        if f.name == "leader":
            data["leader"] = people_of(raw)[0]
        elif f.name == "members":
            data["members"] = people_of(raw)
        elif f.name == "responsible":
            data["responsible"] = responsible_of(raw)
        elif f.kind == "lines":
            data[f.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif f.kind == "hidden":
            try:
                data[f.name] = int(raw)
            except ValueError:
                errors[f.name] = _("Enter a whole number.")
        else:
            data[f.name] = raw
    if errors:
        raise FormInvalid(errors)
    try:
        return MODELS[spec.action].model_validate(data)
    except ValidationError as error:
        raise FormInvalid(_problems(error, spec, data, _)) from None


def idempotency_key_of(form: Any) -> str | None:
    """The opening form's key (a hex token it was rendered with), or None if it has none
    usable (then the opening is not deduplicated)."""
    key = str(form.get("idempotency_key") or "").strip()
    return key if re.fullmatch(r"[0-9a-f]{1,64}", key) else None


__all__ = [
    "MODELS",
    "PROJECT_ACTION_LABELS",
    "idempotency_key_of",
    "open_form",
    "parse",
    "refill",
    "responsible_of",
    "step_form",
]
