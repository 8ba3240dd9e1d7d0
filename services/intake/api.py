"""Intake's HTTP routes: submit a report, read it back, follow up by query code."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, StringConstraints

from schemas.commands import Command, IssueLetter
from schemas.events import Actor
from schemas.glossary import CaseState, Channel, DocumentKind, Role, SensitiveItem
from schemas.sealed_content import HandOverSealedContent, OpenSealedContent
from schemas.submissions import ReportSubmission, SubmissionReceipt
from schemas.views import DocumentableStep, DocumentView, ReportView
from schemas.views_cases import CaseFollowUp, ReporterFeedback, reporter_progress
from services.accounts.access import (
    IDENTITY_ROLES,
    PUBLIC_CHANNEL,
    REPORT_READERS,
    TRIAGE_ACTORS,
    check_submission,
)
from services.accounts.model import AuditEntry, Principal
from services.accounts.throttle import PublicThrottle
from services.accounts.web import accounts_of, api_principal, require_api_roles
from services.common.document_views import document_view, docx_response
from services.common.documents import DOCX_MEDIA_TYPE
from services.common.problems import can_answer
from services.common.unavailable import is_database_unavailable
from services.common.web import ApiError, idempotency_key_header
from services.intake.application import IntakeApplication
from services.intake.domain import TRIAGE, Report
from services.intake.reveal import IdentityReveal, ReporterLetters
from services.intake.sealed_export import BadRecipientKey
from services.intake.triage import TRIAGE_COMMANDS

log = logging.getLogger(__name__)


class IdentityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500)]


_optional_bearer = HTTPBearer(
    auto_error=False,
    description="A token from POST /api/v1/auth/token; not needed for the mailbox channel",
)


@can_answer(401)
def submitter(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_optional_bearer)],
) -> Principal | None:
    """The signed-in staff member submitting a report, or None for the public."""
    return None if credentials is None else api_principal(request, credentials)


def _sign_in_to_submit(channel: Channel) -> HTTPException:
    return HTTPException(
        401,
        f"channel {channel.value!r} ({channel.zh}) is registered by signed-in staff: send "
        "Authorization: Bearer <token> (POST /api/v1/auth/token); the public reports "
        f"through channel {PUBLIC_CHANNEL.value!r} ({PUBLIC_CHANNEL.zh})",
        headers={"WWW-Authenticate": "Bearer"},
    )


Reader = Annotated[Principal, Depends(require_api_roles(*REPORT_READERS))]
Triager = Annotated[Principal, Depends(require_api_roles(*TRIAGE_ACTORS))]
# Who may issue a letter to a reporter: who may see the reporter to address it.
LetterIssuer = Annotated[Principal, Depends(require_api_roles(*IDENTITY_ROLES))]


IdempotencyKey = Annotated[
    str | None, idempotency_key_header("Retrying with the same key returns the first answer.")
]


REFUSED = {"description": "refused: the detail names the rule"}
RETRY_AFTER = {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}}
FOLLOW_UP_RETRY_SECONDS = 30


def unavailable(description: str) -> dict[str, Any]:
    """A 503 in a route's OpenAPI: a passing condition, sent with Retry-After."""
    return {"description": f"{description}; see Retry-After", "headers": RETRY_AFTER}


TRIAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "no or invalid token"},
    403: {"description": "a role that does not triage, or not this step: the detail says"},
    404: {"description": "no such report (or no such report named in the body)"},
    409: {
        "description": "the report's state or a rule does not allow it, or it changed "
        "meanwhile (expected_version): the detail names the rule"
    },
    422: {
        "description": "invalid body, or a stated day (accepted_on, forwarded_on, ...) after "
        "today or before the report was received: the detail names the field"
    },
}
TOO_MANY = {
    "description": "too many attempts from this client (or on this query code): see "
    "Retry-After; an RFC 9457 problem-details body",
    "headers": RETRY_AFTER,
}


def build_router(
    intake: IntakeApplication,
    follow_up: Callable[[str], CaseFollowUp] | None = None,
    reveal: IdentityReveal | None = None,
) -> APIRouter:
    """``follow_up``: the read side's answer for a report (its case's state and the feedback
    given to its reporter), for the reporter's follow-up; without it, intake's status only.
    ``reveal``: the audited identity reveal, the same command the report page calls (without
    it, one with no word on a case's handler: a handler sees no identity)."""
    reveal = reveal or IdentityReveal(intake)
    router = APIRouter(prefix="/api/v1", tags=["intake"])
    _submission_routes(router, intake)
    _identity_route(router, reveal)
    _letter_routes(router, ReporterLetters(reveal, feedback=feedback_of(follow_up)))
    _sealed_content_routes(router, intake)
    _follow_up_route(router, intake, follow_up)
    return router


