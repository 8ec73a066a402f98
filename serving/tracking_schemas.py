"""Bodies of `POST /track`: one claim and many documents in, each document's answer and the claim's summary out.

The answer's shapes are built for the served model's labels (as `result_schema` is), and its example is made by
the same summary code as real answers (models/tracking.py), so the document cannot drift from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr, WithJsonSchema, create_model

from models.evidence import Evidence
from models.tracking import SummaryBuilder, TrackedDocument, published_day, relevance_order, summary_labels
from serving.schemas import EXAMPLE_MODEL, EXAMPLE_PAIR, UNRELATED_PAIR, ClaimText, Text, TitleText, example_result
from serving.settings import SETTINGS

DocumentId = Annotated[
    Annotated[StrictStr, Field(min_length=1, max_length=SETTINGS.max_id_chars)] | StrictInt,
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
    source: Annotated[str, Field(min_length=1, max_length=SETTINGS.max_source_chars)] | None = Field(
        None, description="Who published it: the summary gives each source's prevailing stance."
    )
    url: Annotated[str, Field(min_length=1, max_length=SETTINGS.max_url_chars)] | None = None
    published: Published | None = Field(
        None,
        description="RFC 3339 date or date-time (2015-10-01, 2015-10-01T12:00:00Z): the summary's timeline counts "
        "stances by this day, as written.",
    )


DocumentList = Annotated[
    list[TrackDocument],
    Field(min_length=1, max_length=SETTINGS.max_track_documents, json_schema_extra={"example": EXAMPLE_DOCUMENTS}),
]
TrackClaim = Annotated[ClaimText, Field(json_schema_extra={"example": EXAMPLE_PAIR["claim"]})]


def example_answer(labels: Sequence[str]) -> dict:
    """A made-up answer for the example documents, in the shape and by the rules of real ones."""
    answers = []
    builder = SummaryBuilder(labels)
    for position, document in enumerate(EXAMPLE_DOCUMENTS):
        result = example_result(labels, str(document["id"]))
        echoed = {key: value for key, value in document.items() if key != "text"}
        answers.append({**result, "position": position, "title": None, "url": None, **echoed})
        answers[-1].pop("model")
        evidence = [Evidence(**sentence) for sentence in result["evidence"]]
        published = published_day(document["published"])
        builder.add(TrackedDocument(document["id"], result["label"], result["scores"], evidence, document["source"],
                                    published=published))  # fmt: skip
    answers = [answers[i] for i in relevance_order([answer["relevance"] for answer in answers])]
    summary = builder.summary().to_dict()
    return {"claim": EXAMPLE_PAIR["claim"], "model": EXAMPLE_MODEL, "documents": answers, "summary": summary}


CLOSED = ConfigDict(extra="forbid")
"""The summary's models take no field they do not name: one the summary code adds fails the answer's validation
(and the tests) instead of being dropped from it."""


def track_schema(labels: Sequence[str], answer: type[BaseModel]) -> type[BaseModel]:
    """The answer of `/track` under a model with these labels; `answer` is the one-pair answer it extends."""
    stances, sided = summary_labels(labels)
    fields = answer.model_fields
    evidence_type = fields["evidence"].annotation.__args__[0]
    counts = create_model("StanceCounts", __config__=CLOSED, **{s: (int, Field(ge=0)) for s in stances})
    share = create_model(
        "LabelShare",
        __config__=CLOSED,
        count=(int, Field(ge=0)),
        share=(float, Field(ge=0.0, le=1.0, description="Of the related documents; 0 when there are none.")),
    )
    source = create_model(
        "SourceSummary",
        __config__=CLOSED,
        source=(str, ...),
        documents=(list[DocumentId], Field(description="Every document of the source, related or not.")),
        related=(int, Field(ge=0)),
        counts=(counts, Field(description="The source's related documents per stance.")),
        prevailing=(
            Literal[stances] | None,
            Field(description="The stance of most of its related documents; null when it has none."),
        ),
    )
    strongest = create_model(
        "StrongestEvidence",
        __config__=CLOSED,
        id=(DocumentId, ...),
        source=(str | None, ...),
        url=(str | None, ...),
        evidence=(evidence_type, ...),
    )
    day = create_model(
        "DayCounts", __config__=CLOSED, date=(str, Field(description="YYYY-MM-DD")), counts=(counts, ...)
    )
    summary = create_model(
        "ClaimSummary",
        __config__=CLOSED,
        documents=(int, Field(ge=0)),
        related=(int, Field(ge=0, description="Documents about the claim (not `unrelated`).")),
        unrelated=(int, Field(ge=0)),
        labels=(create_model("LabelShares", __config__=CLOSED, **{s: (share, ...) for s in stances}), ...),
        sources=(list[source], Field(description="Each source named by a document, most documents first.")),
        strongest=(
            create_model("Strongest", __config__=CLOSED, **{s: (strongest | None, ...) for s in sided}),
            Field(description="The sentence of a related document that takes each side most surely."),
        ),
        timeline=(list[day], Field(description="Stances of the related documents per day published, by date.")),
    )
    document = create_model(
        "TrackedDocumentResult",
        id=(DocumentId, ...),
        position=(int, Field(ge=0, description="Its place in the request (0-based).")),
        **{name: (info.annotation, info) for name, info in fields.items() if name not in ("id", "model")},
        title=(str | None, None),
        source=(str | None, None),
        url=(str | None, None),
        published=(str | None, None),
    )
    return create_model(
        "TrackResult",
        __config__=ConfigDict(json_schema_extra={"example": example_answer(labels)}),
        claim=(str, ...),
        model=(str, Field(description="Model-store tag (name:version) of the model that answered.")),
        documents=(list[document], Field(description="Each answer, the most relevant first, then in input order.")),
        summary=(summary, Field(description="Over the related documents.")),
    )
