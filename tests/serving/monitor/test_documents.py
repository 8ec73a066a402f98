import threading

import pytest
from sqlalchemy import func, select

from models.contract import from_record
from models.predictor import StancePredictor
from models.result import StanceResult
from serving.monitor.claims import register, retire
from serving.monitor.database import sessions
from serving.monitor.documents import (
    DocumentConflict,
    DocumentIngest,
    IncomingDocument,
    StoredMeanwhile,
    stored_hashes,
)
from serving.monitor.matching import DocumentCut, MatchSettings
from serving.monitor.tables import AnswerRow, DocumentRow
from tests.serving.monitor.words import WordEmbedder

STRIKES = "Russian airstrikes in Syria hit Islamic State targets"
VACCINE = "The vaccine alters human DNA"
ABOUT_STRIKES = IncomingDocument(
    id="d1",
    title="Carter on the strikes",
    text="Carter said the Russian airstrikes hit areas with no Islamic State fighters. Markets were calm.",
    source="Reuters",
    published="2015-10-01T12:00:00Z",
)
ABOUT_NOTHING = IncomingDocument(id="d2", text="The football season opened with a draw. Fans were unhappy.")


class RecordingScorer:
    """The tiny stance model, with the pairs it was asked about kept."""

    def __init__(self, predictor: StancePredictor) -> None:
        self.predictor = predictor
        self.pairs = []

    def __call__(self, pairs):
        self.pairs += pairs
        return self.predictor.predict(pairs)


@pytest.fixture
def scorer(saved_model_dir) -> RecordingScorer:
    return RecordingScorer(StancePredictor.from_dir(saved_model_dir, num_threads=1, model_tag="claimstance:tiny"))


@pytest.fixture
def ingest(engine, scorer) -> DocumentIngest:
    embedder = WordEmbedder()
    with sessions(engine).begin() as session:
        for claim_id, text in (("strikes", STRIKES), ("vaccine", VACCINE)):
            register(
                session, text, claim_id=claim_id, embedding=embedder.embed([text])[0], embedding_model=embedder.name
            )
    return DocumentIngest(sessions(engine), embedder, MatchSettings(threshold=0.4, top_k=5, cut=DocumentCut.SENTENCES))


def answers(engine) -> list[AnswerRow]:
    with sessions(engine)() as session:
        return list(session.scalars(select(AnswerRow).order_by(AnswerRow.document_id, AnswerRow.claim_id)))


def test_a_document_is_scored_only_against_the_claims_it_touches(ingest, scorer, engine):
    report = ingest.ingest([ABOUT_STRIKES, ABOUT_NOTHING], scorer)
    assert (report.stored, report.already_stored, report.answers) == (("d1", "d2"), (), 1)
    assert [(pair.claim, pair.text, pair.title) for pair in scorer.pairs] == [
        (STRIKES, ABOUT_STRIKES.text, ABOUT_STRIKES.title)
    ]
    [answer] = answers(engine)
    assert (answer.document_id, answer.claim_id, answer.model) == ("d1", "strikes", "claimstance:tiny")
    assert 0.4 <= answer.similarity <= 1.0


def test_a_stored_answer_reads_back_as_the_answer_the_model_gave(ingest, scorer, engine):
    ingest.ingest([ABOUT_STRIKES], scorer)
    [given] = scorer.predictor.predict(scorer.pairs)
    [stored] = answers(engine)
    record = {name: getattr(stored, name) for name in ("label", "scores", "relevance", "text_reduced", "model")}
    assert from_record(StanceResult, record | {"evidence": stored.evidence}) == given
    with sessions(engine)() as session:
        document = session.get(DocumentRow, "d1")
    assert (document.title, document.source, document.published, str(document.published_day)) == (
        ABOUT_STRIKES.title,
        "Reuters",
        "2015-10-01T12:00:00Z",
        "2015-10-01",
    )


