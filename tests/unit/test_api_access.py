"""Who may call which API route: every route of the embedded app, for every role and for
no token at all; and no answer but the audited reveal shows a reporter's identity.

The expected policy of each route is written out here, independently of the code: a route
without an entry in ``PROBES`` fails ``test_every_route_has_a_policy``, so a new route must
say who may call it. Each probe is sent by every caller:

- no token: 401 unless the route is public;
- a role outside the route's roles: 403;
- a handler, on a case assigned to a handler of another section: 403 (a handler sees the
  cases assigned to them or to a handler of their own section);
- everyone admitted: the probe's own answer (200 for reads; 422 for a command sent with a
  deliberately invalid body, so that probing changes nothing).

The world is one embedded system in which a real-name report went through the whole
procedure (registered, assigned, verified, concluded, closed, feedback given, notice sent).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from schemas.glossary import Category, MemberUnit, Role
from schemas.project_commands import OpenProject
from schemas.selection_commands import ProposeSelection, SelectionPerson
from schemas.views import CadreRecord
from services.bootstrap import EmbeddedSystem
from services.casework.handlers import COMMANDS
from services.casework.projects import PROJECT_COMMANDS
from services.casework.selection_api import HOLD_ACTIONS
from services.casework.selections import SELECTION_COMMANDS
from services.intake.triage import TRIAGE_COMMANDS
from tests.support.auth import TEST_PASSWORD, bearer
from tests.unit.conftest import (
    REPORTER_EMAIL,
    REPORTER_ID_NUMBER,
    REPORTER_NAME,
    REPORTER_PHONE,
    all_envelopes,
    build_embedded,
    make_settings,
    real_name_reporter,
    stand_in_handlers,
)

R = Role
SECTION = "干部监督一科"
OTHER_SECTION = "干部监督二科"
LIAISON_UNIT = MemberUnit.DISCIPLINE_COMMISSION
IDENTITY = (REPORTER_NAME, REPORTER_PHONE, REPORTER_EMAIL, REPORTER_ID_NUMBER)

# Every caller: no token, one account per role, and two more handlers — a colleague of the
# case's handler (same section) and a stranger (another section).
PUBLIC = "public"
COLLEAGUE = "colleague"
STRANGER = "stranger"
ACCOUNTS: dict[str, tuple[Role, dict[str, str]]] = {
    "operator": (R.OPERATOR, {"section": SECTION}),
    "handler": (R.HANDLER, {"section": SECTION}),
    "leader": (R.LEADER, {"section": SECTION}),
    "liaison": (R.LIAISON, {"unit": LIAISON_UNIT.zh}),
    "auditor": (R.AUDITOR, {}),
    "admin": (R.ADMIN, {}),
    "clerk": (R.SELECTION_CLERK, {"unit": "县委组织部"}),
    COLLEAGUE: (R.HANDLER, {"section": SECTION}),
    STRANGER: (R.HANDLER, {"section": OTHER_SECTION}),
}
CALLERS = (PUBLIC, *ACCOUNTS)

STAFF = frozenset({R.OPERATOR, R.HANDLER, R.LEADER, R.AUDITOR})
EVERY_ROLE = frozenset(role for role, _ in ACCOUNTS.values())
INVALID = {"no_such_field": True}  # refused by every command model (extra="forbid"): 422

STUDY = {
    "held_on": "2026-02-20",
    "meeting": "干部监督科集体研究会",
    "participants": ["李科长", "王副科长", "赵干事"],
    "decision_ref": "监研〔2026〕3号",
}
SUBJECT = {"name": "王建国", "unit": "某县财政局", "position": "局长", "cadre_id": "C-001"}


@dataclass(frozen=True)
class Probe:
    """One request to a route, and who may make it.

    ``roles`` None: public. ``case_scoped``: a handler only on their own or their section's
    case. ``ok``: what an admitted caller gets (None: anything but 401/403)."""

    method: str
    route: str
    roles: frozenset[Role] | None
    path: str = ""  # the concrete path, if the route's parameters are not filled generically
    case_scoped: bool = False
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    ok: int | None = 200

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.route)

    def __str__(self) -> str:
        return f"{self.method} {self.path or self.route}"


def case_commands() -> list[Probe]:
    roles = frozenset({R.OPERATOR, R.HANDLER, R.LEADER})
    return [
        Probe(
            "POST",
            f"/api/v1/cases/{{case_id}}/{action}",
            roles,
            case_scoped=True,
            body=INVALID,
            ok=422,
        )
        for action in COMMANDS
        if action != "issue_document"  # its own route: POST /cases/{case_id}/documents
    ]


SELECTION_RECORDERS = frozenset({R.SELECTION_CLERK, R.LEADER})
SELECTION_HOLDERS = frozenset({R.HANDLER, R.LEADER})
SELECTION_READERS = frozenset({R.SELECTION_CLERK, R.HANDLER, R.LEADER, R.AUDITOR})
SELECTION_ACCOUNTABLE = frozenset({R.LEADER})


def selection_step_roles(action: str) -> frozenset[R]:
    if action in {"void_appointment", "take_responsibility"}:
        return SELECTION_ACCOUNTABLE
    return SELECTION_HOLDERS if action in HOLD_ACTIONS else SELECTION_RECORDERS


def selection_commands() -> list[Probe]:
    """Each step of a selection: the recorders, the holders for a hold and its release, the
    leaders for a voided appointment and a responsibility."""
    return [
        Probe(
            "POST",
            f"/api/v1/selections/{{selection_id}}/{action}",
            selection_step_roles(action),
            body=INVALID,
            ok=422,
        )
        for action in SELECTION_COMMANDS
        if action != "issue_document"  # its own route: POST /selections/{selection_id}/documents
    ]


# The supervision project (立项督查): a leader opens it, forms its team and decides on its
# conclusion; only a handler proposes the conclusion; both record the rest.
PROJECT_LEADERS = frozenset({R.LEADER})
PROJECT_WORKERS = frozenset({R.HANDLER, R.LEADER})
PROJECT_STEP_ROLES = {
    "form_team": PROJECT_LEADERS,
    "record_plan": PROJECT_WORKERS,
    "record_finding": PROJECT_WORKERS,
    "propose_conclusion": frozenset({R.HANDLER}),
    "approve_conclusion": PROJECT_LEADERS,
    "return_conclusion": PROJECT_LEADERS,
    "report_back": PROJECT_WORKERS,
    "close": PROJECT_LEADERS,
}


def project_commands() -> list[Probe]:
    # issue_document: its own route, POST /projects/{project_id}/documents (decision 0035)
    assert set(PROJECT_STEP_ROLES) == set(PROJECT_COMMANDS) - {"issue_document"}
    return [
        Probe(
            "POST",
            f"/api/v1/projects/{{project_id}}/{action}",
            roles,
            body=INVALID,
            ok=422,
        )
        for action, roles in PROJECT_STEP_ROLES.items()
    ]


def triage_commands() -> list[Probe]:
    roles = frozenset({R.OPERATOR, R.LEADER})
    return [
        Probe("POST", f"/api/v1/reports/{{report_id}}/{action}", roles, body=INVALID, ok=422)
        for action in TRIAGE_COMMANDS
    ]


QUEUE_ROLES = {
    "unregistered": {R.OPERATOR, R.LEADER, R.AUDITOR},
    "untriaged": {R.OPERATOR, R.LEADER, R.AUDITOR},
    "mine": {R.HANDLER, R.LEADER},
    "section": {R.LEADER},
    "due-soon": STAFF,
    "overdue": STAFF,
    "awaiting-approval": {R.LEADER, R.AUDITOR},
}
LIAISON_READERS = frozenset({R.LIAISON, R.LEADER, R.AUDITOR, R.ADMIN, R.OPERATOR})

PROBES: list[Probe] = [
    # operations and documentation: public
    Probe("GET", "/healthz", None),
    Probe("GET", "/metrics", None),
    Probe("GET", "/openapi.json", None),
    Probe("GET", "/docs", None),
    Probe("GET", "/docs/oauth2-redirect", None),
    Probe("GET", "/redoc", None),
    # intake
    Probe(
        "POST",
        "/api/v1/reports",
        None,
        body={
            "channel": "mailbox",
            "reporter": {"anonymous": True},
            "subjects": [SUBJECT],
            "categories": ["seeking_office"],
            "summary": "网上举报：反映王建国跑官要官。",
        },
        ok=201,
    ),
    Probe("GET", "/api/v1/reports/{report_id}", STAFF),
    *triage_commands(),
    # The world's report is closed and its acceptance notice sent: its operator no longer
    # needs the identity, its case's handler (and section) still does (decision 0013).
    Probe(
        "POST",
        "/api/v1/reports/{report_id}/identity",
        frozenset({R.HANDLER}),
        case_scoped=True,
        body={"reason": "核实实名举报人身份"},
    ),
    # the letters to the reporter (decision 0037): read as the report; issued by who may see
    # the reporter (the body is checked before the report's scope); downloaded addressed by
    # the case's handler only (the world's operator no longer needs the identity).
    Probe("GET", "/api/v1/reports/{report_id}/documents", STAFF),
    Probe("GET", "/api/v1/reports/{report_id}/documents/open-steps", STAFF),
    Probe(
        "POST",
        "/api/v1/reports/{report_id}/documents",
        frozenset({R.OPERATOR, R.HANDLER}),
        body=INVALID,
        ok=422,
    ),
    Probe(
        "POST",
        "/api/v1/reports/{report_id}/documents/{ref}.docx",
        frozenset({R.HANDLER}),
        path="/api/v1/reports/{report_id}/documents/none.docx",
        case_scoped=True,
        body={"reason": "寄送反馈意见书"},
        ok=404,
    ),
    Probe("GET", "/api/v1/follow-up/{query_code}", None),
    Probe(
        "POST",
        "/api/v1/reports/{report_id}/sealed-content/hand-over",
        frozenset({R.OPERATOR}),
        body=INVALID,
        ok=422,
    ),
    Probe(
        "POST",
        "/api/v1/reports/{report_id}/sealed-content/open",
        frozenset({R.LEADER}),
        body=INVALID,
        ok=422,
    ),
    Probe(
        "GET", "/api/v1/reports/{report_id}/timeline", frozenset({R.OPERATOR, R.LEADER, R.AUDITOR})
    ),
    # casework
    Probe("GET", "/api/v1/cases/{case_id}", STAFF, case_scoped=True),
    *case_commands(),
    # official documents (decision 0035): the case's readers read them, handlers and leaders
    # issue them; the world's case has none (its download answers 404 to those admitted).
    Probe("GET", "/api/v1/cases/{case_id}/documents", STAFF, case_scoped=True),
    Probe(
        "POST",
        "/api/v1/cases/{case_id}/documents",
        frozenset({R.HANDLER, R.LEADER}),
        case_scoped=True,
        body=INVALID,
        ok=422,
    ),
    Probe(
        "GET",
        "/api/v1/cases/{case_id}/documents/{ref}.docx",
        STAFF,
        path="/api/v1/cases/{case_id}/documents/none.docx",
        case_scoped=True,
        ok=404,
    ),
    Probe(
        "POST",
        "/api/v1/cases/{case_id}/{action}",
        frozenset({R.OPERATOR, R.HANDLER, R.LEADER}),
        path="/api/v1/cases/{case_id}/fly",
        body={},
        ok=404,
    ),
    # the selection record (decision 0034)
    Probe("POST", "/api/v1/selections", SELECTION_RECORDERS, body=INVALID, ok=422),
    Probe(
        "GET",
        "/api/v1/selections/{selection_id}",
        SELECTION_READERS,
    ),
    *selection_commands(),
    # the selections read model (its list; the same path's POST is casework's proposal)
    Probe("GET", "/api/v1/selections", SELECTION_READERS),
    # the selection's documents (考察反馈意见, decision 0035): read as the selection, issued
    # by its recorders; the world's selection has none (a download: 404 to those admitted).
    Probe(
        "GET",
        "/api/v1/selections/{selection_id}/documents",
        frozenset({R.SELECTION_CLERK, R.HANDLER, R.LEADER, R.AUDITOR}),
    ),
    Probe(
        "GET",
        "/api/v1/selections/{selection_id}/documentable",
        frozenset({R.SELECTION_CLERK, R.HANDLER, R.LEADER, R.AUDITOR}),
    ),
    Probe(
        "POST",
        "/api/v1/selections/{selection_id}/documents",
        SELECTION_RECORDERS,
        body=INVALID,
        ok=422,
    ),
    Probe(
        "GET",
        "/api/v1/selections/{selection_id}/documents/{ref}.docx",
        frozenset({R.SELECTION_CLERK, R.HANDLER, R.LEADER, R.AUDITOR}),
        path="/api/v1/selections/{selection_id}/documents/none.docx",
        ok=404,
    ),
    Probe(
        "POST",
        "/api/v1/selections/{selection_id}/{action}",
        SELECTION_RECORDERS | SELECTION_HOLDERS,
        path="/api/v1/selections/{selection_id}/fly",
        body={},
        ok=404,
    ),
    # the supervision project on a selection (立项督查)
    Probe("POST", "/api/v1/projects", PROJECT_LEADERS, body=INVALID, ok=422),
    Probe("GET", "/api/v1/projects/{project_id}", frozenset({R.HANDLER, R.LEADER, R.AUDITOR})),
    # the projects read model (its list; the same path's POST is casework's opening)
    Probe("GET", "/api/v1/projects", frozenset({R.HANDLER, R.LEADER, R.AUDITOR})),
    # the project's 立项督查通知 (decision 0035): read as the project, issued by its workers
    Probe(
        "GET",
        "/api/v1/projects/{project_id}/documents",
        frozenset({R.HANDLER, R.LEADER, R.AUDITOR}),
    ),
    Probe(
        "POST",
        "/api/v1/projects/{project_id}/documents",
        frozenset({R.HANDLER, R.LEADER}),
        body=INVALID,
        ok=422,
    ),
    Probe(
        "GET",
        "/api/v1/projects/{project_id}/documents/{ref}.docx",
        frozenset({R.HANDLER, R.LEADER, R.AUDITOR}),
        path="/api/v1/projects/{project_id}/documents/none.docx",
        ok=404,
    ),
    *project_commands(),
    Probe(
        "POST",
        "/api/v1/projects/{project_id}/{action}",
        PROJECT_WORKERS,
        path="/api/v1/projects/{project_id}/fly",
        body={},
        ok=404,
    ),
    # the information base
    Probe("GET", "/api/v1/cases/{case_id}/timeline", STAFF, case_scoped=True),
    Probe("GET", "/api/v1/cadres", STAFF, path="/api/v1/cadres?q=王建国"),
    Probe("GET", "/api/v1/cadres/{cadre_id}/archive", STAFF),
    Probe("GET", "/api/v1/cadre-candidates", frozenset({R.OPERATOR, R.AUDITOR})),
    Probe("POST", "/api/v1/integrity-replies", STAFF, body={"cadre_ids": ["C-001"]}),
    Probe(
        "GET",
        "/api/v1/integrity-replies.docx",
        STAFF,
        path="/api/v1/integrity-replies.docx?cadre_ids=C-001",
    ),
    *(
        Probe("GET", "/api/v1/queues/{queue}", frozenset(roles), path=f"/api/v1/queues/{queue}")
        for queue, roles in QUEUE_ROLES.items()
    ),
    Probe("GET", "/api/v1/cases", STAFF),
    Probe("GET", "/api/v1/liaison/statistics", LIAISON_READERS),
    Probe("GET", "/api/v1/liaison/referrals", LIAISON_READERS),
    Probe("GET", "/api/v1/liaison/quarterly-report", LIAISON_READERS),
    Probe(
        "GET",
        "/api/v1/liaison/charts/{name}.svg",
        LIAISON_READERS,
        path="/api/v1/liaison/charts/category.svg",
    ),
    # accounts and the audit
    Probe(
        "POST", "/api/v1/auth/token", None, body={"username": "auditor", "password": TEST_PASSWORD}
    ),
    Probe("GET", "/api/v1/auth/me", EVERY_ROLE),
    Probe("GET", "/api/v1/admin/users", frozenset({R.ADMIN})),
    # the official documents' templates (decision 0035): the administrator's
    Probe("GET", "/api/v1/document-templates", frozenset({R.ADMIN})),
    Probe(
        "GET",
        "/api/v1/document-templates/{kind}.docx",
        frozenset({R.ADMIN}),
        path="/api/v1/document-templates/inquiry_notice.docx",
    ),
    Probe(
        "PUT",
        "/api/v1/document-templates/{kind}",
        frozenset({R.ADMIN}),
        path="/api/v1/document-templates/inquiry_notice",
        body=INVALID,  # not a .docx: refused, nothing replaced
        ok=422,
    ),
    Probe("POST", "/api/v1/admin/users", frozenset({R.ADMIN}), body=INVALID, ok=422),
    Probe("PATCH", "/api/v1/admin/users/{username}", frozenset({R.ADMIN}), body={}, ok=422),
    Probe("GET", "/api/v1/audit", frozenset({R.AUDITOR, R.ADMIN})),
    Probe("GET", "/api/v1/audit/changes", frozenset({R.AUDITOR, R.ADMIN})),
    Probe("GET", "/api/v1/audit/config-changes", frozenset({R.AUDITOR, R.ADMIN})),
]


# -- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    system: EmbeddedSystem
    client: TestClient
    tokens: dict[str, dict[str, str]]
    values: dict[str, str]  # path parameters
    follow_up_password: str
    procedure_answers: list[str]  # every response body of the procedure itself

    def send(self, probe: Probe, caller: str) -> Any:
        path = (probe.path or probe.route).format(**self.values)
        headers = dict(self.tokens.get(caller, {})) | probe.headers
        if "{query_code}" in probe.route:
            headers["X-Follow-Up-Password"] = self.follow_up_password
        kwargs: dict[str, Any] = {"headers": headers}
        if probe.body is not None:
            kwargs["json"] = probe.body
        return self.client.request(probe.method, path, **kwargs)


def _procedure(world: World) -> tuple[str, str]:
    """A real-name hotline report, through to feedback; (report id, case id)."""
    client, tokens, answers = world.client, world.tokens, world.procedure_answers

    def call(who: str, path: str, expect: int = 200, **body: Any) -> dict[str, Any]:
        response = client.post(path, json=body, headers=tokens[who])
        assert response.status_code == expect, f"{path}: {response.text}"
        answers.append(response.text)
        data: dict[str, Any] = response.json()
        return data

    receipt = call(
        "operator",
        "/api/v1/reports",
        201,
        channel="hotline",
        reporter=real_name_reporter(),
        subjects=[SUBJECT],
        categories=["seeking_office"],
        summary="反映王建国在干部调整前多次找领导要求提拔。",
        received_on="2026-02-02",
    )
    report_id = receipt["report_id"]
    case_id = call("operator", f"/api/v1/reports/{report_id}/accept")["case_id"]
    world.system.catch_up()
    case = f"/api/v1/cases/{case_id}"
    call("leader", f"{case}/assign", handler_id="handler")
    call(
        "handler",
        f"{case}/propose_disposition",
        disposition="preliminary_verification",
        reason="线索具体，具备核查条件",
    )
    call("leader", f"{case}/approve_disposition", collective_study=STUDY)
    call(
        "handler",
        f"{case}/record_finding",
        kind="interview",
        summary="与该局5名干部个别谈话",
        evidence_refs=["谈话笔录-01"],
        found_on="2026-02-24",
    )
    call(
        "handler",
        f"{case}/propose_conclusion",
        verdicts={"seeking_office": "untrue"},
        reason="经核查形成结论",
    )
    call("leader", f"{case}/approve_conclusion", reason="同意")
    call("leader", f"{case}/close", closed_on="2026-02-26", reason="反映不实，办结")
    call(
        "handler",
        f"{case}/give_feedback",
        given_on="2026-02-27",
        method="phone",
        text="经核查，反映问题不属实。",
    )
    call("operator", f"/api/v1/reports/{report_id}/send_acceptance_notice", sent_on="2026-02-05")
    world.system.catch_up()
    return report_id, case_id


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    system = build_embedded(make_settings(tmp_path_factory.mktemp("access")))
    stand_in_handlers(system)
    system.read.register.upsert(
        [CadreRecord(cadre_id="C-001", name="王建国", unit="某县财政局", position="局长")]
    )
    tokens = {
        name: bearer(system.accounts, name, role, **extra)
        for name, (role, extra) in ACCOUNTS.items()
    }
    try:
        with TestClient(system.web_app()) as client:
            world = World(system, client, tokens, {}, "", [])
            report_id, case_id = _procedure(world)
            mailbox = client.post(
                "/api/v1/reports",
                json={
                    "channel": "mailbox",
                    "reporter": real_name_reporter(),
                    "subjects": [SUBJECT],
                    "categories": ["seeking_office"],
                    "summary": "网上实名举报王建国跑官要官。",
                },
            )
            assert mailbox.status_code == 201, mailbox.text
            world.procedure_answers.append(mailbox.text)
            receipt = mailbox.json()
            world.follow_up_password = receipt["password"]
            world.values = {
                "report_id": report_id,
                "case_id": case_id,
                "query_code": receipt["query_code"],
                "cadre_id": "C-001",
                "username": "operator",
                "selection_id": str(
                    system.casework.propose_selection(
                        ProposeSelection(
                            unit="某县财政局",
                            posts=["副局长"],
                            proposers=[SelectionPerson(name="张部长")],
                        ),
                        {"id": "leader", "role": R.LEADER.value},
                    )
                ),
            }
            world.values["project_id"] = str(
                system.casework.open_project(
                    OpenProject(
                        selection_id=UUID(world.values["selection_id"]),
                        basis=[UUID(case_id)],
                        irregularities=[Category.SEEKING_OFFICE],
                        clues="反映王建国在干部调整前多次找领导要求提拔",
                    ),
                    {"id": "leader", "role": R.LEADER.value},
                )
            )
            system.catch_up()
            yield world
    finally:
        system.stop()


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app answers, whether FastAPI keeps included
    routers flat or nested."""
    found: set[tuple[str, str]] = set()

    def add(route: Any) -> None:
        path = getattr(route, "path", None)
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD" and path is not None:
                found.add((method, path))

    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for context in contexts():
                add(context)
        elif isinstance(route, APIRoute | Route):
            add(route)
    return found


