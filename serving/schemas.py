"""Request and response bodies of the HTTP API, with every limit checked by pydantic.

A bad request is answered 400 with the field and the limit in pydantic's error list; the limits
come from the service settings (CLAIMSTANCE_* variables).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from models.labels import LABELS
from serving.settings import SETTINGS


def not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only whitespace")
    return value


EXAMPLE_PAIR = {
    "claim": "Russia's airstrikes in Syria are targeting the Islamic State group",
    "text": "US officials say most Russian strikes hit rebels, not Islamic State fighters.",
    "id": "article-17",
}
EXAMPLE_RESULT = {
    "id": "article-17",
    "label": "disputing",
    "scores": {"asserting": 0.08, "disputing": 0.81, "reporting": 0.11},
    "text_reduced": False,
    "model": "claimstance:3neckkhftsxzkax4",
}


class StancePair(BaseModel):
    """One (claim, text) pair; `id` is anything of the caller's, echoed back."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": EXAMPLE_PAIR})

    claim: Annotated[str, Field(min_length=1, max_length=SETTINGS.max_claim_chars), AfterValidator(not_blank)]
    text: Annotated[str, Field(min_length=1, max_length=SETTINGS.max_text_chars), AfterValidator(not_blank)]
    id: str | int | None = None


PairList = Annotated[list[StancePair], Field(min_length=1, max_length=SETTINGS.max_pairs)]


class StanceResult(BaseModel):
    id: str | int | None = None
    label: Literal[LABELS]
    scores: dict[str, float] = Field(description="Calibrated probability of each label; they sum to 1.")
    text_reduced: bool = Field(
        description="The text was longer than the model's window: only its passages nearest the claim were read."
    )
    model: str = Field(description="Model-store tag (name:version) of the model that answered.")

    # BentoML's OpenAPI schema takes one `example`, not pydantic's `examples` list.
    model_config = ConfigDict(json_schema_extra={"example": EXAMPLE_RESULT})
