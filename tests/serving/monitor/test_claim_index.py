import numpy as np

import serving.monitor.claim_index as claim_index_module
from serving.monitor.claim_index import ClaimIndexCache, embed_missing
from serving.monitor.claims import active_embeddings, register, retire, unretire
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


def test_a_change_reads_only_the_claims_it_names_never_every_claim(engine, monkeypatch):
    """A worker catches up from the numbered changes: registering one claim among many reads that one claim's row,
    and the index keeps the others' rows as they were (appended to, not copied)."""
    embedder = WordEmbedder()
    with sessions(engine).begin() as session:
        for k in range(50):
            register(session, f"claim number {k}", claim_id=f"c{k}", embedding=embedder.embed([f"claim number {k}"])[0],
                     embedding_model=embedder.name)  # fmt: skip
    cache = ClaimIndexCache(sessions(engine), embedder)
    cache.current()
    read = []
    real = claim_index_module.active_embeddings
    monkeypatch.setattr(claim_index_module, "active_embeddings", lambda *a: read.append(a[3]) or real(*a))
    with sessions(engine).begin() as session:
        register(session, "the fifty-first claim", claim_id="new")
        retire(session, "c7")
    after = cache.current()
    assert read == [["c7", "new"]]  # the two claims the changes name, not the fifty
    assert len(after) == 50 and "new" in after.ids and "c7" not in after.ids
    again = cache.current()
    assert again is after  # no newer change: one query, nothing read
    found = after.candidates(embedder.embed(["claim number 7"]), MatchSettings(threshold=0.99))
    assert "c7" not in [c.claim_id for c in found]
    with sessions(engine).begin() as session:
        unretire(session, "c7")
    assert "c7" in [c.claim_id for c in cache.current().candidates(embedder.embed(["claim number 7"]),
                                                                    MatchSettings(threshold=0.99))]  # fmt: skip


def test_an_index_made_from_changes_matches_one_built_from_scratch(engine):
    embedder = WordEmbedder()
    cache = ClaimIndexCache(sessions(engine), embedder)
    for k in range(30):
        with sessions(engine).begin() as session:
            register(session, f"storm {k} hits the coast", claim_id=f"c{k}")
            if k % 3 == 2:
                retire(session, f"c{k - 1}")
        cache.current()
    fresh = ClaimIndexCache(sessions(engine), WordEmbedder()).current()
    document = embedder.embed(["storm 12 hits the coast", "the coast"])
    settings = MatchSettings(threshold=0.2, top_k=50)
    assert set(cache.current().ids) == set(fresh.ids)
    assert sorted(cache.current().candidates(document, settings), key=lambda c: c.claim_id) == sorted(
        fresh.candidates(document, settings), key=lambda c: c.claim_id
    )
