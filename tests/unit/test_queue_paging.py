"""Work queues paged by a keyset cursor (0027): ``limit``, ``after`` and ``next``.

The hard paths: ties on the sort key (never an item skipped or repeated), an item that
changes between two pages, a cursor this queue did not hand out (422, saying why), and the
pages that show the queues linking to their next page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from schemas.glossary import Role
from services.bootstrap import EmbeddedSystem
from services.demo.scale import generate
from services.projections.cases.paging import (
    BadCursor,
    deadline_key,
    decode_cursor,
    encode_cursor,
    page_of,
    sort_key,
)
from services.projections.cases.queries import CaseQueries
from services.projections.cases.rows import AFTER_CLOSURE, FINISHED
from tests.unit.conftest import build_embedded, make_settings

TODAY = dt.date(2026, 3, 2)


@dataclass(frozen=True)
class Item:
    due: dt.date
    ident: str


def key(item: Item) -> tuple[str, ...]:
    return sort_key(item.due, item.ident)


def walk(items: list[Item], limit: int) -> list[Item]:
    seen: list[Item] = []
    after = None
    while True:
        page = page_of("q", items, key, limit=limit, after=after)
        assert page.total == len(items)
        assert len(page.items) <= limit
        seen += page.items
        if page.next is None:
            return seen
        after = page.next


def test_ties_on_the_sort_key_neither_skip_nor_repeat() -> None:
    day = dt.date(2026, 1, 5)
    items = [Item(day, f"id-{n:02d}") for n in range(9)]  # every item due the same day
    items += [Item(day + dt.timedelta(days=1), "a"), Item(day - dt.timedelta(days=1), "z")]
    expected = sorted(items, key=key)
    for limit in (1, 2, 3, 4, 11, 50):
        assert walk(items, limit) == expected


def test_an_item_changing_between_pages() -> None:
    day = dt.date(2026, 1, 5)
    items = [Item(day + dt.timedelta(days=n), f"c{n}") for n in range(6)]
    first = page_of("q", items, key, limit=2)
    assert [i.ident for i in first.items] == ["c0", "c1"]
    # Between the pages: c0 (seen) moves to the end, c4 (not seen) moves before the cursor,
    # c5 is gone, a new item arrives after the cursor.
    changed = [
        replace(items[0], due=day + dt.timedelta(days=30)),
        items[1],
        items[2],
        items[3],
        replace(items[4], due=day - dt.timedelta(days=3)),
        Item(day + dt.timedelta(days=2), "new"),
    ]
    rest: list[Item] = []
    after = first.next
    while after is not None:
        page = page_of("q", changed, key, limit=2, after=after)
        rest += page.items
        after = page.next
    # Unchanged items after the cursor: each once; the moved-later one again where it now
    # sorts; the one moved before the cursor is not shown on later pages.
    assert [i.ident for i in rest] == ["c2", "new", "c3", "c0"]


def test_bad_cursors_are_refused_with_a_reason() -> None:
    items = [Item(dt.date(2026, 1, 1), "a")]
    with pytest.raises(BadCursor, match="cannot be read"):
        page_of("overdue", items, key, after="not a cursor!")
    with pytest.raises(BadCursor, match="belongs to the queue 'mine'"):
        page_of("overdue", items, key, after=encode_cursor("mine", ("x",)))
    assert decode_cursor("mine", encode_cursor("mine", ("2026-01-01", "甲"))) == (
        "2026-01-01",
        "甲",
    )


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedSystem]:
    settings = make_settings(tmp_path_factory.mktemp("paging") / "data")
    generate(settings, 400, today=TODAY, seed=11, progress=lambda _line: None)
    built = build_embedded(settings, today=TODAY)
    built.accounts._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    for name, role in (("operator", Role.OPERATOR), ("handler", Role.HANDLER)):
        built.accounts.create_user(name, "pw pw pw pw 1", role, name, enforce_policy=False)
    built.accounts.create_user(
        "leader", "pw pw pw pw 1", Role.LEADER, "leader", section="科", enforce_policy=False
    )
    built.accounts.create_user(
        "handler-2", "pw pw pw pw 1", Role.HANDLER, "h2", section="科", enforce_policy=False
    )
    yield built
    built.stop()


def bearer(system: EmbeddedSystem, username: str) -> dict[str, str]:
    token = system.accounts.issue_token(system.accounts.principal(username))
    return {"Authorization": f"Bearer {token}"}


QUEUES = [
    ("operator", "untriaged"),
    ("operator", "overdue"),
    ("handler", "mine"),
    ("leader", "section"),
    ("leader", "awaiting-approval"),
    ("leader", "overdue"),
    ("leader", "due-soon"),
]


@pytest.mark.parametrize(("who", "queue"), QUEUES)
def test_the_api_pages_through_a_whole_queue(system: EmbeddedSystem, who: str, queue: str) -> None:
    headers = bearer(system, who)
    with TestClient(system.web_app()) as client:
        whole = client.get(f"/api/v1/queues/{queue}", params={"limit": 1000}, headers=headers)
        assert whole.status_code == 200, whole.text
        body = whole.json()
        assert body["next"] is None
        assert body["count"] == body["total"] == len(body["items"])
        paged: list[Any] = []
        after = None
        while True:
            params: dict[str, Any] = {"limit": 3}
            if after:
                params["after"] = after
            answer = client.get(f"/api/v1/queues/{queue}", params=params, headers=headers).json()
            assert answer["count"] == len(answer["items"]) <= 3
            assert answer["total"] == body["total"]
            paged += answer["items"]
            after = answer["next"]
            if after is None:
                break
        assert paged == body["items"]
    if queue == "mine":
        assert body["total"] > 3  # the walk went over several pages


def test_the_api_refuses_a_bad_cursor(system: EmbeddedSystem) -> None:
    headers = bearer(system, "leader")
    with TestClient(system.web_app()) as client:
        bad = client.get("/api/v1/queues/overdue", params={"after": "garbage"}, headers=headers)
        assert bad.status_code == 422
        assert "cursor" in bad.json()["detail"]
        section = client.get("/api/v1/queues/section", params={"limit": 1}, headers=headers).json()
        assert section["next"]
        other = client.get(
            "/api/v1/queues/overdue", params={"after": section["next"]}, headers=headers
        )
        assert other.status_code == 422
        assert "belongs to the queue 'section'" in other.json()["detail"]
        assert (
            client.get("/api/v1/queues/mine", params={"limit": 0}, headers=headers).status_code
            == 422
        )
        schema = client.get("/openapi.json").json()
        names = {p["name"] for p in schema["paths"]["/api/v1/queues/{queue}"]["get"]["parameters"]}
        assert {"limit", "after"} <= names
        fields = schema["components"]["schemas"]["QueueView"]["properties"]
        assert {"count", "items", "total", "next"} <= set(fields)


def test_pages_link_to_the_next_page(system: EmbeddedSystem, tmp_path: Path) -> None:
    with TestClient(system.web_app()) as client:
        client.cookies.set(
            "jiandu_session", system.accounts.start_session(system.accounts.principal("handler"))
        )
        first = client.get("/cases/mine", params={"limit": 2})
        assert first.status_code == 200
        assert 'rel="next"' in first.text
        link = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
        second = client.get(link.replace("&amp;", "&"))
        assert second.status_code == 200
        queues = client.get("/queues", params={"limit": 2})
        assert queues.status_code == 200
        assert 'rel="next"' in queues.text
        bad = client.get("/cases/mine", params={"after": "garbage"})
        assert bad.status_code == 422


@pytest.mark.parametrize("days", [-400, -30, 0, 45, 400])
def test_the_deadline_queues_decide_as_each_clock_does(system: EmbeddedSystem, days: int) -> None:
    """The deadline queues decide each deadline's state without building its clock, and
    read only open deadlines (or those met after the day asked about) by their indexes
    (0027): on any day, past or future, they hold exactly the deadlines whose own clock says
    due soon or overdue, of cases in a state where the deadline still runs, and of reports."""
    day = TODAY + dt.timedelta(days=days)
    queries = CaseQueries(system.read.store, system.read.cases.config, today=lambda: day)
    rows = system.read.store.query(
        "SELECT d.*, c.state AS case_state, q.report_id AS report FROM case_deadlines d "
        "LEFT JOIN case_list c ON c.case_id = d.subject_id "
        "LEFT JOIN report_queue q ON q.report_id = d.subject_id WHERE d.due IS NOT NULL"
    )
    met_later = [r for r in rows if r["met_on"] and r["met_on"] > day.isoformat()]
    if days < 0:
        assert met_later  # the past day sees deadlines met since as still open
    for state in ("due_soon", "overdue"):
        expected = sorted(
            (r["subject_id"], r["name"])
            for r in rows
            if (
                r["report"]
                or r["case_state"] not in FINISHED
                or r["name"].split("#")[0] in AFTER_CLOSURE
            )
            and (r["report"] or r["case_state"] is not None)
            and queries.clock(r).state == state
        )
        whole = queries.deadline_queue(state).all()
        assert sorted((i.subject_id, i.clock.name) for i in whole) == expected
        assert all(i.clock.state == state for i in whole)
        assert whole == (queries.due_soon() if state == "due_soon" else queries.overdue())
        first = page_of(state, queries.deadline_queue(state), deadline_key, limit=5)
        assert first.items == whole[:5]
        assert first.total == len(whole)
    assert queries.overdue() or days < 0  # the generated history has overdue deadlines


def _ledger_numbers(html: str, section: str) -> list[str]:
    """The ledger numbers listed in one section of the approvals page (by its anchor)."""
    part = html.split(f'id="{section}"', 1)[1].split("<h2", 1)[0]
    return re.findall(r">((?:JB|[A-Z]+)-\d{4}-\d+)<", part)


def test_the_approvals_page_pages_each_list(system: EmbeddedSystem) -> None:
    """The approvals page shows ``limit`` items of each list (proposals, returns, cases to
    assign) with its total and a "next page" link per list; following a list's links walks
    the whole list once, the longest waiting first, and the other lists stay where they were;
    a cursor the page did not hand out is refused (422)."""
    with TestClient(system.web_app()) as client:
        client.cookies.set(
            "jiandu_session", system.accounts.start_session(system.accounts.principal("leader"))
        )
        whole = client.get("/approvals", params={"limit": 1000})
        assert whole.status_code == 200
        assert 'rel="next"' not in whole.text
        walked_any = False
        for section in ("approvals", "returns", "to_assign"):
            expected = _ledger_numbers(whole.text, section)
            seen: list[str] = []
            url: str | None = "/approvals?limit=2"
            pages = 0
            while url:
                answer = client.get(url)
                assert answer.status_code == 200
                seen += _ledger_numbers(answer.text, section)
                pages += 1
                links = re.findall(r'<a href="([^"]+)" rel="next"', answer.text)
                url = next(
                    (link.replace("&amp;", "&") for link in links if f"#{section}" in link), None
                )
            assert seen == expected
            walked_any |= pages > 2
        assert walked_any  # at least one list spread over several pages
        bad = client.get("/approvals", params={"after_approvals": "garbage"})
        assert bad.status_code == 422
        assert "cursor" in bad.text
