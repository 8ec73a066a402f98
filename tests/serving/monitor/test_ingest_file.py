import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

import serving.monitor.ingest_file.job as job_module
from serving.jobs.joblock import output_lock
from serving.jobs.options import Engine, JobInputError
from serving.monitor.database import monitor_engine, sessions
from serving.monitor.document_lines import MAX_LINE_BYTES
from serving.monitor.ingest_file.__main__ import main
from serving.monitor.ingest_file.config import MonitorFileConfig, open_store
from serving.monitor.ingest_file.job import run
from serving.monitor.store import NewClaim
from serving.monitor.summaries import claim_documents
from serving.monitor.tables import AnswerRow, DocumentRow

GOOD = [
    {"id": f"d{i}", "text": f"Officials said a meteorite hit Managua, report {i}.", "published": "2015-10-01"}
    for i in range(5)
]
LINES = [
    json.dumps(GOOD[0]),
    "{not json",
    json.dumps({"text": "no id"}),
    "",
    json.dumps({"id": "d9", "text": "dated badly", "published": "1 Oct 2015"}),
    json.dumps(GOOD[1]),
    json.dumps({**GOOD[0], "text": "the same id, other words"}),
    json.dumps({"id": 7, "text": "a number for an id"}),
    json.dumps(GOOD[2]),
    json.dumps(GOOD[3]),
    json.dumps(GOOD[4]),
]


@pytest.fixture
def job(tmp_path, saved_model_dir, embedder_dir) -> MonitorFileConfig:
    path = tmp_path / "documents.jsonl"
    path.write_text("\n".join(LINES) + "\n")
    database = f"sqlite:///{tmp_path / 'monitor.sqlite3'}"
    return MonitorFileConfig(
        input=str(path),
        database_url=database,
        model=str(saved_model_dir),
        embedder=str(embedder_dir),
        chunk_documents=3,
        threads=1,
    )


def stored_ids(config: MonitorFileConfig) -> list[str]:
    engine = monitor_engine(config.database_url)
    with sessions(engine)() as session:
        ids = sorted(session.scalars(select(DocumentRow.id)))
        assert session.scalar(select(func.count()).select_from(DocumentRow)) == len(ids)
    engine.dispose()
    return ids


def rejects(config: MonitorFileConfig) -> list[tuple[int, str]]:
    return [(r["row"], r["reason"]) for r in map(json.loads, config.rejects_path.read_text().splitlines())]


EXPECTED_REJECTS = [
    (2, "unparseable JSON"),
    (3, "id: missing"),
    (5, "published: not an RFC 3339 date"),
    (7, "id 'd0': a document with this id is stored with another title or text"),
    (8, "id: expected a string, got int"),
]


def test_every_line_is_stored_once_or_rejected_with_its_reason(job):
    progress = run(job)
    assert stored_ids(job) == [d["id"] for d in GOOD]
    assert [
        (row, reason[: len(prefix)]) for (row, reason), (_, prefix) in zip(rejects(job), EXPECTED_REJECTS, strict=True)
    ] == EXPECTED_REJECTS
    assert (progress.stored, progress.rejected, progress.chunks_done) == (5, 5, 4)

    again = run(job)  # done already: nothing read, stored or rejected twice
    assert (again.stored, again.rejected) == (5, 5) and len(rejects(job)) == 5
    assert stored_ids(job) == [d["id"] for d in GOOD]


def killed_saving_the_second_chunk(config: MonitorFileConfig, monkeypatch) -> None:
    """Run the job until it saves its second chunk's progress: that chunk's documents are committed and its rejects
    written, its progress not saved (a kill's worst moment). Later runs save as usual."""
    real_save = job_module.write_atomically
    saves = []

    def dies_saving_the_second_chunk(path, text):
        saves.append(text)
        if len(saves) == 2:
            raise KeyboardInterrupt
        real_save(path, text)

    with monkeypatch.context() as patch:
        patch.setattr(job_module, "write_atomically", dies_saving_the_second_chunk)
        with pytest.raises(KeyboardInterrupt):
            run(config)


def test_a_killed_job_resumes_and_stores_each_document_once(job, monkeypatch):
    killed_saving_the_second_chunk(job, monkeypatch)
    assert json.loads(job.progress_path.read_text())["chunks_done"] == 1
    assert [row for row, _ in rejects(job)] == [2, 3, 5]  # the second chunk's reject is in the file
    progress = run(job)
    assert stored_ids(job) == [d["id"] for d in GOOD]
    assert [row for row, _ in rejects(job)] == [row for row, _ in EXPECTED_REJECTS]  # none written twice
    assert progress.chunks_done == 4 and progress.stored + progress.already_stored == 5


def test_a_changed_input_is_refused_on_resume(job):
    run(job)
    with open(job.input, "a") as handle:
        handle.write(json.dumps({"id": "late", "text": "added after"}) + "\n")
    with pytest.raises(JobInputError, match="an earlier run of another input or settings left"):
        run(job)


def test_a_second_job_on_the_same_file_is_refused(job):
    with output_lock(job.rejects_path), pytest.raises(JobInputError):
        run(job)


