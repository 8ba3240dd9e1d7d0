"""Exactness of the read models: incremental projection in any order equals a rebuild, and a
projection added or changed later catches up from the event stores on its own.

A seeded random history (submissions from every channel, triage outcomes, case commands
along and across the procedure) is written through the embedded system's applications;
its events are projected incrementally in random batches, with redeliveries, with the
intake and casework streams split into partitions and interleaved at random (each
aggregate's order kept, as Kafka keeps it); every table of every projection in
``store.PROJECTIONS`` is dumped, rebuilt from the event stores, dumped again: equal.
"""

from __future__ import annotations

import time
import types
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from random import Random
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from schemas import commands as c
from schemas.events import SOURCES, Actor, EventEnvelope
from schemas.glossary import Category, IdentityCheck, MemberUnit, ReferralSource, Role
from schemas.submissions import ReportSubmission
from services import cli
from services.bootstrap import EmbeddedSystem
from services.casework.application import CaseworkApplication
from services.casework.handlers import COMMANDS
from services.casework.rules import PERMISSIONS
from services.common.application import JianduApplication
from services.common.procedure import ProcedureError
from services.common.sql import Database
from services.intake.application import IntakeApplication
from services.intake.domain import TRIAGE
from services.projections import store as store_module
from services.projections.archive import projection as archive
from services.projections.catchup import catch_up
from services.projections.rebuild import rebuild_store
from services.projections.rows import Upsert
from services.projections.store import LIVE, ProjectionsNotReady, ReadStore
from services.projections.timeline import projection as timeline
from tests.unit.conftest import (
    REPORTER_EMAIL,
    REPORTER_ID_NUMBER,
    REPORTER_NAME,
    REPORTER_PHONE,
    build_embedded,
    make_settings,
    real_name_reporter,
    receiver_result,
    stand_in_handlers,
)
from tests.unit.project_history import ProjectWriter
from tests.unit.selection_history import SelectionWriter
from tests.unit.test_case_properties import request as case_request

Dump = dict[str, list[tuple[Any, ...]]]

# -- a random history ------------------------------------------------------------------------

SUBJECTS: list[dict[str, Any]] = [
    {"name": "王建国", "unit": "某县财政局", "position": "局长", "cadre_id": "C-001"},
    {"name": "李明", "unit": "某县教育局", "position": "副局长", "cadre_id": "C-002"},
    {"name": "赵强", "unit": "某镇人民政府", "position": "镇长"},  # not in the register
    {"name": "陈红", "unit": "某县交通运输局", "position": "局长", "cadre_id": "C-003"},
]
CHANNELS = ["hotline", "mailbox", "letter", "visit", "referral", "internal"]
CATEGORIES = [
    Category.SEEKING_OFFICE,
    Category.VOTE_BUYING,
    Category.EXCESS_POSTS,
    Category.OTHER_CONDUCT,
]  # fmt: skip  (other conduct: no acceptance on registration)
TRIAGE_ACTIONS = [
    "accept", "mark_repeat", "forward_up", "transfer_down", "acknowledge_transfer", "refer_out",
    "record_referral_result", "record_transfer_result", "propose_return", "approve_return",
    "reject_return",
    "verify_identity", "send_acceptance_notice",
]  # fmt: skip
ACTIONS = sorted(COMMANDS)


