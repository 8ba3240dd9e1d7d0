"""The full supervision archive (领导干部监督档案) and cadre candidates, checked against the
commands given (not against the tables): every report naming the cadre, from every channel,
and every archived step of their cases, with dates and ledger numbers; candidates that an
operator confirms or merges, and an archive that follows."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from schemas import commands as c
from schemas.events import Actor, candidate_key
from schemas.glossary import (
    Category,
    ClearingMethod,
    Disposition,
    FindingKind,
    HandlingType,
    InquiryOutcome,
    MemberUnit,
    Role,
    Verdict,
)
from schemas.submissions import ReportSubmission
from schemas.views import CadreRecord
from schemas.views_archive import CadreArchive
from services.bootstrap import EmbeddedSystem
from services.common.procedure import ProcedureError
from services.projections.archive import projection as archive
from services.projections.archive.queries import ArchiveQueries
from services.projections.archive.register import CadreRegister
from services.projections.store import ReadStore
from tests.unit.conftest import (
    REPORTER_EMAIL,
    REPORTER_ID_NUMBER,
    REPORTER_NAME,
    REPORTER_PHONE,
    advance_to,
    all_envelopes,
    build_embedded,
    dump_tables,
    make_settings,
    real_name_reporter,
    stand_in_handlers,
)

LEADER = {"id": "leader-1", "role": "leader"}
HANDLER = {"id": "handler-1", "role": "handler"}
OPERATOR = Actor(id="op-1", role=Role.OPERATOR)
FINANCE, EDUCATION, TRANSPORT = "某县财政局", "某县教育局", "某县交通运输局"
REGISTER = [
    CadreRecord(cadre_id="C-001", name="王建国", unit=FINANCE, position="局长"),
    CadreRecord(cadre_id="C-002", name="李明华", unit=EDUCATION, position="副局长"),
    CadreRecord(cadre_id="C-003", name="赵志刚", unit=TRANSPORT, position="局长"),
    CadreRecord(cadre_id="C-004", name="张德山", unit=TRANSPORT, position="副局长"),
]
SECRETS = (REPORTER_NAME, REPORTER_PHONE, REPORTER_EMAIL, REPORTER_ID_NUMBER)


# -- driving the embedded system ----------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months, clamped to the month's end (written here, independent of the code)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError


@dataclass
class Expected:
    """What the commands given say one report and its case should look like in the archive."""

    report_id: str
    cadre_ids: list[str]
    ledger_number: str
    case_id: str | None
    path: str
    kinds: list[str] = field(default_factory=list)
    handlings: list[tuple[HandlingType, dt.date, str]] = field(default_factory=list)
    cleared_on: dt.date | None = None
    found_on: dt.date | None = None


class Driver:
    """Submits reports and runs each case along a path of the procedure."""

    def __init__(self, system: EmbeddedSystem) -> None:
        self.system = system

    def submit(
        self,
        subjects: list[dict[str, Any]],
        *,
        categories: tuple[str, ...] = ("seeking_office",),
        channel: str = "hotline",
        referral: dict[str, Any] | None = None,
        reporter: dict[str, Any] | None = None,
        received_on: dt.date | None = None,
    ) -> tuple[str, str, str | None]:
        data: dict[str, Any] = {
            "channel": channel,
            "reporter": reporter or {"anonymous": True},
            "subjects": subjects,
            "categories": list(categories),
            "summary": f"反映{subjects[0]['name']}的问题。",
            "referral": referral,
            "received_on": received_on,
        }
        # Registered on the day received: an import of history, which staff may not back-date
        # beyond the configured limit from today (decision 0013).
        if received_on is not None:
            advance_to(self.system, received_on)
        receipt = self.system.intake.submit(
            ReportSubmission.model_validate(data), registered_on=received_on
        )
        case_id = receipt.case_id
        if "other_conduct" not in categories:  # in the 12380 scope: the operator accepts it
            report = self.system.intake.triage(
                UUID(receipt.report_id),
                "accept",
                c.Accept(reason="属于受理范围", accepted_on=received_on),
                Actor(id="op-1", role=Role.OPERATOR),
            )
            case_id = str(report.case_id)
        self.system.catch_up()
        return receipt.report_id, receipt.ledger_number, case_id

    def run(self, case_id: str, *steps: tuple[str, c.Command, dict[str, str]]) -> None:
        for action, command, actor in steps:
            self.system.casework.execute(UUID(case_id), action, command, actor)

    # Paths of the procedure; each returns the archived kinds it produces after CaseOpened.

    def dispose(self, case_id: str, disposition: Disposition) -> list[str]:
        self.run(
            case_id,
            ("assign", c.Assign(handler_id="handler-1"), LEADER),
            (
                "propose_disposition",
                c.ProposeDisposition(disposition=disposition, reason="拟办"),
                HANDLER,
            ),
            (
                "approve_disposition",
                c.ApproveDisposition(
                    collective_study=c.CollectiveStudy(
                        held_on=dt.date(2026, 1, 5), participants=["张部长", "刘科长"]
                    )
                ),
                LEADER,
            ),
        )
        return ["DispositionApproved"]

    def verify(
        self,
        case_id: str,
        categories: tuple[str, ...],
        verdict: Verdict,
        found_on: dt.date,
        *,
        per_cadre: dict[str, Verdict] | None = None,
    ) -> list[str]:
        """Verified and concluded: ``verdict`` on each category, or (``per_cadre``) each
        registered cadre's own verdict on each category."""
        proposal = (
            c.ProposeConclusion(verdicts=dict.fromkeys(categories, verdict), reason="核实")  # type: ignore[arg-type]
            if per_cadre is None
            else c.ProposeConclusion(
                cadre_verdicts=[
                    c.CadreVerdict(cadre=c.CadreRef(cadre_id=who), category=cat, verdict=v)  # type: ignore[arg-type]
                    for who, v in per_cadre.items()
                    for cat in categories
                ],
                reason="分别核实",
            )
        )
        kinds = self.dispose(case_id, Disposition.PRELIMINARY_VERIFICATION)
        self.run(
            case_id,
            (
                "record_finding",
                c.RecordFinding(
                    kind=FindingKind.AUDIT, summary="经济责任审计发现问题", found_on=found_on
                ),
                HANDLER,
            ),
            ("propose_conclusion", proposal, HANDLER),
            ("approve_conclusion", c.Approve(), LEADER),
        )
        return [*kinds, "FindingRecorded", "ConclusionApproved"]

    def inquire(self, case_id: str, categories: tuple[str, ...], verdict: Verdict) -> list[str]:
        kinds = self.dispose(case_id, Disposition.TALK_INQUIRY)
        self.run(
            case_id,
            ("send_inquiry_letter", c.SendInquiryLetter(sent_on=dt.date(2026, 1, 6)), HANDLER),
            (
                "record_inquiry_reply",
                c.RecordInquiryReply(received_on=dt.date(2026, 1, 20), document_ref="HF-1"),
                HANDLER,
            ),
            (
                "evaluate_inquiry_reply",
                c.EvaluateInquiryReply(outcome=InquiryOutcome.CLARIFIED, reason="说明清楚"),
                HANDLER,
            ),
            (
                "propose_conclusion",
                c.ProposeConclusion(verdicts=dict.fromkeys(categories, verdict), reason="函询"),  # type: ignore[arg-type]
                HANDLER,
            ),
            ("approve_conclusion", c.Approve(), LEADER),
        )
        return [
            *kinds,
            "InquiryLetterSent",
            "InquiryReplyReceived",
            "InquiryReplyEvaluated",
            "ConclusionApproved",
        ]

    def handle(
        self, case_id: str, cadre: c.CadreRef, handling: HandlingType, on: dt.date
    ) -> list[str]:
        self.run(
            case_id,
            (
                "decide_handling",
                c.DecideHandling(cadre=cadre, handling=handling, decided_on=on, reason="依规处理"),
                LEADER,
            ),
        )
        return ["HandlingDecided"]

    def clear(self, case_id: str, cadre: c.CadreRef, on: dt.date) -> list[str]:
        self.run(
            case_id,
            ("propose_clearing", c.ProposeClearing(cadre=cadre, reason="反映不属实"), HANDLER),
            ("approve_clearing", c.Approve(), LEADER),
            (
                "carry_out_clearing",
                c.CarryOutClearing(
                    method=ClearingMethod.PARTY_COMMITTEE_NOTICE,
                    scope="所在单位党组",
                    carried_out_on=on,
                ),
                HANDLER,
            ),
        )
        return ["ClearingProposed", "ClearingApproved", "ClearingCarriedOut"]

    def close(self, case_id: str, on: dt.date, **explanations: str) -> list[str]:
        self.run(case_id, ("close", c.Close(closed_on=on, explanations=explanations), LEADER))
        return ["Closed"]


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path))
    stand_in_handlers(system)
    system.read.register.upsert(REGISTER)
    yield system
    system.stop()


