"""ASGI middleware adding security headers to every answer: the API's JSON and the tracker page alike.

The page loads only its own script and style sheet and talks only to its own service, so its policy allows
exactly that; the API's answers are data, never a document to render or frame. `nosniff` keeps a browser from
reading a JSON answer as HTML, and `frame-ancestors 'none'` keeps the page out of another site's frame.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from serving.body_limit import Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
"""The tracker page: its own files and its own service; styles set from script go through the CSSOM (allowed)."""
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
"""Everything else that is not BentoML's documentation page: JSON, never rendered."""
DOCS_POLICY = "frame-ancestors 'none'"
"""BentoML's Swagger page at / uses inline script: it keeps its own sources and is only kept out of frames."""

COMMON = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
}


def policy_for(path: str, page_prefix: str) -> str:
    if path == page_prefix or path.startswith(page_prefix + "/"):
        return PAGE_POLICY
    if path in ("/", "/docs.json") or path.startswith("/static_content"):
        return DOCS_POLICY
    return API_POLICY


class SecurityHeaders:
    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], page_prefix: str) -> None:
        self.app = app
        self.page_prefix = page_prefix.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        added = {**COMMON, b"content-security-policy": policy_for(scope["path"], self.page_prefix).encode()}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in added.items() if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
