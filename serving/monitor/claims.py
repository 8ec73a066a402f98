"""Watched claims: registered (idempotent by id), listed, retired and watched again. A retired claim is no longer
matched, but it and its answers stay, so what was said about it can still be read. Each change is numbered in
`claim_changes`, which is how every worker's index of the claims catches up (claim_index.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import numpy as np
import pydantic
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from models.document_fields import ID_CHARS
from serving.monitor.tables import ClaimChangeRow, ClaimRow, ClaimTagRow


class UnknownClaim(LookupError):
    """A claim id the store does not hold."""

    def __init__(self, claim_id: str) -> None:
        super().__init__(f"claim_id {claim_id!r}: no watched claim has this id")
        self.claim_id = claim_id


class TooManyClaims(ValueError):
    """Registering would watch more claims than the service's cap."""

    def __init__(self, cap: int) -> None:
        super().__init__(
            f"the monitor watches at most {cap} claims (CLAIMSTANCE_MAX_WATCHED_CLAIMS); retire some first"
        )
        self.cap = cap


class ClaimConflict(ValueError):
    """An id registered before with another text: a retry must not turn into a different claim."""

    def __init__(self, claim_id: str) -> None:
        super().__init__(f"id {claim_id!r}: already registered with another text; retire it or choose another id")
        self.claim_id = claim_id


@dataclass(frozen=True, kw_only=True)
class WatchedClaim:
    """A claim the desk watches: what the claim routes answer and the batch job reads."""

    id: Annotated[
        str, pydantic.Field(max_length=ID_CHARS, description="The caller's id, or one given at registration.")
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
    session.add_all(ClaimTagRow(claim_id=row.id, tag=tag, created_at=row.created_at) for tag in row.tags)
    changed(session, row.id)
    return WatchedClaim.of(row)


def changed(session: Session, claim_id: str) -> None:
    session.add(ClaimChangeRow(claim_id=claim_id))
    session.flush()


def is_registered(session: Session, claim_id: str) -> bool:
    return session.get(ClaimRow, claim_id) is not None


def watched_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ClaimRow).where(ClaimRow.retired_at.is_(None))) or 0


def check_cap(session: Session, new_claims: int, cap: int) -> None:
    """TooManyClaims if `new_claims` more would watch more than `cap` (counted before they are added)."""
    if new_claims and watched_count(session) + new_claims > cap:
        raise TooManyClaims(cap)


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
        changed(session, claim_id)
    return WatchedClaim.of(row)


def unretire(session: Session, claim_id: str, cap: int | None = None) -> WatchedClaim:
    """Watch a retired claim again, with its answers; a claim already watched is left as it is."""
    row = claim_row(session, claim_id)
    if row.retired_at is not None:
        if cap is not None:
            check_cap(session, 1, cap)
        row.retired_at = None
        changed(session, claim_id)
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
    registered after the claim `after` (the last one of the page before; UnknownClaim if there is none). Read along
    an index (registration time, or a tag's rows by registration time), so a page costs its own length."""
    if tag is None:
        query = select(ClaimRow).order_by(ClaimRow.created_at, ClaimRow.id)
        order = (ClaimRow.created_at, ClaimRow.id)
    else:
        query = (
            select(ClaimRow)
            .join(ClaimTagRow, ClaimTagRow.claim_id == ClaimRow.id)
            .where(ClaimTagRow.tag == tag)
            .order_by(ClaimTagRow.created_at, ClaimTagRow.claim_id)
        )
        order = (ClaimTagRow.created_at, ClaimTagRow.claim_id)
    if not include_retired:
        query = query.where(ClaimRow.retired_at.is_(None))
    if after is not None:
        last = claim_row(session, after)
        query = query.where(tuple_(*order) > tuple_(last.created_at, last.id))
    if limit is not None:
        query = query.limit(limit)
    return [WatchedClaim.of(row) for row in session.scalars(query)]


@dataclass(frozen=True)
class ClaimEmbeddings:
    """Active claims' ids and embeddings (one unit-length row each), what matching searches, with their texts (what
    the stance model reads)."""

    ids: tuple[str, ...]
    vectors: np.ndarray
    texts: tuple[str, ...] = ()


def active_embeddings(
    session: Session, embedding_model: str, dimension: int, claim_ids: Sequence[str] | None = None
) -> ClaimEmbeddings:
    """The active claims embedded by `embedding_model` (of `claim_ids` only, where given), in one query; a claim
    embedded by another model is left for the caller to embed again (ClaimEmbeddings holds only what this model
    made)."""
    query = (
        select(ClaimRow.id, ClaimRow.embedding, ClaimRow.text)
        .where(ClaimRow.retired_at.is_(None), ClaimRow.embedding_model == embedding_model)
        .order_by(ClaimRow.id)
    )
    rows = []
    for part in [None] if claim_ids is None else chunked(claim_ids, IN_LIST_ROWS):
        rows += session.execute(query if part is None else query.where(ClaimRow.id.in_(part))).all()
    vectors = np.frombuffer(b"".join(row.embedding for row in rows), dtype=np.float32).reshape(len(rows), dimension)
    return ClaimEmbeddings(tuple(row.id for row in rows), vectors, tuple(row.text for row in rows))


IN_LIST_ROWS = 10_000
"""Ids per `IN (…)` list: PostgreSQL takes at most 65,535 bound values in one statement."""


def chunked(values: Sequence[str], size: int) -> list[Sequence[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
