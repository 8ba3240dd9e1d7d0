"""Views of the supervision archive (领导干部监督档案), cadre candidates and integrity opinion
replies (廉政意见回复). None of them holds reporter identity."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from schemas.views import CadreRecord, View

CadreId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
MAX_CADRES_PER_REPLY = 200


# -- the archive -------------------------------------------------------------------------------


class EffectPeriod(View):
    """One effect of an organizational handling: what it bars, from when to when."""

    bar: str
    bar_zh: str
    months: int
    starts_on: dt.date
    ends_on: dt.date  # the first day the bar no longer applies


class Verdicts(View):
    """An approved conclusion: per allegation (category) and overall."""

    verdicts: list[dict[str, str]]  # {category, category_zh, verdict, verdict_zh}
    overall: str
    overall_zh: str
    approved_on: dt.date


class OutcomeView(View):
    """One cadre's result from the receiver of an item that left the office."""

    cadre: dict[str, Any]
    verdict: str
    verdict_zh: str
    handling: str | None = None
    handling_zh: str | None = None
    rule_zh: str = ""
    sanction: dict[str, Any] | None = None  # {kind, text, bars_promotion_months}
    sanction_zh: str | None = None
    effects: list[EffectPeriod] = Field(default_factory=list)
    decided_on: dt.date | None = None  # the day the handling was decided (bars run from it)


class ReceiverResultView(View):
    """The receiver's result (办理结果) as it concerns one cadre: only their outcomes."""

    path: str
    path_zh: str
    receiver: str
    reported_on: dt.date
    document_number: str
    summary: str = ""
    outcomes: list[OutcomeView]


class ArchiveEntry(View):
    """One step of a case that belongs in the archive, with its date and case."""

    event_id: str
    case_id: str
    ledger_number: str | None
    kind: str
    kind_zh: str
    on: dt.date
    at: dt.datetime
    text_zh: str
    detail: dict[str, Any]
    cadre: dict[str, Any] | None = None  # the cadre a handling, clearing or publicity names
    effects: list[EffectPeriod] = Field(default_factory=list)
    round: int = 1  # the round of handling (复查: each reopening starts the next one)


class ArchiveCase(View):
    case_id: str
    ledger_number: str | None
    kind: str | None
    kind_zh: str
    received_on: dt.date | None
    opened_at: dt.datetime | None
    state: str | None
    state_zh: str
    state_since: dt.datetime | None
    disposition: str | None
    disposition_zh: str | None
    closed_on: dt.date | None
    linked_case_id: str | None
    report_ids: list[str]
    conclusion: Verdicts | None
    entries: list[ArchiveEntry]
    # Transferred to the discipline commission: its result for this cadre, or when it is due.
    receiver_result: ReceiverResultView | None = None
    report_back_due: dt.date | None = None


class ArchiveReport(View):
    """A report naming the cadre, as it was named, from any channel."""

    report_id: str
    ledger_number: str | None
    channel: str | None
    channel_zh: str | None
    categories: list[str]
    categories_zh: list[str]
    summary: str | None
    sealed: bool
    received_on: dt.date | None
    referral: dict[str, Any] | None
    status: str | None
    status_zh: str | None
    status_on: dt.date | None
    named_as: dict[str, Any]
    identified_by: str  # "register_id", "exact_name_and_unit" or "operator"
    case_id: str | None
    case_opened_at: dt.datetime | None
    # Transferred down or referred out: the receiver's result for this cadre, or its due day.
    receiver_result: ReceiverResultView | None = None
    report_back_due: dt.date | None = None


class ArchiveSelectionEntry(View):
    """What a selection's record says of the cadre (decision 0034): their appointment (or
    the decision) voided (``AppointmentVoided``: the ground, the post), or they held
    responsible for a step of it (``ResponsibilityTaken``: the step, the handling and its
    effects); the selection's unit and posts, the day, the basis and the document."""

    entry_id: str
    selection_id: str
    kind: str
    kind_zh: str
    on: dt.date
    at: dt.datetime
    unit: str
    posts: list[str]
    text_zh: str
    ground: str | None = None
    ground_zh: str | None = None
    post: str | None = None
    step: str | None = None
    step_zh: str | None = None
    handling: str | None = None
    handling_zh: str | None = None
    rule_zh: str = ""
    effects: list[EffectPeriod] = Field(default_factory=list)
    basis_kind: str
    basis_kind_zh: str
    basis_id: str
    document_number: str
    reason: str = ""


