"""The Spark engine in local mode against the local engine, on one small file and the tiny model."""

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from batch_files import good_rows, taught_label, tracked_rows, write_rows

from models.labels import LABELS, STANCES
from serving.batch.__main__ import main

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (make setup installs it)"),
]


def spark_rows(folder: Path) -> list[dict]:
    """A Spark output folder's rows, part files in order."""
    return [row for part in sorted(folder.glob("part-*.parquet")) for row in pq.read_table(part).to_pylist()]


def spark_rejects(folder: Path) -> list[dict]:
    return [json.loads(line) for part in sorted(folder.glob("part-*.json")) for line in part.read_text().splitlines()]


@pytest.fixture(scope="module")
def both_engines(batch_model, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("spark")
    rows = good_rows(120)
    rows[3]["claim"] = ""
    rows[50]["text"] = None
    lines = [json.dumps(row) for row in rows]
    lines.insert(10, "{broken")
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    common = ["--input", str(source), "--model", str(batch_model), "--progress", "false", "--chunk_rows", "16"]
    assert main([*common, "--output", str(tmp_path / "local.parquet"), "--workers", "1"]) == 0
    assert main([*common, "--output", str(tmp_path / "spark.parquet"), "--engine", "spark",
                 "--spark_master", "local[2]"]) == 0  # fmt: skip
    return tmp_path


def test_spark_gives_the_local_engines_labels_and_scores_in_input_order(both_engines):
    local = pq.read_table(both_engines / "local.parquet").to_pylist()
    spark = spark_rows(both_engines / "spark.parquet")
    assert len(spark) == len(local) == 118
    assert [row["id"] for row in spark] == [row["id"] for row in local]
    assert [row["label"] for row in spark] == [row["label"] for row in local]
    scores = [f"score_{label}" for label in LABELS]
    for key in (*scores, "relevance", "text_reduced", "model", "n", "note", "evidence"):
        assert [row[key] for row in spark] == [row[key] for row in local]
    taught = {row["id"]: taught_label(row) for row in spark if taught_label(row)}
    assert {row["id"]: row["label"] for row in spark if row["id"] in taught} == taught
    assert set(taught.values()) == set(LABELS)
    assert any(len(row["evidence"]) > 1 for row in spark)
    assert all(row["text"][e["start"] : e["end"]] == e["text"] for row in spark for e in row["evidence"])


def test_spark_scores_with_a_three_label_model_as_the_local_engine_does(onnx_three_label_model_dir, tmp_path):
    # Spark ships a model folder by its name, and these tests share one Spark session: a folder named as the
    # four-label one ("model") would clash there. Store folders are named by version, so they never do.
    model = shutil.copytree(onnx_three_label_model_dir, tmp_path / "three-label-model")
    source = write_rows(good_rows(20), tmp_path / "in.parquet")
    common = ["--input", str(source), "--model", str(model), "--progress", "false"]
    assert main([*common, "--output", str(tmp_path / "local.parquet"), "--workers", "1"]) == 0
    assert main([*common, "--output", str(tmp_path / "spark.parquet"), "--engine", "spark"]) == 0
    local = pq.read_table(tmp_path / "local.parquet")
    spark = spark_rows(tmp_path / "spark.parquet")
    assert [name for name in local.column_names if name.startswith("score_")] == [f"score_{s}" for s in STANCES]
    assert spark == local.to_pylist()
    assert {row["relevance"] for row in spark} == {None}


def test_spark_rejects_the_same_rows_with_the_same_row_numbers(both_engines):
    local = [json.loads(line) for line in (both_engines / "local.rejects.jsonl").read_text().splitlines()]
    spark = spark_rejects(both_engines / "spark.rejects.jsonl")
    assert [(r["row"], r["reason"]) for r in local] == [
        (4, "claim: empty"),
        (11, local[1]["reason"]),
        (52, "text: missing"),
    ]
    assert [r["row"] for r in spark] == [4, 11, 52]
    assert [spark[0]["reason"], spark[2]["reason"]] == ["claim: empty", "text: missing"]
    assert spark[1]["reason"].startswith("unparseable")


def test_spark_stops_at_once_on_a_missing_column(batch_model, tmp_path, capsys):
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"claim": ["a"], "body": ["b"]}), source)
    code = main(["--input", str(source), "--output", str(tmp_path / "out.parquet"), "--model", str(batch_model),
                 "--engine", "spark", "--spark_master", "local[1]"])  # fmt: skip
    assert code == 2
    assert "no column 'text' (found: claim, body)" in capsys.readouterr().err


