"""schemathesis, in process, against an app's /openapi.json, with every role in turn.

``fuzz(app, ...)`` runs schemathesis's engine (the command line's) on the ASGI app, bounded in
examples per operation and in time, with the checks of the issue. The app is wrapped in
``RoleRotation``: each request goes out with the next role's bearer token (or none: the
public), whatever schemathesis put in ``Authorization`` — so every operation is tried by
every role, and by nobody, in about equal parts — and, for each refused request (4xx), the
event stores' positions are compared before and after: a refused request must store nothing.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)

# The stores a refused request must leave as they were: name -> its position now.
Positions = Callable[[], dict[str, int]]


@dataclass
class Stored:
    """A refused request that stored something."""

    method: str
    path: str
    status: int
    before: dict[str, int]
    after: dict[str, int]


@dataclass
class RoleRotation:
    """ASGI wrapper: the next role's token on each request, and the stores watched."""

    app: ASGIApp
    tokens: Sequence[str | None]  # None: no token (the public)
    positions: Positions
    stored: list[Stored] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    by_role: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._next = itertools.cycle(range(len(self.tokens)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/openapi.json":
            await self.app(scope, receive, send)
            return
        index = next(self._next)
        token = self.tokens[index]
        headers = [(k, v) for k, v in scope.get("headers", []) if k != b"authorization"]
        if token is not None:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        scope = {**scope, "headers": headers}
        self.by_role[str(index)] += 1
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        before = self.positions()
        await self.app(scope, receive, watch)
        self.statuses[status] += 1
        if 400 <= status < 500:
            after = self.positions()
            if after != before:
                self.stored.append(Stored(scope["method"], scope["path"], status, before, after))


@dataclass
class FuzzResult:
    operations: int = 0
    test_cases: int = 0
    requests: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # check name -> failing cases
    examples: list[str] = field(default_factory=list)  # a few failures, described
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self, name: str) -> str:
        failed = ", ".join(f"{k}: {v}" for k, v in sorted(self.failures.items())) or "none"
        return (
            f"{name}: {self.operations} operations, {self.test_cases} test cases, "
            f"{self.requests} requests in {self.seconds:.1f} s; failures: {failed}; "
            f"errors: {len(self.errors)}"
        )


def fuzz(
    app: ASGIApp,
    *,
    max_examples: int,
    max_time: int | None = None,
    seed: int = 11,
    phases: Sequence[str] = ("examples", "coverage", "fuzzing"),
    known: dict[str, str] | None = None,
) -> FuzzResult:
    """Run schemathesis on ``app`` and count what it found. ``known``: path parameters and
    a value naming something that exists, used for half of the requests (the others get
    generated values, mostly naming nothing)."""
    known = known or {}
    config = SchemathesisConfig.from_dict(
        {
            "seed": seed,
            **({"max-time": max_time} if max_time else {}),
            "workers": 1,  # one request at a time: the stores' positions are exact
            "continue-on-failure": True,
            "generation": {"max-examples": max_examples, "no-shrink": True},
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in CHECKS},
            },
            "phases": {
                name: {"enabled": name in phases}
                for name in ("examples", "coverage", "fuzzing", "stateful")
            },
            "dictionaries": {name: {"values": [value]} for name, value in known.items()},
            "parameters": {
                f"path.{name}": {"dictionary": name, "probability": 0.5} for name in known
            },
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    result = FuzzResult()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            result.test_cases += len(recorder.cases)
            result.requests += len(recorder.interactions)
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    result.failures[check.name] += 1
                    if len(result.examples) < 40:
                        case = recorder.cases[case_id].value
                        interaction = recorder.interactions.get(case_id)
                        response = interaction.response if interaction else None
                        answer = (
                            f"{response.status_code} {response.headers.get('content-type')} "
                            f"{(response.text or '')[:300]}"
                            if response is not None
                            else "no response"
                        )
                        result.examples.append(
                            f"{check.name}: {case.method} {case.formatted_path} "
                            f"-> {answer} :: {check.failure_info.failure.title}"
                        )
        elif isinstance(event, events.NonFatalError):
            result.errors.append(f"{event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            result.errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            result.seconds = event.running_time
    result.operations = len(list(schema.get_all_operations()))
    return result
