"""An integrity reply's items, one a case or report naming the cadre: the handling bars and their periods, the clearing, each item's text, and a case or report as it stood on a past day."""

from __future__ import annotations

import datetime as dt

from schemas.glossary import (
    AdmonitionOutcome,
    CaseState,
    Category,
    ClearingMethod,
    HandlingType,
    IntegrityItem,
    ReportStatus,
    Verdict,
)
from schemas.views_archive import (
    ArchiveCase,
    ArchiveEntry,
    ArchiveReport,
    ArchiveSelectionEntry,
    BarView,
    ClearingView,
    EffectPeriod,
    HandlingView,
    IntegrityItemView,
)
from services.calendar.deadlines import add_calendar_months
from services.projections.archive.projection import ARCHIVED
from services.projections.archive.views import verdicts_view

PROVEN = {Verdict.TRUE.value, Verdict.PARTLY_TRUE.value}
# Reports whose matter is not this office's to report on (sealed for the level above) or
# that repeat another report (which is listed itself).
NOT_LISTED = {ReportStatus.FORWARDED_UP.value, ReportStatus.REPEAT.value}
SETTLED_REPORTS = {ReportStatus.RETURNED.value, ReportStatus.REFERRAL_CONCLUDED.value}


def zh_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def months_remaining(as_of: dt.date, ends_on: dt.date) -> int:
    """Whole calendar months from ``as_of`` until ``ends_on``, a part month counting as one."""
    if as_of >= ends_on:
        return 0
    months = max((ends_on.year - as_of.year) * 12 + ends_on.month - as_of.month - 1, 0)
    while add_calendar_months(as_of, months) < ends_on:
        months += 1
    return months


def bar_view(period: EffectPeriod, as_of: dt.date) -> BarView:
    running = as_of < period.ends_on
    return BarView(
        bar=period.bar,
        bar_zh=period.bar_zh,
        months=period.months,
        starts_on=period.starts_on,
        ends_on=period.ends_on,
        running=running,
        months_remaining=months_remaining(as_of, period.ends_on),
        days_remaining=(period.ends_on - as_of).days if running else 0,
    )


def revoked_handlings(case: ArchiveCase) -> dict[int, dt.date]:
    """Handling id -> the day a clearing's correction revoked it (``revokes``)."""
    return {
        int(i): e.on
        for e in case.entries
        if e.kind == "ClearingCarriedOut"
        for i in e.detail.get("revokes") or []
    }


def _revoked(period: EffectPeriod, on: dt.date | None) -> EffectPeriod:
    """A bar of a revoked handling ends on the revocation day (if it had not ended before)."""
    if on is None or on >= period.ends_on:
        return period
    return period.model_copy(update={"ends_on": max(on, period.starts_on)})


def handling_views(case: ArchiveCase, as_of: dt.date) -> list[HandlingView]:
    followed = {
        int(e.detail["handling_id"]): e for e in case.entries if e.kind == "AdmonitionFollowedUp"
    }
    revoked = revoked_handlings(case)
    views = []
    for e in case.entries:
        if e.kind != "HandlingDecided":
            continue
        d = e.detail
        handling_id = int(d["handling_id"])
        follow = followed.get(handling_id)
        due = (d.get("follow_up_due") or {}).get("due")
        outcome = follow.detail["outcome"] if follow else None
        views.append(
            HandlingView(
                case_id=case.case_id,
                ledger_number=case.ledger_number,
                handling_id=handling_id,
                handling=d["handling"],
                handling_zh=HandlingType(d["handling"]).zh,
                decided_on=e.on,
                rule_zh=(d.get("effects") or {}).get("rule_zh", ""),
                bars=[bar_view(_revoked(p, revoked.get(handling_id)), as_of) for p in e.effects],
                revoked_on=revoked.get(handling_id),
                admonition_outcome=outcome,
                admonition_outcome_zh=AdmonitionOutcome(outcome).zh if outcome else None,
                admonition_followed_up_on=follow.on if follow else None,
                admonition_follow_up_due=dt.date.fromisoformat(due) if due else None,
            )
        )
    return views


def current_round(case: ArchiveCase) -> int:
    """The case's round of handling (复查 starts the next one), as far as its entries go."""
    return max((e.round for e in case.entries), default=1)


def _clearing(case: ArchiveCase) -> ClearingView | None:
    """The current round's clearing: an earlier round's was undone by the reopening."""
    now = current_round(case)
    done = [e for e in case.entries if e.kind == "ClearingCarriedOut" and e.round == now]
    if not done:
        return None
    d = done[-1].detail
    return ClearingView(
        method=d["method"],
        method_zh=ClearingMethod(d["method"]).zh,
        scope=d["scope"],
        carried_out_on=done[-1].on,
        corrections=list(d.get("corrections") or []),
    )


def _settled_for_cadre(case: ArchiveCase, categories: list[str]) -> bool:
    """The cadre's own part of a case not yet closed is settled: their approved verdicts
    (this round's) cover every matter their reports allege, and none is proven."""
    if case.conclusion is None or case.conclusion.overall in PROVEN:
        return False
    concluded = {v["category"] for v in case.conclusion.verdicts}
    return set(categories) <= concluded


