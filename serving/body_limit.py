"""ASGI middleware answering 413 for a request body over the limit and 400 for an empty one, before BentoML reads it."""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Collection, Mapping, MutableMapping
from typing import Any

from starlette.responses import JSONResponse

from serving.errors import error_response

Scope = MutableMapping[str, Any]
"""ASGI types, shared by the service's middleware."""
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def too_large(limit: int) -> JSONResponse:
    return error_response(413, f"request body is over the limit of {limit} bytes", ["body"], "too_large", limit=limit)


def missing() -> JSONResponse:
    return error_response(400, "request body is missing: this route takes a JSON body", ["body"], "missing")


class BodySizeLimit:
    """Checks Content-Length when given, and counts the bytes of a chunked body as they arrive.

    The body is read here and replayed to the app, chunk by chunk, letting go of each as it is handed on: an
    oversized one is refused before BentoML parses it (a half-read body inside BentoML would surface as a 500), and
    no second copy of an accepted one is kept here while BentoML parses it. A route may have a limit of its own
    (`/track` takes hundreds of articles in one body); every other route has `max_bytes`. An empty body posted to
    one of `body_routes` is refused by name: BentoML would read it as `{}` and name each required field instead.
    """

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        max_bytes: int,
        route_limits: Mapping[str, int] | None = None,
        body_routes: Collection[str] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.route_limits = dict(route_limits or {})
        self.body_routes = frozenset(body_routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        route = scope["path"].rstrip("/") or "/"
        limit = self.route_limits.get(route, self.max_bytes)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await too_large(limit)(scope, receive, send)
        chunks: deque[bytes] = deque()
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await too_large(limit)(scope, receive, send)
            if chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        if not size and scope["method"] == "POST" and route in self.body_routes:
            return await missing()(scope, receive, send)

        await self.app(scope, Replay(chunks, receive), send)


class Replay:
    """The body's chunks handed to the app one by one, each let go here as it is handed on; then the live channel
    (where a disconnect arrives)."""

    def __init__(self, chunks: deque[bytes], receive: Receive) -> None:
        self.chunks = chunks
        self.receive = receive
        self.replayed = False

    async def __call__(self) -> Message:
        if self.replayed:
            return await self.receive()
        chunk = self.chunks.popleft() if self.chunks else b""
        self.replayed = not self.chunks
        return {"type": "http.request", "body": chunk, "more_body": not self.replayed}