class HistoryWriter:
    """Writes a random but lawful-looking history through the applications (refusals are
    part of it: a refused command stores nothing)."""

    def __init__(self, intake: IntakeApplication, casework: CaseworkApplication, seed: int):
        self.intake, self.casework = intake, casework
        self.seed = seed
        self.chance = Random(seed)
        self.reports: list[UUID] = []
        self.cases: list[UUID] = []
        self._case_cursor = 0
        self.accepted = {"submit": 0, "triage": 0, "case": 0}

    def write(self, steps: int) -> None:
        for _ in range(steps):
            roll = self.chance.random()
            if roll < 0.2 or not self.reports:
                self.submit()
            elif roll < 0.4:
                self.triage()
            elif self.cases:
                self.case_step()
            self.pump()

    def pump(self) -> None:
        """Intake's events to casework (what the embedded follower or Kafka does)."""
        pending, _ = self.intake.read_envelopes(self.casework.position("intake"), 100_000)
        for envelope in pending:
            self.casework.handle(envelope, upstream="intake")
        opened, self._case_cursor = self.casework.read_envelopes(self._case_cursor, 100_000)
        self.cases += [e.aggregate_id for e in opened if e.event_type == "CaseOpened"]

    def submit(self) -> None:
        pick, n = self.chance, len(self.reports)
        channel = pick.choice(CHANNELS)
        data: dict[str, Any] = {
            "channel": channel,
            "reporter": real_name_reporter() if pick.random() < 0.4 else {"anonymous": True},
            "subjects": pick.sample(SUBJECTS, pick.randint(1, 2)),
            "categories": pick.sample(CATEGORIES, pick.randint(1, 2)),
            "summary": f"反映有关干部选拔任用问题（第{n}件）",
            "sealed": pick.random() < 0.05,
        }
        if channel == "referral":
            data["referral"] = pick.choice(
                [
                    {"source": ReferralSource.MEMBER_UNIT, "member_unit": pick.choice(list(MemberUnit))},
                    {"source": ReferralSource.LEVEL_ABOVE, "reference": f"转办〔2026〕{n}号"},
                ]
            )  # fmt: skip
        receipt = self.intake.submit(
            ReportSubmission.model_validate(data), idempotency_key=f"history-{self.seed}-{n}"
        )
        self.reports.append(UUID(receipt.report_id))
        self.accepted["submit"] += 1
        if pick.random() < 0.7:  # most reports are accepted (受理) by the operator at once
            try:
                self.intake.triage(
                    UUID(receipt.report_id),
                    "accept",
                    c.Accept(reason="属于受理范围"),
                    Actor(id="operator-1", role=Role.OPERATOR),
                )
            except ProcedureError:
                return  # accepted before under the same key

    def triage(self) -> None:
        pick = self.chance
        report_id = pick.choice(self.reports)
        status = self.intake.get_report(report_id).status
        allowed = [a for a in TRIAGE_ACTIONS if status in TRIAGE[a][1]]
        action = pick.choice(allowed if allowed and pick.random() < 0.85 else TRIAGE_ACTIONS)
        role = pick.choice(sorted(r.value for r in TRIAGE[action][0] if r is not Role.SYSTEM))
        command: c.Command
        match action:
            case "accept":
                joins = pick.choice(self.cases) if self.cases and pick.random() < 0.2 else None
                command = c.Accept(join_case_id=joins, reason="属于受理范围")
            case "mark_repeat":
                command = c.MarkRepeat(of_report_id=pick.choice(self.reports), reason="重复举报")
            case "forward_up":
                command = c.ForwardUp(to_authority="省委组织部", reason="属上级管理")
            case "transfer_down":
                command = c.TransferDown(to_unit="某县委组织部", reason="属下级管理")
            case "refer_out":
                command = c.ReferOut(member_unit=pick.choice(list(MemberUnit)), reason="属其职责")
            case "record_referral_result" | "record_transfer_result":
                model = (
                    c.RecordReferralResult
                    if action == "record_referral_result"
                    else c.RecordTransferResult
                )
                verdict = pick.choice(["true", "untrue", "unproven"])
                command = receiver_result(self.intake, report_id, model, verdict)
            case "propose_return" | "reject_return":
                command = c.ReturnWithReason(reason="不属于受理范围")
            case "approve_return":
                command = c.Approve()
            case "verify_identity":
                command = c.VerifyIdentity(method=pick.choice(list(IdentityCheck)))
            case "send_acceptance_notice":
                command = c.SendAcceptanceNotice()
            case _:
                command = c.AcknowledgeTransfer()
        try:
            self.intake.triage(report_id, action, command, Actor(id=f"{role}-1", role=Role(role)))
        except ProcedureError:
            return
        self.accepted["triage"] += 1

    def case_step(self) -> None:
        pick = self.chance
        case_id = pick.choice(self.cases)
        case = self.casework.get_case(case_id)
        allowed = [a for a, p in PERMISSIONS.items() if case.state in p.states]
        if pick.random() < 0.15 or not allowed:
            action = pick.choice(ACTIONS)
        else:
            weights = {"close": 1, "decide_handling": 6, "assign": 2}
            (action,) = pick.choices(allowed, [weights.get(a, 3) for a in allowed])
        role = pick.choice(sorted(r.value for r in PERMISSIONS[action].roles))
        actor = {"id": f"{role}-1", "role": role}
        if role == "handler":
            actor["id"] = case.handler_id or "handler-1"
        try:
            self.casework.execute(case_id, action, case_request(action, case, pick), actor)
        except ProcedureError:
            return
        self.accepted["case"] += 1


