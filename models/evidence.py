"""Evidence: the sentences of a text that carry its stance toward the claim, and how a document's answer can be
built from theirs.

A text's candidate sentences are the few that bear most on the claim by the words they share with it and by
denial or hedging cues (models/passages.py), wherever they stand, so that a denial in paragraph nine is among
them. Each is scored against the claim on its own and shown as evidence, ordered by the probability it gives
the answer's label. Where the reading pools sentences (models/encoding.py: LongTextStrategy), the document is
about the claim as much as its most relevant sentence is, and its stance is the mean of its sentences'
stances, each weighted by how relevant that sentence is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

import numpy as np

from models.labels import UNRELATED
from models.passages import score_sentences
from models.sentences import Span, sentence_spans, stripped


class Field(StrEnum):
    """Which of the caller's fields a sentence of evidence comes from."""

    TEXT = "text"
    TITLE = "title"


@dataclass(frozen=True)
class Evidence:
    """One sentence of the text (or its title), where it stands, and the model's answer for it alone."""

    text: str
    start: int
    """Offset of its first character in its field as sent (a Python string index: code points)."""
    end: int
    """Offset just past its last character: `field[start:end]` is the sentence."""
    label: str
    scores: dict[str, float]
    field: Field = Field.TEXT


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


def pool_sentences(probabilities: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """A document's probabilities from its sentences' (rows of `probabilities`, columns in `labels` order).

    Relevance is the most relevant sentence's: one sentence about the claim makes the text about it. The stance,
    given that the text is about the claim, is the mean of the sentences' stances given the same, each weighted
    by its relevance, so that a sentence off the claim counts for little. A model without `unrelated` has no
    relevance: its sentences count equally.
    """
    if UNRELATED not in labels:
        return probabilities.mean(axis=0)
    unrelated = labels.index(UNRELATED)
    relevance = 1.0 - probabilities[:, unrelated]
    stance = np.delete(probabilities, unrelated, axis=1)
    conditional = stance / np.clip(stance.sum(axis=1, keepdims=True), 1e-12, None)
    weights = relevance / relevance.sum() if relevance.sum() > 0 else np.full(len(relevance), 1 / len(relevance))
    return np.insert(relevance.max() * (weights @ conditional), unrelated, 1.0 - relevance.max())