def case_item(
    case: ArchiveCase,
    categories: list[str],
    cats_zh: list[str],
    as_of: dt.date,
    received_on: dt.date | None = None,
) -> IntegrityItemView:
    handlings = handling_views(case, as_of)
    clearing = _clearing(case)
    closed = case.state == CaseState.CLOSED.value
    overall = case.conclusion.overall if case.conclusion else None
    running = any(b.running for h in handlings for b in h.bars)
    if overall in PROVEN:
        status, stands = IntegrityItem.PROVEN, not closed or running
    elif not closed and not _settled_for_cadre(case, categories):
        status, stands = IntegrityItem.OPEN, True
    elif overall == Verdict.UNTRUE.value:
        status = IntegrityItem.CLEARED if clearing else IntegrityItem.UNTRUE
        stands = running
    elif overall == Verdict.UNPROVEN.value:
        status, stands = IntegrityItem.UNPROVEN, running
    else:
        status, stands = IntegrityItem.CLOSED, running
    late = joined_unconcluded(case)
    if late:  # joined after the conclusion: open for this cadre until a new round concludes it
        status, stands = IntegrityItem.OPEN, True
    item = IntegrityItemView(
        status=status.value,
        status_zh=status.zh,
        report_id=case.report_ids[0] if case.report_ids else None,
        case_id=case.case_id,
        ledger_number=case.ledger_number,
        received_on=received_on or case.received_on,
        categories=categories,
        categories_zh=cats_zh,
        stage=case.state,
        stage_zh=case.state_zh,
        conclusion=case.conclusion,
        handlings=handlings,
        clearing=clearing,
        stands_in_the_way=stands,
        text_zh="",
    )
    text = item_text(item)
    if late:
        text = f"{about_text(item)}中，{'、'.join(late)}问题的举报件于核查结论作出后并入，尚待核查认定。"
    return item.model_copy(update={"text_zh": text})


def joined_unconcluded(case: ArchiveCase) -> list[str]:
    """What reports joined after this round's conclusion (or closure) allege against the
    cadre and no conclusion covers (zh), until a new round (复查) begins."""
    late: list[str] = []
    for e in case.entries:
        if e.kind == "Reopened":
            late = []
        elif e.kind == "ReportJoined":
            late += [
                Category(c).zh
                for c in e.detail.get("unconcluded") or []
                if Category(c).zh not in late
            ]
    return late


def report_item(report: ArchiveReport) -> IntegrityItemView | None:
    if report.sealed or report.status in NOT_LISTED:
        return None
    settled = report.status in SETTLED_REPORTS
    status = IntegrityItem.CLOSED if settled else IntegrityItem.OPEN
    item = IntegrityItemView(
        status=status.value,
        status_zh=status.zh,
        report_id=report.report_id,
        case_id=report.case_id,
        ledger_number=report.ledger_number,
        received_on=report.received_on,
        categories=report.categories,
        categories_zh=report.categories_zh,
        stage=report.status,
        stage_zh=report.status_zh or "已收到，待登记",
        conclusion=None,
        handlings=[],
        clearing=None,
        stands_in_the_way=not settled,
        text_zh="",
    )
    return item.model_copy(update={"text_zh": item_text(item)})


def bar_text(bar: BarView) -> str:
    if bar.running:
        return f"{bar.bar_zh}的期限至{zh_date(bar.ends_on)}期满，尚余{bar.months_remaining}个月"
    return f"{bar.bar_zh}的期限已于{zh_date(bar.ends_on)}期满"


def item_text(item: IntegrityItemView) -> str:
    """One paragraph of the reply about one item."""
    ledger = item.ledger_number or "未编号"
    matters = "、".join(item.categories_zh)
    about = f"{ledger}号件反映的{matters}" + ("" if matters.endswith("问题") else "问题")
    if item.status == IntegrityItem.OPEN.value:
        return f"{about}正在办理（{item.stage_zh}）。"
    parts = []
    if item.conclusion is not None:
        parts.append(f"{about}经核查{item.conclusion.overall_zh}")
    else:
        parts.append(f"{about}已办结（{item.stage_zh}）")
    for h in item.handlings:
        text = f"该同志于{zh_date(h.decided_on)}受到{h.handling_zh}处理"
        if h.rule_zh:
            text += f"（{h.rule_zh}）"
        if h.bars:
            text += "，" + "；".join(bar_text(b) for b in h.bars)
        if h.revoked_on:
            text += f"；该处理已于{zh_date(h.revoked_on)}经澄清正名予以撤销"
        if h.admonition_outcome_zh:
            text += f"；诫勉限期改正情况：{h.admonition_outcome_zh}"
        elif h.admonition_follow_up_due:
            text += f"；诫勉限期改正，{zh_date(h.admonition_follow_up_due)}前报告改正情况"
        parts.append(text)
    if item.clearing is not None:
        c = item.clearing
        parts.append(
            f"已于{zh_date(c.carried_out_on)}以{c.method_zh}方式澄清正名（范围：{c.scope}），"
            "不影响提拔使用"
        )
    if item.status == IntegrityItem.PROVEN.value and item.stage != CaseState.CLOSED.value:
        parts.append(f"案件尚未办结（{item.stage_zh}）")
    return "，".join(parts) + "。"


