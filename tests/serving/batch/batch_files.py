"""Input files for the batch job tests: ids, a number and a note to pass through, short and long texts; all but the
long ones in the shapes the taught tiny model answers as taught (tests/helpers.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from tests.helpers import TAUGHT_CLAIMS, TAUGHT_TEXTS, taught_text

CLAIMS = TAUGHT_CLAIMS[:3]
LONG_TEXT = "A long report. " * 80 + "Some say {claim}."
"""Far past the window, with many sentences: evidence of more than one sentence. Not taught."""
TEXTS = (*TAUGHT_TEXTS, LONG_TEXT)


def good_rows(count: int) -> list[dict]:
    """Rows with an id, a zero-padded number and a note column to pass through, cycling claims and text shapes."""
    rows = []
    for i in range(count):
        claim = CLAIMS[i % len(CLAIMS)]
        text = taught_text(TEXTS[(i // len(CLAIMS)) % len(TEXTS)], claim)
        rows.append({"id": f"row-{i:05d}", "n": f"{i:03d}", "claim": claim, "text": text, "note": f"note {i}"})
    return rows


def taught_label(row: dict) -> str | None:
    """The label the taught tiny model gives a good row, None for a long one (not taught)."""
    taught = {taught_text(shape, row["claim"]): label for shape, label in TAUGHT_TEXTS.items()}
    return taught.get(row["text"])


def write_rows(rows: list[dict], path: Path) -> Path:
    """`rows` in the format of `path`'s extension (every value text, so all three formats hold the same)."""
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    elif path.suffix == ".csv":
        pa_csv.write_csv(pa.Table.from_pylist(rows), path)
    else:
        pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=7)
    return path


SOURCES = ("Wire", "Daily", None)


def tracked_rows(count: int) -> list[dict]:
    """good_rows with a source (some none) and a publication day (some none) on each: documents to track."""
    rows = good_rows(count)
    for i, row in enumerate(rows):
        row["source"] = SOURCES[i % len(SOURCES)] if i % 5 else None
        row["published"] = f"2015-10-{1 + i % 4:02d}" if i % 7 else None
    return rows
