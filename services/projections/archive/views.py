"""The archive's views built from its rows: the entries' texts, verdicts and effect periods, a case's and a candidate's view, the suggestions, and each cadre's own results of items that left the office."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

import orjson

from schemas.events import candidate_key
from schemas.glossary import (
    EVENT_LABELS,
    AccountabilityHandling,
    AdmonitionOutcome,
    Bar,
    BasisKind,
    CaseKind,
    CaseState,
    Category,
    Channel,
    ClearingMethod,
    Disposition,
    FindingKind,
    HandlingType,
    InquiryOutcome,
    PublicityDecision,
    ReportStatus,
    ResponsibilityStep,
    SanctionKind,
    SettlementPath,
    Verdict,
    VoidGround,
)
from schemas.views import CadreRecord
from schemas.views_archive import (
    ArchiveCase,
    ArchiveEntry,
    ArchiveReport,
    ArchiveSelectionEntry,
    CadreSuggestion,
    CandidateView,
    EffectPeriod,
    OutcomeView,
    ReceiverResultView,
    Verdicts,
)
from services.calendar.deadlines import add_calendar_months
from services.casework.domain import overall_verdict
from services.projections.archive.resolver import Identity, Resolver

# Which months field of a decision's recorded effects bars what.
BAR_FIELDS: tuple[tuple[str, Bar], ...] = (
    ("bars_leading_post_months", Bar.LEADING_POST),
    ("bars_promotion_months", Bar.PROMOTION),
    ("bars_key_post_months", Bar.KEY_POST),
    ("max_duration_months", Bar.SUSPENSION),
)
# Events that name the cadre they concern, and those that follow such an event (events
# stored before a step named its cadre: they follow the last naming one).
NAMING = {"HandlingDecided", "ClearingProposed", "PublicityHeld"}
FOLLOWS = {"ClearingApproved": "ClearingProposed", "ClearingCarriedOut": "ClearingProposed"}
FOLLOWS |= {"PublicityDecided": "PublicityHeld"}
SUGGESTION_LIMIT = 3
SUGGESTION_THRESHOLD = 0.5


def _zh(enum: Any, value: str | None) -> str | None:
    if value is None:
        return None
    return _zh_of(enum, value)


@functools.lru_cache(maxsize=4096)
def _zh_of(enum: Any, value: str) -> str:
    """An enum value's Chinese label (memoized: an archive of a hundred cadres asks tens of
    thousands of times, and an Enum look-up by value is slow)."""
    try:
        return str(enum(value).zh)
    except ValueError:
        return value


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


def _datetime(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def effect_periods(decided_on: dt.date, effects: dict[str, Any]) -> list[EffectPeriod]:
    """The periods a handling's effects run, as recorded when it was decided."""
    periods = []
    for field, bar in BAR_FIELDS:
        months = int(effects.get(field) or 0)
        if months:
            periods.append(
                EffectPeriod(
                    bar=bar.value,
                    bar_zh=bar.zh,
                    months=months,
                    starts_on=decided_on,
                    ends_on=add_calendar_months(decided_on, months),
                )
            )
    return periods


def verdicts_view(detail: dict[str, Any], approved_on: dt.date) -> Verdicts:
    return Verdicts(
        verdicts=[
            {
                "category": category,
                "category_zh": _zh(Category, category) or category,
                "verdict": verdict,
                "verdict_zh": _zh(Verdict, verdict) or verdict,
            }
            for category, verdict in sorted(detail["verdicts"].items())
        ],
        overall=detail["overall"],
        overall_zh=_zh(Verdict, detail["overall"]) or detail["overall"],
        approved_on=approved_on,
    )


def verdicts_of(detail: dict[str, Any], me: Identity, resolver: Resolver) -> dict[str, Any] | None:
    """The conclusion's detail as it concerns ``me``: my verdicts by category and my overall
    verdict, nobody else's. A conclusion stored before verdicts were per cadre said its
    verdicts of every subject: it is returned as it was. None: it says nothing of ``me``."""
    rows = detail.get("cadre_verdicts")
    if rows is None:
        return detail
    mine = {
        r["category"]: r["verdict"]
        for r in rows
        if resolver.resolve(
            r["cadre"].get("cadre_id") or None,
            candidate_key(r["cadre"]["name"], r["cadre"].get("unit", "")),
        )
        == me
    }
    if not mine:
        return None
    overall = overall_verdict(Verdict(v) for v in mine.values()).value
    return {"verdicts": mine, "overall": overall, "approved_on": detail.get("approved_on")}


