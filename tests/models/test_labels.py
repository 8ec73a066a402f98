import json

import pytest

from models.labels import LABELS, STANCES, UNRELATED, label_set, normalize_label


def test_the_four_labels_in_their_canonical_order():
    assert STANCES == ("asserting", "disputing", "reporting")
    assert LABELS == (*STANCES, UNRELATED) == ("asserting", "disputing", "reporting", "unrelated")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # Emergent
        ("for", "asserting"),
        ("against", "disputing"),
        ("observing", "reporting"),
        # FNC-1 and ARC
        ("agree", "asserting"),
        ("disagree", "disputing"),
        ("discuss", "reporting"),
        ("unrelated", "unrelated"),
        # our own names
        ("asserting", "asserting"),
        ("disputing", "disputing"),
        ("reporting", "reporting"),
    ],
)
def test_dataset_label_names_map_onto_our_labels(name, expected):
    assert normalize_label(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [(" Agree ", "asserting"), ("AGAINST", "disputing"), ("Observing\n", "reporting"), ("Unrelated", "unrelated")],
)
def test_label_names_are_matched_ignoring_case_and_spaces(name, expected):
    assert normalize_label(name) == expected


@pytest.mark.parametrize("name", ["neutral", "supports", "related", ""])
def test_unknown_label_raises_value_error_naming_it(name):
    with pytest.raises(ValueError, match="unknown label") as error:
        normalize_label(name)
    assert repr(name) in str(error.value)


def test_label_set_is_what_the_data_has_in_canonical_order():
    assert label_set(["reporting", "asserting", "disputing", "reporting"]) == STANCES
    assert label_set(["unrelated", "asserting", "disputing", "reporting"]) == LABELS
    assert label_set(["unrelated", "reporting"]) == ("reporting", "unrelated")
    with pytest.raises(ValueError, match="unknown labels \\['agree'\\]"):
        label_set(["agree", "asserting"])


def test_saved_model_config_carries_the_label_maps(saved_model_dir, saved_three_label_model_dir):
    config = json.loads((saved_model_dir / "config.json").read_text())
    assert config["id2label"] == {"0": "asserting", "1": "disputing", "2": "reporting", "3": "unrelated"}
    assert config["label2id"] == {"asserting": 0, "disputing": 1, "reporting": 2, "unrelated": 3}
    three = json.loads((saved_three_label_model_dir / "config.json").read_text())
    assert three["id2label"] == {"0": "asserting", "1": "disputing", "2": "reporting"}
