"""Issue 10, items 10, 11 and 12 (decision 0013): the public sets no staff field; guesses
at follow-up credentials and mailbox submissions are limited; a reporter's identity is shown
only to the operator triaging the report and the handler of its case."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from schemas.glossary import Role
from services.accounts.policy import TooManyAttempts
from services.accounts.store import AccountStore
from services.accounts.throttle import PublicThrottle, client_address
from services.bootstrap import EmbeddedSystem, build_accounts
from services.calendar.deadlines import TimeLimits
from services.common.china_time import FixedClock
from services.common.config import Config
from tests.support.auth import bearer
from tests.unit.conftest import TODAY, build_embedded, make_settings, real_name_reporter
from tests.unit.pages_support import build_system as build_pages_system
from tests.unit.pages_support import csrf, sign_in

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Beijing on TODAY
CLIENT = "203.0.113.5"  # the address the test client calls from
SUBJECT = {"name": "王建国", "unit": "某县财政局", "position": "局长"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


def build_system(tmp_path: Path, clock: FixedClock, **settings: Any) -> EmbeddedSystem:
    return build_embedded(make_settings(tmp_path, **settings), clock=clock)


@pytest.fixture
def system(tmp_path: Path, clock: FixedClock) -> Iterator[EmbeddedSystem]:
    system = build_system(tmp_path, clock, auto_accept=False)
    yield system
    system.stop()


@pytest.fixture
def client(system: EmbeddedSystem) -> Iterator[TestClient]:
    with TestClient(system.web_app(), client=(CLIENT, 50000)) as client:
        yield client


def report(channel: str = "mailbox", **changes: Any) -> dict[str, Any]:
    return {
        "channel": channel,
        "reporter": {"anonymous": True},
        "subjects": [SUBJECT],
        "categories": ["seeking_office"],
        "summary": "反映王建国跑官要官。",
    } | changes


def operator(system: EmbeddedSystem, name: str = "op") -> dict[str, str]:
    return bearer(system.accounts, name, Role.OPERATOR, section="一科")


# -- item 10: the public cannot set staff fields ----------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("sealed", True), ("received_on", "2026-03-09"), ("received_on", "2026-02-27")],
)
def test_the_public_sets_neither_sealed_nor_received_on(
    client: TestClient, system: EmbeddedSystem, field: str, value: Any
) -> None:
    before = system.intake.max_position()

    refused = client.post("/api/v1/reports", json=report(**{field: value}))

    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"].startswith(f"{field}:")
    assert system.intake.max_position() == before


def test_staff_back_date_within_the_limit_never_into_the_future(
    client: TestClient, system: EmbeddedSystem
) -> None:
    headers = operator(system)
    limit = TimeLimits().received_on_backdate_max_days
    before = system.intake.max_position()

    future = client.post(
        "/api/v1/reports",
        json=report("hotline", received_on=str(TODAY + dt.timedelta(days=1))),
        headers=headers,
    )
    too_old = client.post(
        "/api/v1/reports",
        json=report("hotline", received_on=str(TODAY - dt.timedelta(days=limit + 1))),
        headers=headers,
    )
    assert (future.status_code, too_old.status_code) == (422, 422)
    assert "future" in future.json()["detail"]
    assert f"more than {limit} days" in too_old.json()["detail"]
    assert system.intake.max_position() == before

    oldest = client.post(
        "/api/v1/reports",
        json=report("hotline", received_on=str(TODAY - dt.timedelta(days=limit)), sealed=True),
        headers=headers,
    )
    assert oldest.status_code == 201, oldest.text


def test_the_back_dating_limit_is_configurable(tmp_path: Path, clock: FixedClock) -> None:
    system = build_system(tmp_path, clock)
    system.intake.config = Config(limits=TimeLimits(received_on_backdate_max_days=10))
    try:
        with TestClient(system.web_app()) as client:
            headers = operator(system)
            eleven = str(TODAY - dt.timedelta(days=11))
            answer = client.post(
                "/api/v1/reports", json=report("letter", received_on=eleven), headers=headers
            )
            assert answer.status_code == 422
            assert "more than 10 days" in answer.json()["detail"]
    finally:
        system.stop()


# -- item 11: guessing and abuse -----------------------------------------------------------


def follow(client: TestClient, code: str, password: str, **headers: str) -> Any:
    return client.get(f"/api/v1/follow-up/{code}", headers={"X-Follow-Up-Password": password})


def mailbox_receipt(client: TestClient) -> dict[str, Any]:
    answer = client.post("/api/v1/reports", json=report())
    assert answer.status_code == 201, answer.text
    receipt: dict[str, Any] = answer.json()
    return receipt


def test_wrong_follow_ups_on_a_code_are_refused_with_429_until_the_lock_ends(
    client: TestClient, system: EmbeddedSystem, clock: FixedClock
) -> None:
    receipt = mailbox_receipt(client)
    code, password = receipt["query_code"], receipt["password"]
    limit = system.accounts.public_limits.follow_up.max_failures

    answers = [follow(client, code, "WRONGPASSWD").status_code for _ in range(limit)]
    locked = follow(client, code, password)  # even the right password, while locked

    assert answers == [404] * (limit - 1) + [429]
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert locked.headers["content-type"].startswith("application/problem+json")
    assert locked.json()["status"] == 429
    assert "try again" in locked.json()["detail"]
    audit = system.accounts.audit_entries(item_kind="follow_up_locked")
    assert len(audit) == 1  # recorded once, when the lock began
    # the client is named by its keyed digest, never by its address or a plain hash of it
    assert audit[0].item_id == system.accounts.client_key("audit-client", CLIENT)[:16]
    assert CLIENT not in repr(audit[0])
    assert not hashlib.sha256(CLIENT.encode()).hexdigest().startswith(audit[0].item_id)

    clock.advance(dt.timedelta(seconds=int(locked.headers["Retry-After"]) + 1))
    assert follow(client, code, password).status_code == 200


def test_wrong_follow_ups_from_one_client_are_limited_across_codes(
    tmp_path: Path, clock: FixedClock
) -> None:
    system = build_system(tmp_path, clock, follow_up_client_max_failures=3)
    try:
        with TestClient(system.web_app()) as client:
            codes = [f"AAAA-BBBB-CCC{i}" for i in range(3)]
            answers = [follow(client, c, "WRONGPASSWD").status_code for c in codes]
            assert answers == [404, 404, 429]
            assert follow(client, "ZZZZ-ZZZZ-ZZZZ", "X").status_code == 429
    finally:
        system.stop()


def test_the_follow_up_page_shares_the_apis_counters(
    client: TestClient, system: EmbeddedSystem
) -> None:
    receipt = mailbox_receipt(client)
    code = receipt["query_code"]
    limit = system.accounts.public_limits.follow_up.max_failures
    for _ in range(limit - 1):
        assert follow(client, code, "WRONGPASSWD").status_code == 404

    page = client.post(
        "/follow-up", data={"query_code": code, "password": "WRONG", "csrf_token": csrf(client)}
    )

    assert page.status_code == 429
    assert int(page.headers["Retry-After"]) > 0
    assert "错误次数过多" in page.text
    assert follow(client, code, receipt["password"]).status_code == 429


def test_mailbox_submissions_per_client_per_day(
    client: TestClient, system: EmbeddedSystem, clock: FixedClock
) -> None:
    limit = system.accounts.public_limits.mailbox_per_day
    answers = [client.post("/api/v1/reports", json=report()).status_code for _ in range(limit)]
    before = system.intake.max_position()

    refused = client.post("/api/v1/reports", json=report())

    assert answers == [201] * limit
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
    assert system.intake.max_position() == before  # nothing stored
    assert len(system.accounts.audit_entries(item_kind="mailbox_locked")) == 1
    # staff registering hotline calls are not the public
    staffed = client.post("/api/v1/reports", json=report("hotline"), headers=operator(system))
    assert staffed.status_code == 201

    clock.advance(dt.timedelta(days=1, seconds=1))
    assert client.post("/api/v1/reports", json=report()).status_code == 201


def test_the_limit_is_shared_by_processes(tmp_path: Path, clock: FixedClock) -> None:
    """Two processes (two stores on one database) see the same counters."""
    settings = make_settings(tmp_path, mailbox_daily_limit=2)
    first, second = build_accounts(settings), build_accounts(settings)
    first._clock = second._clock = clock.utc_now
    try:
        PublicThrottle(first, "203.0.113.9").reserve_mailbox()
        PublicThrottle(second, "203.0.113.9").reserve_mailbox()
        with pytest.raises(TooManyAttempts, match="at most 2 online reports"):
            PublicThrottle(first, "203.0.113.9").reserve_mailbox()
        PublicThrottle(first, "198.51.100.1").reserve_mailbox()  # another client is free
    finally:
        first.close()
        second.close()


def request_from(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 4711), "headers": headers})


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    proxy = (ipaddress.ip_network("10.0.0.2/32"),)

    assert client_address(request_from("203.0.113.5", "1.2.3.4"), ()) == "203.0.113.5"
    assert client_address(request_from("203.0.113.5", "1.2.3.4"), proxy) == "203.0.113.5"
    assert client_address(request_from("10.0.0.2", "1.2.3.4"), proxy) == "1.2.3.4"
    # a client's own (spoofed) X-Forwarded-For is to the left of what the proxy appended
    assert client_address(request_from("10.0.0.2", "6.6.6.6, 1.2.3.4"), proxy) == "1.2.3.4"
    assert client_address(request_from("10.0.0.2"), proxy) == "10.0.0.2"


def test_trusted_proxies_come_from_the_settings(tmp_path: Path) -> None:
    store: AccountStore = build_accounts(
        make_settings(tmp_path, trusted_proxies="10.0.0.2, fd00::/8")
    )
    try:
        assert [str(n) for n in store.trusted_proxies] == ["10.0.0.2/32", "fd00::/8"]
    finally:
        store.close()


# -- item 12: the identity reveal is scoped ---------------------------------------------------


def reveal(client: TestClient, report_id: str, headers: dict[str, str]) -> Any:
    return client.post(
        f"/api/v1/reports/{report_id}/identity", json={"reason": "核实身份"}, headers=headers
    )


def test_an_operator_sees_the_identity_only_while_the_report_is_in_triage(
    client: TestClient, system: EmbeddedSystem
) -> None:
    op, leader = operator(system), bearer(system.accounts, "lead", Role.LEADER)
    answer = client.post(
        "/api/v1/reports",
        json=report("hotline", reporter=real_name_reporter()),
        headers=op,
    )
    report_id = answer.json()["report_id"]
    assert reveal(client, report_id, op).status_code == 200  # registered, in triage

    sent = client.post(f"/api/v1/reports/{report_id}/send_acceptance_notice", json={}, headers=op)
    assert sent.status_code == 200, sent.text
    accepted = client.post(
        f"/api/v1/reports/{report_id}/accept", json={"reason": "属于受理范围"}, headers=op
    )
    assert accepted.status_code == 200, accepted.text

    refused = reveal(client, report_id, op)
    assert refused.status_code == 403
    assert refused.json()["rule"] == "identity_in_triage"
    assert reveal(client, report_id, leader).status_code == 403
    kinds = sorted((e.username, e.item_kind) for e in system.accounts.audit_entries())
    assert kinds == [
        ("lead", "reporter_identity_refused"),
        ("op", "reporter_identity"),
        ("op", "reporter_identity_refused"),
    ]


def test_a_handler_sees_the_identity_only_for_their_or_their_sections_case(
    client: TestClient, system: EmbeddedSystem
) -> None:
    op = operator(system)
    leader = bearer(system.accounts, "lead", Role.LEADER)
    mine = bearer(system.accounts, "h1", Role.HANDLER, section="一科")
    colleague = bearer(system.accounts, "h2", Role.HANDLER, section="一科")
    stranger = bearer(system.accounts, "h3", Role.HANDLER, section="二科")
    report_id = client.post(
        "/api/v1/reports", json=report("hotline", reporter=real_name_reporter()), headers=op
    ).json()["report_id"]
    case_id = client.post(
        f"/api/v1/reports/{report_id}/accept", json={"reason": "受理"}, headers=op
    ).json()["case_id"]
    system.catch_up()
    assert reveal(client, report_id, mine).status_code == 403  # not assigned yet

    assigned = client.post(
        f"/api/v1/cases/{case_id}/assign", json={"handler_id": "h1"}, headers=leader
    )
    assert assigned.status_code == 200, assigned.text

    assert reveal(client, report_id, mine).status_code == 200
    assert reveal(client, report_id, colleague).status_code == 200
    refused = reveal(client, report_id, stranger)
    assert refused.status_code == 403
    assert refused.json()["rule"] == "identity_own_case"
    refusals = system.accounts.audit_entries(item_kind="reporter_identity_refused")
    assert sorted(e.username for e in refusals) == ["h1", "h3"]


@pytest.mark.parametrize("role", [Role.LIAISON, Role.AUDITOR, Role.LEADER])
def test_a_role_without_need_is_refused_before_any_lookup_and_recorded(
    client: TestClient, system: EmbeddedSystem, role: Role
) -> None:
    """The answer is the same whether the report is real-name, anonymous or does not exist
    (403 by role, before the report is looked up), and every refusal is in the audit."""
    op = operator(system)
    asker = bearer(system.accounts, "asker", role, unit="县纪委" if role is Role.LIAISON else None)
    real = client.post(
        "/api/v1/reports", json=report("hotline", reporter=real_name_reporter()), headers=op
    ).json()["report_id"]
    anonymous = client.post("/api/v1/reports", json=report("hotline"), headers=op).json()[
        "report_id"
    ]
    missing = "00000000-0000-4000-8000-000000000001"

    answers = [reveal(client, rid, asker) for rid in (real, anonymous, missing)]

    assert [a.status_code for a in answers] == [403, 403, 403]
    assert {a.json()["rule"] for a in answers} == {"identity_need_to_know"}
    assert len({a.json()["detail"] for a in answers}) == 1
    refusals = system.accounts.audit_entries(item_kind="reporter_identity_refused")
    assert sorted(e.item_id for e in refusals) == sorted([real, anonymous, missing])
    assert all(e.username == "asker" for e in refusals)


def test_an_operators_refusals_on_anonymous_or_unknown_reports_are_recorded(
    client: TestClient, system: EmbeddedSystem
) -> None:
    op = operator(system)
    anonymous = client.post("/api/v1/reports", json=report("hotline"), headers=op).json()[
        "report_id"
    ]
    missing = "00000000-0000-4000-8000-000000000002"

    assert reveal(client, anonymous, op).status_code == 404
    assert reveal(client, missing, op).status_code == 404

    refusals = system.accounts.audit_entries(item_kind="reporter_identity_refused")
    assert sorted(e.item_id for e in refusals) == sorted([anonymous, missing])


def test_the_hotline_form_refuses_a_future_day_of_receipt_on_the_field(
    tmp_path: Path, clock: FixedClock
) -> None:
    system = build_pages_system(tmp_path)
    try:
        with TestClient(system.web_app()) as client:
            sign_in(client, system, "operator")
            before = system.intake.max_position()
            answer = client.post(
                "/intake/new",
                data={
                    "csrf_token": csrf(client),
                    "channel": "hotline",
                    "idempotency_key": "call-1",
                    "reporter_kind": "anonymous",
                    "subject-0-name": "王建国",
                    "categories": ["seeking_office"],
                    "summary": "来电反映王建国多次找领导要求提拔。",
                    "received_on": str(TODAY + dt.timedelta(days=3)),
                },
                follow_redirects=False,
            )
            assert answer.status_code == 422
            assert "晚于今天" in answer.text
            assert system.intake.max_position() == before
    finally:
        system.stop()
