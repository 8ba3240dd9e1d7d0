"""The pages served by the processes that own their data (decision record 0031): each desk by
one distributed process, ``jiandu web`` composing neither intake nor casework, the proxy
sending each page to its process, one session and one CSRF token good on all of them.

The distributed compositions run here on the SQLite files of an embedded system (as
tests/fuzz/apps.py does); tests/e2e/test_distributed.py runs them as processes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from schemas import commands as c
from schemas.glossary import ReportStatus
from services.bootstrap import (
    EmbeddedSystem,
    build_accounts,
    build_casework,
    build_read_side,
    casework_api_app,
    casework_pages,
    intake_api_app,
    web_pages_app,
)
from services.intake.report_log import ReportLog
from services.web import pages
from services.web.desks.intake import IntakeDesk
from services.web.shell import PARTS, MissingPart, PageServices
from tests.unit.conftest import REPORTER_NAME, real_name_reporter
from tests.unit.pages_support import actor, build_system, sign_in, submit
from tests.unit.test_pages import SUBJECT, hotline_form

ROOT = Path(__file__).resolve().parents[2]
CADDYFILE = ROOT / "deploy" / "Caddyfile"
UPSTREAMS = {
    "INTAKE_API_UPSTREAM": "intake-api",
    "CASEWORK_UPSTREAM": "casework",
    "PROJECTIONS_API_UPSTREAM": "projections-api",
    "WEB_UPSTREAM": "web",
}
# A value for each path parameter of a page.
SAMPLES = {
    "report_id": "0b7c3f0e-6f1a-4c39-9d53-1f0e4a0f9a10",
    "case_id": "5d1f2c3a-8b7e-4f6d-9c0a-2e3b4c5d6e7f",
    "selection_id": "8e2a4b6c-1d3f-4a5b-9c7d-0e1f2a3b4c5d",
    "project_id": "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
    "document_id": "组函〔2026〕1号",
    "kind": "inquiry_notice",
    "action": "accept",
    "cadre_id": "QS-0001",
    "table": "time_limits",
    "username": "someone",
    "change": "deactivate",
    "name": "by_status",
}


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_system(tmp_path)
    yield system
    system.stop()


def process_apps(system: EmbeddedSystem) -> dict[str, FastAPI]:
    """The three processes that serve pages, composed as `jiandu intake-api`, `jiandu
    casework` and `jiandu web` compose them."""
    settings, clock = system.settings, system.clock
    accounts = build_accounts(settings, clock)
    read = build_read_side(settings, clock=clock)
    work = build_casework(settings, clock=clock, accounts=accounts, register=read.register)
    return {
        "intake-api": intake_api_app(settings, clock),
        "casework": casework_api_app(
            work, accounts, lambda: True, page_services=casework_pages(settings, work, read)
        ),
        "web": web_pages_app(settings, clock),
    }


def page_paths(app: FastAPI) -> set[str]:
    """The paths of the pages an app serves: its desks' routes, over its own services."""
    return {
        route.path
        for desk in app.state.desks
        for route in desk.build_router(app.state.pages).routes
        if isinstance(route, APIRoute)
    }


def test_each_desk_is_served_by_one_distributed_process() -> None:
    served = [desk for desks in pages.PROCESS_DESKS.values() for desk in desks]
    assert sorted(d.__name__ for d in served) == sorted(d.__name__ for d in pages.DESKS)
    assert len(served) == len(set(served)) == len(pages.DESKS)


def test_jiandu_web_composes_no_intake_or_casework_application(system: EmbeddedSystem) -> None:
    apps = process_apps(system)
    web = apps["web"]
    services: PageServices = web.state.pages
    assert services.intake is None
    assert services.casework is None
    assert services.reveal is None
    assert services.reports is None  # not even intake's log
    assert services.case_log is not None  # casework's log, read only: the record's check
    assert web.state.desks == pages.WEB_DESKS
    assert apps["intake-api"].state.pages.casework is None
    assert apps["casework"].state.pages.intake is None

    report_id = submit(system, SUBJECT)
    with TestClient(web) as browser, TestClient(apps["intake-api"]) as intake:
        sign_in(browser, system, "operator")
        login = browser.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert token, login.text
        form = hotline_form(token[1])

        # The hotline form is not a page of `jiandu web`: not routed there, nothing stored.
        assert browser.get("/intake/new").status_code == 404
        refused = browser.post("/intake/new", data=form, follow_redirects=False)
        assert refused.status_code == 404
        assert browser.get(f"/reports/{report_id}").status_code == 404
        assert browser.get("/queues").status_code == 200  # web's own pages are there

        # intake-api serves it, on the session and the CSRF cookie `jiandu web` gave.
        intake.cookies.update(browser.cookies)
        assert intake.get("/intake/new").status_code == 200
        registered = intake.post("/intake/new", data=form, follow_redirects=False)
        assert registered.status_code == 303, registered.text
        new_id = UUID(registered.headers["location"].split("/")[2].split("?")[0])
    assert system.intake.get_report(new_id).status is ReportStatus.REGISTERED


