import pytest

from models.defaults import MAX_CLAIM_TOKENS
from models.encoding import (
    MIN_TEXT_TOKENS,
    ClaimLimit,
    ClaimTooLongError,
    LongTextStrategy,
    encode_pairs,
    fit_texts,
)

CLAIM = "A meteorite crashed near the airport in Managua"
KEY_SENTENCE = "Officials in Managua denied that a meteorite crashed near the airport."
FILLER = " ".join(f"Farmers in the valley planted barley during week {i} of the season." for i in range(40))
LONG_TEXT = f"{FILLER} {KEY_SENTENCE} {FILLER}"


def claim_of(n_tokens: int) -> str:
    return " ".join(["word"] * n_tokens)


def test_claim_token_counts_exclude_special_tokens(tokenizer):
    assert ClaimLimit(tokenizer, 256).token_counts([claim_of(5), claim_of(12)]) == [5, 12]


def test_claim_limit_names_each_claim_over_it_with_its_field(tokenizer):
    limit = ClaimLimit(tokenizer, 256)
    assert limit.tokens == MAX_CLAIM_TOKENS
    errors = limit.errors([claim_of(3), claim_of(MAX_CLAIM_TOKENS + 2), claim_of(MAX_CLAIM_TOKENS)], "headline")
    assert list(errors) == [1]
    assert str(errors[1]) == f"headline: {MAX_CLAIM_TOKENS + 2} tokens, over the limit of {MAX_CLAIM_TOKENS} tokens"
    assert limit.errors([]) == {}


def test_claim_over_the_limit_is_refused_not_cut(tokenizer):
    with pytest.raises(ClaimTooLongError) as error:
        fit_texts(tokenizer, ["short claim", claim_of(MAX_CLAIM_TOKENS + 1)], ["a text.", "a text."], 256)
    assert error.value.tokens == MAX_CLAIM_TOKENS + 1
    assert str(MAX_CLAIM_TOKENS) in str(error.value)
    assert isinstance(error.value, ValueError)


def test_claim_at_the_limit_is_accepted(tokenizer):
    texts, reduced = fit_texts(tokenizer, [claim_of(MAX_CLAIM_TOKENS)], ["A short text."], 256)
    assert texts == ["A short text."]
    assert reduced == [False]


def test_fit_texts_reduces_only_long_texts_and_keeps_the_claim_sentence(tokenizer):
    texts, reduced = fit_texts(tokenizer, [CLAIM, CLAIM], ["A short text.", LONG_TEXT], 128)
    assert texts[0] == "A short text."
    assert reduced == [False, True]
    assert KEY_SENTENCE in texts[1]
    encoded = encode_pairs(tokenizer, [CLAIM], [texts[1]], 128)
    assert len(encoded["input_ids"][0]) <= 128
    # Passage selection left the text short enough that nothing had to be cut after it.
    assert KEY_SENTENCE.lower().rstrip(".") in tokenizer.decode(encoded["input_ids"][0])


def test_truncate_strategy_keeps_the_head_instead(tokenizer):
    texts, reduced = fit_texts(tokenizer, [CLAIM], [LONG_TEXT], 128, LongTextStrategy.TRUNCATE)
    assert reduced == [True]
    assert "meteorite" not in texts[0].lower()
    assert texts[0].startswith("farmers in the valley")


def test_text_budget_leaves_room_for_the_claim_and_special_tokens(tokenizer):
    claim = claim_of(40)
    texts, _ = fit_texts(tokenizer, [claim], [LONG_TEXT], 128)
    text_tokens = len(tokenizer(texts[0], add_special_tokens=False)["input_ids"])
    assert text_tokens <= 128 - 40 - tokenizer.num_special_tokens_to_add(pair=True)


def test_encode_pairs_puts_the_claim_first_and_truncates_only_the_text(tokenizer):
    claim = claim_of(90)
    encoded = encode_pairs(tokenizer, [claim, "short claim"], [LONG_TEXT, "short text"], 128)
    ids, types = encoded["input_ids"][0], encoded["token_type_ids"][0]
    assert len(ids) == 128
    claim_ids = tokenizer(claim, add_special_tokens=False)["input_ids"]
    assert ids[0] == tokenizer.cls_token_id
    assert ids[1 : 1 + len(claim_ids)] == claim_ids
    assert ids[1 + len(claim_ids)] == tokenizer.sep_token_id
    assert types[: 2 + len(claim_ids)] == [0] * (2 + len(claim_ids))
    assert set(types[2 + len(claim_ids) :]) == {1}
    text_ids = tokenizer(LONG_TEXT, add_special_tokens=False)["input_ids"]
    assert ids[2 + len(claim_ids) : -1] == text_ids[: 128 - 3 - len(claim_ids)]
    # No padding: each pair is only as long as it needs to be.
    assert len(encoded["input_ids"][1]) == len(tokenizer("short claim", "short text")["input_ids"]) < 128


def test_a_short_window_lowers_the_claim_limit_so_the_text_keeps_room(tokenizer):
    limit = ClaimLimit(tokenizer, 64).tokens
    assert limit == 64 - tokenizer.num_special_tokens_to_add(pair=True) - MIN_TEXT_TOKENS
    with pytest.raises(ClaimTooLongError) as error:
        fit_texts(tokenizer, [claim_of(limit + 1)], ["a text."], 64)
    assert error.value.limit == limit
    texts, _ = fit_texts(tokenizer, [claim_of(limit)], ["word " * 200], 64)
    assert len(encode_pairs(tokenizer, [claim_of(limit)], texts, 64)["input_ids"][0]) <= 64
