"""Integrity opinion replies (廉政意见回复): may these cadres be promoted on a given day?

Computed from each cadre's supervision archive (``archive/queries.py``), for the day asked
about (``as_of``):

- **open items**: reports not yet settled and cases not closed, with their stage (a case
  transferred to the discipline commission is open: its outcome is not known here);
- **proven findings** (属实/部分属实) with the handling decided for this cadre, each effect
  with its end date, the rule recorded with the decision (``rule_zh``), and whether it still
  runs on ``as_of`` (and for how many more months) or has expired;
- **cleared items** (澄清正名): shown as cleared, never a bar;
- other settled items (untrue, unproven, closed without action): listed, not a bar;
- what a selection's record says of the cadre (decision 0034): a voided appointment
  (listed; by itself no bar) and a responsibility taken for a step of a selection, whose
  handling bars like an organizational handling for the months recorded with it;
- the opinion: what stands in the way; else, when items are on file, each of them and
  ``NO_OBSTACLE_WORDING``; and the standard clean wording (``CLEAN_WORDING``: no clues
  received) only for a cadre about whom nothing was ever reported.

A bar runs from the decision day up to, not including, its end date (decision day plus the
months recorded with the decision).

As of means as of: a reply dated in the past counts only what had happened by ``as_of``
(business dates): reports received, cases opened, conclusions approved, handlings decided,
follow-ups, clearings and closures after it are left out, and a case is in the stage it was
in on that day (``case_as_of``). Each cadre's items hold only what concerns that cadre
(their own verdicts, handlings and clearings: ``archive/views.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from schemas.glossary import (
    CLEAN_WORDING,
    INTEGRITY_REPLY_TITLE,
    NO_OBSTACLE_WORDING,
    AdmonitionOutcome,
    CaseKind,
    CaseState,
    HandlingType,
    IntegrityItem,
    ReportStatus,
    SettlementPath,
    Verdict,
)
from schemas.views_archive import (
    ArchiveCase,
    ArchiveReport,
    CadreArchive,
    CadreIntegrity,
    HandlingView,
    IntegrityItemView,
    IntegrityReply,
    IntegrityRequest,
    ReceiverResultView,
)
from services.common.china_time import china_today
from services.projections.archive.integrity_items import (
    about_text,
    bar_text,
    bar_view,
    case_as_of,
    case_item,
    handling_views,
    report_as_of,
    report_item,
    selection_item,
    zh_date,
)
from services.projections.archive.queries import ArchiveQueries


class UnknownCadres(LookupError):
    """Some requested cadre ids are not in the register; no reply was produced."""

    def __init__(self, cadre_ids: list[str]) -> None:
        self.cadre_ids = cadre_ids
        super().__init__(
            f"not in the cadre register: {', '.join(cadre_ids)}; no reply was produced "
            "(look cadres up with GET /api/v1/cadres?q=...)"
        )


# about the cadre as the accuser (only the accuser's archive holds those).
REPLY_KINDS = (None, CaseKind.REPORT.value, CaseKind.FALSE_ACCUSATION.value)
FALSE_ACCUSATION_ZH = "涉嫌诬告陷害"


def integrity_of(archive: CadreArchive, as_of: dt.date) -> CadreIntegrity:
    """The reply about one cadre, from their archive, on ``as_of``."""
    items = _items_of(archive, as_of)
    items.sort(key=lambda i: (i.received_on or dt.date.min, i.ledger_number or ""))
    return _reply_of(archive, items)


def _items_of(archive: CadreArchive, as_of: dt.date) -> list[IntegrityItemView]:
    """The cadre's reports and cases as they stood on ``as_of``, one item each, plus the
    steps still to be taken after their handlings."""
    cases: dict[str, ArchiveCase] = {}
    whole = {found.case_id: found for found in archive.cases}  # every step, for the joins
    for found in archive.cases:
        then = case_as_of(found, as_of) if found.kind in REPLY_KINDS else None
        if then is not None:
            cases[then.case_id] = then
    # A case the cadre's own reports are in counts from the first of them received and
    # joined to it by ``as_of`` (not from the case's first report, which may name others).
    own = {r.case_id for r in archive.items if r.case_id}
    categories: dict[str, dict[str, str]] = {
        c.case_id: {"false_accusation": FALSE_ACCUSATION_ZH}
        for c in cases.values()
        if c.kind == CaseKind.FALSE_ACCUSATION.value
    }
    first_own: dict[str, dt.date] = {}
    items: list[IntegrityItemView] = []
    for received in archive.items:
        report = report_as_of(received, as_of)
        if report is None:
            continue
        case = cases.get(report.case_id or "")
        if case is not None and _in_case_by(whole[case.case_id], report, as_of):
            for c, zh in zip(report.categories, report.categories_zh, strict=True):
                categories.setdefault(case.case_id, {})[c] = zh
            if report.received_on is not None:
                day = first_own.get(case.case_id, report.received_on)
                first_own[case.case_id] = min(day, report.received_on)
            continue
        item = _settling_report_item(report, as_of) or report_item(report)
        if item is not None:
            items.append(item)
    for case in cases.values():
        if case.case_id in own and case.case_id not in categories:
            continue  # none of the cadre's own reports was in it yet
        cats = categories.get(case.case_id, {})
        items.append(
            _transferred_case_item(case, list(cats), list(cats.values()), as_of)
            or case_item(case, list(cats), list(cats.values()), as_of, first_own.get(case.case_id))
        )
        items += _pending_steps(case, list(cats.values()), as_of)
    # What selections' records say of the cadre, dated by ``as_of``.
    items += [selection_item(e, as_of) for e in archive.selections if e.on <= as_of]
    return items


def _reply_of(archive: CadreArchive, items: list[IntegrityItemView]) -> CadreIntegrity:
    by_status: dict[str, list[IntegrityItemView]] = {s.value: [] for s in IntegrityItem}
    for item in items:
        by_status[item.status].append(item)
    bars = [b for i in items for h in i.handlings for b in h.bars]
    stands = any(i.stands_in_the_way for i in items)
    if stands:
        opinion = " ".join(
            i.text_zh for i in items if i.stands_in_the_way or i.handlings or i.selection_id
        )
    elif items:  # something was reported, and none of it stands: say what, then the verdict
        opinion = " ".join(i.text_zh for i in items) + NO_OBSTACLE_WORDING + "。"
    else:
        opinion = CLEAN_WORDING
    return CadreIntegrity(
        cadre=archive.cadre,
        open_items=by_status[IntegrityItem.OPEN.value],
        proven=by_status[IntegrityItem.PROVEN.value],
        cleared=by_status[IntegrityItem.CLEARED.value],
        other=[
            i
            for s in (IntegrityItem.UNTRUE, IntegrityItem.UNPROVEN, IntegrityItem.CLOSED)
            for i in by_status[s.value]
        ],
        running_bars=[b for b in bars if b.running],
        expired_bars=[b for b in bars if not b.running],
        stands_in_the_way=stands,
        clean=not stands,
        opinion_zh=opinion,
    )


def _in_case_by(case: ArchiveCase, report: ArchiveReport, as_of: dt.date) -> bool:
    """The report was in its case by ``as_of``: joined to it (ReportJoined, dated), or the
    report the case was opened on (CaseOpened, dated). ``case``: all its steps."""
    joined = [
        e.on
        for e in case.entries
        if e.kind == "ReportJoined" and e.detail.get("report_id") == report.report_id
    ]
    if joined:
        return joined[0] <= as_of
    opened = [e.on for e in case.entries if e.kind == "CaseOpened"]
    return not opened or opened[0] <= as_of


# -- steps still to be taken after a handling ---------------------------------------------------

ESCALATION_PENDING = "escalation_pending"
FOLLOW_UP_OVERDUE = "admonition_follow_up_overdue"


def _pending_steps(
    case: ArchiveCase, cats_zh: list[str], as_of: dt.date
) -> list[IntegrityItemView]:
    """Open items after a handling of this cadre, as of ``as_of``: an admonition whose
    follow-up escalated it (拒不改正) while the heavier handling is not yet decided, and an
    admonition follow-up (限期改正) past its due day with no outcome recorded. Each stands in
    the way, with the day it was due (if one was set)."""
    escalated = {
        int(e.detail["handling_id"]): e
        for e in case.entries
        if e.kind == "AdmonitionFollowedUp"
        and e.detail.get("outcome") == AdmonitionOutcome.ESCALATED.value
    }
    decided = {
        int(e.detail["escalation_of"])
        for e in case.entries
        if e.kind == "HandlingDecided" and e.detail.get("escalation_of") is not None
    }
    ledger = case.ledger_number or "未编号"
    items = []
    for h in handling_views(case, as_of):
        follow = escalated.get(h.handling_id)
        if follow is not None and h.handling_id not in decided:
            to = follow.detail.get("escalate_to")
            to_zh = HandlingType(to).zh if to else "更重的处理"
            text = (
                f"{ledger}号件：该同志诫勉限期改正情况为{h.admonition_outcome_zh}"
                f"（{zh_date(follow.on)}），拟加重处理为{to_zh}，尚未作出处理决定。"
            )
            stage, stage_zh, due = ESCALATION_PENDING, f"待作出{to_zh}处理决定", None
        elif (
            h.admonition_outcome is None
            and h.admonition_follow_up_due is not None
            and as_of > h.admonition_follow_up_due
        ):
            due = h.admonition_follow_up_due
            text = (
                f"{ledger}号件：该同志于{zh_date(h.decided_on)}受到{h.handling_zh}处理，"
                f"应于{zh_date(due)}前报告改正情况，已逾期，尚未记录改正情况。"
            )
            stage, stage_zh = FOLLOW_UP_OVERDUE, "诫勉限期改正逾期未报告"
        else:
            continue
        items.append(
            IntegrityItemView(
                status=IntegrityItem.OPEN.value,
                status_zh=IntegrityItem.OPEN.zh,
                report_id=None,
                case_id=case.case_id,
                ledger_number=case.ledger_number,
                received_on=case.received_on,
                categories=[],
                categories_zh=cats_zh,
                stage=stage,
                stage_zh=stage_zh,
                conclusion=None,
                handlings=[],  # the handling is listed (with its bars) under its case
                clearing=None,
                stands_in_the_way=True,
                text_zh=text,
                due_on=due,
            )
        )
    return items


# -- items that left the office: the receiver's result, or still awaited ---------------------

AWAITING_PATHS = {
    ReportStatus.TRANSFERRED_DOWN.value: SettlementPath.TRANSFER_DOWN,
    ReportStatus.TRANSFER_ACKNOWLEDGED.value: SettlementPath.TRANSFER_DOWN,
    ReportStatus.REFERRED_OUT.value: SettlementPath.REFERRAL,
}
VERDICT_ITEMS = {
    Verdict.TRUE.value: IntegrityItem.PROVEN,
    Verdict.PARTLY_TRUE.value: IntegrityItem.PROVEN,
    Verdict.UNTRUE.value: IntegrityItem.UNTRUE,
    Verdict.UNPROVEN.value: IntegrityItem.UNPROVEN,
}


def _result_handlings(
    result: ReceiverResultView, subject_id: str, ledger: str | None, as_of: dt.date
) -> list[HandlingView]:
    views = []
    for o in result.outcomes:
        if not (o.handling or o.sanction):
            continue
        handling_zh = "；".join(x for x in (o.handling_zh, o.sanction_zh) if x)
        views.append(
            HandlingView(
                case_id=subject_id,
                ledger_number=ledger,
                handling_id=0,  # decided by the receiver, not by this office
                handling=o.handling or f"sanction:{(o.sanction or {}).get('kind', '')}",
                handling_zh=handling_zh,
                decided_on=o.decided_on or result.reported_on,
                rule_zh=o.rule_zh,
                bars=[bar_view(p, as_of) for p in o.effects],
            )
        )
    return views


def _settled_item(
    base: IntegrityItemView,
    result: ReceiverResultView | None,
    path: SettlementPath,
    due: dt.date | None,
    as_of: dt.date,
) -> IntegrityItemView:
    """The item as its receiver's result settles it for this cadre on ``as_of``: a proven
    outcome with a handling bars for the handling's effect period; an untrue or unproven one
    stands in nobody's way; a result not yet reported (or reported after ``as_of``) leaves the
    item open with the day it is due."""
    subject = base.case_id or base.report_id or ""
    about = about_text(base)
    if result is None or result.reported_on > as_of:
        when = f"，应于{zh_date(due)}前反馈办理结果" if due else ""
        late = "（已逾期）" if due and as_of > due else ""
        text = f"{about}已{path.zh}，尚未反馈办理结果{when}{late}。"
        return base.model_copy(
            update={
                "status": IntegrityItem.OPEN.value,
                "status_zh": IntegrityItem.OPEN.zh,
                "stands_in_the_way": True,
                "report_back_due": due,
                "text_zh": text,
            }
        )
    handlings = _result_handlings(result, subject, base.ledger_number, as_of)
    verdicts = [o.verdict for o in result.outcomes]
    strongest = next(
        (v for v in (Verdict.TRUE, Verdict.PARTLY_TRUE, Verdict.UNPROVEN, Verdict.UNTRUE)
         if v.value in verdicts),
        None,
    )  # fmt: skip
    status = VERDICT_ITEMS[strongest.value] if strongest else IntegrityItem.CLOSED
    stands = any(b.running for h in handlings for b in h.bars)
    parts = [
        f"{about}已{path.zh}（{result.receiver}），其于{zh_date(result.reported_on)}"
        f"反馈办理结果（{result.document_number}）"
    ]
    if strongest is not None:
        parts.append(f"经核查{strongest.zh}")
    for h in handlings:
        text = f"该同志受到{h.handling_zh}"
        if h.rule_zh:
            text += f"（{h.rule_zh}）"
        if h.bars:
            text += "，" + "；".join(bar_text(b) for b in h.bars)
        parts.append(text)
    return base.model_copy(
        update={
            "status": status.value,
            "status_zh": status.zh,
            "handlings": handlings,
            "stands_in_the_way": stands,
            "receiver_result": result,
            "report_back_due": due,
            "text_zh": "，".join(parts) + "。",
        }
    )


def _settling_report_item(report: ArchiveReport, as_of: dt.date) -> IntegrityItemView | None:
    """A report transferred down or referred out, with a structured result or a report-back
    deadline; None for every other report (and for old free-text referral results)."""
    if report.sealed:
        return None
    result = report.receiver_result
    if result is not None:
        path = SettlementPath(result.path)
    elif report.status in AWAITING_PATHS:
        path = AWAITING_PATHS[report.status]
    else:
        return None
    base = report_item(report)
    assert base is not None
    return _settled_item(base, result, path, report.report_back_due, as_of)


def _transferred_case_item(
    case: ArchiveCase, categories: list[str], cats_zh: list[str], as_of: dt.date
) -> IntegrityItemView | None:
    """A case transferred to the discipline commission: open until its result is recorded."""
    if case.state != CaseState.TRANSFERRED.value:
        return None
    base = case_item(case, categories, cats_zh, as_of)
    return _settled_item(
        base, case.receiver_result, SettlementPath.DISCIPLINE_TRANSFER, case.report_back_due, as_of
    )


class IntegrityReplies:
    def __init__(
        self, archives: ArchiveQueries, *, today: Callable[[], dt.date] = china_today
    ) -> None:
        self.archives = archives
        self.today = today

    def reply(self, request: IntegrityRequest) -> IntegrityReply:
        """One reply for every requested cadre; any unknown id: nothing is produced."""
        registered = self.archives.register.get_many(request.cadre_ids)  # one query
        unknown = [i for i in request.cadre_ids if i not in registered]
        if unknown:
            raise UnknownCadres(unknown)
        as_of = request.as_of or self.today()
        # Every cadre's archive at once: one query per table, not one per cadre (0027).
        archives = self.archives.archives([registered[i] for i in request.cadre_ids])
        return IntegrityReply(
            title_zh=INTEGRITY_REPLY_TITLE,
            as_of=as_of,
            purpose=request.purpose,
            cadres=[integrity_of(archive, as_of) for archive in archives],
        )