def test_the_pages_are_split_among_the_processes_as_in_the_embedded_app(
    system: EmbeddedSystem,
) -> None:
    served = {name: page_paths(app) for name, app in process_apps(system).items()}
    everything = page_paths(system.web_app())
    assert set().union(*served.values()) == everything
    assert sum(len(paths) for paths in served.values()) == len(everything)  # none twice
    assert {"/intake/new", "/mailbox", "/follow-up", "/reports/{report_id}/identity"} <= served[
        "intake-api"
    ]
    assert {"/cases/{case_id}", "/approvals", "/selections", "/selections/{selection_id}"} <= (
        served["casework"]
    )
    assert {"/projects", "/projects/{project_id}"} <= served["casework"]
    assert {"/login", "/cadres/{cadre_id}", "/audit/verify", "/admin/users"} <= served["web"]


def test_a_desk_is_refused_where_a_part_it_needs_is_missing(system: EmbeddedSystem) -> None:
    only_read = PageServices(system.read)
    with pytest.raises(MissingPart, match="IntakeDesk needs intake, reports, reveal"):
        pages.install(FastAPI(), only_read, (pages.intake,))
    for desks in (pages.INTAKE_DESKS, pages.CASEWORK_DESKS):
        with pytest.raises(MissingPart):
            pages.install(FastAPI(), only_read, desks)
    pages.install(FastAPI(), PageServices(system.read, case_log=system.casework),
                  pages.WEB_DESKS)  # fmt: skip


def test_a_desk_reaches_only_the_parts_it_names(system: EmbeddedSystem) -> None:
    everything: PageServices = system.web_app().state.pages  # the embedded mode: every part
    assert everything.casework is system.casework
    desk = IntakeDesk(everything)
    assert desk.intake is system.intake
    with pytest.raises(MissingPart, match="casework"):
        _ = desk.casework
    with pytest.raises(MissingPart, match="no cases"):
        desk.lists.cases_of("handler")  # its lists read no cases either


def test_the_identity_reveal_on_intake_apis_report_page(system: EmbeddedSystem) -> None:
    """The same audited command as the API's, in intake's process."""
    report_id = submit(system, SUBJECT, reporter=real_name_reporter())
    apps = process_apps(system)
    with TestClient(apps["web"]) as browser, TestClient(apps["intake-api"]) as intake:
        sign_in(browser, system, "operator")
        token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text)
        assert token
        intake.cookies.update(browser.cookies)
        shown = intake.post(
            f"/reports/{report_id}/identity", data={"csrf_token": token[1], "reason": "核实身份"}
        )
    assert shown.status_code == 200, shown.text
    assert REPORTER_NAME in shown.text
    [entry] = system.accounts.audit_entries()
    assert (entry.username, entry.item_id, entry.reason) == ("operator", str(report_id), "核实身份")


# -- the proxy -----------------------------------------------------------------------------


def caddy_routes() -> list[tuple[Any, str]]:
    """The Caddyfile's ``route`` block, in order: (matcher, process); the matcher is None
    (every path), a compiled regex, a list of Caddy path patterns, or a (method, patterns)
    pair (a block matcher of a ``method`` and a ``path``)."""
    text = CADDYFILE.read_text(encoding="utf-8")
    matchers: dict[str, Any] = {}
    for name, kind, rest in re.findall(r"^\s*@(\w+) (path_regexp|path) (.+)$", text, re.M):
        matchers[name] = re.compile(rest.split()[-1]) if kind == "path_regexp" else rest.split()
    for name, method, paths in re.findall(
        r"^\s*@(\w+) \{\s*method (\w+)\s*path ([^\n]+)\s*\}", text, re.M
    ):
        matchers[name] = (method, paths.split())
    block = text[text.index("route {") :]
    routes = []
    for matcher, upstream in re.findall(r"^\s*reverse_proxy (?:@(\w+) )?\{\$(\w+):", block, re.M):
        routes.append((matchers[matcher] if matcher else None, UPSTREAMS[upstream]))
    return routes


