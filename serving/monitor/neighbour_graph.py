"""An approximate nearest-neighbour graph over the watched claims, for when there are too many for one product.

One matrix product with every claim is exact and quick up to some ten thousand claims; at 100,000 it reads 154 MB a
document (28 ms for a title and three passages on 2 cores, eval/speed/bench_matching.py). Past
`MatchSettings.approximate_from` claims the index asks this graph for each document vector's `top_k` closest claims
and scores only those exactly (matching.py: `ClaimIndex.candidates`).

usearch's HNSW rather than faiss-cpu: one small wheel with no BLAS of its own, int8 storage (a quarter of the
memory, and the fastest search measured here), and keys that can be added and removed, so registering or retiring a
claim edits the graph instead of rebuilding it (building it for 100,000 claims takes about 40 s on 2 cores).
Keys are integers handed out once per claim id and never reused, so a search running against a graph that another
thread is editing can only return a key its caller does not know, which it skips.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
from usearch.index import BatchMatches, Index

CONNECTIVITY = 16
"""Links per node: usearch's default; more links, better recall, slower building."""
EXPANSION_ADD = 128
"""Candidates weighed when a claim is linked in: usearch's default."""
EXPANSION_SEARCH = 128
"""Candidates kept while searching (usearch keeps at least as many as asked for)."""


class NeighbourGraph:
    """The claims' vectors in an HNSW graph (int8, cosine), keyed by a stable integer per claim id."""

    def __init__(self, dimension: int, threads: int = 0) -> None:
        self.graph = Index(
            ndim=dimension,
            metric="cos",
            dtype="i8",
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
            expansion_search=EXPANSION_SEARCH,
        )
        self.threads = threads
        """Threads that link new claims in (0: every core); a Spark executor's worker gives its task's share."""
        self.keys: dict[str, int] = {}
        self.next_key = 0
        self.lock = threading.Lock()
        """usearch releases the GIL: one edit or search at a time. Adding many claims at once holds searches up
        meanwhile (about 40 s for 100,000 here)."""

    def __len__(self) -> int:
        """Claims in the graph itself (not in the key table): what a removal must shrink."""
        return len(self.graph)

    def __contains__(self, claim_id: str) -> bool:
        return claim_id in self.keys and self.graph.contains(self.keys[claim_id])

    def sync(self, ids: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """Bring the graph in step with the active claims (`ids`, their `vectors` row by row): claims no longer
        among them are removed, new ones added. Returns each id's key, in the order of `ids`."""
        with self.lock:
            wanted = set(ids)
            gone = [claim_id for claim_id in self.keys if claim_id not in wanted]
            if gone:
                self.graph.remove(np.array([self.keys.pop(claim_id) for claim_id in gone], dtype=np.uint64))
            new_rows = [row for row, claim_id in enumerate(ids) if claim_id not in self.keys]
            if new_rows:
                new_keys = np.arange(self.next_key, self.next_key + len(new_rows), dtype=np.uint64)
                self.next_key += len(new_rows)
                new_vectors = np.ascontiguousarray(vectors[new_rows], dtype=np.float32)
                self.graph.add(new_keys, new_vectors, threads=self.threads)
                self.keys.update(zip((ids[row] for row in new_rows), new_keys.tolist(), strict=True))
            return np.array([self.keys[claim_id] for claim_id in ids], dtype=np.int64)

    def edit(self, gone: Sequence[str], ids: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """Remove the claims `gone` and add `ids` (their `vectors` row by row): what one change to the watched claims
        asks, without a pass over every claim. Returns the new claims' keys, in the order of `ids`."""
        with self.lock:
            keys = [self.keys.pop(claim_id) for claim_id in gone if claim_id in self.keys]
            if keys:
                self.graph.remove(np.array(keys, dtype=np.uint64))
            new_keys = np.arange(self.next_key, self.next_key + len(ids), dtype=np.uint64)
            if len(ids):
                self.next_key += len(ids)
                self.graph.add(new_keys, np.ascontiguousarray(vectors, dtype=np.float32), threads=self.threads)
                self.keys.update(zip(ids, new_keys.tolist(), strict=True))
            return new_keys.astype(np.int64)

    def nearest(self, vectors: np.ndarray, count: int) -> np.ndarray:
        """The keys of the `count` claims closest to each of `vectors` as the graph ranks them, all together, each
        once. The graph ranks by int8 vectors: near the `count`-th place it may swap two claims that the float
        scores would order the other way (`make matching` counts what that loses; asking for twice as many found
        99.9% of the exact search's candidates against 99.6%, at 2.7 times the time)."""
        with self.lock:
            found = self.graph.search(np.ascontiguousarray(vectors, dtype=np.float32), count, threads=1)
        if isinstance(found, BatchMatches):  # one row per vector, padded past its count
            keys = [row[:count] for row, count in zip(found.keys, found.counts, strict=True)]
        else:  # what usearch answers for a single vector
            keys = [found.keys]
        return np.unique(np.concatenate(keys).astype(np.int64))
