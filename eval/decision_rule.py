"""A decision rule fitted on validation, one way to raise disputes' recall: an offset per stance added to its
log-probability before the likeliest stance is chosen. The class-weighted loss already evens the classes out in
training; this asks whether the served decision should lean further (toward `disputing`, say) once the model is
trained. Relevance is left as it is: the offsets only move a pair between stances.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from models.labels import UNRELATED
from models.metrics import source_macro_f1
from models.result import ScoredPairs

OFFSET_GRID = np.linspace(-2.0, 2.0, 17)
"""Offsets tried for each stance, in log-probability: up to a factor e^2 (7.4) either way."""
ROUNDS = 3


def stance_columns(labels: Sequence[str]) -> list[int]:
    return [i for i, label in enumerate(labels) if label != UNRELATED]


def with_stance_offsets(scored: ScoredPairs, offsets: np.ndarray) -> ScoredPairs:
    """The pairs with each stance's probability reweighted by e^offset within the pair's related mass, so the
    probabilities still sum to 1 and the unrelated probability (hence relevance) is unchanged."""
    probabilities = scored.probabilities.astype(np.float64, copy=True)
    columns = stance_columns(scored.labels)
    stances = probabilities[:, columns]
    weighted = stances * np.exp(offsets)
    probabilities[:, columns] = weighted / weighted.sum(axis=1, keepdims=True) * stances.sum(axis=1, keepdims=True)
    return ScoredPairs(scored.labels, probabilities, scored.text_reduced, scored.evidence)


def fit_stance_offsets(truth: Sequence[str], scored: ScoredPairs, sources: Sequence[str]) -> np.ndarray:
    """Offsets that maximise the mean over sources of macro-F1 (training's own epoch criterion), by coordinate
    ascent over OFFSET_GRID; the first stance's stays 0, as only differences between offsets change a choice."""
    offsets = np.zeros(len(stance_columns(scored.labels)))

    def objective(trial: np.ndarray) -> float:
        labels = with_stance_offsets(scored, trial).predicted_labels
        return source_macro_f1(list(truth), labels, list(sources), scored.labels)["macro_f1"]

    best = objective(offsets)
    for _ in range(ROUNDS):
        improved = False
        for k in range(1, len(offsets)):
            for value in OFFSET_GRID:
                trial = offsets.copy()
                trial[k] = value
                if (figure := objective(trial)) > best + 1e-9:
                    best, offsets, improved = figure, trial, True
        if not improved:
            break
    return offsets


def cross_fitted_labels(
    truth: Sequence[str], scored: ScoredPairs, sources: Sequence[str], groups: Sequence[str], folds: int = 2
) -> list[str]:
    """Each pair's label under offsets fitted on the other folds' claims (folds drawn by claim): the rule's honest
    validation figure, where offsets fitted and scored on the same pairs would flatter it."""
    fold = np.array([zlib.crc32(str(group).encode()) % folds for group in groups])
    truth, sources = np.asarray(truth, dtype=object), np.asarray(sources, dtype=object)
    labels = np.empty(len(truth), dtype=object)
    for k in range(folds):
        held, fitted = fold == k, fold != k
        if not held.any():
            continue
        offsets = (
            fit_stance_offsets(truth[fitted], scored.take(fitted), sources[fitted])
            if fitted.any()
            else np.zeros(len(stance_columns(scored.labels)))
        )
        labels[held] = with_stance_offsets(scored.take(held), offsets).predicted_labels
    return labels.tolist()