def archives(system: EmbeddedSystem) -> ArchiveQueries:
    return ArchiveQueries(system.read.store, system.read.register)


def kinds_by_case(view: CadreArchive) -> dict[str, list[str]]:
    return {case.case_id: [e.kind for e in case.entries] for case in view.cases}


# -- the archive of one cadre ------------------------------------------------------------------


def test_the_archive_holds_every_report_and_step_with_dates_and_ledger_numbers(
    system: EmbeddedSystem,
) -> None:
    drive = Driver(system)
    me = [{"name": "王建国", "unit": FINANCE, "cadre_id": "C-001"}]
    cats = ("seeking_office", "vote_buying")
    hotline, hotline_ledger, proven = drive.submit(
        me, categories=cats, reporter=real_name_reporter()
    )
    referral = {
        "source": "member_unit",
        "member_unit": MemberUnit.AUDIT_BUREAU.value,
        "reference": "审计移送〔2025〕3号",
    }
    referred, _, cleared = drive.submit(
        [{"name": "王建国", "unit": FINANCE}], channel="referral", referral=referral
    )
    assert proven
    assert cleared
    drive.verify(proven, cats, Verdict.TRUE, dt.date(2026, 1, 10))
    drive.handle(proven, c.CadreRef(cadre_id="C-001"), HandlingType.DISMISSAL, dt.date(2026, 2, 1))
    drive.close(proven, dt.date(2026, 2, 3))
    drive.run(proven, ("reopen", c.NewEvidence(new_evidence="新材料"), LEADER))
    drive.inquire(cleared, ("seeking_office",), Verdict.UNTRUE)
    drive.clear(cleared, c.CadreRef(name="王建国", unit=FINANCE), dt.date(2026, 2, 10))
    drive.run(
        cleared,
        (
            "suspect_false_accusation",
            c.SuspectFalseAccusation(
                accuser=c.Accuser(name="钱某"),
                accuser_status="party_member",  # type: ignore[arg-type]
                reason="捏造事实",
            ),
            LEADER,
        ),
    )
    drive.close(cleared, dt.date(2026, 2, 12))
    system.catch_up()

    view = archives(system).archive("C-001")

    assert {i.report_id for i in view.items} == {hotline, referred}
    by_report = {i.report_id: i for i in view.items}
    assert by_report[referred].channel == "referral"
    assert by_report[referred].referral is not None
    assert by_report[referred].referral["member_unit"] == "audit_bureau"
    assert by_report[referred].identified_by == "exact_name_and_unit"
    assert by_report[hotline].identified_by == "register_id"
    assert by_report[hotline].ledger_number == hotline_ledger
    kinds = kinds_by_case(view)
    assert kinds[proven] == [
        "CaseOpened",
        "DispositionApproved",
        "FindingRecorded",
        "ConclusionApproved",
        "HandlingDecided",
        "Closed",
        "Reopened",
    ]
    assert kinds[cleared] == [
        "CaseOpened",
        "DispositionApproved",
        "InquiryLetterSent",
        "InquiryReplyReceived",
        "InquiryReplyEvaluated",
        "ConclusionApproved",
        "ClearingProposed",
        "ClearingApproved",
        "ClearingCarriedOut",
        "FalseAccusationSuspected",
        "Closed",
    ]
    cases = {case.case_id: case for case in view.cases}
    assert cases[proven].state == "assigned"  # reopened: it needs a new disposition
    assert cases[proven].conclusion is None  # the reopened case's conclusion is not final
    assert cases[cleared].state == "closed"
    assert cases[cleared].closed_on == dt.date(2026, 2, 12)
    assert cases[cleared].conclusion is not None
    assert cases[cleared].conclusion.overall == "untrue"
    for case in view.cases:
        assert all(e.case_id == case.case_id and e.ledger_number for e in case.entries)
    entries = {e.kind: e for case in view.cases for e in case.entries}
    assert entries["FindingRecorded"].on == dt.date(2026, 1, 10)
    assert entries["FindingRecorded"].detail["kind"] == "audit"
    handling = entries["HandlingDecided"]
    assert handling.on == dt.date(2026, 2, 1)
    assert "免职" in handling.text_zh
    assert {(p.bar, p.ends_on) for p in handling.effects} == {
        ("leading_post", dt.date(2027, 2, 1)),
        ("promotion", dt.date(2028, 2, 1)),
    }
    carried = entries["ClearingCarriedOut"]
    assert carried.on == dt.date(2026, 2, 10)
    assert carried.detail["scope"] == "所在单位党组"
    link = entries["FalseAccusationSuspected"]
    assert set(link.detail) == {"false_accusation_case_id", "suspected_on"}  # no accuser
    assert link.on == dt.date.fromisoformat(link.detail["suspected_on"])
    assert entries["Closed"].on in {dt.date(2026, 2, 3), dt.date(2026, 2, 12)}
    # No reporter identity anywhere: not the vault's secrets, not the accuser's status.
    text = view.model_dump_json()
    for secret in (*SECRETS, "party_member", "纪委监委（党纪处理）"):
        assert secret not in text


