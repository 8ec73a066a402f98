import json

import numpy as np
import pytest

from models.labels import LABELS, STANCES
from models.metrics import (
    calibration_curve,
    fnc_relative_score,
    fnc_score,
    label_calibration,
    macro_f1,
    score,
    sided_accuracy,
)
from models.result import ScoredPairs

A, D, R, U = "asserting", "disputing", "reporting", "unrelated"
# Rows true, columns predicted (asserting, disputing, reporting):
#   true asserting: 2 1 1
#   true disputing: 1 2 0
#   true reporting: 0 1 2
Y_TRUE = [A, A, A, A, D, D, D, R, R, R]
Y_PRED = [A, A, D, R, D, D, A, R, R, D]


def test_score_matches_hand_computed_confusion_and_per_class_metrics():
    scores = score(Y_TRUE, Y_PRED, STANCES)
    assert scores.labels == list(STANCES)
    assert scores.confusion == [[2, 1, 1], [1, 2, 0], [0, 1, 2]]
    assert scores.accuracy == pytest.approx(6 / 10)
    expected = {
        # precision = diagonal / column sum, recall = diagonal / row sum
        A: (2 / 3, 2 / 4, 4 / 7, 4),
        D: (2 / 4, 2 / 3, 4 / 7, 3),
        R: (2 / 3, 2 / 3, 2 / 3, 3),
    }
    assert list(scores.per_class) == list(STANCES)
    for label, (precision, recall, f1, support) in expected.items():
        got = scores.per_class[label]
        assert (got.precision, got.recall, got.f1) == pytest.approx((precision, recall, f1)), label
        assert got.support == support
    assert scores.macro_f1 == pytest.approx(38 / 63)
    assert scores.ece is None and scores.calibration is None


def test_macro_f1_averages_the_labels_of_the_truth_only():
    """A four-label model on a set with no unrelated pair: the empty class does not halve nothing into a zero."""
    scores = score(Y_TRUE, Y_PRED, (*STANCES, U))
    assert scores.per_class[U].support == 0 and scores.confusion[3] == [0, 0, 0, 0]
    assert scores.macro_f1 == pytest.approx(38 / 63)
    mixed = score([A, U, U], [A, U, A], (A, U))
    assert mixed.macro_f1 == pytest.approx((2 / 3 + 2 / 3) / 2)


def test_macro_f1_function_agrees_with_score():
    assert macro_f1(np.array(Y_TRUE), np.array(Y_PRED), STANCES) == pytest.approx(38 / 63)
    assert macro_f1([A, D, R], [A, D, R], STANCES) == 1.0


def test_a_never_predicted_class_counts_zero_not_an_error():
    scores = score([A, D, R, R], [A, D, D, D], STANCES)
    assert scores.per_class[R].precision == 0.0
    assert scores.per_class[R].recall == 0.0
    assert scores.confusion == [[1, 0, 0], [0, 1, 0], [0, 2, 0]]
    assert scores.macro_f1 == pytest.approx((1 + 0.5 + 0) / 3)


# FNC-1's weights: 0.25 for related/unrelated right, 0.75 more for a related pair's right stance.
#   truth     guess      earned  best
#   agree     agree      1.00    1.00
#   agree     discuss    0.25    1.00
#   disagree  unrelated  0.00    1.00
#   unrelated unrelated  0.25    0.25
#   unrelated discuss    0.00    0.25
FNC_TRUE = [A, A, D, U, U]
FNC_PRED = [A, R, U, U, R]


def test_fnc_score_on_hand_made_predictions():
    assert fnc_score(FNC_TRUE, FNC_PRED) == (pytest.approx(1.5), pytest.approx(3.5))
    assert fnc_relative_score(FNC_TRUE, FNC_PRED) == pytest.approx(1.5 / 3.5)
    assert fnc_relative_score(FNC_TRUE, FNC_TRUE) == 1.0
    assert fnc_relative_score([U, U], [A, D]) == 0.0
    assert fnc_relative_score([], []) == 0.0