def unconcluded_of(detail: dict[str, Any], me: Identity, resolver: Resolver) -> list[str]:
    """The categories a report joined after the conclusion alleges against ``me`` that the
    standing conclusion does not cover (``ReportJoined.unconcluded``)."""
    return [
        r["category"]
        for r in detail.get("unconcluded") or []
        if resolver.resolve(
            r["cadre"].get("cadre_id") or None,
            candidate_key(r["cadre"]["name"], r["cadre"].get("unit", "")),
        )
        == me
    ]


def entry_text(kind: str, d: dict[str, Any]) -> str:  # noqa: PLR0911, PLR0912
    """One line of Chinese saying what the step was."""
    match kind:
        case "CaseOpened":
            return f"立件（{_zh(CaseKind, d['kind'])}），编号{d['ledger_number']}"
        case "ReportJoined":
            late = (
                "（并入时已形成核查结论，所反映问题尚待核查认定）" if d.get("unconcluded") else ""
            )
            return f"并案：{d['ledger_number']}{late}"
        case "DispositionApproved":
            return f"经集体研究批准处置方式：{_zh(Disposition, d['disposition'])}"
        case "InquiryLetterSent":
            form = "函询" if d["form"] == "letter" else "谈话"
            return f"发出{form}通知，回复期限{(d.get('reply_due') or {}).get('due', '')}"
        case "InquiryReplyReceived":
            return "收到函询回复"
        case "InquiryReplyEvaluated":
            return f"函询回复评估：{_zh(InquiryOutcome, d['outcome'])}"
        case "FindingRecorded":
            return f"{_zh(FindingKind, d['kind'])}：{d['summary']}"
        case "ParkedCaseReviewed":
            return f"暂存件定期复核，下次复核{(d.get('next_review_due') or {}).get('due', '')}"
        case "Reactivated":
            return "发现新证据，重新启动核查"
        case "ConclusionApproved":
            parts = "；".join(
                f"{_zh(Category, c)}{_zh(Verdict, v)}" for c, v in sorted(d["verdicts"].items())
            )
            return f"核查结论：{_zh(Verdict, d['overall'])}（{parts}）"
        case "HandlingDecided":
            rule = (d.get("effects") or {}).get("rule_zh", "")
            return f"组织处理：{_zh(HandlingType, d['handling'])}" + (f"（{rule}）" if rule else "")
        case "AdmonitionFollowedUp":
            text = f"诫勉限期改正情况：{_zh(AdmonitionOutcome, d['outcome'])}"
            if d.get("escalate_to"):
                text += f"，加重处理为{_zh(HandlingType, d['escalate_to'])}"
            return text
        case "SubjectReferred":
            return f"移送{d['organ']}处理" + (
                f"（{d['document_ref']}）" if d.get("document_ref") else ""
            )
        case "ClearingProposed":
            return "本人申请澄清正名" if d.get("applied_for_by_cadre") else "提出澄清正名"
        case "ClearingApproved":
            return "批准澄清正名"
        case "ClearingCarriedOut":
            revoked = "".join(f"，撤销第{i}项组织处理" for i in d.get("revokes") or [])
            return f"澄清正名：{_zh(ClearingMethod, d['method'])}，范围：{d['scope']}{revoked}"
        case "FalseAccusationSuspected":
            return f"涉嫌诬告陷害，另立诬告陷害线索（{d['false_accusation_case_id']}）"
        case "Closed":
            return "办结"
        case "Reopened":
            return "复查，重新办理"
        case "PublicityHeld":
            return f"任前公示期间收到反映，暂缓任职（拟任：{d['proposed_post']}）"
        case "PublicityDecided":
            return f"任前公示事项决定：{_zh(PublicityDecision, d['decision'])}"
        case "DisciplineResultRecorded":
            return f"纪检监察机关反馈办理结果（{d.get('document_number', '')}）"
    return EVENT_LABELS.get(kind, kind)


