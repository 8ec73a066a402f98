"""`claimstance monitor --input documents.jsonl` (or `python -m serving.monitor.ingest_file`)."""

from __future__ import annotations

from models.command import Command, exit_with
from serving.jobs.options import JobInputError
from serving.monitor.documents import StoredMeanwhile
from serving.monitor.ingest_file.config import MonitorFileConfig
from serving.monitor.ingest_file.job import run

COMMAND = Command(
    "claimstance monitor",
    "Check a file of documents against every watched claim of the claim monitor and store them with their answers, "
    "exactly once: a killed job resumes where it stopped.",
    "claimstance monitor --input documents.jsonl",
    MonitorFileConfig,
    run,
    lambda config, progress: f"{progress.describe()}; rejects in {config.rejects_path}",
    (JobInputError, OSError, ValueError, StoredMeanwhile),
)
main = COMMAND.main


if __name__ == "__main__":
    exit_with(COMMAND)
