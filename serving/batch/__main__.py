"""`python -m serving.batch --input IN --output OUT [...]` (`--help` lists every flag)."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # parallelism comes from the worker processes

from bentoml.exceptions import NotFound  # noqa: E402

from models.model_config import ModelLoadError  # noqa: E402
from serving.batch.config import BatchConfig
from serving.batch.report import JobReport  # noqa: E402
from serving.command import run_command  # noqa: E402
from serving.jobs.options import Engine, JobInputError


def run(config: BatchConfig) -> JobReport:
    if config.engine is Engine.SPARK:
        from serving.batch.spark import run_spark

        return run_spark(config)
    from serving.batch.local import run_local

    return run_local(config)


def main(argv: list[str] | None = None) -> int:
    return run_command(
        "claimstance batch",
        BatchConfig,
        run,
        lambda _, report: report.describe(),
        (JobInputError, ModelLoadError, NotFound, ValueError, OSError),
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
