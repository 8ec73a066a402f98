"""Which watched claims a document touches: cosine similarity of embeddings, before any stance pass.

A document is a few vectors (its title and its sentences, models/embedding.py) and touches a claim as closely as
its closest vector does. The candidates are the claims at or above `threshold`, at most `top_k` of them, the most
similar first; only those pairs reach the stance model. The threshold is chosen on validation pairs
(eval/matching_quality.py), never on the held-out split it is reported on.

The index is numpy brute force up to `MatchSettings.approximate_from` claims: exact (no candidate is lost to an
approximate search), rebuilt from the claim table when it changes (claim_index.py), one matrix product per document.
Past it, a neighbour graph (neighbour_graph.py) shortlists each document vector's `top_k` closest claims, and only
those are scored exactly. That is exact whenever the graph finds each vector's true `top_k`: a claim among the
document's `top_k` is among the `top_k` of the vector it is closest to, since any claim closer to that vector is
closer to the document too. What the graph misses is measured by `make matching` (`graph recall`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

import numpy as np
from pydantic import BaseModel, Field

from models.embedding import SentenceEmbedder
from models.sentences import split_sentences
from serving.monitor.neighbour_graph import NeighbourGraph


class DocumentCut(StrEnum):
    """What a document is embedded as, after its title (eval/matching_quality.py compares them)."""

    SENTENCES = "sentences"
    """Each sentence on its own."""
    PASSAGES = "passages"
    """Runs of whole sentences, each as long as the embedder's window allows: the whole text in a few vectors."""
    WHOLE_TEXT = "whole text"
    """The text as one piece, cut at the embedder's window."""


class MatchSettings(BaseModel, frozen=True, use_attribute_docstrings=True):
    """How many claims a document may reach, and how close it must be.

    The defaults were chosen on validation (`make matching`, reports/matching/; FNC-1 headlines the default recipe
    holds out of training, bodies as documents, the int8 embedder): of the cuts, passages stopped the most
    unrelated pairs at each recall, and 0.384 is the highest cosine that keeps 98% of the related validation pairs
    (keeping 99% let 9% of unrelated pairs through, over the 5% the monitor allows).
    """

    threshold: float = Field(default=0.384, ge=-1.0, le=1.0)
    """Cosine similarity a claim needs to any one of the document's vectors."""
    cut: DocumentCut = DocumentCut.PASSAGES
    """What a document is embedded as (besides its title)."""
    top_k: int = Field(default=100, ge=1)
    """Most claims one document is scored against: a bound on the stance passes of one document, not a filter of
    quality. FNC-1 watches many headlines of one story, and 20 there dropped a sixth of the related pairs that the
    threshold kept (eval/matching_quality.py reports both)."""
    approximate_from: int = Field(default=20_000, ge=1)
    """From how many watched claims a neighbour graph shortlists them (approximate) instead of one product with
    every claim (exact): eval/speed/bench_matching.py times both, and `make matching` measures what the graph loses."""


@dataclass(frozen=True)
class Candidate:
    claim_id: str
    similarity: float


