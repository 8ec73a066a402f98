"""The claim monitor as the service and the batch job use it: one database, one embedding model, one matcher.

Every method is synchronous (SQLAlchemy's sessions are), and the service calls them off its event loop. Ingest is
left in its three steps (`ingest.plan`, the stance model, `ingest.commit`), so each caller scores its own way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from models.embedding import SentenceEmbedder
from serving.monitor import claims, pictures
from serving.monitor.claims import WatchedClaim
from serving.monitor.database import monitor_engine, sessions, upgrade
from serving.monitor.documents import DocumentIngest
from serving.monitor.matching import MatchSettings
from serving.monitor.pictures import ANY_DAY, ClaimPicture, DateRange, RecentDocument


@dataclass(frozen=True)
class NewClaim:
    text: str
    id: str | None = None
    tags: tuple[str, ...] = field(default=())


class MonitorStore:
    def __init__(self, database_url: str, embedder: SentenceEmbedder, match: MatchSettings | None = None) -> None:
        self.engine = monitor_engine(database_url)
        upgrade(self.engine)
        self.sessions = sessions(self.engine)
        self.embedder = embedder
        self.ingest = DocumentIngest(self.sessions, embedder, match)

    def register(self, new: Sequence[NewClaim]) -> list[WatchedClaim]:
        """Register claims, embedded first, in one transaction: a conflict anywhere registers none of them."""
        vectors = self.embedder.embed([claim.text for claim in new])
        with self.sessions.begin() as session:
            return [
                claims.register(
                    session,
                    claim.text,
                    tags=claim.tags,
                    claim_id=claim.id,
                    embedding=vector,
                    embedding_model=self.embedder.name,
                )
                for claim, vector in zip(new, vectors, strict=True)
            ]

    def claims(
        self, include_retired: bool = False, tag: str | None = None, limit: int | None = None, after: str | None = None
    ) -> list[WatchedClaim]:
        with self.sessions() as session:
            return claims.list_claims(session, include_retired=include_retired, tag=tag, limit=limit, after=after)

    def retire(self, claim_id: str) -> WatchedClaim:
        with self.sessions.begin() as session:
            return claims.retire(session, claim_id)

    def picture(
        self, claim_id: str, labels: tuple[str, ...], days: DateRange = ANY_DAY, model: str | None = None
    ) -> ClaimPicture:
        with self.sessions() as session:
            return pictures.claim_picture(session, claim_id, labels, days, model)

    def recent(self, limit: int, since: datetime | None = None) -> list[RecentDocument]:
        with self.sessions() as session:
            return pictures.recent_documents(session, limit, since)

    def close(self) -> None:
        self.engine.dispose()
