"""The final output: the committed chunk parts joined into one JSONL, CSV or Parquet file, atomically.

Parts are read one at a time, so joining takes the memory of one chunk whatever the file's size. The
file is written under a unique temporary name beside the destination, flushed to disk and renamed over
it once complete, and the rename flushed with its folder (durable.atomic_file): a reader never sees half
a file, and a power cut never loses a file the job reported written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from serving.batch.columns import PredictionColumns
from serving.batch.config import FileFormat
from serving.batch.rows import as_text
from serving.jobs.durable import atomic_file

FORMULA_START = r"^([=+\-@\t\r])"
"""A text cell a spreadsheet would run as a formula: one whose first character is =, +, -, @, a tab or a carriage
return (OWASP's rule against CSV injection; the tracker page's CSV export, serving/tracker/tracker.js, applies the
same one)."""
FORMULA_GUARD = "'"
"""Put before such a cell: spreadsheets then show it as the text it is, and run nothing."""


def formula_guarded(table: pa.Table) -> pa.Table:
    """`table` with each text cell that a spreadsheet would run as a formula prefixed with a single quote. For CSV
    output only, where a spreadsheet may open the file; only text columns (a negative number stays a number, and
    JSON text of nested values starts with [ or {). The one rule of both engines' CSV writers."""
    for position, column in enumerate(table.schema):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            guarded = pc.replace_substring_regex(
                table.column(position), pattern=FORMULA_START, replacement=FORMULA_GUARD + r"\1", max_replacements=1
            )
            table = table.set_column(position, column, guarded)
    return table


def predictions_last(schema: pa.Schema, predictions: PredictionColumns) -> pa.Schema:
    """The input's columns first, in the order they appeared, then the prediction columns: a field first seen
    in a later chunk of a JSONL file still comes before them."""
    inputs = [field for field in schema if field.name not in predictions.names]
    return pa.schema(inputs + [schema.field(name) for name in predictions.names if name in schema.names])


def unified_schema(parts: Sequence[Path], predictions: PredictionColumns) -> pa.Schema:
    """One schema for all parts: a column null in early chunks takes its type from later ones (an int column
    meeting floats becomes float), and one whose types cannot merge (a number here, an object there) is text."""
    schemas = [pq.read_schema(part) for part in parts]
    try:
        return predictions_last(pa.unify_schemas(schemas, promote_options="permissive"), predictions)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    fields: dict[str, pa.Field] = {}
    for schema in schemas:
        for field in schema:
            if field.name not in fields:
                fields[field.name] = field
            else:
                try:
                    fields[field.name] = pa.unify_schemas(
                        [pa.schema([fields[field.name]]), pa.schema([field])], promote_options="permissive"
                    ).field(0)
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    fields[field.name] = pa.field(field.name, pa.string())
    return predictions_last(pa.schema(list(fields.values())), predictions)


def aligned(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` with the columns of `schema`, in its order and types; columns it lacks are null."""
    columns = []
    for field in schema:
        if field.name not in table.column_names:
            columns.append(pa.nulls(len(table), field.type))
            continue
        column = table.column(field.name)
        try:
            columns.append(column.cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            columns.append(pa.array([as_text(value) for value in column.to_pylist()], pa.string()))
    return pa.Table.from_arrays(columns, schema=schema)


def flat_schema(schema: pa.Schema) -> pa.Schema:
    """CSV holds only flat values: categories as their values, nested columns (lists, objects) as JSON text."""
    fields = []
    for field in schema:
        kind = field.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        fields.append(pa.field(field.name, pa.string() if pa.types.is_nested(kind) else kind))
    return pa.schema(fields)


def write_jsonl(parts: Sequence[Path], destination: Path, predictions: PredictionColumns) -> None:
    with destination.open("w", encoding="utf-8") as handle:
        for part in parts:
            for row in pq.read_table(part).to_pylist():
                handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def write_csv(parts: Sequence[Path], destination: Path, predictions: PredictionColumns) -> None:
    """RFC 4180 CSV of flat values (flat_schema). A text cell that begins with =, +, -, @, a tab or a carriage
    return is written with a single quote before it (formula_guarded), so that a spreadsheet opening the file shows
    it rather than runs it as a formula: such a cell reads back with that quote, a price of "-5" as "'-5"."""
    schema = flat_schema(unified_schema(parts, predictions))
    with pa_csv.CSVWriter(destination, schema) as writer:
        for part in parts:
            writer.write_table(formula_guarded(aligned(pq.read_table(part), schema)))


def write_parquet(parts: Sequence[Path], destination: Path, predictions: PredictionColumns) -> None:
    schema = unified_schema(parts, predictions)
    with pq.ParquetWriter(destination, schema) as writer:
        for part in parts:
            writer.write_table(aligned(pq.read_table(part), schema))


WRITERS: dict[FileFormat, Callable[[Sequence[Path], Path, PredictionColumns], None]] = {
    FileFormat.JSONL: write_jsonl,
    FileFormat.CSV: write_csv,
    FileFormat.PARQUET: write_parquet,
}


def join_parts(parts: Sequence[Path], fmt: FileFormat, destination: Path, predictions: PredictionColumns) -> None:
    with atomic_file(destination) as temporary:
        WRITERS[fmt](parts, temporary, predictions)


def join_text_parts(parts: Sequence[Path], destination: Path) -> None:
    with atomic_file(destination) as temporary, temporary.open("wb") as out:
        for part in parts:
            out.write(part.read_bytes())
