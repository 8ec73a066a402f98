"""`python -m serving.batch --input IN --output OUT [...]` (`--help` lists every flag)."""

from __future__ import annotations

import logging
import os
import sys

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # parallelism comes from the worker processes

from bentoml.exceptions import NotFound  # noqa: E402
from transformers import HfArgumentParser  # noqa: E402

from models.model_config import ModelLoadError  # noqa: E402
from serving.batch.config import BatchConfig, BatchInputError, Engine  # noqa: E402
from serving.batch.report import JobReport  # noqa: E402


def run(config: BatchConfig) -> JobReport:
    if config.engine is Engine.SPARK:
        from serving.batch.spark import run_spark

        return run_spark(config)
    from serving.batch.local import run_local

    return run_local(config)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        (config,) = HfArgumentParser(BatchConfig).parse_args_into_dataclasses(argv)
        report = run(config)
    except (BatchInputError, ModelLoadError, NotFound, ValueError, OSError) as error:
        print(f"claimstance batch: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("claimstance batch: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    print(f"claimstance batch: {report.describe()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
