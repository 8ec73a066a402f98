"""What the store says about its claims: one claim's summary over a date range, its documents a page at a time, and
the documents lately ingested that touch a watched claim.

A stored claim's summary is `/track`'s (models/tracking.py: ClaimSummary), computed in the database: counts per
label, source and day by `GROUP BY`, each side's strongest evidence by an indexed `ORDER BY … LIMIT 1` on the answers'
strength columns, so its cost in the service is the same for a claim of ten documents or of a hundred thousand, and no
document's text is read. It is read from one model's answers: the one asked for, or else the model of the claim's
newest answer; the answers of other models in the range are counted beside it (`other_models`), never mixed in.
The documents themselves are paged (`claim_documents`), without their text.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated

import pydantic
from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from models.contract import LabelSet, from_record, label_set
from models.document_fields import DETAIL_FIELDS, DocumentDetails
from models.evidence import Evidence
from models.labels import UNRELATED
from models.result import StanceResult
from models.tracking import (
    ClaimSummary,
    DayCounts,
    LabelShare,
    SourceSummary,
    StrongestEvidence,
    TrackedDocument,
    prevailing,
)
from serving.monitor.claims import WatchedClaim, as_utc, claim_row, get_claim
from serving.monitor.documents import ANSWER_FIELDS, UnknownDocument
from serving.monitor.tables import AnswerRow, ClaimRow, DocumentRow

MAX_SOURCES = 200
"""Sources a summary lists, the most documents first (`more_sources` counts the rest)."""


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
        """`query` of answers, kept to those whose document was published in the range (its day, copied onto the
        answer)."""
        if self.since:
            query = query.where(AnswerRow.published_day >= self.since)
        if self.until:
            query = query.where(AnswerRow.published_day <= self.until)
        return query


ANY_DAY = DateRange()
"""Every document, dated or not."""


@dataclass(frozen=True)
class LatestEvidence:
    """The first evidence sentence of the newest related document, and where it is from."""

    id: str
    source: str | None
    url: str | None
    evidence: Evidence


@dataclass(frozen=True)
class StoredClaimSummary:
    """A watched claim and what its documents say, by one model."""

    claim: WatchedClaim
    model: Annotated[str, pydantic.Field(description="The model whose answers the summary is read from.")]
    summary: ClaimSummary
    latest: Annotated[
        LatestEvidence | None,
        pydantic.Field(description="The first evidence sentence of the newest related document; null without any."),
    ]
    other_models: Annotated[
        dict[str, int],
        pydantic.Field(description="Answers in the range by other models, per model: left out of the summary."),
    ]


def stored_result(answer: AnswerRow) -> StanceResult:
    return from_record(StanceResult, {name: getattr(answer, name) for name in ANSWER_FIELDS})


class Answers:
    """One claim's answers by one model in a date range, as queries: along the index (claim, model, id), with no
    join (the document's source and day are the answer's own columns) unless a document's other fields are asked."""

    def __init__(self, claim_id: str, model: str, days: DateRange) -> None:
        self.claim_id, self.model, self.days = claim_id, model, days

    def select(self, *columns) -> Select:
        query = select(*columns).select_from(AnswerRow)
        return self.days.applied(query.where(AnswerRow.claim_id == self.claim_id, AnswerRow.model == self.model))

    def related(self, *columns) -> Select:
        return self.select(*columns).where(AnswerRow.label != UNRELATED)

    def with_documents(self, query: Select) -> Select:
        return query.join(DocumentRow, AnswerRow.document_id == DocumentRow.id)


def summary_model(session: Session, claim_id: str, model: str | None) -> str:
    """The model asked for, else the model of the claim's newest answer ("" for a claim without any)."""
    if model is not None:
        return model
    newest = select(AnswerRow.model).where(AnswerRow.claim_id == claim_id).order_by(AnswerRow.id.desc()).limit(1)
    return session.scalar(newest) or ""


