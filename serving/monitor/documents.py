"""Incoming documents: checked, then stored with the answers of the claims they touch, all in one transaction.

Ingest is idempotent by document id. A document already stored with the same title and text is reported as
`already_stored` and nothing is written again, so a retried call (the caller timed out, the service was killed
mid-call) is safe; the same id with other content is refused by name, never overwritten or dropped. Either every
new document of a call is stored, with all its answers, or none is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Annotated

import pydantic
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models.document_fields import ID_CHARS, SentDocument, published_day
from models.embedding import SentenceEmbedder
from models.labels import SIDED_STANCES
from models.pair import Pair
from models.result import StanceResult
from serving.monitor.audit import Writer, record
from serving.monitor.claim_index import ClaimIndexCache
from serving.monitor.claims import IN_LIST_ROWS, chunked
from serving.monitor.matching import Candidate, ClaimIndex, MatchSettings, document_vectors
from serving.monitor.tables import AnswerRow, ClaimRow, DocumentRow

StanceScorer = Callable[[Sequence[Pair]], list[StanceResult]]
"""The stance model as the monitor calls it: the service passes its micro-batcher, the batch job a predictor."""


class UnknownDocument(LookupError):
    """A document id the store does not hold."""

    def __init__(self, document_id: str) -> None:
        super().__init__(f"document id {document_id!r}: no stored document has this id")
        self.document_id = document_id


class TooManyDocuments(ValueError):
    """Storing a call's new documents would keep more than the service's cap."""

    def __init__(self, cap: int) -> None:
        super().__init__(
            f"the monitor stores at most {cap} documents (CLAIMSTANCE_MAX_STORED_DOCUMENTS); delete some first"
        )
        self.cap = cap


class DocumentConflict(ValueError):
    """A document id stored before with other content."""

    def __init__(self, document_id: str) -> None:
        super().__init__(f"id {document_id!r}: a document with this id is stored with another title or text")
        self.document_id = document_id


@dataclass(frozen=True, kw_only=True)
class IncomingDocument(SentDocument):
    """One document to check against every watched claim: a sent document (models/document_fields.py) whose id is
    the store's key, so a string."""

    id: Annotated[str, pydantic.Field(min_length=1, max_length=ID_CHARS)]

    def __post_init__(self) -> None:
        published_day(self.published)  # a ValueError naming the value, before anything is scored

    @cached_property
    def content_sha256(self) -> str:
        return hashlib.sha256(f"{self.title or ''}\x00{self.text}".encode()).hexdigest()


Matched = tuple[tuple[IncomingDocument, tuple[Candidate, ...]], ...]
"""Documents, each with the watched claims it reaches (closest first)."""


@dataclass(frozen=True)
class IngestReport:
    """What one ingest call did, by document id, in input order."""

    stored: tuple[str, ...]
    already_stored: tuple[str, ...]
    answers: int
    """Answers stored: the (document, claim) pairs matching let through to the stance model."""


ANSWER_FIELDS = tuple(field.name for field in fields(StanceResult))
"""An answer's columns carry the contract's field names (tables.AnswerRow): filled and read back by name."""


def answer_row(
    result: StanceResult, document_id: str, candidate: Candidate, at: datetime, source: str | None, day: date | None
) -> AnswerRow:
    contract = {name: getattr(result, name) for name in ANSWER_FIELDS}
    contract["evidence"] = [pydantic.TypeAdapter(type(item)).dump_python(item) for item in result.evidence]
    contract["scores"] = dict(result.scores)
    return AnswerRow(
        **contract,
        **side_strengths(result),
        label_score=result.scores[result.label],
        source=source,
        published_day=day,
        document_id=document_id,
        claim_id=candidate.claim_id,
        similarity=candidate.similarity,
        created_at=at,
    )


def side_strengths(result: StanceResult) -> dict[str, float | None]:
    """For each side, the highest score of an evidence sentence that takes it (None where none does): the columns a
    claim's strongest evidence is found by (tables.AnswerRow)."""
    strengths: dict[str, float | None] = {f"{side}_strength": None for side in SIDED_STANCES}
    for sentence in result.evidence:
        if sentence.label in SIDED_STANCES:
            key, score = f"{sentence.label}_strength", sentence.scores[sentence.label]
            strengths[key] = max(score, strengths[key] or score)
    return strengths


