import math

import pytest
from datasets import Dataset

from eval.polarity import PolarityFigures, polarity_probe, probe_figures
from models.predictor import StancePredictor
from training.negation import negate

VALIDATION = Dataset.from_dict(
    {
        "claim": ["Apple will launch a phone"] * 4 + ["World's oldest burger", "A bridge collapsed", "A cat is a dog"],
        "text": ["Apple confirmed it.", "Apple denied it.", "Reports say so.", "Rain fell.", "It is old.",
                 "It fell.", "Claim about cats."],
        "label": ["asserting", "disputing", "reporting", "unrelated", "asserting", "asserting", "asserting"],
        "source": ["emergent"] * 5 + ["fnc1", "fever"],  # a claim–evidence source is not news: not in the probe
    }
)  # fmt: skip


def test_the_probe_holds_each_negatable_news_claim_beside_its_negation_with_the_same_texts():
    probe = polarity_probe(VALIDATION)
    assert probe.claims == ["Apple will launch a phone"] * 4 + ["A bridge collapsed"]
    assert probe.negated_claims[:4] == ["Apple will not launch a phone"] * 4
    assert probe.negated_claims[4] == negate("A bridge collapsed").claim
    assert probe.texts == VALIDATION["text"][:4] + ["It fell."]
    assert probe.negated_labels == ["disputing", "asserting", "reporting", "unrelated", "disputing"]
    assert (probe.related_claims, probe.left_out) == (3, 1)  # the burger: no verb


def test_flips_and_same_sides_are_counted_over_the_pairs_that_take_a_side():
    truth = ["asserting", "disputing", "asserting", "disputing", "reporting"]
    original = ["asserting", "disputing", "asserting", "reporting", "reporting"]
    negated = ["disputing", "disputing", "reporting", "asserting", "reporting"]
    figures = PolarityFigures.of(truth, original, negated)
    assert (figures.pairs, figures.sided_pairs) == (5, 4)
    assert figures.accuracy == pytest.approx(4 / 5)
    # negated gold: disputing, asserting, disputing, asserting, reporting
    assert figures.negated_accuracy == pytest.approx(3 / 5)
    assert figures.flipped == pytest.approx(1 / 4)  # only the first flips side to side
    assert figures.same_side == pytest.approx(1 / 4)  # the second keeps `disputing`


def test_a_probe_without_sided_pairs_has_no_flip_share():
    figures = PolarityFigures.of(["reporting"], ["reporting"], ["reporting"])
    assert math.isnan(figures.flipped) and figures.accuracy == 1.0


def test_a_models_figures_are_its_own_answers_on_both_sides(taught_model, tokenizer):
    from tests.helpers import taught_pairs

    lessons = [(c, t, label) for c, t, label in taught_pairs() if label != "unrelated"]
    validation = Dataset.from_dict({
        "claim": [c for c, _, _ in lessons], "text": [t for _, t, _ in lessons],
        "label": [label for _, _, label in lessons], "source": ["emergent"] * len(lessons),
    })  # fmt: skip
    predictor = StancePredictor.from_model(taught_model, tokenizer, num_threads=1)
    asked = []

    def label(claims, texts):
        asked.append(list(claims))
        return predictor.score(claims, texts).predicted_labels

    probe = polarity_probe(validation)
    figures = probe_figures(probe, label)
    assert asked == [probe.claims, probe.negated_claims]
    assert figures.accuracy == 1.0  # the taught answers, on the original claims
    expected = PolarityFigures.of(
        probe.labels, label(probe.claims, probe.texts), label(probe.negated_claims, probe.texts)
    )
    assert (figures.negated_accuracy, figures.flipped, figures.same_side) == (
        expected.negated_accuracy, expected.flipped, expected.same_side
    )  # fmt: skip
    assert set(figures.by_source) == {"emergent"} and figures.by_source["emergent"]["pairs"] == len(probe)
    assert sum(figures.by_rule.values()) == len(probe)
