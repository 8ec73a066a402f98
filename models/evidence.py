"""Evidence: the sentences of a text that carry its stance toward the claim, and how a document's answer can be
built from theirs.

A text's candidate sentences (models/document.py) are each scored against the claim on its own and shown as
evidence, ordered by the probability it gives the answer's label. Where the reading pools sentences
(models/encoding.py: LongTextStrategy), the document is about the claim as much as its most relevant sentence is,
and its stance is the mean of its sentences' stances, each weighted by how relevant that sentence is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import numpy as np
import pydantic

from models.contract import OneLabel, PerLabel
from models.labels import UNRELATED

Probability = Annotated[float, pydantic.Field(ge=0.0, le=1.0)]
Scores = Annotated[dict[str, Probability], PerLabel("Scores", column_prefix="score")]
"""Calibrated probability of each of the model's labels, in the model's order; they sum to 1."""


class Field(StrEnum):
    """Which of the caller's fields a sentence of evidence comes from."""

    TEXT = "text"
    TITLE = "title"


@dataclass(frozen=True)
class Evidence:
    """One sentence of the text (or its title), where it stands, and the model's answer for it alone."""

    text: Annotated[str, pydantic.Field(description="The sentence, exactly as it stands in the field it comes from.")]
    start: Annotated[
        int,
        pydantic.Field(ge=0, description="Offset of its first character in that field (Python string index)."),
    ]
    """Code points, as Python and JavaScript's `Array.from` count them."""
    end: Annotated[
        int,
        pydantic.Field(ge=0, description="Offset just past its last character: field[start:end] is the sentence."),
    ]
    label: Annotated[str, OneLabel(), pydantic.Field(description="The model's answer for this sentence alone.")]
    scores: Annotated[
        Scores, pydantic.Field(description="Calibrated probability of each label for this sentence alone.")
    ]
    field: Annotated[Field, pydantic.Field(description="The field of the request the sentence comes from.")]


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
