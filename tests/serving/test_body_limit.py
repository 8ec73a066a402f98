import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from serving.body_limit import BodySizeLimit


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
