import numpy as np
import pytest
from pydantic import ValidationError

from models.embedding import SentenceEmbedder
from serving.monitor.matching import (
    Candidate,
    ClaimIndex,
    MatchSettings,
    Reading,
    document_pieces,
    document_vectors,
    passages,
)

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
    assert document_pieces(embedder, TEXT, "Title", Reading.PASSAGES) == [
        "Title",
        f"{sentences[0]} {sentences[1]}",
        sentences[2],
    ]
    assert passages(["a", "b", "c"], [3, 3, 5], budget=6) == ["a b", "c"]
    assert passages(["long", "b"], [9, 1], budget=6) == ["long", "b"]
    assert passages(["", "a"], [0, 3], budget=6) == [" a"]  # a first sentence of no tokens opens the first run


def test_the_whole_text_is_one_piece(embedder):
    assert document_pieces(embedder, TEXT, "Title", Reading.WHOLE_TEXT) == ["Title", TEXT]
