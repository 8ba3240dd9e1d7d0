"""The letters to real-name reporters in the demo (decision 0037): the 受理告知书 of the
latest real-name reports accepted into a case whose acceptance notice was sent, dated the
day it was sent (or accepted, if later), and the
反馈意见书 of those whose case gave feedback, dated the feedback's day, issued by the case's
handler. Idempotent: a letter already issued is given back, nothing new stored.

The demo issues them through intake's application, as their issuers would have on those
days; the pages then offer each one's addressed download to whom may see the reporter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING
from uuid import UUID

from schemas.glossary import DocumentKind, Role
from schemas.views_cases import ReporterFeedback
from services.demo.steps import OPERATOR
from services.intake.domain.letters import feedback_steps

if TYPE_CHECKING:
    from services.bootstrap import EmbeddedSystem

K = DocumentKind
# Enough to show the registers' numbers and both kinds on a few pages.
ACCEPTANCE_LETTERS = 12
FEEDBACK_LETTERS = 6


def seed_letters(system: EmbeddedSystem, report_ids: Iterable[UUID]) -> dict[str, int]:
    """Issue the demo's letters (after the stories ran): the latest ones of each kind, in
    the order of their days, so that the registers' numbers follow the calendar."""
    intake = system.intake
    system.catch_up()
    notices: list[tuple[dt.date, UUID]] = []
    feedbacks: list[tuple[dt.date, UUID, str, str, list[ReporterFeedback]]] = []
    for report_id in report_ids:
        report = intake.get_report(report_id)
        notice = report.acceptance_notice or {}
        if not report.real_name or not notice.get("met_on") or report.accepted_on is None:
            continue  # only a report accepted into a case is told it was (受理)
        notices.append((max(notice["met_on"], report.accepted_on), report_id))
        handler = system.read.cases.handler_of(str(report.case_id)) if report.case_id else None
        feedback = system.read.cases.feedback_for_report(str(report_id)) if handler else []
        if handler and feedback:
            about, given = feedback_steps(feedback)[0]
            feedbacks.append((given.given_on, report_id, about, handler, feedback))
    operator = {"id": OPERATOR, "role": Role.OPERATOR.value}
    for day, report_id in sorted(notices)[-ACCEPTANCE_LETTERS:]:
        intake.issue_letter(
            report_id, K.ACCEPTANCE_LETTER, "acceptance", operator, feedback=[], issued_on=day
        )
    for day, report_id, about, handler, feedback in sorted(feedbacks)[-FEEDBACK_LETTERS:]:
        handler_actor = {"id": handler, "role": Role.HANDLER.value}
        intake.issue_letter(
            report_id, K.FEEDBACK_LETTER, about, handler_actor, feedback=feedback, issued_on=day
        )
    return {
        "acceptance_letters": min(len(notices), ACCEPTANCE_LETTERS),
        "feedback_letters": min(len(feedbacks), FEEDBACK_LETTERS),
    }
