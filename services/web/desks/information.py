"""The remaining pages: work queues, cadre archives and integrity replies, unregistered
names, the liaison meeting's figures, the audit of sensitive reads, and administration.

They read the read side's query modules (``CaseQueries``, ``ArchiveQueries``,
``IntegrityReplies``, ``LiaisonQueries``) and the account store; who may open which page is
the API's rule for the same data (``api_cases``, ``api_archive``, ``api_liaison``,
``accounts.api``). None of them holds a reporter's identity: the read models hold none.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas import commands as c
from schemas.events import Actor, candidate_key
from schemas.glossary import (
    EVENT_LABELS,
    ApprovalKind,
    Bar,
    HandlingType,
    LiaisonDimension,
    ManagementLevel,
    MemberUnit,
    Queue,
    ReferralDirection,
    ReferralStatus,
    Role,
    SensitiveItem,
)
from schemas.views_archive import IntegrityReply, IntegrityRequest
from services.accounts.access import (
    ARCHIVE_READERS,
    AUDIT_READERS,
    CANDIDATE_ACTORS,
    CANDIDATE_READERS,
    INTEGRITY_READERS,
    LIAISON_READERS,
    QUEUE_PAGE_ROLES,
    member_unit,
)
from services.accounts.model import Principal
from services.accounts.store import (
    AccountError,
    LastAdministrator,
    UnknownUser,
    UserExists,
    WeakPassword,
    check_password,
)
from services.accounts.web import accounts_of
from services.calendar.deadlines import TimeLimits
from services.calendar.handling import HandlingEffect
from services.casework.chain import verify_log
from services.common.china_time import CHINA_TIME
from services.common.config import ConfigStore
from services.common.procedure import ProcedureError
from services.projections import charts
from services.projections.api_liaison import CHARTS, PERIODS, last_complete_quarter
from services.projections.archive_queries import CadreNotFound
from services.projections.case_queries import (
    MAX_LIMIT,
    BadCursor,
    SortKey,
    approval_key,
    case_key,
    deadline_key,
    page_of,
    report_key,
)
from services.projections.documents import DOCX_MEDIA_TYPE, docx_filename, integrity_reply_docx
from services.projections.integrity import UnknownCadres
from services.projections.liaison_queries import LiaisonQueryError, to_docx
from services.web.i18n import N_, Gettext, gettext_for, language_of
from services.web.pages import (
    Csrf,
    Form,
    PageForbidden,
    PageServices,
    _people,
    _procedure_message,
    _strings,
    page_roles,
    render,
    see_other,
    tr,
)

log = logging.getLogger(__name__)

OP, H, LI, AD = Role.OPERATOR, Role.HANDLER, Role.LIAISON, Role.ADMIN

# Who each page is for (module level: the annotations are resolved by name).
Queuer = Annotated[Principal, Depends(page_roles(*QUEUE_PAGE_ROLES))]
CadreReader = Annotated[Principal, Depends(page_roles(*ARCHIVE_READERS))]
IntegrityReader = Annotated[Principal, Depends(page_roles(*INTEGRITY_READERS))]
CandidateReader = Annotated[Principal, Depends(page_roles(*CANDIDATE_READERS))]
CandidateActor = Annotated[Principal, Depends(page_roles(*CANDIDATE_ACTORS))]
LiaisonReader = Annotated[Principal, Depends(page_roles(*LIAISON_READERS))]
AuditReader = Annotated[Principal, Depends(page_roles(*AUDIT_READERS))]
Admin = Annotated[Principal, Depends(page_roles(AD))]

# The charts on the liaison page, in this order.
LIAISON_CHARTS = ("category", "channel", "unit", "level", "outcome", "month")
REFERRALS_CHART = "referrals"
AUDIT_PAGE_SIZE = 200
QUEUE_PAGE = 50  # items of each queue on the queues page (then a "next page" link)
QUEUE_KEYS: dict[str, Callable[[Any], SortKey]] = {
    "reports": report_key,
    "cases": case_key,
    "deadlines": deadline_key,
    "approvals": approval_key,
}
IDS_SPLIT = re.compile(r"[\s,，、;；]+")
# Enums the templates label (besides those ``render`` offers).
ENUMS = {
    "Queue": Queue,
    "ApprovalKind": ApprovalKind,
    "Bar": Bar,
    "ManagementLevel": ManagementLevel,
    "HandlingType": HandlingType,
    "LiaisonDimension": LiaisonDimension,
    "ReferralStatus": ReferralStatus,
    "ReferralDirection": ReferralDirection,
    "SensitiveItem": SensitiveItem,
}

# What the configuration tables' fields mean (services/calendar/deadlines.py, handling.py).
LIMIT_LABELS = {
    "forward_up": N_("Forward a report to the level above (working days)"),
    "transfer_down_acceptance": N_("Level below accepts a transferred report (working days)"),
    "acceptance_notice": N_("Acceptance notice to a real-name reporter (working days)"),
    "inquiry_reply": N_("Reply to a talk or written inquiry (working days)"),
    "feedback_after_closure": N_("Feedback to a real-name reporter after closure (working days)"),
    "due_soon_threshold": N_("A deadline this close is due soon (working days)"),
    "publicity_defer_max_months": N_("Longest deferral of an appointment under publicity (months)"),
    "admonition_follow_up_months": N_("Admonition: bar and follow-up (months)"),
    "suspension_max_months": N_("Longest suspension for examination (months)"),
    "parked_review_months": N_("Review of a parked item (months)"),
    "referral_report_back_months": N_("A member unit reports back on a referral (months)"),
    "received_on_backdate_max_days": N_("Staff may back-date a report's receipt at most (days)"),
    "transfer_down_report_back": N_("The level below reports its result (working days)"),
    "discipline_report_back": N_(
        "The discipline commission reports its result on a transferred case (working days)"
    ),
}
EFFECT_LABELS = {
    "bars_leading_post_months": N_("No leading post (months)"),
    "bars_promotion_months": N_("No promotion (months)"),
    "bars_key_post_months": N_("No key post (months)"),
    "max_duration_months": N_("Longest duration (months)"),
    "follow_up": N_("Follow-up"),
}


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return render(request, template, status, X=ENUMS, **context)


def _date(text: str, what: str, _: Gettext) -> dt.date | None:
    """A date typed into a form (empty: none); a bad one is a ``ValueError`` naming it."""
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            _("%(what)s: not a date (%(text)s); use e.g. 2026-03-02", what=what, text=text[:20])
        ) from None


def build_router(services: PageServices) -> APIRouter:  # noqa: PLR0915 (one place for these pages)
    router = APIRouter(include_in_schema=False)
    intake = services.intake

    # -- work queues -----------------------------------------------------------------------

    @router.get("/queues", response_class=HTMLResponse)
    def queues(
        request: Request,
        user: Queuer,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = QUEUE_PAGE,
    ) -> Response:
        """The queues of the signed-in role, with their deadline clocks: ``limit`` items of
        each, and a "next page" link per queue (its cursor as ``after_<queue>``, 0027)."""
        q = services.cases
        sections: list[dict[str, Any]] = []
        params = request.query_params

        def add(queue: Queue, kind: str, items: list[Any]) -> None:
            after = params.get(f"after_{queue.value}") or None
            paged = page_of(queue.value, items, QUEUE_KEYS[kind], limit=limit, after=after)
            following = ""
            if paged.next:
                query = {k: v for k, v in params.items() if k != f"after_{queue.value}"}
                query |= {"limit": str(limit), f"after_{queue.value}": paged.next}
                following = f"/queues?{urlencode(query)}#q-{queue.value}"
            sections.append(
                {
                    "queue": queue.value,
                    "kind": kind,
                    "items": paged.items,
                    "total": paged.total,
                    "next_url": following,
                }
            )

        try:
            if user.role is OP:
                add(Queue.UNREGISTERED, "reports", q.unregistered())
                add(Queue.UNTRIAGED, "reports", q.untriaged())
                add(Queue.DUE_SOON, "deadlines", q.due_soon(cases=False))
                add(Queue.OVERDUE, "deadlines", q.overdue(cases=False))
            elif user.role is H:
                add(Queue.MINE, "cases", q.mine(user.username))
                add(Queue.DUE_SOON, "deadlines", q.due_soon(handler=user.username))
                add(Queue.OVERDUE, "deadlines", q.overdue(handler=user.username))
            else:
                add(Queue.AWAITING_APPROVAL, "approvals", q.awaiting_approval())
                add(Queue.OVERDUE, "deadlines", q.overdue())
        except BadCursor as error:
            return page(request, "error.html", 422, user=user, message=str(error), roles=[])
        return page(
            request,
            "queues.html",
            user=user,
            sections=sections,
            people=_people(request),
            today=q.today(),
        )

    # -- cadres: the register, the archive, unregistered names -------------------------------

    @router.get("/cadres", response_class=HTMLResponse)
    def cadres(request: Request, user: CadreReader, q: str = "") -> Response:
        text = q.strip()[:100]
        found = services.queries.register.search(text, limit=50) if text else []
        return page(request, "cadres.html", user=user, q=text, found=found)

    @router.get("/cadres/candidates", response_class=HTMLResponse)
    def candidates(request: Request, user: CandidateReader) -> Response:
        return candidates_page(request, user)

    def candidates_page(
        request: Request, user: Principal, status: int = 200, error: str = "", key: str = ""
    ) -> HTMLResponse:
        found = services.archives.candidates()
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

    @router.post("/cadres/candidates/identify", dependencies=[Csrf])
    def identify(request: Request, form: Form, user: CandidateActor) -> Response:
        """Confirm a candidate as a registered cadre, or merge it into another candidate:
        ``identify_subject`` on a report naming the candidate, by the candidate's own key."""
        lang = language_of(request)
        _ = gettext_for(lang)
        values = _strings(form)
        key = values.get("candidate_key", "").strip()
        cadre_id = values.get("cadre_id", "").strip() or None
        same_as = values.get("same_as_candidate", "").strip() or None
        view = next((v for v in services.archives.candidates() if v.candidate_key == key), None)
        if view is None:
            return candidates_page(
                request, user, 404, _("This name is no longer waiting to be identified."), key
            )
        if cadre_id is not None and services.queries.register.get(cadre_id) is None:
            return candidates_page(
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
            return candidates_page(
                request,
                user,
                422,
                _("Choose either a registered cadre or another name, not both and not neither."),
                key,
            )
        target = _ref_named(intake, view.report_refs, key)
        if target is None:
            return candidates_page(
                request, user, 409, _("No report names this person any more."), key
            )
        report_id, index = target
        try:
            intake.triage(
                report_id,
                "identify_subject",
                command.model_copy(update={"subject_index": index}),
                Actor(id=user.username, role=user.role),
            )
        except ProcedureError as error:
            return candidates_page(request, user, 409, _procedure_message(error, lang), key)
        done = "confirmed" if cadre_id else "merged"
        return see_other(f"/cadres/candidates?done={done}")

    @router.get("/cadres/{cadre_id}", response_class=HTMLResponse)
    def cadre_archive(request: Request, cadre_id: str, user: CadreReader) -> Response:
        """The supervision archive (领导干部监督档案) of one registered cadre."""
        try:
            archive = services.archives.archive(cadre_id[:64])
        except CadreNotFound:
            raise StarletteHTTPException(404, "no such cadre") from None
        return page(request, "cadre.html", user=user, archive=archive, people=_people(request))

    # -- integrity opinion replies ------------------------------------------------------------

    def integrity_request(request: Request, _: Gettext) -> tuple[IntegrityRequest | None, str]:
        """The request the query string describes (None without cadres), or the problem."""
        params = request.query_params
        # Ticked boxes (cadre_ids, repeated), a typed list (ids); either may hold "a,b".
        typed = [*params.getlist("cadre_ids"), params.get("ids", "")]
        ids = list(dict.fromkeys(i for text in typed for i in IDS_SPLIT.split(text) if i))
        if not ids:
            return None, ""
        try:
            as_of = _date(params.get("as_of", ""), _("Date of the reply"), _)
        except ValueError as error:
            return None, str(error)
        try:
            return IntegrityRequest(
                cadre_ids=ids, as_of=as_of, purpose=params.get("purpose", "")
            ), ""
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
            )
            return None, _("The request cannot be used: %(problems)s", problems=problems)

    def integrity_reply(
        request: Request, _: Gettext
    ) -> tuple[IntegrityRequest | None, IntegrityReply | None, str]:
        wanted, error = integrity_request(request, _)
        if wanted is None:
            return None, None, error
        try:
            return wanted, services.replies.reply(wanted), ""
        except UnknownCadres as unknown:
            names = "、".join(unknown.cadre_ids)
            return wanted, None, _("Not in the cadre register: %(ids)s", ids=names)

    @router.get("/integrity", response_class=HTMLResponse)
    def integrity(request: Request, user: IntegrityReader, q: str = "") -> Response:
        """Pick cadres (search the register), a date and a purpose; the reply per cadre."""
        _ = tr(request)
        wanted, reply, error = integrity_reply(request, _)
        text = q.strip()[:100]
        found = services.queries.register.search(text, limit=50) if text else []
        chosen = list(wanted.cadre_ids) if wanted else []
        chosen += [
            i
            for text in request.query_params.getlist("cadre_ids")
            for i in IDS_SPLIT.split(text)
            if i and i not in chosen
        ]
        query = ""
        if wanted is not None and reply is not None:
            query = urlencode(
                {
                    "ids": ",".join(wanted.cadre_ids),
                    "as_of": reply.as_of.isoformat(),
                    "purpose": wanted.purpose,
                }
            )
        return page(
            request,
            "integrity.html",
            422 if error else 200,
            user=user,
            q=text,
            found=found,
            chosen=chosen,
            chosen_cadres=dict.fromkeys(chosen) | services.queries.register.get_many(chosen),
            as_of=request.query_params.get("as_of", ""),
            purpose=request.query_params.get("purpose", ""),
            reply=reply,
            error=error,
            docx_query=query,
        )

    @router.get("/integrity.docx")
    def integrity_docx(request: Request, user: IntegrityReader) -> Response:
        """The same reply as a Word document (导出Word)."""
        _ = tr(request)
        _wanted, reply, error = integrity_reply(request, _)
        if reply is None:
            return page(
                request,
                "error.html",
                422,
                user=user,
                message=error or _("Choose at least one cadre."),
                roles=[],
            )
        return Response(
            integrity_reply_docx(reply),
            media_type=DOCX_MEDIA_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="{docx_filename(reply)}"',
                "Cache-Control": "no-store",
            },
        )

    # -- the liaison meeting ------------------------------------------------------------------

    def date_range(request: Request, _: Gettext) -> tuple[dt.date, dt.date]:
        params = request.query_params
        end = _date(params.get("to", ""), _("To"), _) or services.liaison.today()
        start = _date(params.get("from", ""), _("From"), _) or dt.date(end.year, 1, 1)
        return start, end

    @router.get("/liaison", response_class=HTMLResponse)
    def liaison(request: Request, user: LiaisonReader) -> Response:
        """The shared figures with their charts, for a date range."""
        _ = tr(request)
        error, figures = "", None
        first, last = services.liaison.today().replace(month=1, day=1), services.liaison.today()
        try:
            first, last = date_range(request, _)
            figures = services.liaison.statistics(first, last)
        except (ValueError, LiaisonQueryError) as problem:
            error = str(problem)
        span = urlencode({"from": first.isoformat(), "to": last.isoformat()})
        return page(
            request,
            "liaison.html",
            422 if error else 200,
            user=user,
            figures=figures,
            first=first,
            last=last,
            error=error,
            charts=LIAISON_CHARTS if figures else (),
            span=span,
        )

    @router.get("/liaison/charts/{name}.svg")
    def liaison_chart(request: Request, name: str, user: LiaisonReader) -> Response:
        _ = tr(request)
        if name == REFERRALS_CHART:
            counts = services.liaison.referrals(_unit_in_view(user, None, _)).by_status
            svg = charts.bar_chart("转办件办理状态", [(r.label, r.count) for r in counts])
        elif name in CHARTS:
            try:
                first, last = date_range(request, _)
                (counted,) = services.liaison.statistics(first, last, [CHARTS[name]]).dimensions
            except (ValueError, LiaisonQueryError):
                raise StarletteHTTPException(404, "no such chart") from None
            dimension = CHARTS[name]
            title = f"举报件数·{dimension.zh}（{first.isoformat()}至{last.isoformat()}）"
            points = [(r.label, r.count) for r in counted.rows]
            draw = charts.column_chart if dimension in PERIODS else charts.bar_chart
            svg = draw(title, points)
        else:
            raise StarletteHTTPException(404, "no such chart")
        return Response(
            svg, media_type="image/svg+xml; charset=utf-8", headers={"Cache-Control": "no-store"}
        )

    @router.get("/liaison/referrals", response_class=HTMLResponse)
    def liaison_referrals(
        request: Request,
        user: LiaisonReader,
        unit: str = "",
        status: str = "",
        direction: str = "",
    ) -> Response:
        """Referrals to and from a member unit: a liaison member's own unit only."""
        _ = tr(request)
        chosen_status = ReferralStatus(status) if status in _values(ReferralStatus) else None
        chosen_direction = (
            ReferralDirection(direction) if direction in _values(ReferralDirection) else None
        )
        in_view = _unit_in_view(user, unit or None, _)
        found = services.liaison.referrals(
            in_view, status=chosen_status, direction=chosen_direction
        )
        return page(
            request,
            "liaison_referrals.html",
            user=user,
            found=found,
            unit=in_view.value if in_view else "",
            status_filter=status,
            direction=direction,
            units=list(MemberUnit),
            own_unit_only=user.role is LI,
        )

    def quarter_asked(request: Request, _: Gettext) -> tuple[int, int]:
        params = request.query_params
        year, quarter = params.get("year", "").strip(), params.get("quarter", "").strip()
        if not year and not quarter:
            return last_complete_quarter(services.liaison.today())
        if not (year.isdigit() and quarter in ("1", "2", "3", "4")):
            raise LiaisonQueryError(
                _("Give a year (e.g. 2026) and a quarter (1 to 4), or neither.")
            )
        return int(year), int(quarter)

    @router.get("/liaison/quarterly", response_class=HTMLResponse)
    def liaison_quarterly(request: Request, user: LiaisonReader) -> Response:
        """The quarterly report with last quarter's figures beside it."""
        _ = tr(request)
        report, error = None, ""
        try:
            year, quarter = quarter_asked(request, _)
            report = services.liaison.quarterly_report(year, quarter)
        except LiaisonQueryError as problem:
            error = str(problem)
            year, quarter = last_complete_quarter(services.liaison.today())
        return page(
            request,
            "liaison_quarterly.html",
            422 if error else 200,
            user=user,
            report=report,
            error=error,
            year=year,
            quarter=quarter,
        )

    @router.get("/liaison/quarterly.docx")
    def liaison_quarterly_docx(request: Request, user: LiaisonReader) -> Response:
        _ = tr(request)
        try:
            report = services.liaison.quarterly_report(*quarter_asked(request, _))
        except LiaisonQueryError as problem:
            return page(request, "error.html", 422, user=user, message=str(problem), roles=[])
        name = f"liaison-report-{report.period}.docx"
        return Response(
            to_docx(report),
            media_type=DOCX_MEDIA_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    # -- the audit -------------------------------------------------------------------------

    def audit_page(
        request: Request, user: Principal, verified: Mapping[str, Any] | None = None
    ) -> HTMLResponse:
        _ = tr(request)
        params = request.query_params
        who = params.get("user", "").strip()[:128]
        item_kind = params.get("item_kind", "").strip()
        item_kind = item_kind if item_kind in _values(SensitiveItem) else ""
        error, entries = "", []
        try:
            since = _date(params.get("since", ""), _("From"), _)
            until = _date(params.get("until", ""), _("To"), _)
            entries = accounts_of(request).audit_entries(
                user=who or None,
                item_kind=item_kind or None,
                since=_beijing(since),
                until=_beijing(until + dt.timedelta(days=1)) if until else None,
                limit=AUDIT_PAGE_SIZE,
            )
        except ValueError as problem:
            error = str(problem)
        return page(
            request,
            "audit.html",
            422 if error else 200,
            user=user,
            entries=entries,
            people=_people(request),
            filters={
                "user": who,
                "since": params.get("since", ""),
                "until": params.get("until", ""),
                "item_kind": item_kind,
            },
            error=error,
            verified=verified,
            limit=AUDIT_PAGE_SIZE,
        )

    @router.get("/audit", response_class=HTMLResponse)
    def audit(request: Request, user: AuditReader) -> Response:
        """Who read which sensitive item, when and why (filters: user, dates, item)."""
        return audit_page(request, user)

    @router.get("/audit/changes", response_class=HTMLResponse)
    def audit_changes(request: Request, user: AuditReader) -> Response:
        """Who changed what: every step on the record (filters: person, step, dates)."""
        _ = tr(request)
        params = request.query_params
        who = params.get("actor", "").strip()[:128]
        step = params.get("step", "").strip()
        step = step if step in EVENT_LABELS else ""
        error, changes = "", []
        try:
            changes = services.queries.changes(
                actor=who or None,
                step=step or None,
                since=_date(params.get("since", ""), _("From"), _),
                until=_date(params.get("until", ""), _("To"), _),
                limit=AUDIT_PAGE_SIZE,
            )
        except ValueError as problem:
            error = str(problem)
        return page(
            request,
            "audit_changes.html",
            422 if error else 200,
            user=user,
            changes=changes,
            people=_people(request),
            steps=EVENT_LABELS,
            config_changes=(
                services.queries.config.changes(limit=50)
                if isinstance(services.queries.config, ConfigStore)
                else []
            ),
            filters={
                "actor": who,
                "step": step,
                "since": params.get("since", ""),
                "until": params.get("until", ""),
            },
            error=error,
            limit=AUDIT_PAGE_SIZE,
        )

    @router.post("/audit/verify", dependencies=[Csrf])
    def verify(request: Request, user: AuditReader) -> Response:
        """Check every case's hash chain (``jiandu verify``) and show the result."""
        checked, broken = verify_log(services.casework)
        log.info(
            "record verified from the audit page by %s: %d cases, %d broken",
            user.username,
            checked,
            len(broken),
        )
        return audit_page(
            request,
            user,
            {
                "checked": checked,
                "broken": [
                    {
                        "case_id": str(b.aggregate_id),
                        "version": b.version,
                        "topic": b.topic,
                        "reason": b.reason,
                    }
                    for b in broken
                ],
            },
        )

    # -- administration --------------------------------------------------------------------

    def users_page(
        request: Request,
        user: Principal,
        status: int = 200,
        error: str = "",
        values: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        return page(
            request,
            "admin_users.html",
            status,
            user=user,
            accounts=accounts_of(request).list_users(),
            roles=list(Role),
            error=error,
            values=values or {},
            done=request.query_params.get("done", ""),
        )

    @router.get("/admin/users", response_class=HTMLResponse)
    def admin_users(request: Request, user: Admin) -> Response:
        return users_page(request, user)

    @router.post("/admin/users", dependencies=[Csrf])
    def admin_create_user(request: Request, form: Form, user: Admin) -> Response:
        _ = tr(request)
        values = _strings(form)
        values.pop("csrf_token", None)
        kept = {k: v for k, v in values.items() if k != "password"}
        role = values.get("role", "")
        if role not in _values(Role):
            return users_page(request, user, 422, _("Choose a role."), kept)
        try:
            created = accounts_of(request).create_user(
                values.get("username", ""),
                values.get("password", ""),
                role,
                values.get("display_name", "").strip() or values.get("username", ""),
                unit=values.get("unit", "").strip() or None,
                section=values.get("section", "").strip() or None,
            )
        except AccountError as error:
            return users_page(request, user, 422, _account_message(error, _), kept)
        log.info("account %s (%s) created by %s", created.username, role, user.username)
        return see_other("/admin/users?done=created")

    @router.post("/admin/users/{username}/{change}", dependencies=[Csrf])
    def admin_change_user(
        request: Request, username: str, change: str, form: Form, user: Admin
    ) -> Response:
        """Change the role, (de)activate, or set a new password."""
        _ = tr(request)
        store = accounts_of(request)
        values = _strings(form)
        try:
            account = store.get_user(username)
            if change == "role":
                role = values.get("role", "")
                if role not in _values(Role):
                    return users_page(request, user, 422, _("Choose a role."))
                store.set_role(account.username, role)
            elif change == "active":
                store.set_active(account.username, values.get("active") == "1")
            elif change == "password":
                password = values.get("password", "")
                check_password(password, account.username)
                store.set_password(account.username, password)
            else:
                raise StarletteHTTPException(404, f"no account change {change!r}")
        except UnknownUser:
            raise StarletteHTTPException(404, "no such account") from None
        except AccountError as error:
            return users_page(request, user, 422, _account_message(error, _))
        log.info("account %s: %s changed by %s", account.username, change, user.username)
        return see_other(f"/admin/users?done={change}")

    def config_page(
        request: Request,
        user: Principal,
        status: int = 200,
        errors: Mapping[str, str] | None = None,
        values: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        config = services.queries.config
        return page(
            request,
            "admin_config.html",
            status,
            user=user,
            limits=config.limits().model_dump(),
            limit_fields=list(TimeLimits.model_fields),
            effects={k.value: v.model_dump() for k, v in config.effects().items()},
            effect_fields=[f for f in HandlingEffect.model_fields if f != "rule_zh"],
            limit_labels=LIMIT_LABELS,
            effect_labels=EFFECT_LABELS,
            errors=errors or {},
            values=values or {},
            editable=isinstance(config, ConfigStore),
            done=request.query_params.get("done", ""),
        )

    @router.get("/admin/config", response_class=HTMLResponse)
    def admin_config(request: Request, user: Admin) -> Response:
        return config_page(request, user)

    @router.post("/admin/config/{table}", dependencies=[Csrf])
    def admin_config_save(request: Request, table: str, form: Form, user: Admin) -> Response:
        """Replace a table (validated first: nothing is stored if any field is wrong)."""
        _ = tr(request)
        config = services.queries.config
        if table not in ("time_limits", "handling_effects"):
            raise StarletteHTTPException(404, f"no configuration table {table!r}")
        if not isinstance(config, ConfigStore):
            return config_page(request, user, 409, {"": _("This configuration is read-only.")})
        values = _strings(form)
        content = _limits_from(values) if table == "time_limits" else _effects_from(form)
        try:
            config.set_table(table, content, changed_by=user.username)
        except ValidationError as error:
            errors = {_field_key(table, e["loc"]): _config_problem(e, _) for e in error.errors()}
            return config_page(request, user, 422, errors, values)
        log.info("configuration table %s replaced by %s", table, user.username)
        return see_other(f"/admin/config?done={table}")

    return router


# -- helpers --------------------------------------------------------------------------------------


def _values(enum: Any) -> set[str]:
    return {member.value for member in enum}


def _beijing(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time(), CHINA_TIME) if day else None


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


def _unit_in_view(user: Principal, asked: str | None, _: Gettext) -> MemberUnit | None:
    """Whose referrals the reader sees: a liaison member their own unit's only."""
    wanted = member_unit(asked) if asked else None
    if user.role is not LI:
        return wanted
    own = member_unit(user.unit)
    if own is None:
        raise PageForbidden(
            (),
            user,
            _(
                "Your account names no member unit of the liaison meeting; "
                "ask an administrator to set your unit."
            ),
        )
    return own


def _account_message(error: AccountError, _: Gettext) -> str:
    if isinstance(error, UserExists):
        return _("An account with this username already exists.")
    if isinstance(error, WeakPassword):
        return _(
            "The password is too weak: at least 12 characters, 4 different characters, "
            "and not containing the username."
        )
    if isinstance(error, LastAdministrator):
        return _("At least one active administrator must remain.")
    return _("The account data cannot be used: %(problem)s", problem=str(error))


def _limits_from(values: Mapping[str, str]) -> dict[str, Any]:
    return {name: values.get(name, "").strip() for name in TimeLimits.model_fields}


def _effects_from(form: FormData) -> dict[str, Any]:
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    table: dict[str, Any] = {}
    for kind in HandlingType:
        row: dict[str, Any] = {}
        for name in HandlingEffect.model_fields:
            key = f"{kind.value}.{name}"
            if name == "follow_up":
                row[name] = values.get(key) == "1"
            elif key in values:
                row[name] = values[key].strip()
        if any(f"{kind.value}." in k for k in values):
            table[kind.value] = row
    return table


def _field_key(table: str, loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if table == "handling_effects" and len(parts) >= 2:
        return f"{parts[0]}.{parts[-1]}"
    return parts[0] if parts else ""


def _config_problem(error: Mapping[str, Any], _: Gettext) -> str:
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind in ("int_parsing", "int_type", "missing"):
        return _("Enter a whole number.")
    if kind == "greater_than":
        return _("Must be more than %(limit)s.", limit=context.get("gt"))
    if kind == "greater_than_equal":
        return _("Must be at least %(limit)s.", limit=context.get("ge"))
    if kind == "less_than_equal":
        return _("Must be at most %(limit)s.", limit=context.get("le"))
    return str(error.get("msg", kind))
