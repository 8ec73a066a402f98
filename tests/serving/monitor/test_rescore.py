import pytest
from sqlalchemy import func, select

from models.labels import LABELS
from models.predictor import StancePredictor
from serving.monitor.claims import register
from serving.monitor.database import monitor_engine, sessions, upgrade
from serving.monitor.documents import DocumentIngest, IncomingDocument
from serving.monitor.matching import MatchSettings
from serving.monitor.rescore import main, rescore
from serving.monitor.summaries import claim_documents, claim_summary
from serving.monitor.tables import AnswerRow
from tests.serving.monitor.words import WordEmbedder

CLAIMS = {"strikes": "Russian airstrikes hit Islamic State targets", "vaccine": "The vaccine alters human DNA"}
DOCUMENTS = [
    IncomingDocument(id=f"d{i}", text=f"Report {i}: the Russian airstrikes and the vaccine.") for i in range(3)
]


@pytest.fixture
def database(tmp_path, saved_model_dir) -> str:
    """Three documents, each matched to both claims (threshold -1) and answered by `claimstance:old`."""
    url = f"sqlite:///{tmp_path / 'monitor.sqlite3'}"
    engine = monitor_engine(url)
    upgrade(engine)
    embedder = WordEmbedder()
    with sessions(engine).begin() as session:
        for claim_id, text in CLAIMS.items():
            register(
                session, text, claim_id=claim_id, embedding=embedder.embed([text])[0], embedding_model=embedder.name
            )
    old = StancePredictor.from_dir(saved_model_dir, num_threads=1, model_tag="claimstance:old")
    DocumentIngest(sessions(engine), embedder, MatchSettings(threshold=-1.0)).ingest(DOCUMENTS, old.predict)
    engine.dispose()
    return url


def answers_by_model(url: str) -> dict[str, int]:
    engine = monitor_engine(url)
    with sessions(engine)() as session:
        counts = dict(session.execute(select(AnswerRow.model, func.count()).group_by(AnswerRow.model)).all())
    engine.dispose()
    return counts


def test_every_stored_pair_gets_one_answer_of_the_new_model(database, saved_model_dir):
    new = StancePredictor.from_dir(saved_model_dir, num_threads=1, model_tag="claimstance:new")
    assert rescore(database, new.predict, "claimstance:new", batch_pairs=4) == 6
    assert answers_by_model(database) == {"claimstance:old": 6, "claimstance:new": 6}
    assert rescore(database, new.predict, "claimstance:new") == 0  # a second run adds nothing
    engine = monitor_engine(database)
    with sessions(engine)() as session:
        summary = claim_summary(session, "strikes", LABELS)
        documents = claim_documents(session, "strikes", limit=10)
    assert summary.model == "claimstance:new" and summary.other_models == {"claimstance:old": 3}
    assert [document.id for document in documents] == [d.id for d in DOCUMENTS]  # in the order first ingested


def test_a_killed_rescore_resumes_where_it_stopped(database, saved_model_dir):
    new = StancePredictor.from_dir(saved_model_dir, num_threads=1, model_tag="claimstance:new")
    calls = []

    def dies_on_the_third_batch(pairs):
        calls.append(len(pairs))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return new.predict(pairs)

    with pytest.raises(KeyboardInterrupt):
        rescore(database, dies_on_the_third_batch, "claimstance:new", batch_pairs=2)
    assert answers_by_model(database)["claimstance:new"] == 4  # two batches committed
    assert rescore(database, new.predict, "claimstance:new", batch_pairs=2) == 2
    assert answers_by_model(database) == {"claimstance:old": 6, "claimstance:new": 6}


def test_the_command_rescores_with_a_saved_model(database, saved_model_dir, capsys):
    assert main(["--model", str(saved_model_dir), "--database_url", database, "--threads", "1"]) == 0
    assert f"6 pairs answered by {saved_model_dir}" in capsys.readouterr().err
    assert answers_by_model(database)[str(saved_model_dir)] == 6


def test_a_scorer_answering_as_another_model_is_refused(database, saved_model_dir):
    other = StancePredictor.from_dir(saved_model_dir, num_threads=1, model_tag="claimstance:other")
    with pytest.raises(ValueError, match="the scorer answers as \\['claimstance:other'\\], not 'claimstance:new'"):
        rescore(database, other.predict, "claimstance:new")
