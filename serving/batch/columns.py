"""The batch job's columns: the ones it adds to each row, and the errors about the ones it needs.

One home for these names, so the readers, the scorer, the writers and the Spark engine agree on them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from serving.batch.config import BatchInputError

LABEL_COLUMN = "label"
RELEVANCE_COLUMN = "relevance"
REDUCED_COLUMN = "text_reduced"
MODEL_COLUMN = "model"
EVIDENCE_COLUMN = "evidence"


@dataclass(frozen=True)
class PredictionColumns:
    """The columns the job adds to each row, for one model's labels: the label, one score per label, relevance
    (null for a model without the `unrelated` label), whether the text was reduced, the model's name, and the
    evidence (last, so that the columns of earlier outputs keep their places): a list of sentences, each with
    its offsets into the text, its label and its scores (in CSV, that list as JSON text)."""

    labels: tuple[str, ...]

    @property
    def score_columns(self) -> tuple[str, ...]:
        return tuple(f"score_{label}" for label in self.labels)

    @property
    def names(self) -> tuple[str, ...]:
        return (LABEL_COLUMN, *self.score_columns, RELEVANCE_COLUMN, REDUCED_COLUMN, MODEL_COLUMN, EVIDENCE_COLUMN)

    @property
    def evidence_type(self) -> pa.DataType:
        scores = pa.struct([(label, pa.float64()) for label in self.labels])
        sentence = pa.struct(
            [("text", pa.string()), ("start", pa.int64()), ("end", pa.int64()), ("label", pa.string()),
             ("scores", scores), ("field", pa.string())]
        )  # fmt: skip
        return pa.list_(sentence)

    @property
    def schema(self) -> pa.Schema:
        return pa.schema(
            [(LABEL_COLUMN, pa.string()), *((name, pa.float64()) for name in self.score_columns)]
            + [(RELEVANCE_COLUMN, pa.float64()), (REDUCED_COLUMN, pa.bool_()), (MODEL_COLUMN, pa.string())]
            + [(EVIDENCE_COLUMN, self.evidence_type)]
        )

    def clashes(self, names: Iterable[str]) -> list[str]:
        """Input columns that have the name of a prediction column (they would be overwritten)."""
        names = set(names)
        return [name for name in self.names if name in names]

    def check(self, names: Iterable[str]) -> None:
        """An input column named like a prediction column would be overwritten: stop rather than lose it."""
        if clashes := self.clashes(names):
            raise BatchInputError(
                f"input columns {', '.join(clashes)} have the names of prediction columns; rename them first"
            )


def missing_column(source: object, column: str, flag: str, found: Iterable[str], where: str = "") -> BatchInputError:
    """The error for an input without the claim or text column: what was found, and the flag that names it."""
    return BatchInputError(
        f"{source}: no column {column!r}{where} (found: {', '.join(found)}); name it with --{flag}_column"
    )
