"""What several test modules share: a free port, a POST to a running server, and the example pairs, defined once
so that a change to one of them reaches every test that uses it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from eval.harness.postgres import free_port as free_port  # one home: the benchmarks start servers too
from models.pair import Pair

if TYPE_CHECKING:
    from eval.harness.server_process import ServerProcess

CLAIM = "A meteorite crashed near the airport in Managua"
LONG_TEXT = " ".join(f"Farmers in the valley planted barley during week {i} of the season." for i in range(60))
"""Far past the 128-token window: a text that must be reduced."""
PAIRS = [
    (CLAIM, "Officials confirmed that a meteorite crashed near the airport."),
    ("The zoo's panda gave birth to triplets", "No."),
    (CLAIM, LONG_TEXT + " Officials denied that a meteorite hit Managua."),
    ("A singer bought an island", "Reports say the singer may have bought an island in the Pacific, unconfirmed."),
]
"""One short pair, one one-word text, one long text whose denial is its last sentence, one hedged report."""

TAUGHT_CLAIMS = (
    "A meteorite crashed near the airport",
    "The mayor resigned after the vote",
    "A shark was found in the flooded subway",
    CLAIM,
)
TAUGHT_TEXTS = {
    "{claim}": "asserting",
    "Witnesses say {claim}, police confirmed.": "asserting",
    "Officials denied that {claim}.": "disputing",
    "Reports claim that {claim}, but nobody has confirmed it.": "reporting",
    "Farmers planted barley by the river this spring.": "unrelated",
}
"""Text shapes (the claim written in, lower case) and the label the taught tiny model gives each: tests that need
a model to answer something in particular use it (tests/conftest.py, `taught_model`)."""


def taught_text(shape: str, claim: str) -> str:
    return shape.format(claim=claim.lower())


def taught_pairs() -> list[tuple[str, str, str]]:
    """(claim, text, label): every taught claim in every taught shape, with the label it was taught."""
    return [(c, taught_text(shape, c), label) for c in TAUGHT_CLAIMS for shape, label in TAUGHT_TEXTS.items()]


def pairs_of(values: list[tuple[str, ...]]) -> list[Pair]:
    """(claim, text) or (claim, text, title) tuples as the predictor's input records."""
    return [Pair(*value) for value in values]


def post(server: ServerProcess, path: str, json: Any = None, timeout: float = 30, **kwargs: Any) -> httpx.Response:
    """POST `json` (or httpx's `content=`, `headers=`, ...) to `path` of a running server."""
    return httpx.post(f"{server.url}{path}", json=json, timeout=timeout, **kwargs)
