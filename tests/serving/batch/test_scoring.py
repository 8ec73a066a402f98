import numpy as np
import pyarrow as pa
import pytest

from models.labels import LABELS, STANCES
from models.model_config import ModelLoadError
from models.pair import InputLimits
from models.runtime import Runtime
from serving.batch.columns import PredictionColumns
from serving.batch.scoring import ChunkScorer, ScorerSpec
from serving.jobs.options import JobInputError
from tests.helpers import pairs_of

PREDICTION_COLUMNS = PredictionColumns(LABELS).names
SCORE_COLUMNS = PredictionColumns(LABELS).score_columns


def spec(model_dir, **changes) -> ScorerSpec:
    values = dict(model_dir=str(model_dir), model_tag="claimstance:test", labels=LABELS, runtime=Runtime.ONNX,
                  threads=1, batch_size=0, claim_column="claim", text_column="text", title_column="title",
                  limits=InputLimits(max_claim_chars=100, max_text_chars=5000, max_title_chars=200, max_evidence=3),
                  keep_claim_text=True)  # fmt: skip
    return ScorerSpec(**(values | changes))


@pytest.fixture(scope="module")
def scorer(batch_model):
    return ChunkScorer(spec(batch_model))


def test_the_prediction_columns_follow_the_models_labels():
    assert PREDICTION_COLUMNS == ("label", "score_asserting", "score_disputing", "score_reporting",
                                  "score_unrelated", "relevance", "text_reduced", "model", "evidence")  # fmt: skip
    assert PredictionColumns(STANCES).names == ("label", "score_asserting", "score_disputing", "score_reporting",
                                                "relevance", "text_reduced", "model", "evidence")  # fmt: skip
    evidence = PredictionColumns(STANCES).schema.field("evidence").type.value_type
    names = [evidence.field(i).name for i in range(evidence.num_fields)]
    assert names == ["text", "start", "end", "label", "scores", "field"]
    assert [f.name for f in evidence.field("scores").type] == list(STANCES)


def test_the_spec_reads_the_labels_from_the_model(batch_model, onnx_three_label_model_dir):
    from serving.batch.config import BatchConfig

    config = BatchConfig(input="in.jsonl", output="out.jsonl")
    assert ScorerSpec.of(config, batch_model, "tag", threads=1).labels == LABELS
    assert ScorerSpec.of(config, onnx_three_label_model_dir, "tag", threads=1).labels == STANCES


def test_a_model_whose_labels_changed_since_the_job_began_is_refused(batch_model):
    with pytest.raises(ModelLoadError, match="not the job's"):
        ChunkScorer(spec(batch_model, labels=STANCES))


def test_scored_rows_keep_their_order_and_numbers_and_rejects_leave(scorer):
    table = pa.table({"id": ["a", "b", "c"], "claim": ["A cat sat", "", "A dog ran"], "text": ["It sat.", "x", "No."]})
    scored = scorer.score(table, np.array([7, 8, 9]))
    assert scored.table.column("id").to_pylist() == ["a", "c"]
    assert scored.rows.tolist() == [7, 9]
    assert [(r.row, r.reason) for r in scored.rejects] == [(8, "claim: empty")]
    assert scored.table.column_names == ["id", "claim", "text", *PREDICTION_COLUMNS]
    rows = scored.table.to_pylist()
    assert [sum(row[name] for name in SCORE_COLUMNS) for row in rows] == pytest.approx([1, 1], abs=1e-5)
    assert [row["relevance"] for row in rows] == pytest.approx([1 - row["score_unrelated"] for row in rows], abs=1e-5)


def test_a_three_label_model_adds_its_own_scores_and_a_null_relevance(onnx_three_label_model_dir):
    scorer = ChunkScorer(spec(onnx_three_label_model_dir, labels=STANCES))
    scored = scorer.score(pa.table({"claim": ["A cat sat"], "text": ["It sat."]}), np.array([1]))
    assert scored.table.column_names == ["claim", "text", *PredictionColumns(STANCES).names]
    assert scored.table.column("relevance").to_pylist() == [None]
    assert scored.table.column("label").to_pylist()[0] in STANCES


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
    with pytest.raises(JobInputError, match="model"):
        scorer.score(pa.table({"claim": ["a"], "text": ["b"], "model": ["mine"]}), np.array([1]))


def test_a_model_with_its_labels_in_another_order_names_each_score_column_rightly(tokenizer, tmp_path):
    from models.predictor import StancePredictor
    from tests.conftest import new_tiny_model, save_tiny

    order = tuple(reversed(LABELS))
    model_dir = save_tiny(new_tiny_model(tokenizer, order), tokenizer, tmp_path / "model")
    scored = ChunkScorer(spec(model_dir, labels=order, runtime=Runtime.TORCH)).score(
        pa.table({"claim": ["A cat sat", "A dog ran"], "text": ["It sat.", "Officials denied it."]}), np.array([1, 2])
    )
    assert scored.table.column_names[2:7] == ["label", "score_unrelated", "score_reporting", "score_disputing",
                                              "score_asserting"]  # fmt: skip
    pairs = pairs_of([("A cat sat", "It sat."), ("A dog ran", "Officials denied it.")])
    expected = StancePredictor.from_dir(model_dir, num_threads=1).predict(pairs)
    for row, answer in zip(scored.table.to_pylist(), expected, strict=True):
        assert row["label"] == answer.label
        assert [row[f"score_{label}"] for label in LABELS] == pytest.approx(
            [answer.scores[k] for k in LABELS], abs=1e-6
        )
        assert row["relevance"] == pytest.approx(answer.relevance, abs=1e-6)


def test_a_title_column_is_read_as_each_texts_headline(scorer):
    from models.predictor import StancePredictor

    table = pa.table({"claim": ["A cat sat"] * 2, "text": ["It sat. Then it slept."] * 2,
                      "title": ["Cat sat, owner says", None]})  # fmt: skip
    scored = scorer.score(table, np.array([1, 2]))
    predictor = StancePredictor.from_dir(scorer.spec.model_dir, runtime=Runtime.ONNX, num_threads=1)
    expected = predictor.predict(pairs_of([("A cat sat", "It sat. Then it slept.", "Cat sat, owner says"),
                                           ("A cat sat", "It sat. Then it slept.")]))  # fmt: skip
    rows = scored.table.to_pylist()
    for row, answer in zip(rows, expected, strict=True):
        assert [(e["field"], e["start"], e["end"]) for e in row["evidence"]] == [
            (e.field, e.start, e.end) for e in answer.evidence
        ]
    assert "title" in {e["field"] for e in rows[0]["evidence"]} and rows[0]["title"] == "Cat sat, owner says"
    assert {e["field"] for e in rows[1]["evidence"]} == {"text"}
