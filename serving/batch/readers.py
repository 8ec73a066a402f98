"""Streaming readers: a JSONL, CSV or Parquet file as chunks of a fixed number of rows.

Chunk k always holds data rows k*chunk_rows+1 ... (k+1)*chunk_rows, whatever happened before, so a
resumed run can start at any chunk and cut the file exactly as the first run did. A file that
cannot be read at all, or whose header lacks the claim or text column, stops the job at once
(JobInputError); a single bad row becomes a Reject and the job goes on.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from serving.batch.columns import PredictionColumns, missing_column
from serving.batch.config import FileFormat
from serving.batch.rows import as_text, wrong_type
from serving.jobs.lines import count_lines
from serving.jobs.options import JobInputError
from serving.jobs.rejects import Reject

HEADER_SAMPLE_LINES = 1000
"""JSONL has no header: the first lines stand for it when checking that the claim and text fields exist."""

NOT_UTF8 = re.compile("[\udc80-\udcff]")
"""What `errors="surrogateescape"` leaves where a byte was not UTF-8."""

SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
"""A JSON escape of half a UTF-16 pair: valid JSON, but alone it is no character and cannot be written out."""

CSV_FIELD_LIMIT = 64 * 1024 * 1024
"""Python's csv module refuses fields over 128 KiB by default; whole articles can be longer."""


@dataclass
class RawChunk:
    index: int
    first_row: int
    rows_read: int
    table: pa.Table
    """The rows that could be parsed, with every column of the input."""
    rows: np.ndarray
    """Input row number of each row of `table`."""
    rejects: list[Reject] = field(default_factory=list)
    """Rows that could not be parsed at all."""


class InputReader(Protocol):
    column_names: list[str]
    """The header (CSV, Parquet), or the fields of the first lines (JSONL), the claim and text columns among them."""

    def total_rows(self) -> int | None:
        """Rows in the file, for the progress bar's ETA (JSONL, CSV: its lines, counted in one fast pass over the
        bytes; a CSV field holding line breaks makes that an overestimate)."""

    def chunks(self, start: int = 0) -> Iterator[RawChunk]:
        """Chunks from chunk number `start` on."""


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def with_one_chunk(chunks: Iterator, start: int, empty: object = ()) -> Iterator:
    """The chunks, or one `empty` chunk for a file with a header and no rows: the output then still
    gets its header (CSV) or schema (Parquet)."""
    first = next(chunks, None)
    if first is None:
        if start == 0:
            yield empty
        return
    yield first
    yield from chunks


def records_to_table(records: list[dict], header: list[str]) -> pa.Table:
    """The `header` columns first, in its order, then any other field in order of first appearance; a field
    missing from a record is null there. Every chunk so has the header's columns in the header's order.

    A pass-through column whose values Arrow cannot hold in one type (an id that is a number in one
    row and a string in another) is kept as text (numbers and objects as their JSON) rather than lost.
    """
    names = list(dict.fromkeys([*header, *(name for record in records for name in record)]))
    columns = {}
    for name in names:
        values = [record.get(name) for record in records]
        try:
            column = pa.array(values)
            if pa.types.is_struct(column.type) and column.type.num_fields == 0:
                raise pa.ArrowInvalid("Parquet cannot hold an object without fields")
        except (pa.ArrowException, OverflowError):
            column = pa.array([as_text(value) for value in values], pa.string())
        columns[name] = column
    return pa.table(columns)


def open_failure(path: Path, error: Exception) -> JobInputError:
    return JobInputError(f"{path}: cannot read the file: {error}")


