import json

import numpy as np
import pyarrow as pa
import pytest

from models.encoding import MIN_TEXT_TOKENS, ClaimLimit
from models.pair import InputLimits
from serving.batch.rows import check_rows, pairs_of
from serving.jobs.rejects import Reject

LIMITS = InputLimits(max_claim_chars=60, max_text_chars=100, max_title_chars=20)
COLUMNS = ("claim", "text", "title")


@pytest.fixture(scope="module")
def claim_limit(tokenizer):
    """Claims of at most 8 tokens: a window of 8 + 3 special tokens + the room kept for the text."""
    limit = ClaimLimit(tokenizer, 8 + tokenizer.num_special_tokens_to_add(pair=True) + MIN_TEXT_TOKENS)
    assert limit.tokens == 8
    return limit


def test_each_bad_row_gets_its_reason(claim_limit):
    table = pa.table(
        {
            "id": ["ok", "none", "blank", "long text", "many tokens", "no text"],
            "claim": ["A cat", None, "  ", "A cat", "one two three four five six seven eight nine", "A cat"],
            "text": ["A dog", "A dog", "A dog", "x" * 101, "A dog", None],
        }
    )
    keep, rejects = check_rows(table, np.array([10, 11, 12, 13, 14, 15]), COLUMNS, LIMITS, claim_limit)
    assert keep.tolist() == [True, False, False, False, False, False]
    assert [(r.row, r.reason) for r in rejects] == [
        (11, "claim: missing"),
        (12, "claim: empty"),
        (13, "text: 101 characters, over the limit of 100"),
        (14, "claim: 9 tokens, over the limit of 8 tokens"),
        (15, "text: missing"),
    ]
    assert rejects[0].input == {"id": "none", "claim": None, "text": "A dog"}


def test_a_text_of_only_invisible_characters_is_empty(claim_limit):
    table = pa.table({"claim": ["A cat", "A cat"], "text": ["\u200b\u200b\x00", "\u200bA dog"]})
    keep, rejects = check_rows(table, np.array([1, 2]), COLUMNS, LIMITS, claim_limit)
    assert keep.tolist() == [False, True]
    assert [(r.row, r.reason) for r in rejects] == [(1, "text: empty")]


def test_a_missing_column_rejects_every_row_as_missing(claim_limit):
    table = pa.table({"claim": ["A cat"]})
    keep, rejects = check_rows(table, np.array([1]), ("claim", "body", "title"), LIMITS, claim_limit)
    assert not keep.any() and rejects[0].reason == "body: missing"


def test_a_title_is_optional_but_one_given_must_be_text_within_its_limit(claim_limit):
    titles = [None, "", "  ", "A short title", "t" * 21]
    table = pa.table({"claim": ["A cat"] * 5, "text": ["A dog"] * 5, "title": titles})
    keep, rejects = check_rows(table, np.arange(1, 6), COLUMNS, LIMITS, claim_limit)
    assert keep.tolist() == [True, True, True, True, False]
    assert [(r.row, r.reason) for r in rejects] == [(5, "title: 21 characters, over the limit of 20")]
    assert [p.title for p in pairs_of(table, COLUMNS)] == [None, None, None, "A short title", "t" * 21]
    assert [p.title for p in pairs_of(table, ("claim", "text", "headline"))] == [None] * 5  # no such column
    mixed = pa.table({"claim": ["A cat"], "text": ["A dog"], "title": [7]})
    keep, rejects = check_rows(mixed, np.array([1]), COLUMNS, LIMITS, claim_limit)
    assert rejects[0].reason == "title: expected a string, got int"


def test_reject_is_one_json_line():
    line = Reject(3, "claim: empty", {"claim": "", "when": b"x"}).to_json()
    assert json.loads(line) == {"row": 3, "reason": "claim: empty", "input": {"claim": "", "when": "b'x'"}}
