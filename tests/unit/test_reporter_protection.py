"""Issue 10, items 0 and 13 (decision 0013): nothing in intake's events is an unkeyed digest
of a reporter's identity; stores written before are repaired by a recorded migration; an
Idempotency-Key is its submitter's own."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from schemas.events import Actor
from schemas.glossary import Role
from schemas.submissions import RealNameReporter, ReportSubmission
from services.bootstrap import EmbeddedSystem
from services.common.settings import Settings
from services.common.sql import Database
from services.intake.application import IntakeApplication
from services.intake.domain import report_id_for_idempotency_key
from services.intake.errors import IdempotencyKeyReused
from services.intake.keyed import (
    DIGEST_PREFIX,
    LEGACY_PREFIX,
    IntakeKeys,
    is_unkeyed,
    unkeyed_submission_digest,
)
from services.intake.migrations import migration_runs, redact_unkeyed_digests
from tests.support.identity_digests import (
    candidate_digests,
    client_candidates,
    digests_found,
    texts_of,
)
from tests.unit.conftest import (
    OPERATOR,
    REPORTER_NAME,
    REPORTER_PHONE,
    all_envelopes,
    build_embedded,
    build_intake_app,
    make_settings,
    real_name_reporter,
    real_name_submission,
    submission,
)
from tests.unit.pages_support import csrf

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
OTHER_OPERATOR = Actor(id="op-2", role=Role.OPERATOR)
IDENTITY = RealNameReporter.model_validate(real_name_reporter())


def stored_rows(path: Path) -> list[str]:
    """Every cell of every table of intake's SQLite file."""
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return texts_of(row for t in tables for row in conn.execute(f"SELECT * FROM {t}"))


def received_digests(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT state FROM stored_events WHERE topic = 'jiandu.intake:Report.Received'"
        ).fetchall()
    return [json.loads(r[0])["submission_digest"] for r in rows]


@pytest.fixture
def intake_file(settings: Settings) -> Path:
    return settings.data_dir / "intake.sqlite"


def submissions_of_the_reporter() -> list[ReportSubmission]:
    return [
        real_name_submission(),
        real_name_submission(channel="mailbox", summary="网上实名举报王建国跑官要官。"),
        real_name_submission(received_on=dt.date(2026, 2, 27)),
    ]


# -- item 0: no unkeyed digest of identity --------------------------------------------------


def test_no_stored_row_holds_an_unkeyed_digest_of_the_reporters_identity(
    intake: IntakeApplication, intake_file: Path
) -> None:
    sent = submissions_of_the_reporter()
    for i, one in enumerate(sent):
        intake.submit(one, idempotency_key=f"k-{i}", actor=OPERATOR if i != 1 else None)
    digests = candidate_digests(IDENTITY, *sent)
    # the search can find what it looks for: the old digest is among the candidates
    assert unkeyed_submission_digest(sent[0]) in digests

    cells = stored_rows(intake_file)

    assert digests_found(cells, digests) == set()
    assert all(d.startswith(DIGEST_PREFIX) for d in received_digests(intake_file))
    assert not [c for c in cells if REPORTER_NAME in c or REPORTER_PHONE in c]


CLIENT = "203.0.113.77"  # the public's and the staff's address in the HTTP test below
STAFF = "li-ming"


def drive_over_http(system: EmbeddedSystem) -> ReportSubmission:
    """From a known client address: a real-name mailbox report, follow-ups (right and
    wrong), logins (right and wrong) by the API and the page; the mailbox submission."""
    system.accounts.create_user(STAFF, "a-long-enough-password-9", Role.OPERATOR, "李明")
    mailbox = real_name_submission(channel="mailbox", summary="网上实名举报王建国收受礼金。")
    with TestClient(system.web_app(), client=(CLIENT, 50000)) as client:
        receipt = client.post(
            "/api/v1/reports",
            json=mailbox.model_dump(mode="json", exclude_none=True),
            headers={"Idempotency-Key": "mine-1"},
        )
        assert receipt.status_code == 201, receipt.text
        code, password = receipt.json()["query_code"], receipt.json()["password"]
        for given in ("WRONG-PASSWORD", password):
            client.get(f"/api/v1/follow-up/{code}", headers={"X-Follow-Up-Password": given})
        for given in ("wrong-password-1", "a-long-enough-password-9"):
            token = client.post("/api/v1/auth/token", json={"username": STAFF, "password": given})
            assert token.status_code in (200, 401)
            client.post(
                "/login",
                data={"username": STAFF, "password": given, "csrf_token": csrf(client)},
                follow_redirects=False,
            )
        assert token.status_code == 200  # the right one went through
    return mailbox