def proxied_to(path: str, routes: list[tuple[Any, str]], method: str = "GET") -> str:
    def matches(matcher: Any) -> bool:
        if matcher is None:
            return True
        if isinstance(matcher, re.Pattern):
            return matcher.search(path) is not None
        if isinstance(matcher, tuple):
            return method == matcher[0] and matches(matcher[1])
        return any(
            path.lower().startswith(p[:-1].lower()) if p.endswith("*") else path.lower() == p
            for p in matcher
        )

    return next(process for matcher, process in routes if matches(matcher))


def test_the_proxy_sends_each_page_to_the_process_that_serves_it(
    system: EmbeddedSystem,
) -> None:
    routes = caddy_routes()
    assert len(routes) == 8, routes
    for process, app in process_apps(system).items():
        for path in page_paths(app):
            concrete = re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m[1]], path)
            assert proxied_to(concrete, routes) == process, (path, concrete)
    assert proxied_to("/static/style.css", routes) == "web"
    assert proxied_to("/cadres/candidates", routes) == "intake-api"
    assert proxied_to("/cadres/QS-0001", routes) == "web"
    assert proxied_to("/api/v1/reports/x/timeline", routes) == "projections-api"
    assert proxied_to("/api/v1/reports", routes) == "intake-api"
    # A selection: its list is a read model's, its proposal, record and steps casework's.
    assert proxied_to("/api/v1/selections", routes) == "projections-api"
    assert proxied_to("/api/v1/selections", routes, "POST") == "casework"
    assert proxied_to("/api/v1/selections/x", routes) == "casework"
    assert proxied_to("/api/v1/selections/x/withdraw", routes, "POST") == "casework"
    # A supervision project likewise.
    assert proxied_to("/api/v1/projects", routes) == "projections-api"
    assert proxied_to("/api/v1/projects", routes, "POST") == "casework"
    assert proxied_to("/api/v1/projects/x", routes) == "casework"
    assert proxied_to("/api/v1/projects/x/close", routes, "POST") == "casework"
    # The documents and their templates are casework's (it renders them).
    assert proxied_to("/api/v1/cases/x/documents/y.docx", routes) == "casework"
    assert proxied_to("/api/v1/document-templates", routes) == "casework"
    assert proxied_to("/api/v1/document-templates/inquiry_notice", routes, "PUT") == "casework"


def test_casework_shows_a_proposed_return_read_from_intakes_log(system: EmbeddedSystem) -> None:
    """The approvals page, in casework's process, lists the reports whose return waits for a
    leader: read from intake's log read only (no intake application there)."""
    report_id = submit(system, SUBJECT)
    report = system.intake.triage(
        report_id, "propose_return", c.ReturnWithReason(reason="无实质内容"), actor("operator")
    )
    system.catch_up()
    apps = process_apps(system)
    services: PageServices = apps["casework"].state.pages
    assert isinstance(services.reports, ReportLog)
    with TestClient(apps["casework"]) as casework:
        sign_in(casework, system, "leader")
        page = casework.get("/approvals")
    assert page.status_code == 200, page.text
    assert report.ledger_number
    assert report.ledger_number in page.text
    assert f'action="/reports/{report_id}/approve_return"' in page.text


def test_no_desk_reaches_a_part_around_its_needs() -> None:
    """A desk uses ``self.intake``, ``self.casework``, ``self.reveal``… (checked against its
    ``needs``), never ``self.services.<part>`` past that check."""
    around = re.compile(rf"self\.services\.({'|'.join(sorted(PARTS))})\b")
    desks = sorted((ROOT / "services" / "web" / "desks").glob("*.py"))
    assert len(desks) >= 9
    found = [f"{path.name}: {m[0]}" for path in desks for m in around.finditer(path.read_text())]
    assert not found, found
