import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from batch_files import good_rows, write_rows

from models.labels import LABELS
from serving.batch.columns import PredictionColumns
from serving.batch.config import FileFormat
from serving.batch.readers import open_reader
from serving.jobs.lines import OverlongLine, bounded_lines
from serving.jobs.options import JobInputError

PREDICTIONS = PredictionColumns(LABELS)


def read_all(path, fmt, chunk_rows=4, start=0):
    return list(open_reader(path, fmt, "claim", "text", chunk_rows, PREDICTIONS).chunks(start))


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_chunks_cut_the_file_at_fixed_rows_and_resume_anywhere(tmp_path, suffix):
    rows = good_rows(10)
    path = write_rows(rows, tmp_path / f"in{suffix}")
    fmt = {".jsonl": FileFormat.JSONL, ".csv": FileFormat.CSV, ".parquet": FileFormat.PARQUET}[suffix]
    chunks = read_all(path, fmt)
    assert [(c.index, c.first_row, c.rows_read) for c in chunks] == [(0, 1, 4), (1, 5, 4), (2, 9, 2)]
    assert [r for c in chunks for r in c.rows.tolist()] == list(range(1, 11))
    assert [r for c in chunks for r in c.table.to_pylist()] == rows
    later = read_all(path, fmt, start=1)
    assert [c.first_row for c in later] == [5, 9]
    assert later[0].table.to_pylist() == chunks[1].table.to_pylist()
    assert open_reader(path, fmt, "claim", "text", 4, PREDICTIONS).total_rows() == 10


