"""The API contract: the served OpenAPI document and the service's answers agree, on a real `bentoml serve`.

schemathesis reads /docs.json, sends every operation its examples, boundary values and random bodies, valid and
invalid, and runs all its checks on the answers; the focused tests pin the mismatches it once reported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
import schemathesis

from tests.helpers import post

pytestmark = pytest.mark.e2e

CONFIG = """
# Besides the schema, a body has a size limit (documented as 413); 429 and 503 are the documented answers to load.
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "413", "429", "503"]

[checks.negative_data_rejection]
expected-statuses = ["400", "413", "415", "429", "503"]

# The claim monitor's routes keep state: a random id (or `after`) names no claim or document (a documented 404), and
# a random body may reuse an id an earlier one took with another text, or pass a cap (a documented 409); a date range
# whose `since` comes after its `until` is a 400 that JSON Schema cannot state.
[[operations]]
include-path-regex = "^/(claims/.+|documents/.+|audit/list)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "404", "409", "413", "429", "503"]
"""
ST = Path(sys.executable).with_name("st")


def test_every_operation_answers_as_documented(server, tmp_path):
    """All checks, 30 examples an operation, one seed: a failure names its operation, check and curl command."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    operations = sum(len(item) for item in httpx.get(f"{server.url}/docs.json").json()["paths"].values())
    command = [str(ST), "--no-color", "--config-file", str(config), "run", f"{server.url}/docs.json"]
    command += ["--checks", "all", "--max-examples", "30", "--seed", "1", "--workers", "1", "--request-timeout", "30"]
    command += ["--continue-on-failure", "--suppress-health-check", "too_slow", "--generation-database", "none"]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-2000:]
    assert f"Tested: {operations}\n" in run.stdout, run.stdout[-3000:]


@pytest.fixture(scope="module")
def spec(server) -> dict[str, Any]:
    return httpx.get(f"{server.url}/docs.json").json()


@pytest.fixture(scope="module")
def contract(server) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{server.url}/docs.json")


def api_routes(spec: dict[str, Any]) -> list[str]:
    return [path for path, item in spec["paths"].items() if "post" in item]


def request_validator(spec: dict[str, Any], path: str) -> jsonschema_rs.Validator:
    """The documented request body of `path`, its references resolved in the document."""
    schema = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return jsonschema_rs.Draft202012Validator({**schema, "components": spec["components"]})


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/predict", {"text": "t"}),  # pydantic's errors, as BentoML answers them
        ("/predict", {"claim": "word " * 100, "text": "t"}),  # the service's own (serving/errors.py)
        ("/predict_batch", {"pairs": {}}),
    ],
)
def test_a_400_answer_has_the_documented_shape_with_detail_a_list(server, spec, contract, path, body):
    response = post(server, path, json=body)
    assert response.status_code == 400
    contract[path]["POST"].validate_response(response)
    documented = spec["components"]["schemas"]["ErrorBody"]
    assert documented["properties"]["detail"]["type"] == "array"
    assert {"loc", "msg", "type"} <= set(response.json()["detail"][0])


@pytest.mark.parametrize("value", [False, True, 1.5, [], {}, "article-17", 7, None])
def test_the_document_and_the_service_agree_on_id(server, spec, value):
    """`id` is a string, an integer or null, in the document and in the answers: lax pydantic read `false` as 0."""
    body = {"claim": "A meteorite crashed", "text": "Officials confirmed it.", "id": value}
    documented = request_validator(spec, "/predict").is_valid(body)
    response = post(server, "/predict", json=body)
    assert documented == (response.status_code == 200), response.text
    if not documented:
        assert response.status_code == 400
        assert {tuple(d["loc"][:1]) for d in response.json()["detail"]} == {("id",)}
    else:
        assert response.json()["id"] == value


def test_a_boolean_id_in_a_list_is_refused_naming_it(server):
    response = post(server, "/predict_batch", json={"pairs": [{"claim": "c", "text": "t", "id": False}]})
    assert response.status_code == 400
    assert {tuple(d["loc"][:3]) for d in response.json()["detail"]} == {("pairs", 0, "id")}


