import numpy as np
import pytest

from models.document import Document, candidate_spans
from models.evidence import Field, pool_sentences
from models.labels import LABELS, STANCES

CLAIM = "A meteorite crashed near the airport in Managua"
FILLER = " ".join(f"Farmers in the valley planted barley during week {i} of the season." for i in range(40))
DENIAL = "Officials in Managua denied that any meteorite crashed there."


def test_a_denial_that_is_only_the_last_sentence_is_a_candidate():
    text = FILLER + " " + DENIAL
    spans, count = candidate_spans(CLAIM, Document(text), 3)
    assert count == 41 and len(spans) == 3
    assert spans[0].of(text) == DENIAL


def test_a_one_sentence_text_is_its_own_candidate_whatever_the_limit():
    spans, count = candidate_spans(CLAIM, Document(DENIAL), 3)
    assert count == 1 and [s.of(DENIAL) for s in spans] == [DENIAL]


def test_candidates_are_at_most_the_limit_and_each_a_sentence_of_the_text():
    text = FILLER
    spans, count = candidate_spans(CLAIM, Document(text), 5)
    assert count == 40 and len(spans) == 5
    assert len({(s.start, s.end) for s in spans}) == 5


def rows(*stances_and_relevance: tuple[tuple[float, float, float], float]) -> np.ndarray:
    """Four-label probability rows from a stance distribution (given related) and a relevance."""
    return np.array([[*(relevance * np.asarray(stance)), 1 - relevance] for stance, relevance in stances_and_relevance])


def test_pooled_relevance_is_the_most_relevant_sentence_and_stance_weighted_by_relevance():
    sentences = rows(((0.0, 1.0, 0.0), 0.9), ((1.0, 0.0, 0.0), 0.1), ((0.0, 0.0, 1.0), 0.0))
    pooled = pool_sentences(sentences, LABELS)
    assert pooled.sum() == pytest.approx(1.0)
    assert 1 - pooled[3] == pytest.approx(0.9)
    stance = pooled[:3] / pooled[:3].sum()
    np.testing.assert_allclose(stance, [0.1, 0.9, 0.0])  # the off-claim third sentence counts for nothing


def test_one_sentence_pools_to_itself():
    sentence = rows(((0.2, 0.5, 0.3), 0.7))
    np.testing.assert_allclose(pool_sentences(sentence, LABELS), sentence[0])


def test_labels_in_another_order_pool_the_same():
    sentences = rows(((0.0, 1.0, 0.0), 0.9), ((0.6, 0.2, 0.2), 0.5))
    order = [3, 0, 2, 1]
    reordered = pool_sentences(sentences[:, order], tuple(LABELS[i] for i in order))
    np.testing.assert_allclose(reordered, pool_sentences(sentences, LABELS)[order])


def test_sentences_wholly_off_the_claim_pool_to_unrelated():
    pooled = pool_sentences(rows(((0.3, 0.3, 0.4), 0.0), ((0.5, 0.2, 0.3), 0.0)), LABELS)
    assert pooled[3] == pytest.approx(1.0) and pooled.sum() == pytest.approx(1.0)


def test_a_three_label_model_averages_its_sentences():
    sentences = np.array([[0.8, 0.1, 0.1], [0.2, 0.6, 0.2]])
    np.testing.assert_allclose(pool_sentences(sentences, STANCES), [0.5, 0.35, 0.15])


def test_a_title_is_one_sentence_before_the_text_and_spans_map_back_to_their_field():
    title = "  Managua meteorite claim denied. Officials speak  "
    text = "Farmers planted barley. The airport stayed open."
    document = Document(text, title)
    sentences = [span.of(document.joined) for span in document.spans]
    assert sentences == [title.strip(), "Farmers planted barley.", "The airport stayed open."]
    located = [document.locate(span) for span in document.spans]
    assert located[0] == (Field.TITLE, 2, len(title) - 2)
    for (field, start, end), sentence in zip(located[1:], sentences[1:], strict=True):
        assert field is Field.TEXT and text[start:end] == sentence
    spans, count = candidate_spans(CLAIM, document, 1)
    assert count == 3 and document.locate(spans[0])[0] is Field.TITLE  # it shares the claim's words


def test_no_title_or_a_blank_one_leaves_the_text_as_it_is():
    for title in (None, ""):
        document = Document("One. Two.", title)
        assert document.joined == "One. Two." and document.text_offset == 0
    blank = Document("One. Two.", "   ")
    assert [blank.locate(span)[0] for span in blank.spans] == [Field.TEXT, Field.TEXT]
