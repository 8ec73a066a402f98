import numpy as np
import pyarrow as pa
import pytest

from models.runtime import Runtime
from serving.batch.columns import PREDICTION_COLUMNS
from serving.batch.config import BatchInputError
from serving.batch.scoring import ChunkScorer, ScorerSpec


def spec(model_dir, **changes) -> ScorerSpec:
    values = dict(model_dir=str(model_dir), model_tag="claimstance:test", runtime=Runtime.ONNX, threads=1,
                  batch_size=0, claim_column="claim", text_column="text", max_claim_chars=100, max_text_chars=5000,
                  keep_claim_text=True)  # fmt: skip
    return ScorerSpec(**(values | changes))


@pytest.fixture(scope="module")
def scorer(batch_model):
    return ChunkScorer(spec(batch_model))


def test_scored_rows_keep_their_order_and_numbers_and_rejects_leave(scorer):
    table = pa.table({"id": ["a", "b", "c"], "claim": ["A cat sat", "", "A dog ran"], "text": ["It sat.", "x", "No."]})
    scored = scorer.score(table, np.array([7, 8, 9]))
    assert scored.table.column("id").to_pylist() == ["a", "c"]
    assert scored.rows.tolist() == [7, 9]
    assert [(r.row, r.reason) for r in scored.rejects] == [(8, "claim: empty")]
    assert scored.table.column_names == ["id", "claim", "text", *PREDICTION_COLUMNS]
    totals = [sum(row[name] for name in PREDICTION_COLUMNS[1:4]) for row in scored.table.to_pylist()]
    assert totals == pytest.approx([1, 1], abs=1e-5)


def test_the_same_pair_gets_the_same_scores_whatever_chunk_it_is_in(scorer):
    pair = {"claim": ["A cat sat"], "text": ["Officials denied that a cat sat."]}
    alone = scorer.score(pa.table(pair), np.array([1])).table
    other = {"claim": ["A dog ran"] * 5, "text": ["A very long report. " * 40] * 5}
    mixed = scorer.score(pa.table({k: other[k] + pair[k] for k in pair}), np.arange(6)).table.slice(5)
    assert mixed.select(PREDICTION_COLUMNS).equals(alone.select(PREDICTION_COLUMNS))


def test_claim_and_text_can_be_left_out_of_the_output(batch_model):
    scored = ChunkScorer(spec(batch_model, keep_claim_text=False)).score(
        pa.table({"id": [1], "claim": ["A cat"], "text": ["A dog"]}), np.array([1])
    )
    assert scored.table.column_names == ["id", *PREDICTION_COLUMNS]


def test_an_empty_chunk_still_has_every_output_column(scorer):
    scored = scorer.score(
        pa.table({"claim": pa.array([], pa.string()), "text": pa.array([], pa.string())}), np.array([])
    )
    assert scored.table.num_rows == 0 and scored.table.column_names == ["claim", "text", *PREDICTION_COLUMNS]


def test_input_columns_named_like_predictions_are_refused(scorer):
    with pytest.raises(BatchInputError, match="model"):
        scorer.score(pa.table({"claim": ["a"], "text": ["b"], "model": ["mine"]}), np.array([1]))
