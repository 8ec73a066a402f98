"""One claim tracked across many documents: the summary a newsroom wants at a glance, built from the answers.

The same summary comes out of `POST /track`, the batch job's `--track` and its Spark engine, so its rules
live here once. It is over the documents about the claim (the related ones): how many take each stance, what
each source prevails with, the sentence that asserts or disputes the claim most strongly, and the stances
day by day. A model without the `unrelated` label takes every document as related.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from functools import cached_property
from typing import Annotated

import pydantic

from models.contract import LabelSet, OneLabel, PerLabel, label_set
from models.document_fields import DETAIL_FIELDS, DocumentDetails, DocumentId, published_day
from models.evidence import Evidence
from models.labels import UNRELATED
from models.result import StanceResult


@dataclass(frozen=True, kw_only=True)
class TrackedDocument(DocumentDetails, StanceResult):
    """One document's answer with the caller's details of it (models/document_fields.py): what `/track` answers per
    document and what the summary reads."""

    position: Annotated[int, pydantic.Field(ge=0, description="Its place in the request (0-based).")]

    @classmethod
    def of(cls, result: StanceResult, document: DocumentDetails, position: int) -> TrackedDocument:
        """The one way a tracked document is made: the service, its example and the batch job all come here."""
        answer = {field.name: getattr(result, field.name) for field in fields(StanceResult)}
        details = {name: getattr(document, name) for name in DETAIL_FIELDS}
        return cls(**answer, **details, position=position)

    @cached_property
    def day(self) -> date | None:
        return published_day(self.published)


StanceCounts = Annotated[dict[str, int], PerLabel("StanceCounts", LabelSet.STANCES)]
"""Documents per stance."""


@dataclass(frozen=True)
class LabelShare:
    count: Annotated[int, pydantic.Field(ge=0)]
    share: Annotated[
        float, pydantic.Field(ge=0.0, le=1.0, description="Of the related documents; 0 when there are none.")
    ]


@dataclass(frozen=True)
class SourceSummary:
    source: str
    documents: Annotated[
        list[DocumentId],
        pydantic.Field(
            description="The source's documents, related or not, in input order: every one on /track; none in a "
            "stored claim's summary (`document_count` says how many; /claims/documents pages through them)."
        ),
    ]
    related: Annotated[int, pydantic.Field(ge=0)]
    counts: Annotated[StanceCounts, pydantic.Field(description="The source's related documents per stance.")]
    prevailing: Annotated[
        Annotated[str, OneLabel(LabelSet.STANCES)] | None,
        pydantic.Field(description="The stance of most of its related documents; null when it has none."),
    ]
    """A tie: the one with the larger summed probability."""
    document_count: Annotated[int, pydantic.Field(ge=0, description="The source's documents, related or not.")] = 0


@dataclass(frozen=True)
class StrongestEvidence:
    """The sentence that takes one side most surely, across every related document, and where it is from."""

    id: DocumentId
    source: str | None
    url: str | None
    evidence: Evidence


@dataclass(frozen=True)
class DayCounts:
    date: Annotated[str, pydantic.Field(description="YYYY-MM-DD")]
    counts: StanceCounts


@dataclass(frozen=True)
class ClaimSummary:
    """The summary of one claim over the documents about it (the related ones)."""

    documents: Annotated[int, pydantic.Field(ge=0)]
    related: Annotated[int, pydantic.Field(ge=0, description="Documents about the claim (not `unrelated`).")]
    unrelated: Annotated[int, pydantic.Field(ge=0)]
    labels: Annotated[dict[str, LabelShare], PerLabel("LabelShares", LabelSet.STANCES)]
    sources: Annotated[
        list[SourceSummary], pydantic.Field(description="Each source named by a document, most documents first.")
    ]
    strongest: Annotated[
        dict[str, StrongestEvidence | None],
        PerLabel("Strongest", LabelSet.SIDED),
        pydantic.Field(description="The sentence of a related document that takes each side most surely."),
    ]
    timeline: Annotated[
        list[DayCounts], pydantic.Field(description="Stances of the related documents per day published, by date.")
    ]
    more_sources: Annotated[
        int,
        pydantic.Field(
            ge=0, description="Sources left out of `sources` (a stored claim's summary lists the largest few hundred)."
        ),
    ] = 0


@dataclass(frozen=True)
class TrackedClaim:
    """One claim across many documents: what `POST /track` answers."""

    claim: str
    model: Annotated[str, pydantic.Field(description="Model-store tag (name:version) of the model that answered.")]
    documents: Annotated[
        tuple[TrackedDocument, ...],
        pydantic.Field(description="Each answer, the most relevant first, then in input order."),
    ]
    summary: Annotated[ClaimSummary, pydantic.Field(description="Over the related documents.")]


@dataclass
class _SourceTally:
    documents: list[DocumentId] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    mass: Counter[str] = field(default_factory=Counter)


class SummaryBuilder:
    """Takes documents one at a time, in input order, so a batch job summarizes a file of any size chunk by
    chunk; `summary()` gives the summary so far."""

    def __init__(self, labels: Sequence[str]) -> None:
        self.stances, self.sided = label_set(labels, LabelSet.STANCES), label_set(labels, LabelSet.SIDED)
        self.documents = 0
        self.counts: Counter[str] = Counter()
        self.sources: dict[str, _SourceTally] = defaultdict(_SourceTally)
        self.strongest: dict[str, tuple[float, StrongestEvidence]] = {}
        self.days: dict[date, Counter[str]] = defaultdict(Counter)

    def add(self, document: TrackedDocument) -> None:
        self.documents += 1
        related = document.label != UNRELATED
        if document.source is not None:
            tally = self.sources[document.source]
            tally.documents.append(document.id)
            if related:
                tally.counts[document.label] += 1
                tally.mass[document.label] += document.scores[document.label]
        if not related:
            return
        self.counts[document.label] += 1
        if document.day is not None:
            self.days[document.day][document.label] += 1
        for sentence in document.evidence:
            if sentence.label not in self.sided:
                continue
            score = sentence.scores[sentence.label]
            best = self.strongest.get(sentence.label)
            if best is None or score > best[0]:  # a tie keeps the earlier document's
                found = StrongestEvidence(document.id, document.source, document.url, sentence)
                self.strongest[sentence.label] = (score, found)

    def add_all(self, documents: Iterable[TrackedDocument]) -> SummaryBuilder:
        for document in documents:
            self.add(document)
        return self

    def per_stance(self, counts: Mapping[str, int]) -> dict[str, int]:
        return {stance: counts.get(stance, 0) for stance in self.stances}

    def prevailing(self, tally: _SourceTally) -> str | None:
        return prevailing(self.stances, tally.counts, tally.mass)

    def summary(self) -> ClaimSummary:
        related = sum(self.counts.values())
        labels = {
            stance: LabelShare(self.counts[stance], self.counts[stance] / related if related else 0.0)
            for stance in self.stances
        }
        ranked = sorted(self.sources.items(), key=lambda item: (-len(item[1].documents), item[0]))
        sources = [
            SourceSummary(name, tally.documents, tally.counts.total(), self.per_stance(tally.counts),
                          self.prevailing(tally), len(tally.documents))
            for name, tally in ranked
        ]  # fmt: skip
        return ClaimSummary(
            documents=self.documents,
            related=related,
            unrelated=self.documents - related,
            labels=labels,
            sources=sources,
            strongest={side: found[1] if (found := self.strongest.get(side)) else None for side in self.sided},
            timeline=[DayCounts(day.isoformat(), self.per_stance(self.days[day])) for day in sorted(self.days)],
        )


def prevailing(stances: Sequence[str], counts: Mapping[str, int], mass: Mapping[str, float]) -> str | None:
    """The stance most of a source's related documents take (a tie: the larger summed probability); None without
    any."""
    if not any(counts.values()):
        return None
    return max(stances, key=lambda stance: (counts.get(stance, 0), mass.get(stance, 0.0)))


def relevance_order(relevance: Sequence[float | None]) -> list[int]:
    """Positions of the documents, the most relevant first, then in input order (a model without relevance:
    input order)."""
    return sorted(range(len(relevance)), key=lambda i: (-(relevance[i] or 0.0), i))


def tracked_claim(claim: str, model: str, labels: Sequence[str], documents: Sequence[TrackedDocument]) -> TrackedClaim:
    """The answer for one claim: its documents, the most relevant first, and the summary over them."""
    summary = SummaryBuilder(labels).add_all(documents).summary()
    ordered = tuple(documents[i] for i in relevance_order([document.relevance for document in documents]))
    return TrackedClaim(claim, model, ordered, summary)
