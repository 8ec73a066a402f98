"""Whether a text has anything to read: one rule for the service's schemas and the batch job's rows.

`str.strip()` keeps NUL, zero-width spaces, byte-order marks and bidi controls, so a text of only those passed a
blank check and got a label. A character counts as visible unless it is whitespace, a control (Cc), a format
character (Cf: zero-width and bidi marks), or a separator (Zs, Zl, Zp).
"""

from __future__ import annotations

import sys
import unicodedata
from functools import cache

INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def is_invisible(character: str) -> bool:
    return character.isspace() or unicodedata.category(character) in INVISIBLE_CATEGORIES


def has_visible_character(text: str) -> bool:
    return not all(map(is_invisible, text))


@cache
def visible_character_pattern() -> str:
    """A JSON Schema pattern (one character class) that a text matches exactly when it has a visible character."""
    ranges: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF or not is_invisible(chr(code)):
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
