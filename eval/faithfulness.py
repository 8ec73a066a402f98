"""Whether the evidence shown is what the answer rests on, measured as the ERASER benchmark does (DeYoung et al.,
2020): *sufficiency*, the evidence alone sent as the text gives the document's label; *comprehensiveness*, the
text without its evidence loses that label. Each is reported as the share of texts where it holds (what the
targets name) and as ERASER's mean drop in the probability of the document's label (sufficiency: small is good;
comprehensiveness: large is good). Only texts of more than one sentence count: a one-sentence text is its own
evidence, so both tests are void for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.predictor import StancePredictor
from models.result import ScoredPairs
from models.sentences import sentence_spans


@dataclass(frozen=True)
class Faithfulness:
    texts: int
    """Texts of more than one sentence, the ones measured."""
    sufficiency: float
    """Share whose evidence alone, sent as the text, gets the document's label."""
    comprehensiveness: float
    """Share that get another label once their evidence is taken out (texts left empty count as losing it)."""
    sufficiency_drop: float
    """ERASER sufficiency: mean of P(label | text) - P(label | evidence alone)."""
    comprehensiveness_drop: float
    """ERASER comprehensiveness: mean of P(label | text) - P(label | text without its evidence)."""
    emptied: int
    """Texts that were all evidence: nothing was left to score without it."""


def evidence_alone(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """The evidence sentences in the order they stand in the text, one space apart."""
    return " ".join(text[start:end] for start, end in sorted(spans))


def without_evidence(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """The text with its evidence sentences cut out and everything else as it was."""
    kept, position = [], 0
    for start, end in sorted(spans):
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    return "".join(kept).strip()


def label_probability(scored: ScoredPairs, labels: Sequence[int]) -> np.ndarray:
    return scored.probabilities[np.arange(len(scored)), np.asarray(labels, dtype=int)]


def measure(
    predictor: StancePredictor, claims: Sequence[str], texts: Sequence[str], scored: ScoredPairs
) -> Faithfulness:
    """Sufficiency and comprehensiveness of `scored`'s evidence (the predictor's answers for these pairs)."""
    if scored.evidence is None:
        raise ValueError("these answers carry no evidence")
    multi = [i for i, text in enumerate(texts) if len(sentence_spans(text)) > 1]
    spans = {i: [(e.start, e.end) for e in scored.evidence[i]] for i in multi}
    remainders = {i: without_evidence(texts[i], spans[i]) for i in multi}
    kept = [i for i in multi if remainders[i]]
    alone = predictor.score([claims[i] for i in multi], [evidence_alone(texts[i], spans[i]) for i in multi])
    rest = predictor.score([claims[i] for i in kept], [remainders[i] for i in kept])
    document = scored.take(np.asarray(multi, dtype=int))
    labels = document.label_ids
    kept_labels = labels[[multi.index(i) for i in kept]] if kept else np.zeros(0, dtype=int)
    lost = np.concatenate([rest.label_ids != kept_labels, np.ones(len(multi) - len(kept), dtype=bool)])
    full_probability = label_probability(document, labels)
    rest_probability = np.zeros(len(multi))
    rest_probability[[multi.index(i) for i in kept]] = label_probability(rest, kept_labels) if kept else []
    return Faithfulness(
        texts=len(multi),
        sufficiency=float(np.mean(alone.label_ids == labels)) if multi else float("nan"),
        comprehensiveness=float(np.mean(lost)) if multi else float("nan"),
        sufficiency_drop=float(np.mean(full_probability - label_probability(alone, labels))) if multi else float("nan"),
        comprehensiveness_drop=float(np.mean(full_probability - rest_probability)) if multi else float("nan"),
        emptied=len(multi) - len(kept),
    )
