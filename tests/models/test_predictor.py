import numpy as np
import pytest
import torch

from models.document import Document, candidate_spans
from models.encoding import LongTextStrategy
from models.evidence import Field, pool_sentences
from models.labels import LABELS, STANCES
from models.pair import Pair
from models.predictor import StancePredictor, softmax
from models.result import ScoredPairs, StanceResult
from models.runtime import Runtime
from tests.helpers import CLAIM, pairs_of
from tests.helpers import PAIRS as SHARED_PAIRS

PAIRS = [*SHARED_PAIRS, ("Short", "A somewhat longer text about nothing in particular, with several words in it.")]


@pytest.fixture(scope="module")
def predictor(tiny_model, tokenizer):
    return StancePredictor.from_model(tiny_model, tokenizer, batch_size=2, num_threads=1)


def scores_of(predictions: list[StanceResult]) -> np.ndarray:
    return np.array([[p.scores[label] for label in LABELS] for p in predictions])


def test_softmax_rows_sum_to_one_and_temperature_flattens():
    logits = np.array([[2.0, 0.0, -1.0], [1000.0, 999.0, 0.0]])
    p1, p2 = softmax(logits), softmax(logits, temperature=2.0)
    np.testing.assert_allclose(p1.sum(axis=1), 1.0)
    np.testing.assert_allclose(p1[0], np.exp([2.0, 0.0, -1.0]) / np.exp([2.0, 0.0, -1.0]).sum())
    np.testing.assert_allclose(p2[0], np.exp([1.0, 0.0, -0.5]) / np.exp([1.0, 0.0, -0.5]).sum())
    assert p2[0].max() < p1[0].max()
    assert np.isfinite(p1[1]).all()


def test_probabilities_sum_to_one_and_relevance_is_one_minus_unrelated(predictor):
    predictions = predictor.predict(pairs_of(PAIRS))
    assert len(predictions) == len(PAIRS)
    scores = scores_of(predictions)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-6)
    assert (scores >= 0).all()
    assert all(list(p.scores) == list(LABELS) for p in predictions)
    for p in predictions:
        assert 0.0 <= p.relevance <= 1.0
        assert p.relevance == pytest.approx(1 - p.scores["unrelated"])
        assert (p.label == "unrelated") == (p.relevance < 0.5)
    assert predictor.labels == LABELS


def test_a_three_label_model_answers_with_its_own_labels_and_no_relevance(tiny_three_label_model, tokenizer):
    predictor = StancePredictor.from_model(tiny_three_label_model, tokenizer, num_threads=1)
    predictions = predictor.predict(pairs_of(PAIRS))
    assert predictor.labels == STANCES
    assert all(list(p.scores) == list(STANCES) and p.relevance is None for p in predictions)
    assert [p.label for p in predictions] == [STANCES[i] for i in scores_of_labels(predictions, STANCES).argmax(1)]


def scores_of_labels(predictions: list[StanceResult], labels: tuple[str, ...]) -> np.ndarray:
    return np.array([[p.scores[label] for label in labels] for p in predictions])


def test_outputs_follow_input_order(predictor):
    forward = scores_of(predictor.predict(pairs_of(PAIRS)))
    backward = scores_of(predictor.predict(pairs_of(PAIRS[::-1])))
    np.testing.assert_allclose(backward, forward[::-1], atol=1e-5)
    # The pairs really differ, so order mistakes could not go unseen.
    assert len({tuple(np.round(row, 3)) for row in forward}) == len(PAIRS)


def test_one_pair_alone_scores_as_inside_a_batch_of_mixed_lengths(predictor):
    batch = predictor.predict(pairs_of(PAIRS))
    for i, pair in enumerate(PAIRS):
        [alone] = predictor.predict([Pair(*pair)])
        np.testing.assert_allclose(scores_of([alone])[0], scores_of(batch)[i], atol=1e-5)
        assert [(e.start, e.end, e.label) for e in alone.evidence] == [
            (e.start, e.end, e.label) for e in batch[i].evidence
        ]


def test_batch_size_does_not_change_results(tiny_model, tokenizer, predictor):
    one_batch = StancePredictor.from_model(tiny_model, tokenizer, batch_size=64, num_threads=1)
    claims, texts = zip(*PAIRS, strict=True)
    np.testing.assert_allclose(
        one_batch.score(claims, texts).probabilities, predictor.score(claims, texts).probabilities, atol=1e-5
    )