class StoredMeanwhile(RuntimeError):
    """Another call stored one of the plan's documents after it was made; nothing of this plan was written."""


@dataclass(frozen=True)
class IngestPlan:
    """A call's documents matched to the claims, before the stance model: the pairs to score, and what to store
    with their answers. The slow part (scoring) runs between `plan` and `commit`, outside any transaction, so the
    service can run it on its batcher and drop it when the caller goes away, with nothing stored."""

    documents: tuple[IncomingDocument, ...]
    """Each id once, in input order."""
    already_stored: frozenset[str]
    matched: Matched
    """The new documents, each with the claims it reaches."""
    pairs: tuple[Pair, ...]
    """(claim, document) for each match, in the order of `matched`."""


BATCH_WRITER = Writer(None, "make monitor")
"""Who stores what a batch job ingests."""


class DocumentIngest:
    """Matches each new document to the watched claims and stores it with the stance model's answers."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        embedder: SentenceEmbedder,
        match: MatchSettings | None = None,
        max_documents: int | None = None,
    ) -> None:
        self.sessions = sessions
        self.embedder = embedder
        self.match = match or MatchSettings()
        self.claims = ClaimIndexCache(sessions, embedder, self.match)
        self.max_documents = max_documents
        """The most documents the store keeps (None: no cap): a call that would pass it stores none of its own."""

    def plan(
        self, documents: Sequence[IncomingDocument], matches: Mapping[str, tuple[Candidate, ...]] | None = None
    ) -> IngestPlan:
        """Which documents are new and which claims each reaches; DocumentConflict for an id stored (or sent
        twice) with other content, before anything is scored. `matches` (document id to its claims): matching
        done already, by `make monitor`'s Spark executors; None: matched here."""
        unique, stored = self.new_documents(documents)
        new = [document for document in unique if document.id not in stored]
        if matches is None:  # embedding and matching outside any transaction: they are the slow part
            matched = match_documents(self.claims.current(), self.embedder, self.match, new)
        else:
            matched = tuple((document, matches[document.id]) for document in new)
        return self.planned(unique, stored, matched)

    def new_documents(self, documents: Sequence[IncomingDocument]) -> tuple[list[IncomingDocument], dict[str, str]]:
        """The call's documents, each id once, and those of them already stored (id to content hash); refused whole
        for a conflict (DocumentConflict) or for passing the cap (TooManyDocuments)."""
        with self.sessions() as session:
            stored = stored_hashes(session, [document.id for document in documents])
            if taken := conflicting(documents, stored):
                raise DocumentConflict(documents[taken[0]].id)
            unique = list({document.id: document for document in documents}.values())  # same id: same content now
            new = [document for document in unique if document.id not in stored]
            if self.max_documents is not None and new and stored_count(session) + len(new) > self.max_documents:
                raise TooManyDocuments(self.max_documents)
        return unique, stored

    def matched(self, index: ClaimIndex, document: IncomingDocument) -> tuple[Candidate, ...]:
        """The claims of `index` one document reaches: one unit of the work the service runs in its lanes."""
        return tuple(index.candidates(document_vectors(self.embedder, document.text, document.title,
                                                       self.match.cut), self.match))  # fmt: skip

    def planned(self, unique: Sequence[IncomingDocument], stored: Mapping[str, str], matched: Matched) -> IngestPlan:
        with self.sessions() as session:
            texts = claim_texts(session, {candidate.claim_id for _, found in matched for candidate in found})
        return IngestPlan(tuple(unique), frozenset(stored), matched, claim_pairs(matched, texts))

    def commit(self, plan: IngestPlan, results: Sequence[StanceResult], writer: Writer = BATCH_WRITER) -> IngestReport:
        """Store the plan's new documents with their answers (`results`, one per pair), all or nothing, and who
        stored them."""
        if len(results) != len(plan.pairs):
            raise ValueError(f"{len(results)} answers for {len(plan.pairs)} pairs")
        now = datetime.now(UTC)
        answers = iter(results)
        rows = [
            answer_row(next(answers), document.id, candidate, now, document.source, published_day(document.published))
            for document, found in plan.matched
            for candidate in found
        ]
        try:
            with self.sessions.begin() as session:
                session.add_all(document_row(document, now) for document, _ in plan.matched)
                session.flush()  # the documents before the answers that refer to them
                session.add_all(rows)
                if plan.matched:
                    record(session, writer, [document.id for document, _ in plan.matched])
        except IntegrityError as error:
            raise StoredMeanwhile(str(error.orig)) from error
        return IngestReport(
            stored=tuple(document.id for document, _ in plan.matched),
            already_stored=tuple(document.id for document in plan.documents if document.id in plan.already_stored),
            answers=len(rows),
        )

    def ingest(
        self,
        documents: Sequence[IncomingDocument],
        score: StanceScorer,
        retries: int = 1,
        matches: Mapping[str, tuple[Candidate, ...]] | None = None,
    ) -> IngestReport:
        """Plan, score and commit in one go (the batch job's way). A document another call stored meanwhile makes
        the plan again, once: then it is seen as stored (or as a conflict) and the rest is written."""
        plan = self.plan(documents, matches)
        try:
            return self.commit(plan, score(list(plan.pairs)) if plan.pairs else [])
        except StoredMeanwhile:
            if not retries:
                raise
            return self.ingest(documents, score, retries - 1, matches)


