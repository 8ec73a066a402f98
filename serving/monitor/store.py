"""The claim monitor as the service and the batch jobs use it: one database, one embedding model, one matcher.

Every method is synchronous (SQLAlchemy's sessions are), and the service calls them off its event loop. Ingest is
left in its three steps (`ingest.plan`, the stance model, `ingest.commit`), so each caller scores its own way. Every
write is recorded in the audit with who made it (audit.py), in the write's own transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import URL

from models.embedding import SentenceEmbedder
from models.result import StanceResult
from models.tracking import TrackedDocument
from serving.monitor import audit, claims, documents, summaries
from serving.monitor.audit import AuditEntry, Writer
from serving.monitor.claims import WatchedClaim
from serving.monitor.database import DatabaseSettings, monitor_engine, sessions, upgrade
from serving.monitor.documents import DocumentIngest, IncomingDocument
from serving.monitor.matching import ClaimIndex, MatchSettings
from serving.monitor.summaries import ANY_DAY, DateRange, RecentDocument, StoredClaimSummary


@dataclass(frozen=True)
class NewClaim:
    text: str
    id: str | None = None
    tags: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class StoreLimits:
    """The most claims the monitor watches and documents it keeps (None: no cap)."""

    max_watched_claims: int | None = None
    max_stored_documents: int | None = None


class MonitorStore:
    def __init__(
        self,
        database_url: str | URL,
        embedder: SentenceEmbedder,
        match: MatchSettings | None = None,
        limits: StoreLimits = StoreLimits(),
        database: DatabaseSettings | None = None,
    ) -> None:
        self.engine = monitor_engine(database_url, database)
        upgrade(self.engine)
        self.sessions = sessions(self.engine)
        self.embedder = embedder
        self.limits = limits
        self.ingest = DocumentIngest(self.sessions, embedder, match, limits.max_stored_documents)

    def register(self, new: Sequence[NewClaim], writer: Writer | None = None) -> list[WatchedClaim]:
        """Register claims, embedded first, in one transaction: a conflict anywhere registers none of them, and
        neither does a call that would watch more than the cap."""
        vectors = self.embedder.embed([claim.text for claim in new])
        with self.sessions.begin() as session:
            if self.limits.max_watched_claims is not None:
                unknown = {
                    claim.id for claim in new if claim.id is None or session.get(claims.ClaimRow, claim.id) is None
                }
                claims.check_cap(session, len(unknown), self.limits.max_watched_claims)
            watched = [
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
            audit.record(session, writer or Writer(None, "register"), [claim.id for claim in watched])
            return watched

    def claims(
        self, include_retired: bool = False, tag: str | None = None, limit: int | None = None, after: str | None = None
    ) -> list[WatchedClaim]:
        with self.sessions() as session:
            return claims.list_claims(session, include_retired=include_retired, tag=tag, limit=limit, after=after)

    def retire(self, claim_id: str, writer: Writer | None = None) -> WatchedClaim:
        with self.sessions.begin() as session:
            retired = claims.retire(session, claim_id)
            audit.record(session, writer or Writer(None, "retire"), [claim_id])
            return retired

    def unretire(self, claim_id: str, writer: Writer | None = None) -> WatchedClaim:
        with self.sessions.begin() as session:
            watched = claims.unretire(session, claim_id, self.limits.max_watched_claims)
            audit.record(session, writer or Writer(None, "unretire"), [claim_id])
            return watched

    def delete_document(self, document_id: str, writer: Writer | None = None) -> documents.DeletedDocument:
        """Delete a document with its answers."""
        with self.sessions.begin() as session:
            answers = documents.delete_document(session, document_id)
            audit.record(session, writer or Writer(None, "delete"), [document_id])
            return answers

    def new_documents(self, incoming: Sequence[IncomingDocument]) -> tuple[list[IncomingDocument], dict[str, str]]:
        """An ingest's first step (documents.DocumentIngest.new_documents): the service runs the rest on its models."""
        return self.ingest.new_documents(incoming)

    def claim_index(self) -> ClaimIndex:
        return self.ingest.claims.current()

    def planned(
        self, unique: Sequence[IncomingDocument], stored: Mapping[str, str], matched: documents.Matched
    ) -> documents.IngestPlan:
        return self.ingest.planned(unique, stored, matched)

    def commit(
        self, plan: documents.IngestPlan, results: Sequence[StanceResult], writer: Writer | None = None
    ) -> documents.IngestReport:
        return self.ingest.commit(plan, results, writer or documents.BATCH_WRITER)

    def summary(
        self, claim_id: str, labels: tuple[str, ...], days: DateRange = ANY_DAY, model: str | None = None
    ) -> StoredClaimSummary:
        with self.sessions() as session:
            return summaries.claim_summary(session, claim_id, labels, days, model)

    def documents(
        self,
        claim_id: str,
        limit: int,
        after: str | None = None,
        days: DateRange = ANY_DAY,
        model: str | None = None,
    ) -> list[TrackedDocument]:
        with self.sessions() as session:
            return summaries.claim_documents(session, claim_id, limit, after, days, model)

    def recent(self, limit: int, since: datetime | None = None) -> list[RecentDocument]:
        with self.sessions() as session:
            return summaries.recent_documents(session, limit, since)

    def audit(self, limit: int, before: int | None = None) -> list[AuditEntry]:
        with self.sessions() as session:
            return audit.audit_entries(session, limit, before)

    def close(self) -> None:
        self.engine.dispose()
