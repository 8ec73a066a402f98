"""Whether the answer follows the claim: the polarity probe, on validation claims only.

Each validation claim that has pairs beside its negation (training/negation.py: rules and a hand-checked set), with
the same texts: a text that asserts the claim disputes its negation and the other way round, so the gold asserting
and disputing swap; reporting and unrelated stay. A model that reads the relation between claim and text answers the
negated pairs about as well as the originals, and flips its side with the claim; a model that answers the text's
cue words ("not", "denied") keeps its side whatever the claim says.

Measured: accuracy on the originals and on the negated pairs; of the pairs whose gold takes a side, the share whose
answer flips with the claim (a side on the original, the other side on the negation) and the share that keeps the
same side for a claim and its negation. Claims no rule can negate are left out and counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from datasets import Dataset

from models.labels import SIDED_STANCES
from models.sources import NEWS_SOURCES
from training.counterfactual import swapped_label
from training.negation import negate

Labeller = Callable[[list[str], list[str]], list[str]]
"""The labels a system gives (claims, texts)."""


@dataclass(frozen=True)
class PolarityProbe:
    claims: list[str]
    negated_claims: list[str]
    texts: list[str]
    labels: list[str]
    """Gold of each original pair; the negated pair's gold is its swap (training/counterfactual.py)."""
    sources: list[str]
    rules: list[str]
    related_claims: int
    """Distinct claims of the set (news sources) before any was left out."""
    left_out: int
    """Of those, claims no rule could negate."""

    def __len__(self) -> int:
        return len(self.claims)

    @property
    def negated_labels(self) -> list[str]:
        return [swapped_label(label) for label in self.labels]


def polarity_probe(validation: Dataset) -> PolarityProbe:
    """The probe of a model's validation pairs (news sources; every label, unrelated ones too)."""
    news = validation.filter(lambda row: row["source"] in NEWS_SOURCES)
    negations = {claim: negate(claim) for claim in set(news["claim"])}
    kept = [i for i, claim in enumerate(news["claim"]) if negations[claim] is not None]
    pairs = news.select(kept)
    return PolarityProbe(
        claims=pairs["claim"],
        negated_claims=[negations[c].claim for c in pairs["claim"]],
        texts=pairs["text"],
        labels=pairs["label"],
        sources=pairs["source"],
        rules=[str(negations[c].rule) for c in pairs["claim"]],
        related_claims=len(negations),
        left_out=sum(n is None for n in negations.values()),
    )


@dataclass
class PolarityFigures:
    pairs: int
    sided_pairs: int
    """Pairs whose gold takes a side: where a flip is asked for."""
    accuracy: float
    """On the original pairs."""
    negated_accuracy: float
    flipped: float
    """Of the sided pairs, the share answered with a side on the original and the other side on the negation."""
    same_side: float
    """Of the sided pairs, the share answered with the same side for a claim and its negation."""
    claims: int = 0
    left_out: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def of(cls, probe_labels: list[str], original: list[str], negated: list[str]) -> PolarityFigures:
        truth, original, negated = np.asarray(probe_labels), np.asarray(original), np.asarray(negated)
        swapped_truth = np.asarray([swapped_label(label) for label in truth])
        sided = np.isin(truth, SIDED_STANCES)
        took_side = np.isin(original, SIDED_STANCES) & np.isin(negated, SIDED_STANCES)
        flipped = took_side & (negated == np.asarray([swapped_label(label) for label in original]))
        same = took_side & (negated == original)
        share = (lambda mask: float(mask[sided].mean())) if sided.any() else (lambda mask: float("nan"))
        return cls(
            pairs=len(truth),
            sided_pairs=int(sided.sum()),
            accuracy=float(np.mean(original == truth)) if len(truth) else float("nan"),
            negated_accuracy=float(np.mean(negated == swapped_truth)) if len(truth) else float("nan"),
            flipped=share(flipped),
            same_side=share(same),
        )


def probe_figures(probe: PolarityProbe, label: Labeller) -> PolarityFigures:
    """A system's figures on the probe, overall and per source."""
    original = label(probe.claims, probe.texts)
    negated = label(probe.negated_claims, probe.texts)
    figures = PolarityFigures.of(probe.labels, original, negated)
    figures.claims, figures.left_out = probe.related_claims, probe.left_out
    figures.by_rule = dict(Counter(probe.rules).most_common())
    sources = np.asarray(probe.sources)
    for source in sorted(set(probe.sources)):
        at = np.flatnonzero(sources == source)
        part = PolarityFigures.of([probe.labels[i] for i in at], [original[i] for i in at], [negated[i] for i in at])
        figures.by_source[source] = {
            key: getattr(part, key) for key in ("pairs", "accuracy", "negated_accuracy", "flipped", "same_side")
        }
    return figures
