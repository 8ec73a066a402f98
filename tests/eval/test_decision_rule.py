import numpy as np
import pytest

import eval.decision_rule as decision_rule
from eval.decision_rule import cross_fitted_labels, fit_stance_offsets, with_stance_offsets
from models.labels import LABELS, UNRELATED
from models.metrics import source_macro_f1
from models.result import ScoredPairs


def scored_pairs(rows: list[list[float]]) -> ScoredPairs:
    return ScoredPairs(LABELS, np.asarray(rows, dtype=float), [False] * len(rows))


def test_offsets_reweight_stances_and_leave_relevance_alone():
    scored = scored_pairs([[0.3, 0.2, 0.1, 0.4], [0.1, 0.1, 0.7, 0.1], [0.05, 0.05, 0.05, 0.85]])
    shifted = with_stance_offsets(scored, np.array([0.0, 1.5, -0.5]))
    np.testing.assert_allclose(shifted.probabilities.sum(axis=1), 1.0)
    np.testing.assert_allclose(shifted.relevance, scored.relevance)
    stances = [i for i, label in enumerate(LABELS) if label != UNRELATED]
    ratio = shifted.probabilities[:, stances] / scored.probabilities[:, stances]
    np.testing.assert_allclose(ratio / ratio[:, :1], np.tile(np.exp([0.0, 1.5, -0.5]), (3, 1)))
    np.testing.assert_allclose(with_stance_offsets(scored, np.zeros(3)).probabilities, scored.probabilities)


def test_fitted_offsets_recover_a_stance_the_model_under_calls():
    # Every true dispute gives disputing a little less than asserting: plain argmax finds none of them.
    disputes = [[0.40, 0.35, 0.20, 0.05]] * 10
    assertions = [[0.70, 0.10, 0.15, 0.05]] * 10
    reports = [[0.10, 0.10, 0.75, 0.05]] * 10
    scored = scored_pairs(disputes + assertions + reports)
    truth = ["disputing"] * 10 + ["asserting"] * 10 + ["reporting"] * 10
    sources = ["fnc1"] * 30
    offsets = fit_stance_offsets(truth, scored, sources)
    assert offsets[0] == 0.0
    assert with_stance_offsets(scored, offsets).predicted_labels == truth
    before = source_macro_f1(truth, scored.predicted_labels, sources, LABELS)["macro_f1"]
    assert before < 0.7


def test_cross_fitted_labels_never_fit_on_the_claims_they_label(monkeypatch):
    fitted_on: list[set[str]] = []
    real_fit = decision_rule.fit_stance_offsets

    def recording_fit(truth, scored, sources):
        fitted_on.append(set(map(str, np.asarray(scored.probabilities[:, 0]))))
        return real_fit(truth, scored, sources)

    monkeypatch.setattr(decision_rule, "fit_stance_offsets", recording_fit)
    n = 40
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(4), size=n)
    groups = [f"claim{i // 4}" for i in range(n)]
    truth = [LABELS[i % 3] for i in range(n)]
    labels = cross_fitted_labels(truth, ScoredPairs(LABELS, probabilities, [False] * n), ["arc"] * n, groups)
    assert len(labels) == n and all(label in LABELS for label in labels)
    assert len(fitted_on) == 2
    fold_a, fold_b = fitted_on
    assert fold_a and fold_b and not fold_a & fold_b
    assert fold_a | fold_b == set(map(str, probabilities[:, 0]))


@pytest.mark.parametrize("folds", [2, 3])
def test_cross_fitted_labels_match_in_sample_when_every_fold_needs_the_same_offsets(folds):
    block = [[0.40, 0.35, 0.20, 0.05], [0.70, 0.10, 0.15, 0.05], [0.10, 0.10, 0.75, 0.05]]
    rows = block * 12
    truth = ["disputing", "asserting", "reporting"] * 12
    groups = [f"claim{i // 3}" for i in range(len(rows))]
    labels = cross_fitted_labels(truth, scored_pairs(rows), ["fnc1"] * len(rows), groups, folds=folds)
    assert labels == truth
