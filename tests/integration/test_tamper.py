"""`jiandu verify` finds an altered, removed or re-sealed event in PostgreSQL.

Cases are built through the applications on a fresh database; then the stored events
are changed behind the system's back with plain SQL, as someone with database access
could, and the `jiandu verify` command is run as a separate process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from schemas import commands as c
from schemas.events import Actor
from schemas.glossary import Category, Disposition, FindingKind, Role, Verdict
from services.bootstrap import EmbeddedSystem
from services.casework.chain import event_fields
from tests.integration.helpers import TEST_KEY, hotline_report, pg_settings
from tests.unit.conftest import build_embedded, stand_in_handlers

pytestmark = pytest.mark.integration

JIANDU = Path(sys.executable).with_name("jiandu")
LEADER = {"id": "leader-1", "role": "leader"}
HANDLER = {"id": "h-1", "role": "handler"}
STUDY = c.CollectiveStudy(held_on=dt.date(2026, 11, 12), participants=["李科长", "王副科长"])
TOPIC = "jiandu.casework:Case."


@dataclass
class Store:
    dsn: str
    data_dir: Path
    system: EmbeddedSystem
    closed: UUID  # 8 events, the 8th: Closed
    parked: UUID  # 5 events, the 5th: ParkedCaseReviewed
    inquiry: UUID  # 5 events, the 5th: InquiryLetterSent


def _case(
    system: EmbeddedSystem, n: int, steps: list[tuple[str, c.Command, dict[str, str]]]
) -> UUID:
    receipt = system.intake.submit(hotline_report(n))
    report = system.intake.triage(
        UUID(receipt.report_id), "accept", c.Accept(), Actor(id="op-1", role=Role.OPERATOR)
    )
    system.catch_up()
    assert report.case_id is not None
    case_id = report.case_id
    for action, command, actor in steps:
        system.casework.execute(case_id, action, command, actor)
    return case_id


def _disposed(disposition: Disposition) -> list[tuple[str, c.Command, dict[str, str]]]:
    return [
        ("assign", c.Assign(handler_id="h-1"), LEADER),
        (
            "propose_disposition",
            c.ProposeDisposition(disposition=disposition, reason="线索具体"),
            HANDLER,
        ),
        ("approve_disposition", c.ApproveDisposition(collective_study=STUDY), LEADER),
    ]


@pytest.fixture
def store(pg_dsn: str, tmp_path: Path) -> Iterator[Store]:
    system = build_embedded(pg_settings(pg_dsn, tmp_path))
    stand_in_handlers(system)
    try:
        closed = _case(
            system,
            1,
            [
                *_disposed(Disposition.PRELIMINARY_VERIFICATION),
                (
                    "record_finding",
                    c.RecordFinding(kind=FindingKind.INTERVIEW, summary="与该局5名干部个别谈话"),
                    HANDLER,
                ),
                (
                    "propose_conclusion",
                    c.ProposeConclusion(
                        verdicts={Category.VOTE_BUYING: Verdict.UNTRUE}, reason="查无实据"
                    ),
                    HANDLER,
                ),
                ("approve_conclusion", c.Approve(reason="同意"), LEADER),
                ("close", c.Close(closed_on=dt.date(2026, 11, 20), reason="办结"), LEADER),
            ],
        )
        parked = _case(
            system,
            2,
            [
                *_disposed(Disposition.PARK),
                ("review_parked", c.ReviewParked(reason="暂无新线索，继续暂存"), HANDLER),
            ],
        )
        inquiry = _case(
            system,
            3,
            [
                *_disposed(Disposition.TALK_INQUIRY),
                ("send_inquiry_letter", c.SendInquiryLetter(sent_on=dt.date(2026, 9, 25)), HANDLER),
            ],
        )
        yield Store(pg_dsn, tmp_path, system, closed, parked, inquiry)
    finally:
        system.stop()


def verify(store: Store) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIANDU_")}
    env |= {
        "JIANDU_DATABASE_URL": store.dsn,
        "JIANDU_SECRET_KEY": TEST_KEY,
        "JIANDU_DATA_DIR": str(store.data_dir),
    }
    return subprocess.run(
        [str(JIANDU), "verify"],
        env=env,
        cwd=store.data_dir,  # no stray .env is read
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def rows(dsn: str, case_id: UUID) -> list[tuple[int, str, dict[str, Any]]]:
    with psycopg.connect(dsn) as conn:
        found = conn.execute(
            "SELECT originator_version, topic, state FROM casework.casework_events "
            "WHERE originator_id = %s ORDER BY originator_version",
            (case_id,),
        ).fetchall()
    return [(v, t, json.loads(bytes(s))) for v, t, s in found]


def write(dsn: str, case_id: UUID, version: int, state: dict[str, Any]) -> None:
    with psycopg.connect(dsn) as conn:
        updated = conn.execute(
            "UPDATE casework.casework_events SET state = %s "
            "WHERE originator_id = %s AND originator_version = %s",
            (json.dumps(state, ensure_ascii=False).encode(), case_id, version),
        ).rowcount
    assert updated == 1


def broken_line(case_id: UUID, version: int, event: str) -> str:
    return f"BROKEN case {case_id} at event {version} ({TOPIC}{event})"


def test_an_altered_reason_or_date_is_found_at_its_event(store: Store) -> None:
    intact = verify(store)
    assert intact.returncode == 0, intact.stderr
    assert (
        "3 records checked (cases, selections, supervision projects): every chain is intact"
        in intact.stdout
    )
    assert [(v, t.removeprefix(TOPIC)) for v, t, _ in rows(store.dsn, store.closed)][-1] == (
        8,
        "Closed",
    )

    # A date inside the Closed event (the 8th of its case) is moved back ten days.
    *_, (version, topic, closed) = rows(store.dsn, store.closed)
    assert closed["closed_on"] == {"_type_": "date_iso", "_data_": "2026-11-20"}
    closed["closed_on"]["_data_"] = "2026-11-10"
    write(store.dsn, store.closed, version, closed)
    # The reason of the ParkedCaseReviewed event (the 5th) is reworded.
    *_, (version, topic, review) = rows(store.dsn, store.parked)
    assert (version, topic, review["reason"]) == (
        5,
        f"{TOPIC}ParkedCaseReviewed",
        "暂无新线索，继续暂存",
    )
    review["reason"] = "已发现新线索，但决定继续暂存"
    write(store.dsn, store.parked, version, review)

    result = verify(store)
    assert result.returncode == 1, result.stdout
    assert broken_line(store.closed, 8, "Closed") in result.stderr
    assert broken_line(store.parked, 5, "ParkedCaseReviewed") in result.stderr
    assert "altered" in result.stderr
    assert str(store.inquiry) not in result.stderr
    assert "2 of 3 records have a broken chain" in result.stderr
    assert "every chain is intact" not in result.stdout


def test_a_deleted_middle_event_is_reported_missing(store: Store) -> None:
    with psycopg.connect(store.dsn) as conn:
        deleted = conn.execute(
            "DELETE FROM casework.casework_events "
            "WHERE originator_id = %s AND originator_version = 3",
            (store.inquiry,),
        ).rowcount
    assert deleted == 1

    result = verify(store)
    assert result.returncode == 1, result.stdout
    assert f"BROKEN case {store.inquiry} at event 3 " in result.stderr
    assert "event 3 is missing" in result.stderr
    assert str(store.closed) not in result.stderr
    assert "1 of 3 records have a broken chain" in result.stderr


def public_seal(
    previous: str, topic: str, version: int, timestamp: dt.datetime, fields: dict[str, Any]
) -> str:
    """The seal as chain.py documents it, computed without any secret (a forger's tool)."""

    def plain(value: Any) -> str:
        if isinstance(value, dt.date | UUID):
            return value.isoformat() if isinstance(value, dt.date) else str(value)
        raise TypeError(type(value).__name__)

    body = {
        "previous": previous,
        "topic": topic,
        "version": version,
        "timestamp": timestamp.isoformat(),
        "fields": fields,
    }
    text = json.dumps(
        body, sort_keys=True, ensure_ascii=False, default=plain, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()


def test_an_event_re_sealed_by_someone_without_the_key_is_still_found(store: Store) -> None:
    """Someone with database access, but not JIANDU_SECRET_KEY, rewrites the finding and
    recomputes every later seal with the (public) chain algorithm. The seal must depend
    on a secret for the full-process record to prove anything against them."""
    mapper = store.system.casework.mapper
    events = rows(store.dsn, store.closed)
    assert events[4][1] == f"{TOPIC}FindingRecorded"
    previous = events[3][2]["chain"]  # the seal before the finding stays as stored
    for version, topic, state in events[4:]:
        if version == 5:
            state["summary"] = "谈话中多人证实其宴请拉票"
        event: Any = mapper.to_domain_event(
            StoredEvent(
                originator_id=store.closed,
                originator_version=version,
                topic=topic,
                state=json.dumps(state).encode(),
            )
        )
        state["chain"] = previous = public_seal(
            previous, topic, version, event.timestamp, event_fields(event)
        )
        write(store.dsn, store.closed, version, state)

    result = verify(store)
    assert result.returncode == 1, result.stdout
    assert broken_line(store.closed, 5, "FindingRecorded") in result.stderr
