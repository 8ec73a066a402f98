"""This machine's engine of `make monitor`: each chunk read, matched, scored and committed in turn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from serving.jobs.rejects import Reject
from serving.monitor.document_lines import line_document
from serving.monitor.documents import IncomingDocument
from serving.monitor.ingest_file.chunks import ChunkDone, ingest_chunk, line_chunks
from serving.monitor.ingest_file.config import MonitorFileConfig, open_predictor
from serving.monitor.store import MonitorStore


def local_chunks(config: MonitorFileConfig, store: MonitorStore, start: int) -> Iterator[ChunkDone]:
    """This machine's engine: from chunk `start` on, each chunk read, matched, scored and committed in turn."""
    predictor = open_predictor(config)
    for chunk in line_chunks(Path(config.input), config.chunk_documents, start):
        parsed = [(row, line_document(row, line)) for row, line in chunk]
        documents = [(row, found) for row, found in parsed if isinstance(found, IncomingDocument)]
        report, conflicts = ingest_chunk(store, documents, predictor.predict)
        yield ChunkDone(len(chunk), report, [found for _, found in parsed if isinstance(found, Reject)] + conflicts)