# Archived steps that carry their own business date (the rest are dated when recorded).
DATED = frozenset(kind for kind, (_, date_field) in ARCHIVED.items() if date_field)
# The stage a case reaches with each archived step (for a reply dated in the past).
STAGE_AFTER_DISPOSITION = {
    "talk_inquiry": CaseState.INQUIRY,
    "preliminary_verification": CaseState.VERIFICATION,
    "park": CaseState.PARKED,
    "close": CaseState.CLOSED,
    "transfer_to_discipline": CaseState.TRANSFERRED,
}


def _stage_after(  # noqa: PLR0911 (one per kind of step)
    kind: str, detail: dict[str, object], stage: CaseState
) -> CaseState:
    match kind:
        case "CaseOpened":
            return CaseState.OPEN
        case "DispositionApproved":
            return STAGE_AFTER_DISPOSITION.get(str(detail.get("disposition")), stage)
        case "InquiryReplyEvaluated" if detail.get("outcome") == "escalated":
            return CaseState.VERIFICATION
        case "Reactivated" | "Reopened":
            return CaseState.ASSIGNED
        case "ConclusionApproved":
            return CaseState.CONCLUDED
        case "Closed":
            return CaseState.CLOSED
    return stage


def case_as_of(case: ArchiveCase, as_of: dt.date) -> ArchiveCase | None:
    """The case as it stood on ``as_of`` (None: its report was not yet received then).

    Its steps in order up to the first one whose business date is after ``as_of``; a step
    without a business date of its own (a disposition, a clearing proposed …) counts as of
    the dated steps around it, since it may have been recorded later than it happened."""
    if case.received_on is not None and case.received_on > as_of:
        return None
    kept: list[ArchiveEntry] = []
    for e in case.entries:
        if e.kind in DATED and e.on > as_of:
            break
        kept.append(e)
    if len(kept) == len(case.entries):
        return case
    stage = CaseState.OPEN
    conclusion = None
    for e in kept:
        stage = _stage_after(e.kind, e.detail, stage)
        if e.kind == "ConclusionApproved":
            conclusion = verdicts_view(e.detail, e.on)
        elif e.kind == "Reopened":
            conclusion = None
    finished = stage in (CaseState.CLOSED, CaseState.TRANSFERRED)
    return case.model_copy(
        update={
            "entries": kept,
            "conclusion": conclusion,
            "state": stage.value,
            "state_zh": stage.zh,
            "closed_on": case.closed_on if finished else None,
        }
    )


def report_as_of(report: ArchiveReport, as_of: dt.date) -> ArchiveReport | None:
    """The report, if it was received by ``as_of``."""
    if report.received_on is not None and report.received_on > as_of:
        return None
    return report


# Cases whose items go into a cadre's reply: reports' cases, and false-accusation cases


def about_text(item: IntegrityItemView) -> str:
    ledger = item.ledger_number or "未编号"
    matters = "、".join(item.categories_zh)
    return f"{ledger}号件反映的{matters}" + ("" if matters.endswith("问题") else "问题")


def selection_item(entry: ArchiveSelectionEntry, as_of: dt.date) -> IntegrityItemView:
    """What a selection's record says of the cadre, as an item of the reply: an adverse item
    on file (属实, on a concluded case's basis). A responsibility's handling bars like a
    case's organizational handling, for the months the office's table recorded when it was
    decided, and stands in the way while a bar runs; a voided appointment is listed, and by
    itself bars nothing (what the cadre did to obtain it is the basis case's to handle)."""
    handlings = []
    if entry.handling is not None:
        handlings.append(
            HandlingView(
                case_id=entry.basis_id,
                ledger_number=None,
                handling_id=0,  # decided on a selection, not a case's handling
                handling=entry.handling,
                handling_zh=entry.handling_zh or entry.handling,
                decided_on=entry.on,
                rule_zh=entry.rule_zh,
                bars=[bar_view(p, as_of) for p in entry.effects],
            )
        )
    bars = [b for h in handlings for b in h.bars]
    text = entry.text_zh.removesuffix("。")
    if entry.rule_zh:
        text += f"（{entry.rule_zh}）"
    if bars:
        text += "，" + "；".join(bar_text(b) for b in bars)
    return IntegrityItemView(
        status=IntegrityItem.PROVEN.value,
        status_zh=IntegrityItem.PROVEN.zh,
        report_id=None,
        case_id=entry.basis_id,
        ledger_number=None,
        received_on=entry.on,
        categories=[],
        categories_zh=[],
        stage=entry.kind,
        stage_zh=entry.kind_zh,
        conclusion=None,
        handlings=handlings,
        clearing=None,
        stands_in_the_way=any(b.running for b in bars),
        text_zh=text + "。",
        selection_id=entry.selection_id,
        selection_kind=entry.kind,
    )