def test_no_row_of_any_store_holds_an_unkeyed_digest_of_the_reporters_identity(
    tmp_path: Path,
) -> None:
    """Every SQLite file of the embedded system — intake, casework, projections, accounts,
    config — after the reports went through intake, casework and the read models, and the
    public and staff went through the mailbox, the follow-up and the logins over HTTP from
    a known address: no unkeyed digest of the reporter, nor the address or any unkeyed
    digest of it (or of a user name) under the names the counters use."""
    system = build_embedded(make_settings(tmp_path))
    sent = submissions_of_the_reporter()
    try:
        for i, one in enumerate(sent):
            system.intake.submit(one, idempotency_key=f"k-{i}", actor=OPERATOR)
        sent.append(drive_over_http(system))
        system.catch_up()
        files = sorted(tmp_path.glob("*.sqlite"))
        assert {f.stem for f in files} >= {"intake", "casework", "projections", "accounts"}
        cells = [cell for f in files for cell in stored_rows(f)]
        counters = stored_rows(tmp_path / "accounts.sqlite")
    finally:
        system.stop()

    candidates = client_candidates(CLIENT, STAFF)
    # the search can find what it looks for: the old counters' key is among the candidates
    assert hashlib.sha256(f"client:{CLIENT}".encode()).hexdigest() in candidates
    assert digests_found(cells, candidate_digests(IDENTITY, *sent)) == set()
    assert digests_found(cells, candidates) == set()
    # and the counters were written (keyed): the search had something to look through
    assert system.accounts.client_key("mailbox-client", CLIENT) in "".join(counters)


def test_the_relayed_contract_never_carries_a_submission_digest(
    intake: IntakeApplication,
) -> None:
    sent = submissions_of_the_reporter()
    for one in sent:
        intake.submit(one, actor=OPERATOR)
    payloads = [e.payload for e in all_envelopes(intake) if e.event_type == "ReportReceived"]

    assert len(payloads) == len(sent)
    assert not [p for p in payloads if "submission_digest" in p]
    texts = [str(p) for p in payloads]
    assert digests_found(texts, candidate_digests(IDENTITY, *sent)) == set()


