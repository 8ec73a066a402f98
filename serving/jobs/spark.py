"""The Spark side every file job shares: one session for this project's jobs, its code shipped to the executors, and
a Spark failure told in one line."""

from __future__ import annotations

import os
import sys
import warnings
import zipfile
from pathlib import Path

from serving.jobs.options import JobInputError

SLICES_PER_CORE = 4
"""Rows are dealt out to this many slices per core before scoring, whatever the input's layout (a Parquet
file of one row group, a CSV read whole): model time, not bytes, is what must be spread over the cores."""
PACKAGES = ("models", "serving")


def code_archive(folder: Path) -> Path:
    """This project's `models` and `serving` packages as one zip, for the executors' Python path."""
    root = Path(__file__).resolve().parents[2]
    archive = folder / "claimstance_code.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for package in PACKAGES:
            for source in (root / package).rglob("*.py"):
                bundle.write(source, source.relative_to(root))
    return archive


def spark_session(master: str, conf: list[str], batch_rows: int, app: str = "claimstance-batch"):
    """A Spark session for this project's jobs: workers on this Python, Arrow batches of `batch_rows`, the user's
    KEY=VALUE settings (`conf`, checked by config.check_spark_conf) last."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers need this environment's packages
    # PySpark warns about pandas 3 on any Arrow use; this job hands it Arrow batches only, never pandas.
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
    builder = (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch_rows))
        .config("spark.python.worker.reuse", "true")
    )
    for setting in conf:
        key, value = setting.split("=", 1)
        builder = builder.config(key, value)
    return builder.getOrCreate()


def spark_failure(error: Exception) -> JobInputError:
    """A Spark failure as one line (the whole trace stays in Spark's log): what a Python worker raised (the last
    line of its traceback), or what Spark itself says, past py4j's "An error occurred while calling o12.save"."""
    from pyspark.errors import PythonException

    lines = [line.strip().lstrip(": ") for line in str(error).splitlines() if line.strip()]
    if lines and lines[0].startswith("An error occurred while calling"):
        lines = lines[1:]
    if not lines:
        return JobInputError(f"Spark failed: {type(error).__name__}")
    return JobInputError(f"Spark failed: {lines[-1] if isinstance(error, PythonException) else lines[0]}")