def report_item(r: dict[str, Any], resolver: Resolver) -> ArchiveReport:
    categories = orjson.loads(r["categories"] or "[]")
    _, by = resolver.explain(r["named_id"], r["candidate_key"])
    return ArchiveReport(
        report_id=r["report_id"],
        ledger_number=r["ledger_number"],
        channel=r["channel"],
        channel_zh=_zh(Channel, r["channel"]),
        categories=categories,
        categories_zh=[_zh(Category, c) or c for c in categories],
        summary=r["summary"],
        sealed=bool(r["sealed"]),
        received_on=_date(r["received_on"]),
        referral=orjson.loads(r["referral"]) if r["referral"] else None,
        status=r["status"],
        status_zh=_zh(ReportStatus, r["status"]),
        status_on=_date(r["status_on"]),
        named_as={
            "name": r["name"],
            "unit": r["unit"],
            "position": r["position"],
            "cadre_id": r["named_id"],
            "subject_index": r["ordinal"],
        },
        identified_by=by,
        case_id=r["case_id"],
        case_opened_at=_datetime(r["case_opened_at"]),
    )


def _detail(entry: dict[str, Any]) -> dict[str, Any]:
    """An archived step's detail, parsed once however many cadres' archives show it."""
    if "_detail" not in entry:
        entry["_detail"] = orjson.loads(entry["detail"])
    return cast(dict[str, Any], entry["_detail"])


def keys_named(entry: dict[str, Any]) -> Iterator[str]:
    """The candidate keys an archived step names: its cadre's, and those of the cadres its
    conclusion's verdicts or a joined report's unconcluded categories are about (looked up in
    the register together, before the steps are shown one cadre at a time)."""
    if entry["candidate_key"]:
        yield entry["candidate_key"]
    if entry["kind"] in ("ConclusionApproved", "ReportJoined"):
        detail = _detail(entry)
        for r in [*(detail.get("cadre_verdicts") or []), *(detail.get("unconcluded") or [])]:
            yield candidate_key(r["cadre"]["name"], r["cadre"].get("unit", ""))


def case_view(
    case_id: str,
    case: dict[str, Any],
    rows: list[dict[str, Any]],
    report_ids: list[str],
    me: Identity,
    resolver: Resolver,
) -> ArchiveCase:
    ledger = case.get("ledger_number")
    entries: list[ArchiveEntry] = []
    owner: dict[str, Identity | None] = {}  # by naming event kind: whom the last one named
    handlings: dict[int, Identity] = {}
    conclusion: Verdicts | None = None
    round_ = 1  # 复查: each reopening starts the next round; the earlier ones stay listed
    for e in rows:
        kind, detail = e["kind"], _detail(e)
        if kind == "Reopened":
            round_ += 1
        on = dt.date.fromisoformat(e["on_date"])
        named: dict[str, Any] | None = None
        if kind in NAMING or e["cadre_name"] is not None:
            identity = resolver.resolve(e["cadre_id"], e["candidate_key"])
            owner[kind] = identity
            if kind == "HandlingDecided":
                handlings[int(detail["handling_id"])] = identity
            if identity != me:
                continue
            named = {"name": e["cadre_name"], "unit": e["cadre_unit"], "cadre_id": e["cadre_id"]}
        elif (kind in FOLLOWS and owner.get(FOLLOWS[kind]) != me) or (
            kind == "AdmonitionFollowedUp" and handlings.get(int(detail["handling_id"])) != me
        ):
            continue
        if kind == "ReportJoined" and detail.get("unconcluded"):
            detail = {**detail, "unconcluded": unconcluded_of(detail, me, resolver)}
        if kind == "ConclusionApproved":
            mine = verdicts_of(detail, me, resolver)
            if mine is None:  # a conclusion about others only
                continue
            detail = mine
            conclusion = verdicts_view(detail, on)
        elif kind == "Reopened":
            conclusion = None  # a reopened case needs a new conclusion
        effects = (
            effect_periods(dt.date.fromisoformat(detail["decided_on"]), detail["effects"])
            if kind == "HandlingDecided"
            else []
        )
        entries.append(
            ArchiveEntry(
                event_id=e["event_id"],
                case_id=case_id,
                ledger_number=ledger,
                kind=kind,
                kind_zh=EVENT_LABELS.get(kind, kind),
                on=on,
                at=dt.datetime.fromisoformat(e["occurred_at"]),
                text_zh=entry_text(kind, detail),
                detail=detail,
                cadre=named,
                effects=effects,
                round=round_,
            )
        )
    state = case.get("state")
    return ArchiveCase(
        case_id=case_id,
        ledger_number=ledger,
        kind=case.get("kind"),
        kind_zh=_zh(CaseKind, case.get("kind")) or "",
        received_on=_date(case.get("received_on")),
        opened_at=_datetime(case.get("opened_at")),
        state=state,
        state_zh=_zh(CaseState, state) or "已受理，待立件",
        state_since=_datetime(case.get("state_since")),
        disposition=case.get("disposition"),
        disposition_zh=_zh(Disposition, case.get("disposition")),
        closed_on=_date(case.get("closed_on")),
        linked_case_id=case.get("linked_case_id"),
        report_ids=report_ids,
        conclusion=conclusion,
        entries=entries,
    )


