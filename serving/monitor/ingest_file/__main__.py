"""`python -m serving.monitor.ingest_file --input documents.jsonl` (`make monitor`, `claimstance monitor`)."""

from __future__ import annotations

import sys

from serving.command import run_command
from serving.jobs.options import JobInputError
from serving.monitor.documents import StoredMeanwhile
from serving.monitor.ingest_file.config import MonitorFileConfig
from serving.monitor.ingest_file.job import run


def main(argv: list[str] | None = None) -> int:
    return run_command(
        "claimstance monitor",
        MonitorFileConfig,
        run,
        lambda config, progress: f"{progress.describe()}; rejects in {config.rejects_path}",
        (JobInputError, OSError, ValueError, StoredMeanwhile),
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
