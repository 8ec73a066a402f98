"""One input record, a (claim, text, title) pair, and the one set of limits every surface takes it under.

The predictor scores `Pair`s; the service turns each request body into them, the batch job each row. The
limits are declared and range-checked here only: the service's settings inherit them (CLAIMSTANCE_MAX_TEXT_CHARS
…), the batch job's flags build them, and both check a pair's lengths against them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class Pair:
    """A claim and a text to read against it; the title, where there is one, is read as one more sentence before
    the text (models/document.py)."""

    claim: str
    text: str
    title: str | None = None


class InputLimits(BaseModel):
    """How long a claim, a text and a title may be, in characters, and how many evidence sentences a text gets.
    A pair past a limit is refused with the field and the limit named, never cut."""

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    max_claim_chars: int = Field(default=2_000, ge=1)
    """Claims are also held to models/defaults.py: MAX_CLAIM_TOKENS of the model's tokenizer."""
    max_text_chars: int = Field(default=50_000, ge=1)
    """A text longer than this is refused, not cut: the answer would not say what it left unread."""
    max_title_chars: int = Field(default=2_000, ge=1)
    """A title is read as one more sentence before the text."""
    max_evidence: int = Field(default=3, ge=1)
    """Sentences of a long text scored against the claim and shown as its evidence (a handful at most)."""


DEFAULT_LIMITS = InputLimits()
