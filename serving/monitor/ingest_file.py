"""`python -m serving.monitor.ingest_file --input documents.jsonl` (`make monitor IN=documents.jsonl`): a file of
documents checked against every watched claim, through the path the service's /documents/ingest takes (plan,
score, commit: serving/monitor/documents.py), a chunk of lines at a time.

Exactly once: the database is the record of what is stored, and ingest is idempotent by document id, so a chunk
done twice (the job killed after its commit, before its progress was saved) stores nothing twice. Resumable: the
progress file beside the rejects says how many chunks are done, and how long the rejects file was then; a rerun
cuts the rejects back to that length and goes on from the next chunk. The input must be the file it was (size,
time, fingerprint), else the rerun is refused. A second job on the same file meanwhile is refused (the rejects'
lock). A line that cannot be ingested (not JSON, no id or text, a date that is not RFC 3339, an id stored with other
content) goes to the rejects with its line number and reason; nothing of it is stored.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path

from tqdm.auto import tqdm

from models.defaults import EMBEDDER_NAME, MODEL_NAME
from models.embedding import SentenceEmbedder
from models.predictor import StancePredictor
from models.registry import locate
from serving.batch.config import BatchInputError, Engine, check_spark_conf, spark_conf_field, spark_master_field
from serving.batch.durable import fsync_file, write_atomically
from serving.batch.input_identity import InputIdentity
from serving.batch.joblock import output_lock
from serving.batch.readers import OverlongLine, bounded_lines, count_lines
from serving.batch.rows import Reject
from serving.command import run_command
from serving.monitor.database import DatabaseSettings, database_settings
from serving.monitor.document_lines import MAX_LINE_BYTES, line_document
from serving.monitor.documents import (
    DocumentConflict,
    IncomingDocument,
    IngestReport,
    StanceScorer,
    StoredMeanwhile,
    conflicting,
    stored_hashes,
)
from serving.monitor.matching import Candidate
from serving.monitor.store import MonitorStore
from serving.settings import SETTINGS


@dataclass
class MonitorFileConfig:
    input: str = field(metadata={"help": "JSONL of documents: id and text, title, source, url, published optional."})
    rejects: str = field(
        default="", metadata={"help": "Where rejected lines go (default: INPUT.monitor_rejects.jsonl)."}
    )
    database_url: str = field(
        default="", metadata={"help": "The monitor's database (default: CLAIMSTANCE_DATABASE_URL, as the service)."}
    )
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Stance model: store tag or folder."})
    embedder: str = field(default=f"{EMBEDDER_NAME}:latest", metadata={"help": "Embedding model: store tag or folder."})
    chunk_documents: int = field(default=64, metadata={"help": "Lines ingested, and committed, at a time."})
    threads: int = field(default=0, metadata={"help": "Inference threads (0: all cores; on Spark, 1 a task)."})
    engine: Engine = field(
        default=Engine.LOCAL,
        metadata={"help": "local (this machine) or spark (matching and stance on the executors, stored once here)."},
    )
    spark_master: str = spark_master_field()
    spark_conf: list[str] = spark_conf_field()

    def __post_init__(self) -> None:
        self.engine = Engine(self.engine)
        check_spark_conf(self.spark_conf)

    @property
    def database(self) -> DatabaseSettings:
        """The service's database settings (CLAIMSTANCE_DATA_DIR, CLAIMSTANCE_DATABASE_URL and its timeouts), the
        URL the flag gives instead where it gives one."""
        return database_settings(self.database_url)

    @property
    def rejects_path(self) -> Path:
        return Path(self.rejects or f"{self.input}.monitor_rejects.jsonl")

    @property
    def progress_path(self) -> Path:
        return self.rejects_path.with_name(self.rejects_path.name + ".progress.json")


@dataclass
class FileProgress:
    job: dict
    chunks_done: int = 0
    rejects_bytes: int = 0
    stored: int = 0
    already_stored: int = 0
    rejected: int = 0
    answers: int = 0

    def describe(self) -> str:
        return (
            f"{self.stored} documents stored, {self.already_stored} already stored, {self.rejected} rejected, "
            f"{self.answers} answers"
        )


def line_chunks(path: Path, size: int, start: int) -> Iterator[list[tuple[int, bytes | OverlongLine]]]:
    """From chunk `start` on, each chunk's (line number, line) pairs; a line longer than any document the limits
    allow comes as its length (document_lines.MAX_LINE_BYTES)."""
    with path.open("rb") as handle:
        lines = bounded_lines(handle, MAX_LINE_BYTES)
        numbered = enumerate(islice(lines, start * size, None), start=start * size + 1)
        while chunk := list(islice(numbered, size)):
            yield chunk


def without_conflicts(
    store: MonitorStore, rows: list[tuple[int, IncomingDocument]]
) -> tuple[list[IncomingDocument], list[Reject]]:
    """The documents that can be ingested, and a Reject for each line whose id is taken by other content (stored,
    or an earlier line of the chunk)."""
    documents = [document for _, document in rows]
    with store.sessions() as session:
        taken = set(conflicting(documents, stored_hashes(session, [document.id for document in documents])))
    rejects = [Reject(rows[i][0], str(DocumentConflict(rows[i][1].id)), asdict(rows[i][1])) for i in sorted(taken)]
    return [document for i, document in enumerate(documents) if i not in taken], rejects


def ingest_chunk(
    store: MonitorStore,
    rows: list[tuple[int, IncomingDocument]],
    score: StanceScorer,
    matches: Mapping[str, tuple[Candidate, ...]] | None = None,
) -> tuple[IngestReport, list[Reject]]:
    """Ingest the chunk's documents, its conflicting lines rejected; a conflict another writer (the service) made
    meanwhile is found on a second look, and its line rejected too. `matches`: matching done already (Spark's
    executors), as DocumentIngest.plan takes it."""
    for attempt in range(2):
        documents, conflicts = without_conflicts(store, rows)
        try:
            return store.ingest.ingest(documents, score, matches=matches), conflicts
        except (DocumentConflict, StoredMeanwhile):
            if attempt:
                raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class ChunkDone:
    """One chunk of lines ingested, by either engine: how many lines it read, what it stored, what it rejected."""

    lines_read: int
    report: IngestReport
    rejects: list[Reject]


def local_chunks(config: MonitorFileConfig, store: MonitorStore, start: int) -> Iterator[ChunkDone]:
    """This machine's engine: from chunk `start` on, each chunk read, matched, scored and committed in turn."""
    predictor = open_predictor(config)
    for chunk in line_chunks(Path(config.input), config.chunk_documents, start):
        parsed = [(row, line_document(row, line)) for row, line in chunk]
        documents = [(row, found) for row, found in parsed if isinstance(found, IncomingDocument)]
        report, conflicts = ingest_chunk(store, documents, predictor.predict)
        yield ChunkDone(len(chunk), report, [found for _, found in parsed if isinstance(found, Reject)] + conflicts)


