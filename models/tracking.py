"""One claim tracked across many documents: the picture a newsroom wants at a glance, built from the answers.

The same summary comes out of `POST /track`, the batch job's `--track` and its Spark engine, so its rules
live here once. It is over the documents about the claim (the related ones): how many take each stance, what
each source prevails with, the sentence that asserts or disputes the claim most strongly, and the stances
day by day. A model without the `unrelated` label takes every document as related.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from models.evidence import Evidence
from models.labels import SIDED_STANCES, UNRELATED

DocumentId = str | int


RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}([Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?", re.ASCII)
"""A date or date-time as JSON Schema's `date` and `date-time` formats write them (RFC 3339): the one form the
service documents, so the batch job takes the same."""


def published_day(value: object) -> date | None:
    """The day a document was published, from an RFC 3339 date or date-time (as written, in its own offset:
    `2015-10-01T23:30:00-05:00` is 1 October), or a date/datetime value (a Parquet date or timestamp column);
    None for none (a null, or an empty CSV field)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and RFC3339.fullmatch(value):
        try:
            return datetime.fromisoformat(value.upper()).date()
        except ValueError:
            pass  # a day that does not exist (2015-02-30); a leap second (23:59:60) is not taken either
    raise ValueError(f"not an RFC 3339 date or date-time (like 2015-10-01 or 2015-10-01T12:00:00Z): {value!r}")


@dataclass(frozen=True)
class TrackedDocument:
    """One document's answer and the caller's fields the summary reads."""

    id: DocumentId
    label: str
    scores: Mapping[str, float]
    evidence: Sequence[Evidence] = ()
    source: str | None = None
    url: str | None = None
    published: date | None = None


@dataclass(frozen=True)
class LabelShare:
    count: int
    share: float
    """Of the related documents; 0 when there are none."""


@dataclass(frozen=True)
class SourceSummary:
    source: str
    documents: list[DocumentId]
    """Every document of the source, related or not, in input order."""
    related: int
    counts: dict[str, int]
    """Related documents per stance."""
    prevailing: str | None
    """The stance of most of its related documents (a tie: the one with the larger summed probability); None
    when it has none."""


@dataclass(frozen=True)
class StrongestEvidence:
    """The sentence that takes one side most surely, across every related document, and where it is from."""

    id: DocumentId
    source: str | None
    url: str | None
    evidence: Evidence


@dataclass(frozen=True)
class DayCounts:
    date: str
    counts: dict[str, int]


@dataclass(frozen=True)
class ClaimSummary:
    documents: int
    related: int
    unrelated: int
    labels: dict[str, LabelShare]
    sources: list[SourceSummary]
    strongest: dict[str, StrongestEvidence | None]
    timeline: list[DayCounts]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready values (an evidence's `field` is a str enum: it dumps as its value, `text` or `title`)."""
        return asdict(self)


@dataclass
class _SourceTally:
    documents: list[DocumentId] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    mass: Counter[str] = field(default_factory=Counter)


def summary_labels(labels: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A model's stances (its labels less `unrelated`), and those of them that take a side."""
    stances = tuple(label for label in labels if label != UNRELATED)
    return stances, tuple(label for label in SIDED_STANCES if label in stances)


class SummaryBuilder:
    """Takes documents one at a time, in input order, so a batch job summarizes a file of any size chunk by
    chunk; `summary()` gives the picture so far."""

    def __init__(self, labels: Sequence[str]) -> None:
        self.stances, self.sided = summary_labels(labels)
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
        if document.published is not None:
            self.days[document.published][document.label] += 1
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
        if not tally.counts:
            return None
        return max(self.stances, key=lambda stance: (tally.counts[stance], tally.mass[stance]))

    def summary(self) -> ClaimSummary:
        related = sum(self.counts.values())
        labels = {
            stance: LabelShare(self.counts[stance], self.counts[stance] / related if related else 0.0)
            for stance in self.stances
        }
        ranked = sorted(self.sources.items(), key=lambda item: (-len(item[1].documents), item[0]))
        sources = [
            SourceSummary(name, tally.documents, tally.counts.total(), self.per_stance(tally.counts),
                          self.prevailing(tally))
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


def relevance_order(relevance: Sequence[float | None]) -> list[int]:
    """Positions of the documents, the most relevant first, then in input order (a model without relevance:
    input order)."""
    return sorted(range(len(relevance)), key=lambda i: (-(relevance[i] or 0.0), i))