def test_a_handling_or_clearing_goes_only_to_the_cadre_it_names(system: EmbeddedSystem) -> None:
    drive = Driver(system)
    both = [
        {"name": "王建国", "unit": FINANCE, "cadre_id": "C-001"},
        {"name": "李明华", "unit": EDUCATION, "cadre_id": "C-002"},
    ]
    _, _, case_id = drive.submit(both)
    assert case_id
    drive.verify(
        case_id,
        ("seeking_office",),
        Verdict.PARTLY_TRUE,
        dt.date(2026, 1, 10),
        per_cadre={"C-001": Verdict.UNTRUE, "C-002": Verdict.PARTLY_TRUE},
    )
    drive.handle(
        case_id, c.CadreRef(cadre_id="C-002"), HandlingType.ADMONITION, dt.date(2026, 2, 1)
    )
    system.catch_up()

    my_case = archives(system).archive("C-001").cases[0]
    mine = kinds_by_case(archives(system).archive("C-001"))[case_id]
    theirs = archives(system).archive("C-002")

    assert "HandlingDecided" not in mine
    assert "ConclusionApproved" in mine  # the conclusion belongs to both, each their own part
    assert my_case.conclusion is not None
    assert my_case.conclusion.overall == "untrue"
    (approved,) = [e for e in my_case.entries if e.kind == "ConclusionApproved"]
    assert "cadre_verdicts" not in approved.detail
    assert "李明华" not in approved.model_dump_json()
    assert theirs.cases[0].conclusion is not None
    assert theirs.cases[0].conclusion.overall == "partly_true"
    (handling,) = [e for e in theirs.cases[0].entries if e.kind == "HandlingDecided"]
    assert handling.cadre == {"name": "李明华", "unit": EDUCATION, "cadre_id": "C-002"}
    assert {(p.bar, p.months) for p in handling.effects} == {("promotion", 6), ("key_post", 6)}


