import pytest

from models.passages import SEPARATOR, score_sentences, select_passages, truncate_head
from models.sentences import split_sentences

CLAIM = "A meteorite crashed near the airport in Managua"
KEY_SENTENCE = "Officials in Managua denied that a meteorite crashed near the airport."
FILLER = [
    f"Farmers in the northern valley planted barley and wheat during week {i} of the season."
    if i % 2
    else f"The orchestra rehearsed a new symphony for the concert hall on evening number {i}."
    for i in range(40)
]


def n_tokens(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def long_text(position: int) -> str:
    sentences = FILLER[:position] + [KEY_SENTENCE] + FILLER[position:]
    return " ".join(sentences)


def test_claim_bearing_sentence_scores_highest():
    scores = score_sentences(CLAIM, [FILLER[0], KEY_SENTENCE, FILLER[1]])
    assert scores[1] > scores[0]
    assert scores[1] > scores[2]


@pytest.mark.parametrize("position", [20, 33, 40])
def test_long_text_keeps_the_claim_bearing_sentence_within_budget(tokenizer, position):
    text = long_text(position)
    budget = 100
    assert n_tokens(tokenizer, text) > 4 * budget

    selected, reduced = select_passages(CLAIM, text, tokenizer, budget)

    assert reduced is True
    assert KEY_SENTENCE in selected
    assert n_tokens(tokenizer, selected) <= budget
    # Kept sentences are whole and in their original order.
    kept = selected.split(SEPARATOR)
    assert all(sentence in split_sentences(text) for sentence in kept)
    order = [split_sentences(text).index(sentence) for sentence in kept]
    assert order == sorted(order)


def test_truncating_the_head_loses_the_buried_sentence(tokenizer):
    text = long_text(33)
    cut, reduced = truncate_head(text, tokenizer, 100)
    assert reduced is True
    assert n_tokens(tokenizer, cut) <= 100
    assert "meteorite" not in cut.lower()


@pytest.mark.parametrize("function", ["passages", "truncate"])
def test_short_text_is_returned_unchanged(tokenizer, function):
    text = "Officials said a meteorite crashed near the airport. Nobody was hurt."
    if function == "passages":
        result = select_passages(CLAIM, text, tokenizer, 100)
    else:
        result = truncate_head(text, tokenizer, 100)
    assert result == (text, False)


def test_text_exactly_at_budget_is_not_reduced(tokenizer):
    text = "Officials said a meteorite crashed near the airport."
    assert select_passages(CLAIM, text, tokenizer, n_tokens(tokenizer, text)) == (text, False)
    selected, reduced = select_passages(CLAIM, text, tokenizer, n_tokens(tokenizer, text) - 1)
    assert reduced is True


def test_single_sentence_longer_than_budget_is_still_cut_to_budget(tokenizer):
    text = "The meteorite " + " and ".join(f"crater number {i}" for i in range(200)) + " near Managua."
    selected, reduced = select_passages(CLAIM, text, tokenizer, 50)
    assert reduced is True
    assert 0 < n_tokens(tokenizer, selected) <= 50
