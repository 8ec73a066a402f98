"""Which watched claims a document touches: cosine similarity of embeddings, before any stance pass.

A document is a few vectors (its title and its sentences, models/embedding.py) and touches a claim as closely as
its closest vector does. The candidates are the claims at or above `threshold`, at most `top_k` of them, the most
similar first; only those pairs reach the stance model. The threshold is chosen on validation pairs
(eval/matching_quality.py), never on the held-out split it is reported on.

The index is numpy brute force: exact (no candidate is lost to an approximate search), rebuilt from the claim table
when it changes (claim_index.py), one matrix product per document.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from pydantic import BaseModel, Field

from models.embedding import SentenceEmbedder
from models.sentences import split_sentences


class Reading(StrEnum):
    """What a document is embedded as, after its title (eval/matching_quality.py compares them)."""

    SENTENCES = "sentences"
    """Each sentence on its own."""
    PASSAGES = "passages"
    """Runs of whole sentences, each as long as the embedder's window allows: the whole text in a few vectors."""
    WHOLE_TEXT = "whole text"
    """The text as one piece, cut at the embedder's window."""


class MatchSettings(BaseModel, frozen=True):
    """How many claims a document may reach, and how close it must be.

    The defaults were chosen on validation (`make matching`, reports/matching/; FNC-1 headlines the default recipe
    holds out of training, bodies as documents, the int8 embedder): of the readings, passages stopped the most
    unrelated pairs at each recall, and 0.384 is the highest cosine that keeps 98% of the related validation pairs
    (keeping 99% let 9% of unrelated pairs through, over the 5% the monitor allows).
    """

    threshold: float = Field(default=0.384, ge=-1.0, le=1.0)
    """Cosine similarity a claim needs to any one of the document's vectors."""
    reading: Reading = Reading.PASSAGES
    """What a document is embedded as (besides its title)."""
    top_k: int = Field(default=100, ge=1)
    """Most claims one document is scored against: a bound on the stance passes of one document, not a filter of
    quality. FNC-1 watches many headlines of one story, and 20 there dropped a sixth of the related pairs that the
    threshold kept (eval/matching_quality.py reports both)."""


@dataclass(frozen=True)
class Candidate:
    claim_id: str
    similarity: float


class ClaimIndex:
    """The active claims' unit vectors, one row each, searched exactly."""

    def __init__(self, ids: tuple[str, ...], vectors: np.ndarray) -> None:
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} claim ids for {len(vectors)} vectors")
        self.ids = ids
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.ids)

    def similarities(self, document_vectors: np.ndarray) -> np.ndarray:
        """Each claim's closest cosine to any of the document's vectors."""
        if not len(self.ids) or not len(document_vectors):
            return np.full(len(self.ids), -1.0, dtype=np.float32)
        return (document_vectors @ self.vectors.T).max(axis=0)

    def candidates(self, document_vectors: np.ndarray, settings: MatchSettings) -> list[Candidate]:
        """The claims at or above the threshold, the closest first, at most top_k (ties in the index's order)."""
        similarity = self.similarities(document_vectors)
        above = np.flatnonzero(similarity >= settings.threshold)
        ranked = above[np.lexsort((above, -similarity[above]))][: settings.top_k]
        return [Candidate(self.ids[i], float(similarity[i])) for i in ranked]


def document_pieces(
    embedder: SentenceEmbedder, text: str, title: str | None = None, reading: Reading = Reading.SENTENCES
) -> list[str]:
    """The title (where there is one), then the text as `reading` cuts it."""
    pieces = [title.strip()] if title and title.strip() else []
    if reading is Reading.WHOLE_TEXT:
        return [*pieces, text]
    sentences = split_sentences(text) or [text]
    if reading is Reading.SENTENCES:
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
    embedder: SentenceEmbedder, text: str, title: str | None = None, reading: Reading = Reading.SENTENCES
) -> np.ndarray:
    return embedder.embed(document_pieces(embedder, text, title, reading))