# -- a random history, checked against the commands given ---------------------------------------

PATHS = (
    "proven",
    "cleared",
    "untrue",
    "unproven",
    "closed_by_disposition",
    "open",
    "parked",
    "transferred",
    "referred_out",
)
HANDLINGS = list(HandlingType)
NAMES = {c.cadre_id: c for c in REGISTER}
UNREGISTERED = [("钱卫东", "某县水利局"), ("孙 丽", "某县卫健局")]


def drive_path(
    drive: Driver, path: str, subject: dict[str, Any], chance: Random
) -> tuple[
    str, str, str | None, list[str], list[tuple[HandlingType, dt.date, str]], dt.date | None
]:
    """Submit one report about ``subject`` and run its case along ``path``."""
    cats = tuple(chance.sample([c.value for c in Category if c is not Category.OTHER_CONDUCT], 2))
    if path == "referred_out":
        cats = ("other_conduct",)  # waits for an operator, who refers it out
    received = dt.date(2025, 1, 1) + dt.timedelta(days=chance.randint(0, 400))
    report_id, ledger, case_id = drive.submit([subject], categories=cats, received_on=received)
    if path == "referred_out":
        drive.system.intake.triage(
            UUID(report_id),
            "refer_out",
            c.ReferOut(member_unit=MemberUnit.DISCIPLINE_COMMISSION),
            OPERATOR,
        )
        return report_id, ledger, None, [], [], None
    assert case_id
    cadre = (
        c.CadreRef(cadre_id=subject["cadre_id"])
        if subject.get("cadre_id")
        else c.CadreRef(name=subject["name"], unit=subject["unit"])
    )
    kinds = ["CaseOpened"]
    handlings: list[tuple[HandlingType, dt.date, str]] = []
    cleared_on = None
    day = dt.date(2025, 6, 1) + dt.timedelta(days=chance.randint(0, 300))
    if path in ("open",):
        drive.run(case_id, ("assign", c.Assign(handler_id="handler-1"), LEADER))
    elif path in ("parked", "transferred", "closed_by_disposition"):
        disposition = {
            "parked": Disposition.PARK,
            "transferred": Disposition.TRANSFER_TO_DISCIPLINE,
            "closed_by_disposition": Disposition.CLOSE,
        }[path]
        kinds += drive.dispose(case_id, disposition)
    elif path == "proven":
        kinds += drive.verify(
            case_id, cats, chance.choice([Verdict.TRUE, Verdict.PARTLY_TRUE]), day
        )
        handling = chance.choice(HANDLINGS)
        kinds += drive.handle(case_id, cadre, handling, day)
        handlings.append((handling, day, "handling"))
        explain = (
            {"admonition_follow_up#1": "随后跟踪"} if handling is HandlingType.ADMONITION else {}
        )
        kinds += drive.close(case_id, day, **explain)
    elif path == "cleared":
        kinds += drive.inquire(case_id, cats, Verdict.UNTRUE)
        kinds += drive.clear(case_id, cadre, day)
        cleared_on = day
        kinds += drive.close(case_id, day)
    else:
        verdict = Verdict.UNTRUE if path == "untrue" else Verdict.UNPROVEN
        kinds += drive.verify(case_id, cats, verdict, day)
        kinds += drive.close(case_id, day)
    return report_id, ledger, case_id, kinds, handlings, cleared_on


