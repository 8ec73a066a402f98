"""The batch job's columns, derived from the answer's one definition (models/result.py) and filled by name."""

from dataclasses import dataclass
from typing import Annotated

import pyarrow as pa
import pydantic
import pytest

from models.evidence import Evidence, Field
from models.labels import LABELS, STANCES
from models.result import StanceResult
from serving.batch.columns import PredictionColumns, arrow_type


def answer(labels=LABELS) -> StanceResult:
    scores = {label: 1 / len(labels) + (0.123456789 if i == 0 else 0) for i, label in enumerate(labels)}
    sentence = Evidence(text="No.", start=4, end=7, label=labels[1], scores=scores, field=Field.TITLE)
    return StanceResult(label=labels[0], scores=scores, relevance=None, text_reduced=True, model="m:1",
                        evidence=(sentence,))  # fmt: skip


@pytest.mark.parametrize("labels", [LABELS, STANCES, (*LABELS, "satirizing")])
def test_the_columns_follow_the_fields_in_order_with_one_score_column_per_label(labels):
    columns = PredictionColumns(labels)
    assert columns.names == ("label", *(f"score_{label}" for label in labels), "relevance", "text_reduced",
                             "model", "evidence")  # fmt: skip
    sentence = columns.schema.field("evidence").type.value_type
    assert [sentence.field(i).name for i in range(sentence.num_fields)] == [
        "text", "start", "end", "label", "scores", "field"
    ]  # fmt: skip
    assert [f.name for f in sentence.field("scores").type] == list(labels)


def test_rows_are_filled_by_name_and_read_back_into_the_same_answer():
    columns = PredictionColumns(LABELS)
    table = columns.table([answer(), answer()])
    assert table.schema == columns.schema
    [row, _] = table.to_pylist()
    assert row["score_asserting"] == round(0.25 + 0.123456789, 6)
    assert row["evidence"][0]["field"] == "title" and row["relevance"] is None
    back = columns.result(row)
    assert back.evidence[0].field is Field.TITLE
    assert back.scores["asserting"] == pytest.approx(answer().scores["asserting"], abs=1e-6)
    assert (back.label, back.model, back.text_reduced) == ("asserting", "m:1", True)


def test_a_field_added_to_the_answer_becomes_a_column():
    @dataclass(frozen=True, kw_only=True)
    class Versioned(StanceResult):
        model_version: Annotated[str, pydantic.Field(description="The model's version.")] = "1"

    assert arrow_type(Versioned, LABELS).field("model_version").type == pa.string()