def _submission_routes(router: APIRouter, intake: IntakeApplication) -> None:
    """Registering a report, reading it, and its triage."""

    @router.post(
        "/reports",
        status_code=status.HTTP_201_CREATED,
        responses={
            401: {"description": "a staff channel without a token"},
            403: REFUSED,
            422: {"description": "invalid, or a field its sender may not set (named)"},
            429: TOO_MANY,
            503: unavailable("too many concurrent registrations: retry with the same key"),
        },
    )
    def submit_report(
        submission: ReportSubmission,
        request: Request,
        response: Response,
        principal: Annotated[Principal | None, Depends(submitter)],
        idempotency_key: IdempotencyKey = None,
    ) -> SubmissionReceipt:
        """Register one report; 201 with its ledger number (and case).

        The public needs no account for the online mailbox (``mailbox``). Every other
        channel is staff work, with a bearer token: operators register hotline calls,
        letters, visits, referrals and internal items; a liaison member refers items from
        their own member unit (``referral`` with ``source: member_unit``); a handler
        records internal items.

        The public sets neither ``sealed`` nor ``received_on`` (422), and sends at most a few
        reports a day from one address (429, ``JIANDU_MAILBOX_DAILY_LIMIT``); staff may
        back-date ``received_on`` within the configured limit, never into the future. An
        Idempotency-Key is the submitter's own: another submitter's same key is another
        report.
        """
        if principal is None and submission.channel is not PUBLIC_CHANNEL:
            raise _sign_in_to_submit(submission.channel)
        check_submission(principal, submission)
        actor = Actor(id=principal.username, role=principal.role) if principal else None
        throttle = PublicThrottle.of(request) if principal is None else None
        if throttle is not None:
            intake.check_fields(submission, public=True, today=intake.today())
            throttle.reserve_mailbox()  # counted before it is made: no race past the limit
        receipt = intake.submit(
            submission,
            idempotency_key=idempotency_key,
            actor=actor,
            public=principal is None,
            client=throttle.client if throttle is not None else None,
        )
        response.headers["Location"] = f"/api/v1/reports/{receipt.report_id}"
        response.headers["Cache-Control"] = "no-store"  # a mailbox receipt holds a password
        return receipt

    @router.get("/reports/{report_id}")
    def get_report(report_id: UUID, _: Reader) -> ReportView:
        """The report as intake keeps it (staff only; never the reporter's identity)."""
        return report_view(intake.get_report(report_id))

    for action, (model, _) in TRIAGE_COMMANDS.items():
        router.add_api_route(
            f"/reports/{{report_id}}/{action}",
            _triage_route(intake, action, model),
            methods=["POST"],
            name=f"report_{action}",
            summary=f"triage: {action.replace('_', ' ')}",
            response_model=ReportView,
            responses=TRIAGE_RESPONSES,
        )


def _identity_route(router: APIRouter, reveal: IdentityReveal) -> None:
    """The audited reveal of a real-name reporter's identity."""

    @router.post(
        "/reports/{report_id}/identity",
        tags=["intake", "audit"],
        responses={
            401: {"description": "no or invalid token"},
            403: {
                "description": "no need to know: refused (by role before any lookup, so "
                "nothing is said about the report), and the refusal recorded"
            },
            404: {
                "description": "an operator or handler asking about no such report, or an "
                "anonymous one (nothing is kept); the refusal recorded"
            },
            422: {"description": "no reason given"},
        },
    )
    def reveal_identity(
        report_id: UUID,
        body: IdentityRequest,
        request: Request,
        response: Response,
        principal: Annotated[Principal, Depends(api_principal)],
    ) -> dict[str, Any]:
        """Show a real-name reporter's identity to someone with a need to know, with a reason.

        An operator while the report is in triage (or its acceptance notice is still to be
        sent); a handler for a case assigned to them or to their section. Anyone else: 403,
        and the refused attempt is recorded too — any other role is refused before the report
        is looked up. The read is recorded (who, when, why, which report) before the identity
        is returned; auditors see both at ``GET /api/v1/audit``. Anonymous reports: 404,
        nothing is kept (the refusal recorded).
        """
        report, identity, entry = reveal.reveal(
            principal, report_id, body.reason, accounts_of(request)
        )
        log.info(
            "reporter identity of report %s shown to %s (%s), audit entry %s",
            report_id,
            principal.username,
            principal.role.value,
            entry.entry_id,
        )
        response.headers["Cache-Control"] = "no-store"
        return {
            "report_id": str(report_id),
            "ledger_number": report.ledger_number,
            "identity": identity,
            "audit_entry_id": entry.entry_id,
            "recorded_at": entry.read_at,
        }


