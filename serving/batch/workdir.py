"""The job's progress on disk, so that a killed job resumes where it stopped and scores each row once.

Beside the output sits a hidden work folder. Each finished chunk leaves a part (its scored rows, as
Parquet) and a rejects part, each flushed to disk (durable.py); only then is `progress.json` replaced,
durably, with the new count of finished chunks and each chunk's row counts. That file is the single
truth: on resume, parts past its count (written by a chunk that was killed before its commit) are
deleted and that chunk is scored again, and each counted part is checked against the rows it recorded
(a part truncated or damaged since is scored again, and the job says which).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from serving.jobs.durable import atomic_file, fsync_directory, write_atomically
from serving.jobs.input_identity import InputIdentity
from serving.jobs.options import JobInputError
from serving.jobs.rejects import Reject

PROGRESS_FILE = "progress.json"
JOB_FILE = "job.json"


@dataclass
class ChunkCounts:
    """What one committed chunk's parts hold: checked against the parts themselves on resume."""

    rows_read: int
    rows_scored: int
    """Rows of its Parquet part."""
    rows_rejected: int
    """Lines of its rejects part."""


@dataclass
class Progress:
    chunks_done: int = 0
    rows_read: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    complete: bool = False
    """Every chunk is committed; only joining the parts into the output is left."""
    chunks: list[ChunkCounts] = field(default_factory=list)
    """Each committed chunk's counts, in chunk order."""

    @classmethod
    def from_json(cls, text: str) -> Progress:
        saved = json.loads(text)
        chunks = [ChunkCounts(**counts) for counts in saved.pop("chunks", [])]
        return cls(**saved, chunks=chunks)

    def record(self, index: int, counts: ChunkCounts) -> None:
        """Chunk `index` committed with `counts`: the next chunk, or one committed before and scored again."""
        if index == len(self.chunks):
            self.chunks.append(counts)
            self.chunks_done += 1
        else:
            self.add(self.chunks[index], sign=-1)
            self.chunks[index] = counts
        self.add(counts, sign=1)

    def add(self, counts: ChunkCounts, sign: int) -> None:
        self.rows_read += sign * counts.rows_read
        self.rows_scored += sign * counts.rows_scored
        self.rows_rejected += sign * counts.rows_rejected

    def first_row(self, index: int) -> int:
        """The 1-based input row chunk `index` starts at."""
        return 1 + sum(counts.rows_read for counts in self.chunks[:index])


def parquet_rows(part: Path) -> int:
    """The rows a Parquet part holds, as its footer says (the footer is written last: a truncated part has none)."""
    return pq.read_metadata(part).num_rows


def lines_damage(part: Path, expected: int) -> str | None:
    """What is wrong with a text part of `expected` lines, or None: every line it was written with ends in a
    newline, so a part cut short has fewer lines or a last one without its newline."""
    data = part.read_bytes()
    if data and not data.endswith(b"\n"):
        return f"{part.name} ends in the middle of a line"
    if (lines := data.count(b"\n")) != expected:
        return f"{part.name} holds {lines} lines where {PROGRESS_FILE} recorded {expected}"
    return None


