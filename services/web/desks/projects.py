"""The supervision project desk (立项督查, issue 14): the projects in progress with their
selection's unit, the irregularities reported, their stage and the deadline that runs (the
projects read model); one project's record (read from the aggregate through casework's
application, as the selection's page reads the selection) with its steps, their days and who
recorded them, the team, the plan, the findings, the conclusion and its recommendations, the
report back and the deadlines; and a form for each step the reader's role may take now.

Served by ``jiandu casework`` (decision 0031: it writes casework's SupervisionProject).
Leaders open a project (on a selection, from this list or from the selection's page), form
the team, approve or return the conclusion and close; handlers and leaders record the plan,
the findings and the report back; handlers propose the conclusion; auditors read. A refused
step shows its rule's message in the page and stores nothing.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.glossary import Category, DocumentKind, ProjectStage, Verdict
from schemas.project_commands import IssueProjectDocument
from services.accounts.access import PROJECT_LEADERS, PROJECT_WORKERS
from services.casework.document_api import project_documents
from services.casework.project_api import project_view, step_roles
from services.casework.projects import PROJECT_COMMANDS, ProjectKeyReused
from services.casework.rules import InvalidInput
from services.common.document_views import docx_response, find_document
from services.common.procedure import ProcedureError
from services.common.web import ApiError
from services.projections.projects.queries import ProjectFilters
from services.projections.selections.queries import SelectionFilters
from services.web.forms import FormInvalid, FormSpec
from services.web.i18n import gettext_for, language_of
from services.web.project_forms import (
    PROJECT_ACTION_LABELS,
    idempotency_key_of,
    open_form,
    parse,
    refill,
    step_form,
)
from services.web.shell import (
    Csrf,
    Desk,
    Form,
    PageForbidden,
    PageServices,
    ProjectOpener,
    ProjectReader,
    ProjectStepper,
    event_label,
    people,
    procedure_message,
    render,
    route,
    see_other,
)


class ProjectsDesk(Desk):
    """The supervision projects and the steps on them."""

    needs = frozenset({"casework"})

    # -- the list ------------------------------------------------------------------------------

    @route.get("/projects", response_class=HTMLResponse)
    def projects(
        self,
        request: Request,
        user: ProjectReader,
        in_progress: bool = True,
        stage: ProjectStage | None = None,
        selection_id: UUID | None = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ) -> Response:
        """The projects in progress (or all), the most recently active first, a page at a
        time; the opening form for leaders."""
        return self._list(request, user, in_progress, stage, selection_id, page)

    def _list(
        self,
        request: Request,
        user: Any,
        in_progress: bool,
        stage: ProjectStage | None,
        selection_id: UUID | None,
        page: int,
        status: int = 200,
        form: FormSpec | None = None,
    ) -> HTMLResponse:
        lang = language_of(request)
        _ = gettext_for(lang)
        filters = ProjectFilters(
            in_progress=in_progress,
            stage=stage,
            selection_id=str(selection_id) if selection_id else None,
        )
        found = self.services.projects.project_list(filters, page)
        query = filters.as_dict()
        more = page * found.page_size < found.total
        opener = user.role in PROJECT_LEADERS
        if opener and form is None:
            held = self._held_cases(selection_id) if selection_id is not None else []
            form = open_form(self._selections(), lang, _, query.get("selection_id", ""), held)
        return render(
            request,
            "projects.html",
            status,
            user=user,
            page=found,
            stages=list(ProjectStage),
            filters=filters,
            next_url=f"/projects?{urlencode(query | {'page': page + 1})}" if more else "",
            previous_url=f"/projects?{urlencode(query | {'page': page - 1})}" if page > 1 else "",
            form=form if opener else None,
            event_label=lambda t: event_label(t, lang) if t else "",
        )

    def _selections(self) -> list[tuple[str, str]]:
        """The selections a project may be opened on (any stage), as the opening's choices."""
        listed = self.services.selections.selection_list(SelectionFilters(in_progress=False))
        return [
            (s.selection_id, f"{s.unit}：{'、'.join(s.posts)}（{s.proposed_on or ''}）")
            for s in listed.items
        ]

    def _held_cases(self, selection_id: UUID) -> list[str]:
        """The cases whose reports held the selection's candidates (sel-holds): the basis a
        project on it most likely rests on, offered in the opening form."""
        try:
            selection = self.casework.get_selection(selection_id)
        except LookupError:  # no such selection: the form says so when posted
            return []
        cases = (c for held in selection.held_by.values() for c in held.values() if c)
        return [str(c) for c in dict.fromkeys(cases)]

    @route.post("/projects", dependencies=[Csrf])
    def open(self, request: Request, form: Form, user: ProjectOpener) -> Response:
        lang = language_of(request)
        _ = gettext_for(lang)
        spec = open_form(self._selections(), lang, _)
        try:
            command = parse(spec, form, _)
            key = idempotency_key_of(form)  # the same form posted twice: one project
            project_id = self.casework.open_project(command, user.actor(), key)
        except FormInvalid as error:
            spec.errors = error.errors
            return self._list(request, user, True, None, None, 1, 422, refill(spec, form))
        except (InvalidInput, ProjectKeyReused) as error:  # a day after today, no such
            _on_field(spec, error, lang)  # selection or case, a form posted again changed
            return self._list(request, user, True, None, None, 1, 422, refill(spec, form))
        except ProcedureError as error:  # a named rule
            spec.error = procedure_message(error, lang)
            return self._list(request, user, True, None, None, 1, 409, refill(spec, form))
        return see_other(f"/projects/{project_id}?done=open")

    # -- one project ---------------------------------------------------------------------------

    @route.get("/projects/{project_id}", response_class=HTMLResponse)
    def project(self, request: Request, project_id: UUID, user: ProjectReader) -> Response:
        return self.project_page(request, user, project_id)

    def project_page(
        self,
        request: Request,
        user: Any,
        project_id: UUID,
        status: int = 200,
        failed: FormSpec | None = None,
    ) -> HTMLResponse:
        lang = language_of(request)
        _ = gettext_for(lang)
        the_project = self.casework.get_project(project_id)
        record = project_view(the_project, self.casework, user.role)
        selection = self.casework.get_selection(UUID(record.selection_id))
        appointed = _appointed(selection)
        # Its documents (decision 0035) have a section of their own, not a step's form.
        shown = [a for a in record.allowed_actions if a != "issue_document"]
        forms = [
            failed
            if failed is not None and failed.action == action
            else step_form(action, record, appointed, lang, _)
            for action in shown
        ]
        refused = failed.error if failed and failed.action not in shown else ""
        return render(
            request,
            "project.html",
            status,
            user=user,
            record=record,
            selection=selection,
            candidates=dict(appointed),
            steps=_steps(self.casework.project_history(project_id), lang),
            ledger={c: self._ledger_number(c) for c in record.basis},
            people=people(request),
            forms=forms,
            refused=refused,
            done=request.query_params.get("done", ""),
            step_label=lambda a: _(PROJECT_ACTION_LABELS.get(a, a)) if a else "",
            category=lambda c: _enum_label(Category(c), lang),
            verdict=lambda v: _enum_label(Verdict(v), lang),
            documents=project_documents(the_project),
            documentable=the_project.documentable_steps()
            if user.role in PROJECT_WORKERS and "issue_document" in record.allowed_actions
            else [],
        )

    # -- its official document (立项督查通知, decision 0035) ------------------------------------

    @route.get("/projects/{project_id}/documents/{document_id}.docx")
    def project_document(
        self, request: Request, project_id: UUID, document_id: str, user: ProjectReader
    ) -> Response:
        """An issued document as the Word file it was sent as."""
        project = self.casework.get_project(project_id)
        try:
            document = find_document(project.issued, document_id)
        except ApiError:  # no such document here
            raise StarletteHTTPException(404, "no such document") from None
        return docx_response(self.casework.config, document)

    @route.post("/projects/{project_id}/documents", dependencies=[Csrf])
    def project_issue_document(
        self, request: Request, project_id: UUID, form: Form, user: ProjectStepper
    ) -> Response:
        """Issue the 立项督查通知 (the button in the documents' section)."""
        lang = language_of(request)
        if user.role not in PROJECT_WORKERS:
            raise PageForbidden(PROJECT_WORKERS, user)
        command = IssueProjectDocument(kind=DocumentKind.PROJECT_NOTICE, about="opening")
        try:
            self.casework.execute_project(project_id, "issue_document", command, user.actor())
        except ProcedureError as error:
            failed = FormSpec("issue_document", "", [])
            failed.error = procedure_message(error, lang)
            status = 422 if isinstance(error, InvalidInput) else 409
            return self.project_page(request, user, project_id, status, failed)
        return see_other(f"/projects/{project_id}?done=issue_document#documents")

    def _ledger_number(self, case_id: str) -> str:
        """A basis case's ledger number (登记编号), as users know it; its id if it has none."""
        try:
            number = self.casework.get_case(UUID(case_id)).ledger_number
        except LookupError:  # the opening checked every case exists: never, in practice
            return case_id
        return str(number or case_id)

    @route.post("/projects/{project_id}/{action}", dependencies=[Csrf])
    def step(
        self,
        request: Request,
        project_id: UUID,
        action: str,
        form: Form,
        user: ProjectStepper,
    ) -> Response:
        lang = language_of(request)
        _ = gettext_for(lang)
        if action not in PROJECT_COMMANDS:
            raise StarletteHTTPException(404, f"no project step {action!r}")
        roles = step_roles(action)
        if user.role not in roles:
            raise PageForbidden(roles, user)
        project = self.casework.get_project(project_id)
        record = project_view(project, self.casework, user.role)
        selection = self.casework.get_selection(UUID(record.selection_id))
        spec = step_form(action, record, _appointed(selection), lang, _)
        try:
            command = parse(spec, form, _)
            self.casework.execute_project(project_id, action, command, user.actor())
        except FormInvalid as error:
            spec.errors = error.errors
            return self.project_page(request, user, project_id, 422, refill(spec, form))
        except InvalidInput as error:  # a day after today: on its field
            _on_field(spec, error, lang)
            return self.project_page(request, user, project_id, 422, refill(spec, form))
        except ProcedureError as error:  # the stage, a named rule, or a concurrent change
            spec.error = procedure_message(error, lang)
            return self.project_page(request, user, project_id, 409, refill(spec, form))
        return see_other(f"/projects/{project_id}?done={action}#steps")


def _enum_label(value: Category | Verdict, lang: str) -> str:
    return value.zh if lang != "en" else value.value.replace("_", " ")


def _appointed(selection: Any) -> list[tuple[str, str]]:
    """The selection's appointed candidates (id, "name（post）"): the only ones a conclusion
    may recommend void."""
    return [
        (c, f"{selection.candidates.get(c, {}).get('name', c)}（{a.get('post', '')}）")
        for c, a in selection.appointed.items()
    ]


def _steps(history: list[Any], lang: str) -> list[dict[str, Any]]:
    """Each step as stored: its day, what it was, who recorded it, its document's number
    and reason."""
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
            }
        )
    return steps


def _on_field(spec: FormSpec, error: ProcedureError, lang: str) -> None:
    message = procedure_message(error, lang)
    field = getattr(error, "field", None)
    if field:
        spec.errors = {field: message}
    else:
        spec.error = message


def build_router(services: PageServices) -> APIRouter:
    return ProjectsDesk(services).router()