def feedback_of(
    follow_up: Callable[[str], CaseFollowUp] | None,
) -> Callable[[str], list[ReporterFeedback]] | None:
    """The feedback given on a report's case, from the read side's follow-up answer."""
    if follow_up is None:
        return None
    return lambda report_id: follow_up(report_id).feedback


def letter_views(report: Report) -> list[DocumentView]:
    return [document_view(d, f"/api/v1/reports/{report.id}") for d in report.issued]


LETTER_DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {DOCX_MEDIA_TYPE: {}},
        "description": "the letter as a Word file, addressed to the reporter (name and "
        "address from the vault), named in Chinese (RFC 5987 filename*); never cached",
        "headers": {
            "Content-Disposition": {
                "description": "attachment; its number and kind as the file name",
                "schema": {"type": "string"},
            },
            "Cache-Control": {"description": "no-store", "schema": {"type": "string"}},
        },
    },
    401: {"description": "no or invalid token"},
    403: {
        "description": "no need to know (identity_need_to_know, identity_in_triage, "
        "identity_own_case): refused, and the refusal recorded"
    },
    404: {
        "description": "no such report, an anonymous one (nothing kept), or no letter of it "
        "with this number or id; a refusal recorded"
    },
    422: {"description": "no reason given"},
    503: unavailable("a database is away"),
}


def _letter_routes(router: APIRouter, letters: ReporterLetters) -> None:
    """The letters to a real-name reporter (decision 0037): listed, issued, downloaded
    addressed (an audited reveal)."""
    intake = letters.intake

    @router.get("/reports/{report_id}/documents", tags=["intake", "documents"])
    def list_report_letters(report_id: UUID, _: Reader) -> list[DocumentView]:
        """The letters sent to the report's real-name reporter, in order of issue (their
        fields as recorded: never the addressee)."""
        return letter_views(intake.get_report(report_id))

    @router.get(
        "/reports/{report_id}/documents/open-steps",
        tags=["intake", "documents"],
        responses={503: unavailable("the read side (the case's feedback) cannot be read")},
    )
    def report_letter_steps(report_id: UUID, _: Reader) -> list[DocumentableStep]:
        """The steps a letter may now be issued about, none issued yet: the 受理告知书 once
        registered, a 反馈意见书 per feedback given on the case (real-name reports only)."""
        report = intake.get_report(report_id)
        return [
            DocumentableStep(kind=kind.value, kind_zh=kind.zh, about=about, label=label)
            for kind, about, label in report.letter_steps(letters.feedback_of(report_id))
        ]

    @router.post(
        "/reports/{report_id}/documents",
        tags=["intake", "documents"],
        status_code=status.HTTP_201_CREATED,
        responses={
            200: {
                "model": DocumentView,
                "description": "the letter was issued before about this step: the same one",
            },
            401: {"description": "no or invalid token"},
            403: {
                "description": "not this role's letter, or no need to know the reporter "
                "(identity_in_triage, identity_own_case): the detail names the rule"
            },
            404: {"description": "no such report"},
            409: {
                "description": "letter_to_real_name, letter_step_taken, or the report changed "
                "meanwhile: the detail names the rule"
            },
            422: {
                "description": "bad input: a kind that is not a letter, an `about` that is not "
                "its kind's, a day after today or before the step the letter documents"
            },
            503: unavailable("a database is away"),
        },
    )
    def issue_report_letter(
        report_id: UUID,
        body: IssueLetter,
        request: Request,
        response: Response,
        principal: LetterIssuer,
    ) -> DocumentView:
        """Issue a letter to the report's real-name reporter: the 受理告知书 (the operator,
        while the report is in triage or its acceptance notice is due) or a 反馈意见书 about a
        feedback given on its case (the case's handler). Numbered in intake's register; the
        addressee is not recorded. Asked again for the same step: the same letter, 200."""
        report, letter, new = letters.issue(
            principal,
            report_id,
            DocumentKind(body.kind),
            body.about,
            accounts_of(request),
            issued_on=body.issued_on,
        )
        if not new:
            response.status_code = status.HTTP_200_OK
        return document_view(letter, f"/api/v1/reports/{report.id}")

    @router.post(
        "/reports/{report_id}/documents/{ref}.docx",
        tags=["intake", "documents", "audit"],
        response_class=Response,
        responses=LETTER_DOWNLOAD_RESPONSES,
    )
    def download_report_letter(
        report_id: UUID,
        ref: Annotated[str, Path(max_length=100)],
        body: IdentityRequest,
        request: Request,
        principal: Annotated[Principal, Depends(api_principal)],
    ) -> Response:
        """The letter ``ref`` (its number or id) as a Word file addressed to the reporter.
        A POST with a reason: each download is a reveal of the reporter's identity, allowed
        to whom may see it and recorded (who, when, why, which letter) before it is made."""
        letter, addressee, entry = letters.addressed(
            principal, report_id, ref, body.reason, accounts_of(request)
        )
        log.info(
            "letter %s of report %s addressed for %s (%s), audit entry %s",
            letter["number"],
            report_id,
            principal.username,
            principal.role.value,
            entry.entry_id,
        )
        return docx_response(intake.config, letter, addressee)