class WorkDir:
    def __init__(self, output: Path, job: dict[str, object]) -> None:
        self.path = output.with_name(f".{output.name}.claimstance-work")
        self.job = job
        """What identifies the run (input, model, chunking...): a rerun resumes only the same job."""
        self.damaged: set[int] = set()
        """Committed chunks whose parts were found damaged on resume: each is scored and committed again."""

    @property
    def parts_dir(self) -> Path:
        return self.path / "parts"

    @property
    def rejects_dir(self) -> Path:
        return self.path / "rejects"

    def part(self, index: int) -> Path:
        return self.parts_dir / f"{index:09d}.parquet"

    def rejects_part(self, index: int) -> Path:
        return self.rejects_dir / f"{index:09d}.jsonl"

    def exists(self) -> bool:
        return (self.path / JOB_FILE).is_file()

    def start(self, discard_other: bool = False) -> Progress:
        """A fresh work folder, or the progress of the same job left by an earlier run; an earlier run of
        another job is discarded only when `discard_other` (--overwrite) says so."""
        if self.exists():
            earlier = json.loads((self.path / JOB_FILE).read_text(encoding="utf-8"))
            changed = sorted(key for key in self.job.keys() | earlier.keys() if self.job.get(key) != earlier.get(key))
            if changed and not discard_other:
                raise self.refusal(earlier, changed)
            if not changed:
                progress = self.progress()
                self.drop_uncommitted(progress.chunks_done)
                return progress
        self.remove()
        self.parts_dir.mkdir(parents=True)
        self.rejects_dir.mkdir()
        write_atomically(self.path / JOB_FILE, json.dumps(self.job, indent=1))
        fsync_directory(self.path.parent)
        return Progress()

    def refusal(self, earlier: dict[str, object], changed: list[str]) -> JobInputError:
        """Why the earlier run is not resumed: its input changed since (each change named), or it was another job."""
        recorded, now = InputIdentity.from_job(earlier), InputIdentity.from_job(self.job)
        if recorded and now and (changes := now.changes_since(recorded)):
            return JobInputError(
                f"input {now.path}: {'; '.join(changes)} since the job started: restore it to resume the job, or "
                f"remove {self.path} (or pass --overwrite) to start over"
            )
        return JobInputError(
            f"{self.path} holds an unfinished run with other arguments or another input or model "
            f"({', '.join(changed)} differ): rerun it as it was to resume, or pass --overwrite to start over"
        )

    def progress(self) -> Progress:
        progress_file = self.path / PROGRESS_FILE
        return Progress.from_json(progress_file.read_text(encoding="utf-8")) if progress_file.exists() else Progress()

    def drop_uncommitted(self, chunks_done: int) -> None:
        for folder in (self.parts_dir, self.rejects_dir):
            for part in folder.iterdir():
                if not part.stem.isdigit() or int(part.stem) >= chunks_done:
                    part.unlink()

    def damage(self, index: int, counts: ChunkCounts) -> str | None:
        """What is wrong with chunk `index`'s parts, or None where they hold the rows its commit recorded."""
        part, rejects = self.part(index), self.rejects_part(index)
        for path in (part, rejects):
            if not path.is_file():
                return f"{path.name} is missing"
        try:
            scored = parquet_rows(part)
        except (OSError, pa.ArrowException) as error:
            return f"{part.name} cannot be read ({error})"
        if scored != counts.rows_scored:
            return f"{part.name} holds {scored} rows where {PROGRESS_FILE} recorded {counts.rows_scored}"
        return lines_damage(rejects, counts.rows_rejected)

    def find_damaged(self, progress: Progress) -> list[str]:
        """Check every committed chunk's parts; the damaged ones are to be scored again (self.damaged). Returns
        one message per damaged chunk, naming its part, what is wrong and the rows it holds."""
        messages = []
        self.damaged = set()
        for index, counts in enumerate(progress.chunks):
            if (reason := self.damage(index, counts)) is not None:
                self.damaged.add(index)
                first = progress.first_row(index)
                messages.append(
                    f"chunk {index} (rows {first}-{first + counts.rows_read - 1}): {reason}; scoring it again"
                )
        return messages

    def commit(self, index: int, scored: pa.Table, rejects: list[Reject], rows_read: int, progress: Progress) -> None:
        """Chunk `index` is done: its parts first, on disk, then the progress that counts it. The next chunk, or a
        damaged one scored again."""
        if index != progress.chunks_done and index not in self.damaged:
            raise RuntimeError(f"chunk {index} committed after {progress.chunks_done} chunks: out of order")
        with atomic_file(self.part(index)) as temporary:
            pq.write_table(scored, temporary)
        write_atomically(self.rejects_part(index), "".join(reject.to_json() + "\n" for reject in rejects))
        progress.record(index, ChunkCounts(rows_read, scored.num_rows, len(rejects)))
        self.damaged.discard(index)
        self.save(progress)

    def save(self, progress: Progress) -> None:
        write_atomically(self.path / PROGRESS_FILE, json.dumps(asdict(progress)))

    def parts(self, chunks: int) -> list[Path]:
        return [self.part(index) for index in range(chunks)]

    def rejects_parts(self, chunks: int) -> list[Path]:
        return [self.rejects_part(index) for index in range(chunks)]

    def remove(self) -> None:
        """The job file goes first: a kill part way through leaves a folder no rerun takes for a job to resume."""
        (self.path / JOB_FILE).unlink(missing_ok=True)
        shutil.rmtree(self.path, ignore_errors=True)
