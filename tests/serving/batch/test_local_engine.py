"""The whole job on the local engine, through its command line, with the tiny model's int8 export."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from batch_files import good_rows, taught_label, tracked_rows, write_rows

from models.labels import LABELS, STANCES
from models.pair import Pair
from models.predictor import StancePredictor
from models.runtime import Runtime
from serving.batch.__main__ import main
from serving.batch.columns import PredictionColumns
from serving.batch.workdir import WorkDir

PREDICTION_COLUMNS = PredictionColumns(LABELS).names

REPO = Path(__file__).resolve().parents[3]
PASSED_THROUGH = ("id", "n", "claim", "text", "note")
READ = {
    ".jsonl": lambda p: pd.read_json(p, lines=True, dtype=False),
    ".csv": lambda p: pd.read_csv(p, dtype=dict.fromkeys(PASSED_THROUGH, str), keep_default_na=False),
    ".parquet": pd.read_parquet,
}
"""Each output as written: the CSV's pass-through columns as text, so an id such as 007 must come back as 007."""


def score(model: Path, source: Path, output: Path, *flags: str) -> int:
    return main(
        [
            "--input",
            str(source),
            "--output",
            str(output),
            "--model",
            str(model),
            "--workers",
            "1",
            "--chunk_rows",
            "8",
            "--progress",
            "false",
            *flags,
        ]
    )


def assert_evidence_survives(column: list, rows: list[dict], predictions: list) -> None:
    """Each row's evidence as the predictor gives it: a list of sentences (JSON text in CSV) whose offsets
    index the row's text."""
    assert any(len(p.evidence) > 1 for p in predictions)  # long texts are among the rows
    for value, row, prediction in zip(column, rows, predictions, strict=True):
        evidence = json.loads(value) if isinstance(value, str) else list(value)
        assert [(e["text"], e["start"], e["end"], e["label"]) for e in evidence] == [
            (e.text, e.start, e.end, e.label) for e in prediction.evidence
        ]
        for sentence, expected in zip(evidence, prediction.evidence, strict=True):
            assert row["text"][sentence["start"] : sentence["end"]] == sentence["text"]
            assert list(sentence["scores"]) == list(expected.scores)
            assert [sentence["scores"][k] for k in expected.scores] == pytest.approx(
                list(expected.scores.values()), abs=1e-6
            )


@pytest.mark.parametrize(
    ("source", "target"),
    [(".jsonl", ".jsonl"), (".csv", ".csv"), (".parquet", ".parquet"), (".jsonl", ".parquet"), (".csv", ".jsonl")],
)
def test_each_format_round_trips_with_pass_through_columns_in_order(batch_model, tmp_path, source, target):
    rows = good_rows(30)
    output = tmp_path / f"out{target}"
    assert score(batch_model, write_rows(rows, tmp_path / f"in{source}"), output) == 0
    scored = READ[target](output)
    assert list(scored.columns) == [*PASSED_THROUGH, *PREDICTION_COLUMNS]
    expected = pd.DataFrame(rows)
    for column in expected.columns:
        assert scored[column].tolist() == expected[column].tolist()
    assert scored["n"].tolist()[7] == "007"
    predictor = StancePredictor.from_dir(batch_model, runtime=Runtime.ONNX, num_threads=1)
    predictions = predictor.predict([Pair(row["claim"], row["text"]) for row in rows])
    assert scored["label"].tolist() == [p.label for p in predictions]
    for label in LABELS:
        assert scored[f"score_{label}"].tolist() == pytest.approx([p.scores[label] for p in predictions], abs=1e-6)
    assert scored["relevance"].tolist() == pytest.approx([p.relevance for p in predictions], abs=1e-6)
    taught = [(label, taught_label(row)) for label, row in zip(scored["label"], rows, strict=True) if taught_label(row)]
    assert [label for label, _ in taught] == [expected for _, expected in taught]
    assert {expected for _, expected in taught} == set(LABELS)  # every label among the answers, so mix-ups show
    assert scored["text_reduced"].tolist() == [p.text_reduced for p in predictions]
    assert set(scored["model"]) == {str(batch_model)}
    assert_evidence_survives(scored["evidence"].tolist(), rows, predictions)
    assert (tmp_path / "out.rejects.jsonl").read_text() == ""
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("target", [".jsonl", ".csv", ".parquet"])
def test_a_three_label_model_scores_with_its_own_columns_and_no_relevance(onnx_three_label_model_dir, tmp_path, target):
    rows = good_rows(12)
    output = tmp_path / f"out{target}"
    assert score(onnx_three_label_model_dir, write_rows(rows, tmp_path / "in.jsonl"), output) == 0
    scored = READ[target](output)
    assert list(scored.columns) == [*PASSED_THROUGH, *PredictionColumns(STANCES).names]
    assert set(scored["label"]) <= set(STANCES)
    assert scored["relevance"].isna().all() or set(scored["relevance"]) == {""}  # CSV writes null as empty


