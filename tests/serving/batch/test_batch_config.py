from pathlib import Path

import pytest

from serving.batch.config import BatchConfig, FileFormat, file_format
from serving.jobs.options import JobInputError


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.jsonl", FileFormat.JSONL), ("a.JSON", FileFormat.JSONL), ("a.csv", FileFormat.CSV), ("a.pq", "parquet")],
)
def test_format_comes_from_the_extension(name, expected):
    assert file_format(Path(name), None, "input") == expected


def test_flag_wins_over_the_extension():
    assert file_format(Path("scores.txt"), "csv", "output") is FileFormat.CSV


def test_unknown_extension_names_the_flag_to_use():
    with pytest.raises(JobInputError, match="--input_format"):
        file_format(Path("pairs.tsv"), None, "input")
    with pytest.raises(JobInputError, match="use one of jsonl, csv, parquet"):
        file_format(Path("pairs.csv"), "xlsx", "output")


def test_rejects_file_sits_beside_the_output():
    assert BatchConfig(input="in.csv", output="out/scored.parquet").rejects_path == Path("out/scored.rejects.jsonl")
    assert BatchConfig(input="in.csv", output="o.csv", rejects="r.jsonl").rejects_path == Path("r.jsonl")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"chunk_rows": 0}, "--chunk_rows must be at least 1"),
        ({"workers": -1}, "--workers must be 0"),
        ({"claim_column": "x", "text_column": "x"}, "columns must differ: --claim_column 'x', --text_column 'x'"),
        ({"title_column": "text"}, "columns must differ: --claim_column 'claim', --text_column 'text', --title_column"),
    ],
)
def test_bad_arguments_name_the_flag(flags, message):
    with pytest.raises(JobInputError, match=message):
        BatchConfig(input="in.csv", output="out.csv", **flags)


def test_titles_are_read_only_when_a_title_column_is_named():
    assert BatchConfig(input="in.csv", output="o.csv").title_column is None
    assert BatchConfig(input="in.csv", output="o.csv", text_column="title").text_column == "title"
