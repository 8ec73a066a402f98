from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from models.labels import LABELS
from models.pair import Pair
from models.predictor import StancePredictor
from models.tracking import DocumentFields, TrackedDocument, tracked_claim
from serving.monitor.claims import UnknownClaim, register, retire
from serving.monitor.database import sessions
from serving.monitor.documents import DocumentIngest, IncomingDocument
from serving.monitor.matching import MatchSettings
from serving.monitor.pictures import DateRange, claim_picture, recent_documents
from serving.monitor.tables import AnswerRow
from tests.serving.monitor.words import WordEmbedder

CLAIM = "Russian airstrikes in Syria hit Islamic State targets"
DOCUMENTS = [
    IncomingDocument(
        id=f"d{i}",
        title=f"Report {i} on the strikes",
        text=f"Officials said the Russian airstrikes hit targets near Homs, day {i}. Nothing else was said.",
        source=("Reuters", "AP", "Reuters")[i % 3],
        published=f"2015-10-0{i + 1}" if i < 4 else None,
    )
    for i in range(5)
]


@pytest.fixture
def predictor(saved_model_dir) -> StancePredictor:
    """One pair a pass: an answer does not depend on the pairs scored beside it (padding moves the last float bits
    on some CPUs), so the monitor's answers, scored in two calls, equal /track's, scored in one."""
    return StancePredictor.from_dir(saved_model_dir, num_threads=1, batch_size=1, model_tag="claimstance:tiny")


@pytest.fixture
def monitor(engine, predictor) -> DocumentIngest:
    """Every document matches the claim (threshold -1), as on /track where the caller chose the documents."""
    embedder = WordEmbedder()
    with sessions(engine).begin() as session:
        register(
            session, CLAIM, claim_id="strikes", embedding=embedder.embed([CLAIM])[0], embedding_model=embedder.name
        )
    ingest = DocumentIngest(sessions(engine), embedder, MatchSettings(threshold=-1.0))
    ingest.ingest(DOCUMENTS[:2], predictor.predict)
    ingest.ingest(DOCUMENTS[2:], predictor.predict)
    return ingest


def tracked(predictor, documents):
    """What /track answers for these documents, as the service builds it."""
    results = predictor.predict([Pair(CLAIM, document.text, document.title) for document in documents])
    answers = [
        TrackedDocument.of(result, DocumentFields(d.id, d.title, d.source, d.url, d.published), position)
        for position, (result, d) in enumerate(zip(results, documents, strict=True))
    ]
    return tracked_claim(CLAIM, predictor.model_tag, predictor.labels, answers)


def test_the_picture_is_tracks_answer_on_the_same_documents(monitor, predictor, engine):
    with sessions(engine)() as session:
        picture = claim_picture(session, "strikes", LABELS)
    assert picture.claim.id == "strikes" and picture.other_models == {}
    assert picture.picture == tracked(predictor, DOCUMENTS)


def test_a_date_range_keeps_the_documents_published_in_it(monitor, predictor, engine):
    with sessions(engine)() as session:
        picture = claim_picture(session, "strikes", LABELS, DateRange(date(2015, 10, 2), date(2015, 10, 3)))
        assert picture.picture == tracked(predictor, DOCUMENTS[1:3])
        since = claim_picture(session, "strikes", LABELS, DateRange(since=date(2015, 10, 3)))
        assert since.picture == tracked(predictor, DOCUMENTS[2:4])  # d4 has no date: in no range but the open one


def test_a_date_range_the_wrong_way_round_is_refused():
    with pytest.raises(ValueError, match="since 2015-10-03 is after until 2015-10-01"):
        DateRange(date(2015, 10, 3), date(2015, 10, 1))


def test_answers_of_another_model_are_counted_beside_the_picture_never_mixed_in(monitor, predictor, engine):
    with sessions(engine).begin() as session:
        session.execute(update(AnswerRow).where(AnswerRow.document_id == "d4").values(model="claimstance:new"))
    with sessions(engine)() as session:
        newest = claim_picture(session, "strikes", LABELS)
        older = claim_picture(session, "strikes", LABELS, model="claimstance:tiny")
    assert newest.picture.model == "claimstance:new" and [d.id for d in newest.picture.documents] == ["d4"]
    assert newest.other_models == {"claimstance:tiny": 4}
    assert older.picture == tracked(predictor, DOCUMENTS[:4]) and older.other_models == {"claimstance:new": 1}


def test_a_claim_without_answers_has_an_empty_picture(engine):
    with sessions(engine).begin() as session:
        register(session, "Quiet claim", claim_id="quiet")
    with sessions(engine)() as session:
        picture = claim_picture(session, "quiet", LABELS)
        assert picture.picture.documents == () and picture.picture.summary.documents == 0
        assert set(picture.picture.summary.labels) == {"asserting", "disputing", "reporting"}
        with pytest.raises(UnknownClaim):
            claim_picture(session, "nope", LABELS)


def test_recent_documents_are_those_about_a_claim_newest_first(monitor, engine):
    with sessions(engine).begin() as session:
        session.execute(update(AnswerRow).where(AnswerRow.document_id == "d0").values(label="unrelated"))
    with sessions(engine)() as session:
        recent = recent_documents(session, limit=10)
        assert [document.id for document in recent][:3] == ["d2", "d3", "d4"]  # the second call, ids in order
        assert {document.id for document in recent} == {"d1", "d2", "d3", "d4"}
        assert all(touch.claim_id == "strikes" and touch.claim == CLAIM for d in recent for touch in d.claims)
        assert len(recent_documents(session, limit=2)) == 2
        assert recent_documents(session, limit=10, since=datetime.now(UTC) + timedelta(days=1)) == []


def test_recent_documents_leave_out_retired_claims_and_read_since_in_its_own_offset(monitor, engine):
    with sessions(engine)() as session:
        ingested = recent_documents(session, limit=10)[0].ingested_at
        an_hour_ahead_in_paris = (ingested + timedelta(hours=1)).astimezone(timezone(timedelta(hours=2)))
        assert recent_documents(session, limit=10, since=an_hour_ahead_in_paris) == []
        an_hour_before_in_paris = (ingested - timedelta(hours=1)).astimezone(timezone(timedelta(hours=2)))
        assert recent_documents(session, limit=10, since=an_hour_before_in_paris)
    with sessions(engine).begin() as session:
        retire(session, "strikes")
    with sessions(engine)() as session:
        assert recent_documents(session, limit=10) == []
