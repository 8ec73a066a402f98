"""The local engine: stream the file in chunks through scoring processes, commit each chunk, join at the end.

One reader (this process) feeds a few chunks ahead to `workers` processes that each hold one model copy
on `threads` threads; results come back in input order and are committed one by one. At most two
chunks per worker are in flight, so memory does not grow with the file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
from tqdm.auto import tqdm

from models.registry import locate
from models.runtime import available_cores
from serving.batch.config import BatchConfig
from serving.batch.readers import InputReader, RawChunk, open_reader
from serving.batch.report import JobReport
from serving.batch.scoring import ChunkScorer, ScoredChunk, ScorerSpec
from serving.batch.tracking import TrackColumns, claim_summary_line, read_parts, summarize, write_claim_summaries
from serving.batch.workdir import Progress, WorkDir
from serving.batch.writers import join_parts, join_text_parts
from serving.jobs.durable import remove_stale_temporaries
from serving.jobs.input_identity import InputIdentity
from serving.jobs.joblock import output_lock

log = logging.getLogger("claimstance.batch")

CHUNKS_AHEAD_PER_WORKER = 2
"""Enough that a worker never waits for the reader, few enough that memory stays a few chunks."""


def scorer_spec(config: BatchConfig, workers: int) -> ScorerSpec:
    model_dir, tag = locate(config.model)
    return ScorerSpec.of(config, model_dir, tag, threads=config.threads or max(1, available_cores() // workers))


def files_fingerprint(folder: Path) -> str:
    """A hash of the names, sizes and modification times of a folder's files: a model retrained into the same
    folder changes it, so a rerun never mixes rows of two models under one name."""
    digest = hashlib.sha256()
    for path in sorted(path for path in folder.rglob("*") if path.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def job_identity(config: BatchConfig, spec: ScorerSpec) -> dict[str, object]:
    """What must match for a rerun to continue an earlier run's work: the input file as it is now (its size,
    modification time and content fingerprint), the chunking, the model's files, and every setting of the scorer
    that changes a row's output (its thread count does not)."""
    scorer = {key: value for key, value in asdict(spec).items() if key not in ("model_dir", "threads", "limits")}
    scorer |= spec.limits.model_dump()
    identity = {
        **InputIdentity.of(config.input_path).job_fields(),
        "input_format": str(config.input_file_format()),
        "chunk_rows": config.chunk_rows,
        "model_files": files_fingerprint(Path(spec.model_dir)),
        **scorer,
    }
    return json.loads(json.dumps(identity))  # as job.json gives it back: the labels tuple as a list


_worker_scorer: ChunkScorer | None = None
_worker_error: Exception | None = None


