"""What several test modules share: a free port, a POST to a running server, and the example pairs, defined once
so that a change to one of them reaches every test that uses it."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

import httpx

from models.pair import Pair

if TYPE_CHECKING:
    from eval.server_process import ServerProcess

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


def pairs_of(values: list[tuple[str, ...]]) -> list[Pair]:
    """(claim, text) or (claim, text, title) tuples as the predictor's input records."""
    return [Pair(*value) for value in values]


def free_port() -> int:
    """A port nothing listens on now (the OS's pick), for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(server: ServerProcess, path: str, json: Any = None, timeout: float = 30, **kwargs: Any) -> httpx.Response:
    """POST `json` (or httpx's `content=`, `headers=`, ...) to `path` of a running server."""
    return httpx.post(f"{server.url}{path}", json=json, timeout=timeout, **kwargs)
