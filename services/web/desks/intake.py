"""The intake desk: the hotline form (and its cadre look-up), the inbox, the registration
ledger, a report with its triage forms, the audited "show identity" action and its letters to the
reporter (issued, and downloaded addressed: an audited reveal each), and the
unregistered names waiting to be identified (candidates).

A reporter's identity is shown behind the audited reveal only, on that response only; pages
are never cached.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas import commands as c
from schemas.events import Actor, candidate_key
from schemas.glossary import Channel, DocumentKind
from schemas.submissions import ReportSubmission
from services.accounts.access import (
    CANDIDATE_ACTORS,
    CASE_READERS,
    IDENTITY_ROLES,
    check_submission,
)
from services.accounts.model import Principal
from services.accounts.web import accounts_of
from services.common.document_views import docx_response
from services.common.procedure import ProcedureError, RoleNotAllowed, RuleBroken
from services.common.unavailable import is_database_unavailable
from services.common.web import ApiError
from services.intake.api import letter_views, report_view
from services.intake.base import NoIdentityKept, SubmissionRefused
from services.intake.domain import TRIAGE, Report
from services.intake.domain.letters import ISSUERS as LETTER_ISSUERS
from services.intake.reveal import ReporterLetters
from services.intake.triage import TRIAGE_COMMANDS
from services.web.forms import FormContext, FormInvalid, FormSpec, build_form, parse_form
from services.web.i18n import gettext_for, language_of
from services.web.report_form import (
    form_values,
    report_form_context,
    submission_data,
    submission_errors,
)
from services.web.shell import (
    CandidateActor,
    CandidateReader,
    Csrf,
    Desk,
    Form,
    IdentityReader,
    LedgerReader,
    LookUp,
    Operator,
    PageServices,
    ReportReader,
    Triager,
    page,
    procedure_message,
    refill,
    render,
    route,
    see_other,
    strings,
    tr,
)

log = logging.getLogger(__name__)

REPORT_BACK_NAMES = {"transfer_down": "transfer_report_back", "refer_out": "referral_report_back"}


def report_back_deadlines(report: Report, config: Any, today: dt.date) -> list[Any]:
    """A report transferred down or referred out: when its receiver's result is due, and
    whether it came (the same clock the operators' queues show)."""
    from services.common.deadline_views import deadline_view

    due = report.triage.get("report_back_due")
    if not due:
        return []
    name = REPORT_BACK_NAMES["refer_out" if "member_unit" in report.triage else "transfer_down"]
    result = report.triage.get("receiver_result") or {}
    record = {"due": due, "met_on": result.get("reported_on"), "provisional": False, "note": ""}
    return [deadline_view(name, record, config, today)]


def reason_given(form: Any) -> str | None:
    """Why the identity is needed, as the audit records it (2 to 500 characters), or None."""
    reason = str(form.get("reason", "")).strip()
    return reason if 2 <= len(reason) <= 500 else None


def no_reason(request: Request) -> str:
    _ = tr(request)
    return _("Say why you need the identity (2 to 500 characters).")


class IntakeDesk(Desk):
    """The operators' pages: a report from its recording to its triage."""

    needs = frozenset({"intake", "reports", "reveal"})

    # -- intake --------------------------------------------------------------------------------

    @route.get("/intake/new", response_class=HTMLResponse)
    def hotline_page(self, request: Request, user: Operator) -> Response:
        return render(
            request,
            "intake_new.html",
            user=user,
            values={"channel": Channel.HOTLINE.value, "idempotency_key": str(uuid.uuid4())},
            errors={},
            **report_form_context(),
        )

    @route.post("/intake/new", dependencies=[Csrf])
    def hotline_submit(self, request: Request, form: Form, user: Operator) -> Response:
        _ = tr(request)
        channel_value = str(form.get("channel", Channel.HOTLINE.value))
        values = form_values(form)

        def again(errors: dict[str, str], status: int) -> Response:
            return render(
                request,
                "intake_new.html",
                status,
                user=user,
                values=values,
                errors=errors,
                **report_form_context(),
            )

        try:
            channel = Channel(channel_value)
        except ValueError:
            return again({"channel": _("Choose one of the listed options.")}, 422)
        try:
            submission = ReportSubmission.model_validate(submission_data(form, channel))
        except ValidationError as error:
            return again(submission_errors(error, _), 422)
        try:
            check_submission(user, submission)
            receipt = self.intake.submit(
                submission,
                idempotency_key=str(form.get("idempotency_key") or "") or None,
                actor=Actor(id=user.username, role=user.role),
            )
        except ProcedureError as error:
            return again({"": procedure_message(error, language_of(request))}, 403)
        except SubmissionRefused as refused:
            english = language_of(request) == "en"
            message = str(refused) if english else refused.message_zh
            return again({refused.field: message}, 422)
        return see_other(f"/reports/{receipt.report_id}?registered={receipt.ledger_number}")

    @route.get("/intake/cadres")
    def cadre_lookup(
        self,
        request: Request,
        _user: LookUp,
        q: str = "",
    ) -> JSONResponse:
        """The cadre register by name or unit, for the hotline form's look-up."""
        text = q.strip()[:100]
        found = self.services.queries.register.search(text) if text else []
        return JSONResponse(
            [c.model_dump(mode="json") for c in found], headers={"Cache-Control": "no-store"}
        )

    @route.get("/intake/inbox", response_class=HTMLResponse)
    def inbox(self, request: Request, user: Operator) -> Response:
        return render(request, "inbox.html", user=user, reports=self.lists.inbox())

    @route.get("/ledger", response_class=HTMLResponse)
    def ledger(
        self,
        request: Request,
        user: LedgerReader,
        page: int = 1,
    ) -> Response:
        page = max(1, page)
        reports, more = self.lists.ledger(page)
        return render(request, "ledger.html", user=user, reports=reports, page=page, more=more)

    # -- reports -------------------------------------------------------------------------------

    def report_page(
        self,
        request: Request,
        user: Principal,
        report: Report,
        status: int = 200,
        failed: FormSpec | None = None,
        identity: Mapping[str, Any] | None = None,
        identity_error: str = "",
        letter_error: str = "",
    ) -> HTMLResponse:
        lang = language_of(request)
        _ = gettext_for(lang)
        view = report_view(report)
        may_address = self.may_address(request, user, report)
        related = self.lists.related_reports(report)
        ctx = FormContext(
            version=report.version,
            subjects=report.subjects,
            categories=report.categories,
            report_suggestions=[
                (r["report_id"], f"{r['ledger_number']}（{r['received_on']}）") for r in related
            ],
            case_suggestions=[
                (r["case_id"], str(r["ledger_number"])) for r in related if r.get("case_id")
            ],
            lang=lang,
        )
        forms = []
        allowed = [a for a in view.allowed_actions if user.role in TRIAGE[a][0]]
        refused = failed.error if failed and failed.action not in allowed else ""
        for action in view.allowed_actions:
            if user.role not in TRIAGE[action][0]:
                continue
            if failed is not None and failed.action == action:
                forms.append(failed)
            else:
                forms.append(build_form(action, TRIAGE_COMMANDS[action][0], ctx, _))
        return render(
            request,
            "report.html",
            status,
            user=user,
            report=view,
            deadlines=report_back_deadlines(
                report, self.services.queries.config, self.services.queries.today()
            ),
            real_name=report.real_name,
            related=related,
            forms=forms,
            can_reveal=user.role in IDENTITY_ROLES and report.real_name,
            can_open_case=user.role in CASE_READERS,
            identity=identity,
            identity_error=identity_error,
            letters=letter_views(report),
            letter_steps=self.letter_steps(user, report, may_address),
            may_address=may_address,
            letter_error=letter_error,
            refused=refused,
            done=request.query_params.get("done", ""),
            registered=request.query_params.get("registered", ""),
        )

    @route.get("/reports/{report_id}", response_class=HTMLResponse)
    def report(self, request: Request, report_id: UUID, user: ReportReader) -> Response:
        return self.report_page(request, user, self.intake.get_report(report_id))

    @route.post("/reports/{report_id}/identity", dependencies=[Csrf])
    def reveal_identity(
        self,
        request: Request,
        report_id: UUID,
        form: Form,
        user: IdentityReader,
    ) -> Response:
        """The audited reveal: recorded (who, when, why) before it is shown, on this
        response only."""
        reason = reason_given(form)
        report = self.intake.get_report(report_id)
        if reason is None:
            return self.report_page(request, user, report, 422, identity_error=no_reason(request))
        try:
            report, shown, entry = self.reveal.reveal(user, report_id, reason, accounts_of(request))
        except NoIdentityKept as error:
            return self.report_page(
                request,
                user,
                report,
                404,
                identity_error=procedure_message(error, language_of(request)),
            )
        except RuleBroken as error:
            return self.report_page(
                request,
                user,
                report,
                403,
                identity_error=procedure_message(error, language_of(request)),
            )
        log.info(
            "reporter identity of report %s shown to %s (%s) on a page, audit entry %s",
            report_id,
            user.username,
            user.role.value,
            entry.entry_id,
        )
        shown["audit_entry_id"] = entry.entry_id
        return self.report_page(request, user, report, identity=shown)

    # -- letters to the reporter (decision 0037) ------------------------------------------------

    @property
    def letters(self) -> ReporterLetters:
        return ReporterLetters(self.reveal, feedback=self.services.cases.feedback_for_report)

    def may_address(self, request: Request, user: Principal, report: Report) -> bool:
        """Whether ``user`` may address this report's letters now (see its reporter)."""
        if not report.real_name or user.role not in IDENTITY_ROLES:
            return False
        try:
            self.reveal.check_need_to_know(user, report, accounts_of(request))
        except RuleBroken:
            return False
        return True

    def letter_steps(
        self, user: Principal, report: Report, may_address: bool
    ) -> list[tuple[DocumentKind, str, str]]:
        """The letters this user may issue now, one button each: none for who may not
        address this report's letters now (the read side not even asked), and none while the
        read side is away (the rest of the page still shows)."""
        if not may_address:
            return []
        try:
            feedback = self.letters.feedback_of(report.id) if report.case_id else []
        except Exception as error:
            if not is_database_unavailable(error):
                raise
            log.warning("report page: the read side is away, no letter buttons")
            return []
        return [s for s in report.letter_steps(feedback) if user.role in LETTER_ISSUERS[s[0]]]

    @route.post("/reports/{report_id}/letters", dependencies=[Csrf])
    def issue_letter(
        self, request: Request, report_id: UUID, form: Form, user: IdentityReader
    ) -> Response:
        """Issue a letter to the reporter (the button beside its step): numbered, listed."""
        values = strings(form)
        try:
            body = c.IssueLetter.model_validate(
                {"kind": values.get("kind", ""), "about": values.get("about", "")}
            )
        except ValidationError:
            raise StarletteHTTPException(422, "no such letter") from None
        try:
            self.letters.issue(
                user, report_id, DocumentKind(body.kind), body.about, accounts_of(request)
            )
        except ProcedureError as error:
            return self.report_page(
                request,
                user,
                self.intake.get_report(report_id),
                403
                if isinstance(error, RoleNotAllowed)
                or (isinstance(error, RuleBroken) and error.rule.about_who)
                else 409,
                letter_error=procedure_message(error, language_of(request)),
            )
        return see_other(f"/reports/{report_id}?done=issue_letter#letters")

    @route.post("/reports/{report_id}/letters/{document_id}.docx", dependencies=[Csrf])
    def download_letter(
        self, request: Request, report_id: UUID, document_id: str, form: Form, user: IdentityReader
    ) -> Response:
        """The letter addressed to the reporter, as Word: an audited reveal with its reason."""
        reason = reason_given(form)
        report = self.intake.get_report(report_id)
        if reason is None:
            return self.report_page(request, user, report, 422, letter_error=no_reason(request))
        try:
            letter, addressee, entry = self.letters.addressed(
                user, report_id, document_id, reason, accounts_of(request)
            )
        except ApiError:  # no such letter of this report
            raise StarletteHTTPException(404, "no such letter") from None
        except ProcedureError as error:
            status = 404 if isinstance(error, NoIdentityKept) else 403
            return self.report_page(
                request,
                user,
                report,
                status,
                letter_error=procedure_message(error, language_of(request)),
            )
        log.info(
            "letter %s of report %s addressed for %s (%s) on a page, audit entry %s",
            letter["number"],
            report_id,
            user.username,
            user.role.value,
            entry.entry_id,
        )
        return docx_response(self.intake.config, letter, addressee)

    @route.post("/reports/{report_id}/{action}", dependencies=[Csrf])
    def triage(
        self,
        request: Request,
        report_id: UUID,
        action: str,
        form: Form,
        user: Triager,
    ) -> Response:
        lang = language_of(request)
        _ = gettext_for(lang)
        if action not in TRIAGE_COMMANDS:
            raise StarletteHTTPException(404, f"no triage action {action!r}")
        report = self.intake.get_report(report_id)
        related = self.lists.related_reports(report)
        ctx = FormContext(
            version=report.version,
            subjects=report.subjects,
            categories=report.categories,
            report_suggestions=[(r["report_id"], "") for r in related],
            case_suggestions=[(r["case_id"], "") for r in related if r.get("case_id")],
            lang=lang,
        )
        model = TRIAGE_COMMANDS[action][0]
        spec = build_form(action, model, ctx, _)
        try:
            command = parse_form(spec, model, strings(form), ctx, _)
            self.intake.triage(report_id, action, command, Actor(id=user.username, role=user.role))
        except FormInvalid as error:
            spec.errors = error.errors
            return self.report_page(request, user, report, 422, failed=refill(spec, form))
        except SubmissionRefused as refused:  # a stated day out of bounds, on its field
            spec.errors = {refused.field: str(refused) if lang == "en" else refused.message_zh}
            return self.report_page(request, user, report, 422, failed=refill(spec, form))
        except ProcedureError as error:
            spec.error = procedure_message(error, lang)
            return self.report_page(
                request, user, self.intake.get_report(report_id), 409, failed=refill(spec, form)
            )
        return see_other(f"/reports/{report_id}?done={action}")

    @route.get("/cadres/candidates", response_class=HTMLResponse)
    def candidates(self, request: Request, user: CandidateReader) -> Response:
        return self.candidates_page(request, user)

    def candidates_page(
        self, request: Request, user: Principal, status: int = 200, error: str = "", key: str = ""
    ) -> HTMLResponse:
        found = self.services.archives.candidates()
        return page(
            request,
            "candidates.html",
            status,
            user=user,
            candidates=found,
            keys=[(v.candidate_key, f"{v.name}（{v.unit}）") for v in found],
            can_act=user.role in CANDIDATE_ACTORS,
            error=error,
            failed_key=key,
            done=request.query_params.get("done", ""),
        )

    @route.post("/cadres/candidates/identify", dependencies=[Csrf])
    def identify(self, request: Request, form: Form, user: CandidateActor) -> Response:
        """Confirm a candidate as a registered cadre, or merge it into another candidate:
        ``identify_subject`` on a report naming the candidate, by the candidate's own key."""
        lang = language_of(request)
        _ = gettext_for(lang)
        values = strings(form)
        key = values.get("candidate_key", "").strip()
        cadre_id = values.get("cadre_id", "").strip() or None
        same_as = values.get("same_as_candidate", "").strip() or None
        view = next(
            (v for v in self.services.archives.candidates() if v.candidate_key == key), None
        )
        if view is None:
            return self.candidates_page(
                request, user, 404, _("This name is no longer waiting to be identified."), key
            )
        if cadre_id is not None and self.services.queries.register.get(cadre_id) is None:
            return self.candidates_page(
                request,
                user,
                422,
                _("No cadre %(cadre_id)s in the register.", cadre_id=cadre_id),
                key,
            )
        if same_as == key:
            same_as = None
        try:
            command = c.IdentifySubject(
                subject_index=0,
                cadre_id=cadre_id,
                same_as_candidate=same_as,
                reason=values.get("reason", "").strip(),
            )
        except ValidationError:
            return self.candidates_page(
                request,
                user,
                422,
                _("Choose either a registered cadre or another name, not both and not neither."),
                key,
            )
        target = _ref_named(self.intake, view.report_refs, key)
        if target is None:
            return self.candidates_page(
                request, user, 409, _("No report names this person any more."), key
            )
        report_id, index = target
        try:
            self.intake.triage(
                report_id,
                "identify_subject",
                command.model_copy(update={"subject_index": index}),
                Actor(id=user.username, role=user.role),
            )
        except ProcedureError as error:
            return self.candidates_page(request, user, 409, procedure_message(error, lang), key)
        done = "confirmed" if cadre_id else "merged"
        return see_other(f"/cadres/candidates?done={done}")


def build_router(services: PageServices) -> APIRouter:
    return IntakeDesk(services).router()


def _ref_named(intake: Any, refs: list[dict[str, Any]], key: str) -> tuple[Any, int] | None:
    """A report and subject index naming the person under ``key`` itself (identifying that
    key carries the names merged into it along)."""
    from uuid import UUID

    for ref in refs:
        try:
            report = intake.get_report(UUID(str(ref["report_id"])))
        except (ProcedureError, ValueError):
            continue
        index = int(ref["subject_index"])
        if index < len(report.subjects):
            subject = report.subjects[index]
            if not subject.get("cadre_id") and (
                candidate_key(subject["name"], subject.get("unit", "")) == key
            ):
                return report.id, index
    return None
