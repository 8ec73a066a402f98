import numpy as np
import pytest

from models.labels import LABELS, STANCES
from models.result import RELEVANCE_THRESHOLD, ScoredPairs, StanceResult

PROBABILITIES = np.array(
    [
        [0.70, 0.10, 0.10, 0.10],  # asserting, clearly about the claim
        [0.20, 0.20, 0.25, 0.35],  # unrelated is the largest, but relevance 0.65: a stance (reporting)
        [0.05, 0.30, 0.05, 0.60],  # relevance 0.40: unrelated
        [0.10, 0.25, 0.15, 0.50],  # relevance exactly 0.5: about the claim (disputing)
    ]
)


def test_relevance_is_one_minus_the_unrelated_probability():
    scored = ScoredPairs(LABELS, PROBABILITIES, [False] * 4)
    np.testing.assert_allclose(scored.relevance, [0.9, 0.65, 0.4, 0.5])


def test_the_label_follows_relevance_then_the_likeliest_stance():
    scored = ScoredPairs(LABELS, PROBABILITIES, [False] * 4)
    assert RELEVANCE_THRESHOLD == 0.5
    assert scored.predicted_labels == ["asserting", "reporting", "unrelated", "disputing"]
    assert scored.label_ids.tolist() == [0, 2, 3, 1]


def test_the_models_label_order_is_followed():
    order = ("unrelated", "reporting", "disputing", "asserting")
    scored = ScoredPairs(order, PROBABILITIES[:, ::-1], [False] * 4)
    assert scored.predicted_labels == ["asserting", "reporting", "unrelated", "disputing"]


def test_a_three_label_model_has_no_relevance_and_takes_the_argmax():
    scored = ScoredPairs(STANCES, np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]]), [True, False])
    assert scored.relevance is None
    assert scored.predicted_labels == ["disputing", "asserting"]
    assert scored.results("tiny")[0] == StanceResult(
        label="disputing",
        scores={"asserting": 0.2, "disputing": 0.5, "reporting": 0.3},
        relevance=None,
        text_reduced=True,
        model="tiny",
    )


def test_results_carry_every_score_in_model_order():
    results = ScoredPairs(LABELS, PROBABILITIES, [False, True, False, False]).results("tiny")
    assert [r.label for r in results] == ["asserting", "reporting", "unrelated", "disputing"]
    assert all(list(r.scores) == list(LABELS) for r in results)
    assert results[1].text_reduced is True
    assert results[2].relevance == pytest.approx(0.4)
    assert len(ScoredPairs(LABELS, np.zeros((0, 4)), []).results("tiny")) == 0
