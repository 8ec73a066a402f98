"""The service's OpenAPI document, corrected where BentoML 1.4 builds it unlike what the service answers.

BentoML builds the document in the public `Service.openapi_spec` and serves it at /docs.json; it offers no hook
into it. Left alone, the document
- flattens each body field's `anyOf` to its first branch: a request's `id` reads as a string only, `title` and an
  answer's `id` and `relevance` as never null;
- gives every error `{"error": str, "detail": str}` where `detail` is a list of per-field entries (serving/errors.py),
  and lists 400, 404 and 500 only: no route answers 404, and 413, 415 (our middlewares), 429, 504 (BentoML's
  traffic control) and 503 (overloaded) are missing;
- leaves each request body optional, though an empty one is refused (serving/body_limit.py);
- says OpenAPI 3.0.2 of schemas that are JSON Schema 2020-12, as pydantic writes them (`"type": "null"`): that is 3.1.
`ContractDocument`, an ASGI middleware added with the public `add_asgi_middleware`, answers GET /docs.json with
`contract_document(service)` instead: BentoML's document, read through its public property, with those corrections.
`bentoml build` still writes BentoML's own document into the bento (apis/openapi.yaml); the served one is the contract.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import bentoml
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode
from starlette.responses import JSONResponse, Response

from serving.body_limit import Receive, Scope, Send
from serving.errors import ErrorBody

OPENAPI_VERSION = "3.1.0"
DOCUMENT_PATH = "/docs.json"
REF_TEMPLATE = "#/components/schemas/{model}"
BENTOML_ERROR_SCHEMAS = ("InvalidArgument", "NotFound", "InternalServerError")


class BentoMLError(BaseModel):
    """An error BentoML answers itself, around the route's code: a summary only."""

    error: str


class ApiRoute(Protocol):
    """What the document needs of a `@bentoml.api` method: its route and the models of its bodies."""

    route: str
    input_spec: type[BaseModel]
    output_spec: type[BaseModel]


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "string"},
    }
}
ERROR_RESPONSES: dict[str, tuple[str, type[BaseModel], dict[str, Any]]] = {
    "400": (
        "The body is missing, is not JSON or breaks the schema: `detail` names each field (`loc`) and its limit.",
        ErrorBody,
        {},
    ),
    "408": ("The body arrived slower than the service's minimum rate, and was cut off.", ErrorBody, {}),
    "413": ("The body is over the size limit.", ErrorBody, {}),
    "415": ("The body is not `application/json`.", ErrorBody, {}),
    "429": ("Over the service's concurrency limit (BentoML's traffic control): try again shortly.", BentoMLError, {}),
    "500": (
        "An unexpected failure: the answer names the request's id, under which the server's log has it.",
        ErrorBody,
        {},
    ),
    "503": ("Overloaded: the expected wait in the queue is over its limit.", ErrorBody, RETRY_AFTER),
    "504": ("Not answered within the service's timeout (BentoML's traffic control).", BentoMLError, {}),
}
NOT_READY = {
    "description": "Not ready yet: the model is loading or warming up.",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}


def schema_of(model: type[BaseModel], schemas: dict[str, Any], mode: JsonSchemaMode = "validation") -> dict[str, Any]:
    """The model's whole JSON schema, its nested models added to the document's components."""
    schema = model.model_json_schema(ref_template=REF_TEMPLATE, mode=mode)
    for name, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schema.pop("root_input", None)  # BentoML's own marker, not JSON Schema
    return schema


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


RouteErrors = dict[str, dict[str, str]]
"""Statuses only some routes answer, per route: {"/claims/register": {"409": "why"}}; their body is ErrorBody."""


def api_operation(
    operation: dict[str, Any], api: ApiRoute, schemas: dict[str, Any], own_errors: dict[str, str]
) -> dict[str, Any]:
    """BentoML's operation for the route, with the whole schemas of its bodies and every status it answers."""
    responses = ERROR_RESPONSES | {status: (text, ErrorBody, {}) for status, text in own_errors.items()}
    errors = {
        status: {
            "description": description,
            "content": json_content({"$ref": REF_TEMPLATE.format(model=model.__name__)}),
        }
        | ({"headers": headers} if headers else {})
        for status, (description, model, headers) in sorted(responses.items())
    }
    answer = schema_of(api.output_spec, schemas, mode="serialization")
    return operation | {
        "requestBody": {"required": True, "content": json_content(schema_of(api.input_spec, schemas))},
        "responses": {"200": {"description": "Successful Response", "content": json_content(answer)}} | errors,
    }


def corrected(
    document: dict[str, Any],
    apis: list[ApiRoute],
    route_errors: RouteErrors | None = None,
    deprecated: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`document` (BentoML's, as JSON reads it) with the corrections the module's docstring lists, and each route
    of `deprecated` marked so, naming the route that replaces it."""
    schemas: dict[str, Any] = document["components"]["schemas"]
    for name in BENTOML_ERROR_SCHEMAS:
        del schemas[name]
    for model in (ErrorBody, BentoMLError):
        schemas[model.__name__] = schema_of(model, schemas)
    paths = document["paths"]
    for api in apis:
        own = (route_errors or {}).get(api.route, {})
        paths[api.route]["post"] = api_operation(paths[api.route]["post"], api, schemas, own)
        if replaced_by := (deprecated or {}).get(api.route):
            paths[api.route]["post"] |= {"deprecated": True, "summary": f"Deprecated: use {replaced_by}"}
    paths["/readyz"]["get"]["responses"]["503"] = NOT_READY
    return document | {"openapi": OPENAPI_VERSION}


def contract_document(
    service: bentoml.Service[Any], route_errors: RouteErrors | None = None, deprecated: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """What `service` answers, documented: BentoML's document, a fresh JSON copy of it, corrected."""
    bentoml_document = json.loads(json.dumps(service.openapi_spec.asdict()))
    return corrected(bentoml_document, list(service.apis.values()), route_errors, deprecated)


class ContractDocument:
    """ASGI middleware: GET /docs.json answers the corrected document, built on the first asking and then kept.
    A middleware, not a route: it comes before BentoML's own /docs.json whatever order BentoML adds routes in."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        service: bentoml.Service[Any],
        route_errors: RouteErrors | None = None,
        deprecated: Mapping[str, str] | None = None,
        path: str = DOCUMENT_PATH,
    ) -> None:
        self.app = app
        self.service = service
        self.route_errors = route_errors
        self.deprecated = deprecated
        self.path = path
        self.body: bytes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        if self.body is None:
            self.body = JSONResponse(
                contract_document(self.service, self.route_errors, self.deprecated)
            ).body  # as BentoML renders its own
        await Response(self.body, media_type="application/json")(scope, receive, send)
