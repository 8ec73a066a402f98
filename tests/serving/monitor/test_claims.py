from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import insert

from serving.monitor.claims import (
    ClaimConflict,
    UnknownClaim,
    active_embeddings,
    get_claim,
    list_claims,
    register,
    retire,
)
from serving.monitor.database import sessions
from serving.monitor.documents import claim_texts
from serving.monitor.tables import ClaimRow

CLAIM = "Russia's airstrikes in Syria are targeting the Islamic State group"


def test_a_claim_registered_is_listed_and_kept_across_sessions(engine):
    with sessions(engine).begin() as session:
        claim = register(session, CLAIM, tags=["syria", "russia", "syria"], claim_id="strikes")
    assert (claim.id, claim.text, claim.tags, claim.retired_at) == ("strikes", CLAIM, ("syria", "russia"), None)
    assert claim.created_at.tzinfo is not None
    with sessions(engine).begin() as session:
        assert list_claims(session) == [claim]
        assert get_claim(session, "strikes") == claim


def test_registering_again_with_the_same_id_and_text_adds_nothing(session):
    first = register(session, CLAIM, claim_id="strikes")
    assert register(session, CLAIM, claim_id="strikes", tags=["other"]) == first
    assert list_claims(session) == [first]


def test_the_same_id_with_another_text_is_refused_by_name(session):
    register(session, CLAIM, claim_id="strikes")
    with pytest.raises(ClaimConflict, match="id 'strikes': already registered with another text"):
        register(session, "Another claim", claim_id="strikes")


def test_without_an_id_each_claim_gets_its_own(session):
    first, second = register(session, CLAIM), register(session, CLAIM)
    assert first.id != second.id and len(first.id) == 32


def test_a_retired_claim_leaves_the_list_but_not_the_store(session):
    kept, gone = register(session, "kept", claim_id="a"), register(session, "gone", claim_id="b")
    retired = retire(session, "b")
    assert retired.retired_at is not None and retired.retired_at >= gone.created_at
    assert retire(session, "b") == retired  # the first date stays
    assert list_claims(session) == [kept]
    assert list_claims(session, include_retired=True) == [kept, retired]
    assert get_claim(session, "b") == retired


def test_an_unknown_claim_is_named(session):
    with pytest.raises(UnknownClaim, match="claim_id 'nope': no watched claim has this id"):
        retire(session, "nope")
    with pytest.raises(UnknownClaim, match="claim_id 'nope'"):
        get_claim(session, "nope")


def test_claims_listed_by_tag(session):
    syria = register(session, CLAIM, tags=["syria"], claim_id="a")
    register(session, "The vaccine alters DNA", tags=["health"], claim_id="b")
    assert list_claims(session, tag="syria") == [syria]
    assert list_claims(session, tag="none") == []


def test_claims_are_listed_a_page_at_a_time_each_once(session):
    claims = [register(session, f"claim {i}", tags=["even"] if i % 2 == 0 else [], claim_id=f"c{i}") for i in range(7)]
    retire(session, "c3")
    pages, after = [], None
    while page := list_claims(session, limit=2, after=after):
        pages.append([claim.id for claim in page])
        after = page[-1].id
    assert pages == [["c0", "c1"], ["c2", "c4"], ["c5", "c6"]]  # registration order; the retired one left out
    assert [c.id for c in list_claims(session, tag="even", limit=2, after="c0")] == ["c2", "c4"]  # tag, then limit
    assert [c.id for c in list_claims(session, include_retired=True, after="c2", limit=1)] == ["c3"]
    assert list_claims(session, after="c6") == [] and len(list_claims(session)) == len(claims) - 1
    with pytest.raises(UnknownClaim, match="claim_id 'nope'"):
        list_claims(session, after="nope")


def test_active_embeddings_are_the_unretired_claims_of_one_embedding_model(session):
    vectors = np.eye(3, dtype=np.float32)
    for index, claim_id in enumerate("abc"):
        register(session, f"claim {claim_id}", claim_id=claim_id, embedding=vectors[index], embedding_model="m1")
    register(session, "other model", claim_id="d", embedding=vectors[0], embedding_model="m2")
    register(session, "not embedded", claim_id="e")
    retire(session, "b")

    active = active_embeddings(session, "m1", dimension=3)
    assert active.ids == ("a", "c")
    np.testing.assert_array_equal(active.vectors, vectors[[0, 2]])
    assert active_embeddings(session, "none", dimension=3).vectors.shape == (0, 3)


def test_past_65535_claims_the_claims_and_their_texts_are_read(engine):
    """PostgreSQL binds at most 65,535 values in one statement: the Spark ingest's driver once bound one per claim."""
    count = 70_000
    now = datetime.now(UTC)
    vector = np.ones(4, dtype=np.float32).tobytes()
    with sessions(engine).begin() as session:
        session.execute(insert(ClaimRow), [
            {"id": f"c{k:05d}", "text": f"claim {k}", "tags": [], "created_at": now, "embedding": vector,
             "embedding_model": "m"} for k in range(count)])  # fmt: skip
    with sessions(engine)() as session:
        everything = active_embeddings(session, "m", 4)
        some = active_embeddings(session, "m", 4, [f"c{k:05d}" for k in range(0, count, 1)])
        texts = claim_texts(session, set(everything.ids))
    assert len(everything.ids) == len(some.ids) == len(texts) == count
    assert everything.texts[123] == "claim 123" and texts["c69999"] == "claim 69999"
