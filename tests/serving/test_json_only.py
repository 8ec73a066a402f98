from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from serving.json_only import JsonOnly


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({"body": (await request.body()).decode()})


app = Starlette(routes=[Route("/echo", echo, methods=["POST", "GET"]), Route("/livez", echo, methods=["GET"])])
client = TestClient(JsonOnly(app, body_routes=["/echo"]))


def test_json_passes_with_or_without_a_charset():
    for headers in ({"content-type": "application/json"}, {"content-type": "Application/JSON; charset=utf-8"}):
        assert client.post("/echo", content=b"{}", headers=headers).json() == {"body": "{}"}


def test_a_body_without_a_content_type_is_415():
    response = client.post("/echo", content=b"{}")
    assert response.status_code == 415
    assert response.json()["error"] == "Content-Type is missing: this route takes application/json"
    assert response.json()["detail"][0]["loc"] == ["header", "content-type"]


def test_two_content_types_are_415_whichever_comes_first():
    for pair in (["multipart/form-data", "application/json"], ["application/json", "application/json"]):
        headers = [("content-type", value) for value in pair]
        response = client.post("/echo", content=b"{}", headers=headers)
        assert response.status_code == 415
        assert response.json()["error"].startswith("Content-Type is given 2 times")


def test_other_media_types_are_415_naming_the_header():
    response = client.post("/echo", content=b"a=1", headers={"content-type": "multipart/form-data"})
    assert response.status_code == 415
    assert response.json()["error"] == "Content-Type must be application/json, not multipart/form-data"
    assert response.json()["detail"][0]["loc"] == ["header", "content-type"]


def test_gets_pass_untouched():
    assert client.get("/echo", headers={"content-type": "text/plain"}).status_code == 200


def test_routes_without_a_body_are_left_to_routing():
    assert client.put("/livez").status_code == 405
