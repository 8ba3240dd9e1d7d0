"""The reporter vault: identity sealed at rest, bound to its reference, readable only with the key."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from uuid import uuid4

import pytest
from cryptography.exceptions import InvalidTag

from schemas.submissions import RealNameReporter
from services.common.sql import Database
from services.intake.vault import ReporterVault, VaultError
from tests.unit.conftest import (
    REPORTER_EMAIL,
    REPORTER_ID_NUMBER,
    REPORTER_NAME,
    REPORTER_PHONE,
    real_name_reporter,
)

VAULT_KEY = bytes(range(32))
FOLLOW_UP_KEY = bytes(range(32, 64))

IDENTITY = RealNameReporter.model_validate(real_name_reporter() | {"address": "某县人民路1号"})
OTHER = RealNameReporter(name="欧阳明月", phone="13800000000")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "intake.sqlite"


@pytest.fixture
def vault(db_path: Path) -> ReporterVault:
    return ReporterVault(
        Database(sqlite_path=db_path), vault_key=VAULT_KEY, follow_up_key=FOLLOW_UP_KEY
    )


def test_an_identity_round_trips_through_seal_and_reveal(vault: ReporterVault) -> None:
    vault.seal("ref-1", uuid4(), IDENTITY)

    assert vault.reveal("ref-1") == IDENTITY


def test_the_stored_row_holds_no_identity_in_plain_text(
    vault: ReporterVault, db_path: Path
) -> None:
    vault.seal("ref-1", uuid4(), IDENTITY)

    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT * FROM reporter_vault").fetchall()
    assert len(rows) == 1
    stored = repr(rows)
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    for secret in (REPORTER_NAME, REPORTER_PHONE, REPORTER_EMAIL, REPORTER_ID_NUMBER, "人民路"):
        assert secret not in stored
        assert secret.encode() not in raw  # nor anywhere in the file or its WAL


def test_a_ciphertext_moved_to_another_reference_does_not_decrypt(
    vault: ReporterVault, db_path: Path
) -> None:
    vault.seal("ref-a", uuid4(), IDENTITY)
    vault.seal("ref-b", uuid4(), OTHER)

    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "UPDATE reporter_vault SET sealed_identity = "
            "(SELECT sealed_identity FROM reporter_vault WHERE reporter_ref = 'ref-a') "
            "WHERE reporter_ref = 'ref-b'"
        )

    with pytest.raises((InvalidTag, VaultError)):
        vault.reveal("ref-b")
    assert vault.reveal("ref-a") == IDENTITY


def test_another_key_cannot_reveal_an_identity(vault: ReporterVault, db_path: Path) -> None:
    vault.seal("ref-1", uuid4(), IDENTITY)
    thief = ReporterVault(
        Database(sqlite_path=db_path), vault_key=bytes(32), follow_up_key=FOLLOW_UP_KEY
    )

    with pytest.raises((InvalidTag, VaultError)):
        thief.reveal("ref-1")


def test_sealing_the_same_reference_again_keeps_the_first_identity(vault: ReporterVault) -> None:
    vault.seal("ref-1", uuid4(), IDENTITY)
    vault.seal("ref-1", uuid4(), OTHER)

    assert vault.reveal("ref-1") == IDENTITY


def test_an_unknown_reference_reveals_nothing(vault: ReporterVault) -> None:
    with pytest.raises(VaultError, match="no identity"):
        vault.reveal("nobody")


def test_the_identity_digest_links_one_person_without_naming_them(vault: ReporterVault) -> None:
    same_person = IDENTITY.model_copy(update={"name": f"  {REPORTER_NAME} ", "email": ""})

    digest = vault.identity_digest(IDENTITY)

    assert digest == vault.identity_digest(same_person)
    assert digest != vault.identity_digest(OTHER)
    assert REPORTER_PHONE not in digest


def test_sealed_content_is_bound_to_its_report(vault: ReporterVault, db_path: Path) -> None:
    first, second = uuid4(), uuid4()
    vault.seal_content(first, "上级管辖的线索甲")
    vault.seal_content(second, "上级管辖的线索乙")
    assert vault.reveal_content(first) == "上级管辖的线索甲"

    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "UPDATE sealed_contents SET sealed_content = "
            "(SELECT sealed_content FROM sealed_contents WHERE report_id = ?) "
            "WHERE report_id = ?",
            (str(first), str(second)),
        )
    with pytest.raises((InvalidTag, VaultError)):
        vault.reveal_content(second)


def test_follow_up_credentials_are_stored_only_as_hashes(
    vault: ReporterVault, db_path: Path
) -> None:
    report_id = uuid4()
    query_code, password = vault.issue_credentials(report_id)

    assert vault.credentials_for(report_id) == (query_code, password)
    assert vault.report_for_credentials(query_code, password) == report_id
    with sqlite3.connect(db_path) as conn:
        stored = repr(conn.execute("SELECT * FROM follow_up_credentials").fetchall())
    assert password not in stored
    assert query_code.replace("-", "") not in stored
