import numpy as np
import pytest
from pydantic import ValidationError

from models.embedding import SentenceEmbedder
from serving.monitor.matching import (
    Candidate,
    ClaimIndex,
    DocumentCut,
    MatchSettings,
    claim_index,
    document_pieces,
    document_vectors,
    passages,
)
from serving.monitor.neighbour_graph import NeighbourGraph

UNIT = np.eye(4, dtype=np.float32)


@pytest.fixture
def embedder(tiny_base_model_dir) -> SentenceEmbedder:
    return SentenceEmbedder.from_dir(tiny_base_model_dir, num_threads=1)


def index_of(*rows) -> ClaimIndex:
    vectors = np.array(rows, dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return ClaimIndex(tuple(f"c{i}" for i in range(len(rows))), vectors)


def test_a_claim_is_as_close_as_the_documents_closest_vector():
    index = index_of([1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0])
    document = np.array([[1, 0, 0, 0], [0, 0.6, 0.8, 0]], dtype=np.float32)
    np.testing.assert_allclose(index.similarities(document), [1.0, 0.6, 0.8])


def test_candidates_are_those_over_the_threshold_the_closest_first():
    index = index_of([1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1])
    document = np.array([[0.6, 0.0, 0.8, 0.0]], dtype=np.float32)
    found = index.candidates(document, MatchSettings(threshold=0.5, top_k=10))
    assert found == [Candidate("c2", pytest.approx(0.8)), Candidate("c0", pytest.approx(0.6))]
    assert index.candidates(document, MatchSettings(threshold=0.7, top_k=10)) == [Candidate("c2", pytest.approx(0.8))]
    assert index.candidates(document, MatchSettings(threshold=0.5, top_k=1)) == [Candidate("c2", pytest.approx(0.8))]
    assert index.candidates(document, MatchSettings(threshold=0.9, top_k=10)) == []


def test_ties_keep_the_index_order():
    index = index_of([1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0])
    found = index.candidates(UNIT[:1], MatchSettings(threshold=0.5, top_k=2))
    assert [candidate.claim_id for candidate in found] == ["c0", "c1"]


def test_an_empty_index_or_document_matches_nothing():
    empty = ClaimIndex((), np.zeros((0, 4), dtype=np.float32))
    assert empty.candidates(UNIT, MatchSettings()) == [] and len(empty) == 0
    assert index_of([1, 0, 0, 0]).candidates(np.zeros((0, 4), dtype=np.float32), MatchSettings()) == []


def test_ids_and_vectors_must_agree():
    with pytest.raises(ValueError, match="2 claim ids for 1 vectors"):
        ClaimIndex(("a", "b"), UNIT[:1])


def test_match_settings_are_bounded():
    with pytest.raises(ValidationError, match="top_k"):
        MatchSettings(top_k=0)
    with pytest.raises(ValidationError, match="threshold"):
        MatchSettings(threshold=1.5)


TEXT = "Russian jets struck targets near Homs. The Pentagon said no ISIS fighters were there. Markets were calm."


def test_a_document_is_its_title_and_each_sentence(embedder):
    assert document_pieces(embedder, TEXT, "  Strikes in Syria ") == [
        "Strikes in Syria",
        "Russian jets struck targets near Homs.",
        "The Pentagon said no ISIS fighters were there.",
        "Markets were calm.",
    ]
    assert (
        document_pieces(embedder, TEXT, " ") == document_pieces(embedder, TEXT) == document_pieces(embedder, TEXT, None)
    )
    assert document_vectors(embedder, TEXT, "Strikes").shape == (4, embedder.dimension)


def test_passages_are_whole_sentences_up_to_the_window(embedder):
    sentences = document_pieces(embedder, TEXT)
    counts = embedder.token_counts(sentences)
    embedder.max_tokens = counts[0] + counts[1] + 2  # the first two sentences fit one window, not all three
    assert document_pieces(embedder, TEXT, "Title", DocumentCut.PASSAGES) == [
        "Title",
        f"{sentences[0]} {sentences[1]}",
        sentences[2],
    ]
    assert passages(["a", "b", "c"], [3, 3, 5], budget=6) == ["a b", "c"]
    assert passages(["long", "b"], [9, 1], budget=6) == ["long", "b"]
    assert passages(["", "a"], [0, 3], budget=6) == [" a"]  # a first sentence of no tokens opens the first run


def test_the_whole_text_is_one_piece(embedder):
    assert document_pieces(embedder, TEXT, "Title", DocumentCut.WHOLE_TEXT) == ["Title", TEXT]


def random_unit_rows(rows: int, dimension: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_the_graph_backed_search_finds_what_the_exact_one_does():
    claims = random_unit_rows(300, 16, seed=1)
    ids = tuple(f"c{i}" for i in range(300))
    exact = ClaimIndex(ids, claims)
    graph = ClaimIndex(ids, claims, NeighbourGraph(16, threads=1))  # one thread: the same graph every run
    settings = MatchSettings(threshold=0.5, top_k=40)  # the threshold binds: no int8 tie at the top_k-th place
    for document in (claims[[4]], claims[[1, 2, 3]], random_unit_rows(4, 16, seed=2)):
        found, expected = graph.candidates(document, settings), exact.candidates(document, settings)
        assert [c.claim_id for c in found] == [c.claim_id for c in expected] and len(expected) > 1
        np.testing.assert_allclose([c.similarity for c in found], [c.similarity for c in expected], rtol=1e-5)


def test_the_index_goes_through_a_graph_from_the_cutoff_on():
    claims = random_unit_rows(5, 8, seed=3)
    ids = tuple("abcde")
    graph = NeighbourGraph(8)
    assert claim_index(ids, claims, MatchSettings(approximate_from=6), graph).graph is None and len(graph) == 0
    assert claim_index(ids, claims, MatchSettings(approximate_from=5), graph).graph is graph and len(graph) == 5
    kept = claim_index(ids[:4], claims[:4], MatchSettings(approximate_from=4), graph)
    assert kept.graph is graph and len(graph) == 4  # the retired claim left the graph, nothing was rebuilt


def test_a_claim_added_to_the_shared_graph_after_the_index_was_built_is_skipped():
    claims = random_unit_rows(3, 8, seed=4)
    graph = NeighbourGraph(8)
    older = ClaimIndex(("a", "b"), claims[:2], graph)
    ClaimIndex(("a", "b", "c"), claims, graph)  # another thread's newer index edits the same graph
    found = older.candidates(claims[[2]], MatchSettings(threshold=-1.0, top_k=3))
    assert {candidate.claim_id for candidate in found} == {"a", "b"}
