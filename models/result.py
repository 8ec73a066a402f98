"""One answer for one (claim, text) pair, the same for the service, the batch job and evaluation, and the one
place where probabilities become a label and a relevance.

Relevance is the probability that the text is about the claim: 1 - P(unrelated) under the model's calibrated
softmax. The label follows it: a text whose relevance is under one half is `unrelated`; any other text gets
its likeliest stance. So an answer never says "unrelated" while its relevance says the text is more likely
about the claim than not (a plain argmax over four labels would, where the unrelated probability is the
largest but under one half). A model without the `unrelated` label has no relevance (None): it cannot tell.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Annotated

import numpy as np
import pydantic

from models.contract import OneLabel
from models.evidence import Evidence, Scores
from models.labels import UNRELATED

RELEVANCE_THRESHOLD = 0.5
"""Under this relevance a text is `unrelated`: on calibrated probabilities, the choice that is right most often."""


@dataclass(frozen=True, kw_only=True)
class StanceResult:
    """The answer for one (claim, text) pair: the one definition the HTTP answers, the batch job's columns and
    the tracked documents derive from (models/contract.py)."""

    label: Annotated[str, OneLabel(), pydantic.Field(description="One of the model's labels.")]
    scores: Annotated[Scores, pydantic.Field(description="Calibrated probability of each label; they sum to 1.")]
    relevance: Annotated[
        float | None,
        pydantic.Field(
            ge=0.0,
            le=1.0,
            description="Probability that the text is about the claim (1 - the probability of `unrelated`); a text "
            "under 0.5 is `unrelated`. Null for a model without the `unrelated` label: it cannot tell.",
        ),
    ]
    text_reduced: Annotated[
        bool,
        pydantic.Field(
            description="The text was longer than the model's window: the answer read its first tokens (the "
            "evidence reads its sentences nearest the claim, wherever they are)."
        ),
    ]
    """models/encoding.py: LongTextStrategy says what was read."""
    model: Annotated[str, pydantic.Field(description="Model-store tag (name:version) of the model that answered.")]
    evidence: Annotated[
        tuple[Evidence, ...],
        pydantic.Field(
            description="The sentences the answer rests on, the one that bears most on it first; for a "
            "one-sentence text, that sentence."
        ),
    ] = ()


@dataclass(frozen=True)
class ScoredPairs:
    """Calibrated probabilities of many pairs under one model's labels, with what follows from them."""

    labels: tuple[str, ...]
    probabilities: np.ndarray
    """Shape (pairs, labels), columns in `labels` order."""
    text_reduced: list[bool]
    evidence: list[tuple[Evidence, ...]] | None = None
    """Each pair's evidence, where it was read for it."""

    def __len__(self) -> int:
        return len(self.probabilities)

    @cached_property
    def relevance(self) -> np.ndarray | None:
        if UNRELATED not in self.labels:
            return None
        return 1.0 - self.probabilities[:, self.labels.index(UNRELATED)]

    @cached_property
    def label_ids(self) -> np.ndarray:
        """Index into `labels` of each pair's label: `unrelated` under the relevance threshold, else the
        likeliest of the other labels."""
        relevance = self.relevance
        if relevance is None:
            return self.probabilities.argmax(axis=1)
        unrelated = self.labels.index(UNRELATED)
        stance_probabilities = self.probabilities.copy()
        stance_probabilities[:, unrelated] = -1.0
        return np.where(relevance < RELEVANCE_THRESHOLD, unrelated, stance_probabilities.argmax(axis=1))

    @property
    def predicted_labels(self) -> list[str]:
        return [self.labels[i] for i in self.label_ids]

    @property
    def confidence(self) -> np.ndarray:
        """The probability of the label each pair was given (not always the largest: see the module's rule)."""
        return self.probabilities[np.arange(len(self)), self.label_ids]

    def take(self, index: np.ndarray) -> ScoredPairs:
        """The pairs at `index` (integer positions or a boolean mask), with their evidence."""
        index = np.flatnonzero(index) if np.asarray(index).dtype == bool else np.asarray(index, dtype=int)
        return ScoredPairs(
            self.labels,
            self.probabilities[index],
            [self.text_reduced[i] for i in index],
            None if self.evidence is None else [self.evidence[i] for i in index],
        )

    def results(self, model: str) -> list[StanceResult]:
        """Each pair's answer, given by the model `model` names."""
        relevance = self.relevance
        return [
            StanceResult(
                label=label,
                scores={name: float(p) for name, p in zip(self.labels, row, strict=True)},
                relevance=None if relevance is None else float(relevance[i]),
                text_reduced=reduced,
                model=model,
                evidence=self.evidence[i] if self.evidence is not None else (),
            )
            for i, (label, row, reduced) in enumerate(
                zip(self.predicted_labels, self.probabilities, self.text_reduced, strict=True)
            )
        ]
