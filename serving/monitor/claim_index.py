"""The active claims' vectors as one index, kept in step with the claim table.

The index is rebuilt only when the table changed (a claim registered or retired, by this process or another one on
the same database: the service and a batch job share it). An active claim without a vector of this embedding
model (registered before the model changed, or by a caller that stored no vector) is embedded then, and its vector
stored, so no watched claim is silently left out of matching. Past `MatchSettings.approximate_from` claims the new
index keeps the old one's neighbour graph, edited to the new claims, rather than building one anew.
"""

from __future__ import annotations

import threading

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from models.embedding import SentenceEmbedder
from serving.monitor.claims import ClaimEmbeddings, active_embeddings
from serving.monitor.matching import ClaimIndex, MatchSettings, claim_index
from serving.monitor.neighbour_graph import NeighbourGraph
from serving.monitor.tables import ClaimRow


class ClaimIndexCache:
    def __init__(
        self, sessions: sessionmaker[Session], embedder: SentenceEmbedder, settings: MatchSettings | None = None
    ) -> None:
        self.sessions = sessions
        self.embedder = embedder
        self.settings = settings or MatchSettings()
        self.signature: tuple | None = None
        self.index = ClaimIndex((), np.zeros((0, embedder.dimension), dtype=np.float32))
        self.graph = NeighbourGraph(embedder.dimension)
        """Kept while the claims dip below the cutoff: crossing it again edits the graph rather than rebuilding it."""
        self.rebuilding = threading.Lock()
        """The service's threads share the graph: two rebuilds at once could sync it in one order and keep their
        indexes in the other, leaving the current index with a claim the graph has dropped (and build a large
        graph twice)."""

    def current(self) -> ClaimIndex:
        with self.sessions() as session:
            signature = table_signature(session)
        if signature == self.signature:
            return self.index
        with self.rebuilding:
            with self.sessions() as session:
                signature = table_signature(session)  # another thread may have rebuilt meanwhile
            if signature != self.signature:
                active = self.active()
                index = claim_index(active.ids, active.vectors, self.settings, self.graph)
                self.index, self.signature = index, signature
            return self.index

    def active(self) -> ClaimEmbeddings:
        """The active claims' vectors, each claim embedded first if it has none of this model: what an index is
        built from, here or (make monitor on Spark) on the executors."""
        embed_missing(self.sessions, self.embedder)
        with self.sessions() as session:
            return active_embeddings(session, self.embedder.name, self.embedder.dimension)


def table_signature(session: Session) -> tuple:
    """Changes whenever a claim is registered or retired."""
    query = select(
        func.count(ClaimRow.id),
        func.max(ClaimRow.created_at),
        func.max(ClaimRow.retired_at),
        func.count(ClaimRow.retired_at),
    )
    return tuple(session.execute(query).one())


def embed_missing(sessions: sessionmaker[Session], embedder: SentenceEmbedder) -> int:
    """Embed the active claims that have no vector of this model; how many were."""
    with sessions.begin() as session:
        missing = list(
            session.scalars(
                select(ClaimRow).where(
                    ClaimRow.retired_at.is_(None),
                    or_(ClaimRow.embedding_model.is_(None), ClaimRow.embedding_model != embedder.name),
                )
            )
        )
        vectors = embedder.embed([claim.text for claim in missing])
        for claim, vector in zip(missing, vectors, strict=True):
            claim.embedding, claim.embedding_model = vector.astype(np.float32).tobytes(), embedder.name
    return len(missing)