def random_history(system: EmbeddedSystem, seed: int, reports: int = 16) -> list[Expected]:
    """Reports about registered and unregistered people along random paths; one unregistered
    name is later identified as a registered cadre, the other merged into it."""
    chance = Random(seed)
    drive = Driver(system)
    expected = []
    for i in range(reports):
        path = PATHS[i % len(PATHS)] if i < len(PATHS) else chance.choice(PATHS)
        if chance.random() < 0.3:
            name, unit = chance.choice(UNREGISTERED)
            subject: dict[str, Any] = {"name": name, "unit": unit}
        else:
            cadre = chance.choice(REGISTER)
            subject = {"name": cadre.name, "unit": cadre.unit, "cadre_id": cadre.cadre_id}
            if chance.random() < 0.3:
                subject = {"name": cadre.name, "unit": cadre.unit}  # exact name, no id
        report_id, ledger, case_id, kinds, handlings, cleared = drive_path(
            drive, path, subject, chance
        )
        who = subject.get("cadre_id") or NAMES_BY_KEY.get(
            candidate_key(subject["name"], subject["unit"]),
            candidate_key(subject["name"], subject["unit"]),
        )
        expected.append(
            Expected(report_id, [who], ledger, case_id, path, kinds, handlings, cleared)
        )
    # The operator: the first unregistered person is cadre C-004; the second is the same person.
    first, second = (candidate_key(n, u) for n, u in UNREGISTERED)
    named = {e.cadre_ids[0]: e for e in expected}
    for key, command in (
        (first, c.IdentifySubject(subject_index=0, cadre_id="C-004")),
        (second, c.IdentifySubject(subject_index=0, same_as_candidate=first)),
    ):
        if key in named:
            system.intake.triage(UUID(named[key].report_id), "identify_subject", command, OPERATOR)
    for e in expected:
        if e.cadre_ids[0] in (first, second):
            e.cadre_ids = ["C-004"]
    system.catch_up()
    return expected