def exit_with_parent() -> None:
    """A job killed outright (SIGKILL) cannot stop its pool: its workers notice and exit rather than linger."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def start_worker(spec: ScorerSpec) -> None:
    """Runs once in each worker process: the model is loaded here, not per chunk. A model that fails to load
    is reported by the first chunk, so the user sees its message rather than a broken pool."""
    global _worker_scorer, _worker_error
    exit_with_parent()
    try:
        _worker_scorer = ChunkScorer(spec)
    except Exception as error:  # re-raised, whole, in the parent by score_in_worker
        _worker_error = error


def score_in_worker(table: pa.Table, rows: np.ndarray) -> ScoredChunk:
    if _worker_error is not None:
        raise _worker_error
    return _worker_scorer.score(table, rows)


class InProcess:
    """The executor for one worker: no second process, no copy of each chunk between processes."""

    def __init__(self, spec: ScorerSpec) -> None:
        self.scorer = ChunkScorer(spec)

    def submit(self, function, table: pa.Table, rows: np.ndarray) -> Future:
        future: Future = Future()
        future.set_result(self.scorer.score(table, rows))
        return future


@contextmanager
def scoring_pool(spec: ScorerSpec, workers: int) -> Iterator[InProcess | ProcessPoolExecutor]:
    if workers == 1:
        yield InProcess(spec)
        return
    context = multiprocessing.get_context("spawn")  # no fork of a process holding threads
    with ProcessPoolExecutor(workers, mp_context=context, initializer=start_worker, initargs=(spec,)) as pool:
        try:
            yield pool
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def score_chunks(chunks: Iterator[RawChunk], spec: ScorerSpec, workers: int) -> Iterator[tuple[RawChunk, ScoredChunk]]:
    """Each chunk with its scores, in input order, with a bounded number of chunks in flight."""
    with scoring_pool(spec, workers) as pool:
        pending: deque[tuple[RawChunk, Future]] = deque()
        for chunk in chunks:
            pending.append((chunk, pool.submit(score_in_worker, chunk.table, chunk.rows)))
            if len(pending) >= CHUNKS_AHEAD_PER_WORKER * workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


def run_local(config: BatchConfig) -> JobReport:
    started = time.perf_counter()
    workers = config.workers or available_cores()
    spec = scorer_spec(config, workers)
    reader = open_reader(
        config.input_path,
        config.input_file_format(),
        config.claim_column,
        config.text_column,
        config.chunk_rows,
        spec.columns,
        config.title_column,
    )
    spec.columns.check(reader.column_names)
    tracking = TrackColumns.of(config, spec.columns) if config.track else None
    if tracking:
        tracking.check(reader.column_names, config.input)
    with output_lock(config.output_path):
        for path in config.output_paths:
            remove_stale_temporaries(path)
        work = WorkDir(config.output_path, job_identity(config, spec))
        if not work.exists():  # a resumed run may find its own rejects file, joined just before a kill
            work.remove()  # no job to resume: at most what a kill left of a job's cleanup
            config.refuse_existing_outputs()
        progress = work.start(discard_other=config.overwrite)
        resumed_rows = progress.rows_read
        score_all(config, reader, spec, workers, work, progress)
        write_outputs(config, spec, tracking, work, progress)
        work.remove()
    return JobReport.of(progress, progress.rows_read - resumed_rows, time.perf_counter() - started, config)


def score_all(
    config: BatchConfig, reader: InputReader, spec: ScorerSpec, workers: int, work: WorkDir, progress: Progress
) -> None:
    """Every chunk not yet committed, and again each committed one whose parts were found damaged."""
    if progress.chunks_done:
        log.info("resuming after %d chunks (%d rows) of an earlier run", progress.chunks_done, progress.rows_read)
    for message in work.find_damaged(progress):
        log.warning("%s", message)
    if progress.complete and not work.damaged:
        return
    log.info("scoring with %s (%s), %d worker(s) of %d thread(s)", spec.model_tag, spec.runtime, workers, spec.threads)
    chunks = chunks_to_score(reader, sorted(work.damaged), progress)
    commit_all(chunks, reader.total_rows(), spec, workers, work, progress, config)


def chunk_at(reader: InputReader, index: int) -> RawChunk:
    """Chunk `index` alone, read again for a damaged part: the reader cuts the file as it did the first time."""
    chunks = reader.chunks(index)
    try:
        return next(chunks)
    finally:
        chunks.close()


def chunks_to_score(reader: InputReader, damaged: list[int], progress: Progress) -> Iterator[RawChunk]:
    """The damaged chunks first, then the ones never committed (none where the earlier run committed all)."""
    yield from (chunk_at(reader, index) for index in damaged)
    if not progress.complete:
        yield from reader.chunks(progress.chunks_done)


def write_outputs(
    config: BatchConfig, spec: ScorerSpec, tracking: TrackColumns | None, work: WorkDir, progress: Progress
) -> None:
    """The committed parts joined into the output and rejects files, and the claims' summaries where tracking."""
    join_text_parts(work.rejects_parts(progress.chunks_done), config.rejects_path)
    join_parts(work.parts(progress.chunks_done), config.output_file_format(), config.output_path, spec.columns)
    if tracking:
        claims = summarize(read_parts(work.parts(progress.chunks_done), tracking), tracking)
        lines = (claim_summary_line(claim, spec.model_tag, builder) for claim, builder in claims.items())
        write_claim_summaries(lines, config.claim_summaries_path)
        log.info("%d claim summaries -> %s", len(claims), config.claim_summaries_path)


def commit_all(
    chunks: Iterator[RawChunk],
    total_rows: int | None,
    spec: ScorerSpec,
    workers: int,
    work: WorkDir,
    progress: Progress,
    config: BatchConfig,
) -> None:
    bar = tqdm(total=total_rows, initial=progress.rows_read, unit=" rows", disable=not config.progress, smoothing=0.1)
    with bar:
        for chunk, scored in score_chunks(chunks, spec, workers):
            rejects = sorted(chunk.rejects + scored.rejects, key=lambda reject: reject.row)
            new = chunk.index == progress.chunks_done
            work.commit(chunk.index, scored.table, rejects, chunk.rows_read, progress)
            if new:
                bar.update(chunk.rows_read)
            bar.set_postfix(rejected=progress.rows_rejected, refresh=False)
    progress.complete = True
    work.save(progress)
