"""A document as a caller sends it, declared once: its fields (id, text, title, source, url, published), what each
holds, and how long each may be.

Every surface derives its form of a document from `SentDocument` and `DocumentLimits`: the service's request bodies
(serving/document_schemas.py), the answer's tracked document (models/tracking.py), the monitor's incoming document
and the widths of its table's columns (serving/monitor), the batch job's column flags (serving/batch/config.py)
and the tracker page's field list (served as /tracker/fields.json). A field's limit is the `max_<field>_chars` of
`DocumentLimits`; its markers say how a request checks it beyond its length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Annotated, get_type_hints

import pydantic
from pydantic import Field
from pydantic.fields import FieldInfo

from models.pair import InputLimits

ID_CHARS = 256
"""The longest id any store keeps (the monitor's id columns): CLAIMSTANCE_MAX_ID_CHARS may be lower, never higher."""
PUBLISHED_CHARS = 64
"""The longest `published` kept as sent: an RFC 3339 date-time fits in 35; the rest is room for fractions of a
second."""

DocumentId = str | int
"""The caller's id of a document: a string, or a number echoed back as one."""


@dataclass(frozen=True)
class Prose:
    """Marks a field the model reads (text, title): it needs a visible character, not only whitespace or controls
    (models/blank_text.py)."""


@dataclass(frozen=True)
class PublishedDate:
    """Marks the publication date: an RFC 3339 date or date-time, kept as sent; a claim's timeline counts by its day
    (`published_day`)."""


@dataclass(frozen=True, kw_only=True)
class DocumentDetails:
    """What a caller says about a document beside its text: what an answer echoes and a claim's summary groups by."""

    id: Annotated[DocumentId, pydantic.Field(description="The caller's id of the document, echoed back.")]
    title: Annotated[
        str | None,
        Prose(),
        pydantic.Field(description="The text's headline, if it has one: read as one more sentence, before the text."),
    ] = None
    source: Annotated[
        str | None,
        pydantic.Field(description="Who published it: a claim's summary gives each source's prevailing stance."),
    ] = None
    url: Annotated[str | None, pydantic.Field(description="Where it can be read.")] = None
    published: Annotated[
        str | None,
        PublishedDate(),
        pydantic.Field(
            description="RFC 3339 date or date-time (2015-10-01, 2015-10-01T12:00:00Z), as sent: a claim's timeline "
            "counts stances by this day, as written."
        ),
    ] = None


@dataclass(frozen=True, kw_only=True)
class SentDocument(DocumentDetails):
    """A whole document as a caller sends it: its details and its text."""

    text: Annotated[
        str, Prose(), pydantic.Field(min_length=1, description="The document's text, read against the claim.")
    ]


DOCUMENT_FIELDS = tuple(field.name for field in fields(SentDocument))
"""Every field of a document, in declaration order."""
DETAIL_FIELDS = tuple(field.name for field in fields(DocumentDetails))
"""A document's fields less its text."""
OPTIONAL_FIELDS = tuple(field.name for field in fields(SentDocument) if field.default is None)
"""The fields a document may leave out."""


def field_description(cls: type, name: str) -> str:
    """A declared field's description (its pydantic `Field`'s), for the flags and pages that name it."""
    metadata = getattr(get_type_hints(cls, include_extras=True)[name], "__metadata__", ())
    return next(item.description for item in metadata if isinstance(item, FieldInfo) and item.description)


class DocumentLimits(InputLimits):
    """How long each of a document's fields may be, in characters (the text's and title's are a pair's: InputLimits).
    `limit` names them by field."""

    max_id_chars: int = Field(default=ID_CHARS, ge=1, le=ID_CHARS)
    """Ids are echoed in answers: a caller's key, not a document."""
    max_source_chars: int = Field(default=500, ge=1)
    """A document's source (a publication's name), counted and shown, never read by the model."""
    max_url_chars: int = Field(default=2048, ge=1)
    """A document's link, shown with its evidence."""
    max_published_chars: int = Field(default=PUBLISHED_CHARS, ge=1, le=PUBLISHED_CHARS)
    """A document's date or RFC 3339 time; the tables keep at most PUBLISHED_CHARS."""

    def limit(self, field: str) -> int:
        """The limit of one of the document's fields."""
        return getattr(self, f"max_{field}_chars")


RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}([Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?", re.ASCII)
"""A date or date-time as JSON Schema's `date` and `date-time` formats write them (RFC 3339): the one form the
service documents, so the batch job takes the same."""


def published_day(value: object) -> date | None:
    """The day a document was published, from an RFC 3339 date or date-time (as written, in its own offset:
    `2015-10-01T23:30:00-05:00` is 1 October), or a date/datetime value (a Parquet date or timestamp column);
    None for none (a null, or an empty CSV field)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and RFC3339.fullmatch(value):
        try:
            return datetime.fromisoformat(value.upper()).date()
        except ValueError:
            pass  # a day that does not exist (2015-02-30); a leap second (23:59:60) is not taken either
    raise ValueError(f"not an RFC 3339 date or date-time (like 2015-10-01 or 2015-10-01T12:00:00Z): {value!r}")
