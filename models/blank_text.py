"""Whether a text is blank, with nothing to read: one rule for the service's schemas and the batch job's rows.

`str.strip()` keeps NUL, zero-width spaces, byte-order marks and bidi controls, so a text of only those passed a
blank check and got a label. A character counts as blank where it is whitespace, a control (Cc), a format
character (Cf: zero-width and bidi marks), or a separator (Zs, Zl, Zp).
"""

from __future__ import annotations

import sys
import unicodedata
from functools import cache

BLANK_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def is_blank_character(character: str) -> bool:
    return character.isspace() or unicodedata.category(character) in BLANK_CATEGORIES


def is_blank(text: str) -> bool:
    return all(map(is_blank_character, text))


@cache
def not_blank_pattern() -> str:
    """A JSON Schema pattern (one character class) that a text matches exactly when it is not blank."""
    ranges: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF or not is_blank_character(chr(code)):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "[^" + "".join(span(first, last) for first, last in ranges) + "]"


def span(first: int, last: int) -> str:
    """`\\uXXXX` escapes in the Basic Multilingual Plane, which JSON Schema's regex dialect and Python's share;
    the characters themselves above it, where the two dialects' escapes differ."""
    bounds = [f"\\u{code:04x}" if code <= 0xFFFF else chr(code) for code in (first, last)]
    return bounds[0] if first == last else "-".join(bounds)