# -- projecting it in random order -----------------------------------------------------------


class RandomDelivery:
    """Delivers both logs to a store as Kafka would, at random: each source split into
    partitions by aggregate, the partitions' streams interleaved, random batch sizes, and
    redeliveries (a batch applied twice, a stretch delivered again after a "restart", an old
    stretch delivered late by a "zombie" consumer)."""

    def __init__(self, store: ReadStore, logs: Mapping[str, JianduApplication], chance: Random):
        self.store, self.logs, self.chance = store, logs, chance
        self.partitions = chance.randint(1, 3)
        self.read_to = dict.fromkeys(SOURCES, 0)
        self.streams: dict[tuple[str, int], list[EventEnvelope]] = {}
        self.delivered: dict[tuple[str, int], int] = {}
        self.redeliveries = 0

    def pending(self) -> None:
        for source in SOURCES:
            envelopes, self.read_to[source] = self.logs[source].read_envelopes(
                self.read_to[source], 1_000_000
            )
            for envelope in envelopes:
                partition = envelope.aggregate_id.int % self.partitions
                self.streams.setdefault((source, partition), []).append(envelope)

    def deliver_all(self) -> None:
        self.pending()
        pick = self.chance
        while True:
            open_streams = [
                k for k, events in self.streams.items() if self.delivered.get(k, 0) < len(events)
            ]
            if not open_streams:
                return
            key = pick.choice(open_streams)
            start = self.delivered.get(key, 0)
            end = min(start + pick.randint(1, 8), len(self.streams[key]))
            if pick.random() < 0.15:  # a consumer restarted from an older offset
                start = max(0, start - pick.randint(1, 10))
                self.redeliveries += 1
            batch = self.streams[key][start:end]
            self.store.apply(batch, consumer="random", partition=key[1])
            if pick.random() < 0.1:  # the same batch again (acked late)
                self.store.apply(batch, consumer="random", partition=key[1])
                self.redeliveries += 1
            if pick.random() < 0.15 and start > 0:
                # A zombie: a member that lost the partition in a rebalance delivers an old
                # stretch late, after newer events (only the positions make it harmless).
                old = pick.randint(0, start - 1)
                stale = self.streams[key][old : old + pick.randint(1, 5)]
                self.store.apply(stale, consumer="random", partition=key[1])
                self.redeliveries += 1
            self.delivered[key] = end


# -- dumping ---------------------------------------------------------------------------------


def dump(store: ReadStore, projections: Sequence[types.ModuleType] | None = None) -> Dump:
    """Every row of every table of the projections, sorted: comparable across stores."""
    snapshot: Dump = {}
    for projection in store.projections if projections is None else projections:
        for table in projection.tables:
            rows = store.query(f"SELECT * FROM {table}")
            snapshot[table] = sorted((tuple(sorted(r.items())) for r in rows), key=repr)
    return snapshot


def assert_same(actual: Dump, expected: Dump) -> None:
    assert actual.keys() == expected.keys()
    for table in expected:
        missing = [r for r in expected[table] if r not in actual[table]]
        extra = [r for r in actual[table] if r not in expected[table]]
        problem = (
            f"{table}: {len(missing)} rows missing, {len(extra)} unexpected; "
            f"first missing {missing[:1]}, first unexpected {extra[:1]}"
        )
        assert not missing, problem
        assert not extra, problem


def assert_no_reporter_identity(snapshot: Dump) -> None:
    text = repr(snapshot)
    for secret in (REPORTER_NAME, REPORTER_PHONE, REPORTER_EMAIL, REPORTER_ID_NUMBER):
        assert secret not in text


def logs_of(system: EmbeddedSystem) -> dict[str, JianduApplication]:
    return {"intake": system.intake, "casework": system.casework}


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path / "data"))
    stand_in_handlers(system)
    yield system
    system.stop()


# -- item 3: incremental in any order == rebuild ---------------------------------------------


