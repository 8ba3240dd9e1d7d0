"""The cases desk: a handler's cases, one case with its timeline and the forms of the
steps its reader may take now, and its official documents (decision 0035): listed with their
Word downloads, and issued with one button per step that may have one."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.commands import IssueDocument
from schemas.glossary import DocumentKind
from services.accounts.access import DOCUMENT_ISSUERS, PROJECT_READERS, check_case_access
from services.accounts.model import Principal
from services.accounts.web import accounts_of, safe_next
from services.casework.api import OWN_ROUTES, case_view
from services.casework.handlers import COMMANDS
from services.casework.rules import InvalidInput
from services.common.document_views import docx_response, find_document
from services.common.procedure import ProcedureError
from services.common.web import ApiError
from services.projections.cases.paging import MAX_LIMIT, BadCursor
from services.web.forms import FormInvalid, FormSpec, build_form, parse_form
from services.web.i18n import gettext_for, language_of
from services.web.shell import (
    CaseActor,
    CaseReader,
    Csrf,
    Desk,
    Form,
    Handler,
    PageForbidden,
    PageServices,
    case_form_context,
    people,
    procedure_message,
    refill,
    render,
    route,
    see_other,
    strings,
)

PAGE_LIMIT = 50  # a queue's items on one page (the next ones behind a "next page" link)


class CasesDesk(Desk):
    """A case and the steps on it."""

    needs = frozenset({"casework"})

    # -- cases ---------------------------------------------------------------------------------

    @route.get("/cases/mine", response_class=HTMLResponse)
    def my_cases(
        self,
        request: Request,
        user: Handler,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = PAGE_LIMIT,
        after: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> Response:
        """The handler's cases, a page at a time (the soonest deadline first), with a link
        to the next page."""
        try:
            found, following = self.lists.cases_page(
                user.username, limit=limit, after=after or None
            )
        except BadCursor as error:
            return render(request, "error.html", 422, user=user, message=str(error), roles=[])
        cases = [case_view(c, self.casework, user.role) for c in found]
        next_url = (
            f"/cases/mine?{urlencode({'limit': limit, 'after': following})}" if following else ""
        )
        return render(
            request, "cases_mine.html", user=user, cases=cases, next_url=next_url,
            first_url="/cases/mine" if after else "",
        )  # fmt: skip

    def case_page(
        self,
        request: Request,
        user: Principal,
        case_id: UUID,
        status: int = 200,
        failed: FormSpec | None = None,
    ) -> HTMLResponse:
        lang = language_of(request)
        _ = gettext_for(lang)
        case = self.casework.get_case(case_id)
        self._check_case(request, user, case.handler_id)
        view = case_view(case, self.casework, user.role)
        ctx = case_form_context(request, case, lang)
        forms = [
            failed
            if failed is not None and failed.action == action
            else build_form(action, COMMANDS[action][0], ctx, _)
            for action in view.allowed_actions
            if action not in OWN_ROUTES  # documents: their own section of the page
        ]
        shown = set(view.allowed_actions) - OWN_ROUTES  # a step with a form of its own
        refused = failed.error if failed and failed.action not in shown else ""
        timeline = self.services.queries.timeline(str(case_id))
        # The supervision projects (立项督查) opened on this case, for those who read them.
        projects = (
            self.services.projects.resting_on(str(case_id)) if user.role in PROJECT_READERS else []
        )
        return render(
            request,
            "case.html",
            status,
            user=user,
            case=view,
            projects=projects,
            timeline=timeline.steps if timeline else [],
            people=people(request),
            forms=forms,
            refused=refused,
            done=request.query_params.get("done", ""),
            may_issue=user.role in DOCUMENT_ISSUERS and "issue_document" in view.allowed_actions,
        )

    def _check_case(self, request: Request, user: Principal, handler_id: str | None) -> None:
        try:
            check_case_access(user, handler_id, accounts_of(request))
        except ProcedureError as error:
            raise PageForbidden((), user, procedure_message(error, language_of(request))) from None

    @route.get("/cases/{case_id}", response_class=HTMLResponse)
    def case(
        self,
        request: Request,
        case_id: UUID,
        user: CaseReader,
    ) -> Response:
        return self.case_page(request, user, case_id)

    @route.get("/cases/{case_id}/documents/{document_id}.docx")
    def case_document(
        self, request: Request, case_id: UUID, document_id: str, user: CaseReader
    ) -> Response:
        """An issued document as the Word file it was sent as."""
        case = self.casework.get_case(case_id)
        self._check_case(request, user, case.handler_id)
        try:
            document = find_document(case.issued, document_id)
        except ApiError:  # no such document here
            raise StarletteHTTPException(404, "no such document") from None
        return docx_response(self.casework.config, document)

    @route.post("/cases/{case_id}/documents", dependencies=[Csrf])
    def case_issue_document(
        self, request: Request, case_id: UUID, form: Form, user: CaseActor
    ) -> Response:
        """Issue the document of a step (the button beside it): numbered, then listed."""
        lang = language_of(request)
        values = strings(form)
        the_case = self.casework.get_case(case_id)
        self._check_case(request, user, the_case.handler_id)
        if values.get("kind") not in {k.value for k in DocumentKind}:
            raise StarletteHTTPException(422, "no such kind of document")
        try:
            command = IssueDocument(
                kind=DocumentKind(values["kind"]), about=values.get("about", "")
            )
            self.casework.execute(
                case_id, "issue_document", command, {"id": user.username, "role": user.role}
            )
        except ValidationError:
            raise StarletteHTTPException(422, "say which step the document is about") from None
        except ProcedureError as error:
            failed = FormSpec("issue_document", "", [])
            failed.error = procedure_message(error, lang)
            status = 422 if isinstance(error, InvalidInput) else 409
            return self.case_page(request, user, case_id, status, failed=failed)
        return see_other(f"/cases/{case_id}?done=issue_document#documents")

    @route.post("/cases/{case_id}/{action}", dependencies=[Csrf])
    def case_command(
        self,
        request: Request,
        case_id: UUID,
        action: str,
        form: Form,
        user: CaseActor,
    ) -> Response:
        lang = language_of(request)
        _ = gettext_for(lang)
        if action not in COMMANDS:
            raise StarletteHTTPException(404, f"no case action {action!r}")
        the_case = self.casework.get_case(case_id)
        self._check_case(request, user, the_case.handler_id)
        ctx = case_form_context(request, the_case, lang)
        model = COMMANDS[action][0]
        spec = build_form(action, model, ctx, _)
        try:
            command = parse_form(spec, model, strings(form), ctx, _)
            self.casework.execute(
                case_id, action, command, {"id": user.username, "role": user.role}
            )
        except FormInvalid as error:
            spec.errors = error.errors
            return self.case_page(request, user, case_id, 422, failed=refill(spec, form))
        except InvalidInput as error:  # names something unusable: 422 (on its field if it has one)
            message = procedure_message(error, lang)
            field = getattr(error, "field", None)
            if field:
                spec.errors = {field: message}
            else:
                spec.error = message
            return self.case_page(request, user, case_id, 422, failed=refill(spec, form))
        except ProcedureError as error:
            spec.error = procedure_message(error, lang)
            return self.case_page(request, user, case_id, 409, failed=refill(spec, form))
        back = safe_next(str(form.get("back", "")))
        if back == "/approvals":
            return see_other(f"/approvals?done={action}")
        return see_other(f"/cases/{case_id}?done={action}#timeline")


def build_router(services: PageServices) -> APIRouter:
    return CasesDesk(services).router()