NAMES_BY_KEY = {candidate_key(c.name, c.unit): c.cadre_id for c in REGISTER}


@pytest.mark.parametrize("seed", [3, 11])
def test_every_archive_matches_the_commands_of_a_random_history(
    system: EmbeddedSystem, seed: int
) -> None:
    expected = random_history(system, seed)
    queries = archives(system)

    for cadre in REGISTER:
        mine = [e for e in expected if cadre.cadre_id in e.cadre_ids]
        view = queries.archive(cadre.cadre_id)
        assert {i.report_id: i.ledger_number for i in view.items} == {
            e.report_id: e.ledger_number for e in mine
        }
        kinds = kinds_by_case(view)
        assert set(kinds) == {e.case_id for e in mine if e.case_id}
        for e in mine:
            if e.case_id is None:
                (item,) = [i for i in view.items if i.report_id == e.report_id]
                assert item.status == "referred_out"
                continue
            assert kinds[e.case_id] == e.kinds, e.path
            case = next(x for x in view.cases if x.case_id == e.case_id)
            decided = [
                (x.detail["handling"], x.on) for x in case.entries if x.kind == "HandlingDecided"
            ]
            assert decided == [(h.value, on) for h, on, _ in e.handlings]
            for entry in case.entries:
                if entry.kind == "HandlingDecided":
                    handling = HandlingType(entry.detail["handling"])
                    assert {(p.bar, p.ends_on) for p in entry.effects} == expected_bars(
                        handling, entry.on
                    )
            carried = [x.on for x in case.entries if x.kind == "ClearingCarriedOut"]
            assert carried == ([e.cleared_on] if e.cleared_on else [])


# Default effects (domain.md's table), written out here independently of the code.
DEFAULT_MONTHS: dict[HandlingType, dict[str, int]] = {
    HandlingType.SUSPENSION: {"suspension": 6},
    HandlingType.REASSIGNMENT: {"promotion": 12},
    HandlingType.ORDERED_RESIGNATION: {"leading_post": 12, "promotion": 24},
    HandlingType.DISMISSAL: {"leading_post": 12, "promotion": 24},
    HandlingType.DEMOTION: {"promotion": 24},
    HandlingType.ADMONITION: {"promotion": 6, "key_post": 6},
}


def expected_bars(handling: HandlingType, decided_on: dt.date) -> set[tuple[str, dt.date]]:
    return {
        (bar, add_months(decided_on, months))
        for bar, months in DEFAULT_MONTHS.get(handling, {}).items()
    }


# -- exactness ---------------------------------------------------------------------------------