class ClaimIndex:
    """The active claims' unit vectors, one row each, searched exactly, or through a neighbour graph brought in step
    with them (`graph`).

    An index is never changed once made: `changed` makes the next one from it, sharing its rows (their buffer grows
    by appending, so an index still in use never sees a row of its own change), with the claims gone masked out,
    so one registered or retired claim costs its own row, not a copy of every claim."""

    def __init__(self, ids: tuple[str, ...], vectors: np.ndarray, graph: NeighbourGraph | None = None) -> None:
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} claim ids for {len(vectors)} vectors")
        self.row_ids = ids
        """The claim of each row, a claim gone since still among them (`live` says which are not)."""
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.buffer = self.vectors
        """Rows past len(ids) are room for the next index's new claims."""
        self.live = np.ones(len(ids), dtype=bool)
        """False for a claim gone since its row was written (retired, or written again below)."""
        self.row_of_id = {claim_id: row for row, claim_id in enumerate(ids)}
        self.graph = graph
        self.row_of_key = np.zeros(0, dtype=np.int64)
        if graph is not None:
            self.link(graph.sync(ids, self.vectors), np.arange(len(ids)))

    def __len__(self) -> int:
        """Active claims."""
        return int(self.live.sum())

    @cached_property
    def ids(self) -> tuple[str, ...]:
        """The active claims, in row order."""
        return tuple(claim_id for claim_id, live in zip(self.row_ids, self.live, strict=True) if live)

    def link(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """Map the graph's `keys` to these `rows` (a copy of the map: an older index keeps its own)."""
        size = max(len(self.row_of_key), int(keys.max(initial=-1)) + 1)
        row_of_key = np.full(size, -1, dtype=np.int64)
        row_of_key[: len(self.row_of_key)] = self.row_of_key
        row_of_key[keys] = rows
        self.row_of_key = row_of_key

    def changed(
        self, gone: set[str], ids: tuple[str, ...], vectors: np.ndarray, settings: MatchSettings, graph: NeighbourGraph
    ) -> ClaimIndex:
        """The next index: these claims `gone`, and `ids` (with their `vectors`) watched now, a claim among them
        that this index holds already written anew. Dead rows past half of all are compacted away."""
        gone = (gone | set(ids)) & self.row_of_id.keys()
        live = self.live.copy()
        live[[self.row_of_id[claim_id] for claim_id in gone]] = False
        dead = len(live) - int(live.sum())
        if dead > max(COMPACT_FROM, len(live) // 2):
            kept = tuple(claim_id for claim_id, alive in zip(self.row_ids, live, strict=True) if alive)
            rows = np.concatenate([self.vectors[live], vectors]) if len(ids) else self.vectors[live]
            return claim_index((*kept, *ids), rows, settings, graph)
        index = object.__new__(ClaimIndex)
        index.row_ids = (*self.row_ids, *ids)
        index.buffer = appended(self.buffer, len(self.row_ids), np.asarray(vectors, dtype=np.float32))
        index.vectors = index.buffer[: len(index.row_ids)]
        index.live = np.concatenate([live, np.ones(len(ids), dtype=bool)])
        index.row_of_id = self.row_of_id  # shared: only the newest index is ever changed (under its cache's lock)
        index.row_of_id.update((claim_id, len(self.row_ids) + k) for k, claim_id in enumerate(ids))
        index.row_of_key = self.row_of_key
        index.graph = graph if len(index) >= settings.approximate_from else None
        if index.graph is not None and self.graph is None:  # crossing the cutoff: the graph takes every claim now
            alive = np.flatnonzero(index.live)
            index.link(graph.sync(index.ids, index.vectors[alive]), alive)
        elif index.graph is not None:
            index.link(graph.edit(sorted(gone), ids, vectors), np.arange(len(self.row_ids), len(index.row_ids)))
        return index

    def similarities(self, document_vectors: np.ndarray) -> np.ndarray:
        """Each claim's closest cosine to any of the document's vectors (every row, exactly; -inf for a row gone)."""
        if not len(self.row_ids) or not len(document_vectors):
            return np.full(len(self.row_ids), -np.inf, dtype=np.float32)
        similarity = (document_vectors @ self.vectors.T).max(axis=0)
        similarity[~self.live] = -np.inf
        return similarity

    def candidates(self, document_vectors: np.ndarray, settings: MatchSettings) -> list[Candidate]:
        """The claims at or above the threshold, the closest first, at most top_k (ties in the index's order)."""
        if self.graph is None or not len(self.row_ids) or not len(document_vectors):
            rows, similarity = np.arange(len(self.row_ids)), self.similarities(document_vectors)
        else:
            rows = self.shortlist(document_vectors, settings.top_k)
            similarity = (document_vectors @ self.vectors[rows].T).max(axis=0)
        above = np.flatnonzero(similarity >= settings.threshold)
        ranked = above[np.lexsort((rows[above], -similarity[above]))][: settings.top_k]
        return [Candidate(self.row_ids[rows[i]], float(similarity[i])) for i in ranked]

    def shortlist(self, document_vectors: np.ndarray, top_k: int) -> np.ndarray:
        """The live rows the graph finds among each document vector's `top_k` closest, in row order. A key this
        index does not know (a claim another thread added to the shared graph since) is skipped."""
        keys = self.graph.nearest(document_vectors, top_k)
        keys = keys[keys < len(self.row_of_key)]
        rows = self.row_of_key[keys]
        rows = rows[(rows >= 0) & (rows < len(self.live))]
        return np.sort(rows[self.live[rows]])


COMPACT_FROM = 1024
"""Dead rows an index keeps before it compacts them away (and from then on, as many as half of its rows)."""


def appended(buffer: np.ndarray, used: int, rows: np.ndarray) -> np.ndarray:
    """`buffer` with `rows` written after its first `used` rows: in place while it has room (the rows past `used` are
    no index's yet), else in a new buffer of twice the size."""
    if used + len(rows) > len(buffer):
        grown = np.empty((max(2 * len(buffer), used + len(rows), 16), buffer.shape[1]), dtype=np.float32)
        grown[:used] = buffer[:used]
        buffer = grown
    buffer[used : used + len(rows)] = rows
    return buffer


def claim_index(
    ids: tuple[str, ...], vectors: np.ndarray, settings: MatchSettings, graph: NeighbourGraph
) -> ClaimIndex:
    """The index matching runs on: exact below `settings.approximate_from` claims; from it on, through `graph` (its
    owner's, built from earlier claims or empty, edited to these)."""
    if len(ids) < settings.approximate_from:
        return ClaimIndex(ids, vectors)
    return ClaimIndex(ids, vectors, graph)


def document_pieces(
    embedder: SentenceEmbedder, text: str, title: str | None = None, cut: DocumentCut = DocumentCut.SENTENCES
) -> list[str]:
    """The title (where there is one), then the text as `cut` cuts it."""
    pieces = [title.strip()] if title and title.strip() else []
    if cut is DocumentCut.WHOLE_TEXT:
        return [*pieces, text]
    sentences = split_sentences(text) or [text]
    if cut is DocumentCut.SENTENCES:
        return pieces + sentences
    return pieces + passages(sentences, embedder.token_counts(sentences), embedder.max_tokens - 2)


def passages(sentences: list[str], tokens: list[int], budget: int) -> list[str]:
    """Consecutive sentences joined while they fit `budget` tokens; a longer sentence is a passage of its own."""
    runs: list[list[str]] = []
    used = 0
    for sentence, count in zip(sentences, tokens, strict=True):
        if not runs or used + count > budget:
            runs.append([])
            used = 0
        runs[-1].append(sentence)
        used += count
    return [" ".join(run) for run in runs]


def document_vectors(
    embedder: SentenceEmbedder, text: str, title: str | None = None, cut: DocumentCut = DocumentCut.SENTENCES
) -> np.ndarray:
    return embedder.embed(document_pieces(embedder, text, title, cut))