def test_empty_input_gives_empty_output(predictor):
    assert predictor.predict([]) == []


def test_text_reduced_only_for_text_too_long_for_the_window(predictor):
    assert [p.text_reduced for p in predictor.predict(pairs_of(PAIRS))] == [False, False, True, False, False]


def test_scores_match_the_model_on_claim_then_text_with_saved_temperature(saved_model_dir, tiny_model, tokenizer):
    predictor = StancePredictor.from_dir(saved_model_dir, num_threads=1)
    assert predictor.temperature == 1.5
    assert predictor.max_length == 128
    claim, text = PAIRS[0]
    with torch.inference_mode():
        logits = tiny_model(**tokenizer(claim, text, return_tensors="pt")).logits.numpy()[0]
    expected = np.exp(logits / 1.5) / np.exp(logits / 1.5).sum()
    (prediction,) = predictor.predict([Pair(claim, text)])
    np.testing.assert_allclose(scores_of([prediction])[0], expected, atol=1e-5)
    swapped = tiny_model(**tokenizer(text, claim, return_tensors="pt")).logits.detach().numpy()[0]
    assert not np.allclose(logits, swapped, atol=1e-4)


def test_logits_are_uncalibrated_and_probabilities_calibrated(saved_model_dir):
    predictor = StancePredictor.from_dir(saved_model_dir, num_threads=1, long_text=LongTextStrategy.PASSAGES)
    claims, texts = zip(*PAIRS, strict=True)
    logits, reduced = predictor.logits(claims, texts)
    assert logits.shape == (len(PAIRS), len(LABELS))
    assert reduced == [False, False, True, False, False]
    scored = predictor.score(claims, texts)
    assert isinstance(scored, ScoredPairs) and scored.text_reduced == reduced
    np.testing.assert_allclose(scored.probabilities, softmax(logits / 1.5), atol=1e-6)
    assert not np.allclose(scored.probabilities, softmax(logits), atol=1e-4)


LONG = 2
"""The one pair of PAIRS whose text has more than one sentence."""


def sentence_probabilities(predictor: StancePredictor, claim: str, text: str) -> tuple[np.ndarray, list[str]]:
    """Each candidate sentence scored alone, as a one-sentence text, and the sentences."""
    spans, _ = candidate_spans(claim, Document(text), predictor.max_evidence)
    sentences = [span.of(text) for span in spans]
    return predictor.score([claim] * len(sentences), sentences).probabilities, sentences


def test_a_long_text_read_as_sentences_is_its_sentences_pooled(tiny_model, tokenizer):
    reader = StancePredictor.from_model(tiny_model, tokenizer, num_threads=1, long_text=LongTextStrategy.SENTENCES)
    claim, text = PAIRS[LONG]
    sentences, _ = sentence_probabilities(reader, claim, text)
    scored = reader.score([claim], [text])
    assert scored.text_reduced == [True]  # 61 sentences, 3 read
    np.testing.assert_allclose(scored.probabilities[0], pool_sentences(sentences, LABELS), atol=1e-6)


def test_passages_and_sentences_pools_the_one_pass_with_the_sentences(tiny_model, tokenizer):
    mixed = StancePredictor.from_model(
        tiny_model, tokenizer, num_threads=1, long_text=LongTextStrategy.PASSAGES_AND_SENTENCES
    )
    claim, text = PAIRS[LONG]
    sentences, _ = sentence_probabilities(mixed, claim, text)
    one_pass = mixed.probabilities(mixed.logits([claim], [text])[0])
    expected = pool_sentences(np.vstack([one_pass, sentences]), LABELS)
    np.testing.assert_allclose(mixed.score([claim], [text]).probabilities[0], expected, atol=1e-6)


