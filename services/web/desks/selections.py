"""The selection desk (选拔任用全程记实, decision 0034): the selections in progress with their
stage, next step and the period they wait on (the selections read model); one selection's
record (read from the aggregate through casework's application, as a case's page reads the
case) with its steps, their days, who answers for each and the documents' numbers, and its
candidates; and a form for each step the reader's role may take now.

Served by ``jiandu casework`` (decision 0031: it writes casework's Selection). The selection
clerks record the steps; handlers and leaders hold a candidate on a report and release them;
auditors read. A refused step shows its rule's message in the page, and stores nothing.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.glossary import CircumstanceKind, DocumentKind, SelectionStage
from schemas.selection_commands import IssueSelectionDocument
from services.accounts.access import PROJECT_LEADERS, PROJECT_READERS, SELECTION_ACTORS
from services.casework.document_api import selection_documents
from services.casework.rules import InvalidInput
from services.casework.selection_api import selection_view, step_roles
from services.casework.selections import SELECTION_COMMANDS
from services.common.document_views import docx_response, find_document
from services.common.procedure import ProcedureError
from services.common.web import ApiError
from services.projections.selections.queries import SelectionFilters
from services.web.forms import FormContext, FormInvalid, FormSpec
from services.web.i18n import N_, gettext_for, language_of
from services.web.selection_forms import (
    SELECTION_ACTION_LABELS,
    parse_step,
    proposal_form,
    proposal_of,
    refill,
    step_form,
)
from services.web.shell import (
    Csrf,
    Desk,
    Form,
    PageForbidden,
    PageServices,
    SelectionProposer,
    SelectionReader,
    SelectionStepper,
    event_label,
    people,
    procedure_message,
    render,
    route,
    see_other,
    strings,
)

# Who answers for a step, by the event's field (seed 003, 2.5: 谁推荐谁负责 …).
RESPONSIBLE = {
    "proposers": N_("Proposed by"),
    "organizers": N_("Organized by"),
    "inspectors": N_("Inspected by"),
    "consulted": N_("Consulted"),
    "decision_makers": N_("Decision makers"),
}


class SelectionsDesk(Desk):
    """The selections and the steps on them."""

    needs = frozenset({"casework"})

    # -- the list ------------------------------------------------------------------------------

    @route.get("/selections", response_class=HTMLResponse)
    def selections(
        self,
        request: Request,
        user: SelectionReader,
        in_progress: bool = True,
        stage: SelectionStage | None = None,
        unit: Annotated[str | None, Query(max_length=200)] = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ) -> Response:
        """The selections in progress (or all), the most recently active first, a page at a
        time; the proposal form for those who record selections."""
        return self._list(request, user, in_progress, stage, unit or None, page)

    def _list(
        self,
        request: Request,
        user: Any,
        in_progress: bool,
        stage: SelectionStage | None,
        unit: str | None,
        page: int,
        status: int = 200,
        form: FormSpec | None = None,
    ) -> HTMLResponse:
        _ = gettext_for(language_of(request))
        filters = SelectionFilters(in_progress=in_progress, stage=stage, unit=unit)
        found = self.services.selections.selection_list(filters, page)
        query = {k: v for k, v in filters.as_dict().items()}
        more = page * found.page_size < found.total
        proposer = user.role in SELECTION_ACTORS
        return render(
            request,
            "selections.html",
            status,
            user=user,
            page=found,
            stages=list(SelectionStage),
            filters=filters,
            next_url=f"/selections?{urlencode(query | {'page': page + 1})}" if more else "",
            previous_url=f"/selections?{urlencode(query | {'page': page - 1})}" if page > 1 else "",
            form=(form or proposal_form(_)) if proposer else None,
            event_label=lambda t: event_label(t, language_of(request)) if t else "",
            step_label=lambda a: _(SELECTION_ACTION_LABELS.get(a, a)) if a else "",
        )

    @route.post("/selections", dependencies=[Csrf])
    def propose(self, request: Request, form: Form, user: SelectionProposer) -> Response:
        lang = language_of(request)
        _ = gettext_for(lang)
        spec = proposal_form(_)
        try:
            command = proposal_of(spec, form, _)
            selection_id = self.casework.propose_selection(command, user.actor())
        except FormInvalid as error:
            spec.errors = error.errors
            return self._list(request, user, True, None, None, 1, 422, refill(spec, form))
        except InvalidInput as error:
            _on_field(spec, error, lang)
            return self._list(request, user, True, None, None, 1, 422, refill(spec, form))
        except ProcedureError as error:
            spec.error = procedure_message(error, lang)
            return self._list(request, user, True, None, None, 1, 409, refill(spec, form))
        return see_other(f"/selections/{selection_id}?done=propose")

    # -- one selection -------------------------------------------------------------------------

    @route.get("/selections/{selection_id}", response_class=HTMLResponse)
    def selection(self, request: Request, selection_id: UUID, user: SelectionReader) -> Response:
        return self.selection_page(request, user, selection_id)

    def selection_page(
        self,
        request: Request,
        user: Any,
        selection_id: UUID,
        status: int = 200,
        failed: FormSpec | None = None,
    ) -> HTMLResponse:
        lang = language_of(request)
        _ = gettext_for(lang)
        the_selection = self.casework.get_selection(selection_id)
        record = selection_view(the_selection, user.role)
        ctx = FormContext(version=record.version, lang=lang)
        # Documents (decision 0035) have a section of their own, not a step's form.
        shown = [a for a in record.allowed_actions if a not in OWN_STEPS]
        forms = [
            failed
            if failed is not None and failed.action == action
            else step_form(action, record, ctx, _)
            for action in shown
        ]
        forms = [f for f in forms if f is failed or _has_candidates(f)]
        refused = failed.error if failed and failed.action not in shown else ""
        held = {h.candidate_id: h.report_ids for h in record.holds}
        opinions = {o["candidate_id"]: o for o in record.opinions}
        history = self.casework.selection_history(selection_id)
        votes = {v["candidate_id"]: v for v in _decision_votes(history)}
        appointed = {a["candidate_id"]: a for a in record.appointed}
        # The supervision projects on it (立项督查), for those who read projects; leaders
        # may open one from here.
        reads_projects = user.role in PROJECT_READERS
        return render(
            request,
            "selection.html",
            status,
            user=user,
            record=record,
            steps=_steps(history, lang),
            held=held,
            opinions=opinions,
            votes=votes,
            appointed=appointed,
            people=people(request),
            forms=forms,
            refused=refused,
            done=request.query_params.get("done", ""),
            step_label=lambda a: _(SELECTION_ACTION_LABELS.get(a, a)) if a else "",
            projects=(
                self.services.projects.on_selection(str(selection_id)) if reads_projects else None
            ),
            opens_projects=user.role in PROJECT_LEADERS,
            documents=selection_documents(the_selection),
            documentable=the_selection.documentable_steps()
            if user.role in SELECTION_ACTORS and "issue_document" in record.allowed_actions
            else [],
        )

    # -- its official documents (考察反馈意见, decision 0035) ------------------------------------

    @route.get("/selections/{selection_id}/documents/{document_id}.docx")
    def selection_document(
        self, request: Request, selection_id: UUID, document_id: str, user: SelectionReader
    ) -> Response:
        """An issued document as the Word file it was sent as."""
        selection = self.casework.get_selection(selection_id)
        try:
            document = find_document(selection.issued, document_id)
        except ApiError:  # no such document here
            raise StarletteHTTPException(404, "no such document") from None
        return docx_response(self.casework.config, document)

    @route.post("/selections/{selection_id}/documents", dependencies=[Csrf])
    def selection_issue_document(
        self, request: Request, selection_id: UUID, form: Form, user: SelectionStepper
    ) -> Response:
        """Issue the inspection's feedback (the button beside the candidate): numbered, then
        listed."""
        lang = language_of(request)
        if user.role not in SELECTION_ACTORS:
            raise PageForbidden(SELECTION_ACTORS, user)
        values = strings(form)
        command = IssueSelectionDocument(
            kind=DocumentKind.INSPECTION_FEEDBACK, about=values.get("about", "") or "-"
        )
        try:
            self.casework.execute_selection(selection_id, "issue_document", command, user.actor())
        except ProcedureError as error:
            failed = FormSpec("issue_document", "", [])
            failed.error = procedure_message(error, lang)
            status = 422 if isinstance(error, InvalidInput) else 409
            return self.selection_page(request, user, selection_id, status, failed)
        return see_other(f"/selections/{selection_id}?done=issue_document#documents")

    @route.post("/selections/{selection_id}/{action}", dependencies=[Csrf])
    def step(
        self,
        request: Request,
        selection_id: UUID,
        action: str,
        form: Form,
        user: SelectionStepper,
    ) -> Response:
        lang = language_of(request)
        _ = gettext_for(lang)
        if action not in SELECTION_COMMANDS:
            raise StarletteHTTPException(404, f"no selection step {action!r}")
        roles = step_roles(action)
        if user.role not in roles:
            raise PageForbidden(roles, user)
        record = selection_view(self.casework.get_selection(selection_id), user.role)
        spec = step_form(action, record, FormContext(version=record.version, lang=lang), _)
        model = SELECTION_COMMANDS[action][0]
        try:
            command = parse_step(spec, model, form, _)
            self.casework.execute_selection(selection_id, action, command, user.actor())
        except FormInvalid as error:
            spec.errors = error.errors
            return self.selection_page(request, user, selection_id, 422, refill(spec, form))
        except InvalidInput as error:  # a day after today: on its field
            _on_field(spec, error, lang)
            return self.selection_page(request, user, selection_id, 422, refill(spec, form))
        except ProcedureError as error:  # the stage, a named rule, or a concurrent change
            spec.error = procedure_message(error, lang)
            return self.selection_page(request, user, selection_id, 409, refill(spec, form))
        return see_other(f"/selections/{selection_id}?done={action}#steps")


# Steps with a section of their own on the page rather than a form.
OWN_STEPS = frozenset({"issue_document"})


def _decision_votes(history: list[Any]) -> list[dict[str, Any]]:
    """The decision meeting's votes per candidate (none before the meeting)."""
    for event in history:
        if type(event).CONTRACT[0] == "DecisionRecorded":
            votes: list[dict[str, Any]] = event.votes
            return votes
    return []


