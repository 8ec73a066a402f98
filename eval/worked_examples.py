"""Worked examples of the polarity the model must read, each with what its answer must (or must not) be: reported with
their scores beside the polarity probe, so a reader sees the cases the figures are about."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from models.labels import DISPUTING
from models.pair import Pair
from models.predictor import StancePredictor

HEADLINE = "U.S. military says Russia not hitting IS targets in Syria"


@dataclass(frozen=True)
class WorkedExample:
    claim: str
    text: str
    label: str
    is_label: bool
    """Whether the answer must be `label` (True) or anything but it (False)."""

    def holds(self, answer: str) -> bool:
        return (answer == self.label) == self.is_label

    @property
    def expectation(self) -> str:
        return self.label if self.is_label else f"not {self.label}"


WORKED_EXAMPLES = (
    WorkedExample("Russia's airstrikes in Syria are targeting the Islamic State group", HEADLINE, DISPUTING, True),
    WorkedExample(
        "Russian airstrikes in Syria are mainly hitting Western-backed rebels, not Islamic State", HEADLINE, DISPUTING,
        False,
    ),
    WorkedExample(
        "Russia's airstrikes in Syria are targeting the Islamic State group",
        "U.S. officials say the strikes hit Western-backed rebels, not ISIS.",
        DISPUTING,
        True,
    ),
)  # fmt: skip


def worked_examples(predictor: StancePredictor) -> list[dict]:
    """Each example with the model's answer, its scores and whether it is what the example asks."""
    answers = predictor.predict([Pair(example.claim, example.text) for example in WORKED_EXAMPLES])
    return [
        asdict(example)
        | {"expected": example.expectation, "answer": answer.label, "scores": answer.scores,
           "holds": example.holds(answer.label)}
        for example, answer in zip(WORKED_EXAMPLES, answers, strict=True)
    ]  # fmt: skip