def test_jsonl_rows_that_cannot_be_parsed_become_rejects(tmp_path):
    lines = [
        json.dumps({"id": 1, "claim": "c", "text": "t"}),
        "",
        "{not json",
        "[1, 2]",
        json.dumps({"id": 5, "claim": 7, "text": "t"}),
        json.dumps({"id": 6, "claim": "c", "text": "t", "extra": [1]}),
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    (chunk,) = read_all(path, FileFormat.JSONL, chunk_rows=10)
    assert chunk.rows.tolist() == [1, 6] and chunk.rows_read == 6
    assert chunk.table.column_names == ["id", "claim", "text", "extra"]
    assert chunk.table.column("extra").to_pylist() == [None, [1]]
    assert [(r.row, r.reason.split(":")[0]) for r in chunk.rejects] == [
        (2, "blank line"),
        (3, "unparseable JSON"),
        (4, "unparseable"),
        (5, "claim"),
    ]
    assert chunk.rejects[3].reason == "claim: expected a string, got int"
    assert chunk.rejects[1].input == "{not json"


def test_jsonl_lines_that_cannot_be_written_out_become_rejects_not_a_crash(tmp_path):
    lines = [
        json.dumps({"claim": "c", "text": "t"}),
        '{"claim": "c", "text": ' + "[" * 100_000,
        '{"claim": "\\ud800 half a character", "text": "t"}',
        '{"claim": "a whole one \\ud83d\\ude00", "text": "t"}',
        json.dumps({"claim": "c", "text": "t", "score_unrelated": "mine"}),
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    (chunk,) = read_all(path, FileFormat.JSONL, chunk_rows=10)
    assert chunk.rows.tolist() == [1, 4]
    assert chunk.table.column("claim").to_pylist()[1] == "a whole one \U0001f600"
    assert [(r.row, r.reason) for r in chunk.rejects] == [
        (2, "unparseable JSON: nested too deeply"),
        (3, "unparseable: a \\u escape of half a character (a lone surrogate)"),
        (5, "field 'score_unrelated' has the name of a prediction column"),
    ]


def test_jsonl_header_check_accepts_rows_it_will_reject_and_an_empty_file(tmp_path):
    numbers = tmp_path / "numbers.jsonl"
    numbers.write_text(json.dumps({"id": 1, "claim": 7, "text": "t"}) + "\n")
    (chunk,) = read_all(numbers, FileFormat.JSONL)
    assert [r.reason for r in chunk.rejects] == ["claim: expected a string, got int"]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    (chunk,) = read_all(empty, FileFormat.JSONL)
    assert chunk.rows_read == 1 and chunk.table.num_rows == 0 and chunk.table.column_names == ["claim", "text"]
    (tmp_path / "nothing.jsonl").write_text("")
    (chunk,) = read_all(tmp_path / "nothing.jsonl", FileFormat.JSONL)
    assert chunk.rows_read == 0 and chunk.table.column_names == ["claim", "text"]


def test_jsonl_ids_of_mixed_types_are_kept_as_text(tmp_path):
    path = write_rows(
        [{"id": 1, "claim": "c", "text": "t"}, {"id": "b", "claim": "c", "text": "t"}], tmp_path / "i.jsonl"
    )
    (chunk,) = read_all(path, FileFormat.JSONL)
    assert chunk.table.column("id").to_pylist() == ["1", "b"]


def test_jsonl_empty_objects_are_kept_as_json_text(tmp_path):
    path = write_rows([{"meta": {}, "claim": "c", "text": "t"}], tmp_path / "i.jsonl")
    (chunk,) = read_all(path, FileFormat.JSONL)
    assert chunk.table.column("meta").to_pylist() == ["{}"]


def test_csv_with_a_byte_order_mark_and_a_row_that_is_not_utf8(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b'\xef\xbb\xbfid,claim,text\n1,c,t\n2,caf\xe9,t\n3,c,"two\nlines"\n')
    (chunk,) = read_all(path, FileFormat.CSV)
    assert chunk.table.column_names == ["id", "claim", "text"]
    assert chunk.table.column("text").to_pylist() == ["t", "two\nlines"]
    assert [(r.row, r.reason, r.input) for r in chunk.rejects] == [
        (2, "unparseable: not UTF-8 text", ["2", "caf\ufffd", "t"])
    ]


def test_csv_rows_with_the_wrong_number_of_fields_become_rejects(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('id,claim,text\n1,c,t\n2,c\n3,c,"t, with comma"\n4,c,t,extra\n')
    (chunk,) = read_all(path, FileFormat.CSV)
    assert chunk.rows.tolist() == [1, 3]
    assert chunk.table.column("text").to_pylist() == ["t", "t, with comma"]
    assert [(r.row, r.reason, r.input) for r in chunk.rejects] == [
        (2, "unparseable CSV: 2 fields where the header has 3", ["2", "c"]),
        (4, "unparseable CSV: 4 fields where the header has 3", ["4", "c", "t", "extra"]),
    ]


def test_csv_keeps_every_value_as_text(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,claim,text\n007,c,\n")
    (chunk,) = read_all(path, FileFormat.CSV)
    assert chunk.table.to_pylist() == [{"id": "007", "claim": "c", "text": ""}]


def test_a_header_only_file_gives_one_empty_chunk(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,claim,text\n")
    (chunk,) = read_all(path, FileFormat.CSV)
    assert chunk.rows_read == 0 and chunk.table.column_names == ["id", "claim", "text"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("in.csv", "id,claim,body\n1,c,t\n", "no column 'text' \\(found: id, claim, body\\).*--text_column"),
        ("in.csv", "", "empty file, no CSV header"),
        ("in.csv", "claim,text,claim\n", "duplicate column names in the header: claim"),
        ("in.jsonl", '{"claim": "c", "body": "t"}\n', "no column 'text' in the first 1 lines.*--text_column"),
        ("in.jsonl", "not json\n", "no JSON object in the first 1 lines"),
        ("in.parquet", "not parquet at all", "cannot read it as Parquet"),
    ],
)
def test_a_bad_header_or_unreadable_file_stops_at_once(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    fmt = {".csv": FileFormat.CSV, ".jsonl": FileFormat.JSONL, ".parquet": FileFormat.PARQUET}[path.suffix]
    with pytest.raises(JobInputError, match=message):
        open_reader(path, fmt, "claim", "text", 4, PREDICTIONS)


def test_a_parquet_claim_column_that_is_not_text_stops_the_job(tmp_path):
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"claim": [1, 2], "text": ["a", "b"]}), path)
    with pytest.raises(JobInputError, match="column 'claim' holds int64, not strings"):
        open_reader(path, FileFormat.PARQUET, "claim", "text", 4, PREDICTIONS)


def test_parquet_resumes_from_the_row_group_that_holds_its_first_row(tmp_path, monkeypatch):
    path = write_rows(good_rows(40), tmp_path / "in.parquet")  # row groups of 7 rows
    every = read_all(path, FileFormat.PARQUET, chunk_rows=6)
    decoded = []
    original = pq.ParquetFile.iter_batches

    def counting(self, *args, **kwargs):
        for batch in original(self, *args, **kwargs):
            decoded.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", counting)
    later = read_all(path, FileFormat.PARQUET, chunk_rows=6, start=4)
    assert [c.table.to_pylist() for c in later] == [c.table.to_pylist() for c in every[4:]]
    assert [c.rows.tolist() for c in later] == [c.rows.tolist() for c in every[4:]]
    assert sum(decoded) == 40 - 21, "rows 1-21 (three whole row groups) before chunk 4 were decoded again"
    assert read_all(path, FileFormat.PARQUET, chunk_rows=6, start=7) == []


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(JobInputError, match="nowhere.csv: no such file"):
        open_reader(tmp_path / "nowhere.csv", FileFormat.CSV, "claim", "text", 4, PREDICTIONS)


def test_jsonl_rejects_a_title_that_is_not_text_in_any_chunk(tmp_path):
    path = tmp_path / "in.jsonl"
    lines = [{"claim": "c", "text": "t", "title": "A headline"}, {"claim": "c", "text": "t", "title": 5}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    reader = open_reader(path, FileFormat.JSONL, "claim", "text", 4, PREDICTIONS, title_column="title")
    [chunk] = list(reader.chunks(0))
    assert [(r.row, r.reason) for r in chunk.rejects] == [(2, "title: expected a string, got int")]


def test_bounded_lines_gives_long_lines_as_their_length_never_whole(tmp_path):
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b"short\n" + b"x" * 10 + b"\r\n" + b"y" * 11 + b"\r\n" + b"z" * 25 + b"\n" + b"\nlast" + b"w" * 7)
    with path.open("rb") as handle:
        lines = list(bounded_lines(handle, 10))
    assert lines == [b"short\n", b"x" * 10 + b"\r\n", OverlongLine(11), OverlongLine(25), b"\n", OverlongLine(11)]
    with path.open("rb") as handle:  # within the limit, the file's own lines, as iterating over it gives them
        assert list(bounded_lines(handle, 100)) == path.read_bytes().splitlines(keepends=True)