def claim_summary(
    session: Session,
    claim_id: str,
    labels: tuple[str, ...],
    days: DateRange = ANY_DAY,
    model: str | None = None,
) -> StoredClaimSummary:
    """The claim's summary over the documents in `days`; `labels` are the served model's (a claim with no answers
    yet still gets an empty summary with every stance)."""
    claim = get_claim(session, claim_id)
    model = summary_model(session, claim_id, model)
    answers = Answers(claim_id, model, days)
    in_range = days.applied(
        select(AnswerRow.model, func.count())
        .where(AnswerRow.claim_id == claim_id, AnswerRow.model != model)
        .group_by(AnswerRow.model)
    )
    others = {name: count for name, count in session.execute(in_range).all()}
    stored_labels = session.scalar(answers.select(AnswerRow.scores).limit(1))
    labels = tuple(stored_labels) if stored_labels else labels  # the answering model's own labels
    summary = summary_in_database(session, answers, labels)
    return StoredClaimSummary(claim, model, summary, latest_evidence(session, answers), dict(sorted(others.items())))


def summary_in_database(session: Session, answers: Answers, labels: tuple[str, ...]) -> ClaimSummary:
    """The ClaimSummary that SummaryBuilder makes of the same answers, by aggregate queries."""
    stances, sided = label_set(labels, LabelSet.STANCES), label_set(labels, LabelSet.SIDED)
    tallies = answers.select(AnswerRow.source, AnswerRow.label, func.count(), func.sum(AnswerRow.label_score))
    rows = session.execute(tallies.group_by(AnswerRow.source, AnswerRow.label)).all()
    by_label: dict[str, int] = defaultdict(int)
    for _, label, count, _ in rows:
        by_label[label] += count
    documents = sum(by_label.values())
    related = documents - by_label.get(UNRELATED, 0)
    shares = {s: LabelShare(by_label.get(s, 0), by_label.get(s, 0) / related if related else 0.0) for s in stances}
    sources, more_sources = source_summaries(rows, stances)
    timeline: dict[date, dict[str, int]] = defaultdict(dict)
    per_day = answers.related(AnswerRow.published_day, AnswerRow.label, func.count()).where(
        AnswerRow.published_day.is_not(None)
    )
    for day, label, count in session.execute(per_day.group_by(AnswerRow.published_day, AnswerRow.label)).all():
        timeline[day][label] = count
    return ClaimSummary(
        documents=documents,
        related=related,
        unrelated=documents - related,
        labels=shares,
        sources=sources,
        strongest={side: strongest_evidence(session, answers, side) for side in sided},
        timeline=[
            DayCounts(day.isoformat(), {s: timeline[day].get(s, 0) for s in stances}) for day in sorted(timeline)
        ],
        more_sources=more_sources,
    )


