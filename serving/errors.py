"""The one shape of every error answer, the one BentoML gives pydantic's: a summary, then per-field entries.

`ErrorBody` is that shape: `error_response` builds its answers through it, and the OpenAPI document
(serving/openapi.py) takes its schema from it, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse


class ErrorDetail(BaseModel):
    """One thing wrong with the request; pydantic's entries carry more keys (`url`), ours a `limit` if one applies."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int] = Field(description="Where: the path of the field in the body, `body` or `header` otherwise.")
    msg: str
    type: str = Field(description="Machine-readable kind, e.g. `missing`, `string_too_long`, `too_large`.")


class ErrorBody(BaseModel):
    """An error answer: a summary, and what is wrong, one entry per field."""

    error: str
    detail: list[ErrorDetail]


def error_response(status: int, message: str, loc: list[str | int], kind: str, **extra: Any) -> JSONResponse:
    body = ErrorBody(error=message, detail=[ErrorDetail(loc=loc, msg=message, type=kind, **extra)])
    return JSONResponse(body.model_dump(), status_code=status)


RETRY_AFTER_SECONDS = 1


def retry_later(message: str, kind: str, **extra: Any) -> JSONResponse:
    """The service's one 503 shape, whatever refused the request (queue, large bodies, deadline): with Retry-After."""
    response = error_response(503, message, ["service"], kind, **extra)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
