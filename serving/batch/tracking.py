"""`--track`: each claim's summary, the one `POST /track` gives, from the batch job's scored rows.

Summaries are built from the scored rows after every chunk is committed (the local engine reads its parts, Spark
groups its scored rows by claim), so they count each row exactly once however often the job was resumed, and the
file is written whole or not at all. Claims come in the order of their first row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from models.evidence import Evidence, Field
from models.tracking import SummaryBuilder, TrackedDocument, published_day
from serving.batch.columns import EVIDENCE_COLUMN, LABEL_COLUMN, PredictionColumns, missing_column
from serving.batch.config import BatchConfig
from serving.batch.durable import atomic_file


@dataclass(frozen=True)
class TrackColumns:
    """Where a scored row's claim and document fields are; source, url and published may be absent."""

    claim: str
    id: str
    source: str
    url: str
    published: str
    predictions: PredictionColumns

    @classmethod
    def of(cls, config: BatchConfig, predictions: PredictionColumns) -> TrackColumns:
        return cls(config.claim_column, config.id_column, config.source_column, config.url_column,
                   config.published_column, predictions)  # fmt: skip

    def check(self, names: Iterable[str], source: object) -> None:
        """A tracked file needs its documents' ids: the summary names documents by them."""
        if self.id not in set(names):
            raise missing_column(source, self.id, "id", names, " (--track names each document by its id)")

    def read(self) -> list[str]:
        return [self.claim, self.id, self.source, self.url, self.published, LABEL_COLUMN,
                *self.predictions.score_columns, EVIDENCE_COLUMN]  # fmt: skip


def evidence_of(records: list[dict] | None) -> tuple[Evidence, ...]:
    return tuple(Evidence(**{**record, "field": Field(record["field"])}) for record in records or ())


def tracked_rows(table: pa.Table, columns: TrackColumns) -> Iterator[tuple[str, TrackedDocument]]:
    """Each scored row of `table` as its claim and the document the summary reads."""
    present = set(table.column_names)

    def values(name: str) -> list:
        return table.column(name).to_pylist() if name in present else [None] * table.num_rows

    labels = columns.predictions.labels
    scores = zip(*(values(name) for name in columns.predictions.score_columns), strict=True)
    fields = (columns.claim, columns.id, columns.source, columns.url, columns.published, LABEL_COLUMN)
    rows = zip(*(values(name) for name in fields), scores, values(EVIDENCE_COLUMN), strict=True)
    for claim, document_id, source, url, published, label, row_scores, evidence in rows:
        document = TrackedDocument(
            document_id,
            label,
            dict(zip(labels, row_scores, strict=True)),
            evidence_of(evidence),
            None if source is None else str(source),
            None if url is None else str(url),
            published_day(published),
        )
        yield claim, document


def summarize(tables: Iterable[pa.Table], columns: TrackColumns) -> dict[str, SummaryBuilder]:
    """Every claim's summary so far, in the order of its first row."""
    builders: dict[str, SummaryBuilder] = {}
    for table in tables:
        for claim, document in tracked_rows(table, columns):
            if claim not in builders:
                builders[claim] = SummaryBuilder(columns.predictions.labels)
            builders[claim].add(document)
    return builders


def read_parts(parts: Iterable[Path], columns: TrackColumns) -> Iterator[pa.Table]:
    """The committed parts' columns the summary reads, one part at a time."""
    for part in parts:
        present = set(pq.read_schema(part).names)
        yield pq.read_table(part, columns=[name for name in columns.read() if name in present])


def summary_line(claim: str, model: str, builder: SummaryBuilder) -> str:
    """One claim's line of the summary file: the fields of /track's answer less its documents."""
    return json.dumps({"claim": claim, "model": model, "summary": builder.summary().to_dict()}, ensure_ascii=False)


def write_summaries(lines: Iterable[str], destination: Path) -> None:
    """The summary file, whole: a rerun after a kill writes it again from the same committed rows."""
    with atomic_file(destination) as temporary, temporary.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")
