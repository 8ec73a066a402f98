import numpy as np

from serving.monitor.claim_index import ClaimIndexCache, embed_missing
from serving.monitor.claims import active_embeddings, register, retire
from serving.monitor.database import sessions
from serving.monitor.matching import MatchSettings
from tests.serving.monitor.words import WordEmbedder


def test_claims_without_this_models_vector_are_embedded_once(engine):
    embedder = WordEmbedder()
    with sessions(engine).begin() as session:
        register(session, "no vector yet", claim_id="a")
        register(session, "another model's vector", claim_id="b", embedding=np.ones(3), embedding_model="old")
        register(session, "retired", claim_id="c")
        retire(session, "c")
    assert embed_missing(sessions(engine), embedder) == 2
    assert embed_missing(sessions(engine), embedder) == 0
    with sessions(engine)() as session:
        active = active_embeddings(session, embedder.name, embedder.dimension)
    assert active.ids == ("a", "b")
    np.testing.assert_allclose(active.vectors, embedder.embed(["no vector yet", "another model's vector"]))


def test_the_index_follows_the_claim_table(engine):
    embedder = WordEmbedder()
    cache = ClaimIndexCache(sessions(engine), embedder)
    assert len(cache.current()) == 0
    with sessions(engine).begin() as session:
        register(session, "first", claim_id="a")
    first = cache.current()
    assert first.ids == ("a",)
    calls = len(embedder.calls)
    assert cache.current() is first and len(embedder.calls) == calls  # nothing changed: nothing read or embedded
    with sessions(engine).begin() as session:
        retire(session, "a")
        register(session, "second", claim_id="b")
    assert cache.current().ids == ("b",)


def test_past_the_cutoff_the_index_keeps_one_graph_edited_to_the_claim_table(engine):
    cache = ClaimIndexCache(sessions(engine), WordEmbedder(), MatchSettings(approximate_from=2))
    with sessions(engine).begin() as session:
        register(session, "first claim", claim_id="a")
    assert cache.current().graph is None  # one claim: exact
    with sessions(engine).begin() as session:
        register(session, "second claim", claim_id="b")
    graph = cache.current().graph
    assert graph is not None and set(graph.keys) == {"a", "b"}
    with sessions(engine).begin() as session:
        register(session, "third claim", claim_id="c")
        retire(session, "a")
    index = cache.current()
    assert index.graph is graph and len(graph) == 2 and "a" not in graph and {"b", "c"} <= set(graph.keys)
    found = index.candidates(WordEmbedder().embed(["third claim"]), MatchSettings(threshold=0.9))
    assert [candidate.claim_id for candidate in found] == ["c"]
    with sessions(engine).begin() as session:
        retire(session, "b")
    assert cache.current().graph is None  # below the cutoff: exact again, the graph kept aside
    with sessions(engine).begin() as session:
        register(session, "fourth claim", claim_id="d")
    assert cache.current().graph is graph and len(graph) == 2 and "b" not in graph and "d" in graph
