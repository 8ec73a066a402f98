"""Classification, calibration and FNC-1 metrics over a model's own labels, by name.

Here rather than in eval/ because training chooses its epoch with them and eval reports them: both
may import models/, and training never imports eval.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from models.labels import SIDED_STANCES, UNRELATED
from models.result import ScoredPairs
from models.sources import CLAIM_EVIDENCE_SOURCES


@dataclass
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class CalibrationCurve:
    """Per probability bin: mean predicted probability, observed frequency and count (a reliability diagram)."""

    confidence: list[float]
    accuracy: list[float]
    count: list[int]


@dataclass
class Scores:
    labels: list[str]
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassScores]
    confusion: list[list[int]]
    """Rows are true labels, columns predicted, both in `labels` order."""
    ece: float | None = None
    calibration: CalibrationCurve | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> float:
    return float(f1_score(y_true, y_pred, labels=list(labels), average="macro", zero_division=0))


def calibration_curve(probability: np.ndarray, outcome: np.ndarray, bins: int = 10) -> tuple[float, CalibrationCurve]:
    """Expected calibration error of a probability against what happened, with equal-width bins.

    For the top label: its probability, and whether it was right. For relevance: the relevance, and whether the
    text was about the claim.
    """
    probability = np.asarray(probability, dtype=float)
    outcome = np.asarray(outcome, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probability, edges[1:-1], right=True), 0, bins - 1)
    curve = CalibrationCurve([], [], [])
    ece = 0.0
    for b in range(bins):
        mask = which == b
        n = int(mask.sum())
        curve.count.append(n)
        curve.confidence.append(float(probability[mask].mean()) if n else float((edges[b] + edges[b + 1]) / 2))
        curve.accuracy.append(float(outcome[mask].mean()) if n else 0.0)
        if n:
            ece += n / len(probability) * abs(curve.accuracy[-1] - curve.confidence[-1])
    return float(ece), curve


def label_calibration(y_true: Sequence[str], scored: ScoredPairs) -> tuple[float, CalibrationCurve]:
    """Calibration of the probability of the label given (by the one rule of models/result.py) against whether
    it was right."""
    return calibration_curve(scored.confidence, np.asarray(scored.predicted_labels) == np.asarray(y_true))


def score(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> Scores:
    """Accuracy, per-class figures and the confusion matrix over `labels`. Macro-F1 averages the labels that occur
    in `y_true` only: a test set without unrelated pairs is not marked down for a class it cannot have."""
    labels = list(labels)
    present = [label for label in labels if label in set(y_true)]
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    with warnings.catch_warnings():  # sklearn warns of a one-label set even when `labels` gives the shape
        warnings.filterwarnings("ignore", "A single label was found", UserWarning)
        confusion = confusion_matrix(y_true, y_pred, labels=labels).tolist()
    return Scores(
        labels=labels,
        accuracy=float(accuracy_score(y_true, y_pred)),
        macro_f1=macro_f1(y_true, y_pred, present),
        per_class={
            label: ClassScores(float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]))
            for i, label in enumerate(labels)
        },
        confusion=confusion,
    )


RELATED_WEIGHT = 0.25
STANCE_WEIGHT = 0.75


def fnc_score(y_true: Sequence[str], y_pred: Sequence[str]) -> tuple[float, float]:
    """The Fake News Challenge score and the best score possible on these pairs.

    Each pair earns 0.25 when related/unrelated is right, and a related pair 0.75 more when its stance is right
    (the official scorer's weights). The relative score, as papers report it, is the first over the second.
    """
    earned = best = 0.0
    for truth, guess in zip(y_true, y_pred, strict=True):
        related = truth != UNRELATED
        best += RELATED_WEIGHT + (STANCE_WEIGHT if related else 0.0)
        if related == (guess != UNRELATED):
            earned += RELATED_WEIGHT
            if related and guess == truth:
                earned += STANCE_WEIGHT
    return earned, best


def fnc_relative_score(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    earned, best = fnc_score(y_true, y_pred)
    return earned / best if best else 0.0


def sided_accuracy(y_true: Sequence[str], scored: ScoredPairs) -> float | None:
    """Asserting against disputing alone: of the pairs whose gold label takes a side, the share the model puts on
    that side, comparing only the two sides' probabilities. The figure the claim–evidence corpora are compared on
    (chance 0.5 on a balanced set): they have no gold `reporting` or `unrelated`, so a model that calls a short
    sentence `reporting` is marked down by accuracy, not here. None where the set or the model lacks a side."""
    if not set(SIDED_STANCES) <= set(scored.labels):
        return None
    truth = np.asarray(y_true)
    sided = np.isin(truth, SIDED_STANCES)
    if not sided.any():
        return None
    columns = [scored.labels.index(side) for side in SIDED_STANCES]
    guessed = np.asarray(SIDED_STANCES)[scored.probabilities[sided][:, columns].argmax(axis=1)]
    return float(np.mean(guessed == truth[sided]))


def source_macro_f1(
    y_true: list[str], y_pred: list[str], sources: list[str], labels: tuple[str, ...]
) -> dict[str, float]:
    """Macro-F1 per source and their mean, so that a small source weighs as much as a big one. Each source's
    F1 is over the labels it has, so a source without unrelated pairs is not marked down for a class it lacks.

    The mean is over the sources of the served task (all but the claim–evidence corpora, which are reported beside
    it): they are what epochs and recipes are chosen on, so a corpus added for its disputes cannot buy a checkpoint
    that reads news worse."""
    truth, predicted, source_array = np.asarray(y_true), np.asarray(y_pred), np.asarray(sources)
    per_source = {
        source: score(truth[source_array == source], predicted[source_array == source], labels).macro_f1
        for source in sorted(set(sources))
    }
    chosen_on = [v for s, v in per_source.items() if s not in CLAIM_EVIDENCE_SOURCES] or list(per_source.values())
    return {"macro_f1": float(np.mean(chosen_on)), **{f"macro_f1_{s}": v for s, v in per_source.items()}}
