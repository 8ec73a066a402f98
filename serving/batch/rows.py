"""Which rows can be scored, and why the others cannot: the rejects, each with its row number and reason.

A bad row never stops the job and is never skipped silently: it goes to the rejects file. The same
checks run in the local engine and in Spark, so both reject the same rows for the same reasons.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from models.blank_text import is_blank
from models.document_fields import published_day
from models.encoding import ClaimLimit
from models.pair import InputLimits, Pair
from serving.jobs.rejects import Reject


def as_text(value: object) -> str | None:
    """A value where only text can hold it (a column of mixed types, a nested value in CSV): strings as they
    are, anything else as its JSON."""
    return value if value is None or isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)


def wrong_type(column: str, value: object) -> str:
    return f"{column}: expected a string, got {type(value).__name__}"


def reason_for(column: str, value: object, max_chars: int) -> str | None:
    """Why this claim or text value cannot be scored, or None if it can (token limits aside)."""
    if value is None:
        return f"{column}: missing"
    if not isinstance(value, str):
        return wrong_type(column, value)
    if is_blank(value):
        return f"{column}: empty"
    if len(value) > max_chars:
        return f"{column}: {len(value):,} characters, over the limit of {max_chars:,}"
    return None


def title_reason(column: str, value: object, max_chars: int) -> str | None:
    """Why this title cannot be read, or None if it can; a missing or empty title is no title, not an error."""
    if value is None:
        return None
    if not isinstance(value, str):
        return wrong_type(column, value)
    if len(value) > max_chars:
        return f"{column}: {len(value):,} characters, over the limit of {max_chars:,}"
    return None


def tracking_reason(columns: tuple[str, str], document_id: object, published: object) -> str | None:
    """Why a tracked document cannot be summarized, or None: it needs an id (the summary names documents by it),
    and a publication date, where it has one, must name a day."""
    id_column, published_column = columns
    if document_id is None or document_id == "":
        return f"{id_column}: missing (the claim's summary names each document by its id)"
    if isinstance(document_id, bool) or not isinstance(document_id, str | int):
        return f"{id_column}: expected a string or an integer, got {type(document_id).__name__}"
    try:
        published_day(published)
    except ValueError as error:
        return f"{published_column}: {error}"
    return None


def column_values(table: pa.Table, column: str | None) -> list:
    return table.column(column).to_pylist() if column in table.column_names else [None] * len(table)


def pairs_of(table: pa.Table, columns: tuple[str, str, str | None]) -> list[Pair]:
    """Each (checked) row's pair; its title is none where no title column was named, or it is absent, null, or
    blank."""
    claims, texts, titles = (column_values(table, column) for column in columns)
    titles = [value if isinstance(value, str) and value.strip() else None for value in titles]
    return [Pair(*values) for values in zip(claims, texts, titles, strict=True)]


def check_rows(
    table: pa.Table,
    rows: Sequence[int],
    columns: tuple[str, str, str | None],
    limits: InputLimits,
    claim_limit: ClaimLimit,
    tracked: tuple[str, str] | None = None,
) -> tuple[np.ndarray, list[Reject]]:
    """A mask of the scorable rows of `table`, and a Reject for each other row. `columns`: the claim, text and
    title columns (None: no titles); `tracked`: the id and published columns of tracked documents, if tracking."""
    claim_column, text_column, title_column = columns
    claims, texts, titles = (column_values(table, column) for column in columns)
    ids, days = (column_values(table, column) for column in tracked) if tracked else ([None] * len(table),) * 2
    reasons: list[str | None] = []
    for claim, text, title, document_id, published in zip(claims, texts, titles, ids, days, strict=True):
        reasons.append(
            reason_for(claim_column, claim, limits.max_claim_chars)
            or reason_for(text_column, text, limits.max_text_chars)
            or (title_column and title_reason(title_column, title, limits.max_title_chars))
            or (tracked and tracking_reason(tracked, document_id, published))
        )
    unchecked = [i for i, reason in enumerate(reasons) if reason is None]
    for j, error in claim_limit.errors([claims[i] for i in unchecked], claim_column).items():
        reasons[unchecked[j]] = str(error)
    keep = np.array([reason is None for reason in reasons], dtype=bool)
    rejected = [i for i, reason in enumerate(reasons) if reason is not None]
    records = table.take(rejected).to_pylist() if rejected else []
    rejects = [Reject(int(rows[i]), reasons[i], record) for i, record in zip(rejected, records, strict=True)]
    return keep, rejects