def candidate_view(
    identity: Identity,
    members: list[dict[str, Any]],
    how: str | None,
    register: Iterable[CadreRecord],
) -> CandidateView:
    keys = Counter(m["candidate_key"] for m in members)
    main_key = identity[1] if identity[0] == "candidate" else keys.most_common(1)[0][0]
    main = next((m for m in reversed(members) if m["candidate_key"] == main_key), members[-1])
    suggestions = [] if identity[0] == "cadre" else suggest(main["name"], main["unit"], register)
    return CandidateView(
        candidate_key=main_key,
        name=main["name"],
        unit=main["unit"],
        positions=sorted({m["position"] for m in members if m["position"]}),
        report_count=len({m["report_id"] for m in members}),
        ledger_numbers=sorted({m["ledger_number"] for m in members if m["ledger_number"]}),
        report_refs=[{"report_id": m["report_id"], "subject_index": m["ordinal"]} for m in members],
        merged_keys=sorted(k for k in keys if k != main_key),
        identified_as=identity[1] if identity[0] == "cadre" else None,
        identified_by=how if identity[0] == "cadre" else None,
        suggestions=suggestions,
    )


def suggest(name: str, unit: str, register: Iterable[CadreRecord]) -> list[CadreSuggestion]:
    """Registered cadres whose name (mostly) and unit look like the candidate's."""
    key_name, key_unit = candidate_key(name, unit).split("|", 1)
    scored = []
    for cadre in register:
        c_name, c_unit = candidate_key(cadre.name, cadre.unit).split("|", 1)
        name_score = difflib.SequenceMatcher(None, key_name, c_name).ratio()
        unit_score = (
            difflib.SequenceMatcher(None, key_unit, c_unit).ratio() if key_unit and c_unit else 0
        )
        score = round(0.7 * name_score + 0.3 * unit_score, 3)
        if name_score >= SUGGESTION_THRESHOLD and score >= SUGGESTION_THRESHOLD:
            why = "同名" if name_score == 1 else "姓名相近"
            why += "，同单位" if unit_score == 1 else ("，单位相近" if unit_score >= 0.5 else "")
            scored.append(CadreSuggestion(cadre=cadre, score=score, why=why))
    scored.sort(key=lambda s: (-s.score, s.cadre.cadre_id))
    return scored[:SUGGESTION_LIMIT]


# -- results of items that left the office (transferred down, referred out, transferred to
# the discipline commission): each cadre sees only their own outcomes ------------------------

RESULT_KINDS = {"DisciplineResultRecorded"}


def _own_outcomes(
    outcomes: Sequence[dict[str, Any]], me: Identity, resolver: Resolver
) -> list[dict[str, Any]]:
    own = []
    for o in outcomes:
        cadre = o.get("cadre") or {}
        key = candidate_key(cadre.get("name", ""), cadre.get("unit", ""))
        if resolver.resolve(cadre.get("cadre_id") or None, key) == me:
            own.append(o)
    return own


def outcome_view(outcome: dict[str, Any], on: dt.date) -> OutcomeView:
    """One cadre's outcome; its handling's effects (as recorded) and any sanction's bar run
    from the day they were decided (``decided_on``; results recorded before it was asked
    for: the day the result was reported, ``on``)."""
    on = _date(outcome.get("decided_on")) or on
    handling = outcome.get("handling")
    effects = effect_periods(on, outcome.get("effects") or {}) if handling else []
    sanction = outcome.get("sanction")
    sanction_zh = None
    if sanction:
        sanction_zh = f"{_zh(SanctionKind, sanction['kind'])}（{sanction['text']}）"
        months = int(sanction.get("bars_promotion_months") or 0)
        if months:
            effects.append(
                EffectPeriod(
                    bar=Bar.PROMOTION.value,
                    bar_zh=Bar.PROMOTION.zh,
                    months=months,
                    starts_on=on,
                    ends_on=add_calendar_months(on, months),
                )
            )
    return OutcomeView(
        cadre=outcome.get("cadre") or {},
        verdict=outcome["verdict"],
        verdict_zh=_zh(Verdict, outcome["verdict"]) or outcome["verdict"],
        handling=handling,
        handling_zh=_zh(HandlingType, handling),
        rule_zh=(outcome.get("effects") or {}).get("rule_zh", "") if handling else "",
        sanction=sanction,
        sanction_zh=sanction_zh,
        effects=effects,
        decided_on=on,
    )


