"""What models, epochs and runtimes are chosen on: macro-F1 per validation source, and their mean over the news."""

from __future__ import annotations

import numpy as np

from models.metrics import score
from training.claim_evidence import CLAIM_EVIDENCE_SOURCES


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
