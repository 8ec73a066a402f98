"""The batch job under chaos: `python -m eval.chaos.batch --model artifacts/default`.

Every run is the real command, `python -m serving.batch`, in a process of its own, on a generated JSONL file of
`rows` short pairs (every 37th with an empty claim, so the rejects parts are written too):
- concurrent: two jobs started together on one output; one runs, the other is refused (both exit codes, the
  refusal's message);
- kills: one job killed with SIGKILL `kills` times and resumed after each, then its output compared row for row
  with an uninterrupted run's. A kill lands at a random moment after the resumed job's first new commit (a kill
  while the model loads tests nothing new), within its share of the time the rest of the job should take; the
  report counts those that landed mid-job (the job still running) and where;
- truncated part: a job killed after a few commits, one committed part cut to half its bytes, the job resumed:
  it scores that chunk again and says so (its message), and its output is compared with the uninterrupted run's.
Prints a markdown summary and writes the JSON report to --output.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eval.speed.machine import this_machine
from models.command import Command, exit_with, first_paragraph
from models.defaults import MODEL_NAME

log = logging.getLogger("claimstance.chaos_batch")

CLAIMS = (
    "Russia's airstrikes in Syria are targeting the Islamic State group",
    "The city will close the old bridge for repairs",
    "A new vaccine prevents the seasonal flu in children",
)
TEXTS = (
    "Officials rejected the report that {claim}.",
    "It is confirmed: {claim}, the ministry said on Tuesday.",
    "A newspaper wrote that {claim}; the claim could not be verified.",
)
REJECT_EVERY = 37
"""Every 37th row has an empty claim: a reject, so that each chunk's rejects part is exercised too."""
POLL_SECONDS = 0.02
TRUNCATE_AFTER_CHUNKS = 3
"""The truncation measurement kills its job once this many chunks are committed, and cuts the second part."""
JOB_TIMEOUT_SECONDS = 600
BATCH_LOGGER = "claimstance.batch"


@dataclass
class ChaosBatchConfig:
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Model-store tag or saved model folder."})
    rows: int = field(default=400, metadata={"help": "Rows of the generated input file."})
    chunk_rows: int = field(default=10, metadata={"help": "The batch job's --chunk_rows: rows per commit."})
    kills: int = field(default=20, metadata={"help": "SIGKILLs of the killed and resumed job."})
    workers: int = field(default=1, metadata={"help": "The batch job's --workers."})
    seed: int = field(default=0, metadata={"help": "Seed of the kills' random moments."})
    output: str = field(default="reports/batch/chaos_batch.json", metadata={"help": "Where the JSON report goes."})


@dataclass
class JobEnd:
    """How one `python -m serving.batch` process ended."""

    exit_code: int
    seconds: float
    last_error_line: str
    """Its last stderr line (the summary, or the error)."""


@dataclass
class Comparison:
    """An output against the uninterrupted run's, row for row."""

    rows: int
    reference_rows: int
    differing_rows: int
    rejects_equal: bool

    @property
    def equal(self) -> bool:
        return self.rows == self.reference_rows and self.differing_rows == 0 and self.rejects_equal


@dataclass
class Concurrent:
    exit_codes: list[int]
    refusal: str
    """The refused job's error line."""
    one_ran_one_refused: bool


@dataclass
class Kill:
    attempt: int
    delay_seconds: float
    """From the job's first new commit to the kill."""
    landed: str
    """Where the job was: scoring, joining the parts, cleaning up, or ended already."""
    chunks_before: int
    chunks_after: int
    exit_code: int | None = None
    """How the job exited where it ended before the kill; None where the kill ended it."""

    @property
    def mid_job(self) -> bool:
        return self.landed != ENDED


@dataclass
class Kills:
    attempted: int
    kills: list[Kill]
    """The kills tried; fewer than `attempted` where the job ended first."""
    mid_job: int
    final_exit_code: int | None
    """The exit code of the run that finished the job (None: a kill landed after its output was written)."""
    comparison: Comparison
    equal: bool


