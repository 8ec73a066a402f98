"""A user's own labelled pairs: CSV, JSONL or Parquet with `claim`, `text`, `label` columns.

Every problem is reported with the file, the row (1-based, as a spreadsheet shows data rows) and
the column, because the person fixing it has the file open, not our code.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from datasets import Dataset

from models.labels import normalize_label
from training.data import DataFileError, to_dataset

REQUIRED_COLUMNS = ("claim", "text", "label")
READERS = {
    ".csv": lambda p: pd.read_csv(p, dtype=str, keep_default_na=False),
    ".jsonl": lambda p: pd.read_json(p, lines=True, dtype=False),
    ".json": lambda p: pd.read_json(p, lines=True, dtype=False),
    ".parquet": pd.read_parquet,
}


def read_table(path: Path) -> pd.DataFrame:
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise DataFileError(path, f"unsupported file type {path.suffix!r} (use one of {', '.join(READERS)})")
    try:
        return reader(path)
    except (OSError, ValueError) as error:
        raise DataFileError(path, f"cannot read file: {error}") from error


def load_user_file(path: Path) -> Dataset:
    """Validate and load a user's file; the claim text is the split group unless a `group` column exists."""
    frame = read_table(path)
    for column in REQUIRED_COLUMNS:
        if column not in frame.columns:
            raise DataFileError(path, f"missing column (found: {', '.join(map(str, frame.columns))})", column=column)
    labels = []
    for row, record in enumerate(frame.loc[:, list(REQUIRED_COLUMNS)].itertuples(index=False), start=1):
        for column, value in zip(REQUIRED_COLUMNS, record, strict=True):
            if not isinstance(value, str) or not value.strip():
                raise DataFileError(path, "empty or not a string", row=row, column=column)
        try:
            labels.append(normalize_label(record.label))
        except ValueError as error:
            raise DataFileError(path, str(error), row=row, column="label") from error
    groups = frame["group"].astype(str) if "group" in frame.columns else frame["claim"]
    return to_dataset(
        pd.DataFrame(
            {
                "claim": frame["claim"],
                "text": frame["text"],
                "label": labels,
                "source": path.stem,
                "group": groups,
                "text_group": groups,
            }
        )
    )
