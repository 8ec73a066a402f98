"""The monitor's tables, as SQLAlchemy 2 declarative classes: the one description the migrations were written from
and the queries read.

Times are stored in UTC. A document's `published` is kept as the caller sent it (RFC 3339, its own offset) beside
the day it names, which is what a claim's summary over a date range selects on. An answer's label, relevance and
model are columns to select on; its scores and evidence are JSON, read back through the answer's contract
(models/result.py), so the contract is not written a second time as columns.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from models.document_fields import ID_CHARS, PUBLISHED_CHARS

TAG_LENGTH = 100
"""A claim's tag."""
MODEL_LENGTH = 256
"""A model's tag in the model store, `claimstance:<version>`."""
KEY_NAME_LENGTH = 100
"""An API key's name, as the audit records who wrote."""
SERIAL = BigInteger().with_variant(Integer, "sqlite")
"""A 64-bit row id that counts up by itself: PostgreSQL's bigserial; SQLite's INTEGER PRIMARY KEY is 64-bit and
counts up only under that exact type name."""


class Base(DeclarativeBase):
    pass


class ClaimRow(Base):
    """A watched claim. Retired claims stay, with their answers, so a claim's history can still be read."""

    __tablename__ = "claims"
    __table_args__ = (Index("ix_claims_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(ID_CHARS), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    """float32, unit length: embedded when registered, and again only if the embedding model changes."""
    embedding_model: Mapped[str | None] = mapped_column(String(MODEL_LENGTH), default=None)


class DocumentRow(Base):
    """An ingested document, kept whole so a new model can read it again (re-scoring): a column for each field of
    the one declaration of a document (models/document_fields.py: SentDocument; a test holds the two together)."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(ID_CHARS), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text, default=None)
    source: Mapped[str | None] = mapped_column(Text, default=None)
    url: Mapped[str | None] = mapped_column(Text, default=None)
    published: Mapped[str | None] = mapped_column(String(PUBLISHED_CHARS), default=None)
    published_day: Mapped[date | None] = mapped_column(Date, default=None, index=True)
    content_sha256: Mapped[str] = mapped_column(String(64))
    """Of title and text: a retried ingest with the same id and content is the same document; other content under
    the same id is refused, not silently dropped."""
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AnswerRow(Base):
    """The stance model's answer for one (document, claim) pair that matching let through, by one model."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("document_id", "claim_id", "model", name="uq_answers_pair_model"),
        Index("ix_answers_claim_model", "claim_id", "model", "id"),
        Index("ix_answers_pair", "document_id", "claim_id", "id"),
        Index("ix_answers_claim_model_asserting", "claim_id", "model", "asserting_strength"),
        Index("ix_answers_claim_model_disputing", "claim_id", "model", "disputing_strength"),
    )

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(MODEL_LENGTH))
    similarity: Mapped[float] = mapped_column(Float)
    """Cosine similarity of the claim's and the document's embeddings, what matching let the pair through on."""
    label: Mapped[str] = mapped_column(String(64))
    relevance: Mapped[float | None] = mapped_column(Float, default=None)
    scores: Mapped[dict[str, float]] = mapped_column(JSON)
    evidence: Mapped[list[dict]] = mapped_column(JSON, default=list)
    text_reduced: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str | None] = mapped_column(Text, default=None)
    """The document's source and day, copied here (a document never changes once stored): a claim's summary groups
    its answers by them without a join to every document."""
    published_day: Mapped[date | None] = mapped_column(Date, default=None)
    label_score: Mapped[float] = mapped_column(Float, default=0.0)
    """The probability of the answer's own label: what a source's prevailing stance is weighed by, in the database."""
    asserting_strength: Mapped[float | None] = mapped_column(Float, default=None)
    """The highest score of an evidence sentence labelled `asserting` (None: none is): a claim's strongest evidence
    each way is one indexed `ORDER BY … LIMIT 1`, not a read of every answer."""
    disputing_strength: Mapped[float | None] = mapped_column(Float, default=None)


class ClaimTagRow(Base):
    """A claim's tag, one row each, with the claim's registration time: a page of a tag's claims, oldest first, is
    one index range (the claim's own `tags` keep their order)."""

    __tablename__ = "claim_tags"
    __table_args__ = (Index("ix_claim_tags_tag_created", "tag", "created_at", "claim_id"),)

    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(TAG_LENGTH), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ClaimChangeRow(Base):
    """One row per claim registered, retired or watched again, numbered in order: a worker's index of the claims
    catches up by reading the changes past the last it saw, never by reloading every claim."""

    __tablename__ = "claim_changes"

    seq: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(String(ID_CHARS))


class AuditRow(Base):
    """Every write: who (the API key's name), which route, which ids, when."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    key_name: Mapped[str | None] = mapped_column(String(KEY_NAME_LENGTH), default=None)
    """None: the service runs without keys."""
    route: Mapped[str] = mapped_column(String(100))
    ids: Mapped[list[str]] = mapped_column(JSON, default=list)
