"""The fuzz suite's own instruments can fail: a refused request that stores something is
caught, every role takes its turn, and an undocumented answer is counted."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from tests.fuzz.runner import RoleRotation, fuzz


def leaky_app(store: list[str]) -> FastAPI:
    """Stores, then refuses (409) — and answers a status its OpenAPI does not document."""
    app = FastAPI()

    @app.post("/things/{name}")
    def make(name: str) -> JSONResponse:
        store.append(name)
        return JSONResponse({"detail": "refused after storing"}, status_code=409)

    return app


def test_a_refused_request_that_stores_is_caught_and_every_role_has_a_turn() -> None:
    store: list[str] = []
    seen: list[str | None] = []
    inner = leaky_app(store)

    async def recorder(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            seen.append(dict(scope["headers"]).get(b"authorization", b"").decode() or None)
        await inner(scope, receive, send)

    app = RoleRotation(recorder, ["a", "b", None], lambda: {"things": len(store)})
    with TestClient(app) as client:
        for n in range(3):
            client.post(f"/things/{n}", headers={"Authorization": "Bearer forged"})

    assert seen == ["Bearer a", "Bearer b", None]  # the rotation's tokens, not the sender's
    assert [(s.status, s.before, s.after) for s in app.stored] == [
        (409, {"things": n}, {"things": n + 1}) for n in range(3)
    ]


def test_an_undocumented_status_is_a_failure() -> None:
    result = fuzz(
        RoleRotation(leaky_app([]), [None], dict),
        max_examples=3,
        phases=("examples", "fuzzing"),
    )

    assert result.requests > 0
    assert result.failures["status_code_conformance"] > 0