def writable_text(value: str) -> str:
    """Text as it can be written to the rejects file: bytes that were not UTF-8 become U+FFFD."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def writes_as_utf8(record: dict) -> bool:
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class JsonlReader:
    def __init__(
        self,
        path: Path,
        claim_column: str,
        text_column: str,
        chunk_rows: int,
        predictions: PredictionColumns,
        title_column: str | None = None,
    ) -> None:
        self.path, self.claim_column, self.text_column, self.chunk_rows = path, claim_column, text_column, chunk_rows
        self.title_column = title_column
        """Type-checked per line like claim and text: a chunk mixing types would turn a number into text."""
        self.predictions = predictions
        """The columns the job adds: a field of one of their names in a late line rejects that line."""
        self.check_header()

    def check_header(self) -> None:
        """Stop at once where the first lines hold no JSON object, or none with the claim and text fields.

        An empty file (or one of blank lines) is no error: its output is empty, as for a CSV with only a header.
        """
        try:
            with self.path.open("rb") as handle:
                sample = [line for line in islice(handle, HEADER_SAMPLE_LINES) if line.strip()]
        except OSError as error:
            raise open_failure(self.path, error) from error
        if not sample:
            self.column_names = [self.claim_column, self.text_column]
            return
        objects = [record for record, _ in map(self.decode, sample) if record is not None]
        if not objects:
            raise JobInputError(f"{self.path}: no JSON object in the first {len(sample)} lines; is it JSONL?")
        found = list(dict.fromkeys(name for record in objects for name in record))
        self.column_names = found
        for column, flag in ((self.claim_column, "claim"), (self.text_column, "text")):
            if column not in found:
                raise missing_column(self.path, column, flag, found, where=f" in the first {len(sample)} lines")

    @staticmethod
    def decode(line: bytes) -> tuple[dict | None, str | None]:
        """The line's JSON object, or None and why there is none."""
        if not line.strip():
            return None, "blank line"
        try:
            record = json.loads(line)
        except UnicodeDecodeError:
            return None, "unparseable: not UTF-8 text"
        except json.JSONDecodeError as error:
            return None, f"unparseable JSON: {error.msg} at column {error.colno}"
        except RecursionError:
            return None, "unparseable JSON: nested too deeply"
        if not isinstance(record, dict):
            return None, f"unparseable: expected a JSON object, got {type(record).__name__}"
        if SURROGATE_ESCAPE.search(line) and not writes_as_utf8(record):
            return None, "unparseable: a \\u escape of half a character (a lone surrogate)"
        return record, None

    def parse(self, line: bytes) -> tuple[dict | None, str | None]:
        """The line's object, or None and why it cannot be scored.

        A field named like a prediction column, first seen after the lines the header check read, would be
        overwritten: that row is rejected, not the job stopped after it has begun.
        """
        record, reason = self.decode(line)
        if record is None:
            return None, reason
        if clashes := self.predictions.clashes(record):
            return None, f"field {clashes[0]!r} has the name of a prediction column"
        for column in (self.claim_column, self.text_column, self.title_column):
            value = record.get(column) if column else None
            if value is not None and not isinstance(value, str):
                return None, wrong_type(column, value)
        return record, None

    def total_rows(self) -> int:
        return count_lines(self.path)

    def chunks(self, start: int = 0) -> Iterator[RawChunk]:
        with self.path.open("rb") as handle:
            lines = islice(handle, start * self.chunk_rows, None)
            for index, batch in enumerate(with_one_chunk(batched(lines, self.chunk_rows), start), start=start):
                first_row = index * self.chunk_rows + 1
                records, rows, rejects = [], [], []
                for row, line in enumerate(batch, start=first_row):
                    record, reason = self.parse(line)
                    if record is None:
                        rejects.append(Reject(row, reason, line.decode("utf-8", "replace").rstrip("\r\n")))
                    else:
                        records.append(record)
                        rows.append(row)
                yield RawChunk(
                    index,
                    first_row,
                    len(batch),
                    records_to_table(records, self.column_names),
                    np.array(rows, dtype=np.int64),
                    rejects,
                )


class CsvReader:
    """Every value is read as text, so ids such as "007" pass through unchanged."""

    def __init__(self, path: Path, claim_column: str, text_column: str, chunk_rows: int) -> None:
        self.path, self.chunk_rows = path, chunk_rows
        csv.field_size_limit(CSV_FIELD_LIMIT)
        with self.open() as handle:
            self.header = self.read_header(handle)
        self.column_names = self.header
        for column, flag in ((claim_column, "claim"), (text_column, "text")):
            if column not in self.header:
                raise missing_column(path, column, flag, self.header)

    def open(self):
        """UTF-8, with or without the BOM spreadsheets write; a byte that is not UTF-8 spoils its row only."""
        try:
            return self.path.open(newline="", encoding="utf-8-sig", errors="surrogateescape")
        except OSError as error:
            raise open_failure(self.path, error) from error

    def read_header(self, handle) -> list[str]:
        try:
            header = next(csv.reader(handle), None)
        except csv.Error as error:
            raise JobInputError(f"{self.path}: cannot read the CSV header: {error}") from error
        if header and any(NOT_UTF8.search(name) for name in header):
            raise JobInputError(f"{self.path}: the CSV header is not UTF-8 text")
        if not header:
            raise JobInputError(f"{self.path}: empty file, no CSV header")
        duplicates = sorted({name for name in header if header.count(name) > 1})
        if duplicates:
            raise JobInputError(f"{self.path}: duplicate column names in the header: {', '.join(duplicates)}")
        return header

    def total_rows(self) -> int:
        return max(0, count_lines(self.path) - 1)

    def records(self, handle) -> Iterator[tuple[list[str] | None, str | None]]:
        """Each data record as its fields and None, or as what was read of it and why it cannot be used."""
        reader = csv.reader(handle)
        next(reader)
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield None, f"unparseable CSV: {error}"
                continue
            if any(NOT_UTF8.search(value) for value in record):
                yield [writable_text(value) for value in record], "unparseable: not UTF-8 text"
            elif len(record) != len(self.header):
                yield record, f"unparseable CSV: {len(record)} fields where the header has {len(self.header)}"
            else:
                yield record, None

    def chunks(self, start: int = 0) -> Iterator[RawChunk]:
        with self.open() as handle:
            records = islice(self.records(handle), start * self.chunk_rows, None)
            for index, batch in enumerate(with_one_chunk(batched(records, self.chunk_rows), start), start=start):
                first_row = index * self.chunk_rows + 1
                good, rows, rejects = [], [], []
                for row, (record, reason) in enumerate(batch, start=first_row):
                    if reason is not None:
                        rejects.append(Reject(row, reason, record))
                    else:
                        good.append(record)
                        rows.append(row)
                columns = list(zip(*good, strict=True)) if good else [() for _ in self.header]
                table = pa.table(
                    {name: pa.array(values, pa.string()) for name, values in zip(self.header, columns, strict=True)}
                )
                yield RawChunk(index, first_row, len(batch), table, np.array(rows, dtype=np.int64), rejects)