@pytest.mark.parametrize("seed", [11, 2026, 90210])
def test_random_incremental_projection_equals_a_rebuild(
    system: EmbeddedSystem, tmp_path: Path, seed: int
) -> None:
    started = time.monotonic()
    assert ReadStore(Database(sqlite_path=tmp_path / "x.sqlite")).projections == (
        store_module.PROJECTIONS
    )
    writer = HistoryWriter(system.intake, system.casework, seed)
    selections = SelectionWriter(system.casework, seed)  # the selections' own chance
    projects = ProjectWriter(  # and the projects' own, on those selections and cases
        system.casework, lambda: selections.selections, lambda: writer.cases, seed
    )
    incremental = ReadStore(Database(sqlite_path=tmp_path / "incremental.sqlite"))
    delivery = RandomDelivery(incremental, logs_of(system), Random(seed))
    for _ in range(3):  # the history grows while it is projected
        writer.write(60)
        selections.write(25)
        projects.write(30)
        delivery.deliver_all()
        system.catch_up()  # the embedded followers, in log order, into the system's store
    # The history is not trivial: reports, triage outcomes and case steps were accepted.
    assert writer.accepted["submit"] >= 10
    assert writer.accepted["triage"] >= 5
    assert writer.accepted["case"] >= 20
    assert selections.accepted >= 30
    assert selections.refused >= 3
    stages = incremental.query("SELECT DISTINCT stage FROM selection_list")
    assert len(stages) >= 4, stages
    listed = incremental.query("SELECT selection_id FROM selection_list")  # no report, no case
    assert sorted(r["selection_id"] for r in listed) == sorted(map(str, selections.selections))
    assert incremental.query("SELECT 1 FROM selection_holds WHERE open = 0")  # released
    assert projects.accepted >= 20
    assert projects.refused >= 2
    project_stages = incremental.query("SELECT DISTINCT stage FROM project_list")
    assert len(project_stages) >= 4, project_stages
    opened = incremental.query("SELECT project_id FROM project_list")
    assert sorted(r["project_id"] for r in opened) == sorted(map(str, projects.projects))
    assert incremental.query("SELECT 1 FROM project_deadlines WHERE met_on IS NOT NULL")
    assert delivery.redeliveries > 0
    steps = incremental.query("SELECT step FROM timeline_steps")
    events = sum(len(s) for s in delivery.streams.values())
    assert len(steps) == events
    assert len({s["step"] for s in steps}) >= 10

    before = dump(incremental, store_module.PROJECTIONS)
    embedded = dump(system.read.store, store_module.PROJECTIONS)
    assert_no_reporter_identity(before)
    report = rebuild_store(incremental, logs_of(system), show_progress=False, batch=37)
    after = dump(incremental, store_module.PROJECTIONS)
    assert_same(before, after)
    assert_same(embedded, after)
    assert sorted(report.live) == sorted(p.name for p in store_module.PROJECTIONS)
    assert sum(report.events.values()) == events
    print(
        f"seed {seed}: {events} events in {delivery.partitions} partition(s), "
        f"{delivery.redeliveries} redeliveries, {time.monotonic() - started:.1f}s"
    )


# -- item 1: a projection added later, or changed, catches up on its own ---------------------


def probe_projection(version: int, calls: list[tuple[str, int]]) -> types.ModuleType:
    """A small projection of every aggregate's latest event; records which events it saw."""
    probe = types.ModuleType(f"probe_v{version}")
    extra = ", latest_event TEXT" if version > 1 else ""
    probe.name = "probe"  # type: ignore[attr-defined]
    probe.version = version  # type: ignore[attr-defined]
    probe.tables = ("probe_aggregates",)  # type: ignore[attr-defined]
    probe.ddl = (  # type: ignore[attr-defined]
        "CREATE TABLE IF NOT EXISTS probe_aggregates (aggregate_id TEXT PRIMARY KEY, "
        f"source TEXT NOT NULL, latest_version INTEGER NOT NULL{extra})",
    )

    def project(envelope: EventEnvelope) -> list[Upsert]:
        calls.append((envelope.source, envelope.position))
        values: dict[str, Any] = {
            "source": envelope.source,
            "latest_version": envelope.aggregate_version,
        }
        if version > 1:
            values["latest_event"] = envelope.event_type
        return [Upsert("probe_aggregates", {"aggregate_id": str(envelope.aggregate_id)}, values)]

    probe.project = project  # type: ignore[attr-defined]
    return probe


def fresh_rebuild(
    tmp_path: Path, name: str, projections: Sequence[types.ModuleType], logs: Any
) -> Dump:
    store = ReadStore(Database(sqlite_path=tmp_path / f"{name}.sqlite"), projections)
    rebuild_store(store, logs, show_progress=False)
    return dump(store)