def pages(route: tuple[str, str]) -> bool:
    """The web pages have their own tests (sessions and CSRF, not tokens)."""
    _, path = route
    return not path.startswith("/api/") and path not in {p.route for p in PROBES}


# -- the tests ----------------------------------------------------------------------------------


def test_every_route_has_a_policy(world: World) -> None:
    routes = {r for r in api_routes(world.client.app) if not pages(r)}  # type: ignore[arg-type]
    covered = {probe.key for probe in PROBES}

    missing, stale = sorted(routes - covered), sorted(covered - routes)
    assert not missing, f"routes without a policy (add a Probe to PROBES): {missing}"
    assert not stale, f"probes of routes that do not exist: {stale}"


def expected(probe: Probe, caller: str) -> str:
    if probe.roles is None:
        return "ok"
    if caller == PUBLIC:
        return "401"
    role = ACCOUNTS[caller][0]
    if role not in probe.roles:
        return "403"
    if probe.case_scoped and caller == STRANGER:
        return "403 not theirs"
    return "ok"


def outcome(probe: Probe, response: Any) -> str:
    status = response.status_code
    if status == 401:
        return "401"
    if status == 403:
        body = response.json()
        if body.get("rule") in ("own_or_section_case", "identity_own_case"):
            return "403 not theirs"
        if body.get("rule") in ("identity_need_to_know", "identity_in_triage"):
            return "403"  # the reveal's own role check: no need to know
        return "403" if "this needs the role" in body["detail"] else f"403 {body['detail']}"
    if probe.ok is None or status == probe.ok:
        return "ok"
    return f"{status} {response.text[:200]}"