@dataclass
class Truncation:
    part: str
    message: str
    """The resumed job's line naming the damaged part ('' where it said nothing)."""
    exit_code: int
    comparison: Comparison
    equal: bool


@dataclass
class ChaosReport:
    model: str
    machine: str
    rows: int
    chunk_rows: int
    reference_seconds: float
    concurrent: Concurrent
    kills: Kills
    truncation: Truncation


ENDED = "ended before the kill"


def input_rows(count: int) -> list[dict[str, str]]:
    rows = []
    for i in range(count):
        claim = CLAIMS[i % len(CLAIMS)]
        text = TEXTS[(i // len(CLAIMS)) % len(TEXTS)].format(claim=claim.lower())
        rows.append({"id": f"row-{i:05d}", "claim": "" if i % REJECT_EVERY == 0 else claim, "text": text})
    return rows


def write_input(path: Path, rows: int) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in input_rows(rows)), encoding="utf-8")
    return path


def batch_command(config: ChaosBatchConfig, source: Path, output: Path) -> list[str]:
    return [sys.executable, "-m", "serving.batch", "--input", str(source), "--output", str(output), "--model",
            config.model, "--workers", str(config.workers), "--chunk_rows", str(config.chunk_rows),
            "--progress", "false"]  # fmt: skip


def work_folder(output: Path) -> Path:
    return output.with_name(f".{output.name}.claimstance-work")


