"""`claimstance score --input IN --output OUT [...]` (or `python -m serving.batch`; `--help` lists every flag)."""

from __future__ import annotations

import os

from bentoml.exceptions import NotFound

from models.command import Command, exit_with
from models.model_config import ModelLoadError
from serving.batch.config import BatchConfig
from serving.batch.report import JobReport
from serving.jobs.options import Engine, JobInputError


def run(config: BatchConfig) -> JobReport:
    # Parallelism comes from the job's worker processes: the tokenizer's own threads would only compete with them.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if config.engine is Engine.SPARK:
        from serving.batch.spark import run_spark

        return run_spark(config)
    from serving.batch.local import run_local

    return run_local(config)


COMMAND = Command(
    "claimstance score",
    "Score a file of (claim, text) rows with the stance model, locally or on Spark: every row answered once, or "
    "rejected with its reason; a killed job resumes where it stopped. --track adds each claim's summary.",
    "claimstance score --input pairs.jsonl --output scored.parquet",
    BatchConfig,
    run,
    lambda _, report: report.describe(),
    (JobInputError, ModelLoadError, NotFound, ValueError, OSError),
)
main = COMMAND.main


if __name__ == "__main__":
    exit_with(COMMAND)
