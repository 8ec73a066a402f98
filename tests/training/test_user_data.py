import json
import re

import pandas as pd
import pytest

from training.data import DataFileError
from training.user_data import load_user_file

GOOD_ROWS = [
    {"claim": "The bridge will close in May", "text": "The city confirmed the bridge closes in May.", "label": "for"},
    {"claim": "The bridge will close in May", "text": "Officials denied any closure.", "label": "disagree"},
    {"claim": "Eggs cure colds", "text": "A blog says eggs cure colds.", "label": "reporting"},
    {"claim": "Eggs cure colds", "text": "Doctors say eggs cure nothing.", "label": "AGAINST"},
    {"claim": "Eggs cure colds", "text": "The bridge reopens in June.", "label": "unrelated"},
]


def write(path, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    else:
        frame.to_parquet(path, index=False)


@pytest.fixture(params=["csv", "jsonl", "parquet"])
def suffix(request) -> str:
    return request.param


def test_good_file_loads_with_labels_mapped(tmp_path, suffix):
    path = tmp_path / f"mine.{suffix}"
    write(path, GOOD_ROWS)
    dataset = load_user_file(path)
    assert len(dataset) == 5
    assert dataset["label"] == ["asserting", "disputing", "reporting", "disputing", "unrelated"]
    assert dataset["claim"] == [row["claim"] for row in GOOD_ROWS]
    assert dataset["text"] == [row["text"] for row in GOOD_ROWS]
    assert set(dataset["source"]) == {"mine"}
    assert dataset["group"] == dataset["claim"]  # the claim is the split group by default


def test_group_column_is_used_when_present(tmp_path, suffix):
    path = tmp_path / f"mine.{suffix}"
    write(path, [{**row, "group": f"g{i // 2}"} for i, row in enumerate(GOOD_ROWS)])
    assert load_user_file(path)["group"] == ["g0", "g0", "g1", "g1", "g2"]


def assert_names(error: DataFileError, path, row: int | None, column: str) -> None:
    message = str(error)
    assert str(path) in message
    assert f"column {column!r}" in message
    if row is not None:
        assert re.search(rf"\brow {row}\b", message), message


def test_missing_column_names_file_and_column(tmp_path, suffix):
    path = tmp_path / f"mine.{suffix}"
    write(path, [{k: v for k, v in row.items() if k != "label"} for row in GOOD_ROWS])
    with pytest.raises(DataFileError, match="missing column") as error:
        load_user_file(path)
    assert_names(error.value, path, None, "label")
    assert "claim" in str(error.value)  # says which columns it found


def test_unknown_label_names_file_row_column_and_label(tmp_path, suffix):
    path = tmp_path / f"mine.{suffix}"
    rows = [dict(row) for row in GOOD_ROWS]
    rows[2]["label"] = "maybe"
    write(path, rows)
    with pytest.raises(DataFileError, match="unknown label") as error:
        load_user_file(path)
    assert_names(error.value, path, 3, "label")
    assert "'maybe'" in str(error.value)


@pytest.mark.parametrize(("row", "column", "bad_value"), [(2, "claim", ""), (2, "claim", "   "), (4, "text", None)])
def test_empty_or_missing_value_names_file_row_and_column(tmp_path, suffix, row, column, bad_value):
    path = tmp_path / f"mine.{suffix}"
    rows = [dict(r) for r in GOOD_ROWS]
    rows[row - 1][column] = bad_value
    write(path, rows)
    with pytest.raises(DataFileError) as error:
        load_user_file(path)
    assert_names(error.value, path, row, column)


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "mine.xlsx"
    path.write_bytes(b"not a spreadsheet")
    with pytest.raises(DataFileError, match="unsupported file type") as error:
        load_user_file(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize("name", ["broken.jsonl", "broken.parquet", "absent.csv"])
def test_unreadable_file_names_the_file(tmp_path, name):
    path = tmp_path / name
    if not name.startswith("absent"):
        path.write_text('{"claim": "unterminated\n')
    with pytest.raises(DataFileError, match="cannot read file") as error:
        load_user_file(path)
    assert str(path) in str(error.value)
