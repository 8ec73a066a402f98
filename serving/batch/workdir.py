"""The job's progress on disk, so that a killed job resumes where it stopped and scores each row once.

Beside the output sits a hidden work folder. Each finished chunk leaves a part (its scored rows, as
Parquet) and a rejects part; only then is `progress.json` replaced, atomically, with the new count of
finished chunks. That count is the single truth: on resume, parts past it (written by a chunk that
was killed before its commit) are deleted and that chunk is scored again.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from serving.batch.config import BatchInputError
from serving.batch.rows import Reject

PROGRESS_FILE = "progress.json"
JOB_FILE = "job.json"


@dataclass
class Progress:
    chunks_done: int = 0
    rows_read: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    complete: bool = False
    """Every chunk is committed; only joining the parts into the output is left."""


def write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


class WorkDir:
    def __init__(self, output: Path, job: dict[str, object]) -> None:
        self.path = output.with_name(f".{output.name}.claimstance-work")
        self.job = job
        """What identifies the run (input, model, chunking...): a rerun resumes only the same job."""

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
                raise BatchInputError(
                    f"{self.path} holds an unfinished run with other arguments or another input or model "
                    f"({', '.join(changed)} differ): rerun it as it was to resume, or pass --overwrite to start over"
                )
            if not changed:
                progress = self.progress()
                self.drop_uncommitted(progress.chunks_done)
                return progress
        self.remove()
        self.parts_dir.mkdir(parents=True)
        self.rejects_dir.mkdir()
        write_atomically(self.path / JOB_FILE, json.dumps(self.job, indent=1))
        return Progress()

    def progress(self) -> Progress:
        progress_file = self.path / PROGRESS_FILE
        return Progress(**json.loads(progress_file.read_text())) if progress_file.exists() else Progress()

    def drop_uncommitted(self, chunks_done: int) -> None:
        for folder in (self.parts_dir, self.rejects_dir):
            for part in folder.iterdir():
                if not part.stem.isdigit() or int(part.stem) >= chunks_done:
                    part.unlink()

    def commit(self, index: int, scored: pa.Table, rejects: list[Reject], rows_read: int, progress: Progress) -> None:
        """Chunk `index` is done: its parts first, then the progress that counts it."""
        if index != progress.chunks_done:
            raise RuntimeError(f"chunk {index} committed after {progress.chunks_done} chunks: out of order")
        pq.write_table(scored, self.part(index).with_suffix(".tmp"))
        os.replace(self.part(index).with_suffix(".tmp"), self.part(index))
        write_atomically(self.rejects_part(index), "".join(reject.to_json() + "\n" for reject in rejects))
        progress.chunks_done += 1
        progress.rows_read += rows_read
        progress.rows_scored += scored.num_rows
        progress.rows_rejected += len(rejects)
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
