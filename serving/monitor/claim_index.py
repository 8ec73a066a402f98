"""The active claims' vectors as one index, kept in step with the claim table by its numbered changes.

Each claim registered, retired or watched again is a row of `claim_changes` (claims.py). An index remembers the last
change it has applied; when the table has newer ones (made by this worker, another worker, or a batch job on the same
database), it reads the claims they name, and only those, and makes the next index from the current one
(matching.py: `ClaimIndex.changed`). So registering one claim among 100,000 costs each worker one small query and one
row, not a reload of every vector. An active claim without a vector of this embedding model (registered before the
model changed, or by a caller that stored no vector) is embedded then, and its vector stored, so no watched claim is
silently left out of matching.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from models.embedding import SentenceEmbedder
from serving.monitor.claims import IN_LIST_ROWS, ClaimEmbeddings, active_embeddings, chunked
from serving.monitor.matching import ClaimIndex, MatchSettings, claim_index
from serving.monitor.neighbour_graph import NeighbourGraph
from serving.monitor.tables import ClaimChangeRow, ClaimRow


class ClaimIndexCache:
    def __init__(
        self, sessions: sessionmaker[Session], embedder: SentenceEmbedder, settings: MatchSettings | None = None
    ) -> None:
        self.sessions = sessions
        self.embedder = embedder
        self.settings = settings or MatchSettings()
        self.seen: int | None = None
        """The last change applied to `index` (None: none read yet)."""
        self.index = ClaimIndex((), np.zeros((0, embedder.dimension), dtype=np.float32))
        self.graph = NeighbourGraph(embedder.dimension)
        """Kept while the claims dip below the cutoff: crossing it again edits the graph rather than rebuilding it."""
        self.updating = threading.Lock()
        """One update at a time: an index is made from the one before it, and the graph is shared."""

    def current(self) -> ClaimIndex:
        """The index as of the newest change: one query when nothing changed."""
        with self.sessions() as session:
            newest = latest_change(session)
        if newest == self.seen:
            return self.index
        with self.updating:
            if newest != self.seen:
                self.catch_up()
            return self.index

    def catch_up(self) -> None:
        with self.sessions() as session:
            newest = latest_change(session)
            changed = None if self.seen is None else changed_claims(session, self.seen, newest)
        if changed is None:
            active = self.active()
            self.index = claim_index(active.ids, active.vectors, self.settings, self.graph)
        else:
            active = self.active(changed)
            gone = set(changed) - set(active.ids)
            self.index = self.index.changed(gone, active.ids, active.vectors, self.settings, self.graph)
        self.seen = newest

    def active(self, claim_ids: Sequence[str] | None = None) -> ClaimEmbeddings:
        """The active claims' vectors (of `claim_ids` only, where given), each claim embedded first if it has none
        of this model: what an index is built from, here or (make monitor on Spark) on the executors."""
        embed_missing(self.sessions, self.embedder, claim_ids)
        with self.sessions() as session:
            return active_embeddings(session, self.embedder.name, self.embedder.dimension, claim_ids)


def latest_change(session: Session) -> int:
    return session.scalar(select(func.max(ClaimChangeRow.seq))) or 0


def changed_claims(session: Session, after: int, until: int) -> list[str]:
    """The claims changed after change `after`, up to `until`, each once."""
    query = select(ClaimChangeRow.claim_id).where(ClaimChangeRow.seq > after, ClaimChangeRow.seq <= until)
    return sorted(set(session.scalars(query)))


def embed_missing(
    sessions: sessionmaker[Session], embedder: SentenceEmbedder, claim_ids: Sequence[str] | None = None
) -> int:
    """Embed the active claims (of `claim_ids`, where given) that have no vector of this model; how many were."""
    query = select(ClaimRow).where(
        ClaimRow.retired_at.is_(None),
        or_(ClaimRow.embedding_model.is_(None), ClaimRow.embedding_model != embedder.name),
    )
    with sessions.begin() as session:
        missing = []
        for part in [None] if claim_ids is None else chunked(claim_ids, IN_LIST_ROWS):
            missing += session.scalars(query if part is None else query.where(ClaimRow.id.in_(part)))
        vectors = embedder.embed([claim.text for claim in missing])
        for claim, vector in zip(missing, vectors, strict=True):
            claim.embedding, claim.embedding_model = vector.astype(np.float32).tobytes(), embedder.name
    return len(missing)
