"""The audit desk: who read which sensitive item (``accounts.api``'s rule), who changed
what, and the check of every case's hash chain."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from schemas.glossary import EVENT_LABELS, SensitiveItem
from services.accounts.model import Principal
from services.accounts.web import accounts_of
from services.casework.chain import chained_kind, verify_log
from services.common.china_time import CHINA_TIME
from services.common.config import ConfigStore
from services.web.shell import (
    AuditReader,
    Csrf,
    Desk,
    PageServices,
    enum_values,
    page,
    people,
    route,
    tr,
    typed_date,
)

log = logging.getLogger(__name__)

AUDIT_PAGE_SIZE = 200


# The page of each kind of chained record.
PAGES = {"case": "cases", "selection": "selections", "project": "projects"}


class AuditDesk(Desk):
    """Reads, changes and the record's check."""

    needs = frozenset({"case_log"})

    # -- the audit -------------------------------------------------------------------------

    def audit_page(
        self, request: Request, user: Principal, verified: Mapping[str, Any] | None = None
    ) -> HTMLResponse:
        _ = tr(request)
        params = request.query_params
        who = params.get("user", "").strip()[:128]
        item_kind = params.get("item_kind", "").strip()
        item_kind = item_kind if item_kind in enum_values(SensitiveItem) else ""
        error, entries = "", []
        try:
            since = typed_date(params.get("since", ""), _("From"), _)
            until = typed_date(params.get("until", ""), _("To"), _)
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
            people=people(request),
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

    @route.get("/audit", response_class=HTMLResponse)
    def audit(self, request: Request, user: AuditReader) -> Response:
        """Who read which sensitive item, when and why (filters: user, dates, item)."""
        return self.audit_page(request, user)

    @route.get("/audit/changes", response_class=HTMLResponse)
    def audit_changes(self, request: Request, user: AuditReader) -> Response:
        """Who changed what: every step on the record (filters: person, step, dates)."""
        _ = tr(request)
        params = request.query_params
        who = params.get("actor", "").strip()[:128]
        step = params.get("step", "").strip()
        step = step if step in EVENT_LABELS else ""
        error, changes = "", []
        try:
            changes = self.services.queries.changes(
                actor=who or None,
                step=step or None,
                since=typed_date(params.get("since", ""), _("From"), _),
                until=typed_date(params.get("until", ""), _("To"), _),
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
            people=people(request),
            steps=EVENT_LABELS,
            config_changes=(
                self.services.queries.config.changes(limit=50)
                if isinstance(self.services.queries.config, ConfigStore)
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

    @route.post("/audit/verify", dependencies=[Csrf])
    def verify(self, request: Request, user: AuditReader) -> Response:
        """Check every hash chain, each case's, selection's and supervision project's
        (``jiandu verify``), and show the result."""
        checked, broken = verify_log(self.case_log)
        log.info(
            "record verified from the audit page by %s: %d records, %d broken",
            user.username,
            checked,
            len(broken),
        )
        return self.audit_page(
            request,
            user,
            {
                "checked": checked,
                "broken": [
                    {
                        "case_id": str(b.aggregate_id),
                        "href": f"/{PAGES[chained_kind(b.topic)]}/{b.aggregate_id}",
                        "version": b.version,
                        "topic": b.topic,
                        "reason": b.reason,
                    }
                    for b in broken
                ],
            },
        )


def build_router(services: PageServices) -> APIRouter:
    return AuditDesk(services).router()


def _beijing(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time(), CHINA_TIME) if day else None
