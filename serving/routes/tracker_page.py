"""The claim tracker's page (/tracker/): its static files, and the document's fields it reads input by."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from models.document_fields import SentDocument, field_description

TRACKER_PAGE = Path(__file__).parents[1] / "tracker"
"""The page's static files: it posts to /track."""


def document_fields() -> list[dict[str, object]]:
    """The fields a document of the page's input may have, from their one declaration (models/document_fields.py):
    the page reads these from a pasted JSON line or a CSV column, and no other."""
    return [
        {
            "name": field.name,
            "required": field.default is not None,
            "description": field_description(SentDocument, field.name),
        }
        for field in fields(SentDocument)
    ]


def tracker_page() -> Starlette:
    """The page's files, and `fields.json`: the document's fields, which the page takes from the service rather
    than writing them a second time."""
    listed = document_fields()

    async def field_list(request: Request) -> JSONResponse:
        return JSONResponse(listed)

    return Starlette(
        routes=[Route("/fields.json", field_list), Mount("/", StaticFiles(directory=TRACKER_PAGE, html=True))]
    )
