"""`claimstance track --input IN --output OUT`: the batch job with `--track` on and each row's `title` read, as
`make track` runs it (or `python -m serving.batch.track`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.command import Command, exit_with
from serving.batch.__main__ import COMMAND as SCORE
from serving.batch.config import BatchConfig


@dataclass
class TrackConfig(BatchConfig):
    """The batch job's flags, with tracking's defaults."""

    title_column: str | None = field(
        default="title", metadata={"help": "A column of the documents' headlines (a null or empty title: none)."}
    )
    track: bool = field(
        default=True,
        metadata={"help": "Write one summary per claim to --claim_summaries, with the fields of POST /track's."},
    )


COMMAND = Command(
    "claimstance track",
    "One claim across many documents, from a file: rows of claim, id and text (title, source, url and published if "
    "there), each scored, and each claim's summary (what POST /track answers) in OUT's .claim_summaries.jsonl.",
    "claimstance track --input documents.jsonl --output tracked.jsonl",
    TrackConfig,
    SCORE.run,
    SCORE.describe,
    SCORE.refused,
)
main = COMMAND.main


if __name__ == "__main__":
    exit_with(COMMAND)
