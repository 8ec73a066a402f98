"""Watched claims: registered (idempotent by id), listed, retired. A retired claim is no longer matched, but it and
its answers stay, so what was said about it can still be read."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Annotated

import numpy as np
import pydantic
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from serving.monitor.tables import ID_LENGTH, ClaimRow


class UnknownClaim(LookupError):
    """A claim id the store does not hold."""

    def __init__(self, claim_id: str) -> None:
        super().__init__(f"claim_id {claim_id!r}: no watched claim has this id")
        self.claim_id = claim_id


class ClaimConflict(ValueError):
    """An id registered before with another text: a retry must not turn into a different claim."""

    def __init__(self, claim_id: str) -> None:
        super().__init__(f"id {claim_id!r}: already registered with another text; retire it or choose another id")
        self.claim_id = claim_id


@dataclass(frozen=True, kw_only=True)
class WatchedClaim:
    """A claim the desk watches: what the claim routes answer and the batch job reads."""

    id: Annotated[
        str, pydantic.Field(max_length=ID_LENGTH, description="The caller's id, or one given at registration.")
    ]
    text: str
    tags: tuple[str, ...] = ()
    created_at: datetime
    retired_at: datetime | None = None

    @classmethod
    def of(cls, row: ClaimRow) -> WatchedClaim:
        return cls(
            id=row.id,
            text=row.text,
            tags=tuple(row.tags),
            created_at=as_utc(row.created_at),
            retired_at=as_utc(row.retired_at) if row.retired_at else None,
        )


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for what was stored in UTC; PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def register(
    session: Session,
    text: str,
    *,
    tags: Sequence[str] = (),
    claim_id: str | None = None,
    embedding: np.ndarray | None = None,
    embedding_model: str | None = None,
) -> WatchedClaim:
    """Add a claim; the same id and text again is the claim already there (a retried call adds nothing)."""
    if claim_id is not None and (row := session.get(ClaimRow, claim_id)) is not None:
        if row.text != text:
            raise ClaimConflict(claim_id)
        return WatchedClaim.of(row)
    row = ClaimRow(
        id=claim_id or uuid.uuid4().hex,
        text=text,
        tags=list(dict.fromkeys(tags)),
        created_at=datetime.now(UTC),
        embedding=None if embedding is None else np.asarray(embedding, dtype=np.float32).tobytes(),
        embedding_model=embedding_model,
    )
    session.add(row)
    session.flush()
    return WatchedClaim.of(row)


def claim_row(session: Session, claim_id: str) -> ClaimRow:
    row = session.get(ClaimRow, claim_id)
    if row is None:
        raise UnknownClaim(claim_id)
    return row


def retire(session: Session, claim_id: str) -> WatchedClaim:
    """Stop watching a claim; retiring it twice keeps the first date."""
    row = claim_row(session, claim_id)
    if row.retired_at is None:
        row.retired_at = datetime.now(UTC)
        session.flush()
    return WatchedClaim.of(row)


def get_claim(session: Session, claim_id: str) -> WatchedClaim:
    return WatchedClaim.of(claim_row(session, claim_id))


def list_claims(
    session: Session,
    *,
    include_retired: bool = False,
    tag: str | None = None,
    limit: int | None = None,
    after: str | None = None,
) -> list[WatchedClaim]:
    """Claims by registration time, oldest first; retired ones only when asked for. A page: at most `limit`, those
    registered after the claim `after` (the last one of the page before; UnknownClaim if there is none)."""
    query = select(ClaimRow).order_by(ClaimRow.created_at, ClaimRow.id)
    if not include_retired:
        query = query.where(ClaimRow.retired_at.is_(None))
    if after is not None:
        last = claim_row(session, after)
        query = query.where(tuple_(ClaimRow.created_at, ClaimRow.id) > tuple_(last.created_at, last.id))
    claims = (WatchedClaim.of(row) for row in session.scalars(query.execution_options(yield_per=500)))
    return list(islice((claim for claim in claims if tag is None or tag in claim.tags), limit))


@dataclass(frozen=True)
class ClaimEmbeddings:
    """The active claims' ids and embeddings (one unit-length row each), what matching searches."""

    ids: tuple[str, ...]
    vectors: np.ndarray


def active_embeddings(session: Session, embedding_model: str, dimension: int) -> ClaimEmbeddings:
    """The active claims embedded by `embedding_model`; a claim embedded by another model is left for the caller to
    embed again (ClaimEmbeddings holds only what this model made)."""
    query = (
        select(ClaimRow.id, ClaimRow.embedding)
        .where(ClaimRow.retired_at.is_(None), ClaimRow.embedding_model == embedding_model)
        .order_by(ClaimRow.id)
    )
    rows = session.execute(query).all()
    vectors = np.frombuffer(b"".join(row.embedding for row in rows), dtype=np.float32).reshape(len(rows), dimension)
    return ClaimEmbeddings(tuple(row.id for row in rows), vectors)
