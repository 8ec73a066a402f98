"""The one shape of every error answer, the one BentoML gives pydantic's: a summary, then per-field entries."""

from __future__ import annotations

from starlette.responses import JSONResponse


def error_response(status: int, message: str, loc: list[str | int], kind: str, **extra) -> JSONResponse:
    return JSONResponse(
        {"error": message, "detail": [{"loc": loc, "msg": message, "type": kind, **extra}]}, status_code=status
    )