def _follow_up_route(
    router: APIRouter,
    intake: IntakeApplication,
    follow_up: Callable[[str], CaseFollowUp] | None,
) -> None:
    """The reporter's follow-up with the query code and password."""

    @router.get(
        "/follow-up/{query_code}",
        responses={
            404: {"description": "query code or password is wrong"},
            422: {"description": "no X-Follow-Up-Password header, or a query code too long"},
            429: TOO_MANY,
            503: unavailable("the progress cannot be read right now"),
        },
    )
    def reporter_follow_up(
        query_code: Annotated[str, Path(max_length=32)],
        password: Annotated[str, Header(alias="X-Follow-Up-Password", max_length=64)],
        request: Request,
    ) -> dict[str, Any]:
        """A reporter's view of their report: where it stands and the feedback given to them.

        Nothing else: no case, no handler, no other reporter. Feedback goes to real-name
        reporters only. The password travels in the ``X-Follow-Up-Password`` header, never in the URL, so
        that no proxy or access log keeps it.

        Wrong guesses are limited per query code and per client address: past the limit,
        429 with ``Retry-After`` (the lockout is recorded in the audit).
        """
        throttle = PublicThrottle.of(request)
        attempt = throttle.start_follow_up(query_code)
        report_id = intake.vault.report_for_credentials(query_code, password)
        if report_id is None:
            throttle.follow_up_failed(attempt)
            raise ApiError("query code or password is wrong", 404)
        throttle.follow_up_succeeded(attempt)
        report = intake.get_report(report_id)
        try:
            known = follow_up(str(report_id)) if follow_up is not None else None
        except Exception as error:
            if not is_database_unavailable(error):
                raise  # a fault of ours: a 500, logged with its request id
            log.warning("follow-up: the read models cannot be read (%s)", type(error).__name__)
            raise ApiError(
                "the progress cannot be read right now; try again later",
                503,
                retry_after_seconds=FOLLOW_UP_RETRY_SECONDS,
            ) from None
        case_state = CaseState(known.case_state) if known and known.case_state else None
        progress = reporter_progress(report.status, case_state)
        feedback = known.feedback if known is not None and report.real_name else []
        return {
            "ledger_number": report.ledger_number,
            "status": report.status.value,
            "status_zh": report.status.zh,
            "received_on": report.received_on.isoformat(),
            "progress": progress.value,
            "progress_zh": progress.zh,
            "feedback": [f.model_dump(mode="json") for f in feedback],
        }


def _sealed_content_routes(router: APIRouter, intake: IntakeApplication) -> None:
    """A sealed report's content: handed over to the level above, opened once by a leader."""
    _hand_over_route(router, intake)
    _open_route(router, intake)