@pytest.mark.parametrize("probe", PROBES, ids=str)
def test_each_route_admits_exactly_its_roles(world: World, probe: Probe) -> None:
    wrong = {}
    for caller in CALLERS:
        response = world.send(probe, caller)
        got, want = outcome(probe, response), expected(probe, caller)
        if got != want:
            wrong[caller] = f"expected {want}, got {got}"

    assert not wrong, "\n".join(f"{caller}: {problem}" for caller, problem in wrong.items())


def test_no_answer_shows_the_reporters_identity_but_the_audited_reveal(world: World) -> None:
    shown = []
    revealed = {}
    for probe in PROBES:
        for caller in CALLERS:
            response = world.send(probe, caller)
            text = response.text
            if probe.route.endswith("/identity") and response.status_code == 200:
                revealed[caller] = text
                continue
            shown += [(str(probe), caller, s) for s in IDENTITY if s in text]
    shown += [("procedure", "", s) for t in world.procedure_answers for s in IDENTITY if s in t]

    assert shown == []
    assert sorted(revealed) == ["colleague", "handler"]  # the case's handler and section
    for text in revealed.values():  # the check above can see an identity where there is one
        assert all(secret in text for secret in IDENTITY)
    audit = world.client.get("/api/v1/audit", headers=world.tokens["auditor"]).json()
    readers = {e["username"] for e in audit["entries"] if e["item_kind"] == "reporter_identity"}
    assert readers == set(revealed)


