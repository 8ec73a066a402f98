"""ASGI middleware answering 415 for a request body that is not JSON.

BentoML picks its body parser from the Content-Type; a multipart or form body that fails to parse
there surfaces as a 500. The API takes JSON only, so anything else is refused first, by name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from serving.errors import error_response

JSON = "application/json"


class JsonOnly:
    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            content_type = dict(scope["headers"]).get(b"content-type", JSON.encode()).decode("latin-1")
            media_type = content_type.split(";")[0].strip().lower()
            if media_type != JSON:
                message = f"Content-Type must be {JSON}, not {media_type or 'empty'}"
                response = error_response(415, message, ["header", "content-type"], "unsupported_media_type")
                return await response(scope, receive, send)
        await self.app(scope, receive, send)
