"""ASGI middleware answering 415 for a request body that is not declared as JSON, exactly once.

BentoML picks its body parser from the *first* Content-Type header; a multipart or form body that fails to parse
there surfaces as a 500. The API takes JSON only, so a request must carry exactly one Content-Type and it must be
application/json: a second header (which BentoML and this gate could read differently) or none at all (a web page
can post a body without one, and without a CORS preflight) is refused first, by name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

from serving.errors import error_response

JSON = "application/json"
LOC = ["header", "content-type"]


def content_type_problem(headers: list[tuple[bytes, bytes]]) -> str | None:
    """Why these request headers do not declare one JSON body, or None when they do."""
    declared = [value.decode("latin-1") for name, value in headers if name.lower() == b"content-type"]
    if not declared:
        return f"Content-Type is missing: this route takes {JSON}"
    if len(declared) > 1:
        return f"Content-Type is given {len(declared)} times: give it once, as {JSON}"
    media_type = declared[0].split(";")[0].strip().lower()
    if media_type != JSON:
        return f"Content-Type must be {JSON}, not {media_type or 'empty'}"
    return None


class JsonOnly:
    """Checks the API's body routes only: a PUT to /livez is left to routing, which answers 405."""

    def __init__(self, app: Callable[..., Awaitable[None]], body_routes: Collection[str]) -> None:
        self.app = app
        self.body_routes = frozenset(body_routes)

    async def __call__(self, scope: MutableMapping[str, Any], receive: Callable, send: Callable) -> None:
        route = scope["path"].rstrip("/") if scope["type"] == "http" else ""
        if route in self.body_routes and scope["method"] in ("POST", "PUT", "PATCH"):
            if problem := content_type_problem(scope["headers"]):
                response = error_response(415, problem, LOC, "unsupported_media_type")
                return await response(scope, receive, send)
        await self.app(scope, receive, send)