def test_the_archive_tables_are_idempotent_and_order_tolerant(
    system: EmbeddedSystem, tmp_path: Path
) -> None:
    random_history(system, seed=5, reports=12)
    intake_events, casework_events = all_envelopes(system.intake), all_envelopes(system.casework)
    dumps, views = [], []
    for n, (first, second) in enumerate(
        [(intake_events, casework_events), (casework_events, intake_events)]
    ):
        path = tmp_path / f"read-{n}.sqlite"
        store = ReadStore(Database_for(path), projections=(archive,))
        register = CadreRegister(store)
        register.upsert(REGISTER)
        for batch in (first, second, first[: len(first) // 2], second):  # redeliveries
            store.apply(batch, consumer="c")
        dumps.append(dump_tables(path, list(archive.tables)))
        queries = ArchiveQueries(store, register)
        views.append([queries.archive(c.cadre_id).model_dump() for c in REGISTER])
        views[-1].append([v.model_dump() for v in queries.candidates(include_identified=True)])
        store.db.close()

    assert dumps[0] == dumps[1]
    assert any(dumps[0][t] for t in archive.tables)
    assert views[0] == views[1]
    assert views[0][:-1] == [archives(system).archive(c.cadre_id).model_dump() for c in REGISTER]


def Database_for(path: Path) -> Any:  # noqa: N802
    from services.common.sql import Database

    return Database(sqlite_path=path)


# -- candidates --------------------------------------------------------------------------------


def test_candidates_are_listed_confirmed_and_merged_and_the_archive_follows(
    system: EmbeddedSystem,
) -> None:
    drive = Driver(system)
    first, _, _ = drive.submit([{"name": "张德善", "unit": TRANSPORT, "position": "副局长"}])
    second, _, _ = drive.submit([{"name": "张 德善", "unit": "某县交通运输局 "}])
    other, _, _ = drive.submit([{"name": "张老三", "unit": "某县林业局"}])
    queries = archives(system)

    listed = {v.candidate_key: v for v in queries.candidates()}

    key = candidate_key("张德善", TRANSPORT)
    assert set(listed) == {key, candidate_key("张老三", "某县林业局")}
    assert listed[key].report_count == 2  # one person, written two ways
    assert listed[key].positions == ["副局长"]
    assert listed[key].suggestions[0].cadre.cadre_id == "C-004"  # 张德山, same unit
    assert {r["report_id"] for r in listed[key].report_refs} == {first, second}
    assert queries.archive("C-004").items == []

    system.intake.triage(
        UUID(first),
        "identify_subject",
        c.IdentifySubject(subject_index=0, cadre_id="C-004"),
        OPERATOR,
    )
    system.intake.triage(
        UUID(other),
        "identify_subject",
        c.IdentifySubject(subject_index=0, same_as_candidate=key),
        OPERATOR,
    )
    system.catch_up()

    assert queries.candidates() == []
    (identified,) = queries.candidates(include_identified=True)
    assert identified.identified_as == "C-004"
    assert identified.report_count == 3
    assert identified.merged_keys == [candidate_key("张老三", "某县林业局")]
    view = queries.archive("C-004")
    assert {i.report_id for i in view.items} == {first, second, other}
    assert {i.identified_by for i in view.items} == {"operator"}
    assert len(view.cases) == 3

    # The latest word counts: the merged person is someone else after all.
    system.intake.triage(
        UUID(other),
        "identify_subject",
        c.IdentifySubject(subject_index=0, cadre_id="C-003"),
        OPERATOR,
    )
    system.catch_up()
    assert {i.report_id for i in queries.archive("C-004").items} == {first, second}
    assert {i.report_id for i in queries.archive("C-003").items} == {other}


def test_merges_in_a_cycle_settle_on_one_candidate(system: EmbeddedSystem) -> None:
    drive = Driver(system)
    a, _, _ = drive.submit([{"name": "甲某", "unit": "某单位"}])
    b, _, _ = drive.submit([{"name": "乙某", "unit": "某单位"}])
    key_a, key_b = candidate_key("甲某", "某单位"), candidate_key("乙某", "某单位")
    for report, target in ((a, key_b), (b, key_a)):
        system.intake.triage(
            UUID(report),
            "identify_subject",
            c.IdentifySubject(subject_index=0, same_as_candidate=target),
            OPERATOR,
        )
    system.catch_up()

    (group,) = archives(system).candidates()

    assert group.candidate_key == min(key_a, key_b)
    assert group.report_count == 2


@pytest.mark.parametrize(
    ("subjects", "command", "message"),
    [
        (
            [{"name": "王建国", "unit": FINANCE, "cadre_id": "C-001"}],
            c.IdentifySubject(subject_index=0, cadre_id="C-002"),
            "reported with register id C-001",
        ),
        (
            [{"name": "某甲", "unit": "某单位"}],
            c.IdentifySubject(subject_index=1, cadre_id="C-002"),
            "there is no subject 1",
        ),
        (
            [{"name": "某甲", "unit": "某单位"}],
            c.IdentifySubject(subject_index=0, same_as_candidate="某甲|某单位"),
            "itself",
        ),
    ],
)
def test_a_wrong_identification_is_refused_and_nothing_is_stored(
    system: EmbeddedSystem, subjects: list[dict[str, Any]], command: c.Command, message: str
) -> None:
    report_id, _, _ = Driver(system).submit(subjects)
    stored = system.intake.max_position()

    with pytest.raises(ProcedureError, match=message):
        system.intake.triage(UUID(report_id), "identify_subject", command, OPERATOR)

    assert system.intake.max_position() == stored


def test_only_an_operator_identifies_and_a_target_is_required() -> None:
    with pytest.raises(ValueError, match="exactly one of cadre_id or same_as_candidate"):
        c.IdentifySubject(subject_index=0)
    with pytest.raises(ValueError, match="candidate key"):
        c.IdentifySubject(subject_index=0, same_as_candidate="no-bar")


def test_a_handler_may_not_identify_a_subject(system: EmbeddedSystem) -> None:
    report_id, _, _ = Driver(system).submit([{"name": "某甲", "unit": "某单位"}])

    with pytest.raises(ProcedureError, match="may not"):
        system.intake.triage(
            UUID(report_id),
            "identify_subject",
            c.IdentifySubject(subject_index=0, cadre_id="C-001"),
            Actor(id="h-1", role=Role.HANDLER),
        )


# -- HTTP ----------------------------------------------------------------------------------------


def token(system: EmbeddedSystem, role: Role) -> dict[str, str]:
    username = f"{role.value}-archive"
    try:
        principal = system.accounts.principal(username)
    except LookupError:
        principal = system.accounts.create_user(
            username, "pw-for-tests-only", role, username, enforce_policy=False
        )
    return {"Authorization": f"Bearer {system.accounts.issue_token(principal)}"}


def test_archive_and_candidate_routes_check_who_asks(system: EmbeddedSystem) -> None:
    Driver(system).submit(
        [{"name": "王建国", "unit": FINANCE, "cadre_id": "C-001"}], reporter=real_name_reporter()
    )
    Driver(system).submit([{"name": "某甲", "unit": "某单位"}])
    with TestClient(system.web_app()) as client:
        assert client.get("/api/v1/cadres/C-001/archive").status_code == 401
        assert client.get("/api/v1/cadre-candidates").status_code == 401
        liaison = token(system, Role.LIAISON)
        assert client.get("/api/v1/cadres/C-001/archive", headers=liaison).status_code == 403
        assert client.get("/api/v1/cadre-candidates", headers=liaison).status_code == 403
        assert (
            client.get("/api/v1/cadre-candidates", headers=token(system, Role.HANDLER)).status_code
            == 403
        )

        found = client.get("/api/v1/cadres/C-001/archive", headers=token(system, Role.LEADER))
        missing = client.get("/api/v1/cadres/C-404/archive", headers=token(system, Role.LEADER))
        candidates = client.get("/api/v1/cadre-candidates", headers=token(system, Role.OPERATOR))

    assert found.status_code == 200, found.text
    body = found.json()
    assert body["cadre"]["cadre_id"] == "C-001"
    assert [e["kind"] for e in body["cases"][0]["entries"]] == ["CaseOpened"]
    for secret in SECRETS:
        assert secret not in found.text
    assert missing.status_code == 404
    assert "no cadre 'C-404' in the register" in missing.json()["detail"]
    assert [c["name"] for c in candidates.json()] == ["某甲"]


def test_the_archive_projection_keeps_no_reporter_identity(system: EmbeddedSystem) -> None:
    Driver(system).submit(
        [{"name": "王建国", "unit": FINANCE, "cadre_id": "C-001"}], reporter=real_name_reporter()
    )
    rows = {t: system.read.store.query(f"SELECT * FROM {t}") for t in archive.tables}
    text = json.dumps(rows, ensure_ascii=False, default=str)
    assert rows["archive_reports"]
    for secret in SECRETS:
        assert secret not in text
    assert "reporter" not in text  # not even the pseudonymous reference


def test_identify_subject_over_http_is_for_operators_and_checks_its_body(
    system: EmbeddedSystem,
) -> None:
    report_id, _, _ = Driver(system).submit([{"name": "某甲", "unit": "某单位"}])
    path = f"/api/v1/reports/{report_id}/identify_subject"
    with TestClient(system.web_app()) as client:
        leader = client.post(
            path, json={"subject_index": 0, "cadre_id": "C-001"}, headers=token(system, Role.LEADER)
        )
        operator = token(system, Role.OPERATOR)
        both = client.post(
            path,
            json={"subject_index": 0, "cadre_id": "C-001", "same_as_candidate": "某乙|某单位"},
            headers=operator,
        )
        ok = client.post(path, json={"subject_index": 0, "cadre_id": "C-001"}, headers=operator)
        system.catch_up()

    assert leader.status_code == 403
    assert both.status_code == 422
    assert "exactly one of cadre_id or same_as_candidate" in both.text
    assert ok.status_code == 200, ok.text
    assert "identify_subject" in ok.json()["allowed_actions"]
    (item,) = archives(system).archive("C-001").items
    assert item.report_id == report_id
    assert item.identified_by == "operator"
