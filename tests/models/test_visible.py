import re

import pytest

from models.visible import has_visible_character, visible_character_pattern


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("a", True),
        (" \u200ba", True),
        ("\u05d0", True),
        ("", False),
        (" \t\n", False),
        ("\x00\x00", False),
        ("\u200b\u200c\u200d\ufeff", False),
        ("\u202e\u2066", False),
        ("\U000e0041", False),
    ],
)
def test_visible_means_something_but_whitespace_controls_and_format_characters(text, visible):
    assert has_visible_character(text) is visible


@pytest.mark.parametrize("text", ["a", "\u200b", "\u3000x", "\U000e0041", "\U0001f600", "\x00", "\u00a0"])
def test_the_schema_pattern_accepts_exactly_what_the_check_accepts(text):
    assert bool(re.search(visible_character_pattern(), text)) is has_visible_character(text)
