"""A document (a text and its title) and how a batch of them is read: which are read in one pass, which of their
sentences are scored on their own, and how the answers are put back together, each text with its evidence.

A text's candidate sentences are the few that bear most on the claim by the words they share with it and by
denial or hedging cues (models/passages.py), wherever they stand, so that a denial in paragraph nine is among
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from models.encoding import LongTextStrategy
from models.evidence import Evidence, Field, pool_sentences
from models.passages import score_sentences
from models.result import ScoredPairs
from models.sentences import Span, sentence_spans, stripped

TITLE_SEPARATOR = "\n\n"
"""Between a title and its text where the model reads them as one."""


@dataclass(frozen=True)
class Document:
    """A text and its title, if it has one, read as one text: the title first, as a sentence of its own (a
    headline carries stance as the sentences of a body do)."""

    text: str
    title: str | None = None

    @property
    def text_offset(self) -> int:
        """Where the text starts in `joined`."""
        return len(self.title) + len(TITLE_SEPARATOR) if self.title else 0

    @cached_property
    def joined(self) -> str:
        return f"{self.title}{TITLE_SEPARATOR}{self.text}" if self.title else self.text

    @cached_property
    def spans(self) -> list[Span]:
        """The title (whole) and the text's sentences, as spans of `joined`."""
        title = stripped(self.title, 0, len(self.title)) if self.title else None
        offset = self.text_offset
        return ([title] if title else []) + [Span(s.start + offset, s.end + offset) for s in sentence_spans(self.text)]

    def locate(self, span: Span) -> tuple[Field, int, int]:
        """A span of `joined` as the field it lies in and its offsets there."""
        if self.title and span.start < self.text_offset:
            return Field.TITLE, span.start, span.end
        return Field.TEXT, span.start - self.text_offset, span.end - self.text_offset


def candidate_spans(claim: str, document: Document, limit: int) -> tuple[list[Span], int]:
    """The document's sentences that bear most on the claim, at most `limit` of them, best first (spans of its
    `joined` text); and how many sentences it has."""
    spans, text = document.spans, document.joined
    if len(spans) <= 1:
        return spans, len(spans)
    relevance = score_sentences(claim, [span.of(text) for span in spans])
    ranked = sorted(range(len(spans)), key=lambda i: (-relevance[i], i))
    return [spans[i] for i in ranked[:limit]], len(spans)


DEFAULT_LONG_TEXT = LongTextStrategy.TRUNCATE
"""Chosen on validation against the other strategies (`make eval-validation`, reports/RESULTS.md)."""


@dataclass(frozen=True)
class DocumentPlan:
    """For each text: its candidate sentences (best first; a one-sentence text's is itself) and how many
    sentences it has; which texts get a pass of their own; and the (claim, sentence) pairs to score."""

    documents: Sequence[Document]
    strategy: LongTextStrategy
    candidates: list[list[Span]]
    sentence_counts: list[int]
    whole: list[int]
    """Indices of the texts read in one pass: every one-sentence text, and all of them unless the strategy
    pools sentences alone."""
    sentence_claims: list[str]
    sentence_texts: list[str]

    @classmethod
    def of(
        cls, claims: Sequence[str], documents: Sequence[Document], limit: int, strategy: LongTextStrategy
    ) -> DocumentPlan:
        candidates, counts, whole, sentence_claims, sentence_texts = [], [], [], [], []
        for i, (claim, document) in enumerate(zip(claims, documents, strict=True)):
            spans, count = candidate_spans(claim, document, limit)
            candidates.append(spans)
            counts.append(count)
            if count <= 1 or strategy.reads_whole_text:
                whole.append(i)
            if count > 1:
                sentence_claims.extend(claim for _ in spans)
                sentence_texts.extend(span.of(document.joined) for span in spans)
        return cls(documents, strategy, candidates, counts, whole, sentence_claims, sentence_texts)

    @property
    def whole_texts(self) -> list[str]:
        """The texts read in one pass, each with its title."""
        return [self.documents[i].joined for i in self.whole]

    def sentence_rows(self) -> list[slice]:
        """Each text's rows among the scored sentences (empty for a one-sentence text)."""
        rows, start = [], 0
        for spans, count in zip(self.candidates, self.sentence_counts, strict=True):
            size = len(spans) if count > 1 else 0
            rows.append(slice(start, start + size))
            start += size
        return rows

    def assemble(
        self,
        labels: tuple[str, ...],
        whole_probabilities: np.ndarray,
        whole_reduced: list[bool],
        sentence_probabilities: np.ndarray,
    ) -> ScoredPairs:
        """Each text's probabilities (its one pass, its pooled sentences, or both pooled) and evidence."""
        position = {index: row for row, index in enumerate(self.whole)}
        probabilities = np.zeros((len(self.documents), len(labels)))
        reduced = [False] * len(self.documents)
        rows = self.sentence_rows()
        for i, sentence_rows in enumerate(rows):
            sentences = sentence_probabilities[sentence_rows]
            if i in position:
                probabilities[i] = whole_probabilities[position[i]]
                reduced[i] = whole_reduced[position[i]]
            if not len(sentences) or not self.strategy.pools_sentences:
                continue
            if self.strategy.reads_whole_text:
                sentences = np.vstack([probabilities[i : i + 1], sentences])
            else:
                reduced[i] = self.sentence_counts[i] > len(self.candidates[i])
            probabilities[i] = pool_sentences(sentences, labels)
        scored = ScoredPairs(labels, probabilities, reduced)
        sentence_labels = ScoredPairs(labels, sentence_probabilities, [False] * len(sentence_probabilities))
        evidence = []
        for i, (document, label_id) in enumerate(zip(self.documents, scored.label_ids, strict=True)):
            if not len(sentence_probabilities[rows[i]]):
                evidence.append(tuple(_evidence(document, span, scored, i) for span in self.candidates[i]))
                continue
            order = rows[i].start + np.argsort(-sentence_probabilities[rows[i], label_id], kind="stable")
            spans = {rows[i].start + k: span for k, span in enumerate(self.candidates[i])}
            evidence.append(tuple(_evidence(document, spans[row], sentence_labels, row) for row in order))
        return replace(scored, evidence=evidence)


def _evidence(document: Document, span: Span, scored: ScoredPairs, row: int) -> Evidence:
    field, start, end = document.locate(span)
    return Evidence(
        text=span.of(document.joined),
        start=start,
        end=end,
        field=field,
        label=scored.labels[scored.label_ids[row]],
        scores={label: float(p) for label, p in zip(scored.labels, scored.probabilities[row], strict=True)},
    )
