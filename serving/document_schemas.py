"""A document's request body, derived from its one declaration (models/document_fields.py: SentDocument) with the
service's limits: /track's documents and the monitor's are the same fields, checked the same way.

Each declared field becomes a strict, bounded field: a string of 1 to its `max_<field>_chars` characters without
NUL; one the model reads (`Prose`) also needs a visible character; the publication date (`PublishedDate`) must name
a day; a number where the declaration allows one (the id) is a strict integer. Descriptions come with the field.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, TypeVar, Union, get_args, get_type_hints

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, WithJsonSchema, create_model
from pydantic.fields import FieldInfo

from models.document_fields import (
    DocumentDetails,
    DocumentLimits,
    Prose,
    PublishedDate,
    SentDocument,
    published_day,
)
from serving.schemas import plain_string, prose_string

D = TypeVar("D", bound=DocumentDetails)


class DocumentBody(BaseModel):
    """What every document of a request can be read as."""

    model_config = ConfigDict(extra="forbid")

    def read_as(self, cls: type[D]) -> D:
        """The body as one of the declaration's dataclasses: its details (DocumentDetails), the whole document
        (SentDocument), or one made from them (the monitor's IncomingDocument)."""
        return cls(**self.model_dump(include={field.name for field in dataclasses.fields(cls)}))


def valid_published(value: str) -> str:
    """Kept as sent, once it is known to name a day (the batch job's rule: models/document_fields.py)."""
    if not value.strip():
        raise ValueError("empty: leave the field out for no date")
    published_day(value)
    return value


def published_string(max_length: int) -> Any:
    """A publication date: length checked before the date is parsed; the answer echoes it as sent."""
    schema = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}
    return Annotated[
        str,
        Field(max_length=max_length),
        AfterValidator(valid_published),
        WithJsonSchema(schema | {"maxLength": max_length}),
    ]


def checked_type(declared: Any, markers: list[Any], max_length: int) -> Any:
    """The request's type of one declared type (`str`, `int`, or a union of them)."""
    if declared is int:
        return StrictInt
    if any(isinstance(marker, PublishedDate) for marker in markers):
        return published_string(max_length)
    if any(isinstance(marker, Prose) for marker in markers):
        return prose_string(max_length)
    return plain_string(max_length)


def document_body(
    name: str, limits: DocumentLimits, example: dict[str, Any], declaration: type = SentDocument, **fixed: Any
) -> type[DocumentBody]:
    """The request model of a document (`declaration`'s fields) under `limits`; `fixed` gives a field another type
    than the declaration's (the monitor's ids are strings: the store keys documents by them)."""
    fields: dict[str, Any] = {}
    for field, hint in get_type_hints(declaration, include_extras=True).items():
        declared, *metadata = get_args(hint)
        described = [item for item in metadata if isinstance(item, FieldInfo)]
        kinds = [kind for kind in get_args(declared) or (declared,) if kind is not type(None)]
        checked = fixed.get(field) or Union[tuple(checked_type(k, metadata, limits.limit(field)) for k in kinds)]  # noqa: UP007
        required = type(None) not in get_args(declared)
        typed = checked if required else checked | None
        described_type = Annotated[(typed, *described)] if described else typed
        fields[field] = (described_type, ...) if required else (described_type, None)
    configured = type(
        f"{name}Config", (DocumentBody,), {"model_config": ConfigDict(json_schema_extra={"example": example})}
    )
    return create_model(name, __base__=configured, **fields)
