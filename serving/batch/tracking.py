"""`--track`: each claim's summary, the one `POST /track` gives, from the batch job's scored rows.

Summaries are built from the scored rows after every chunk is committed (the local engine reads its parts, Spark
groups its scored rows by claim), so they count each row exactly once however often the job was resumed, and the
file is written whole or not at all. Claims come in the order of their first row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from models.document_fields import DocumentDetails
from models.tracking import SummaryBuilder, TrackedDocument
from serving.batch.columns import PredictionColumns, missing_column
from serving.batch.config import BatchConfig
from serving.jobs.durable import atomic_file


@dataclass(frozen=True)
class TrackColumns:
    """Where a scored row's claim and document details are (models/document_fields.py: DocumentDetails): a column
    per detail, named by the job's flags; all but the id may be absent from the file."""

    claim: str
    details: Mapping[str, str | None]
    """Each detail's column (None: the title, where no --title_column was named)."""
    predictions: PredictionColumns

    @classmethod
    def of(cls, config: BatchConfig, predictions: PredictionColumns) -> TrackColumns:
        return cls(config.claim_column, config.detail_columns, predictions)

    def check(self, names: Iterable[str], source: object) -> None:
        """A tracked file needs its documents' ids: the summary names documents by them."""
        id_column = self.details["id"]
        assert id_column is not None
        if id_column not in set(names):
            raise missing_column(source, id_column, "id", names, " (--track names each document by its id)")

    def read(self) -> list[str]:
        return [self.claim, *(name for name in self.details.values() if name), *self.predictions.names]

    def document(self, row: dict[str, Any]) -> DocumentDetails:
        """What a scored row says about its document beside its text: the id as it is, a date as its day, the
        other details as text."""
        values = {field: row.get(column) if column else None for field, column in self.details.items()}
        details = {field: None if value is None else str(value) for field, value in values.items()}
        return DocumentDetails(**details | {"id": values["id"], "published": published_text(values["published"])})


def published_text(value: object) -> str | None:
    """A publication date as the text the answer echoes: a Parquet date or timestamp as its day (YYYY-MM-DD), a
    string as written (checked when the row was scored)."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return None if value is None else str(value)


def summarize(tables: Iterable[pa.Table], columns: TrackColumns) -> dict[str, SummaryBuilder]:
    """Every claim's summary so far, in the order of its first row."""
    builders: dict[str, SummaryBuilder] = {}
    for table in tables:
        for row in table.to_pylist():
            claim = row[columns.claim]
            if claim not in builders:
                builders[claim] = SummaryBuilder(columns.predictions.labels)
            builder = builders[claim]
            result = columns.predictions.result(row)
            builder.add(TrackedDocument.of(result, columns.document(row), builder.documents))
    return builders


def read_parts(parts: Iterable[Path], columns: TrackColumns) -> Iterator[pa.Table]:
    """The committed parts' columns the summary reads, one part at a time."""
    for part in parts:
        present = set(pq.read_schema(part).names)
        yield pq.read_table(part, columns=[name for name in columns.read() if name in present])


def claim_summary_line(claim: str, model: str, builder: SummaryBuilder) -> str:
    """One claim's line of the summary file: the fields of /track's answer less its documents."""
    return json.dumps({"claim": claim, "model": model, "summary": asdict(builder.summary())}, ensure_ascii=False)


def write_claim_summaries(lines: Iterable[str], destination: Path) -> None:
    """The summary file, whole: a rerun after a kill writes it again from the same committed rows."""
    with atomic_file(destination) as temporary, temporary.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")
