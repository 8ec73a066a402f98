import tracemalloc
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select, update

from models.labels import LABELS
from models.pair import Pair
from models.predictor import StancePredictor
from models.tracking import ClaimSummary, TrackedDocument, tracked_claim
from serving.monitor.claims import UnknownClaim, register, retire
from serving.monitor.database import sessions
from serving.monitor.documents import DocumentIngest, IncomingDocument, UnknownDocument
from serving.monitor.matching import MatchSettings
from serving.monitor.summaries import DateRange, claim_documents, claim_summary, recent_documents
from serving.monitor.tables import AnswerRow, DocumentRow
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
        TrackedDocument.of(result, d, position)
        for position, (result, d) in enumerate(zip(results, documents, strict=True))
    ]
    return tracked_claim(CLAIM, predictor.model_tag, predictor.labels, answers)


def stored(summary: ClaimSummary) -> ClaimSummary:
    """/track's summary as a stored claim's summary gives it: each source's documents counted, not listed."""
    return replace(summary, sources=[replace(source, documents=[]) for source in summary.sources])


def in_input_order(answer) -> list[TrackedDocument]:
    """/track's documents in the order they were sent, their position aside (the store's is its ingest order)."""
    return [replace(d, position=0) for d in sorted(answer.documents, key=lambda d: d.position)]


def test_the_summary_is_tracks_summary_on_the_same_documents(monitor, predictor, engine):
    with sessions(engine)() as session:
        summary = claim_summary(session, "strikes", LABELS)
        documents = claim_documents(session, "strikes", limit=10)
    expected = tracked(predictor, DOCUMENTS)
    assert summary.claim.id == "strikes" and summary.other_models == {} and summary.model == "claimstance:tiny"
    assert summary.summary == stored(expected.summary)
    assert [replace(d, position=0) for d in documents] == in_input_order(expected)
    newest = in_input_order(expected)[-1]
    assert (summary.latest.id, summary.latest.evidence) == (newest.id, newest.evidence[0])


def test_a_claims_documents_come_a_page_at_a_time_each_once(monitor, engine):
    with sessions(engine)() as session:
        pages, after = [], None
        while page := claim_documents(session, "strikes", limit=2, after=after):
            pages.append([d.id for d in page])
            after = page[-1].id
        assert pages == [["d0", "d1"], ["d2", "d3"], ["d4"]]
        with pytest.raises(UnknownDocument, match="'nope'"):
            claim_documents(session, "strikes", limit=2, after="nope")


def test_a_date_range_keeps_the_documents_published_in_it(monitor, predictor, engine):
    with sessions(engine)() as session:
        summary = claim_summary(session, "strikes", LABELS, DateRange(date(2015, 10, 2), date(2015, 10, 3)))
        assert summary.summary == stored(tracked(predictor, DOCUMENTS[1:3]).summary)
        since = claim_summary(session, "strikes", LABELS, DateRange(since=date(2015, 10, 3)))
        assert since.summary == stored(tracked(predictor, DOCUMENTS[2:4]).summary)  # d4 has no date: open range only
        in_range = claim_documents(session, "strikes", 10, days=DateRange(since=date(2015, 10, 3)))
        assert [d.id for d in in_range] == ["d2", "d3"]


def test_a_date_range_the_wrong_way_round_is_refused():
    with pytest.raises(ValueError, match="since 2015-10-03 is after until 2015-10-01"):
        DateRange(date(2015, 10, 3), date(2015, 10, 1))


def test_answers_of_another_model_are_counted_beside_the_summary_never_mixed_in(monitor, predictor, engine):
    with sessions(engine).begin() as session:
        session.execute(update(AnswerRow).where(AnswerRow.document_id == "d4").values(model="claimstance:new"))
    with sessions(engine)() as session:
        newest = claim_summary(session, "strikes", LABELS)
        older = claim_summary(session, "strikes", LABELS, model="claimstance:tiny")
        newest_documents = claim_documents(session, "strikes", limit=10)
    assert newest.model == "claimstance:new" and [d.id for d in newest_documents] == ["d4"]
    assert newest.other_models == {"claimstance:tiny": 4}
    assert older.summary == stored(tracked(predictor, DOCUMENTS[:4]).summary)
    assert older.other_models == {"claimstance:new": 1}


def test_a_claim_without_answers_has_an_empty_summary(engine):
    with sessions(engine).begin() as session:
        register(session, "Quiet claim", claim_id="quiet")
    with sessions(engine)() as session:
        summary = claim_summary(session, "quiet", LABELS)
        assert summary.summary.documents == 0 and summary.latest is None and summary.model == ""
        assert claim_documents(session, "quiet", limit=10) == []
        assert set(summary.summary.labels) == {"asserting", "disputing", "reporting"}
        with pytest.raises(UnknownClaim):
            claim_summary(session, "nope", LABELS)


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


def add_history(engine, documents: int) -> None:
    """`documents` more stored documents about the claim, each with d0's answer (long texts: what a summary must not
    read)."""
    with sessions(engine).begin() as session:
        answer = session.scalars(select(AnswerRow).where(AnswerRow.document_id == "d0")).one()
        template = {c.name: getattr(answer, c.name) for c in AnswerRow.__table__.columns if c.name != "id"}
        start = session.scalar(select(func.count()).select_from(DocumentRow))
        rows = range(start, start + documents)
        session.execute(
            insert(DocumentRow),
            [
                {
                    "id": f"h{i}",
                    "text": "word " * 2000,
                    "source": f"source {i % 7}",
                    "content_sha256": "x",
                    "ingested_at": datetime.now(UTC),
                    "published_day": date(2015, 11, 1 + i % 28),
                }
                for i in rows
            ],
        )
        session.execute(insert(AnswerRow), [{**template, "document_id": f"h{i}"} for i in rows])  # fmt: skip


def summary_peak_bytes(engine) -> int:
    with sessions(engine)() as session:
        tracemalloc.start()
        try:
            claim_summary(session, "strikes", LABELS)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def test_a_summaries_memory_does_not_grow_with_the_claims_history(monitor, engine):
    add_history(engine, 50)
    few = summary_peak_bytes(engine)
    add_history(engine, 3000)
    many = summary_peak_bytes(engine)
    with sessions(engine)() as session:
        assert claim_summary(session, "strikes", LABELS).summary.documents == 5 + 50 + 3000
    assert many < few + 200_000, (few, many)  # 3,000 documents of 10 kB each would be 30 MB read
