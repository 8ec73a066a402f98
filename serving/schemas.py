"""Request and response bodies of the HTTP API, with every limit checked by pydantic.

A bad request is answered 400 with the field and the limit in pydantic's error list; the limits
come from the service settings (CLAIMSTANCE_* variables). The response body is built for the served
model's labels (`result_schema`), so the OpenAPI document lists exactly the labels the model answers with.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr, create_model

from models.evidence import Field as EvidenceField
from models.labels import STANCES, UNRELATED
from models.result import ScoredPairs
from models.settings import MAX_CLAIM_TOKENS
from models.visible import has_visible_character, visible_character_pattern
from serving.settings import SETTINGS

VISIBLE = visible_character_pattern()
"""The JSON schema's pattern of what `visible` checks: at least one character that is not whitespace, a control
or a format character (models/visible.py)."""


def visible(value: str) -> str:
    if not has_visible_character(value):
        raise ValueError("must have a visible character: not only whitespace, control or zero-width characters")
    return value


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
    "article-17": dict(zip((*STANCES, UNRELATED), (0.06, 0.83, 0.09, 0.02), strict=True)),
    "article-18": dict(zip((*STANCES, UNRELATED), (0.01, 0.01, 0.02, 0.96), strict=True)),
}
"""Made-up probabilities of the two example pairs: the first text disputes the claim, the second is off it."""
EXAMPLE_TEXTS = {pair["id"]: pair["text"] for pair in (EXAMPLE_PAIR, UNRELATED_PAIR)}
EXAMPLE_MODEL = "claimstance:3neckkhftsxzkax4"


ClaimText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=SETTINGS.max_claim_chars,
        description=f"Also at most {MAX_CLAIM_TOKENS} tokens of the model's tokenizer (a limit JSON Schema cannot "
        "state): a longer claim is refused with 400, never cut.",
        json_schema_extra={"pattern": VISIBLE},
    ),
    AfterValidator(visible),
]
Text = Annotated[
    str,
    Field(min_length=1, max_length=SETTINGS.max_text_chars, json_schema_extra={"pattern": VISIBLE}),
    AfterValidator(visible),
]
TitleText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=SETTINGS.max_title_chars,
        description="The text's headline, if it has one: read as one more sentence, before the text.",
        json_schema_extra={"pattern": VISIBLE},
    ),
    AfterValidator(visible),
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


PairList = Annotated[
    list[StancePair],
    Field(min_length=1, max_length=SETTINGS.max_pairs, json_schema_extra={"example": [EXAMPLE_PAIR, UNRELATED_PAIR]}),
]


def example_result(labels: Sequence[str], pair_id: str) -> dict:
    """A made-up answer in the shape the model gives (its labels, scores that sum to 1, relevance if it has one),
    labelled by the same rule as real answers."""
    probabilities = np.array([[EXAMPLE_SCORES[pair_id][label] for label in labels]])
    [result] = ScoredPairs(tuple(labels), probabilities / probabilities.sum(), [False]).results()
    rounded = {label: round(value, 2) for label, value in result.scores.items()}
    relevance = None if result.relevance is None else round(result.relevance, 2)
    text = EXAMPLE_TEXTS[pair_id]
    sentence = {
        "text": text,
        "start": 0,
        "end": len(text),
        "label": result.label,
        "scores": rounded,
        "field": str(EvidenceField.TEXT),
    }
    return {"id": pair_id, "label": result.label, "scores": rounded, "relevance": relevance, "text_reduced": False,
            "model": EXAMPLE_MODEL, "evidence": [sentence]}  # fmt: skip


def result_schema(labels: Sequence[str]) -> type[BaseModel]:
    """The answer for one pair under a model with these labels: `label` is one of them, and `scores` has one
    probability per label, in the model's order."""
    scores = create_model(
        "Scores",
        __config__=ConfigDict(extra="forbid"),
        **{label: (float, Field(ge=0.0, le=1.0)) for label in labels},
    )
    evidence = create_model(
        "Evidence",
        __config__=ConfigDict(extra="forbid"),
        text=(str, Field(description="The sentence, exactly as it stands in the field it comes from.")),
        start=(int, Field(ge=0, description="Offset of its first character in that field (Python string index).")),
        end=(int, Field(ge=0, description="Offset just past its last character: field[start:end] is the sentence.")),
        field=(
            Literal[tuple(map(str, EvidenceField))],
            Field(description="The field of the request the sentence comes from."),
        ),
        label=(Literal[tuple(labels)], Field(description="The model's answer for this sentence alone.")),
        scores=(scores, Field(description="Calibrated probability of each label for this sentence alone.")),
    )
    example = example_result(labels, UNRELATED_PAIR["id"] if UNRELATED in labels else EXAMPLE_PAIR["id"])
    relevance_help = (
        "Probability that the text is about the claim (1 - the probability of `unrelated`); a text under 0.5 is "
        "`unrelated`."
        if UNRELATED in labels
        else "Always null: this model has no `unrelated` label, so it cannot tell whether a text is about the claim."
    )
    return create_model(
        "StanceResult",
        # BentoML's OpenAPI schema takes one `example`, not pydantic's `examples` list.
        __config__=ConfigDict(json_schema_extra={"example": example}),
        id=(str | int | None, None),
        label=(Literal[tuple(labels)], Field(description=f"One of the model's labels: {', '.join(labels)}.")),
        scores=(scores, Field(description="Calibrated probability of each label; they sum to 1.")),
        relevance=(float | None, Field(ge=0.0, le=1.0, description=relevance_help)),
        text_reduced=(
            bool,
            Field(
                description="The text was longer than the model's window: the answer read its first tokens (the "
                "evidence reads its sentences nearest the claim, wherever they are)."
            ),
        ),
        model=(str, Field(description="Model-store tag (name:version) of the model that answered.")),
        evidence=(
            list[evidence],
            Field(
                description="The sentences the answer rests on, the one that bears most on it first; for a "
                "one-sentence text, that sentence."
            ),
        ),
    )
