"""`make monitor`'s job: the input checked, the progress read, the chunks of the chosen engine committed in line order
with their rejects, the progress written after each (exactly once and resumable: the package's docstring)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from tqdm.auto import tqdm

from serving.jobs.durable import fsync_file, write_atomically
from serving.jobs.input_identity import InputIdentity
from serving.jobs.joblock import output_lock
from serving.jobs.lines import count_lines
from serving.jobs.options import Engine, JobInputError
from serving.monitor.ingest_file.config import FileProgress, MonitorFileConfig, open_store
from serving.monitor.ingest_file.local import local_chunks


def load_progress(config: MonitorFileConfig, job: dict) -> FileProgress:
    path = config.progress_path
    if not path.is_file():
        return FileProgress(job)
    progress = FileProgress(**json.loads(path.read_text()))
    if progress.job != job:
        raise JobInputError(
            f"{config.input}: an earlier run of another input or settings left {path}; remove it and "
            f"{config.rejects_path} to start over"
        )
    return progress


def run(config: MonitorFileConfig) -> FileProgress:
    path = Path(config.input)
    if not path.is_file():
        raise JobInputError(f"{path}: no such file")
    if config.rejects_path.resolve() == path.resolve():
        raise JobInputError(f"--rejects {config.rejects}: is the input itself; rejected lines would be written over it")
    if config.chunk_documents < 1:
        raise JobInputError(f"--chunk_documents {config.chunk_documents}: must be at least 1")
    job = {
        **InputIdentity.of(path).job_fields(),
        "chunk_documents": config.chunk_documents,
        "database": config.database.url.render_as_string(hide_password=True),
        "model": config.model,
        "embedder": config.embedder,
    }
    with output_lock(config.rejects_path):
        progress = load_progress(config, job)
        with config.rejects_path.open("ab") as rejects_file:
            rejects_file.truncate(progress.rejects_bytes)
        store = open_store(config)
        if config.engine is Engine.SPARK:
            from serving.monitor.ingest_file.spark import spark_chunks  # Spark (and Java) only when asked for

            chunks = spark_chunks(config, store, progress.chunks_done)
        else:
            chunks = local_chunks(config, store, progress.chunks_done)
        total = count_lines(path)
        with (
            tqdm(
                total=total,
                initial=min(total, progress.chunks_done * config.chunk_documents),
                unit="doc",
                desc="ingesting",
                disable=None,
            ) as bar,  # fmt: skip
            config.rejects_path.open("ab") as rejects_file,
        ):
            for chunk in chunks:
                rejects = sorted(chunk.rejects, key=lambda reject: reject.row)
                rejects_file.write("".join(reject.to_json() + "\n" for reject in rejects).encode())
                rejects_file.flush()
                os.fsync(rejects_file.fileno())
                progress.chunks_done += 1
                progress.rejects_bytes = rejects_file.tell()
                progress.stored += len(chunk.report.stored)
                progress.already_stored += len(chunk.report.already_stored)
                progress.rejected += len(rejects)
                progress.answers += chunk.report.answers
                write_atomically(config.progress_path, json.dumps(asdict(progress)))
                bar.update(chunk.lines_read)
        fsync_file(config.rejects_path)
        store.close()
    return progress
