"""Counterfactual training pairs: what teaches the model to answer the relation between claim and text, not the cue
words of the text.

- A related pair seen again with its claim negated (training/negation.py) and its label swapped: a text that asserts
  a claim disputes its negation and the other way round; a text that only reports the claim only reports its
  negation, and stays `reporting`.
- A claim–evidence pair that takes a side seen again with its evidence attributed to a source ("Officials said
  that ...", "According to researchers, ..."), its label kept: a refutation stays a refutation when someone is quoted
  saying it. `reporting` stays for texts that attribute the claim itself without taking a side (the news corpora's
  own `reporting` pairs, untouched here).
"""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass, field

from datasets import Dataset

from models.labels import ASSERTING, DISPUTING, SIDED_STANCES, UNRELATED
from models.sources import CLAIM_EVIDENCE_SOURCES
from training.data import merge
from training.negation import negate

SWAPPED = {ASSERTING: DISPUTING, DISPUTING: ASSERTING}
"""The label a pair takes when its claim is negated; any other label stays."""

SPEAKERS = (
    "officials", "a spokesperson", "the ministry", "researchers", "U.S. officials", "the agency", "scientists",
    "police", "the company", "experts", "a government statement", "the study's authors",
)  # fmt: skip
ATTRIBUTIONS = (
    "{Speaker} said that {text}",
    "According to {speaker}, {text}",
    "{sentence}, {speaker} said.",
    "{Speaker} say {text}",
)
"""How a text is put in someone's mouth; chosen, with the speaker, by the pair's own hash."""
LOWERED_OPENERS = frozenset("the a an this that these those it its there some most many our their".split())
"""Openers lowered inside a sentence ("... said that the vaccine ..."); any other first word (a name) keeps its case."""


def swapped_label(label: str) -> str:
    return SWAPPED.get(label, label)


@dataclass
class NegatedClaims:
    """The counterfactual pairs of a training set, and what the rules could not negate."""

    pairs: Dataset
    claims: int = 0
    """Distinct claims of related pairs."""
    left_out: int = 0
    """Of those, claims with no rule to negate them (their pairs get no counterfactual)."""
    by_rule: Counter = field(default_factory=Counter)
    """Negated claims by the rule that wrote them."""


def negated_claims(dataset: Dataset) -> NegatedClaims:
    """Each related pair with its claim negated and its label swapped (reporting kept); unrelated pairs have no
    stance to swap and give none."""
    negations = {claim: negate(claim) for claim in set(dataset["claim"])}
    related = [i for i, label in enumerate(dataset["label"]) if label != UNRELATED]
    kept = [i for i in related if negations[dataset[i]["claim"]] is not None]
    pairs = dataset.select(kept).map(
        lambda row: {"claim": negations[row["claim"]].claim, "label": swapped_label(row["label"])},
        desc="Negating claims",
    )
    claims = {dataset[i]["claim"] for i in related}
    rules = Counter(negations[c].rule for c in claims if negations[c] is not None)
    return NegatedClaims(pairs, len(claims), sum(negations[c] is None for c in claims), rules)


def attributed(text: str, key: str) -> str:
    """`text` put in a speaker's mouth, the template and speaker chosen by `key`'s hash (the same pair, the same
    wording)."""
    digest = zlib.crc32(key.encode())
    speaker = SPEAKERS[digest % len(SPEAKERS)]
    template = ATTRIBUTIONS[(digest // len(SPEAKERS)) % len(ATTRIBUTIONS)]
    text = text.strip()
    first, _, rest = text.partition(" ")
    inner = (first.lower() + (" " + rest if rest else "")) if first.lower() in LOWERED_OPENERS else text
    if template.startswith("{Speaker} say ") and speaker[0].islower() and not speaker.endswith("s"):
        template = "{Speaker} says {text}"  # one speaker says, several say
    return template.format(
        Speaker=speaker[0].upper() + speaker[1:],
        speaker=speaker,
        text=inner,
        sentence=text.rstrip(".!?"),
    )


def attributed_evidence(dataset: Dataset) -> Dataset:
    """Each claim–evidence pair that takes a side, its text attributed to a speaker, its label kept."""
    sided = [
        i
        for i, (source, label) in enumerate(zip(dataset["source"], dataset["label"], strict=True))
        if source in CLAIM_EVIDENCE_SOURCES and label in SIDED_STANCES
    ]
    return dataset.select(sided).map(
        lambda row: {"text": attributed(row["text"], row["claim"] + row["text"])}, desc="Attributing evidence"
    )


def with_counterfactuals(train: Dataset, negate_claims: bool, attribute_evidence: bool) -> Dataset:
    """The training pairs and, as asked, their counterfactuals: attributed evidence first, then every related pair
    (the attributed ones too) with its claim negated."""
    if attribute_evidence:
        train = merge([train, attributed_evidence(train)])
    if negate_claims:
        train = merge([train, negated_claims(train).pairs])
    return train
