"""A chunk of `make monitor`'s lines, read and stored by either engine: the lines of a chunk, its documents without
the conflicting ones, the ingest itself, and what a chunk did."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path

from serving.jobs.lines import OverlongLine, bounded_lines
from serving.jobs.rejects import Reject
from serving.monitor.document_lines import MAX_LINE_BYTES
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
