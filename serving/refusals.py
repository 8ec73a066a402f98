"""Errors a route answers, raised where they are found and answered in one place.

A route's code raises `Refused` (or an error of the monitor's store, which `refusal` maps), and `answers_refusals`
turns it into the service's one error body (serving/errors.py): a route's annotation is then what it returns when it
answers, and the mapping of store errors to statuses is written once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import bentoml
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.responses import JSONResponse

from serving.errors import RETRY_AFTER_SECONDS, error_response
from serving.monitor.claims import ClaimConflict, TooManyClaims, UnknownClaim
from serving.monitor.documents import DocumentConflict, StoredMeanwhile, TooManyDocuments, UnknownDocument

log = logging.getLogger("bentoml.claimstance")


class Refused(Exception):
    """A request answered with an error: its status, message, the field it is about (`loc`), a machine-readable kind
    and any extra keys (a limit); 503s carry Retry-After."""

    def __init__(self, status: int, message: str, loc: list[str | int], kind: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.loc, self.kind, self.extra = status, message, loc, kind, extra

    def response(self) -> JSONResponse:
        response = error_response(self.status, self.message, self.loc, self.kind, **self.extra)
        if self.status == 503:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


class StoreUnavailable(RuntimeError):
    """The monitor's store could not be opened (its database unreachable, its folder not writable, …)."""


def retry_later(message: str, kind: str, **extra: Any) -> Refused:
    return Refused(503, message, ["service"], kind, **extra)


def refusal(error: Exception, request_id: str | None = None) -> Refused | None:
    """The answer to an error of the monitor's store or database (None: not one of them). Database errors are
    answered without the driver's message (it may name hosts and users): the log has it, under the request's id."""
    match error:
        case UnknownClaim():
            return Refused(404, str(error), ["id"], "unknown_claim")
        case UnknownDocument():
            return Refused(404, str(error), ["id"], "unknown_document")
        case ClaimConflict():
            return Refused(409, str(error), ["id"], "conflict", id=error.claim_id)
        case DocumentConflict():
            return Refused(409, str(error), ["id"], "conflict", id=error.document_id)
        case TooManyClaims() | TooManyDocuments():
            return Refused(409, str(error), ["service"], "cap_reached", limit=error.cap)
        case StoredMeanwhile():
            return retry_later("a concurrent call stored the same documents; retry", "concurrent_write")
        case IntegrityError():  # a concurrent call wrote the same id first: this one holds nothing now
            return retry_later("a concurrent call changed the same records; retry", "concurrent_write")
        case DataError():
            log.warning("request %s: the database refused a value: %s", request_id, error.orig)
            return Refused(400, f"the database refused a value of the request (request id {request_id})", ["body"],
                           "value_error", request_id=request_id)  # fmt: skip
        case OperationalError() | StoreUnavailable():
            log.warning("request %s: monitor database: %s", request_id, getattr(error, "orig", error))
            return retry_later(f"the monitor's database is unavailable (request id {request_id})",
                               "database_unavailable", request_id=request_id)  # fmt: skip
    return None


P = ParamSpec("P")
R = TypeVar("R")


def answers_refusals(route: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R | JSONResponse]]:
    """The route's answer, or the error body of what it raised (Refused, or a store error `refusal` knows). Wrapped
    with functools.wraps: BentoML reads the route's signature and annotations through it."""

    @functools.wraps(route)
    async def answered(*args: P.args, **kwargs: P.kwargs) -> R | JSONResponse:
        try:
            return await route(*args, **kwargs)
        except Exception as error:
            refused = error if isinstance(error, Refused) else refusal(error)
            if refused is None:
                raise
            response = refused.response()
            for ctx in (value for value in (*args, *kwargs.values()) if isinstance(value, bentoml.Context)):
                # BentoML answers a route that takes its Context with the Context's status and headers
                ctx.response.status_code = response.status_code
                ctx.response.metadata.update({k: v for k, v in response.headers.items() if k == "retry-after"})
            return response

    return answered
