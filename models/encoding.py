"""How a (claim, text) pair becomes model input: claim first, and only the text side is shortened."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from transformers import BatchEncoding, PreTrainedTokenizerBase

from models.defaults import MAX_CLAIM_TOKENS
from models.passages import select_passages, truncate_head


class LongTextStrategy(StrEnum):
    """How a text of several sentences is read. SENTENCES: its candidate sentences, each against the claim,
    pooled (models/evidence.py). PASSAGES: one pass over the sentences nearest the claim that fit the window.
    TRUNCATE: one pass over the window's first tokens. PASSAGES_AND_SENTENCES: the passages' pass pooled with
    the sentences'. Every strategy scores the candidate sentences, for the evidence."""

    SENTENCES = "sentences"
    PASSAGES = "passages"
    TRUNCATE = "truncate"
    PASSAGES_AND_SENTENCES = "passages_and_sentences"

    @property
    def reads_whole_text(self) -> bool:
        """Whether a pass over the (fitted) text itself counts in the answer."""
        return self is not LongTextStrategy.SENTENCES

    @property
    def pools_sentences(self) -> bool:
        return self in (LongTextStrategy.SENTENCES, LongTextStrategy.PASSAGES_AND_SENTENCES)


MIN_TEXT_TOKENS = 16
"""Room always left for the text: a claim that leaves less than this in the window is refused."""


class ClaimTooLongError(ValueError):
    def __init__(self, tokens: int, limit: int, field: str = "claim") -> None:
        super().__init__(f"{field}: {tokens} tokens, over the limit of {limit} tokens")
        self.tokens = tokens
        self.limit = limit


class ClaimLimit:
    """The one check of a claim's length, shared by the predictor, the service and the batch job.

    A claim is never cut (that would change what is asked): one over the limit is refused. The limit is
    MAX_CLAIM_TOKENS, or less where the window is so short that the text would have no room.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.tokens = min(
            MAX_CLAIM_TOKENS, max_length - tokenizer.num_special_tokens_to_add(pair=True) - MIN_TEXT_TOKENS
        )

    def token_counts(self, claims: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.tokenizer(list(claims), add_special_tokens=False)["input_ids"]]

    def error(self, tokens: int, field: str = "claim") -> ClaimTooLongError | None:
        return ClaimTooLongError(tokens, self.tokens, field) if tokens > self.tokens else None

    def errors(self, claims: Sequence[str], field: str = "claim") -> dict[int, ClaimTooLongError]:
        """The claims over the limit, by their index in `claims`."""
        counts = self.token_counts(claims) if claims else []
        return {i: error for i, count in enumerate(counts) if (error := self.error(count, field))}


def fit_texts(
    tokenizer: PreTrainedTokenizerBase,
    claims: Sequence[str],
    texts: Sequence[str],
    max_length: int,
    strategy: LongTextStrategy = LongTextStrategy.PASSAGES,
) -> tuple[list[str], list[bool]]:
    """Shorten each text to what fits beside its claim; also say which texts were shortened.

    Raises ClaimTooLongError for a claim over the ClaimLimit.
    """
    special = tokenizer.num_special_tokens_to_add(pair=True)
    limit = ClaimLimit(tokenizer, max_length)
    fitted, reduced = [], []
    for claim, text, claim_tokens in zip(claims, texts, limit.token_counts(claims), strict=True):
        if error := limit.error(claim_tokens):
            raise error
        budget = max_length - special - claim_tokens
        if strategy is LongTextStrategy.TRUNCATE:
            text, was_reduced = truncate_head(text, tokenizer, budget)
        else:
            text, was_reduced = select_passages(claim, text, tokenizer, budget)
        fitted.append(text)
        reduced.append(was_reduced)
    return fitted, reduced


def encode_pairs(
    tokenizer: PreTrainedTokenizerBase, claims: Sequence[str], texts: Sequence[str], max_length: int
) -> BatchEncoding:
    """Token ids without padding (batches pad dynamically); any overflow left is cut from the text."""
    return tokenizer(list(claims), list(texts), truncation="only_second", max_length=max_length)
