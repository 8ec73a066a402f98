"""Request and response bodies of the HTTP API, with every limit checked by pydantic.

A bad request is answered 400 with the field and the limit in pydantic's error list; the limits
come from the service settings (CLAIMSTANCE_* variables). The response body is built for the served
model's labels (`result_schema`), so the OpenAPI document lists exactly the labels the model answers with.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr

from models.blank_text import is_blank, not_blank_pattern
from models.contract import response_model
from models.defaults import MAX_CLAIM_TOKENS
from models.evidence import Evidence
from models.evidence import Field as EvidenceField
from models.labels import DISPUTING, UNRELATED
from models.pair import Pair
from models.result import ScoredPairs, StanceResult
from serving.settings import SETTINGS

NOT_BLANK = not_blank_pattern()
"""The JSON schema's pattern of what `not_blank` checks: at least one character that is not whitespace, a control
or a format character (models/blank_text.py)."""


def not_blank(value: str) -> str:
    if is_blank(value):
        raise ValueError("must have a visible character: not only whitespace, control or zero-width characters")
    return value


def no_nul(value: str) -> str:
    """A NUL character has no place in a text, and PostgreSQL cannot store one: refused, by field, at once."""
    if "\x00" in value:
        raise ValueError("must not hold a NUL character (U+0000)")
    return value


NO_NUL = {"not": {"pattern": "\u0000"}}
"""The JSON schema of `no_nul`, beside a field's own pattern."""


WITHOUT_NUL = "^[^\u0000]*$"


def plain_string(max_length: int) -> Any:
    """A string of 1 to `max_length` characters, without NUL (`no_nul`, as a pattern): an id, a source, a tag, a URL."""
    return Annotated[StrictStr, Field(min_length=1, max_length=max_length, pattern=WITHOUT_NUL)]


CLAIM_EXAMPLE = "Russia's airstrikes in Syria are targeting the Islamic State group"
EXAMPLE_PAIR = {
    "claim": CLAIM_EXAMPLE,
    "text": "US officials say most Russian strikes hit rebels, not Islamic State fighters.",
    "id": "article-17",
}
UNRELATED_PAIR = {
    "claim": CLAIM_EXAMPLE,
    "text": "The city council approved a new bicycle lane along the river on Tuesday.",
    "id": "article-18",
}
EXAMPLE_SCORES = {
    "article-17": {"asserting": 0.06, DISPUTING: 0.83, "reporting": 0.09, UNRELATED: 0.02},
    "article-18": {"asserting": 0.01, DISPUTING: 0.01, "reporting": 0.02, UNRELATED: 0.96},
}
"""Made-up probabilities of the two example pairs: the first text disputes the claim, the second is off it. A label
not named here (a model's own) gets OTHER_LABEL_SCORE before the scores are made to sum to 1."""
OTHER_LABEL_SCORE = 0.01
EXAMPLE_TEXTS = {pair["id"]: pair["text"] for pair in (EXAMPLE_PAIR, UNRELATED_PAIR)}
EXAMPLE_MODEL = "claimstance:3neckkhftsxzkax4"


def prose_string(max_length: int) -> Any:
    """A string the model reads: 1 to `max_length` characters, not blank (`not_blank`), no NUL."""
    return Annotated[
        str,
        Field(min_length=1, max_length=max_length, json_schema_extra={"pattern": NOT_BLANK, **NO_NUL}),
        AfterValidator(not_blank),
        AfterValidator(no_nul),
    ]


ClaimText = Annotated[
    prose_string(SETTINGS.max_claim_chars),
    Field(
        description=f"Also at most {MAX_CLAIM_TOKENS} tokens of the model's tokenizer (a limit JSON Schema cannot "
        "state): a longer claim is refused with 400, never cut."
    ),
]
Text = prose_string(SETTINGS.max_text_chars)
TitleText = Annotated[
    prose_string(SETTINGS.max_title_chars),
    Field(description="The text's headline, if it has one: read as one more sentence, before the text."),
]


PairId = Annotated[
    Annotated[StrictStr, Field(max_length=SETTINGS.max_id_chars)] | StrictInt,
    Field(description="The caller's id, echoed back."),
]
"""Strict: lax mode reads `false` as 0, which the schema does not allow. Bounded: it is echoed in every answer."""


class StancePair(BaseModel):
    """One (claim, text) pair; `id` is anything of the caller's, echoed back."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": EXAMPLE_PAIR})

    claim: ClaimText
    text: Text
    title: TitleText | None = None
    id: PairId | None = None

    def pair(self) -> Pair:
        return Pair(self.claim, self.text, self.title)


PairList = Annotated[
    list[StancePair],
    Field(min_length=1, max_length=SETTINGS.max_pairs, json_schema_extra={"example": [EXAMPLE_PAIR, UNRELATED_PAIR]}),
]


def example_result(labels: Sequence[str], pair_id: str) -> dict:
    """A made-up answer in the shape the model gives (its labels, scores that sum to 1, relevance if it has one),
    labelled by the same rule as real answers, as JSON values."""
    probabilities = np.array([[EXAMPLE_SCORES[pair_id].get(label, OTHER_LABEL_SCORE) for label in labels]])
    probabilities = (probabilities / probabilities.sum()).round(2)
    [result] = ScoredPairs(tuple(labels), probabilities, [False]).results(EXAMPLE_MODEL)
    text = EXAMPLE_TEXTS[pair_id]
    sentence = Evidence(
        text=text, start=0, end=len(text), label=result.label, scores=result.scores, field=EvidenceField.TEXT
    )
    return json_values({"id": pair_id, **asdict(replace(result, evidence=(sentence,)))})


def json_values(value: object) -> dict:
    """Plain JSON values (an evidence's `field` is a str enum), as the OpenAPI example shows them, with its
    numbers short."""
    return json.loads(json.dumps(value), parse_float=lambda number: round(float(number), 4))


def result_schema(labels: Sequence[str]) -> type[BaseModel]:
    """The answer for one pair under a model with these labels (models/result.py: StanceResult), with the
    caller's `id`."""
    example = example_result(labels, UNRELATED_PAIR["id"] if UNRELATED in labels else EXAMPLE_PAIR["id"])
    return response_model(StanceResult, labels, example, id=(str | int | None, None))
