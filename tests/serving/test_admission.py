import asyncio

from starlette.responses import JSONResponse

from serving.admission import LargeBodyGate


def scope(path: str) -> dict:
    return {"type": "http", "method": "POST", "path": path, "headers": []}


async def call(app, path: str) -> tuple[int, dict]:
    """The status and headers the app sends for a POST to `path`; the body is never read by the gate."""
    sent: list[dict] = []

    async def receive():
        raise AssertionError("the gate read the body")

    async def send(message):
        sent.append(message)

    await app(scope(path), receive, send)
    return sent[0]["status"], dict(sent[0]["headers"])


def test_past_its_limit_a_large_body_route_is_503_before_its_body_is_read():
    release = asyncio.Event()

    async def slow(scope, receive, send):
        await release.wait()
        await JSONResponse({})(scope, receive, send)

    async def scenario():
        gate = LargeBodyGate(slow, routes=["/track"], max_at_once=2)
        running = [asyncio.create_task(call(gate, "/track")) for _ in range(2)]
        await asyncio.sleep(0)
        status, headers = await call(gate, "/track/")
        release.set()
        finished = await asyncio.gather(*running)
        after = await call(gate, "/track")
        return status, headers, finished, after, gate.taken

    status, headers, finished, after, taken = asyncio.run(scenario())
    assert status == 503 and headers[b"retry-after"] == b"1"
    assert [code for code, _ in finished] == [200, 200] and after[0] == 200
    assert taken == 0


def test_other_routes_are_not_counted():
    release = asyncio.Event()

    async def app(scope, receive, send):
        if scope["path"] == "/track":
            await release.wait()
        await JSONResponse({})(scope, receive, send)

    async def scenario():
        gate = LargeBodyGate(app, routes=["/track"], max_at_once=1)
        held = asyncio.create_task(call(gate, "/track"))
        await asyncio.sleep(0)
        other = await call(gate, "/predict")
        release.set()
        await held
        return other[0]

    assert asyncio.run(scenario()) == 200


def test_a_large_body_is_counted_off_when_the_app_fails():
    async def failing(scope, receive, send):
        raise RuntimeError("boom")

    async def scenario():
        gate = LargeBodyGate(failing, routes=["/track"], max_at_once=1)
        try:
            await call(gate, "/track")
        except RuntimeError:
            pass
        return gate.taken

    assert asyncio.run(scenario()) == 0