def result_view(
    data: dict[str, Any], path: str, me: Identity, resolver: Resolver
) -> ReceiverResultView:
    on = dt.date.fromisoformat(str(data["reported_on"]))
    return ReceiverResultView(
        path=path,
        path_zh=_zh(SettlementPath, path) or path,
        receiver=data.get("receiver", ""),
        reported_on=on,
        document_number=data.get("document_number", ""),
        summary=data.get("summary", ""),
        outcomes=[outcome_view(o, on) for o in _own_outcomes(data["outcomes"], me, resolver)],
    )


def with_report_result(
    item: ArchiveReport, row: dict[str, Any], me: Identity, resolver: Resolver
) -> ArchiveReport:
    """A report transferred down or referred out: its result for this cadre, or its due day."""
    triage = orjson.loads(row.get("triage") or "null") or {}
    update: dict[str, Any] = {}
    if triage.get("report_back_due"):
        update["report_back_due"] = dt.date.fromisoformat(triage["report_back_due"])
    result = triage.get("receiver_result")
    if result:
        update["receiver_result"] = result_view(result, result["path"], me, resolver)
    return item.model_copy(update=update) if update else item


def with_case_result(case: ArchiveCase, me: Identity, resolver: Resolver) -> ArchiveCase:
    """A case transferred to the discipline commission: its result for this cadre (the
    archived step keeps only this cadre's outcomes), or the day it is due."""
    entries, result, due = [], None, None
    for entry in case.entries:
        if entry.kind == "DispositionApproved" and entry.detail.get("report_back_due"):
            due = dt.date.fromisoformat(str(entry.detail["report_back_due"]["due"]))
        if entry.kind not in RESULT_KINDS:
            entries.append(entry)
            continue
        result = result_view(entry.detail, SettlementPath.DISCIPLINE_TRANSFER, me, resolver)
        own = _own_outcomes(entry.detail["outcomes"], me, resolver)
        entries.append(entry.model_copy(update={"detail": {**entry.detail, "outcomes": own}}))
    if result is None and due is None:
        return case
    return case.model_copy(
        update={"entries": entries, "receiver_result": result, "report_back_due": due}
    )


def selection_entry_view(row: dict[str, Any]) -> ArchiveSelectionEntry:
    """A row of ``archive_selection_entries`` as the archive shows it, with its sentence."""
    d = orjson.loads(row["detail"])
    on = dt.date.fromisoformat(row["on_date"])
    posts = list(d.get("posts") or [])
    where = d.get("unit") or ""
    common: dict[str, Any] = {
        "entry_id": row["entry_id"],
        "selection_id": row["selection_id"],
        "kind": row["kind"],
        "kind_zh": EVENT_LABELS.get(row["kind"], row["kind"]),
        "on": on,
        "at": dt.datetime.fromisoformat(row["occurred_at"]),
        "unit": where,
        "posts": posts,
        "basis_kind": d["basis_kind"],
        "basis_kind_zh": BasisKind(d["basis_kind"]).zh,
        "basis_id": d["basis_id"],
        "document_number": d.get("document_number") or "",
        "reason": d.get("reason") or "",
    }
    document = f"（{d['document_number']}）" if d.get("document_number") else ""
    if row["kind"] == "AppointmentVoided":
        ground = VoidGround(d["ground"])
        post = d.get("post") or ""
        what = f"任{post}的任用决定" if post else f"{'、'.join(posts)}人选的讨论决定"
        text = (
            f"{zh_day(on)}，{where}选拔任用工作中，该同志{what}因{ground.zh}被宣布无效{document}。"
        )
        return ArchiveSelectionEntry(
            **common, text_zh=text, ground=ground.value, ground_zh=ground.zh, post=post
        )
    step = ResponsibilityStep(d["step"])
    handling = AccountabilityHandling(d["handling"])
    effects = d.get("effects") or {}
    text = (
        f"{zh_day(on)}，因{where}选拔任用工作中{step.zh}环节的责任，"
        f"该同志受到{handling.zh}处理{document}。"
    )
    return ArchiveSelectionEntry(
        **common,
        text_zh=text,
        step=step.value,
        step_zh=step.zh,
        handling=handling.value,
        handling_zh=handling.zh,
        rule_zh=effects.get("rule_zh", ""),
        effects=effect_periods(on, effects),
    )


def zh_day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