def test_a_new_projection_catches_up_alone_and_a_new_version_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path / "data")
    monkeypatch.setattr(store_module, "PROJECTIONS", (timeline, archive))
    first = build_embedded(settings)
    stand_in_handlers(first)
    writer = HistoryWriter(first.intake, first.casework, seed=7)
    writer.write(80)
    first.catch_up()
    writer.write(40)  # written, not yet projected: the followers are behind
    old = first.read.store
    assert {n: r.status for n, r in old.registrations().items()} == {
        "timeline": LIVE,
        "archive": LIVE,
    }
    behind = {s: old.position("embedded", s) for s in SOURCES}
    assert behind["casework"] < first.casework.max_position()
    untouched = dump(old)
    registered = old.registrations()
    first.stop()

    # A new projection: caught up from the beginning at build, the others left alone.
    calls: list[tuple[str, int]] = []
    probe = probe_projection(1, calls)
    monkeypatch.setattr(store_module, "PROJECTIONS", (timeline, archive, probe))
    second = build_embedded(settings)
    stand_in_handlers(second)
    store = second.read.store
    logs = logs_of(second)
    assert dump(store, [timeline, archive]) == untouched
    assert store.registrations()["timeline"] == registered["timeline"]
    assert store.registrations()["archive"] == registered["archive"]
    assert store.registrations()["probe"].status == LIVE
    replayed = store.replayed()
    assert replayed[("probe", "casework")] == second.casework.max_position()
    published = [
        (e.source, e.position)
        for source in SOURCES
        for e in logs[source].read_envelopes(0, 10**6)[0]
    ]
    assert sorted(calls) == sorted(published)  # every event once, through the probe only
    assert dump(store, [probe]) == fresh_rebuild(tmp_path, "fresh1", [probe], logs)

    # The followers catch the others up; the probe skips what it replayed, takes what is new.
    calls.clear()
    second.catch_up()
    assert calls == []
    writer = HistoryWriter(second.intake, second.casework, seed=8)
    writer.write(40)
    second.catch_up()
    assert calls
    assert all(position > replayed[("probe", source)] for source, position in calls)
    assert len(calls) == len(set(calls))
    assert dump(store, [probe]) == fresh_rebuild(tmp_path, "fresh2", [probe], logs)
    assert dump(store, [timeline, archive]) == fresh_rebuild(
        tmp_path, "fresh3", [timeline, archive], logs
    )
    registered = store.registrations()
    second.stop()

    # A new version of the probe (one more column): rebuilt; the others untouched.
    probe2 = probe_projection(2, calls)
    monkeypatch.setattr(store_module, "PROJECTIONS", (timeline, archive, probe2))
    third = build_embedded(settings)
    stand_in_handlers(third)
    store = third.read.store
    now = store.registrations()
    assert now["probe"].version == 2
    assert now["probe"].status == LIVE
    assert now["timeline"] == registered["timeline"]
    assert now["archive"] == registered["archive"]
    rebuilt = dump(store, [probe2])
    assert rebuilt == fresh_rebuild(tmp_path, "fresh4", [probe2], logs_of(third))
    assert all(dict(row)["latest_event"] for row in rebuilt["probe_aggregates"])
    third.stop()


# -- live batches wait while a projection is rebuilt; catch-ups resume -----------------------


def test_live_batches_wait_while_a_projection_is_caught_up_or_registered_at_another_version(
    system: EmbeddedSystem, tmp_path: Path
) -> None:
    HistoryWriter(system.intake, system.casework, seed=3).write(30)
    logs = logs_of(system)
    envelopes, _ = system.intake.read_envelopes(0, 1_000)
    store = ReadStore(Database(sqlite_path=tmp_path / "r.sqlite"), [timeline, archive])
    catch_up(store, logs)
    assert store.stale() == ()

    # A rebuild has reset the archive and not finished: a live batch changes nothing.
    store.reset([archive], force=True)
    before = dump(store)
    with pytest.raises(ProjectionsNotReady, match="archive is being caught up"):
        store.apply(envelopes, consumer="live")
    assert dump(store) == before
    assert store.position("live", "intake") == 0

    # The rebuild finishes: the batch applies, skipping what the replay brought.
    catch_up(store, logs)
    store.apply(envelopes, consumer="live")
    assert store.position("live", "intake") == envelopes[-1].position
    assert dump(store) == fresh_rebuild(tmp_path, "fresh", [timeline, archive], logs)

    # Code older than the registered version (a newer worker rebuilt it): it waits, writes nothing.
    outdated = types.ModuleType("archive_v0")
    outdated.__dict__.update({k: getattr(archive, k) for k in ("name", "tables", "ddl", "project")})
    outdated.version = archive.version - 1  # type: ignore[attr-defined]
    old_code = ReadStore(store.db, [timeline, outdated])
    with pytest.raises(ProjectionsNotReady, match="registered at version"):
        old_code.apply(envelopes, consumer="old")
    assert old_code.position("old", "intake") == 0


