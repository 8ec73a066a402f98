"""Bodies of `POST /track`: one claim and many documents in, each document's answer and the claim's summary out.

The answer's shape is derived from its one definition (models/tracking.py: TrackedClaim) for the served model's
labels, and its example is made by the same code as real answers, so the document cannot drift from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Annotated

from pydantic import BaseModel, Field

from models.contract import from_record, response_model
from models.document_fields import DETAIL_FIELDS, DocumentDetails
from models.result import StanceResult
from models.tracking import TrackedClaim, TrackedDocument, tracked_claim
from serving.document_schemas import document_body
from serving.schemas import (
    EXAMPLE_MODEL,
    EXAMPLE_PAIR,
    UNRELATED_PAIR,
    ClaimText,
    example_result,
    json_values,
)
from serving.settings import SETTINGS

EXAMPLE_DOCUMENTS = [
    {"id": EXAMPLE_PAIR["id"], "text": EXAMPLE_PAIR["text"], "source": "Reuters", "published": "2015-10-01"},
    {"id": UNRELATED_PAIR["id"], "text": UNRELATED_PAIR["text"], "source": "City Gazette", "published": "2015-10-02"},
]


DocumentToTrack = document_body("DocumentToTrack", SETTINGS, EXAMPLE_DOCUMENTS[0])
"""A document of /track: its id is echoed as sent, and two documents may share one (each answer has its
`position`)."""
DocumentsToTrack = Annotated[
    list[DocumentToTrack],
    Field(min_length=1, max_length=SETTINGS.max_track_documents, json_schema_extra={"example": EXAMPLE_DOCUMENTS}),
]
TrackClaim = Annotated[ClaimText, Field(json_schema_extra={"example": EXAMPLE_PAIR["claim"]})]


def example_answer(labels: Sequence[str]) -> dict:
    """A made-up answer for the example documents, in the shape and by the rules of real ones."""
    tracked = []
    for position, document in enumerate(EXAMPLE_DOCUMENTS):
        answer = example_result(labels, str(document["id"]))
        result = from_record(StanceResult, {name: value for name, value in answer.items() if name != "id"})
        details = DocumentDetails(**{name: value for name, value in document.items() if name in DETAIL_FIELDS})
        tracked.append(TrackedDocument.of(result, details, position))
    return json_values(asdict(tracked_claim(EXAMPLE_PAIR["claim"], EXAMPLE_MODEL, labels, tracked)))


def track_schema(labels: Sequence[str]) -> type[BaseModel]:
    """The answer of `/track` under a model with these labels (models/tracking.py: TrackedClaim)."""
    return response_model(TrackedClaim, labels, example_answer(labels))
