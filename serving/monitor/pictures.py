"""What the store says about its claims: one claim's picture over a date range, and the documents lately ingested
that touch a watched claim.

A picture is the `/track` answer (models/tracking.py: `tracked_claim`) over the stored answers, so the two agree on
the same documents. It is read from one model's answers: the one asked for, or else the model of the claim's newest
answer; the answers of other models in the range are counted beside it (`other_models`), never mixed in.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated

import pydantic
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from models.contract import from_record
from models.labels import UNRELATED
from models.result import StanceResult
from models.tracking import DocumentFields, TrackedClaim, TrackedDocument, tracked_claim
from serving.monitor.claims import WatchedClaim, as_utc, get_claim
from serving.monitor.documents import ANSWER_FIELDS
from serving.monitor.tables import AnswerRow, ClaimRow, DocumentRow


@dataclass(frozen=True)
class DateRange:
    """Days published, both ends included; a document without a published date is in no range but the open one."""

    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since {self.since} is after until {self.until}")

    @property
    def is_open(self) -> bool:
        return self.since is None and self.until is None

    def applied(self, query: Select) -> Select:
        if self.since:
            query = query.where(DocumentRow.published_day >= self.since)
        if self.until:
            query = query.where(DocumentRow.published_day <= self.until)
        return query


ANY_DAY = DateRange()
"""Every document, dated or not."""


@dataclass(frozen=True)
class ClaimPicture:
    """A watched claim and what its documents say, by one model."""

    claim: WatchedClaim
    picture: TrackedClaim
    other_models: Annotated[
        dict[str, int],
        pydantic.Field(description="Answers in the range by other models, per model: left out of the picture."),
    ]


def stored_result(answer: AnswerRow) -> StanceResult:
    return from_record(StanceResult, {name: getattr(answer, name) for name in ANSWER_FIELDS})


def document_fields(document: DocumentRow) -> DocumentFields:
    return DocumentFields(document.id, document.title, document.source, document.url, document.published)


def claim_picture(
    session: Session,
    claim_id: str,
    labels: tuple[str, ...],
    days: DateRange = ANY_DAY,
    model: str | None = None,
) -> ClaimPicture:
    """The claim's picture over the documents in `days`, in the order they were ingested; `labels` are the model's
    (a claim with no answers yet still gets an empty summary with every stance)."""
    claim = get_claim(session, claim_id)
    in_range = days.applied(select(AnswerRow.model).join(DocumentRow).where(AnswerRow.claim_id == claim_id))
    counts = Counter(session.scalars(in_range))
    if model is None:
        newest = select(AnswerRow.model).where(AnswerRow.claim_id == claim_id).order_by(AnswerRow.id.desc()).limit(1)
        model = session.scalar(newest) or ""
    query = days.applied(
        select(AnswerRow, DocumentRow)
        .join(DocumentRow)
        .where(AnswerRow.claim_id == claim_id, AnswerRow.model == model)
        .order_by(AnswerRow.id)  # the order of ingest: a rescore answers the pairs in the order of their first answers
    )
    documents = [
        TrackedDocument.of(stored_result(answer), document_fields(document), position)
        for position, (answer, document) in enumerate(session.execute(query).all())
    ]
    labels = tuple(documents[0].scores) if documents else labels
    picture = tracked_claim(claim.text, model, labels, documents)
    return ClaimPicture(claim, picture, {name: n for name, n in sorted(counts.items()) if name != model})


@dataclass(frozen=True, kw_only=True)
class ClaimTouch:
    """One watched claim a document is about, as the stance model said."""

    claim_id: str
    claim: str
    label: str
    relevance: float | None
    similarity: float
    model: str


@dataclass(frozen=True, kw_only=True)
class RecentDocument:
    id: str
    title: str | None
    source: str | None
    url: str | None
    published: str | None
    ingested_at: datetime
    claims: tuple[ClaimTouch, ...]
    """The most relevant first."""


def recent_documents(session: Session, limit: int, since: datetime | None = None) -> list[RecentDocument]:
    """The newest documents (by ingest) about at least one watched claim: matched to a claim still watched, and not
    called `unrelated` by the newest answer of the pair (after a rescore, the new model's)."""
    newest_answers = select(func.max(AnswerRow.id)).group_by(AnswerRow.document_id, AnswerRow.claim_id)
    about = (
        AnswerRow.id.in_(newest_answers),
        AnswerRow.label != UNRELATED,
        ClaimRow.retired_at.is_(None),
    )
    related = select(AnswerRow.document_id).join(ClaimRow).where(*about)
    newest = (
        select(DocumentRow)
        .where(DocumentRow.id.in_(related))
        .order_by(DocumentRow.ingested_at.desc(), DocumentRow.id)
        .limit(limit)
    )
    if since is not None:
        newest = newest.where(DocumentRow.ingested_at >= since.astimezone(UTC))  # stored in UTC
    documents = list(session.scalars(newest))
    touches = session.execute(
        select(AnswerRow, ClaimRow.text)
        .join(ClaimRow)
        .where(AnswerRow.document_id.in_([document.id for document in documents]), *about)
        .order_by(func.coalesce(AnswerRow.relevance, 1.0).desc(), AnswerRow.id)
    ).all()
    by_document: dict[str, list[ClaimTouch]] = {document.id: [] for document in documents}
    for answer, text in touches:
        touch = ClaimTouch(
            claim_id=answer.claim_id,
            claim=text,
            label=answer.label,
            relevance=answer.relevance,
            similarity=answer.similarity,
            model=answer.model,
        )
        by_document[answer.document_id].append(touch)
    return [
        RecentDocument(
            id=document.id,
            title=document.title,
            source=document.source,
            url=document.url,
            published=document.published,
            ingested_at=as_utc(document.ingested_at),
            claims=tuple(by_document[document.id]),
        )
        for document in documents
    ]
