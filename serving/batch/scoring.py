"""Score one chunk of rows: check them, run the shared predictor, add the prediction columns.

The same `ChunkScorer` runs in the local engine's worker processes and in Spark's Python workers,
built there from a `ScorerSpec` (small and picklable), so the model is loaded once per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from models.model_config import ModelLoadError, read_model_info
from models.pair import InputLimits
from models.predictor import StancePredictor
from models.runtime import Runtime, chosen_runtime
from serving.batch.columns import PredictionColumns
from serving.batch.config import BatchConfig
from serving.batch.rows import check_rows, pairs_of
from serving.jobs.rejects import Reject


@dataclass(frozen=True)
class ScorerSpec:
    """Everything a worker process needs to build its scorer."""

    model_dir: str
    model_tag: str
    labels: tuple[str, ...]
    """The model's labels, read where the job starts: they name the score columns."""
    runtime: Runtime
    threads: int
    batch_size: int
    """Pairs per forward pass; 0 for the runtime's default."""
    claim_column: str
    text_column: str
    title_column: str | None
    """Read as the texts' headlines; None: no titles."""
    limits: InputLimits
    keep_claim_text: bool
    tracked: tuple[str, str] | None = None
    """--track: the id and published columns, checked on each row (None: not tracking)."""

    @classmethod
    def of(cls, config: BatchConfig, model_dir: Path, model_tag: str, threads: int) -> ScorerSpec:
        return cls(
            model_dir=str(model_dir),
            model_tag=model_tag,
            labels=read_model_info(model_dir).labels,
            runtime=chosen_runtime(model_dir, config.runtime),
            threads=threads,
            batch_size=config.batch_size,
            claim_column=config.claim_column,
            text_column=config.text_column,
            title_column=config.title_column,
            limits=config.limits,
            keep_claim_text=config.keep_claim_text,
            tracked=(config.id_column, config.published_column) if config.track else None,
        )

    @property
    def columns(self) -> PredictionColumns:
        return PredictionColumns(self.labels)


@dataclass
class ScoredChunk:
    table: pa.Table
    rows: np.ndarray
    """Input row number of each row of `table`."""
    rejects: list[Reject]


class ChunkScorer:
    def __init__(self, spec: ScorerSpec) -> None:
        self.spec = spec
        self.predictor = StancePredictor.from_dir(
            spec.model_dir,
            runtime=spec.runtime,
            num_threads=spec.threads,
            batch_size=spec.batch_size or None,
            max_evidence=spec.limits.max_evidence,
            model_tag=spec.model_tag,
        )
        if self.predictor.labels != spec.labels:
            raise ModelLoadError(f"{spec.model_dir}: labels {self.predictor.labels}, not the job's {spec.labels}")

    def score(self, table: pa.Table, rows: np.ndarray) -> ScoredChunk:
        """The scorable rows of `table` with their predictions, in input order, and the rejected ones."""
        spec, columns = self.spec, self.spec.columns
        columns.check(table.column_names)
        columns_read = (spec.claim_column, spec.text_column, spec.title_column)
        keep, rejects = check_rows(table, rows, columns_read, spec.limits, self.predictor.claim_limit, spec.tracked)
        kept = table.filter(pa.array(keep)) if not keep.all() else table
        answers = columns.table(self.predictor.predict(pairs_of(kept, columns_read)))
        if not spec.keep_claim_text:
            kept = kept.drop_columns([spec.claim_column, spec.text_column])
        for name in answers.column_names:
            kept = kept.append_column(answers.schema.field(name), answers.column(name))
        return ScoredChunk(kept, rows[keep], rejects)
