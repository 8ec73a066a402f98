"""The batch job's columns: the ones it adds to each row, and the errors about the ones it needs.

One home for these names, so the readers, the scorer, the writers and the Spark engine agree on them.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from models.labels import LABELS
from serving.batch.config import BatchInputError

LABEL_COLUMN = "label"
SCORE_COLUMNS = tuple(f"score_{label}" for label in LABELS)
REDUCED_COLUMN = "text_reduced"
MODEL_COLUMN = "model"
PREDICTION_COLUMNS = (LABEL_COLUMN, *SCORE_COLUMNS, REDUCED_COLUMN, MODEL_COLUMN)
PREDICTION_SCHEMA = pa.schema(
    [(LABEL_COLUMN, pa.string()), *((name, pa.float64()) for name in SCORE_COLUMNS)]
    + [(REDUCED_COLUMN, pa.bool_()), (MODEL_COLUMN, pa.string())]
)


def prediction_clashes(names: Iterable[str]) -> list[str]:
    """Input columns that have the name of a prediction column (they would be overwritten)."""
    names = set(names)
    return [name for name in PREDICTION_COLUMNS if name in names]


def check_column_names(names: Iterable[str]) -> None:
    """An input column named like a prediction column would be overwritten: stop rather than lose it."""
    if clashes := prediction_clashes(names):
        raise BatchInputError(
            f"input columns {', '.join(clashes)} have the names of prediction columns; rename them first"
        )


def missing_column(source: object, column: str, flag: str, found: Iterable[str], where: str = "") -> BatchInputError:
    """The error for an input without the claim or text column: what was found, and the flag that names it."""
    return BatchInputError(
        f"{source}: no column {column!r}{where} (found: {', '.join(found)}); name it with --{flag}_column"
    )
