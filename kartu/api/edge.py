"""What every request meets before the app reads it: an id to find it by in the logs, and a body
capped however it is framed (Content-Length or chunked), read before anything parses it or checks
its key; an oversized one is answered 413 without reading the rest, and the connection closed."""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from kartu import logs
from kartu.api import problems
from kartu.metrics import Metrics

log = logging.getLogger("kartu.api")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUEST_ID = "X-Request-Id"
_GIVEN_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id(scope: Scope) -> str:
    """The id this request is logged under (set by `Edge`)."""
    return str(scope.get("state", {}).get("request_id", "-"))


class Edge:
    """An ASGI middleware: the request id (the caller's ``X-Request-Id`` when it is a sane one, else
    a new one, echoed in the answer), the body read up to ``limit`` bytes before the app runs, and
    an error the app did not answer turned into a 500 problem logged once with the id."""

    def __init__(self, app: App, limit: int, metrics: Metrics | None = None) -> None:
        self.app, self.limit, self.metrics = app, limit, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value for name, value in scope["headers"]}
        given = headers.get("x-request-id", b"").decode("latin-1")
        rid = given if _GIVEN_ID.fullmatch(given) else secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = rid
        tag = (REQUEST_ID.lower().encode(), rid.encode())

        started = False
        status = 500
        began = time.perf_counter()

        async def send_tagged(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started, status = True, int(message["status"])
                message["headers"] = [*message.get("headers", []), tag]
            await send(message)

        named = logs.request_id.set(rid)
        try:
            await self._handle(scope, receive, send_tagged, headers, rid, lambda: started)
        finally:
            logs.request_id.reset(named)
            if self.metrics is not None:
                route = getattr(scope.get("route"), "path", None) or "unmatched"
                self.metrics.api_requests.labels(route, str(status)).inc()
                self.metrics.api_seconds.labels(route).observe(time.perf_counter() - began)

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        send_tagged: Send,
        headers: dict[str, bytes],
        rid: str,
        started: Callable[[], bool],
    ) -> None:
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._too_large(send_tagged)
            return
        whole = await self._read(receive)
        if whole is None:
            await self._too_large(send_tagged)
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": whole, "more_body": False}
            return await receive()  # what follows is the client going away

        try:
            await self.app(scope, replay, send_tagged)
        except Exception:
            log.exception("request %s %s %s failed", rid, scope.get("method"), scope.get("path"))
            if started():
                raise
            await _answer(
                send_tagged,
                500,
                problems.dumps("internal", f"Kartu could not answer this request (request_id {rid}).", None),
            )

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the limit (the rest is never read)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away: the app sees an empty body and its answer goes nowhere
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _too_large(self, send: Send) -> None:
        detail = f"Request bodies are at most {self.limit} bytes."
        await _answer(send, 413, problems.dumps("too_large", detail), close=True)


async def _answer(send: Send, status: int, payload: str, close: bool = False) -> None:
    headers = [
        (b"content-type", problems.MEDIA_TYPE.encode()),
        (b"content-length", str(len(payload.encode())).encode()),
    ]
    if close:  # the unread rest of the body is not waited for: the connection ends with the answer
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload.encode(), "more_body": False})
