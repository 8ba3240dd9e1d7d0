"""One error model (RFC 9457 problem details), request ids and the access log (issue 11)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from schemas.glossary import Role
from services.bootstrap import EmbeddedSystem, web_app
from services.cli import configure_logging
from services.common.access_log import ACCESS_LOGGER, ERROR_LOGGER, JsonLineFormatter
from services.common.problems import PROBLEM_MEDIA_TYPE
from tests.support.auth import bearer
from tests.unit.conftest import build_embedded, make_settings

REPORTS = "/api/v1/reports"


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path))
    yield system
    system.stop()


@pytest.fixture
def client(system: EmbeddedSystem) -> Iterator[TestClient]:
    with TestClient(system.web_app()) as client:
        yield client


def assert_problem(answer: Any, status: int) -> dict[str, Any]:
    """The answer is a problem body of ``status`` whose request id is the header's."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["request_id"] == answer.headers["X-Request-ID"]
    return body


def test_every_kind_of_refusal_is_a_problem_body_with_the_request_id(
    client: TestClient, system: EmbeddedSystem
) -> None:
    operator = bearer(system.accounts, "op-1", Role.OPERATOR)
    liaison = bearer(system.accounts, "li-1", Role.LIAISON, unit="组织部")

    no_token = assert_problem(client.get(f"{REPORTS}/{uuid4()}"), 401)
    wrong_role = assert_problem(client.get(f"{REPORTS}/{uuid4()}", headers=liaison), 403)
    unknown = assert_problem(client.get(f"/api/v1/cases/{uuid4()}", headers=operator), 404)
    no_route = assert_problem(client.get("/api/v1/no-such-thing"), 404)
    wrong_method = assert_problem(client.delete("/api/v1/auth/token"), 405)
    invalid = assert_problem(client.post(REPORTS, headers=operator, json={"channel": "x"}), 422)
    bad_id = assert_problem(client.get(f"{REPORTS}/not-a-uuid", headers=operator), 422)

    assert "sign in" in no_token["detail"]
    assert client.get(f"{REPORTS}/{uuid4()}").headers["WWW-Authenticate"] == "Bearer"
    assert "role" in wrong_role["detail"]
    assert unknown["detail_zh"]  # a procedure's refusal, in Chinese too
    assert no_route["detail"] == "Not Found"
    assert wrong_method["title"] == "Method Not Allowed"
    fields = {p["field"] for p in invalid["problems"]}
    assert {"channel", "summary", "subjects"} <= fields
    assert all(set(p) == {"field", "problem"} for p in invalid["problems"])
    assert bad_id["problems"][0]["field"] == "path.report_id"


def test_a_refusal_by_a_rule_names_it(client: TestClient, system: EmbeddedSystem) -> None:
    handler = bearer(system.accounts, "h-1", Role.HANDLER)
    body = {"reason": "核实身份"}

    refused = client.post(f"{REPORTS}/{uuid4()}/identity", headers=handler, json=body)

    problem = assert_problem(refused, 404)  # a handler asks about no such report
    assert problem["detail_zh"]
    auditor = bearer(system.accounts, "au-1", Role.AUDITOR)
    by_rule = assert_problem(
        client.post(f"{REPORTS}/{uuid4()}/identity", headers=auditor, json=body), 403
    )
    assert by_rule["rule"] == "identity_need_to_know"


def test_a_safe_request_id_is_kept_and_any_other_replaced(client: TestClient) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "req-42.a:b_c"})
    replaced = [
        client.get("/healthz", headers={"X-Request-ID": sent})
        for sent in ("two words", "<script>", "x" * 101, "-starts-with-a-dash")
    ]
    made = client.get("/healthz")

    assert kept.headers["X-Request-ID"] == "req-42.a:b_c"
    for answer in replaced:
        assert answer.status_code == 200
        assert len(answer.headers["X-Request-ID"]) == 32
    assert made.headers["X-Request-ID"] != replaced[0].headers["X-Request-ID"]
    refused = client.get(f"{REPORTS}/{uuid4()}", headers={"X-Request-ID": "trace-7"})
    assert refused.json()["request_id"] == "trace-7"


def test_one_access_line_per_request_with_the_route_template_and_nothing_else(
    client: TestClient, system: EmbeddedSystem, caplog: pytest.LogCaptureFixture
) -> None:
    operator = bearer(system.accounts, "op-1", Role.OPERATOR)
    case_id = uuid4()
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    client.get(f"/api/v1/cases/{case_id}", headers={**operator, "X-Request-ID": "r-1"})
    client.get("/api/v1/audit?user=someone-secret", headers=operator)
    client.get("/api/v1/nowhere/at/all")

    lines = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert len(lines) == 3
    first, second, third = (r.access for r in lines)  # type: ignore[attr-defined]
    assert first == {
        "event": "request",
        "method": "GET",
        "path": "/api/v1/cases/{case_id}",
        "status": 404,
        "duration_ms": first["duration_ms"],
        "request_id": "r-1",
    }
    assert first["duration_ms"] >= 0
    assert second["path"] == "/api/v1/audit"
    assert second["status"] == 403
    assert third["path"] == "(unmatched)"
    text = " ".join(r.getMessage() for r in lines)
    for secret in (str(case_id), "someone-secret", "op-1", "testclient", "Bearer"):
        assert secret not in text
    stamped = json.loads(JsonLineFormatter().format(lines[0]))
    assert stamped["time"].endswith("+00:00")
    assert stamped["path"] == "/api/v1/cases/{case_id}"


