"""The batch job's columns: the ones it adds to each row, derived from the answer's one definition, and the
errors about the ones it needs.

One home for these names and types, so the readers, the scorer, the writers and the Spark engine agree on them;
rows are filled and read back by column name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, get_args, get_origin

import pyarrow as pa

from models.contract import (
    OneLabel,
    PerLabel,
    contract_fields,
    element_type,
    from_record,
    label_set,
    marker,
    without_none,
)
from models.result import StanceResult
from serving.jobs.options import JobInputError

SCORE_DECIMALS = 6
"""Digits kept of each probability in the output (labels come from the unrounded scores)."""
LABEL_COLUMN = "label"
EVIDENCE_COLUMN = "evidence"


def arrow_type(annotation: Any, labels: tuple[str, ...]) -> pa.DataType:
    """The Arrow type of a contract field (models/contract.py) for a model with these labels: a nested contract is
    a struct, a per-label mapping a struct with one field per label, a tuple or list a list, `X | None` a nullable
    X."""
    base, found, _ = marker(annotation)
    if isinstance(found, OneLabel):
        return pa.string()
    if isinstance(found, PerLabel):
        value = arrow_type(get_args(base)[1], labels)
        return pa.struct([(label, value) for label in label_set(labels, found.labels)])
    base = without_none(base)
    if dataclasses.is_dataclass(base):
        return pa.struct([(field.name, arrow_type(hint, labels)) for field, hint in contract_fields(base)])
    if (element := element_type(base)) is not None:
        return pa.list_(arrow_type(element, labels))
    if get_origin(base) is Annotated:
        return arrow_type(base, labels)
    for kind, arrow in ((bool, pa.bool_()), (int, pa.int64()), (float, pa.float64()), (str, pa.string())):
        if isinstance(base, type) and issubclass(base, kind):
            return arrow
    raise TypeError(f"no Arrow type for {annotation!r}")


def rounded(value: Any) -> Any:
    """`value` with every probability in it kept to SCORE_DECIMALS digits."""
    if isinstance(value, float):
        return round(value, SCORE_DECIMALS)
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(item) for item in value]
    return value


@dataclass(frozen=True)
class PredictionColumns:
    """The columns the job adds to each row, derived from the answer's one definition (models/result.py:
    StanceResult) for one model's labels: one column per field, in its order, a per-label field flattened to
    one column per label (`score_<label>`), nested fields (the evidence) as structs (in CSV, as JSON text)."""

    labels: tuple[str, ...]

    @cached_property
    def flattened(self) -> dict[str, tuple[str, ...]]:
        """The per-label fields, each with its columns."""
        flat = {}
        for field, annotation in contract_fields(StanceResult):
            _, found, _ = marker(annotation)
            if isinstance(found, PerLabel) and found.column_prefix:
                labels = label_set(self.labels, found.labels)
                flat[field.name] = tuple(f"{found.column_prefix}_{label}" for label in labels)
        return flat

    @property
    def score_columns(self) -> tuple[str, ...]:
        return self.flattened["scores"]

    @cached_property
    def schema(self) -> pa.Schema:
        columns = []
        for field, annotation in contract_fields(StanceResult):
            if field.name in self.flattened:
                value = arrow_type(get_args(marker(annotation)[0])[1], self.labels)
                columns.extend((name, value) for name in self.flattened[field.name])
            else:
                columns.append((field.name, arrow_type(annotation, self.labels)))
        return pa.schema(columns)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.schema.names)

    def row(self, result: StanceResult) -> dict[str, Any]:
        """One answer as its columns' values, by name."""
        row = {}
        for name, value in rounded(dataclasses.asdict(result)).items():
            if name in self.flattened:
                row.update(zip(self.flattened[name], value.values(), strict=True))
            else:
                row[name] = value
        return row

    def table(self, results: list[StanceResult]) -> pa.Table:
        return pa.Table.from_pylist([self.row(result) for result in results], schema=self.schema)

    def result(self, row: dict[str, Any]) -> StanceResult:
        """An answer back from its columns' values (`row`), as `table` wrote them."""
        flat = {column for columns in self.flattened.values() for column in columns}
        record = {name: row.get(name) for name in self.names if name not in flat}
        for name, columns in self.flattened.items():
            record[name] = dict(zip(self.labels, (row[column] for column in columns), strict=True))
        record[EVIDENCE_COLUMN] = record.get(EVIDENCE_COLUMN) or ()
        return from_record(StanceResult, record)

    def clashes(self, names: Iterable[str]) -> list[str]:
        """Input columns that have the name of a prediction column (they would be overwritten)."""
        names = set(names)
        return [name for name in self.names if name in names]

    def check(self, names: Iterable[str]) -> None:
        """An input column named like a prediction column would be overwritten: stop rather than lose it."""
        if clashes := self.clashes(names):
            raise JobInputError(
                f"input columns {', '.join(clashes)} have the names of prediction columns; rename them first"
            )


def missing_column(source: object, column: str, flag: str, found: Iterable[str], where: str = "") -> JobInputError:
    """The error for an input without the claim or text column: what was found, and the flag that names it."""
    return JobInputError(
        f"{source}: no column {column!r}{where} (found: {', '.join(found)}); name it with --{flag}_column"
    )