def source_summaries(tallies: list, stances: tuple[str, ...]) -> tuple[list[SourceSummary], int]:
    """The sources with the most documents (up to MAX_SOURCES), from the answers' (source, label, count, summed
    probability) tallies, and how many more there are. Their document ids are not listed (`document_count` says how
    many; /claims/documents pages through them): a source of a claim's summary may hold tens of thousands."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    mass: dict[str, dict[str, float]] = defaultdict(dict)
    for source, label, count, total in tallies:
        if source is not None:
            counts[source][label], mass[source][label] = count, total or 0.0
    ranked = sorted(counts, key=lambda source: (-sum(counts[source].values()), source))
    summaries = []
    for source in ranked[:MAX_SOURCES]:
        related = {label: n for label, n in counts[source].items() if label != UNRELATED}
        summaries.append(
            SourceSummary(
                source=source,
                documents=[],
                related=sum(related.values()),
                counts={stance: related.get(stance, 0) for stance in stances},
                prevailing=prevailing(stances, related, mass[source]),
                document_count=sum(counts[source].values()),
            )
        )
    return summaries, max(0, len(ranked) - MAX_SOURCES)


def strongest_evidence(session: Session, answers: Answers, side: str) -> StrongestEvidence | None:
    """The evidence sentence of a related document that takes `side` most surely (a tie: the earlier answer's, and
    within it the earlier sentence's), by the answer's strength column."""
    strength = getattr(AnswerRow, f"{side}_strength")
    query = answers.with_documents(answers.related(AnswerRow, DocumentRow.source, DocumentRow.url))
    found = session.execute(query.where(strength.is_not(None)).order_by(strength.desc(), AnswerRow.id).limit(1)).first()
    if found is None:
        return None
    answer, source, url = found
    sentences = [e for e in stored_result(answer).evidence if e.label == side]
    sentence = max(sentences, key=lambda e: e.scores[side])  # max keeps the first of equals
    return StrongestEvidence(answer.document_id, source, url, sentence)


def latest_evidence(session: Session, answers: Answers) -> LatestEvidence | None:
    query = answers.with_documents(answers.related(AnswerRow, DocumentRow.source, DocumentRow.url))
    found = session.execute(query.order_by(AnswerRow.id.desc()).limit(1)).first()
    if found is None or not found[0].evidence:
        return None
    answer, source, url = found
    return LatestEvidence(answer.document_id, source, url, stored_result(answer).evidence[0])


def claim_documents(
    session: Session,
    claim_id: str,
    limit: int,
    after: str | None = None,
    days: DateRange = ANY_DAY,
    model: str | None = None,
) -> list[TrackedDocument]:
    """A page of the claim's documents with their answers, in the order they were ingested (`position` is that
    order), without their text: those after the document `after` (UnknownDocument if the claim has no answer about
    it)."""
    claim_row(session, claim_id)  # UnknownClaim first
    answers = Answers(claim_id, summary_model(session, claim_id, model), days)
    details = [getattr(DocumentRow, name) for name in DETAIL_FIELDS]
    query = answers.with_documents(answers.select(AnswerRow, *details)).order_by(AnswerRow.id).limit(limit)
    if after is not None:
        mark = select(AnswerRow.id).where(
            AnswerRow.claim_id == claim_id, AnswerRow.model == answers.model, AnswerRow.document_id == after
        )
        last = session.scalar(mark)
        if last is None:
            raise UnknownDocument(after)
        query = query.where(AnswerRow.id > last)
    return [
        TrackedDocument.of(
            stored_result(answer), DocumentDetails(**dict(zip(DETAIL_FIELDS, values, strict=True))), answer.id
        )
        for answer, *values in session.execute(query).all()
    ]


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


def about_watched_claims(answer: type[AnswerRow]):
    """An answer that says its document is about a watched claim: the newest answer of its pair (after a rescore,
    the new model's), not `unrelated`, about a claim not retired."""
    newer, claim = aliased(AnswerRow), aliased(ClaimRow)
    superseded = exists().where(
        newer.document_id == answer.document_id, newer.claim_id == answer.claim_id, newer.id > answer.id
    )
    watched = exists().where(claim.id == answer.claim_id, claim.retired_at.is_(None))
    return (~superseded, answer.label != UNRELATED, watched)


def recent_documents(session: Session, limit: int, since: datetime | None = None) -> list[RecentDocument]:
    """The newest documents (by ingest) about at least one watched claim. Read down the ingest-time index and
    stopped at `limit`: each document is checked through the answers' pair index, so the cost follows `limit` (and
    how many unrelated documents lie between), not the size of the store."""
    about = aliased(AnswerRow)
    touching = exists().where(about.document_id == DocumentRow.id, *about_watched_claims(about))
    newest = select(DocumentRow).where(touching).order_by(DocumentRow.ingested_at.desc(), DocumentRow.id).limit(limit)
    if since is not None:
        newest = newest.where(DocumentRow.ingested_at >= since.astimezone(UTC))  # stored in UTC
    documents = list(session.execute(newest.with_only_columns(
        DocumentRow.id, DocumentRow.title, DocumentRow.source, DocumentRow.url, DocumentRow.published,
        DocumentRow.ingested_at)).all())  # fmt: skip
    touches = session.execute(
        select(AnswerRow, ClaimRow.text)
        .join(ClaimRow, ClaimRow.id == AnswerRow.claim_id)
        .where(AnswerRow.document_id.in_([document.id for document in documents]), *about_watched_claims(AnswerRow))
        .order_by(func.coalesce(AnswerRow.relevance, 1.0).desc(), AnswerRow.id)
    ).all()
    by_document: dict[str, list[ClaimTouch]] = {document.id: [] for document in documents}
    for answer, text in touches:
        by_document[answer.document_id].append(
            ClaimTouch(
                claim_id=answer.claim_id,
                claim=text,
                label=answer.label,
                relevance=answer.relevance,
                similarity=answer.similarity,
                model=answer.model,
            )
        )
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