def load_progress(config: MonitorFileConfig, job: dict) -> FileProgress:
    path = config.progress_path
    if not path.is_file():
        return FileProgress(job)
    progress = FileProgress(**json.loads(path.read_text()))
    if progress.job != job:
        raise BatchInputError(
            f"{config.input}: an earlier run of another input or settings left {path}; remove it and "
            f"{config.rejects_path} to start over"
        )
    return progress


def open_store(config: MonitorFileConfig) -> MonitorStore:
    embedder = SentenceEmbedder.served(*locate(config.embedder), config.threads or None)
    database = config.database
    return MonitorStore(database.url, embedder, SETTINGS.match, SETTINGS.store_limits, database)


def open_predictor(config: MonitorFileConfig) -> StancePredictor:
    return StancePredictor.served(*locate(config.model), config.threads or None)


def run(config: MonitorFileConfig) -> FileProgress:
    path = Path(config.input)
    if not path.is_file():
        raise BatchInputError(f"{path}: no such file")
    if config.rejects_path.resolve() == path.resolve():
        raise BatchInputError(
            f"--rejects {config.rejects}: is the input itself; rejected lines would be written over it"
        )
    if config.chunk_documents < 1:
        raise BatchInputError(f"--chunk_documents {config.chunk_documents}: must be at least 1")
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
            from serving.monitor.spark_ingest import spark_chunks  # Spark (and Java) only when asked for

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


def main(argv: list[str] | None = None) -> int:
    return run_command(
        "claimstance monitor",
        MonitorFileConfig,
        run,
        lambda config, progress: f"{progress.describe()}; rejects in {config.rejects_path}",
        (BatchInputError, OSError, ValueError, StoredMeanwhile),
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
