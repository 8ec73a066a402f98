from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from serving.headers import API_POLICY, DOCS_POLICY, PAGE_POLICY, SecurityHeaders


async def ok(request):
    return JSONResponse({})


async def page(request):
    return PlainTextResponse("<html>", media_type="text/html")


client = TestClient(
    SecurityHeaders(
        Starlette(routes=[Route("/predict", ok, methods=["POST"]), Route("/tracker/", page), Route("/", page)]),
        page_prefix="/tracker",
    )
)


def test_the_page_gets_its_own_policy_and_every_answer_the_common_headers():
    for response, policy in (
        (client.get("/tracker/"), PAGE_POLICY),
        (client.post("/predict", json={}), API_POLICY),
        (client.get("/"), DOCS_POLICY),
        (client.get("/missing"), API_POLICY),
    ):
        assert response.headers["content-security-policy"] == policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in policy


def test_the_page_policy_loads_nothing_from_elsewhere_and_runs_no_inline_script():
    directives = dict(d.strip().split(" ", 1) for d in PAGE_POLICY.split(";"))
    assert directives["default-src"] == "'none'"
    assert all("http" not in value and "unsafe" not in value for value in directives.values())
