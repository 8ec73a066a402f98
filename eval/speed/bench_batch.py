"""The batch job's benchmark: `python -m eval.speed.bench_batch` (`make bench-batch`).

Each phase runs the real command in a process of its own, timed from launch to exit (model loading,
and for Spark the JVM, included), while a sampler adds up the resident memory of the whole process
tree (workers, JVM and Spark's Python workers included) and keeps its peak:
- short pairs: the Emergent test pairs cycled to `short_rows` rows;
- long pairs: FNC-1 (headline, article body) pairs, `long_rows` of them;
- the local engine and Spark's local mode on both, the local engine again on `memory_rows` short
  rows (peak memory against file size), and the naive loop (one `transformers` pipeline call per
  row) on the first `naive_rows` short rows.
Writes reports/batch/{bench_batch.md,bench_batch.json}.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from eval.speed.machine import this_machine
from models.command import Command, exit_with, first_paragraph
from models.defaults import MODEL_NAME
from models.pair import DEFAULT_LIMITS
from models.registry import locate
from training.config import data_dir_field
from training.data import FNC1_FILES, read_emergent, read_fnc_format

log = logging.getLogger("claimstance.bench_batch")

ROW_GROUP_ROWS = 5_000
"""Row groups small enough that Spark splits a file of short pairs across its cores."""


@dataclass
class BenchBatchConfig:
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Model-store tag or saved model folder."})
    data_dir: str = data_dir_field()
    short_rows: int = field(default=100_000, metadata={"help": "Rows of the file of headlines."})
    long_rows: int = field(default=10_000, metadata={"help": "Rows of the file of article bodies."})
    naive_rows: int = field(default=100_000, metadata={"help": "Short rows through the naive loop (0: skip)."})
    memory_rows: list[int] = field(
        default_factory=lambda: [1_000_000],
        metadata={"help": "More local runs on this many short rows: peak memory against the file's size."},
    )
    engines: list[str] = field(default_factory=lambda: ["local", "spark"], metadata={"help": "Engines to time."})
    max_evidence: int = field(
        default=DEFAULT_LIMITS.max_evidence,
        metadata={"help": "The batch job's --max_evidence: sentences of a long text read."},
    )
    output_dir: str = field(default="reports/batch", metadata={"help": "Where the report goes (.md and .json)."})


@dataclass
class Phase:
    name: str
    engine: str
    pairs: str
    rows: int
    seconds: float
    peak_rss_mb: float

    @property
    def pairs_per_second(self) -> float:
        return self.rows / self.seconds


def cycled(frame: pd.DataFrame, rows: int) -> pd.DataFrame:
    repeats = -(-rows // len(frame))
    return pd.concat([frame] * repeats, ignore_index=True).head(rows)


def write_pairs(frame: pd.DataFrame, path: Path) -> Path:
    table = pa.table({"id": [f"{path.stem}-{i}" for i in range(len(frame))], "claim": frame.claim, "text": frame.text})
    pq.write_table(table, path, row_group_size=ROW_GROUP_ROWS)
    return path


def tree_rss(process: psutil.Process) -> int:
    """Resident bytes of the process and its descendants; 0 once it has exited."""
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_measured(command: list[str]) -> tuple[float, float]:
    """Wall seconds from launch to exit, and peak resident MB of the process and all its descendants."""
    started = time.perf_counter()
    job = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    process = psutil.Process(job.pid)  # here, before communicate() reaps it: a short job may end before a thread asks
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_rss(process))
            stop.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, errors = job.communicate()
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    if job.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{errors[-3000:]}")
    return seconds, peak / 2**20


def batch_command(model: str, source: Path, output: Path, engine: str, max_evidence: int) -> list[str]:
    return [sys.executable, "-m", "serving.batch", "--input", str(source), "--output", str(output), "--model", model,
            "--engine", engine, "--progress", "false", "--overwrite", "--max_evidence", str(max_evidence)]  # fmt: skip


def run(config: BenchBatchConfig) -> list[Phase]:
    model_dir, tag = locate(config.model)
    data_dir = Path(config.data_dir)
    _, emergent_test = read_emergent(data_dir)
    fnc = read_fnc_format(data_dir, FNC1_FILES, "fnc1")
    phases: list[Phase] = []
    with tempfile.TemporaryDirectory(prefix="claimstance-bench-batch-") as scratch:
        work = Path(scratch)
        short = write_pairs(cycled(emergent_test, config.short_rows), work / "short.parquet")
        long = write_pairs(cycled(fnc, config.long_rows), work / "long.parquet")
        runs = [(engine, "short", short, config.short_rows) for engine in config.engines]
        runs += [(engine, "long", long, config.long_rows) for engine in config.engines]
        for rows in config.memory_rows:
            runs.append(
                ("local", "short", write_pairs(cycled(emergent_test, rows), work / f"short{rows}.parquet"), rows)
            )
        for engine, pairs, source, rows in runs:
            log.info("%s engine, %d %s pairs ...", engine, rows, pairs)
            output = work / f"out-{engine}-{rows}.parquet"
            seconds, peak = run_measured(batch_command(tag, source, output, engine, config.max_evidence))
            phases.append(Phase(f"claimstance batch, {engine}", engine, pairs, rows, seconds, peak))
            log.info("%s: %.1f pairs/s, peak %.0f MB", phases[-1].name, phases[-1].pairs_per_second, peak)
        if config.naive_rows:
            log.info("naive loop, %d short pairs ...", config.naive_rows)
            naive = [sys.executable, "-m", "eval.speed.naive_pipeline", "--model", str(model_dir),
                     "--input", str(short), "--output", str(work / "naive.jsonl"),
                     "--rows", str(config.naive_rows)]  # fmt: skip
            seconds, peak = run_measured(naive)
            phases.append(Phase("naive transformers pipeline, one call per row", "naive", "short", config.naive_rows,
                                seconds, peak))  # fmt: skip
    write_report(phases, tag, config)
    return phases


def write_report(phases: list[Phase], tag: str, config: BenchBatchConfig) -> None:
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = [asdict(phase) | {"pairs_per_s": round(phase.pairs_per_second, 1)} for phase in phases]
    machine = this_machine()
    (out / "bench_batch.json").write_text(
        json.dumps(
            {"model": tag, "machine": machine.to_json(), "max_evidence": config.max_evidence, "phases": rows}, indent=1
        )  # fmt: skip
    )
    lines = [
        f"# Batch scoring benchmark ({tag})",
        "",
        f"On {machine.describe()}.",
        "",
        "Wall time from launch to exit (model loading, and Spark's JVM, included); peak resident memory of the whole",
        "process tree. Short: Emergent test pairs cycled; long: FNC-1 headline + article body. Evidence: up to",
        f"{config.max_evidence} sentence(s) of a long text read and shown (`--max_evidence`).",
        "",
        "| run | pairs | rows | seconds | pairs/s | peak RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for phase in phases:
        lines.append(
            f"| {phase.name} | {phase.pairs} | {phase.rows:,} | {phase.seconds:.1f} | {phase.pairs_per_second:.1f} "
            f"| {phase.peak_rss_mb:.0f} |"
        )
    by_size = sorted((p.rows, p.peak_rss_mb) for p in phases if p.engine == "local" and p.pairs == "short")
    if len(by_size) > 1:
        sizes = ", ".join(f"{rows:,} rows {peak:.0f} MB" for rows, peak in by_size)
        lines += ["", f"Peak memory of the local engine against the file's size (short pairs): {sizes}."]
    (out / "bench_batch.md").write_text("\n".join(lines) + "\n")


COMMAND = Command(
    "claimstance bench batch",
    first_paragraph(__doc__),
    "claimstance bench batch --model claimstance:latest",
    BenchBatchConfig,
    run,
)


if __name__ == "__main__":
    exit_with(COMMAND)