def test_many_partitions_keep_input_order_and_row_numbers(batch_model, both_engines):
    """Small splits, so the file is read as several partitions and row numbers need their offsets."""
    output = both_engines / "split.parquet"
    small_splits = ["spark.sql.files.maxPartitionBytes=4096", "spark.sql.files.openCostInBytes=0"]
    code = main(["--input", str(both_engines / "in.jsonl"), "--output", str(output), "--model", str(batch_model),
                 "--engine", "spark", "--progress", "false", "--spark_conf", *small_splits])  # fmt: skip
    assert code == 0
    from pyspark.sql import SparkSession

    read_partitions = SparkSession.getActiveSession().read.json(str(both_engines / "in.jsonl")).rdd.getNumPartitions()
    assert read_partitions > 3, "the input was not split: nothing here tests the row offsets"
    local = pq.read_table(both_engines / "local.parquet").to_pylist()
    assert [(r["id"], r["label"]) for r in spark_rows(output)] == [(r["id"], r["label"]) for r in local]
    rejects = spark_rejects(Path(f"{output.parent}/split.rejects.jsonl"))
    assert [r["row"] for r in rejects] == [4, 11, 52]


def test_csv_with_line_breaks_inside_fields_spaces_around_values_and_formulas(batch_model, tmp_path):
    rows = good_rows(12)
    rows[2]["text"] = 'Officials said: "no".\nA second paragraph, with a comma.'
    rows[4]["note"] = "  kept as written  "
    rows[6]["note"] = '=HYPERLINK("http://example.com", "click")'
    rows[7]["note"] = "@SUM(A1:A2)"
    source = write_rows(rows, tmp_path / "in.csv")
    common = ["--input", str(source), "--model", str(batch_model), "--progress", "false"]
    assert main([*common, "--output", str(tmp_path / "local.csv"), "--workers", "1"]) == 0
    assert main([*common, "--output", str(tmp_path / "spark.csv"), "--engine", "spark"]) == 0
    local = pa_csv.read_csv(tmp_path / "local.csv").to_pylist()
    spark = [
        row for part in sorted((tmp_path / "spark.csv").glob("part-*.csv")) for row in pa_csv.read_csv(part).to_pylist()
    ]
    assert [(r["id"], r["text"], r["label"]) for r in spark] == [(r["id"], r["text"], r["label"]) for r in local]
    assert spark[2]["text"] == rows[2]["text"]
    assert spark[4]["note"] == local[4]["note"] == "  kept as written  "
    assert spark[6]["note"] == local[6]["note"] == "'" + rows[6]["note"]  # the formula guard of both CSV writers
    assert spark[7]["note"] == local[7]["note"] == "'@SUM(A1:A2)"

    def sentences(row: dict) -> list[tuple]:  # evidence is JSON text in CSV, from either engine
        return [(e["text"], e["start"], e["end"], e["label"]) for e in json.loads(row["evidence"])]

    assert [sentences(r) for r in spark] == [sentences(r) for r in local]
    assert all(r["text"][start:end] == text for r in spark for text, start, end, _ in sentences(r))


def test_jsonl_output_keeps_null_values(batch_model, tmp_path):
    rows = good_rows(4)
    rows[1]["note"] = None
    source = write_rows(rows, tmp_path / "in.jsonl")
    code = main(["--input", str(source), "--output", str(tmp_path / "out.jsonl"), "--model", str(batch_model),
                 "--engine", "spark", "--progress", "false"])  # fmt: skip
    assert code == 0
    lines = [json.loads(line) for part in sorted((tmp_path / "out.jsonl").glob("part-*.json")) for line in
             part.read_text().splitlines()]  # fmt: skip
    assert [row["id"] for row in lines] == [row["id"] for row in rows]
    assert "note" in lines[1] and lines[1]["note"] is None
    assert all(isinstance(row["evidence"], list) and row["evidence"] for row in lines)  # a list, not JSON text


def test_a_file_spark_cannot_read_stops_with_one_line(batch_model, tmp_path, capsys):
    source = tmp_path / "in.parquet"
    source.write_bytes(b"not parquet at all")
    code = main(["--input", str(source), "--output", str(tmp_path / "out.parquet"), "--model", str(batch_model),
                 "--engine", "spark", "--progress", "false"])  # fmt: skip
    assert code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("claimstance score: error: Spark failed: ") and "Traceback" not in error
    assert "in.parquet" in error


def test_spark_tracks_each_claim_grouped_by_claim_as_the_local_engine_does(batch_model, tmp_path):
    rows = tracked_rows(30)
    rows[4]["published"] = "soon"
    source = write_rows(rows, tmp_path / "in.jsonl")
    common = ["--input", str(source), "--model", str(batch_model), "--progress", "false", "--track", "true",
              "--chunk_rows", "8"]  # fmt: skip
    assert main([*common, "--output", str(tmp_path / "local.parquet"), "--workers", "1"]) == 0
    assert main([*common, "--output", str(tmp_path / "spark.parquet"), "--engine", "spark",
                 "--spark_master", "local[2]"]) == 0  # fmt: skip
    local = (tmp_path / "local.claim_summaries.jsonl").read_text()
    assert local.count("\n") == 3 and (tmp_path / "spark.claim_summaries.jsonl").read_text() == local
    assert [r["row"] for r in spark_rejects(tmp_path / "spark.rejects.jsonl")] == [5]
