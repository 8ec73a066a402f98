import json

import numpy as np
import pytest

from eval.report import confusion_text, per_class_text, plot_confusion, plot_reliability, write_json
from models.labels import LABELS, STANCES
from models.metrics import label_calibration, score
from models.result import ScoredPairs

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Rows true, columns predicted (asserting, disputing, reporting):
#   true asserting: 3 0 1
#   true disputing: 2 5 0
#   true reporting: 0 4 6
A, D, R = STANCES
Y_TRUE = [A] * 4 + [D] * 7 + [R] * 10
Y_PRED = [A, A, A, R] + [A, A, D, D, D, D, D] + [D, D, D, D, R, R, R, R, R, R]
CONFUSION = [[3, 0, 1], [2, 5, 0], [0, 4, 6]]


def probabilities_for(y_pred, confidence: float = 0.8) -> np.ndarray:
    rest = (1 - confidence) / 2
    probabilities = np.full((len(y_pred), 3), rest)
    probabilities[np.arange(len(y_pred)), [STANCES.index(label) for label in y_pred]] = confidence
    return probabilities


@pytest.fixture
def scores():
    scores = score(Y_TRUE, Y_PRED, STANCES)
    probabilities = probabilities_for(Y_PRED)
    scores.ece, scores.calibration = label_calibration(
        Y_TRUE, ScoredPairs(STANCES, probabilities, [False] * len(Y_PRED))
    )
    return scores


def test_the_hand_made_scores_have_the_expected_confusion(scores):
    assert scores.confusion == CONFUSION


def test_confusion_text_has_every_label_and_the_counts_in_place(scores):
    lines = confusion_text(scores).splitlines()
    assert len(lines) == 1 + len(STANCES)
    header = lines[0].split()
    assert header[-3:] == list(STANCES)
    for label, line, expected in zip(STANCES, lines[1:], CONFUSION, strict=True):
        cells = line.split()
        assert cells[0] == label
        assert [int(n) for n in cells[1:]] == expected


def test_confusion_text_columns_line_up_under_the_labels(scores):
    header, *rows = confusion_text(scores).splitlines()
    for row in rows:
        assert len(row) == len(header)
    # Each count ends where its column's label ends.
    for j, label in enumerate(STANCES):
        end = header.index(label) + len(label)
        for row, expected in zip(rows, CONFUSION, strict=True):
            assert row[:end].split()[-1] == str(expected[j])


def test_per_class_text_has_each_class_and_the_summary_lines(scores):
    lines = per_class_text(scores).splitlines()
    assert lines[0].split() == ["precision", "recall", "f1", "support"]
    by_label = {line.split()[0]: line.split()[1:] for line in lines[1:4]}
    assert list(by_label) == list(STANCES)
    # asserting: precision 3/5, recall 3/4, f1 2/3, support 4
    assert by_label["asserting"] == ["0.600", "0.750", "0.667", "4"]
    assert by_label["disputing"][-1] == "7"
    assert by_label["reporting"][-1] == "10"
    assert lines[4] == f"accuracy {14 / 21:.4f}   macro-F1 {scores.macro_f1:.4f}"
    assert lines[5] == f"ECE {scores.ece:.4f}"
    # Every prediction has confidence 0.8 and two thirds are right.
    assert scores.ece == pytest.approx(abs(0.8 - 14 / 21))


def test_per_class_text_leaves_out_ece_without_probabilities():
    lines = per_class_text(score(Y_TRUE, Y_PRED, STANCES)).splitlines()
    assert lines[-1].startswith("accuracy 0.6667   macro-F1 ")
    assert not any(line.startswith("ECE") for line in lines)


def test_a_four_label_confusion_has_the_unrelated_row_and_column():
    scores = score([*Y_TRUE, "unrelated"], [*Y_PRED, "unrelated"], LABELS)
    lines = confusion_text(scores).splitlines()
    assert lines[0].split()[-4:] == list(LABELS)
    assert lines[4].split() == ["unrelated", "0", "0", "0", "1"]
    assert per_class_text(scores).splitlines()[4].split() == ["unrelated", "1.000", "1.000", "1.000", "1"]


def assert_png(path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 1000


def test_plots_write_a_png(scores, tmp_path):
    plot_confusion(scores, "tiny model on a test set", tmp_path / "confusion.png")
    assert_png(tmp_path / "confusion.png")
    plot_reliability(scores.ece, scores.calibration, "tiny model", tmp_path / "reliability.png", "relevance")
    assert_png(tmp_path / "reliability.png")


def test_write_json_round_trips_scores(scores, tmp_path):
    path = tmp_path / "report.json"
    write_json({"results": {"system": {"set": scores.to_dict()}}}, path)
    loaded = json.loads(path.read_text())
    assert loaded["results"]["system"]["set"]["confusion"] == CONFUSION
    assert loaded["results"]["system"]["set"]["accuracy"] == pytest.approx(14 / 21)
