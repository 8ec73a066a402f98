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
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path

from sqlalchemy.engine import make_url
from tqdm.auto import tqdm

from models.defaults import EMBEDDER_NAME, MODEL_NAME
from models.embedding import SentenceEmbedder
from models.predictor import StancePredictor
from models.registry import locate
from models.runtime import chosen_runtime
from models.tracking import published_day
from models.visible import has_visible_character
from serving.batch.config import BatchInputError
from serving.batch.durable import fsync_file, write_atomically
from serving.batch.input_identity import InputIdentity
from serving.batch.joblock import output_lock
from serving.batch.readers import count_lines
from serving.batch.rows import Reject
from serving.command import run_command
from serving.monitor.database import DEFAULT_DATABASE_URL
from serving.monitor.documents import (
    DocumentConflict,
    IncomingDocument,
    IngestReport,
    StoredMeanwhile,
    conflicting,
    stored_hashes,
)
from serving.monitor.store import MonitorStore
from serving.settings import SETTINGS

OPTIONAL_TEXT = ("title", "source", "url", "published")


@dataclass
class MonitorFileConfig:
    input: str = field(metadata={"help": "JSONL of documents: id and text, title, source, url, published optional."})
    rejects: str = field(
        default="", metadata={"help": "Where rejected lines go (default: INPUT.monitor_rejects.jsonl)."}
    )
    database_url: str = field(default=DEFAULT_DATABASE_URL, metadata={"help": "The monitor's database."})
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Stance model: store tag or folder."})
    embedder: str = field(default=f"{EMBEDDER_NAME}:latest", metadata={"help": "Embedding model: store tag or folder."})
    chunk_documents: int = field(default=64, metadata={"help": "Lines ingested, and committed, at a time."})
    threads: int = 0

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


def document_of(row: int, line: bytes) -> IncomingDocument | Reject:
    """The line's document, or why it cannot be one (limits as the service's)."""
    raw = line.decode("utf-8", "replace").rstrip("\r\n")
    try:
        record = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        return Reject(row, f"unparseable JSON: {error}", raw)
    if not isinstance(record, dict):
        return Reject(row, f"expected a JSON object, got {type(record).__name__}", raw)
    reason = field_reason(record)
    if reason:
        return Reject(row, reason, record)
    optional = {name: record.get(name) or None for name in OPTIONAL_TEXT}  # an empty field is no field
    return IncomingDocument(id=record["id"], text=record["text"], **optional)


def field_reason(record: dict) -> str | None:
    """Why the record is not a document, naming the field and the limit (the service's: CLAIMSTANCE_MAX_*); None if
    it is one."""
    limits = {
        "id": SETTINGS.max_id_chars,
        "text": SETTINGS.max_text_chars,
        "title": SETTINGS.max_title_chars,
        "source": SETTINGS.max_source_chars,
        "url": SETTINGS.max_url_chars,
        "published": SETTINGS.max_published_chars,
    }
    for name in ("id", "text"):
        value = record.get(name)
        if value is None:
            return f"{name}: missing"
        if not isinstance(value, str):
            return f"{name}: expected a string, got {type(value).__name__}"
        if not has_visible_character(value):
            return f"{name}: empty"
    for name in OPTIONAL_TEXT:
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            return f"{name}: expected a string, got {type(value).__name__}"
    for name, limit in limits.items():
        if len(record.get(name) or "") > limit:
            return f"{name}: {len(record[name]):,} characters, over the limit of {limit:,}"
    try:
        published_day(record.get("published"))
    except ValueError as error:
        return f"published: {error}"
    return None


def line_chunks(path: Path, size: int, start: int) -> Iterator[tuple[int, list[tuple[int, bytes]]]]:
    """From chunk `start` on: the lines each chunk read, and its (line number, line) pairs, blank lines left out."""
    with path.open("rb") as handle:
        numbered = enumerate(islice(handle, start * size, None), start=start * size + 1)
        while chunk := list(islice(numbered, size)):
            yield len(chunk), [(row, line) for row, line in chunk if line.strip()]


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
    store: MonitorStore, predictor: StancePredictor, rows: list[tuple[int, IncomingDocument]]
) -> tuple[IngestReport, list[Reject]]:
    """Ingest the chunk's documents, its conflicting lines rejected; a conflict another writer (the service) made
    meanwhile is found on a second look, and its line rejected too."""
    for attempt in range(2):
        documents, conflicts = without_conflicts(store, rows)
        try:
            return store.ingest.ingest(documents, predictor.predict), conflicts
        except (DocumentConflict, StoredMeanwhile):
            if attempt:
                raise
    raise AssertionError("unreachable")


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


def open_store(config: MonitorFileConfig) -> tuple[MonitorStore, StancePredictor]:
    threads = config.threads or None
    embedder = SentenceEmbedder.served(*locate(config.embedder), threads)
    model_dir, model_tag = locate(config.model)
    predictor = StancePredictor.from_dir(model_dir, chosen_runtime(model_dir, "auto"), threads, model_tag=model_tag)
    return MonitorStore(config.database_url, embedder, SETTINGS.match), predictor


def run(config: MonitorFileConfig) -> FileProgress:
    path = Path(config.input)
    if not path.is_file():
        raise BatchInputError(f"{path}: no such file")
    if config.chunk_documents < 1:
        raise BatchInputError(f"--chunk_documents {config.chunk_documents}: must be at least 1")
    job = {
        **InputIdentity.of(path).job_fields(),
        "chunk_documents": config.chunk_documents,
        "database": make_url(config.database_url).render_as_string(hide_password=True),
        "model": config.model,
        "embedder": config.embedder,
    }
    with output_lock(config.rejects_path):
        progress = load_progress(config, job)
        with config.rejects_path.open("ab") as rejects_file:
            rejects_file.truncate(progress.rejects_bytes)
        store, predictor = open_store(config)
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
            for lines_read, chunk in line_chunks(path, config.chunk_documents, progress.chunks_done):
                parsed = [(row, document_of(row, line)) for row, line in chunk]
                rejects = [found for _, found in parsed if isinstance(found, Reject)]
                report, conflicts = ingest_chunk(
                    store, predictor, [(row, found) for row, found in parsed if not isinstance(found, Reject)]
                )
                rejects = sorted(rejects + conflicts, key=lambda reject: reject.row)
                rejects_file.write("".join(reject.to_json() + "\n" for reject in rejects).encode())
                rejects_file.flush()
                os.fsync(rejects_file.fileno())
                progress.chunks_done += 1
                progress.rejects_bytes = rejects_file.tell()
                progress.stored += len(report.stored)
                progress.already_stored += len(report.already_stored)
                progress.rejected += len(rejects)
                progress.answers += report.answers
                write_atomically(config.progress_path, json.dumps(asdict(progress)))
                bar.update(lines_read)
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
