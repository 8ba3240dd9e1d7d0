"""Issue 10, item 14 (decision 0013): sealed content has a reader. A sealed report forwarded
up is handed over — encrypted for the receiver, or on paper with its reference — and a
leader may open it once, with a reason; each is an event on the report, in its timeline,
never carrying the content."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from schemas.glossary import Role
from services.accounts.store import AccountStore
from services.bootstrap import EmbeddedSystem
from services.intake.sealed_export import decrypt_with
from tests.support.auth import bearer
from tests.unit.conftest import TODAY, all_envelopes, build_embedded, make_settings

SECRET = "上级管辖：反映某市副市长在项目审批中收受巨额财物（仅限上级知悉）"
AUTHORITY = "市委组织部干部监督处"


@pytest.fixture(scope="module")
def receiver_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path, auto_accept=False))
    yield system
    system.stop()


@pytest.fixture
def client(system: EmbeddedSystem) -> Iterator[TestClient]:
    with TestClient(system.web_app()) as client:
        yield client


class People:
    def __init__(self, system: EmbeddedSystem) -> None:
        self.operator = bearer(system.accounts, "op", Role.OPERATOR)
        self.leader = bearer(system.accounts, "lead", Role.LEADER)
        self.second_leader = bearer(system.accounts, "lead2", Role.LEADER)
        self.handler = bearer(system.accounts, "hd", Role.HANDLER)
        self.auditor = bearer(system.accounts, "aud", Role.AUDITOR)


@pytest.fixture
def people(system: EmbeddedSystem) -> People:
    return People(system)


def sealed_report(
    client: TestClient,
    people: People,
    *,
    forward: bool = True,
    received_on: dt.date | None = None,
    forwarded_on: dt.date | None = None,
) -> str:
    receipt = client.post(
        "/api/v1/reports",
        json={
            "channel": "letter",
            "reporter": {"anonymous": True},
            "subjects": [{"name": "钱某", "unit": "某市人民政府", "position": "副市长"}],
            "categories": ["other_conduct"],
            "summary": SECRET,
            "sealed": True,
        }
        | ({"received_on": received_on.isoformat()} if received_on else {}),
        headers=people.operator,
    )
    assert receipt.status_code == 201, receipt.text
    report_id = str(receipt.json()["report_id"])
    if forward:
        forwarded = client.post(
            f"/api/v1/reports/{report_id}/forward_up",
            json={"to_authority": AUTHORITY, "reason": "属上级管辖"}
            | ({"forwarded_on": forwarded_on.isoformat()} if forwarded_on else {}),
            headers=people.operator,
        )
        assert forwarded.status_code == 200, forwarded.text
    return report_id


HANDOVER_REASON = "随报送函移交上级"


def hand_over(client: TestClient, report_id: str, headers: dict[str, str], **body: Any) -> Any:
    """A handover with a reason (unless ``reason`` is given, ``None`` to leave it out)."""
    sent = {k: v for k, v in ({"reason": HANDOVER_REASON} | body).items() if v is not None}
    return client.post(
        f"/api/v1/reports/{report_id}/sealed-content/hand-over", json=sent, headers=headers
    )


def open_content(client: TestClient, report_id: str, headers: dict[str, str], reason: str) -> Any:
    return client.post(
        f"/api/v1/reports/{report_id}/sealed-content/open",
        json={"reason": reason},
        headers=headers,
    )


def test_a_forwarded_sealed_report_is_handed_over_encrypted_for_the_receiver(
    client: TestClient,
    system: EmbeddedSystem,
    people: People,
    receiver_key: rsa.RSAPrivateKey,
) -> None:
    report_id = sealed_report(client, people)

    answer = hand_over(
        client,
        report_id,
        people.operator,
        method="encrypted_export",
        recipient_public_key=public_pem(receiver_key),
        reference="组监函〔2026〕7号",
    )

    assert answer.status_code == 200, answer.text
    export = answer.json()["encrypted_export"]
    assert SECRET not in answer.text  # only the receiver reads it
    document = decrypt_with(receiver_key, export)
    assert document["content"] == SECRET
    assert document["forwarded_to"] == AUTHORITY
    assert document["ledger_number"] == answer.json()["report"]["ledger_number"]
    handed = [e for e in all_envelopes(system.intake) if e.event_type == "SealedContentHandedOver"]
    assert [(e.payload["method"], e.payload["to_authority"]) for e in handed] == [
        ("encrypted_export", AUTHORITY)
    ]
    assert handed[0].payload["recipient_key_sha256"] == export["recipient_key_sha256"]
    audit = system.accounts.audit_entries(item_kind="sealed_content")
    assert [(e.username, e.item_id) for e in audit] == [("op", report_id)]


def test_a_handover_on_paper_names_its_reference(
    client: TestClient, system: EmbeddedSystem, people: People
) -> None:
    report_id = sealed_report(client, people)

    unnamed = hand_over(client, report_id, people.operator, method="paper")
    answer = hand_over(
        client, report_id, people.operator, method="paper", reference="机要件 2026-031"
    )

    assert unnamed.status_code == 422
    assert "reference" in unnamed.json()["detail"]
    assert answer.status_code == 200, answer.text
    assert answer.json()["document"]["content"] == SECRET  # to print and hand over
    payloads = [
        e.payload for e in all_envelopes(system.intake) if e.event_type == "SealedContentHandedOver"
    ]
    assert [(p["method"], p["reference"]) for p in payloads] == [("paper", "机要件 2026-031")]


def test_only_a_sealed_report_forwarded_up_is_handed_over_and_only_by_an_operator(
    client: TestClient, people: People, receiver_key: rsa.RSAPrivateKey
) -> None:
    waiting = sealed_report(client, people, forward=False)
    forwarded = sealed_report(client, people)
    paper = {"method": "paper", "reference": "机要件 1"}

    early = hand_over(client, waiting, people.operator, **paper)
    by_leader = hand_over(client, forwarded, people.leader, **paper)
    bad_key = hand_over(
        client,
        forwarded,
        people.operator,
        method="encrypted_export",
        recipient_public_key="-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----",
    )

    assert early.status_code == 409
    assert "forwarded up" in early.json()["detail"]
    assert by_leader.status_code == 403
    assert bad_key.status_code == 422
    assert "recipient_public_key" in bad_key.json()["detail"]


def test_a_leader_opens_the_sealed_content_once_with_a_reason(
    client: TestClient, system: EmbeddedSystem, people: People
) -> None:
    report_id = sealed_report(client, people)

    by_operator = open_content(client, report_id, people.operator, "想看看")
    without_reason = open_content(client, report_id, people.leader, " ")
    opened = open_content(client, report_id, people.leader, "核对报送上级的材料是否完整")
    again = open_content(client, report_id, people.second_leader, "再看一次")

    assert by_operator.status_code == 403
    assert without_reason.status_code == 422
    assert opened.status_code == 200, opened.text
    assert opened.json()["content"] == SECRET
    assert again.status_code == 409
    assert "opened once" in again.json()["detail"]
    assert SECRET not in again.text
    openings = [e for e in all_envelopes(system.intake) if e.event_type == "SealedContentOpened"]
    assert [(e.payload["actor"]["id"], e.payload["reason"]) for e in openings] == [
        ("lead", "核对报送上级的材料是否完整")
    ]


def test_the_reports_timeline_shows_handover_and_opening_never_the_content(
    client: TestClient,
    system: EmbeddedSystem,
    people: People,
    receiver_key: rsa.RSAPrivateKey,
) -> None:
    report_id = sealed_report(client, people)
    hand_over(
        client,
        report_id,
        people.operator,
        method="encrypted_export",
        recipient_public_key=public_pem(receiver_key),
    )
    open_content(client, report_id, people.leader, "核对报送上级的材料是否完整")
    system.catch_up()

    timeline = client.get(f"/api/v1/reports/{report_id}/timeline", headers=people.auditor)

    assert timeline.status_code == 200, timeline.text
    steps = [(s["step"], s["step_zh"]) for s in timeline.json()["steps"]]
    assert ("SealedContentHandedOver", "移交封存举报内容") in steps
    assert ("SealedContentOpened", "启封举报内容") in steps
    opened = next(s for s in timeline.json()["steps"] if s["step"] == "SealedContentOpened")
    assert (opened["actor_id"], opened["reason"]) == ("lead", "核对报送上级的材料是否完整")
    assert SECRET not in timeline.text
    assert not [e for e in all_envelopes(system.intake) if SECRET in e.model_dump_json()]
    assert (
        client.get(f"/api/v1/reports/{report_id}/timeline", headers=people.handler).status_code
        == 403
    )
    openapi = client.get("/openapi.json").json()["paths"]
    for path in ("hand-over", "open"):
        route = openapi[f"/api/v1/reports/{{report_id}}/sealed-content/{path}"]["post"]
        assert {"200", "403", "404", "409", "422"} <= set(route["responses"])


# -- review: once, with a reason, on a bounded day; the audit before the event ----------------


def test_sealed_content_is_handed_over_once_only_with_a_reason(
    client: TestClient, system: EmbeddedSystem, people: People, receiver_key: rsa.RSAPrivateKey
) -> None:
    """Rule sealed_content_handed_over_once: the content leaves the office in one handover;
    a second one of either kind would hand out the plain content again."""
    report_id = sealed_report(client, people)
    paper = {"method": "paper", "reference": "机要件 2026-031"}

    unexplained = hand_over(client, report_id, people.operator, reason=None, **paper)
    first = hand_over(client, report_id, people.operator, **paper)
    again = hand_over(client, report_id, people.operator, **paper)
    exported = hand_over(
        client,
        report_id,
        people.operator,
        method="encrypted_export",
        recipient_public_key=public_pem(receiver_key),
    )

    assert unexplained.status_code == 422
    assert "reason" in unexplained.json()["detail"]
    assert first.status_code == 200, first.text
    for second in (again, exported):
        assert second.status_code == 409
        assert second.json()["rule"] == "sealed_content_handed_over_once"
        assert SECRET not in second.text
    handed = [e for e in all_envelopes(system.intake) if e.event_type == "SealedContentHandedOver"]
    assert [e.payload["reason"] for e in handed] == [HANDOVER_REASON]


@pytest.mark.parametrize(
    ("handed_over_on", "problem"),
    [
        (TODAY + dt.timedelta(days=1), "in the future"),
        (TODAY - dt.timedelta(days=4), "before the day it was forwarded up"),
        (TODAY - dt.timedelta(days=9), "before the day the report was received"),
    ],
    ids=["future", "before forwarding", "before receipt"],
)
def test_the_day_of_a_handover_is_neither_future_nor_before_the_forwarding(
    client: TestClient,
    system: EmbeddedSystem,
    people: People,
    handed_over_on: dt.date,
    problem: str,
) -> None:
    report_id = sealed_report(
        client,
        people,
        received_on=TODAY - dt.timedelta(days=5),
        forwarded_on=TODAY - dt.timedelta(days=3),
    )

    refused = hand_over(
        client,
        report_id,
        people.operator,
        method="paper",
        reference="机要件 1",
        handed_over_on=handed_over_on.isoformat(),
    )

    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("handed_over_on:")
    assert problem in refused.json()["detail"]
    assert not [
        e for e in all_envelopes(system.intake) if e.event_type == "SealedContentHandedOver"
    ]
    on_the_day = hand_over(
        client,
        report_id,
        people.operator,
        method="paper",
        reference="机要件 1",
        handed_over_on=(TODAY - dt.timedelta(days=3)).isoformat(),
    )
    assert on_the_day.status_code == 200, on_the_day.text


class AuditDown(Exception):
    """The accounts database, unreachable for a moment."""


@pytest.mark.parametrize("step", ["open", "hand-over"])
def test_a_failed_audit_write_leaves_the_opening_and_the_handover_available(
    client: TestClient,
    system: EmbeddedSystem,
    people: People,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
) -> None:
    """The audit entry is written before the once-only event: when it cannot be written,
    nothing is used up, and the next try delivers."""
    report_id = sealed_report(client, people)

    def attempt() -> Any:
        if step == "open":
            return open_content(client, report_id, people.leader, "核对报送上级的材料是否完整")
        return hand_over(client, report_id, people.operator, method="paper", reference="机要件 1")

    with monkeypatch.context() as patch:

        def audit_down(*_: Any, **__: Any) -> None:
            raise AuditDown

        patch.setattr(AccountStore, "record_read", audit_down)
        failed = attempt()  # a 500 that says nothing but its request id
        assert failed.status_code == 500
        assert failed.json()["request_id"] == failed.headers["X-Request-ID"]
        assert SECRET not in failed.text

    kinds = {"open": "SealedContentOpened", "hand-over": "SealedContentHandedOver"}
    assert not [e for e in all_envelopes(system.intake) if e.event_type == kinds[step]]
    retried = attempt()
    assert retried.status_code == 200, retried.text
    assert SECRET in retried.text
    assert len(system.accounts.audit_entries(item_kind="sealed_content")) == 1