def test_every_body_is_documented_required_and_an_empty_one_is_400_naming_the_body(server, spec, contract):
    routes = api_routes(spec)
    assert {"/predict", "/predict_batch"} <= set(routes)
    for path in routes:
        assert spec["paths"][path]["post"]["requestBody"]["required"] is True, path
        response = post(server, path, headers={"content-type": "application/json"})
        assert response.status_code == 400, (path, response.text)
        assert [(d["loc"], d["type"]) for d in response.json()["detail"]] == [(["body"], "missing")]
        contract[path]["POST"].validate_response(response)


def test_every_route_documents_each_error_status_it_can_answer(spec):
    conflicts = {"/claims/register", "/claims/unretire", "/documents/ingest"}
    for path in api_routes(spec):
        monitor = path.startswith(("/claims/", "/documents/", "/audit/"))
        own = ({"404"} if monitor else set()) | ({"409"} if path in conflicts else set())
        assert {"200", "400", "401", "403", "408", "413", "415", "429", "500", "503", "504"} | own == set(
            spec["paths"][path]["post"]["responses"]
        ), path
    assert spec["openapi"] == "3.1.0"  # the schemas are pydantic's JSON Schema 2020-12 (`"type": "null"`)


RENAMED_SCHEMAS = {
    "TrackDocument": "DocumentToTrack",
    "MonitorDocument": "DocumentToIngest",
    "ClaimPictureIODescriptor": "StoredClaimSummaryIODescriptor",
}
"""Types renamed so that a request cannot be taken for an answer (TrackDocument beside TrackedDocument), and a claim's
summary has one name across /track, the monitor and the page: their fields are unchanged."""
RENAMED_ROUTES = {"/claims/picture": ("/claims/summary", "claim_picture__Input", "claim_summary__Input")}
"""Routes renamed, each kept under its former name too (deprecated): the new one takes and answers the same fields."""
CONTRACT = Path(__file__).with_name("contract_routes_and_fields.json")
"""Each route's request and answer fields, its statuses, and each schema's fields, as the service documented them
before its routes were split by product: what callers already send and read."""


def fields_of(schema: dict[str, Any]) -> Any:
    """A schema's property names, or, for a list or a reference, its shape with each reference's name."""
    if "properties" in schema:
        return sorted(schema["properties"])
    if "$ref" in schema:
        return {"$ref": schema["$ref"].rsplit("/", 1)[-1]}
    return {key: fields_of(value) for key, value in schema.items() if isinstance(value, dict)}


def routes_and_fields(spec: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        if "post" not in item:
            summary[path] = {"methods": sorted(item)}
            continue
        operation = item["post"]
        summary[path] = {
            "request": fields_of(operation["requestBody"]["content"]["application/json"]["schema"]),
            "response": fields_of(operation["responses"]["200"]["content"]["application/json"]["schema"]),
            "statuses": sorted(operation["responses"]),
        }
    schemas = spec["components"]["schemas"]
    summary["components"] = {name: sorted(schema.get("properties", {})) for name, schema in schemas.items()}
    return summary


def test_the_document_lists_the_routes_and_fields_callers_already_use(spec):
    expected = json.loads(CONTRACT.read_text())
    named = expected["components"].items()
    expected["components"] = {RENAMED_SCHEMAS.get(name, name): fields for name, fields in named}
    for former, (route, former_input, new_input) in RENAMED_ROUTES.items():
        expected[route] = expected[former]
        expected["components"][new_input] = expected["components"][former_input]
    assert routes_and_fields(spec) == expected


def test_a_route_kept_under_its_former_name_is_marked_deprecated_and_names_its_successor(spec):
    for former, (route, *_) in RENAMED_ROUTES.items():
        assert spec["paths"][former]["post"]["deprecated"] is True
        assert route in spec["paths"][former]["post"]["summary"]
        assert "deprecated" not in spec["paths"][route]["post"]


def test_every_request_example_in_the_docs_is_valid_against_the_document(spec):
    """A reader copies the docs' curl lines: each body must be one the service's contract accepts."""
    from jsonschema_rs import Draft202012Validator  # what schemathesis itself validates with

    from tests.test_docs import request_examples

    examples = request_examples()
    assert examples
    for page, route, body in examples:
        assert route in spec["paths"], f"{page}: {route} is no route of the service"
        schema = spec["paths"][route]["post"]["requestBody"]["content"]["application/json"]["schema"]
        problems = list(
            Draft202012Validator({**schema, "components": spec["components"]}).iter_errors(json.loads(body))
        )
        assert not problems, f"{page}, {route}: {[problem.message for problem in problems]}"
