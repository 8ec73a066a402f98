from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from serving.request_ids import RequestIds, request_id


async def fine(request: Request) -> JSONResponse:
    return JSONResponse({"id": request_id(request.scope)})


async def leaky(request: Request) -> JSONResponse:
    return JSONResponse({"error": "could not connect to server at 10.0.0.5 as user admin"}, status_code=500)


async def crashes(request: Request) -> JSONResponse:
    raise RuntimeError("password=hunter2 in the connection string")


def client() -> TestClient:
    routes = [Route("/fine", fine), Route("/leaky", leaky), Route("/crashes", crashes)]
    return TestClient(RequestIds(Starlette(routes=routes)), raise_server_exceptions=False)


def test_every_answer_names_its_request_and_takes_a_callers_plain_id():
    made = client().get("/fine")
    assert made.headers["x-request-id"] == made.json()["id"] and len(made.json()["id"]) == 16
    assert client().get("/fine", headers={"X-Request-Id": "desk-42"}).headers["x-request-id"] == "desk-42"
    odd = client().get("/fine", headers={"X-Request-Id": "a b\nc"})
    assert odd.headers["x-request-id"] != "a b\nc"


def test_a_failure_is_answered_with_its_request_id_and_nothing_of_its_detail(caplog):
    for path, secret in (("/leaky", "10.0.0.5"), ("/crashes", "hunter2")):
        response = client().get(path)
        assert response.status_code == 500
        rid = response.headers["x-request-id"]
        assert response.json()["detail"][0]["request_id"] == rid and rid in response.json()["error"]
        assert secret not in response.text
        assert any(secret in record.getMessage() or secret in (record.exc_text or "") for record in caplog.records)