class ParquetReader:
    def __init__(self, path: Path, claim_column: str, text_column: str, chunk_rows: int) -> None:
        self.path, self.chunk_rows = path, chunk_rows
        try:
            self.file = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as error:
            raise JobInputError(f"{path}: cannot read it as Parquet: {error}") from error
        schema = self.file.schema_arrow
        for column, flag in ((claim_column, "claim"), (text_column, "text")):
            if column not in schema.names:
                raise missing_column(path, column, flag, schema.names)
            kind = schema.field(column).type
            if pa.types.is_dictionary(kind):
                kind = kind.value_type
            if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)):
                raise JobInputError(f"{path}: column {column!r} holds {kind}, not strings")
        self.text_columns = (claim_column, text_column)
        self.column_names = schema.names

    def total_rows(self) -> int:
        return self.file.metadata.num_rows

    def batches_from(self, first_row: int) -> Iterator[pa.RecordBatch]:
        """Record batches from 0-based row `first_row` on, decoding only the row groups from the one that holds it
        (a resumed run does not read again what it has scored)."""
        metadata = self.file.metadata
        group_start = 0
        for group in range(metadata.num_row_groups):
            rows = metadata.row_group(group).num_rows
            if group_start + rows > first_row:
                break
            group_start += rows
        else:
            return
        skip = first_row - group_start
        for batch in self.file.iter_batches(self.chunk_rows, row_groups=range(group, metadata.num_row_groups)):
            if skip >= batch.num_rows:
                skip -= batch.num_rows
                continue
            yield batch.slice(skip)
            skip = 0

    def exact_batches(self, start: int) -> Iterator[pa.Table]:
        """Chunks from chunk `start` on. Parquet hands out batches cut at row-group ends; these are exactly
        chunk_rows long (the last aside)."""
        pending: list[pa.RecordBatch] = []
        held = 0
        for batch in self.batches_from(start * self.chunk_rows):
            pending.append(batch)
            held += batch.num_rows
            while held >= self.chunk_rows:
                table = pa.Table.from_batches(pending)
                yield table.slice(0, self.chunk_rows)
                rest = table.slice(self.chunk_rows)
                pending, held = rest.to_batches(), rest.num_rows
        if held:
            yield pa.Table.from_batches(pending, schema=self.file.schema_arrow)

    def chunks(self, start: int = 0) -> Iterator[RawChunk]:
        tables = with_one_chunk(self.exact_batches(start), start, self.file.schema_arrow.empty_table())
        for index, table in enumerate(tables, start=start):
            for column in self.text_columns:
                position = table.schema.get_field_index(column)
                table = table.set_column(position, column, table.column(column).cast(pa.string()))
            first_row = index * self.chunk_rows + 1
            rows = np.arange(first_row, first_row + table.num_rows, dtype=np.int64)
            yield RawChunk(index, first_row, table.num_rows, table, rows)


def open_reader(
    path: Path,
    fmt: FileFormat,
    claim_column: str,
    text_column: str,
    chunk_rows: int,
    predictions: PredictionColumns,
    title_column: str | None = None,
) -> InputReader:
    """A reader of the file; `predictions` are the columns the job will add (only JSONL, whose fields may first
    appear in any line, checks them per row; the others have a header, which the engine checks once)."""
    if not path.is_file():
        raise JobInputError(f"{path}: no such file")
    if fmt is FileFormat.JSONL:
        return JsonlReader(path, claim_column, text_column, chunk_rows, predictions, title_column)
    readers = {FileFormat.CSV: CsvReader, FileFormat.PARQUET: ParquetReader}
    return readers[fmt](path, claim_column, text_column, chunk_rows)
