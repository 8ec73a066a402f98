"""Bodies of `POST /track`: one claim and many documents in, each document's answer and the claim's summary out.

The answer's shape is derived from its one definition (models/tracking.py: TrackedClaim) for the served model's
labels, and its example is made by the same code as real answers, so the document cannot drift from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, WithJsonSchema

from models.contract import from_record, response_model
from models.result import StanceResult
from models.tracking import DocumentFields, TrackedClaim, TrackedDocument, published_day, tracked_claim
from serving.schemas import (
    EXAMPLE_MODEL,
    EXAMPLE_PAIR,
    UNRELATED_PAIR,
    ClaimText,
    Text,
    TitleText,
    example_result,
    json_values,
    plain_string,
)
from serving.settings import SETTINGS

DocumentId = Annotated[
    plain_string(SETTINGS.max_id_chars) | StrictInt,
    Field(description="The caller's id of the document, echoed back."),
]


def valid_published(value: str) -> str:
    """Kept as sent, once it is known to name a day (the batch job's rule: models/tracking.py)."""
    if not value.strip():
        raise ValueError("empty: leave the field out for no date")
    published_day(value)
    return value


PUBLISHED_SCHEMA = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}],
    "maxLength": SETTINGS.max_published_chars,
}
Published = Annotated[
    str,
    Field(max_length=SETTINGS.max_published_chars),
    AfterValidator(valid_published),
    WithJsonSchema(PUBLISHED_SCHEMA),
]
"""Length checked before the date is parsed; the answer echoes it."""


EXAMPLE_DOCUMENTS = [
    {"id": EXAMPLE_PAIR["id"], "text": EXAMPLE_PAIR["text"], "source": "Reuters", "published": "2015-10-01"},
    {"id": UNRELATED_PAIR["id"], "text": UNRELATED_PAIR["text"], "source": "City Gazette", "published": "2015-10-02"},
]


class TrackDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": EXAMPLE_DOCUMENTS[0]})

    id: DocumentId
    """Echoed as sent; two documents may share one (each answer also has its `position`)."""
    text: Text
    title: TitleText | None = None
    source: plain_string(SETTINGS.max_source_chars) | None = Field(
        None, description="Who published it: the summary gives each source's prevailing stance."
    )
    url: plain_string(SETTINGS.max_url_chars) | None = None
    published: Published | None = Field(
        None,
        description="RFC 3339 date or date-time (2015-10-01, 2015-10-01T12:00:00Z): the summary's timeline counts "
        "stances by this day, as written.",
    )

    def document_fields(self) -> DocumentFields:
        """What the caller says about the document beside its text."""
        return DocumentFields(**self.model_dump(exclude={"text"}))


DocumentList = Annotated[
    list[TrackDocument],
    Field(min_length=1, max_length=SETTINGS.max_track_documents, json_schema_extra={"example": EXAMPLE_DOCUMENTS}),
]
TrackClaim = Annotated[ClaimText, Field(json_schema_extra={"example": EXAMPLE_PAIR["claim"]})]


def example_answer(labels: Sequence[str]) -> dict:
    """A made-up answer for the example documents, in the shape and by the rules of real ones."""
    tracked = []
    for position, document in enumerate(EXAMPLE_DOCUMENTS):
        answer = example_result(labels, str(document["id"]))
        result = from_record(StanceResult, {name: value for name, value in answer.items() if name != "id"})
        fields = DocumentFields(**{name: value for name, value in document.items() if name != "text"})
        tracked.append(TrackedDocument.of(result, fields, position))
    return json_values(asdict(tracked_claim(EXAMPLE_PAIR["claim"], EXAMPLE_MODEL, labels, tracked)))


def track_schema(labels: Sequence[str]) -> type[BaseModel]:
    """The answer of `/track` under a model with these labels (models/tracking.py: TrackedClaim)."""
    return response_model(TrackedClaim, labels, example_answer(labels))
