"""Score one chunk of rows: check them, run the shared predictor, add the prediction columns.

The same `ChunkScorer` runs in the local engine's worker processes and in Spark's Python workers,
built there from a `ScorerSpec` (small and picklable), so the model is loaded once per process.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from models.evidence import Evidence
from models.model_config import ModelLoadError, read_model_settings
from models.predictor import StancePredictor
from models.runtime import Runtime, chosen_runtime
from serving.batch.columns import PredictionColumns
from serving.batch.config import BatchConfig
from serving.batch.rows import Reject, RowLimits, check_rows, titles_of

SCORE_DECIMALS = 6
"""Digits kept in the score columns (labels come from the unrounded scores)."""


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
    max_claim_chars: int
    max_text_chars: int
    max_title_chars: int
    max_evidence: int
    keep_claim_text: bool
    tracked: tuple[str, str] | None = None
    """--track: the id and published columns, checked on each row (None: not tracking)."""

    @classmethod
    def of(cls, config: BatchConfig, model_dir: Path, model_tag: str, threads: int) -> ScorerSpec:
        return cls(
            model_dir=str(model_dir),
            model_tag=model_tag,
            labels=read_model_settings(model_dir).labels,
            runtime=chosen_runtime(model_dir, config.runtime),
            threads=threads,
            batch_size=config.batch_size,
            claim_column=config.claim_column,
            text_column=config.text_column,
            title_column=config.title_column,
            max_claim_chars=config.max_claim_chars,
            max_text_chars=config.max_text_chars,
            max_title_chars=config.max_title_chars,
            max_evidence=config.max_evidence,
            keep_claim_text=config.keep_claim_text,
            tracked=(config.id_column, config.published_column) if config.track else None,
        )

    @property
    def columns(self) -> PredictionColumns:
        return PredictionColumns(self.labels)


def evidence_record(evidence: Evidence) -> dict[str, object]:
    """One evidence sentence as a struct of the `evidence` column, its scores rounded as the score columns are."""
    scores = {label: round(p, SCORE_DECIMALS) for label, p in evidence.scores.items()}
    return asdict(evidence) | {"scores": scores, "field": str(evidence.field)}


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
            max_evidence=spec.max_evidence,
        )
        if self.predictor.labels != spec.labels:
            raise ModelLoadError(f"{spec.model_dir}: labels {self.predictor.labels}, not the job's {spec.labels}")
        self.limits = RowLimits(spec.max_claim_chars, spec.max_text_chars, spec.max_title_chars)

    def score(self, table: pa.Table, rows: np.ndarray) -> ScoredChunk:
        """The scorable rows of `table` with their predictions, in input order, and the rejected ones."""
        spec, columns = self.spec, self.spec.columns
        columns.check(table.column_names)
        columns_read = (spec.claim_column, spec.text_column, spec.title_column)
        keep, rejects = check_rows(table, rows, columns_read, self.limits, self.predictor.claim_limit, spec.tracked)
        kept = table.filter(pa.array(keep)) if not keep.all() else table
        claims = kept.column(spec.claim_column).to_pylist()
        texts = kept.column(spec.text_column).to_pylist()
        scored = self.predictor.score(claims, texts, titles_of(kept, spec.title_column))
        if not spec.keep_claim_text:
            kept = kept.drop_columns([spec.claim_column, spec.text_column])
        relevance = scored.relevance
        predictions = [
            pa.array(scored.predicted_labels, pa.string()),
            *(pa.array(scored.probabilities[:, i].round(SCORE_DECIMALS)) for i in range(len(spec.labels))),
            pa.nulls(len(claims), pa.float64()) if relevance is None else pa.array(relevance.round(SCORE_DECIMALS)),
            pa.array(scored.text_reduced, pa.bool_()),
            pa.array([spec.model_tag] * len(claims), pa.string()),
            pa.array([[evidence_record(e) for e in evidence] for evidence in scored.evidence or ()],
                     columns.evidence_type),
        ]  # fmt: skip
        for column, values in zip(columns.schema, predictions, strict=True):
            kept = kept.append_column(column, values)
        return ScoredChunk(kept, rows[keep], rejects)
