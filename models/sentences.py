"""Split a text into sentences with their character offsets, so that evidence can point into the text as sent.

Offsets are Python string indices (code points): `text[span.start:span.end]` is the sentence, exactly, for
any Unicode text, and line endings (LF, CRLF, CR) are kept as they came. A regular expression, not a library:
NLTK's punkt needs a data download (this service runs offline), and pySBD would be one more dependency on the
serving path for what news prose needs: sentence-final punctuation, line breaks and a list of abbreviations.
A "sentence" longer than MAX_SENTENCE_CHARS (a 20,000-character text with no full stop) is cut at whitespace
into pieces that fit the model's window beside a claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_SENTENCE_CHARS = 400
"""Longest piece scored as one sentence: about 100 tokens of English, what the window leaves beside a claim."""

_LINE = re.compile(r"[^\r\n]+")
_SENTENCE_END = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’»)\]]*+(?=\s)")
"""A run of end marks is tried once, from its first mark, and taken whole (possessive): not retried from each
of its characters, which made a long run quadratic."""
_LAST_WORD = re.compile(r"(\S+?)[.!?…]+[\"'”’»)\]]*$")
_WORD_TAIL = 40
"""Characters before an end mark in which its word is looked for: enough for any abbreviation, and it keeps
the look-back from rescanning a long sentence at each of its full stops."""
_NEXT_WORD = re.compile(r"[^\S\r\n]*(\w)")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr gen col lt sgt capt gov sen rep pres rev hon vs etc inc ltd co corp fig "
    "jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n e.g i.e a.m p.m".split()
)
"""Words whose full stop does not end a sentence ("Mr. Putin", "U.S. officials"); "No." is decided apart."""


@dataclass(frozen=True)
class Span:
    """A sentence as the characters `start` up to (not including) `end` of its text."""

    start: int
    end: int

    def of(self, text: str) -> str:
        return text[self.start : self.end]


def _ends_sentence(text: str, start: int, end: int) -> bool:
    """Whether the punctuation ending at `end` closes a sentence: not an abbreviation or an initial, and not
    followed by a lower-case word ('"It is false!" he said.')."""
    following = _NEXT_WORD.match(text, end)
    if following and following.group(1).islower():
        return False
    match = _LAST_WORD.search(text, max(start, end - _WORD_TAIL), end)
    if match is None:
        return True
    word = match.group(1).lower().lstrip("\"'“‘«([")
    if word == "no":  # "No. 10 Downing Street", but a denial in '"No." She left.'
        return not (following and following.group(1).isdigit())
    return not (word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()))


def stripped(text: str, start: int, end: int) -> Span | None:
    """`text[start:end]` without the whitespace around it, or None where nothing else is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if start < end else None


def _pieces(text: str, span: Span, max_chars: int) -> list[Span]:
    """`span` cut at the last whitespace before each `max_chars` (or at `max_chars` where there is none)."""
    pieces, start = [], span.start
    while span.end - start > max_chars:
        cut = text.rfind(" ", start + 1, start + max_chars + 1)
        cut = cut if cut > start else start + max_chars
        if piece := stripped(text, start, cut):
            pieces.append(piece)
        start = cut
    if piece := stripped(text, start, span.end):
        pieces.append(piece)
    return pieces


def sentence_spans(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[Span]:
    """The text's sentences in order, each without surrounding whitespace; none for a blank text."""
    spans: list[Span] = []
    for line in _LINE.finditer(text):
        start = line.start()
        for end_mark in _SENTENCE_END.finditer(text, line.start(), line.end()):
            if _ends_sentence(text, start, end_mark.end()):
                if sentence := stripped(text, start, end_mark.end()):
                    spans.extend(_pieces(text, sentence, max_chars))
                start = end_mark.end()
        if rest := stripped(text, start, line.end()):
            spans.extend(_pieces(text, rest, max_chars))
    return spans


def split_sentences(text: str) -> list[str]:
    return [span.of(text) for span in sentence_spans(text)]
