"""Fit a long text into the model's window by keeping the sentences that bear on the claim.

Cutting an article at its first N tokens keeps the lead, which often only sets the scene; the
sentence that asserts or denies the claim can be anywhere. We split the text into sentences, score
each by the claim words it shares (weighted by how rare the word is within the text, so a word
every sentence repeats counts little) plus a bonus for denial and hedging cues, and keep the best
sentences that fit the token budget, in their original order.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Protocol

from models.sentences import split_sentences

_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    "a an and are as at be been but by for from has have he her his i in is it its of on or that "
    "the their them they this to was were will with would said says say".split()
)
STANCE_CUES = frozenset(
    "not no never deny denies denied denial false fake hoax debunk debunked untrue rumor rumour "
    "claim claims claimed reportedly allegedly alleged unconfirmed unverified may might could "
    "refute refuted dismiss dismissed doubt doubts".split()
)
"""Words that mark a sentence as taking or withholding a side; such sentences are worth keeping."""

_CUE_BONUS = 0.5
SEPARATOR = " … "


class TokenCounter(Protocol):
    def __call__(self, texts: list[str], add_special_tokens: bool = ...) -> dict: ...


def _stem(word: str) -> str:
    """A crude stem (first five letters), enough to match 'deny'/'denies' or 'attack'/'attacked'."""
    return word[:5]


def _terms(sentence: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(sentence.lower()) if w not in _STOPWORDS}


def score_sentences(claim: str, sentences: list[str]) -> list[float]:
    """Relevance of each sentence to the claim: in-text-IDF-weighted claim-term overlap, plus cues."""
    claim_terms = _terms(claim)
    sentence_terms = [_terms(s) for s in sentences]
    document_frequency = Counter(t for terms in sentence_terms for t in terms)
    n = len(sentences)
    cue_stems = {_stem(c) for c in STANCE_CUES}
    scores = []
    for terms in sentence_terms:
        overlap = sum(math.log(1 + n / document_frequency[t]) for t in terms & claim_terms)
        scores.append(overlap + (_CUE_BONUS if terms & cue_stems else 0.0))
    return scores


def select_passages(claim: str, text: str, tokenizer: TokenCounter, max_tokens: int) -> tuple[str, bool]:
    """Return the text reduced to at most `max_tokens` tokens and whether it had to be reduced."""
    sentences = split_sentences(text)
    lengths = [len(ids) for ids in tokenizer(sentences, add_special_tokens=False)["input_ids"]] if sentences else []
    if sum(lengths) <= max_tokens:
        return text, False
    scores = score_sentences(claim, sentences)
    ranked = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
    chosen: list[int] = []
    budget = max_tokens
    for i in ranked:
        if lengths[i] + 1 <= budget:
            chosen.append(i)
            budget -= lengths[i] + 1
    if not chosen:
        return truncate_head(sentences[ranked[0]], tokenizer, max_tokens)[0], True
    return SEPARATOR.join(sentences[i] for i in sorted(chosen)), True


def truncate_head(text: str, tokenizer: TokenCounter, max_tokens: int) -> tuple[str, bool]:
    """The plain alternative (first `max_tokens` tokens), kept to measure passage selection against."""
    ids = tokenizer([text], add_special_tokens=False)["input_ids"][0]
    if len(ids) <= max_tokens:
        return text, False
    return tokenizer.decode(ids[:max_tokens]), True
