"""Input files for the batch job tests: ids, a number and a note to pass through, short and long texts."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

CLAIMS = (
    "A meteorite crashed near the airport",
    "The mayor resigned after the vote",
    "A shark was found in the flooded subway",
)
TEXTS = (
    "Officials denied that {claim}.",
    "Witnesses say {claim}, police confirmed.",
    "Reports claim that {claim}, but nobody has confirmed it.",
    "A long report. " * 80 + "Some say {claim}.",
)


def good_rows(count: int) -> list[dict]:
    """Rows with an id, a zero-padded number and a note column to pass through, cycling claims and text shapes."""
    rows = []
    for i in range(count):
        claim = CLAIMS[i % len(CLAIMS)]
        text = TEXTS[(i // len(CLAIMS)) % len(TEXTS)].format(claim=claim.lower())
        rows.append({"id": f"row-{i:05d}", "n": f"{i:03d}", "claim": claim, "text": text, "note": f"note {i}"})
    return rows


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