def test_bad_rows_go_to_the_rejects_file_with_their_reasons(batch_model, tmp_path, capsys):
    rows = good_rows(6)
    rows[1]["claim"] = ""
    rows[2]["text"] = "x" * 101
    rows[4]["claim"] = None
    lines = [json.dumps(row) for row in rows]
    lines.insert(3, "{broken")
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    assert score(batch_model, source, tmp_path / "out.jsonl", "--max_text_chars", "100") == 0
    rejects = [json.loads(line) for line in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert [(r["row"], r["reason"].split(" at ")[0]) for r in rejects] == [
        (2, "claim: empty"),
        (3, "text: 101 characters, over the limit of 100"),
        (4, "unparseable JSON: Expecting property name enclosed in double quotes"),
        (6, "claim: missing"),
    ]
    scored = READ[".jsonl"](tmp_path / "out.jsonl")
    assert scored["id"].tolist() == [rows[i]["id"] for i in (0, 3, 5)]
    assert "read 7 rows: 3 scored" in capsys.readouterr().err


def test_summary_counts_rows_read_scored_and_rejected(batch_model, tmp_path):
    from serving.batch.__main__ import run
    from serving.batch.config import BatchConfig

    rows = good_rows(20)
    rows[7]["text"] = " "
    config = BatchConfig(
        input=str(write_rows(rows, tmp_path / "in.csv")),
        output=str(tmp_path / "o.csv"),
        model=str(batch_model),
        workers=1,
        chunk_rows=6,
        progress=False,
    )
    summary = run(config)
    assert (summary.rows_read, summary.rows_scored, summary.rows_rejected) == (20, 19, 1)
    assert summary.rows_per_second > 0 and "19 scored" in summary.describe()


def test_an_existing_output_is_kept_without_overwrite(batch_model, tmp_path, capsys):
    source = write_rows(good_rows(3), tmp_path / "in.csv")
    output = tmp_path / "out.csv"
    output.write_text("precious")
    assert score(batch_model, source, output) == 2
    assert "out.csv exists; pass --overwrite" in capsys.readouterr().err
    assert output.read_text() == "precious"
    assert score(batch_model, source, output, "--overwrite") == 0
    assert len(READ[".csv"](output)) == 3


def test_an_existing_rejects_file_is_kept_without_overwrite(batch_model, tmp_path, capsys):
    (tmp_path / "out.rejects.jsonl").write_text("precious")
    assert score(batch_model, write_rows(good_rows(3), tmp_path / "in.csv"), tmp_path / "out.csv") == 2
    assert "out.rejects.jsonl exists; pass --overwrite" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


def test_a_model_that_cannot_load_in_the_workers_is_named(batch_model, tmp_path, capsys):
    broken = tmp_path / "model"
    shutil.copytree(batch_model, broken)
    (broken / "model.int8.onnx").write_bytes(b"not onnx")
    code = main(["--input", str(write_rows(good_rows(3), tmp_path / "in.csv")), "--output", str(tmp_path / "o.csv"),
                 "--model", str(broken), "--workers", "2", "--progress", "false"])  # fmt: skip
    assert code == 2
    assert "cannot load the ONNX model" in capsys.readouterr().err


def test_prediction_columns_come_last_when_a_jsonl_column_first_appears_in_a_later_chunk(batch_model, tmp_path):
    rows = good_rows(6)
    lines = ["{broken", "{broken", *(json.dumps(row) for row in rows)]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    for target in (".parquet", ".csv"):
        assert score(batch_model, source, tmp_path / f"out{target}", "--chunk_rows", "2", "--overwrite") == 0
        assert list(READ[target](tmp_path / f"out{target}").columns) == [*PASSED_THROUGH, *PREDICTION_COLUMNS]


def test_an_empty_jsonl_file_gives_an_empty_output(batch_model, tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text("")
    assert score(batch_model, source, tmp_path / "out.jsonl") == 0
    assert (tmp_path / "out.jsonl").read_text() == ""
    assert "read 0 rows: 0 scored" in capsys.readouterr().err


def test_a_model_retrained_into_the_same_folder_is_another_job(batch_model, tmp_path):
    from serving.batch.local import files_fingerprint

    model = tmp_path / "model"
    shutil.copytree(batch_model, model)
    before = files_fingerprint(model)
    assert files_fingerprint(model) == before
    (model / "config.json").write_text((model / "config.json").read_text() + " ")
    assert files_fingerprint(model) != before


def test_a_bad_header_stops_at_once_with_the_column_named(batch_model, tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text("id,claim,body\n1,a,b\n")
    assert score(batch_model, source, tmp_path / "out.csv") == 2
    assert "no column 'text'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [source]


def test_input_columns_named_like_predictions_stop_the_job(batch_model, tmp_path, capsys):
    rows = [dict(row, label="x") for row in good_rows(2)]
    assert score(batch_model, write_rows(rows, tmp_path / "in.csv"), tmp_path / "out.csv") == 2
    assert "input columns label have the names of prediction columns" in capsys.readouterr().err


@pytest.mark.e2e
def test_two_worker_processes_give_the_same_rows_as_one(batch_model, tmp_path):
    source = write_rows(good_rows(40), tmp_path / "in.parquet")
    assert score(batch_model, source, tmp_path / "one.parquet") == 0
    assert score(batch_model, source, tmp_path / "two.parquet", "--workers", "2") == 0
    assert pq.read_table(tmp_path / "one.parquet").equals(pq.read_table(tmp_path / "two.parquet"))


def progress_of(output: Path) -> dict:
    try:
        return json.loads((output.parent / f".{output.name}.claimstance-work" / "progress.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


@pytest.mark.e2e
def test_a_run_killed_part_way_resumes_to_exactly_the_uninterrupted_rows(batch_model, tmp_path):
    rows = tracked_rows(3000)  # tracked, so the claims' summaries are checked too: each row counted once
    for i in range(0, 3000, 97):
        rows[i]["claim"] = ""
    source = write_rows(rows, tmp_path / "in.jsonl")
    command = [
        sys.executable,
        "-m",
        "serving.batch",
        "--input",
        str(source),
        "--model",
        str(batch_model),
        "--workers",
        "1",
        "--chunk_rows",
        "10",
        "--progress",
        "false",
        "--track",
        "true",
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    whole, resumed = tmp_path / "whole.jsonl", tmp_path / "resumed.jsonl"
    subprocess.run([*command, "--output", str(whole)], env=env, check=True, cwd=REPO, capture_output=True)

    job = subprocess.Popen(
        [*command, "--output", str(resumed)],
        env=env,
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while progress_of(resumed).get("chunks_done", 0) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()
    done = progress_of(resumed)
    assert 5 <= done["chunks_done"] < 300 and not done["complete"], "killed too late to test resuming"
    assert not resumed.exists()

    finished = subprocess.run([*command, "--output", str(resumed)], env=env, cwd=REPO, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert f"resuming after {done['chunks_done']} chunks" in finished.stderr
    assert resumed.read_bytes() == whole.read_bytes()
    assert (tmp_path / "resumed.rejects.jsonl").read_text() == (tmp_path / "whole.rejects.jsonl").read_text()
    assert (tmp_path / "resumed.claim_summaries.jsonl").read_text() == (
        tmp_path / "whole.claim_summaries.jsonl"
    ).read_text()
    counted = [json.loads(line)["summary"]["documents"] for line in (tmp_path / "resumed.claim_summaries.jsonl").open()]
    assert sum(counted) == len(resumed.read_text().splitlines())
    assert (
        len(resumed.read_text().splitlines()) + len((tmp_path / "whole.rejects.jsonl").read_text().splitlines()) == 3000
    )


@pytest.mark.e2e
def test_worker_processes_exit_when_the_job_is_killed(batch_model, tmp_path):
    import psutil

    source = write_rows(good_rows(3000), tmp_path / "in.jsonl")
    output = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "serving.batch", "--input", str(source), "--output", str(output), "--model",
               str(batch_model), "--workers", "2", "--chunk_rows", "10", "--progress", "false"]  # fmt: skip
    job = subprocess.Popen(command, env=dict(os.environ, PYTHONPATH=str(REPO)), cwd=REPO, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while progress_of(output).get("chunks_done", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    children = psutil.Process(job.pid).children(recursive=True)
    workers = [child for child in children if "spawn_main" in " ".join(child.cmdline())]
    assert len(workers) == 2, [child.cmdline() for child in children]
    job.kill()
    job.wait()
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == [], f"{len(alive)} worker(s) still running after the job was killed"


def started_job(batch_model: Path, tmp_path: Path) -> tuple[Path, Path, WorkDir]:
    """The input and output of a job of 20 rows that committed its first chunk of 8 and stopped."""
    import pyarrow as pa

    from serving.batch.config import BatchConfig
    from serving.batch.local import job_identity, scorer_spec

    source = write_rows(good_rows(20), tmp_path / "in.jsonl")
    output = tmp_path / "out.jsonl"
    config = BatchConfig(input=str(source), output=str(output), model=str(batch_model), chunk_rows=8)
    work = WorkDir(output, job_identity(config, scorer_spec(config, workers=1)))
    work.commit(0, pa.table({"id": ["row-00000"]}), [], 8, work.start())
    return source, output, work


def test_a_rerun_with_other_settings_is_refused_with_the_keys_named(batch_model, tmp_path, capsys):
    source, output, work = started_job(batch_model, tmp_path)
    assert score(batch_model, source, output, "--max_claim_chars", "1999") == 2
    assert "(max_claim_chars differ)" in capsys.readouterr().err
    assert score(batch_model, source, output, "--max_claim_chars", "1999", "--overwrite") == 0
    assert len(READ[".jsonl"](output)) == 20


def test_a_part_damaged_after_its_commit_is_scored_again_and_named(batch_model, tmp_path, monkeypatch, caplog):
    from serving.batch.workdir import WorkDir

    source = write_rows(good_rows(20), tmp_path / "in.jsonl")
    whole, resumed = tmp_path / "whole.jsonl", tmp_path / "resumed.jsonl"
    assert score(batch_model, source, whole) == 0
    monkeypatch.setattr(WorkDir, "remove", lambda self: None)  # a run killed after its last commit, before cleanup
    assert score(batch_model, source, resumed) == 0
    monkeypatch.undo()
    for output in (resumed, tmp_path / "resumed.rejects.jsonl"):
        output.unlink()
    part = tmp_path / ".resumed.jsonl.claimstance-work" / "parts" / "000000001.parquet"
    part.write_bytes(part.read_bytes()[:100])

    assert score(batch_model, source, resumed) == 0
    assert "chunk 1 (rows 9-16): 000000001.parquet cannot be read (" in caplog.text
    assert "; scoring it again" in caplog.text
    assert resumed.read_bytes() == whole.read_bytes()
    assert not part.parent.parent.exists()


def test_an_input_changed_since_the_job_started_is_refused_with_the_change_named(batch_model, tmp_path, capsys):
    source, output, work = started_job(batch_model, tmp_path)
    size = source.stat().st_size
    with source.open("a") as handle:
        handle.write(json.dumps(good_rows(21)[-1]) + "\n")
    assert score(batch_model, source, output) == 2
    error = capsys.readouterr().err
    assert f"input {source.resolve()}: its size changed from {size:,} to {source.stat().st_size:,} bytes" in error
    assert f"since the job started: restore it to resume the job, or remove {work.path}" in error
    assert work.exists() and not output.exists()


def test_temporary_files_of_a_killed_run_are_removed_by_the_next(batch_model, tmp_path):
    source = write_rows(good_rows(3), tmp_path / "in.jsonl")
    stale = [tmp_path / ".out.jsonl.0123456789abcdef.tmp", tmp_path / ".out.rejects.jsonl.fedcba9876543210.tmp"]
    kept = tmp_path / ".out.jsonl.notours.tmp"
    for path in (*stale, kept):
        path.write_text("half written")
    assert score(batch_model, source, tmp_path / "out.jsonl") == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        ["in.jsonl", "out.jsonl", "out.rejects.jsonl", kept.name]
    )


def test_what_a_kill_left_of_a_jobs_cleanup_is_removed_by_the_next_run(batch_model, tmp_path, capsys):
    source = write_rows(good_rows(3), tmp_path / "in.jsonl")
    output = tmp_path / "out.jsonl"
    assert score(batch_model, source, output) == 0
    remains = tmp_path / ".out.jsonl.claimstance-work" / "parts"  # its job.json removed first, then killed
    remains.mkdir(parents=True)
    (remains / "000000000.parquet").write_bytes(b"part")
    assert score(batch_model, source, output) == 2
    assert "out.jsonl exists; pass --overwrite" in capsys.readouterr().err
    assert not remains.parent.exists()
