"""One line of `make monitor`'s input: the document it holds, or the reason it holds none (the service's limits).

Both engines read a line through here, the local one in its chunks and Spark's executors in their partitions, so a
line is stored or rejected, and for the same reason, whichever ran it.
"""

from __future__ import annotations

import json

from models.blank_text import is_blank
from models.document_fields import DOCUMENT_FIELDS, OPTIONAL_FIELDS, published_day
from serving.jobs.lines import OverlongLine
from serving.jobs.rejects import Reject
from serving.monitor.documents import IncomingDocument
from serving.settings import SETTINGS

REQUIRED_FIELDS = tuple(name for name in DOCUMENT_FIELDS if name not in OPTIONAL_FIELDS)
BYTES_PER_CHARACTER = 12
"""The longest a character can be written in JSON: an escaped surrogate pair, \\ud83d\\ude00."""


def field_limits() -> dict[str, int]:
    """Each field's limit in characters: the service's (CLAIMSTANCE_MAX_*_CHARS)."""
    return {name: SETTINGS.limit(name) for name in DOCUMENT_FIELDS}


MAX_LINE_BYTES = BYTES_PER_CHARACTER * sum(field_limits().values()) + 4096
"""The longest line a document within the limits can be, every field at its limit and written its longest way,
with room for the field names and other fields: a longer line is rejected by its length, never read whole."""


def line_document(row: int, line: bytes | OverlongLine) -> IncomingDocument | Reject | None:
    """What line `row` holds, as both engines read it: None for a blank line, else its document or why it cannot
    be one (limits as the service's). `line` is the raw line with its break, or its length if it was too long to
    read (readers.bounded_lines)."""
    if isinstance(line, OverlongLine):
        return Reject(row, f"line: {line.length:,} bytes, over the limit of {MAX_LINE_BYTES:,}", None)
    if not line.strip():
        return None
    return document_of(row, line)


def document_of(row: int, line: bytes) -> IncomingDocument | Reject:
    """The line's document, or why it cannot be one."""
    raw = line.decode("utf-8", "replace").rstrip("\r\n")
    try:
        record = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        return Reject(row, f"unparseable JSON: {error}", raw)
    if not isinstance(record, dict):
        return Reject(row, f"expected a JSON object, got {type(record).__name__}", raw)
    reason = field_reason(record)
    if reason:
        return Reject(row, reason, record)
    optional = {name: record.get(name) or None for name in OPTIONAL_FIELDS}  # an empty field is no field
    return IncomingDocument(**{name: record[name] for name in REQUIRED_FIELDS}, **optional)


def field_reason(record: dict) -> str | None:
    """Why the record is not a document, naming the field and the limit (the service's: CLAIMSTANCE_MAX_*); None if
    it is one."""
    limits = field_limits()
    for name in REQUIRED_FIELDS:
        value = record.get(name)
        if value is None:
            return f"{name}: missing"
        if not isinstance(value, str):
            return f"{name}: expected a string, got {type(value).__name__}"
        if is_blank(value):
            return f"{name}: empty"
    for name in OPTIONAL_FIELDS:
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            return f"{name}: expected a string, got {type(value).__name__}"
    for name, limit in limits.items():
        if len(record.get(name) or "") > limit:
            return f"{name}: {len(record[name]):,} characters, over the limit of {limit:,}"
        if "\x00" in (record.get(name) or ""):
            return f"{name}: holds a NUL character (U+0000), which no field may"
    try:
        published_day(record.get("published"))
    except ValueError as error:
        return f"published: {error}"
    return None