def test_ingesting_the_same_documents_again_stores_nothing_twice(ingest, scorer, engine):
    ingest.ingest([ABOUT_STRIKES], scorer)
    scorer.pairs.clear()
    report = ingest.ingest([ABOUT_NOTHING, ABOUT_STRIKES, ABOUT_NOTHING], scorer)
    assert (report.stored, report.already_stored, report.answers) == (("d2",), ("d1",), 0)
    assert scorer.pairs == []
    with sessions(engine)() as session:
        assert session.scalar(select(func.count()).select_from(DocumentRow)) == 2
    assert len(answers(engine)) == 1


def test_an_id_with_other_content_is_refused_and_nothing_of_the_call_is_stored(ingest, scorer, engine):
    ingest.ingest([ABOUT_STRIKES], scorer)
    changed = IncomingDocument(id="d1", text="Something else entirely.")
    with pytest.raises(DocumentConflict, match="id 'd1': a document with this id is stored with another title or text"):
        ingest.ingest([ABOUT_NOTHING, changed], scorer)
    with pytest.raises(DocumentConflict, match="id 'd2'"):
        ingest.ingest([ABOUT_NOTHING, IncomingDocument(id="d2", text="Another text.")], scorer)
    with sessions(engine)() as session:
        assert stored_hashes(session, ["d1", "d2"]) == {"d1": ABOUT_STRIKES.content_sha256}


def test_a_retired_claim_is_no_longer_matched(ingest, scorer, engine):
    with sessions(engine).begin() as session:
        retire(session, "strikes")
    assert ingest.ingest([ABOUT_STRIKES], scorer).answers == 0


def test_a_claim_registered_after_the_index_was_built_is_matched(ingest, scorer, engine):
    ingest.ingest([ABOUT_NOTHING], scorer)
    text = "The football season opened with a draw"
    with sessions(engine).begin() as session:
        register(
            session, text, claim_id="football", embedding=ingest.embedder.embed([text])[0], embedding_model="words-64"
        )
    report = ingest.ingest([IncomingDocument(id="d3", text="The football season opened with a draw in Leeds.")], scorer)
    assert report.answers == 1 and answers(engine)[-1].claim_id == "football"


def test_a_failed_stance_pass_stores_nothing(ingest, engine):
    def broken(pairs):
        raise RuntimeError("the model went away")

    with pytest.raises(RuntimeError, match="went away"):
        ingest.ingest([ABOUT_NOTHING, ABOUT_STRIKES], broken)
    with sessions(engine)() as session:
        assert stored_hashes(session, ["d1", "d2"]) == {}


def test_two_calls_with_the_same_document_at_once_store_it_once(ingest, scorer, engine):
    barrier = threading.Barrier(2)

    def slow(pairs):
        barrier.wait(timeout=10)  # both calls have matched before either writes
        return scorer(pairs)

    reports = []
    threads = [threading.Thread(target=lambda: reports.append(ingest.ingest([ABOUT_STRIKES], slow))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(report.stored for report in reports) == [(), ("d1",)]
    assert len(answers(engine)) == 1


def test_a_plan_is_committed_with_one_answer_per_pair(ingest, scorer, engine):
    plan = ingest.plan([ABOUT_STRIKES, ABOUT_NOTHING])
    assert [document.id for document, _ in plan.matched] == ["d1", "d2"] and len(plan.pairs) == 1
    with pytest.raises(ValueError, match="0 answers for 1 pairs"):
        ingest.commit(plan, [])
    assert ingest.commit(plan, scorer(list(plan.pairs))).stored == ("d1", "d2")
    with pytest.raises(StoredMeanwhile):
        ingest.commit(plan, scorer(list(plan.pairs)))  # a plan made before another call stored its documents
    assert len(answers(engine)) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"id": "", "text": "t"}, "id"),
        ({"id": "x", "text": ""}, "text"),
        ({"id": "x", "text": "t", "published": "1 Oct 2015"}, "not an RFC 3339 date"),
    ],
)
def test_a_bad_document_is_refused_by_field(fields, message):
    with pytest.raises(ValueError, match=message):
        from_record(IncomingDocument, fields)