class FailingLog:
    """A log that fails after ``reads`` reads: a catch-up interrupted midway."""

    def __init__(self, app: JianduApplication, reads: int) -> None:
        self.app, self.reads = app, reads

    def max_position(self) -> int:
        return self.app.max_position()

    def read_envelopes(self, after: int, limit: int) -> tuple[list[EventEnvelope], int]:
        if self.reads == 0:
            raise ConnectionError("the event store went away")
        self.reads -= 1
        return self.app.read_envelopes(after, limit)


def test_an_interrupted_catch_up_resumes_where_it_stopped(
    system: EmbeddedSystem, tmp_path: Path
) -> None:
    HistoryWriter(system.intake, system.casework, seed=5).write(60)
    logs = logs_of(system)
    store = ReadStore(Database(sqlite_path=tmp_path / "r.sqlite"), [timeline, archive])
    flaky: Any = {"intake": logs["intake"], "casework": FailingLog(system.casework, reads=2)}
    with pytest.raises(ConnectionError):
        catch_up(store, flaky, batch=10)
    assert set(store.stale()) == {timeline, archive}
    halfway = store.replayed()
    assert halfway[("timeline", "intake")] == system.intake.max_position()
    assert 0 < halfway[("timeline", "casework")] < system.casework.max_position()

    report = catch_up(store, logs, batch=10)
    assert report.reset == []  # resumed, not restarted
    assert sorted(report.live) == ["archive", "timeline"]
    assert report.events["intake"] == 0
    assert store.stale() == ()
    assert dump(store) == fresh_rebuild(tmp_path, "fresh", [timeline, archive], logs)


def test_a_catch_up_leaves_the_planner_statistics_of_the_tables_it_wrote(
    system: EmbeddedSystem, tmp_path: Path
) -> None:
    """After a bulk replay the query planner must not plan on tables it never sampled (on
    PostgreSQL that took a sequential scan for a look-up by an indexed column)."""
    HistoryWriter(system.intake, system.casework, seed=7).write(40)
    store = ReadStore(Database(sqlite_path=tmp_path / "r.sqlite"), [timeline, archive])
    assert store.query("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'") == []
    catch_up(store, logs_of(system))
    sampled = {r["tbl"] for r in store.query("SELECT DISTINCT tbl FROM sqlite_stat1")}
    assert {"timeline_steps", "archive_reports", "archive_entries"} <= sampled
    assert sampled <= set(timeline.tables) | set(archive.tables)


def test_the_rebuild_command_rebuilds_the_embedded_read_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    system = build_embedded(make_settings(data))
    stand_in_handlers(system)
    HistoryWriter(system.intake, system.casework, seed=9).write(60)
    system.catch_up()
    before = dump(system.read.store)
    published = {s: len(logs_of(system)[s].read_envelopes(0, 10**6)[0]) for s in SOURCES}
    system.read.store.query("DELETE FROM timeline_steps")  # a damaged read model
    system.stop()

    for name in ("DATABASE_URL", "INTAKE_DATABASE_URL", "CASEWORK_DATABASE_URL",
                 "PROJECTIONS_DATABASE_URL", "SECRET_KEY"):  # fmt: skip
        monkeypatch.delenv(f"JIANDU_{name}", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the working tree
    result = CliRunner().invoke(cli.app, ["rebuild-projections", "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert f"intake: {published['intake']} events" in result.output
    assert f"casework: {published['casework']} events" in result.output

    again = build_embedded(make_settings(data))
    stand_in_handlers(again)
    try:
        assert dump(again.read.store) == before
    finally:
        again.stop()
