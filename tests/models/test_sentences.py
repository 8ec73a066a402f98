import pytest

from models.sentences import MAX_SENTENCE_CHARS, sentence_spans, split_sentences


def spans_of(text: str) -> list[str]:
    spans = sentence_spans(text)
    assert all(0 <= s.start < s.end <= len(text) for s in spans)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))
    return [s.of(text) for s in spans]


def test_splits_on_end_marks_and_line_breaks():
    assert split_sentences("One here. Two there!  Three?\n\nFour\nFive.") == [
        "One here.",
        "Two there!",
        "Three?",
        "Four",
        "Five.",
    ]


def test_offsets_index_the_text_exactly_with_accents_emoji_and_crlf():
    text = "  Le président a nié. 🙂 Emoji first, then more.\r\nA CRLF line 🇺🇸 ends here!\r\n\r\nLast one…"
    assert spans_of(text) == [
        "Le président a nié.",
        "🙂 Emoji first, then more.",
        "A CRLF line 🇺🇸 ends here!",
        "Last one…",
    ]
    first = sentence_spans(text)[0]
    assert (first.start, first.end) == (2, 21)  # code points: each accent is one index


def test_abbreviations_initials_and_quotes_followed_by_lower_case_do_not_end_a_sentence():
    text = 'Mr. Putin said U.S. officials lied. "It is false!" he added. J. Smith agreed. 3 people died.'
    assert spans_of(text) == [
        "Mr. Putin said U.S. officials lied.",
        '"It is false!" he added.',
        "J. Smith agreed.",
        "3 people died.",
    ]


def test_a_long_text_without_a_full_stop_is_cut_at_whitespace_into_pieces_that_fit():
    text = " ".join(f"word{i}" for i in range(3000))  # ~20,000 characters, no end mark
    assert len(text) > 20_000
    spans = sentence_spans(text)
    assert len(spans) > 1 and all(s.end - s.start <= MAX_SENTENCE_CHARS for s in spans)
    assert " ".join(s.of(text) for s in spans) == text  # nothing lost, no word cut
    assert all(not s.of(text).startswith(" ") and not s.of(text).endswith(" ") for s in spans)


def test_a_run_without_whitespace_is_cut_at_the_limit():
    text = "x" * 1000
    assert [s.end - s.start for s in sentence_spans(text)] == [MAX_SENTENCE_CHARS, MAX_SENTENCE_CHARS, 200]


@pytest.mark.parametrize("text", ["", "   ", "\r\n\n"])
def test_a_blank_text_has_no_sentences(text):
    assert sentence_spans(text) == []


def test_a_one_sentence_text_is_one_span_without_its_surrounding_whitespace():
    text = "  Officials denied it  \n"
    [span] = sentence_spans(text)
    assert span.of(text) == "Officials denied it"


@pytest.mark.parametrize("text", ["." * 50_000, "A. " * 16_666, "Mr. " * 12_500, "!?" * 25_000 + " x"])
def test_long_runs_of_end_marks_and_abbreviations_split_into_pieces_that_fit(text):
    spans = sentence_spans(text)  # these once took tens of seconds: the splitter was quadratic on them
    assert spans and all(s.end - s.start <= MAX_SENTENCE_CHARS for s in spans)


def test_no_ends_a_sentence_unless_a_number_follows():
    text = '"No." She left. He lives at No. 10 Downing Street.'
    assert spans_of(text) == ['"No."', "She left.", "He lives at No. 10 Downing Street."]
