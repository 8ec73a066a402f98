"""serving/openapi.py without a server: its corrections on BentoML's document of a small service, and where the
middleware answers. test_contract.py checks the served document against the real service's answers."""

from __future__ import annotations

import bentoml
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from serving.openapi import ContractDocument, contract_document


class Note(BaseModel):
    id: str | int | None = None
    text: str


@bentoml.service(name="notes")
class Notes:
    @bentoml.api(route="/note")
    def note(self, note: Note, /) -> Note:
        return note


def test_the_document_keeps_each_field_whole_and_documents_every_status():
    document = contract_document(Notes)
    assert document["openapi"] == "3.1.0"
    operation = document["paths"]["/note"]["post"]
    assert operation["requestBody"]["required"] is True
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert [branch["type"] for branch in body["properties"]["id"]["anyOf"]] == ["string", "integer", "null"]
    assert set(operation["responses"]) == {"200", "400", "408", "413", "415", "429", "500", "503", "504"}
    assert "503" in document["paths"]["/readyz"]["get"]["responses"]
    assert not {"InvalidArgument", "NotFound", "InternalServerError"} & set(document["components"]["schemas"])
    own = contract_document(Notes, {"/note": {"409": "Taken.", "400": "Unknown id."}})["paths"]["/note"]["post"]
    assert set(own["responses"]) == {"200", "400", "408", "409", "413", "415", "429", "500", "503", "504"}
    assert (own["responses"]["409"]["description"], own["responses"]["400"]["description"]) == ("Taken.", "Unknown id.")
    assert own["responses"]["409"]["content"] == operation["responses"]["400"]["content"]  # the one error body
    assert Notes.openapi_spec.asdict()["openapi"] == "3.0.2"  # BentoML's own document is left as it is


def bentoml_routes() -> Starlette:
    """Stands for BentoML's app: its own /docs.json, and another route."""

    async def answer(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"bentoml {request.method} {request.url.path}")

    return Starlette(routes=[Route("/docs.json", answer, methods=["GET", "POST"]), Route("/other", answer)])


def test_get_docs_json_answers_the_corrected_document_and_everything_else_goes_on():
    client = TestClient(ContractDocument(bentoml_routes(), service=Notes))
    response = client.get("/docs.json")
    assert response.headers["content-type"] == "application/json"
    assert response.json() == contract_document(Notes)
    assert client.post("/docs.json").text == "bentoml POST /docs.json"
    assert client.get("/other").text == "bentoml GET /other"
