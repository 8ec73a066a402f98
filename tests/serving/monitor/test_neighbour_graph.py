import numpy as np

from serving.monitor.neighbour_graph import NeighbourGraph


def unit_rows(rows: int, dimension: int = 16, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_each_claim_gets_a_key_that_outlives_edits():
    graph = NeighbourGraph(16, threads=1)
    vectors = unit_rows(3)
    first = graph.sync(("a", "b", "c"), vectors)
    assert sorted(first.tolist()) == [0, 1, 2] and len(graph) == 3
    again = graph.sync(("c", "a"), vectors[[2, 0]])  # b retired: a and c keep their keys
    assert again.tolist() == [first[2], first[0]] and len(graph) == 2 and "b" not in graph and "a" in graph
    later = graph.sync(("c", "a", "b"), vectors[[2, 0, 1]])  # b back: a new key, never a reused one
    assert later[2] == 3 and len(graph) == 3


def test_a_vectors_nearest_claims_are_found_and_a_removed_one_is_not():
    graph = NeighbourGraph(16, threads=1)
    vectors = unit_rows(50)
    ids = tuple(f"c{i}" for i in range(50))
    keys = graph.sync(ids, vectors)
    assert graph.nearest(vectors[[7]], 1).tolist() == [keys[7]]
    assert graph.nearest(vectors[[7, 9]], 1).tolist() == sorted([keys[7], keys[9]])
    assert len(graph.nearest(vectors[[7, 9]], 5)) in range(5, 11)  # five each, some maybe shared
    graph.sync(ids[:7] + ids[8:], np.delete(vectors, 7, axis=0))
    assert keys[7] not in graph.nearest(vectors[[7]], 5).tolist()