def _hand_over_route(router: APIRouter, intake: IntakeApplication) -> None:
    @router.post(
        "/reports/{report_id}/sealed-content/hand-over",
        tags=["intake", "audit"],
        responses={
            401: {"description": "no or invalid token"},
            403: {"description": "not an operator"},
            404: {"description": "no such report"},
            409: {
                "description": "not a sealed report forwarded up, already handed over "
                "(rule sealed_content_handed_over_once), or changed meanwhile"
            },
            422: {
                "description": "invalid body (a reason is required), the recipient key is "
                "not an RSA key, or handed_over_on is in the future or before the forwarding"
            },
        },
    )
    def hand_over_sealed_content(
        report_id: UUID,
        body: HandOverSealedContent,
        request: Request,
        response: Response,
        principal: Annotated[Principal, Depends(require_api_roles(Role.OPERATOR))],
    ) -> dict[str, Any]:
        """Hand a sealed report's content to the level above it was forwarded up to.

        ``encrypted_export``: the answer's ``encrypted_export`` holds the content (with the
        report's ledger number, dates and subjects) encrypted for ``recipient_public_key``;
        only the receiver can read it. ``paper``: the answer's ``document`` is what to print
        and hand over, ``reference`` names the paper. Either way the handover is an event on
        the report (its timeline shows it, never the content), recorded before the answer,
        and the read is in the audit of sensitive reads.

        Once only (a second handover of either kind: 409, rule
        ``sealed_content_handed_over_once``), with a reason; ``handed_over_on`` neither after
        today nor before the report was forwarded up (422). The audit entry is written
        before the handover is saved: if it cannot be written, nothing is handed over.
        """
        accounts = accounts_of(request)

        def record(report: Report) -> AuditEntry:  # before the handover is saved
            return accounts.record_read(
                principal,
                SensitiveItem.SEALED_CONTENT.value,
                str(report_id),
                body.reason,
                detail=f"{report.ledger_number or ''} handed over: {body.method}",
            )

        try:
            report, handed = intake.hand_over_sealed_content(
                report_id, body, Actor(id=principal.username, role=principal.role), record
            )
        except BadRecipientKey as error:
            raise ApiError(str(error), 422) from None
        response.headers["Cache-Control"] = "no-store"
        return {"report": report_view(report).model_dump(mode="json"), **handed}


def _open_route(router: APIRouter, intake: IntakeApplication) -> None:
    @router.post(
        "/reports/{report_id}/sealed-content/open",
        tags=["intake", "audit"],
        responses={
            401: {"description": "no or invalid token"},
            403: {"description": "not a leader"},
            404: {"description": "no such report"},
            409: {"description": "not sealed, or already opened (it is opened once only)"},
            422: {"description": "no reason given"},
        },
    )
    def open_sealed_content(
        report_id: UUID,
        body: OpenSealedContent,
        request: Request,
        response: Response,
        principal: Annotated[Principal, Depends(require_api_roles(Role.LEADER))],
    ) -> dict[str, Any]:
        """A leader opens a sealed report's content: once, with a reason.

        The opening is an entry of the audit and an event on the report (who, when, why;
        never the content), written in that order before the content is returned: if the
        audit cannot be written the opening stays available; if the event then conflicts, the
        audit shows the attempt. A second opening is refused (409).
        """
        accounts = accounts_of(request)
        entries: list[AuditEntry] = []

        def record(report: Report) -> None:  # before the opening is saved
            entries.append(
                accounts.record_read(
                    principal,
                    SensitiveItem.SEALED_CONTENT.value,
                    str(report_id),
                    body.reason,
                    detail=f"{report.ledger_number or ''} opening",
                )
            )

        report, content = intake.open_sealed_content(
            report_id, body, Actor(id=principal.username, role=principal.role), record
        )
        entry = entries[0]
        response.headers["Cache-Control"] = "no-store"
        return {
            "report_id": str(report_id),
            "ledger_number": report.ledger_number,
            "content": content,
            "audit_entry_id": entry.entry_id,
        }


def report_view(report: Report) -> ReportView:
    allowed = sorted(a for a, (_, states, _, _) in TRIAGE.items() if report.status in states)
    return ReportView(
        report_id=str(report.id),
        ledger_number=report.ledger_number,
        status=report.status.value,
        status_zh=report.status.zh,
        channel=report.channel,
        categories=report.categories,
        subjects=report.subjects,
        summary=report.summary,
        sealed=report.sealed,
        received_on=report.received_on,
        reporter=report.reporter,
        case_id=str(report.case_id) if report.case_id else None,
        triage=report.triage,
        acceptance_notice=report.acceptance_notice,
        version=report.version,
        allowed_actions=allowed,
    )


def _triage_route(intake: IntakeApplication, action: str, model: type[Command]) -> Any:
    def run(
        report_id: UUID,
        body: model,  # type: ignore[valid-type]
        principal: Triager,
    ) -> ReportView:
        actor = Actor(id=principal.username, role=principal.role)
        report = intake.triage(report_id, action, body, actor)
        return report_view(report)

    run.__annotations__["body"] = model  # the request model is only known at run time
    run.__name__ = f"report_{action}"
    return run
