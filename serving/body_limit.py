"""ASGI middleware answering 413 for a request body over the limit, 408 for one that arrives too slowly, and 400 for
an empty one, before BentoML reads it.

A refused body is read and thrown away for a few seconds (`drain`) before the answer is sent, as nginx's "lingering
close" does: a caller still sending would otherwise see its connection reset and never read why."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Mapping, MutableMapping
from dataclasses import dataclass
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


def too_slow(rate: int) -> JSONResponse:
    message = f"request body arrived slower than {rate} bytes/s; it was cut off"
    return error_response(408, message, ["body"], "too_slow", limit=rate)


@dataclass(frozen=True)
class BodyPace:
    """How fast a body must arrive: at least `min_bytes_per_s` once `grace_s` have passed (0: any pace)."""

    min_bytes_per_s: int = 0
    grace_s: float = 5.0

    def wait_for_next(self, received: int, elapsed: float) -> float | None:
        """How long to wait for the next chunk before the body is too slow (None: as long as it takes)."""
        if not self.min_bytes_per_s:
            return None
        return max(self.grace_s, (received + 1) / self.min_bytes_per_s) - elapsed

    def too_slow(self, received: int, elapsed: float) -> bool:
        return bool(self.min_bytes_per_s) and elapsed > self.grace_s and received < self.min_bytes_per_s * elapsed


async def drain(receive: Receive, max_bytes: int, seconds: float) -> None:
    """Read and throw away what is left of a request's body: until it ends, `max_bytes` are read, or `seconds` pass."""
    read, deadline = 0, time.monotonic() + seconds
    while read <= max_bytes and (left := deadline - time.monotonic()) > 0:
        try:
            message = await asyncio.wait_for(receive(), left)
        except TimeoutError:
            return
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        read += len(message.get("body", b""))


async def refuse(response: JSONResponse, scope: Scope, receive: Receive, send: Send, drain_bytes: int, drain_s: float):
    """Answer `response`, once what is left of the body has been read (`drain`)."""
    await drain(receive, drain_bytes, drain_s)
    await response(scope, receive, send)


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
        pace: BodyPace = BodyPace(),
        drain_s: float = 0.0,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.route_limits = dict(route_limits or {})
        self.body_routes = frozenset(body_routes)
        self.pace = pace
        self.drain_s = drain_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        route = scope["path"].rstrip("/") or "/"
        limit = self.route_limits.get(route, self.max_bytes)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await refuse(too_large(limit), scope, receive, send, limit, self.drain_s)
        chunks: deque[bytes] = deque()
        size, start = 0, time.monotonic()
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.pace.wait_for_next(size, time.monotonic() - start))
            except TimeoutError:
                return await too_slow(self.pace.min_bytes_per_s)(scope, receive, send)
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await refuse(too_large(limit), scope, receive, send, limit, self.drain_s)
            if self.pace.too_slow(size, time.monotonic() - start) and message.get("more_body", False):
                return await too_slow(self.pace.min_bytes_per_s)(scope, receive, send)
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
