import re

import pytest

from models.blank_text import is_blank, not_blank_pattern


@pytest.mark.parametrize(
    ("text", "blank"),
    [
        ("a", False),
        (" \u200ba", False),
        ("\u05d0", False),
        ("", True),
        (" \t\n", True),
        ("\x00\x00", True),
        ("\u200b\u200c\u200d\ufeff", True),
        ("\u202e\u2066", True),
        ("\U000e0041", True),
    ],
)
def test_blank_means_only_whitespace_controls_and_format_characters(text, blank):
    assert is_blank(text) is blank


@pytest.mark.parametrize("text", ["a", "\u200b", "\u3000x", "\U000e0041", "\U0001f600", "\x00", "\u00a0"])
def test_the_schema_pattern_accepts_exactly_what_the_check_accepts(text):
    assert bool(re.search(not_blank_pattern(), text)) is not is_blank(text)
