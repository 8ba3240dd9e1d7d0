"""The HTTP answer of a process still waiting to start (for `jiandu migrate`, decision 0019).

A process whose schema is not there yet serves this placeholder on its port: ``/healthz``
and every other path answer 503 with ``Retry-After``, saying what it waits for; once the
real app is built it takes over every request. The real app's lifespan does not run (the
server's ran with the placeholder): Jiandu's apps have none.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

RETRY_AFTER_SECONDS = 5


class WaitingApp:
    """ASGI: 503 + Retry-After until :attr:`app` is set, then that app."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.app
        if app is not None and scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return  # websockets: none served
        from services.common.access_log import request_id_from

        request_id = request_id_from(scope)
        detail = f"waiting for `jiandu migrate` ({self.reason})"
        body: dict[str, Any]
        if scope.get("path") == "/healthz":
            body, media = {"status": "waiting", "detail": detail}, "application/json"
        else:
            body = {
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": "the service is starting: " + detail,
                "request_id": request_id,
            }
            media = "application/problem+json"
        payload = json.dumps(body, ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", media.encode()),
                    (b"content-length", str(len(payload)).encode()),
                    (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                    (b"x-request-id", request_id.encode("latin-1")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