def _steps(history: list[Any], lang: str) -> list[dict[str, Any]]:
    """Each step as stored: its day, what it was, who recorded it, who answers for it,
    its document's number, and what else it says worth a line."""
    _ = gettext_for(lang)
    steps = []
    for event in history:
        event_type = type(event).CONTRACT[0]
        fields = vars(event)
        steps.append(
            {
                "type": event_type,
                "label": event_label(event_type, lang),
                "on": fields.get("on"),
                "actor": fields.get("actor") or {},
                "reason": fields.get("reason", ""),
                "document_number": fields.get("document_number", ""),
                "responsible": [
                    (_(label), fields[key]) for key, label in RESPONSIBLE.items() if fields.get(key)
                ],
                "details": _details(event_type, fields, lang, _),
            }
        )
    return steps


def _has_candidates(form: FormSpec) -> bool:
    """Whether a form has someone to name: an appointment form once every publicized
    candidate is appointed (or none is left) has nobody."""
    if form.action != "record_appointment":
        return True
    return any(f.name.startswith("post.") for f in form.fields)


def _on_field(spec: FormSpec, error: InvalidInput, lang: str) -> None:
    message = procedure_message(error, lang)
    field = getattr(error, "field", None)
    if field:
        spec.errors = {field: message}
    else:
        spec.error = message


def _details(  # noqa: PLR0911 (one line per kind of step)
    event_type: str, fields: dict[str, Any], lang: str, _: Any
) -> list[str]:
    """What a step says beyond its people and document, a line each."""

    def period() -> str:
        return f"{fields['starts_on']} — {fields['ends_on']}"

    match event_type:
        case "SelectionProposed":
            return [f"{fields['unit']}：{'、'.join(fields['posts'])}"]
        case "CircumstanceRecorded":
            kind = CircumstanceKind(fields["kind"])
            return [f"{kind.zh if lang != 'en' else kind.value.replace('_', ' ')}：{period()}"]
        case "RecommendationRecorded":
            return [_("Participants: %(n)s", n=fields["participants"])]
        case "InspectionAnnounced" | "PublicityStarted":
            return [_("Period: %(period)s", period=period())]
        case "DecisionRecorded":
            return [
                _(
                    "%(body)s: %(present)s of %(due)s members present",
                    body=fields["body"],
                    present=fields["members_present"],
                    due=fields["members_due"],
                )
            ]
        case "CandidateHeld" | "CandidateReleased":
            return [_("Report: %(report)s", report=fields["report_id"])]
    return []


def build_router(services: PageServices) -> APIRouter:
    return SelectionsDesk(services).router()