def progress_of(output: Path) -> dict:
    """The job's progress.json (replaced atomically, so whole whenever it is there), or {} before the first."""
    try:
        return json.loads((work_folder(output) / "progress.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def rejects_of(output: Path) -> Path:
    return output.with_name(f"{output.stem}.rejects.jsonl")


def launch(command: list[str]) -> subprocess.Popen:
    """A job in a process group of its own, so that a kill reaches its worker processes too."""
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def ended(job: subprocess.Popen, started: float) -> JobEnd:
    _, errors = job.communicate(timeout=JOB_TIMEOUT_SECONDS)
    lines = [line for line in errors.splitlines() if line.strip()]
    return JobEnd(job.returncode, time.perf_counter() - started, lines[-1] if lines else "")


def run_to_end(command: list[str]) -> tuple[JobEnd, str]:
    """A job run to its end: how it ended, and its whole stderr."""
    started = time.perf_counter()
    job = subprocess.run(command, capture_output=True, text=True, timeout=JOB_TIMEOUT_SECONDS)
    lines = [line for line in job.stderr.splitlines() if line.strip()]
    return JobEnd(job.returncode, time.perf_counter() - started, lines[-1] if lines else ""), job.stderr


def compare(output: Path, reference: Path) -> Comparison:
    rows = output.read_text(encoding="utf-8").splitlines() if output.exists() else []
    expected = reference.read_text(encoding="utf-8").splitlines()
    differing = sum(json.loads(a) != json.loads(b) for a, b in zip(rows, expected, strict=False))
    differing += abs(len(rows) - len(expected))
    rejects = rejects_of(output)
    rejects_equal = rejects.exists() and rejects.read_bytes() == rejects_of(reference).read_bytes()
    return Comparison(len(rows), len(expected), differing, rejects_equal)


@dataclass
class Reference:
    """The uninterrupted run: its output, and how fast it scored (for the kills' timing)."""

    output: Path
    seconds: float
    scoring_rows_per_second: float


def reference_run(config: ChaosBatchConfig, source: Path, scratch: Path) -> Reference:
    """The uninterrupted run, its first commit and its completion timed by watching progress.json."""
    output = scratch / "reference.jsonl"
    started = time.perf_counter()
    job = launch(batch_command(config, source, output))
    first_commit = completed = None
    while job.poll() is None:
        progress = progress_of(output)
        if first_commit is None and progress.get("chunks_done"):
            first_commit = time.perf_counter()
        if progress.get("complete") and completed is None:
            completed = time.perf_counter()
        time.sleep(POLL_SECONDS)
    end = ended(job, started)
    if end.exit_code != 0:
        raise RuntimeError(f"the uninterrupted run failed: {end.last_error_line}")
    scoring = (completed or time.perf_counter()) - (first_commit or started)
    return Reference(output, end.seconds, config.rows / max(scoring, POLL_SECONDS))


def concurrent_jobs(config: ChaosBatchConfig, source: Path, scratch: Path) -> Concurrent:
    """Two jobs on one output, started together."""
    command = batch_command(config, source, scratch / "concurrent.jsonl")
    started = time.perf_counter()
    jobs = [launch(command), launch(command)]
    ends = [ended(job, started) for job in jobs]
    codes = [end.exit_code for end in ends]
    refusal = next((end.last_error_line for end in ends if end.exit_code != 0), "")
    return Concurrent(codes, refusal, sorted(codes) == [0, 2] and "another batch job" in refusal)


def wait_for_commit(job: subprocess.Popen, output: Path, chunks_before: int) -> bool:
    """Whether the job committed a chunk past `chunks_before` (False: it ended first)."""
    while job.poll() is None:
        if progress_of(output).get("chunks_done", 0) > chunks_before:
            return True
        time.sleep(POLL_SECONDS)
    return False


def kill(job: subprocess.Popen) -> None:
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()


def job_done(output: Path) -> bool:
    """The output is written and the work folder's job file gone (the job removes it first as it cleans up):
    nothing is left to kill or resume."""
    return output.exists() and not (work_folder(output) / "job.json").exists()


def where_killed(output: Path) -> str:
    if output.exists():
        return "after writing the output"
    if progress_of(output).get("complete"):
        return "while joining the parts"
    return "while scoring"


def kill_once(attempt: int, command: list[str], output: Path, seconds_left: float, rng: random.Random) -> Kill:
    """One run of the job, killed at a random moment within `seconds_left` after its first new commit."""
    before = progress_of(output).get("chunks_done", 0)
    job = launch(command)
    delay = rng.uniform(0, seconds_left)
    if wait_for_commit(job, output, before):
        time.sleep(delay)
    if job.poll() is not None:
        job.communicate()
        return Kill(attempt, delay, ENDED, before, progress_of(output).get("chunks_done", 0), job.returncode)
    kill(job)
    job.communicate()
    landed = where_killed(output)
    return Kill(attempt, delay, landed, before, progress_of(output).get("chunks_done", 0))


def killed_and_resumed(config: ChaosBatchConfig, source: Path, scratch: Path, reference: Reference) -> Kills:
    """The job killed `kills` times, each kill within its share of the time left, then resumed to its end."""
    output = scratch / "killed.jsonl"
    command = batch_command(config, source, output)
    rng = random.Random(config.seed)
    kills: list[Kill] = []
    for attempt in range(config.kills):
        if job_done(output):
            break
        rows_left = config.rows - progress_of(output).get("rows_read", 0)
        share = rows_left / reference.scoring_rows_per_second / (config.kills - attempt)
        kills.append(kill_once(attempt, command, output, share, rng))
        log.info("kill %d: %s (%d -> %d chunks)", attempt + 1, kills[-1].landed, kills[-1].chunks_before,
                 kills[-1].chunks_after)  # fmt: skip
    final_exit_code = kills[-1].exit_code if kills and job_done(output) else run_to_end(command)[0].exit_code
    comparison = compare(output, reference.output)
    mid_job = sum(k.mid_job for k in kills)
    return Kills(config.kills, kills, mid_job, final_exit_code, comparison, comparison.equal)


def truncated_part(config: ChaosBatchConfig, source: Path, scratch: Path, reference: Reference) -> Truncation:
    """A job killed after a few commits, its second part cut to half, then resumed: it must redo that chunk."""
    output = scratch / "truncated.jsonl"
    command = batch_command(config, source, output)
    job = launch(command)
    while job.poll() is None and progress_of(output).get("chunks_done", 0) < TRUNCATE_AFTER_CHUNKS:
        time.sleep(POLL_SECONDS)
    if job.poll() is not None:
        raise RuntimeError("the job ended before it could be killed: give it more --rows")
    kill(job)
    job.communicate()
    part = work_folder(output) / "parts" / "000000001.parquet"
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    end, errors = run_to_end(command)
    message = next((line for line in errors.splitlines() if "scoring it again" in line), "")
    message = message.split(f" {BATCH_LOGGER} ", 1)[-1]  # without the log line's time and logger
    comparison = compare(output, reference.output)
    return Truncation(part.name, message, end.exit_code, comparison, comparison.equal and bool(message))


def finished(kills: Kills) -> str:
    if kills.final_exit_code is None:
        return "the last kill landed after the output was written: nothing left to resume"
    return f"the run that finished it exited {kills.final_exit_code}"


def markdown(report: ChaosReport) -> str:
    concurrent, kills, truncation = report.concurrent, report.kills, report.truncation
    places: dict[str, int] = {}
    for each in kills.kills:
        places[each.landed] = places.get(each.landed, 0) + 1
    landed = ", ".join(f"{count} {place}" for place, count in places.items())
    lines = [
        f"# Batch job under chaos ({report.model})",
        "",
        f"On {report.machine}; {report.rows:,} rows in chunks of {report.chunk_rows}; the uninterrupted run took "
        f"{report.reference_seconds:.1f} s.",
        "",
        "| measurement | result |",
        "|---|---|",
        f"| two jobs on one output | exit codes {concurrent.exit_codes}; "
        f"{'one ran, one refused' if concurrent.one_ran_one_refused else 'NOT one ran and one refused'} |",
        f"| refusal | `{concurrent.refusal}` |",
        f"| SIGKILLs | {len(kills.kills)} of {kills.attempted}; {kills.mid_job} landed mid-job ({landed}) |",
        f"| killed and resumed against uninterrupted | {'equal' if kills.equal else 'NOT equal'} "
        f"({kills.comparison.rows} rows, {kills.comparison.differing_rows} differing, rejects "
        f"{'equal' if kills.comparison.rejects_equal else 'differ'}; {finished(kills)}) |",
        f"| truncated part {truncation.part} | resume exit {truncation.exit_code}; "
        f"{'equal' if truncation.equal else 'NOT equal'} to uninterrupted |",
        f"| its message | `{truncation.message}` |",
    ]
    return "\n".join(lines) + "\n"


def run(config: ChaosBatchConfig) -> ChaosReport:
    with tempfile.TemporaryDirectory(prefix="claimstance-chaos-batch-") as folder:
        scratch = Path(folder)
        source = write_input(scratch / "in.jsonl", config.rows)
        log.info("uninterrupted run of %d rows ...", config.rows)
        reference = reference_run(config, source, scratch)
        log.info("two jobs on one output ...")
        concurrent = concurrent_jobs(config, source, scratch)
        log.info("%d kills ...", config.kills)
        kills = killed_and_resumed(config, source, scratch, reference)
        log.info("a truncated part ...")
        truncation = truncated_part(config, source, scratch, reference)
    report = ChaosReport(config.model, this_machine().describe(), config.rows, config.chunk_rows, reference.seconds,
                         concurrent, kills, truncation)  # fmt: skip
    write_report(report, Path(config.output))
    print(markdown(report))
    return report


def write_report(report: ChaosReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    kills = report.kills
    saved = asdict(report) | {
        "kills": asdict(kills) | {"kills": [asdict(k) | {"mid_job": k.mid_job} for k in kills.kills]},
    }
    path.write_text(json.dumps(saved, indent=1) + "\n", encoding="utf-8")


COMMAND = Command(
    "python -m eval.chaos.batch",
    first_paragraph(__doc__),
    "python -m eval.chaos.batch --model claimstance:latest",
    ChaosBatchConfig,
    run,
)


if __name__ == "__main__":
    exit_with(COMMAND)