def test_evidence_is_the_candidate_sentences_with_their_own_answers_best_first(predictor):
    claim, text = PAIRS[LONG]
    sentences, texts = sentence_probabilities(predictor, claim, text)
    [result] = predictor.predict([Pair(claim, text)])
    assert len(result.evidence) == predictor.max_evidence == 3
    assert sorted(e.text for e in result.evidence) == sorted(texts)
    assert "Officials denied that a meteorite hit Managua." in texts
    label = LABELS.index(result.label)
    shown = [e.scores[result.label] for e in result.evidence]
    assert shown == sorted(shown, reverse=True)
    assert shown == pytest.approx(sorted(sentences[:, label], reverse=True), abs=1e-6)
    for evidence in result.evidence:
        assert text[evidence.start : evidence.end] == evidence.text
        row = sentences[texts.index(evidence.text)]
        np.testing.assert_allclose([evidence.scores[name] for name in LABELS], row, atol=1e-6)
        assert evidence.label == ScoredPairs(LABELS, row[None], [False]).predicted_labels[0]


def test_a_one_sentence_text_is_its_own_evidence_with_the_answers_label(predictor):
    text = "  Officials confirmed that a meteorite crashed near the airport.  "
    [result] = predictor.predict([Pair(CLAIM, text)])
    [evidence] = result.evidence
    assert text[evidence.start : evidence.end] == evidence.text == text.strip()
    assert evidence.label == result.label and evidence.scores == result.scores


def test_max_evidence_is_how_many_sentences_are_read_and_shown(tiny_model, tokenizer):
    claim, text = PAIRS[LONG]
    one = StancePredictor.from_model(tiny_model, tokenizer, num_threads=1, max_evidence=1)
    [result] = one.predict([Pair(claim, text)])
    assert [e.text for e in result.evidence] == ["Officials denied that a meteorite hit Managua."]


def test_a_model_with_its_labels_in_another_order_is_read_in_that_order(tokenizer, tmp_path):
    from tests.conftest import new_tiny_model, save_tiny

    order = tuple(reversed(LABELS))  # unrelated first
    model_dir = save_tiny(new_tiny_model(tokenizer, order), tokenizer, tmp_path / "model")
    predictor = StancePredictor.from_dir(model_dir, num_threads=1)
    assert predictor.labels == order
    predictions = predictor.predict(pairs_of(PAIRS))
    scored = predictor.score(*zip(*PAIRS, strict=True))
    for p, row in zip(predictions, scored.probabilities, strict=True):
        assert list(p.scores) == list(order)
        assert p.scores["unrelated"] == pytest.approx(row[0])  # the model's first output is its `unrelated`
        assert p.relevance == pytest.approx(1 - row[0])
        assert (p.label == "unrelated") == (p.relevance < 0.5)


def test_a_title_is_read_as_a_sentence_and_its_evidence_points_into_the_title(predictor):
    title = "Managua meteorite report denied"
    text = "Farmers planted barley near the airport. The season was dry."
    [with_title] = predictor.score([CLAIM], [text], [title]).results("tiny")
    fields = {e.field: e for e in with_title.evidence}
    assert set(fields) == {Field.TITLE, Field.TEXT}
    assert title[fields[Field.TITLE].start : fields[Field.TITLE].end] == fields[Field.TITLE].text == title
    assert all(text[e.start : e.end] == e.text for e in with_title.evidence if e.field is Field.TEXT)
    [without] = predictor.score([CLAIM], [text]).results("tiny")
    assert all(e.field is Field.TEXT for e in without.evidence)
    assert predictor.score([CLAIM], [text], [None]).probabilities.tolist() == [list(without.scores.values())]


@pytest.mark.parametrize("strategy", list(LongTextStrategy))
def test_scores_without_evidence_are_the_scores_of_each_reading(tiny_model, tokenizer, strategy):
    reader = StancePredictor.from_model(tiny_model, tokenizer, num_threads=1, long_text=strategy)
    claims, texts = [p[0] for p in PAIRS], [p[1] for p in PAIRS]
    full, bare = reader.score(claims, texts), reader.score_without_evidence(claims, texts)
    np.testing.assert_allclose(bare.probabilities, full.probabilities, atol=1e-6)
    assert bare.text_reduced == full.text_reduced
    assert bare.evidence is None and full.evidence is not None


def test_the_served_predictor_runs_the_runtime_the_build_step_chose(saved_model_dir, onnx_model_dir):
    assert StancePredictor.served(saved_model_dir, "m:1").runtime is Runtime.TORCH  # no export: PyTorch
    served = StancePredictor.served(onnx_model_dir, "m:2", num_threads=1)
    assert served.runtime is Runtime.ONNX and served.model_tag == "m:2"
    assert served.predict([Pair("A claim", "A text")])[0].model == "m:2"