def old_style(intake: IntakeApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    """Write the way intake wrote before decision 0013: unkeyed digests, global key ids."""
    monkeypatch.setattr(intake.keys, "submission_digest", unkeyed_submission_digest)


def test_the_migration_removes_old_unkeyed_digests_and_is_recorded(
    settings: Settings, intake_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = submissions_of_the_reporter()
    with monkeypatch.context() as patch:
        old = build_intake_app(settings)
        old_style(old, patch)
        for i, one in enumerate(sent):
            old.submit(one, import_id=report_id_for_idempotency_key(f"old-{i}"), actor=OPERATOR)
        old.close()
    digests = candidate_digests(IDENTITY, *sent)
    assert digests_found(stored_rows(intake_file), digests)  # the old store leaks

    db = Database(sqlite_path=intake_file)
    run = redact_unkeyed_digests(db, IntakeKeys(settings.derived_key("submission-digest")), now=NOW)

    assert run.events_changed == len(sent)
    assert digests_found(stored_rows(intake_file), digests) == set()
    assert all(d.startswith(LEGACY_PREFIX) for d in received_digests(intake_file))
    assert [(r.name, r.events_changed) for r in migration_runs(db)] == [
        ("0013-redact-unkeyed-submission-digests", len(sent))
    ]
    later = NOW + dt.timedelta(minutes=1)
    again = redact_unkeyed_digests(
        db, IntakeKeys(settings.derived_key("submission-digest")), now=later
    )
    assert again.events_changed == 0  # idempotent; every run is recorded
    assert [r.events_changed for r in migration_runs(db)] == [len(sent), 0]
    db.close()


def raw_bytes(path: Path) -> bytes:
    """The database file and its write-ahead log, as they are on disk."""
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal")]
    return b"".join(f.read_bytes() for f in files if f.exists())


def test_the_migration_leaves_no_old_digest_in_the_files_on_disk(
    settings: Settings, intake_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An UPDATE alone leaves the old value in the write-ahead log and in free pages: the
    run zeroes freed space, empties the log and rebuilds the file."""
    sent = submissions_of_the_reporter()
    with monkeypatch.context() as patch:
        old = build_intake_app(settings)
        old_style(old, patch)
        for i, one in enumerate(sent):
            old.submit(one, import_id=report_id_for_idempotency_key(f"old-{i}"), actor=OPERATOR)
        old.close()
    olds = [unkeyed_submission_digest(one).encode() for one in sent]
    assert all(d in raw_bytes(intake_file) for d in olds)  # the search finds them before

    db = Database(sqlite_path=intake_file)
    redact_unkeyed_digests(db, IntakeKeys(settings.derived_key("submission-digest")), now=NOW)
    on_disk = raw_bytes(intake_file)
    db.close()

    assert [d for d in olds if d in on_disk] == []


@pytest.mark.parametrize("migrated", [False, True], ids=["before migration", "after migration"])
def test_a_retried_old_key_is_still_compared_with_its_report(
    settings: Settings,
    intake_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    migrated: bool,
) -> None:
    """Idempotency keeps working for reports written the old way (unkeyed digest, one id
    per key for everyone), before and after the migration."""
    keys = IntakeKeys(settings.derived_key("submission-digest"))
    with monkeypatch.context() as patch:
        old = build_intake_app(settings)
        old.keys = keys
        old_style(old, patch)
        first = old.submit(
            real_name_submission(), import_id=report_id_for_idempotency_key("k"), actor=OPERATOR
        )
        old.close()
    if migrated:
        db = Database(sqlite_path=intake_file)
        assert redact_unkeyed_digests(db, keys, now=NOW).events_changed == 1
        db.close()
    assert is_unkeyed(received_digests(intake_file)[0]) is not migrated

    new = build_intake_app(settings)
    new.keys = keys
    try:
        retried = new.submit(real_name_submission(), idempotency_key="k", actor=OPERATOR)
        assert retried == first
        with pytest.raises(IdempotencyKeyReused):
            new.submit(
                real_name_submission(summary="另一件事"), idempotency_key="k", actor=OPERATOR
            )
        # another operator's same key is another report, not the old one
        other = new.submit(real_name_submission(), idempotency_key="k", actor=OTHER_OPERATOR)
        assert other.report_id != first.report_id
    finally:
        new.close()


# -- item 13: idempotency keys are per submitter ---------------------------------------------


def test_two_operators_using_the_same_key_get_two_reports(intake: IntakeApplication) -> None:
    mine = intake.submit(submission(), idempotency_key="2026-03-02-1", actor=OPERATOR)
    again = intake.submit(submission(), idempotency_key="2026-03-02-1", actor=OPERATOR)
    theirs = intake.submit(
        submission(summary="另一件事：反映王建国违规收受礼金。"),
        idempotency_key="2026-03-02-1",
        actor=OTHER_OPERATOR,
    )

    assert again == mine
    assert theirs.report_id != mine.report_id
    assert theirs.ledger_number != mine.ledger_number
    # the id is keyed: not the old global id, nor anything computable without the key
    assert UUID(mine.report_id) != report_id_for_idempotency_key("2026-03-02-1")


def test_two_public_clients_using_the_same_key_get_two_reports(
    intake: IntakeApplication,
) -> None:
    mailbox = submission(channel="mailbox")
    one = intake.submit(mailbox, idempotency_key="k", public=True, client="203.0.113.5")
    same = intake.submit(mailbox, idempotency_key="k", public=True, client="203.0.113.5")
    other = intake.submit(mailbox, idempotency_key="k", public=True, client="198.51.100.7")

    assert same == one
    assert other.report_id != one.report_id
    assert other.query_code != one.query_code
