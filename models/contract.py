"""What the project answers, declared once: the markers its dataclasses carry, and the pydantic models derived
from them.

The answer, an evidence sentence, a tracked document and a claim's summary are frozen dataclasses
(models/result.py, models/evidence.py, models/tracking.py). Their fields are annotated with pydantic `Field`s
(descriptions, bounds) and, where a value depends on the model's labels, with a marker below: a label is one of
them (`OneLabel`), a mapping has one entry per label (`PerLabel`). Every surface derives its types from these
fields for the labels of the model it serves: the HTTP models and OpenAPI document (`response_model`), the batch
job's Arrow columns (serving/batch/columns.py), and the records read back from them (`from_record`). Adding a
field to a dataclass adds it everywhere.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, TypeAdapter, create_model

from models.labels import SIDED_STANCES, UNRELATED


class LabelSet(StrEnum):
    """Which of a model's labels a field ranges over."""

    ALL = "all"
    STANCES = "stances"
    """The labels less `unrelated`: what a related document can say."""
    SIDED = "sided"
    """The stances that take a side (asserting, disputing)."""


def label_set(labels: Sequence[str], which: LabelSet) -> tuple[str, ...]:
    if which is LabelSet.ALL:
        return tuple(labels)
    stances = tuple(label for label in labels if label != UNRELATED)
    return stances if which is LabelSet.STANCES else tuple(label for label in SIDED_STANCES if label in stances)


@dataclass(frozen=True)
class OneLabel:
    """On a `str` field: its value is one of the labels of `labels`."""

    labels: LabelSet = LabelSet.ALL


@dataclass(frozen=True)
class PerLabel:
    """On a `dict[str, V]` field: one entry per label of `labels`, in the model's order. `name` names the object
    type in the OpenAPI document; `column_prefix`, where set, flattens the field in tables to one column per label
    (`<prefix>_<label>`) instead of one nested column."""

    name: str
    labels: LabelSet = LabelSet.ALL
    column_prefix: str | None = None


def marker(annotation: Any) -> tuple[Any, OneLabel | PerLabel | None, tuple[Any, ...]]:
    """An annotation as its bare type, its label marker (if any) and its other metadata."""
    if get_origin(annotation) is not Annotated:
        return annotation, None, ()
    base, *metadata = get_args(annotation)
    found = next((m for m in metadata if isinstance(m, OneLabel | PerLabel)), None)
    return base, found, tuple(m for m in metadata if m is not found)


def contract_fields(cls: type) -> list[tuple[dataclasses.Field, Any]]:
    """A contract dataclass's fields with their full annotations (markers and pydantic `Field`s included)."""
    hints = get_type_hints(cls, include_extras=True)
    return [(field, hints[field.name]) for field in dataclasses.fields(cls)]


def is_optional(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)


def without_none(annotation: Any) -> Any:
    """`X | None` as `X` (what a nullable column holds)."""
    if not is_optional(annotation):
        return annotation
    rest = [arg for arg in get_args(annotation) if arg is not type(None)]
    return rest[0] if len(rest) == 1 else Union[tuple(rest)]  # noqa: UP007


def element_type(annotation: Any) -> Any | None:
    """The element type of `tuple[X, ...]` or `list[X]`; None for anything else."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is list or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        return args[0]
    return None


def response_model(
    cls: type, labels: Sequence[str], example: dict[str, Any] | None = None, **first: Any
) -> type[BaseModel]:
    """The pydantic model of a contract dataclass for a model with these labels: each label marker made concrete
    (a `Literal` of the labels, an object with one property per label), nested contracts likewise; `first` adds
    fields before the dataclass's (`id=(str | None, None)`), as `create_model` takes them; `example` is the one
    example BentoML's OpenAPI document shows (it takes `example`, not pydantic's `examples` list)."""
    fields = {name: spec for name, spec in first.items()}
    for field, annotation in contract_fields(cls):
        if field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            default = ...
        fields[field.name] = (concrete(annotation, tuple(labels)), default)
    config = ConfigDict(extra="forbid", json_schema_extra=None if example is None else {"example": example})
    return create_model(cls.__name__, __config__=config, __doc__=written_doc(cls), **fields)


def written_doc(cls: type) -> str | None:
    """The class's docstring; None where `dataclass` made one up from its signature."""
    doc = cls.__doc__
    return None if doc is None or doc.startswith(f"{cls.__name__}(") else doc


@cache
def contract_model(cls: type, labels: tuple[str, ...]) -> type[BaseModel]:
    """One model per dataclass and label set: each nested type is one schema in the OpenAPI document."""
    return response_model(cls, labels)


@cache
def per_label_model(found: PerLabel, value: Any, labels: tuple[str, ...]) -> type[BaseModel]:
    return create_model(
        found.name,
        __config__=ConfigDict(extra="forbid"),
        **{label: (value, ...) for label in label_set(labels, found.labels)},
    )


def concrete(annotation: Any, labels: tuple[str, ...]) -> Any:
    """`annotation` with its label markers made concrete for `labels` (see `response_model`)."""
    base, found, metadata = marker(annotation)
    if isinstance(found, OneLabel):
        base = Literal[label_set(labels, found.labels)]
    elif isinstance(found, PerLabel):
        base = per_label_model(found, concrete(get_args(base)[1], labels), labels)
    elif dataclasses.is_dataclass(base):
        base = contract_model(base, labels)
    elif (element := element_type(base)) is not None:
        base = list[concrete(element, labels)]
    elif get_origin(base) in (Union, types.UnionType):
        base = Union[tuple(concrete(arg, labels) for arg in get_args(base))]  # noqa: UP007
    return Annotated[(base, *metadata)] if metadata else base


@cache
def record_reader(cls: type) -> TypeAdapter:
    return TypeAdapter(cls)


def from_record(cls: type, record: dict[str, Any]) -> Any:
    """A contract dataclass (nested ones included) from its `dataclasses.asdict` form, as a table or JSON holds
    it: pydantic reads dataclasses, so a list becomes the tuple the field declares and a string its enum."""
    return record_reader(cls).validate_python(record)