def test_documents_reach_the_claims_they_match(job, embedder_dir):
    store = open_store(job)
    store.register([NewClaim(GOOD[0]["text"], "meteorite")])
    store.close()
    run(job)
    engine = monitor_engine(job.database_url)
    with sessions(engine)() as session:
        documents = claim_documents(session, "meteorite", limit=100)
    engine.dispose()
    assert "d0" in [document.id for document in documents]  # its own text: cosine 1


def test_a_line_longer_than_any_document_is_rejected_by_its_length(job):
    line = json.dumps({"id": "huge", "text": "word " * (MAX_LINE_BYTES // 5)})
    with open(job.input, "a") as handle:
        handle.write(line + "\n")
    run(job)
    assert "huge" not in stored_ids(job)
    assert rejects(job)[-1] == (len(LINES) + 1, f"line: {len(line):,} bytes, over the limit of {MAX_LINE_BYTES:,}")


def test_the_command_names_a_missing_file(tmp_path, capsys):
    assert main(["--input", str(tmp_path / "none.jsonl"), "--database_url", f"sqlite:///{tmp_path}/m.db"]) == 2
    assert "none.jsonl: no such file" in capsys.readouterr().err


def test_a_rerun_against_another_database_is_refused_not_resumed(job, tmp_path):
    run(job)
    job.database_url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    with pytest.raises(JobInputError, match="an earlier run of another input or settings left"):
        run(job)


# ---- On Spark (--engine spark) -------------------------------------------------------------------------------------


def stored_answers(config: MonitorFileConfig) -> list[tuple]:
    """(document, claim, label, scores, evidence) of each stored answer."""
    engine = monitor_engine(config.database_url)
    with sessions(engine)() as session:
        rows = session.execute(
            select(AnswerRow.document_id, AnswerRow.claim_id, AnswerRow.label, AnswerRow.scores, AnswerRow.evidence)
        ).all()
    engine.dispose()
    return sorted((tuple(row) for row in rows), key=lambda row: row[:2])


def watch(config: MonitorFileConfig, *claims: NewClaim) -> None:
    store = open_store(config)
    store.register(list(claims))
    store.close()


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (make setup installs it)")
def test_spark_stores_and_rejects_what_the_local_engine_does_and_resumes_once(job, tmp_path, monkeypatch):
    bridge = "The harbour bridge was closed on Monday"
    claims = [NewClaim(GOOD[0]["text"], "meteorite"), NewClaim(bridge, "bridge")]
    more = [  # lines 12 to 15: an id twice in one chunk (13, 14: the first stands, as locally), a non-ASCII space
        json.dumps({"id": "filler", "text": "Rain is expected on Tuesday."}),
        json.dumps({"id": "twin", "text": bridge}),
        json.dumps({"id": "twin", "text": GOOD[0]["text"]}),
        "\u00a0",
    ]
    with open(job.input, "a") as handle:
        handle.write("\n".join(more) + "\n")
    watch(job, *claims)
    run(job)
    local = (stored_ids(job), rejects(job), stored_answers(job))
    assert local[2], "the claim's own text matches it: some answers to compare"
    assert [row for row, _ in local[1][-2:]] == [14, 15] and ("twin", "bridge") in [a[:2] for a in local[2]]

    on_spark = replace(
        job,
        database_url=f"sqlite:///{tmp_path / 'spark.sqlite3'}",
        rejects=str(tmp_path / "spark_rejects.jsonl"),
        engine=Engine.SPARK,
        spark_master="local[2]",
    )
    watch(on_spark, *claims)
    killed_saving_the_second_chunk(on_spark, monkeypatch)
    progress = run(on_spark)
    assert progress.chunks_done == 5 and progress.stored + progress.already_stored == 7
    assert (stored_ids(on_spark), rejects(on_spark)) == local[:2]
    answers = stored_answers(on_spark)
    assert [answer[:3] for answer in answers] == [answer[:3] for answer in local[2]]  # each pair once, same label
    for (*_, scores, evidence), (*_, local_scores, local_evidence) in zip(answers, local[2], strict=True):
        assert scores == pytest.approx(local_scores, abs=1e-5)  # a batch of other pairs: float rounding only
        assert [e["text"] for e in evidence] == [e["text"] for e in local_evidence]


def test_a_rejects_file_that_is_the_input_is_refused_before_anything_is_written(job, capsys):
    before = Path(job.input).read_bytes()
    assert main(["--input", job.input, "--rejects", job.input, "--database_url", job.database_url]) == 2
    assert "is the input itself" in capsys.readouterr().err
    assert Path(job.input).read_bytes() == before


def test_a_nul_character_is_a_reject_naming_its_field(job):
    Path(job.input).write_text(json.dumps({"id": "nul", "text": "a\u0000b"}) + "\n" + json.dumps(GOOD[0]) + "\n")
    run(job)
    assert rejects(job) == [(1, "text: holds a NUL character (U+0000), which no field may")]
    assert stored_ids(job) == ["d0"]


def test_the_job_finds_the_services_database_by_default(job, monkeypatch, tmp_path):
    monkeypatch.setenv("CLAIMSTANCE_DATA_DIR", str(tmp_path / "desk"))
    monkeypatch.setenv("CLAIMSTANCE_DATABASE_URL", "sqlite:///shared.sqlite3")
    job.database_url = ""
    assert job.database.url.database == str(tmp_path / "desk" / "shared.sqlite3")
    run(job)
    assert (tmp_path / "desk" / "shared.sqlite3").is_file()
