"""A stand-in embedding model for the monitor's tests: a text is the bag of its words, hashed into 64 dimensions,
so texts that share words are close and others are not, by construction rather than by a random network."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

WIDTH = 64
STOPWORDS = frozenset("a an the of in on is are was to and that it its by".split())


class WordEmbedder:
    name = "words-64"
    dimension = WIDTH
    max_tokens = 128

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        return [len(text.split()) for text in texts]

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), WIDTH), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in set(re.findall(r"[a-z]+", text.lower())) - STOPWORDS:
                out[row, zlib.crc32(word.encode()) % WIDTH] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)
