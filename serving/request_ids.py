"""ASGI middleware giving every request an id, and every unexpected failure a generic answer that names it.

The id is the caller's `X-Request-Id` where it sends a plain one, else made here; it comes back as the answer's
`X-Request-Id` header and sits in the request's state (`request_id`) for the routes' own error answers. An answer of
500, whatever raised it (our code, BentoML's, a database driver's message with its host and user), is replaced by
one that says only that the server failed and under which id: the detail goes to the log with that id.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable

from serving.body_limit import Message, Receive, Scope, Send
from serving.errors import error_response

log = logging.getLogger("bentoml.claimstance")

CALLER_ID = re.compile(rb"[\w.-]{1,64}")
HEADER = b"x-request-id"


def request_id(scope: Scope) -> str | None:
    """The id of the request `scope` is, where RequestIds has given it one."""
    return scope.get("state", {}).get("request_id")


def internal_error(request: str) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    message = f"the server failed to answer (request id {request}); its log has the detail"
    return error_response(500, message, ["service"], "internal_error", request_id=request)


class RequestIds:
    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        sent = dict(scope["headers"]).get(HEADER, b"")
        rid = sent.decode() if CALLER_ID.fullmatch(sent) else uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = rid
        started = replaced = False

        async def tagged(message: Message) -> None:
            nonlocal started, replaced
            if message["type"] == "http.response.start":
                if message["status"] == 500:
                    replaced = True
                    return
                started = True
                message = {**message, "headers": [*message.get("headers", []), (HEADER, rid.encode())]}
            elif replaced:
                if message.get("body"):
                    log.error("request %s %s %s: 500: %s", rid, scope["method"], scope["path"], message["body"][:2000])
                if not message.get("more_body", False):
                    response = internal_error(rid)
                    response.headers["x-request-id"] = rid
                    await response(scope, receive, send)
                return
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        except Exception:
            log.exception("request %s %s %s failed", rid, scope["method"], scope["path"])
            if not started:
                response = internal_error(rid)
                response.headers["x-request-id"] = rid
                await response(scope, receive, send)
