"""The contract dataclasses and what is derived from them: the pydantic models of every surface, for any labels."""

from dataclasses import asdict, dataclass
from typing import Annotated

import pydantic
import pytest

from models.contract import LabelSet, OneLabel, PerLabel, from_record, label_set, response_model
from models.evidence import Evidence, Field
from models.labels import LABELS, STANCES
from models.result import StanceResult
from models.tracking import TrackedClaim

FIVE = (*LABELS, "satirizing")


def result(labels=LABELS, label="disputing") -> StanceResult:
    scores = {name: 1 / len(labels) for name in labels}
    sentence = Evidence(text="No.", start=0, end=3, label=label, scores=scores, field=Field.TITLE)
    return StanceResult(
        label=label, scores=scores, relevance=0.5, text_reduced=False, model="m:1", evidence=(sentence,)
    )


def test_label_sets_follow_the_models_labels():
    assert label_set(LABELS, LabelSet.ALL) == LABELS
    assert label_set(LABELS, LabelSet.STANCES) == STANCES
    assert label_set(FIVE, LabelSet.STANCES) == (*STANCES, "satirizing")
    assert label_set(FIVE, LabelSet.SIDED) == ("asserting", "disputing")


@pytest.mark.parametrize("labels", [LABELS, STANCES, FIVE])
def test_the_answer_model_takes_exactly_the_models_labels(labels):
    model = response_model(StanceResult, labels)
    schema = model.model_json_schema()
    assert schema["properties"]["label"]["enum"] == list(labels)
    assert list(schema["$defs"]["Scores"]["properties"]) == list(labels)
    assert schema["$defs"]["Evidence"]["properties"]["label"]["enum"] == list(labels)
    model.model_validate(asdict(result(labels)))
    with pytest.raises(pydantic.ValidationError, match="label"):
        model.model_validate(asdict(result(labels)) | {"label": "sarcastic"})
    with pytest.raises(pydantic.ValidationError, match="scores"):
        model.model_validate(asdict(result(labels)) | {"scores": {labels[0]: 1.0}})


def test_field_descriptions_and_bounds_come_from_the_dataclass():
    properties = response_model(StanceResult, LABELS).model_json_schema()["properties"]
    assert "Model-store tag" in properties["model"]["description"]
    assert properties["relevance"]["anyOf"][0] == {"maximum": 1.0, "minimum": 0.0, "type": "number"}


def test_fields_given_first_come_before_the_dataclasses():
    model = response_model(StanceResult, LABELS, id=(str | None, None))
    assert list(model.model_fields)[:2] == ["id", "label"]


def test_the_summary_model_ranges_over_stances_and_sides():
    schema = response_model(TrackedClaim, FIVE).model_json_schema()["$defs"]
    assert list(schema["StanceCounts"]["properties"]) == [*STANCES, "satirizing"]
    assert list(schema["Strongest"]["properties"]) == ["asserting", "disputing"]
    assert schema["SourceSummary"]["properties"]["prevailing"]["anyOf"][0]["enum"] == [*STANCES, "satirizing"]


def test_a_record_reads_back_into_the_dataclass_it_came_from():
    original = result()
    record = asdict(original) | {"evidence": [asdict(original.evidence[0]) | {"field": "title"}]}
    assert from_record(StanceResult, record) == original


def test_a_field_added_to_a_contract_appears_in_its_model():
    """What adding `model_version` to the answer would do: one edit to the dataclass, and every derived type
    has it."""

    @dataclass(frozen=True, kw_only=True)
    class Versioned(StanceResult):
        model_version: Annotated[str, pydantic.Field(description="The model's version.")] = "1"
        reviewed: Annotated[str, OneLabel(LabelSet.SIDED)] | None = None
        votes: Annotated[dict[str, int], PerLabel("Votes", LabelSet.STANCES)]

    schema = response_model(Versioned, LABELS).model_json_schema()
    assert schema["properties"]["model_version"]["description"] == "The model's version."
    assert list(schema["$defs"]["Votes"]["properties"]) == list(STANCES)
    assert schema["properties"]["reviewed"]["anyOf"][0]["enum"] == ["asserting", "disputing"]