# Top-label confidences 0.95 (right), 0.95 (wrong), 0.75 (right), 0.45 (wrong), in bins 9, 9, 7 and 4:
#   bin 9: |0.5 - 0.95| * 2/4 = 0.225; bin 7: |1 - 0.75| * 1/4 = 0.0625; bin 4: |0 - 0.45| * 1/4 = 0.1125
PROBABILITIES = np.array(
    [
        [0.95, 0.03, 0.02],
        [0.95, 0.03, 0.02],
        [0.15, 0.75, 0.10],
        [0.35, 0.20, 0.45],
    ]
)
Y_TRUE_ECE = [A, D, D, A]


def test_expected_calibration_error_on_a_hand_made_example():
    ece, curve = label_calibration(Y_TRUE_ECE, scored(PROBABILITIES))
    assert ece == pytest.approx(0.4)
    assert curve.count == [0, 0, 0, 0, 1, 0, 0, 1, 0, 2]
    assert curve.confidence[9] == pytest.approx(0.95)
    assert curve.accuracy[9] == pytest.approx(0.5)
    assert curve.accuracy[7] == 1.0 and curve.accuracy[4] == 0.0
    assert curve.confidence[0] == pytest.approx(0.05)  # empty bins report their midpoint
    assert sum(curve.count) == len(Y_TRUE_ECE)


def scored(probabilities: np.ndarray, labels: tuple[str, ...] = STANCES) -> ScoredPairs:
    return ScoredPairs(labels, np.asarray(probabilities), [False] * len(probabilities))


def test_calibration_takes_the_probability_of_the_label_given_not_the_largest():
    # The largest is unrelated (0.35) but relevance is 0.65: the pair is given `reporting`, at 0.25, and is right.
    ece, curve = label_calibration(["reporting"], scored(np.array([[0.2, 0.2, 0.25, 0.35]]), LABELS))
    assert curve.count[2] == 1 and curve.accuracy[2] == 1.0
    assert ece == pytest.approx(0.75)


def test_calibration_of_a_binary_probability_such_as_relevance():
    # Relevance 0.9 twice (one related), 0.1 twice (none related): |0.5 - 0.9| / 2 + |0 - 0.1| / 2 = 0.25
    ece, curve = calibration_curve(np.array([0.9, 0.9, 0.1, 0.1]), np.array([True, False, False, False]))
    assert ece == pytest.approx(0.25)
    assert curve.count[8] == 2 and curve.count[0] == 2


def test_perfectly_calibrated_predictions_have_zero_ece():
    probabilities = np.tile([0.75, 0.15, 0.10], (4, 1))
    ece, _ = label_calibration([A, A, A, R], scored(probabilities))
    assert ece == pytest.approx(0.0)


def test_full_confidence_falls_in_the_top_bin():
    ece, curve = label_calibration([A, D], scored(np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])))
    assert curve.count[9] == 2
    assert ece == pytest.approx(0.5)


def test_scores_serialise_with_their_calibration():
    scores = score(Y_TRUE_ECE, [STANCES[i] for i in PROBABILITIES.argmax(axis=1)], STANCES)
    scores.ece, scores.calibration = label_calibration(Y_TRUE_ECE, scored(PROBABILITIES))
    as_dict = json.loads(json.dumps(scores.to_dict()))
    assert as_dict["ece"] == pytest.approx(0.4)
    assert as_dict["per_class"]["asserting"]["support"] == 2
    assert as_dict["calibration"]["count"][9] == 2


def test_sided_accuracy_compares_the_two_sides_alone():
    probabilities = np.array(
        [
            [0.30, 0.20, 0.50, 0.00],  # called reporting, but asserting beats disputing: right side
            [0.10, 0.20, 0.10, 0.60],  # called unrelated, disputing beats asserting: right side
            [0.60, 0.30, 0.10, 0.00],  # asserting, gold disputing: wrong
            [0.10, 0.80, 0.10, 0.00],  # a reporting pair: not counted
        ]
    )
    scored = ScoredPairs(LABELS, probabilities, [False] * 4)
    truth = ["asserting", "disputing", "disputing", "reporting"]
    assert sided_accuracy(truth, scored) == pytest.approx(2 / 3)
    assert sided_accuracy(["reporting"] * 4, scored) is None
    two_labels = ScoredPairs(("asserting", "reporting"), probabilities[:, [0, 2]], [False] * 4)
    assert sided_accuracy(truth, two_labels) is None
