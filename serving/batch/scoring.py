"""Score one chunk of rows: check them, run the shared predictor, add the prediction columns.

The same `ChunkScorer` runs in the local engine's worker processes and in Spark's Python workers,
built there from a `ScorerSpec` (small and picklable), so the model is loaded once per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from models.encoding import claim_token_limit
from models.labels import LABELS
from models.predictor import StancePredictor, softmax
from models.runtime import Runtime, chosen_runtime
from serving.batch.columns import PREDICTION_SCHEMA, check_column_names
from serving.batch.config import BatchConfig
from serving.batch.rows import Reject, RowLimits, check_rows

SCORE_DECIMALS = 6
"""Digits kept in the score columns (labels come from the unrounded scores)."""


@dataclass(frozen=True)
class ScorerSpec:
    """Everything a worker process needs to build its scorer."""

    model_dir: str
    model_tag: str
    runtime: Runtime
    threads: int
    batch_size: int
    """Pairs per forward pass; 0 for the runtime's default."""
    claim_column: str
    text_column: str
    max_claim_chars: int
    max_text_chars: int
    keep_claim_text: bool

    @classmethod
    def of(cls, config: BatchConfig, model_dir: Path, model_tag: str, threads: int) -> ScorerSpec:
        return cls(
            model_dir=str(model_dir),
            model_tag=model_tag,
            runtime=chosen_runtime(model_dir, config.runtime),
            threads=threads,
            batch_size=config.batch_size,
            claim_column=config.claim_column,
            text_column=config.text_column,
            max_claim_chars=config.max_claim_chars,
            max_text_chars=config.max_text_chars,
            keep_claim_text=config.keep_claim_text,
        )


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
            spec.model_dir, runtime=spec.runtime, num_threads=spec.threads, batch_size=spec.batch_size or None
        )
        self.limits = RowLimits(
            spec.max_claim_chars,
            spec.max_text_chars,
            claim_token_limit(self.predictor.tokenizer, self.predictor.max_length),
        )

    def score(self, table: pa.Table, rows: np.ndarray) -> ScoredChunk:
        """The scorable rows of `table` with their predictions, in input order, and the rejected ones."""
        spec = self.spec
        check_column_names(table.column_names)
        keep, rejects = check_rows(
            table, rows, spec.claim_column, spec.text_column, self.limits, self.predictor.tokenizer
        )
        kept = table.filter(pa.array(keep)) if not keep.all() else table
        claims = kept.column(spec.claim_column).to_pylist()
        texts = kept.column(spec.text_column).to_pylist()
        if claims:
            logits, reduced = self.predictor.logits(claims, texts)
            probabilities = softmax(logits.astype(np.float64), self.predictor.temperature)
        else:
            probabilities, reduced = np.zeros((0, len(LABELS))), []
        if not spec.keep_claim_text:
            kept = kept.drop_columns([spec.claim_column, spec.text_column])
        predictions = [
            pa.array([LABELS[i] for i in probabilities.argmax(axis=1)], pa.string()),
            *(pa.array(probabilities[:, i].round(SCORE_DECIMALS)) for i in range(len(LABELS))),
            pa.array(reduced, pa.bool_()),
            pa.array([spec.model_tag] * len(claims), pa.string()),
        ]
        for column, values in zip(PREDICTION_SCHEMA, predictions, strict=True):
            kept = kept.append_column(column, values)
        return ScoredChunk(kept, rows[keep], rejects)
