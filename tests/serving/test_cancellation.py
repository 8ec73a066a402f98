import asyncio

import pytest
from starlette.responses import JSONResponse

from serving.cancellation import CancelOnDisconnect

SCOPE = {"type": "http", "method": "POST", "path": "/track", "headers": []}


class Caller:
    """One request's channel: its body, then (if told to) a disconnect; what the app sent back."""

    def __init__(self) -> None:
        self.messages = asyncio.Queue()
        self.messages.put_nowait({"type": "http.request", "body": b"{}", "more_body": False})
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        return await self.messages.get()

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    def hang_up(self) -> None:
        self.messages.put_nowait({"type": "http.disconnect"})


def slow_app(events: list[str], seconds: float):
    async def app(scope, receive, send):
        await receive()
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise
        events.append("finished")
        await JSONResponse({})(scope, receive, send)

    return app


def test_a_caller_who_hangs_up_cancels_the_work_at_once():
    events: list[str] = []

    async def scenario():
        caller = Caller()
        call = asyncio.ensure_future(CancelOnDisconnect(slow_app(events, 10), 60)(SCOPE, caller.receive, caller.send))
        await asyncio.sleep(0.05)
        caller.hang_up()
        await asyncio.wait_for(call, 1)
        return caller.sent

    assert asyncio.run(scenario()) == []
    assert events == ["cancelled"]


def test_past_its_deadline_the_work_is_cancelled_and_answered_503():
    events: list[str] = []

    async def scenario():
        caller = Caller()
        await CancelOnDisconnect(slow_app(events, 10), 0.05)(SCOPE, caller.receive, caller.send)
        return caller.sent

    sent = asyncio.run(scenario())
    assert events == ["cancelled"]
    assert sent[0]["status"] == 503 and (b"retry-after", b"1") in sent[0]["headers"]
    assert b"deadline of 0.05 s" in sent[1]["body"]


def test_an_answer_in_time_goes_through_untouched():
    events: list[str] = []

    async def scenario():
        caller = Caller()
        await CancelOnDisconnect(slow_app(events, 0.01), 5)(SCOPE, caller.receive, caller.send)
        return caller.sent

    sent = asyncio.run(scenario())
    assert events == ["finished"] and sent[0]["status"] == 200


def test_an_app_error_reaches_the_server():
    async def failing(scope, receive, send):
        raise RuntimeError("boom")

    async def scenario():
        caller = Caller()
        await CancelOnDisconnect(failing, 5)(SCOPE, caller.receive, caller.send)

    with pytest.raises(RuntimeError, match="boom"):
        asyncio.run(scenario())
