import pytest
from pydantic import TypeAdapter, ValidationError

from models.labels import LABELS, STANCES
from serving.schemas import (
    EXAMPLE_PAIR,
    EXAMPLE_TEXTS,
    UNRELATED_PAIR,
    PairList,
    StancePair,
    example_result,
    result_schema,
)
from serving.settings import SETTINGS


def errors_of(data) -> list[tuple[tuple, str]]:
    with pytest.raises(ValidationError) as caught:
        StancePair.model_validate(data)
    return [(tuple(e["loc"]), e["msg"]) for e in caught.value.errors()]


def test_a_good_pair_with_or_without_id():
    assert StancePair.model_validate({"claim": "c", "text": "t"}).id is None
    assert StancePair.model_validate({"claim": "c", "text": "t", "id": 7}).id == 7


@pytest.mark.parametrize(
    ("data", "loc", "message"),
    [
        ({"text": "t"}, ("claim",), "Field required"),
        ({"claim": "c"}, ("text",), "Field required"),
        ({"claim": "", "text": "t"}, ("claim",), "at least 1 character"),
        ({"claim": " \n\t", "text": "t"}, ("claim",), "must have a visible character"),
        ({"claim": "c", "text": "   "}, ("text",), "must have a visible character"),
        ({"claim": "c", "text": "\u200b\u200b\u200b"}, ("text",), "must have a visible character"),
        ({"claim": "c", "text": "\x00"}, ("text",), "must have a visible character"),
        ({"claim": "c", "text": "t", "id": "i" * (SETTINGS.max_id_chars + 1)}, ("id", "constrained-str"), "at most"),
        ({"claim": 5, "text": "t"}, ("claim",), "valid string"),
        ({"claim": "c", "text": ["t"]}, ("text",), "valid string"),
        ({"claim": "c" * (SETTINGS.max_claim_chars + 1), "text": "t"}, ("claim",), f"{SETTINGS.max_claim_chars}"),
        ({"claim": "c", "text": "t" * (SETTINGS.max_text_chars + 1)}, ("text",), f"{SETTINGS.max_text_chars}"),
        ({"claim": "c", "text": "t", "txt": "x"}, ("txt",), "Extra inputs are not permitted"),
    ],
)
def test_each_bad_field_is_named_with_its_limit(data, loc, message):
    assert any(error_loc == loc and message in msg for error_loc, msg in errors_of(data))


def test_the_list_has_a_size_limit():
    adapter = TypeAdapter(PairList)
    assert len(adapter.validate_python([{"claim": "c", "text": "t"}])) == 1
    with pytest.raises(ValidationError, match=f"at most {SETTINGS.max_pairs} items"):
        adapter.validate_python([{"claim": "c", "text": "t"}] * (SETTINGS.max_pairs + 1))
    with pytest.raises(ValidationError, match="at least 1 item"):
        adapter.validate_python([])


@pytest.mark.parametrize("labels", [LABELS, STANCES])
def test_the_documented_examples_are_valid(labels):
    StancePair.model_validate(EXAMPLE_PAIR)
    TypeAdapter(PairList).validate_python([EXAMPLE_PAIR, UNRELATED_PAIR])
    schema = result_schema(labels)
    for pair in (EXAMPLE_PAIR, UNRELATED_PAIR):
        schema.model_validate(example_result(labels, pair["id"]))


def test_the_example_answers_follow_the_answer_rule():
    """An unrelated text is `unrelated` with low relevance for a four-label model; a three-label model has no
    relevance and gives the text its likeliest stance."""
    four = example_result(LABELS, UNRELATED_PAIR["id"])
    assert four["label"] == "unrelated" and four["relevance"] < 0.5
    assert example_result(LABELS, EXAMPLE_PAIR["id"])["label"] == "disputing"
    three = example_result(STANCES, UNRELATED_PAIR["id"])
    assert three["relevance"] is None and list(three["scores"]) == list(STANCES)
    assert sum(three["scores"].values()) == pytest.approx(1.0, abs=0.02)


def test_the_result_schema_lists_the_models_labels():
    for labels in (LABELS, STANCES, (*LABELS, "satirizing")):
        schema = result_schema(labels).model_json_schema()
        assert schema["properties"]["label"]["enum"] == list(labels)
        scores = schema["$defs"]["Scores"]
        assert list(scores["properties"]) == list(labels) and scores["required"] == list(labels)
        assert schema["example"]["label"] in labels


def test_an_answer_must_have_a_score_per_label_and_relevance_in_range():
    schema = result_schema(LABELS)
    good = example_result(LABELS, EXAMPLE_PAIR["id"])
    with pytest.raises(ValidationError, match="unrelated"):
        schema.model_validate({**good, "scores": {k: v for k, v in good["scores"].items() if k != "unrelated"}})
    with pytest.raises(ValidationError, match="relevance"):
        schema.model_validate({**good, "relevance": 1.5})
    with pytest.raises(ValidationError, match="label"):
        result_schema(STANCES).model_validate({**good, "label": "unrelated"})


def test_the_answer_documents_its_evidence_with_the_models_labels():
    for labels in (LABELS, STANCES):
        schema = result_schema(labels).model_json_schema()
        evidence = schema["$defs"]["Evidence"]
        assert schema["properties"]["evidence"]["items"] == {"$ref": "#/$defs/Evidence"}
        assert set(evidence["required"]) == {"text", "start", "end", "label", "scores", "field"}
        assert evidence["properties"]["label"]["enum"] == list(labels)
        [sentence] = schema["example"]["evidence"]
        text = EXAMPLE_TEXTS[schema["example"]["id"]]
        assert text[sentence["start"] : sentence["end"]] == sentence["text"] == text


def test_evidence_with_a_label_the_model_does_not_have_is_refused():
    good = example_result(STANCES, EXAMPLE_PAIR["id"])
    bad_sentence = {**good["evidence"][0], "label": "unrelated"}
    with pytest.raises(ValidationError, match="evidence"):
        result_schema(STANCES).model_validate({**good, "evidence": [bad_sentence]})


@pytest.mark.parametrize("labels", [LABELS, STANCES, (*LABELS, "satirizing")])
def test_the_track_answer_is_derived_for_any_labels_and_its_example_is_valid(labels):
    from serving.tracking_schemas import example_answer, track_schema

    schema = track_schema(labels)
    schema.model_validate(example_answer(labels))
    document = schema.model_json_schema()["$defs"]["TrackedDocument"]
    assert {"id", "position", "label", "scores", "evidence", "published"} <= set(document["properties"])