# Which channels each caller may register a report through; the mailbox is everyone's.
CHANNELS = ("mailbox", "hotline", "letter", "visit", "referral", "internal")
MAY_SUBMIT = {
    PUBLIC: {"mailbox"},
    "operator": set(CHANNELS),
    "handler": {"mailbox", "internal"},
    "liaison": {"mailbox", "referral"},
    "leader": {"mailbox"},
    "auditor": {"mailbox"},
    "admin": {"mailbox"},
}


def report_body(channel: str, **changes: Any) -> dict[str, Any]:
    referral = {"source": "member_unit", "member_unit": LIAISON_UNIT.value}
    return {
        "channel": channel,
        "reporter": {"anonymous": True},
        "subjects": [SUBJECT],
        "categories": ["seeking_office"],
        "summary": f"反映王建国跑官要官（{channel}）。",
        "referral": referral if channel == "referral" else None,
    } | changes


def received_actor(system: EmbeddedSystem, report_id: str) -> dict[str, str]:
    for envelope in all_envelopes(system.intake):
        if envelope.event_type == "ReportReceived" and str(envelope.aggregate_id) == report_id:
            actor: dict[str, str] = envelope.payload["actor"]
            return actor
    raise AssertionError(f"no ReportReceived for {report_id}")


@pytest.mark.parametrize("caller", list(MAY_SUBMIT))
def test_each_caller_registers_reports_through_its_own_channels(world: World, caller: str) -> None:
    answers = {}
    for channel in CHANNELS:
        position = world.system.intake.max_position()
        response = world.client.post(
            "/api/v1/reports", json=report_body(channel), headers=world.tokens.get(caller, {})
        )
        answers[channel] = response.status_code
        if response.status_code == 201:
            actor = received_actor(world.system, response.json()["report_id"])
            if caller == PUBLIC:
                assert actor["role"] == "reporter", actor
            else:
                assert actor == {"id": caller, "role": ACCOUNTS[caller][0].value}
        else:
            assert world.system.intake.max_position() == position, "a refusal stored something"
            detail = response.json()["detail"]
            assert f"'{channel}'" in detail, detail

    refused = 401 if caller == PUBLIC else 403
    assert answers == {c: 201 if c in MAY_SUBMIT[caller] else refused for c in CHANNELS}


@pytest.mark.parametrize(
    "referral",
    [
        {"source": "member_unit", "member_unit": MemberUnit.AUDIT_BUREAU.value},
        {"source": "level_above"},
    ],
    ids=["another member unit", "not from a member unit"],
)
def test_a_liaison_member_refers_only_from_their_own_unit(
    world: World, referral: dict[str, str]
) -> None:
    position = world.system.intake.max_position()

    response = world.client.post(
        "/api/v1/reports",
        json=report_body("referral", referral=referral),
        headers=world.tokens["liaison"],
    )

    assert response.status_code == 403
    assert response.json()["rule"] == "own_unit_referral"
    assert response.json()["detail_zh"]
    assert world.system.intake.max_position() == position
