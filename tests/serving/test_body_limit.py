import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from serving.body_limit import BodyPace, BodySizeLimit


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"length": len(body), "tail": body[-5:].decode()})


def client(limit: int) -> TestClient:
    app = Starlette(routes=[Route("/echo", echo, methods=["POST", "GET"])])
    return TestClient(BodySizeLimit(app, max_bytes=limit))


def test_a_body_within_the_limit_reaches_the_app_whole():
    response = client(100).post("/echo", content=b"x" * 95 + b"12345")
    assert response.status_code == 200
    assert response.json() == {"length": 100, "tail": "12345"}


def test_a_declared_length_over_the_limit_is_413_naming_the_limit():
    response = client(100).post("/echo", content=b"x" * 101)
    assert response.status_code == 413
    assert response.json()["error"] == "request body is over the limit of 100 bytes"
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_a_chunked_body_over_the_limit_is_413():
    def chunks():
        for _ in range(5):
            yield b"x" * 30

    response = client(100).post("/echo", content=chunks())
    assert response.status_code == 413


def test_other_methods_pass_untouched():
    assert client(1).get("/echo").json() == {"length": 0, "tail": ""}


def test_a_route_with_a_limit_of_its_own_takes_more_and_the_others_keep_theirs():
    app = Starlette(routes=[Route("/echo", echo, methods=["POST"]), Route("/track", echo, methods=["POST"])])
    limited = TestClient(BodySizeLimit(app, max_bytes=100, route_limits={"/track": 1000}))
    assert limited.post("/track", content=b"x" * 900).json()["length"] == 900
    assert (
        limited.post("/track/", content=b"x" * 1001).json()["error"] == "request body is over the limit of 1000 bytes"
    )
    assert limited.post("/echo", content=b"x" * 101).status_code == 413


def test_an_empty_body_is_400_naming_it_on_a_body_route_and_left_to_routing_elsewhere():
    app = Starlette(routes=[Route("/echo", echo, methods=["POST"]), Route("/health", echo, methods=["GET"])])
    checked = TestClient(BodySizeLimit(app, max_bytes=100, body_routes=["/echo"]))
    response = checked.post("/echo")
    assert response.status_code == 400
    assert [(d["loc"], d["type"]) for d in response.json()["detail"]] == [(["body"], "missing")]
    assert checked.post("/echo", content=b"{}").json()["length"] == 2
    assert checked.put("/echo").status_code == 405
    assert checked.post("/health").status_code == 405


def test_a_chunked_body_is_handed_on_chunk_by_chunk_and_not_kept():
    arriving = [
        {"type": "http.request", "body": b"x" * 30, "more_body": True},
        {"type": "http.request", "body": b"y" * 20, "more_body": False},
    ]
    seen: list[tuple[int, bool]] = []
    kept: list[int] = []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            seen.append((len(message["body"]), message["more_body"]))
            kept.append(len(receive.chunks))
            if not message["more_body"]:
                return

    async def receive():
        return arriving.pop(0)

    scope = {"type": "http", "method": "POST", "path": "/echo", "headers": []}
    asyncio.run(BodySizeLimit(app, max_bytes=100)(scope, receive, None))
    assert seen == [(30, True), (20, False)]
    assert kept == [1, 0]


def scripted(messages: list[dict], delays: list[float]):
    """A receive channel giving `messages`, each after its delay; then waiting for ever (a caller gone quiet)."""
    pending = list(zip(delays, messages, strict=True))

    async def receive() -> dict:
        if not pending:
            await asyncio.sleep(3600)
        delay, message = pending.pop(0)
        await asyncio.sleep(delay)
        return message

    return receive, pending


async def answered(app, receive) -> int:
    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/echo", "headers": []}
    await app(scope, receive, send)
    return sent[0]["status"]


def test_a_body_that_arrives_too_slowly_is_cut_off_with_408():
    async def never_reached(scope, receive, send):
        raise AssertionError("a slow body reached the app")

    limit = BodySizeLimit(never_reached, max_bytes=10_000, pace=BodyPace(min_bytes_per_s=1000, grace_s=0.2))
    trickle = [{"type": "http.request", "body": b"x" * 10, "more_body": True}] * 50
    receive, _ = scripted(trickle, [0.05] * 50)  # 200 bytes/s
    assert asyncio.run(answered(limit, receive)) == 408
    receive, _ = scripted(trickle[:1], [0.0])  # one chunk, then silence: cut off when the grace is over
    assert asyncio.run(asyncio.wait_for(answered(limit, receive), 5)) == 408


def test_a_fast_enough_body_passes_and_no_pace_means_any_pace():
    seen = []

    async def app(scope, receive, send):
        seen.append((await receive())["body"])
        await JSONResponse({})(scope, receive, send)

    body = [{"type": "http.request", "body": b"x" * 100, "more_body": True}] * 4 + [
        {"type": "http.request", "body": b""}
    ]
    paced = BodySizeLimit(app, max_bytes=10_000, pace=BodyPace(min_bytes_per_s=100, grace_s=0.1))
    assert asyncio.run(answered(paced, scripted(body, [0.01] * 5)[0])) == 200
    free = BodySizeLimit(app, max_bytes=10_000)
    assert asyncio.run(answered(free, scripted(body[:1] + body[-1:], [0.3, 0.3])[0])) == 200


def test_a_refused_body_is_read_to_its_end_before_the_refusal():
    """A caller still sending when refused reads the answer instead of a reset connection (nginx's lingering close)."""

    async def never_reached(scope, receive, send):
        raise AssertionError

    chunks = [{"type": "http.request", "body": b"x" * 60, "more_body": True}] * 24 + [{"type": "http.request"}]
    receive, pending = scripted(chunks, [0.0] * 25)
    assert asyncio.run(answered(BodySizeLimit(never_reached, max_bytes=1000, drain_s=5), receive)) == 413
    assert pending == []  # over the limit at the 17th chunk; the 8 left (within the limit again) read and thrown away
    receive, pending = scripted(chunks, [0.0] * 25)
    assert asyncio.run(answered(BodySizeLimit(never_reached, max_bytes=1000), receive)) == 413
    assert len(pending) == 8  # without draining the rest is left unread
    endless = [{"type": "http.request", "body": b"x" * 600, "more_body": True}] * 30
    receive, pending = scripted(endless, [0.0] * 30)
    assert asyncio.run(answered(BodySizeLimit(never_reached, max_bytes=1000, drain_s=5), receive)) == 413
    assert len(pending) == 30 - 2 - 2  # a body far over the limit: at most the limit's worth more is read
