import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from models.labels import LABELS
from serving.batch.columns import PredictionColumns
from serving.batch.config import FileFormat
from serving.batch.writers import FORMULA_GUARD, FORMULA_START, atomic_file, join_parts, join_text_parts

PREDICTIONS = PredictionColumns(LABELS)


def parts(tmp_path, *tables):
    paths = []
    for i, table in enumerate(tables):
        pq.write_table(table, tmp_path / f"{i}.parquet")
        paths.append(tmp_path / f"{i}.parquet")
    return paths


def test_a_column_null_in_the_first_part_takes_its_type_from_later_ones(tmp_path):
    first = pa.table({"id": ["a"], "score": pa.nulls(1)})
    second = pa.table({"id": ["b"], "score": [0.5], "late": ["x"]})
    join_parts(parts(tmp_path, first, second), FileFormat.PARQUET, tmp_path / "out.parquet", PREDICTIONS)
    joined = pq.read_table(tmp_path / "out.parquet")
    assert joined.schema.field("score").type == pa.float64()
    assert joined.to_pylist() == [{"id": "a", "score": None, "late": None}, {"id": "b", "score": 0.5, "late": "x"}]


def test_csv_writes_nested_values_as_json_text(tmp_path):
    table = pa.table({"id": ["a", "b"], "tags": [[1, 2], None]})
    join_parts(parts(tmp_path, table), FileFormat.CSV, tmp_path / "out.csv", PREDICTIONS)
    assert pa_csv.read_csv(tmp_path / "out.csv").column("tags").to_pylist() == ["[1, 2]", ""]


def test_jsonl_keeps_every_part_in_order(tmp_path):
    paths = parts(tmp_path, pa.table({"id": [1, 2]}), pa.table({"id": [3]}))
    join_parts(paths, FileFormat.JSONL, tmp_path / "out.jsonl", PREDICTIONS)
    assert [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").read_text().splitlines()] == [1, 2, 3]


def test_a_column_whose_types_cannot_merge_is_written_as_text(tmp_path):
    paths = parts(tmp_path, pa.table({"id": [1], "n": [1]}), pa.table({"id": [[1, 2]], "n": [2.5]}))
    join_parts(paths, FileFormat.PARQUET, tmp_path / "out.parquet", PREDICTIONS)
    joined = pq.read_table(tmp_path / "out.parquet")
    assert joined.column("id").to_pylist() == ["1", "[1, 2]"]
    assert joined.column("n").to_pylist() == [1.0, 2.5]


def test_csv_writes_categories_as_their_values(tmp_path):
    table = pa.table({"kind": pa.array(["news", "blog", "news"]).dictionary_encode()})
    join_parts(parts(tmp_path, table), FileFormat.CSV, tmp_path / "out.csv", PREDICTIONS)
    assert (tmp_path / "out.csv").read_text().split() == ['"kind"', '"news"', '"blog"', '"news"']


def test_a_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_text_parts_are_concatenated(tmp_path):
    (tmp_path / "a").write_text("1\n")
    (tmp_path / "b").write_text("")
    (tmp_path / "c").write_text("2\n")
    join_text_parts([tmp_path / name for name in "abc"], tmp_path / "out")
    assert (tmp_path / "out").read_text() == "1\n2\n"


FORMULAS = ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]
PLAIN = ["plain", "a=b", " =x", "", None]


def test_csv_puts_a_quote_before_text_cells_a_spreadsheet_would_run_as_formulas(tmp_path):
    table = pa.table({"note": FORMULAS + PLAIN, "score": [-1.5] * 11, "tags": [["=x"]] * 11})
    join_parts(parts(tmp_path, table), FileFormat.CSV, tmp_path / "out.csv", PREDICTIONS)
    written = pa_csv.read_csv(tmp_path / "out.csv", convert_options=pa_csv.ConvertOptions(strings_can_be_null=True))
    guarded = ["'" + value for value in FORMULAS]
    assert written.column("note").to_pylist() == [*guarded, "plain", "a=b", " =x", None, None]
    assert written.column("score").to_pylist() == [-1.5] * 11
    assert written.column("tags").to_pylist() == ['["=x"]'] * 11


@pytest.mark.parametrize("fmt", [FileFormat.JSONL, FileFormat.PARQUET])
def test_only_csv_guards_formulas(tmp_path, fmt):
    table = pa.table({"note": FORMULAS})
    join_parts(parts(tmp_path, table), fmt, tmp_path / "out", PREDICTIONS)
    if fmt is FileFormat.PARQUET:
        assert pq.read_table(tmp_path / "out").column("note").to_pylist() == FORMULAS
    else:
        assert [json.loads(line)["note"] for line in (tmp_path / "out").read_text().splitlines()] == FORMULAS


def test_the_guard_is_the_tracker_pages_rule():
    """serving/tracker/tracker.js's csvCell: a string whose first character is one of =+-@, tab or CR."""
    tracker = (Path(__file__).resolve().parents[3] / "serving/tracker/tracker.js").read_text()
    assert r"/^[=+\-@\t\r]/.test(text)) text = `'${text}`" in tracker
    assert FORMULA_START == r"^([=+\-@\t\r])" and FORMULA_GUARD == "'"


def test_the_output_and_its_folder_are_flushed_when_it_is_committed(tmp_path, monkeypatch):
    flushed: list[str] = []
    real_fsync = os.fsync

    def fsync(descriptor: int) -> None:
        flushed.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real_fsync(descriptor)

    paths = parts(tmp_path, pa.table({"id": [1]}))
    (tmp_path / "out").mkdir()
    monkeypatch.setattr(os, "fsync", fsync)
    join_parts(paths, FileFormat.JSONL, tmp_path / "out" / "scored.jsonl", PREDICTIONS)
    temporary, folder = flushed
    assert Path(temporary).name.startswith(".scored.jsonl.") and Path(temporary).parent == tmp_path / "out"
    assert folder == str(tmp_path / "out")