def match_documents(
    index: ClaimIndex, embedder: SentenceEmbedder, settings: MatchSettings, documents: Sequence[IncomingDocument]
) -> Matched:
    """Each document with the claims of `index` it reaches: what the service, `make monitor` and its Spark
    executors all run before the stance model."""
    return tuple(
        (
            document,
            tuple(index.candidates(document_vectors(embedder, document.text, document.title, settings.cut), settings)),
        )
        for document in documents
    )


def claim_pairs(matched: Matched, texts: Mapping[str, str]) -> tuple[Pair, ...]:
    """(claim, document) for each match, in the order of `matched`: the stance model's input."""
    return tuple(
        Pair(texts[candidate.claim_id], document.text, document.title)
        for document, found in matched
        for candidate in found
    )


def conflicting(documents: Sequence[IncomingDocument], stored: dict[str, str]) -> list[int]:
    """Positions of the documents whose id is taken by other content: stored so (`stored`: id to content hash), or
    by an earlier document of the same call."""
    seen = dict(stored)
    return [i for i, d in enumerate(documents) if seen.setdefault(d.id, d.content_sha256) != d.content_sha256]


def stored_hashes(session: Session, document_ids: list[str]) -> dict[str, str]:
    query = select(DocumentRow.id, DocumentRow.content_sha256).where(DocumentRow.id.in_(document_ids))
    return dict(session.execute(query).all())


def stored_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(DocumentRow)) or 0


@dataclass(frozen=True)
class DeletedDocument:
    id: str
    answers: int
    """The answers deleted with it."""


def delete_document(session: Session, document_id: str) -> DeletedDocument:
    """Delete a stored document with every answer about it."""
    document = session.get(DocumentRow, document_id)
    if document is None:
        raise UnknownDocument(document_id)
    answers = session.scalar(select(func.count()).select_from(AnswerRow).where(AnswerRow.document_id == document_id))
    session.delete(document)  # its answers go with it (ON DELETE CASCADE)
    session.flush()
    return DeletedDocument(document_id, answers or 0)


def claim_texts(session: Session, claim_ids: set[str]) -> dict[str, str]:
    texts = {}
    for part in chunked(sorted(claim_ids), IN_LIST_ROWS):
        texts |= dict(session.execute(select(ClaimRow.id, ClaimRow.text).where(ClaimRow.id.in_(part))).all())
    return texts


def document_row(document: IncomingDocument, at: datetime) -> DocumentRow:
    return DocumentRow(
        **asdict(document),
        published_day=published_day(document.published),
        content_sha256=document.content_sha256,
        ingested_at=at,
    )
