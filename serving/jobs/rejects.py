"""A row a job could not take: its number, why, and what it held. A bad row never stops a job and is never skipped
silently: it goes to the job's rejects file, one JSON line each."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Reject:
    row: int
    """1-based number of the data row in the input (a header line is not counted)."""
    reason: str
    input: object
    """The row as read (its values), or the raw line where it could not be parsed."""

    def to_json(self) -> str:
        return json.dumps(
            {"row": self.row, "reason": self.reason, "input": self.input}, default=str, ensure_ascii=False
        )
