"""ASGI middleware bounding how many large bodies a worker holds at once, decided before a byte of one is read.

A /track body may be 16 MiB, and while it is parsed and scored the worker holds it about three times over (the
bytes, the decoded strings, the answer); BentoML's own `max_concurrency` counts every request alike, so 256
concurrent /track calls could ask for ~12 GiB before any check of the queue ran. Here the large-body routes share
at most `max_large_bodies` at once; a request past that is answered 503 with Retry-After at once, its body
unread, so the worst case is `max_large_bodies × max_track_body_bytes × ~3` (docs/service.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from starlette.responses import JSONResponse

from serving.body_limit import Receive, Scope, Send, refuse
from serving.errors import retry_later


def busy(route: str, max_at_once: int) -> JSONResponse:
    message = (
        f"service busy: {max_at_once} large request(s) are being read or scored; {route} takes one when it is free"
    )
    return retry_later(message, "overloaded", limit=max_at_once)


class LargeBodyGate:
    """At most `max_at_once` requests of `routes` in the app at once, from before their body is read until answered.

    A counter, not an `asyncio.Semaphore`: a request that finds them all taken is refused, not queued, because a queue
    of waiting 16 MiB bodies is the memory this bounds. Its count is held until the request's handler returns: the
    handlers wait for their own work to end, even when their caller has gone (serving/service.py)."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        routes: Collection[str],
        max_at_once: int,
        drain_bytes: int = 0,
        drain_s: float = 0.0,
    ) -> None:
        self.app = app
        self.routes = frozenset(routes)
        self.max_at_once = max_at_once
        self.taken = 0
        self.drain_bytes, self.drain_s = drain_bytes, drain_s
        """What of a refused body is read and thrown away before the refusal (body_limit.drain)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = scope["path"].rstrip("/") if scope["type"] == "http" else ""
        if route not in self.routes or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        if self.taken >= self.max_at_once:
            return await refuse(busy(route, self.max_at_once), scope, receive, send, self.drain_bytes, self.drain_s)
        self.taken += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.taken -= 1
