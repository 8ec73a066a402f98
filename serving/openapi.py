"""The service's OpenAPI document, corrected where BentoML 1.4.39 builds it unlike what the service answers.

BentoML builds the document in the `Service.openapi_spec` property (_bentoml_sdk/service/openapi.py), read by
/docs.json and by `bentoml build` (apis/openapi.yaml), and offers no hook into it. Left alone, the document
- flattens each body field's `anyOf` to its first branch (`_flatten_field`, _bentoml_sdk/method.py): a request's
  `id` reads as a string only, `title` and an answer's `id` and `relevance` as never null;
- gives every error `{"error": str, "detail": str}` (`exception_schema`, bentoml/_internal/service/openapi/utils.py)
  where `detail` is a list of per-field entries (serving/errors.py), and lists 400, 404 and 500 only: no route
  answers 404, and 413, 415 (our middlewares), 429, 504 (BentoML's traffic control) and 503 (overloaded) are missing;
- leaves each request body optional, though an empty one is refused (serving/body_limit.py);
- says OpenAPI 3.0.2 of schemas that are JSON Schema 2020-12, as pydantic writes them (`"type": "null"`): that is 3.1.
`document_contract(service)` makes the service build the corrected document instead.
"""

from __future__ import annotations

from typing import Any

import attrs
from _bentoml_sdk.method import APIMethod
from _bentoml_sdk.service.factory import Service
from _bentoml_sdk.service.openapi import REF_TEMPLATE
from bentoml._internal.service.openapi.specification import OpenAPISpecification
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from serving.errors import ErrorBody

OPENAPI_VERSION = "3.1.0"
BENTOML_ERROR_SCHEMAS = ("InvalidArgument", "NotFound", "InternalServerError")


class BentoMLError(BaseModel):
    """An error BentoML answers itself, around the route's code: a summary only."""

    error: str


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
    "413": ("The body is over the size limit.", ErrorBody, {}),
    "415": ("The body is not `application/json`.", ErrorBody, {}),
    "429": ("Over the service's concurrency limit (BentoML's traffic control): try again shortly.", BentoMLError, {}),
    "500": ("An unexpected failure: the server's log has it.", BentoMLError, {}),
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


def api_operation(operation: dict[str, Any], api: APIMethod[..., Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """BentoML's operation for the route, with the whole schemas of its bodies and every status it answers."""
    errors = {
        status: {
            "description": description,
            "content": json_content({"$ref": REF_TEMPLATE.format(model=model.__name__)}),
        }
        | ({"headers": headers} if headers else {})
        for status, (description, model, headers) in ERROR_RESPONSES.items()
    }
    answer = schema_of(api.output_spec, schemas, mode="serialization")
    return operation | {
        "requestBody": {"required": True, "content": json_content(schema_of(api.input_spec, schemas))},
        "responses": {"200": {"description": "Successful Response", "content": json_content(answer)}} | errors,
    }


def corrected(spec: OpenAPISpecification, service: Service[Any]) -> OpenAPISpecification:
    schemas: dict[str, Any] = spec.components["schemas"]  # a plain dict, as generate_spec builds it
    for name in BENTOML_ERROR_SCHEMAS:
        del schemas[name]
    for model in (ErrorBody, BentoMLError):
        schemas[model.__name__] = schema_of(model, schemas)
    paths = dict(spec.paths)
    for api in service.apis.values():
        paths[api.route] = attrs.evolve(paths[api.route], post=api_operation(paths[api.route].post, api, schemas))
    readyz = paths["/readyz"].get
    paths["/readyz"] = attrs.evolve(
        paths["/readyz"], get=attrs.evolve(readyz, responses=readyz.responses | {"503": NOT_READY})
    )
    return attrs.evolve(spec, openapi=OPENAPI_VERSION, paths=paths)


class ContractDocumented(Service):
    """The class of a service once `document_contract` has run: BentoML builds the document here and nowhere else."""

    __slots__ = ()

    @property
    def openapi_spec(self) -> OpenAPISpecification:
        return corrected(super().openapi_spec, self)


def document_contract(service: Service[Any]) -> None:
    """From now on, `service` documents what it answers (see the module's docstring)."""
    service.__class__ = ContractDocumented