def test_an_unexpected_error_is_logged_with_its_request_id_and_answered_without_its_text(
    system: EmbeddedSystem, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    router = APIRouter()

    @router.get("/api/v1/boom")
    def boom() -> None:
        sent = "1391234" + "5678"  # a value the request carried (the frames show source)
        raise RuntimeError(f"secret detail of the failure {sent}")

    app = web_app("test", [router], dict)
    with TestClient(app) as client:
        answer = client.get("/api/v1/boom", headers={"X-Request-ID": "boom-1"})

    problem = assert_problem(answer, 500)
    assert problem["request_id"] == "boom-1"
    assert "secret" not in answer.text
    assert "13912345678" not in answer.text
    errors = [r for r in caplog.records if r.name == ERROR_LOGGER]
    assert len(errors) == 1
    logged = errors[0].getMessage()
    assert "boom-1" in logged
    assert "RuntimeError" in logged  # the kind
    assert "in boom" in logged  # and the frames
    assert "13912345678" not in logged  # never the message: it may quote what was sent
    access = [r.access for r in caplog.records if r.name == ACCESS_LOGGER]  # type: ignore[attr-defined]
    assert access[-1]["status"] == 500
    assert access[-1]["request_id"] == "boom-1"


def test_the_openapi_documents_every_status_as_a_problem(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]

    assert "HTTPValidationError" not in schemas
    assert {"type", "title", "status", "detail", "request_id"} <= set(
        schemas["Problem"]["required"]
    )
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    operations = [
        (path, method, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) > 60
    for path, method, operation in operations:
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        assert {"500", "503"} <= set(responses), where
        assert responses["503"]["headers"]["Retry-After"]["required"], where
        for status, entry in responses.items():
            assert entry["headers"]["X-Request-ID"]["required"], where
            if int(status) >= 400:
                assert entry["content"] == {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}, where
        if operation.get("security"):
            assert "401" in responses, where
        if "{" in path:
            assert {"404", "422"} <= set(responses), where
    by_path = spec["paths"]
    assert "403" in by_path["/api/v1/reports/{report_id}"]["get"]["responses"]
    assert "409" in by_path["/api/v1/cases/{case_id}/assign"]["post"]["responses"]
    assert "429" in by_path["/api/v1/auth/token"]["post"]["responses"]
    assert "429" in by_path["/api/v1/follow-up/{query_code}"]["get"]["responses"]


def test_the_command_line_quiets_the_kafka_clients() -> None:
    names = ("kafka", "aiokafka", ACCESS_LOGGER, "")
    kept = {n: (logging.getLogger(n).level, logging.getLogger(n).propagate) for n in names}
    handlers = {n: list(logging.getLogger(n).handlers) for n in names}
    try:
        configure_logging("INFO")

        assert logging.getLogger("kafka").getEffectiveLevel() == logging.WARNING
        assert logging.getLogger("kafka.conn").getEffectiveLevel() == logging.WARNING
        access = logging.getLogger(ACCESS_LOGGER)
        assert any(isinstance(h.formatter, JsonLineFormatter) for h in access.handlers)
    finally:
        for name, (level, propagate) in kept.items():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            logger.propagate = propagate
            logger.handlers[:] = handlers[name]


def test_a_nul_character_anywhere_is_refused_before_any_route_and_nothing_is_stored(
    client: TestClient, system: EmbeddedSystem
) -> None:
    operator = bearer(system.accounts, "op-1", Role.OPERATOR)
    report = {
        "channel": "hotline",
        "reporter": {"anonymous": True},
        "subjects": [{"name": "王建国", "unit": "某县财政局"}],
        "categories": ["seeking_office"],
        "summary": "反映王建国\u0000跑官要官。",
    }
    before = system.intake.max_position()

    in_body = client.post(REPORTS, headers=operator, json=report)
    in_query = client.get("/api/v1/cadres?q=%00", headers=operator)
    in_path = client.get("/api/v1/cadres/QS%00/archive", headers=operator)
    in_form = client.post(
        "/api/v1/auth/token",
        content=b"username=op-1&password=a%00b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    # JSON by another media type FastAPI parses as JSON, and a multipart form.
    in_merge_patch = client.post(
        REPORTS,
        headers={**operator, "Content-Type": "application/merge-patch+json"},
        content=json.dumps(report).encode(),
    )
    in_multipart = client.post(
        "/api/v1/auth/token",
        content=(
            b'--b\r\nContent-Disposition: form-data; name="username"\r\n\r\nop-1\r\n'
            b'--b\r\nContent-Disposition: form-data; name="password"\r\n\r\na\x00b\r\n--b--\r\n'
        ),
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )

    for answer, where in ((in_body, "body"), (in_query, "query"), (in_path, "path")):
        assert assert_problem(answer, 422)["problems"][0]["field"] == where
    for answer in (in_form, in_merge_patch, in_multipart):
        assert assert_problem(answer, 422)["problems"][0]["field"] == "body"
    assert system.intake.max_position() == before
    # The text "\u0000" (a backslash and five characters) is not a NUL: it is taken.
    literal = client.post(
        REPORTS, headers=operator, json={**report, "summary": "文本 \\u0000 照录"}
    )
    assert literal.status_code == 201, literal.text