class CadreArchive(View):
    """The supervision archive of one registered cadre: reports (newest first), cases, and
    what selections' records say of them (newest first)."""

    cadre: CadreRecord
    items: list[ArchiveReport]
    cases: list[ArchiveCase]
    selections: list[ArchiveSelectionEntry] = Field(default_factory=list)


# -- candidates --------------------------------------------------------------------------------


class CadreSuggestion(View):
    cadre: CadreRecord
    score: float
    why: str


class CandidateView(View):
    """An unregistered person named in reports (name and unit, normalised), with the reports
    naming them (or a candidate merged into them) and registered cadres who may be the same."""

    candidate_key: str
    name: str
    unit: str
    positions: list[str]
    report_count: int
    ledger_numbers: list[str]
    report_refs: list[dict[str, Any]]  # {report_id, subject_index}: where identify_subject applies
    merged_keys: list[str]
    identified_as: str | None  # a registered cadre id, once an operator (or an exact match) says so
    identified_by: str | None
    suggestions: list[CadreSuggestion]


# -- integrity opinion replies -------------------------------------------------------------------


class IntegrityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cadre_ids: Annotated[list[CadreId], Field(min_length=1, max_length=MAX_CADRES_PER_REPLY)]
    as_of: dt.date | None = None
    purpose: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""

    @field_validator("cadre_ids")
    @classmethod
    def _distinct(cls, ids: list[str]) -> list[str]:
        return list(dict.fromkeys(ids))


class BarView(View):
    bar: str
    bar_zh: str
    months: int
    starts_on: dt.date
    ends_on: dt.date
    running: bool
    months_remaining: int  # whole months, rounded up; 0 when ended
    days_remaining: int


class HandlingView(View):
    case_id: str
    ledger_number: str | None
    handling_id: int
    handling: str
    handling_zh: str
    decided_on: dt.date
    rule_zh: str
    bars: list[BarView]
    admonition_outcome: str | None = None
    admonition_outcome_zh: str | None = None
    admonition_followed_up_on: dt.date | None = None
    admonition_follow_up_due: dt.date | None = None
    # Revoked by a clearing's correction (纠正) on this day: its bars end then.
    revoked_on: dt.date | None = None


class ClearingView(View):
    method: str
    method_zh: str
    scope: str
    carried_out_on: dt.date
    corrections: list[str]


class IntegrityItemView(View):
    """A report or case about the cadre, as it bears on the reply."""

    status: str
    status_zh: str
    report_id: str | None
    case_id: str | None
    ledger_number: str | None
    received_on: dt.date | None
    categories: list[str]
    categories_zh: list[str]
    stage: str | None
    stage_zh: str | None
    conclusion: Verdicts | None
    handlings: list[HandlingView]
    clearing: ClearingView | None
    stands_in_the_way: bool
    text_zh: str
    receiver_result: ReceiverResultView | None = None
    report_back_due: dt.date | None = None
    # A step still to be taken after a handling (a decided escalation's heavier handling,
    # an admonition's follow-up): the day it was due, if one was set.
    due_on: dt.date | None = None
    # From a selection's record (decision 0034): the appointment voided, or the cadre held
    # responsible for a step of it (``kind``: the event's type); ``received_on`` is its day.
    selection_id: str | None = None
    selection_kind: str | None = None


class CadreIntegrity(View):
    cadre: CadreRecord
    open_items: list[IntegrityItemView]
    proven: list[IntegrityItemView]
    cleared: list[IntegrityItemView]
    other: list[IntegrityItemView]  # untrue (not yet cleared), unproven, closed without action
    running_bars: list[BarView]
    expired_bars: list[BarView]
    stands_in_the_way: bool
    clean: bool
    opinion_zh: str


class IntegrityReply(View):
    title_zh: str
    as_of: dt.date
    purpose: str
    cadres: list[CadreIntegrity]
