"""The one home of the label names this project trains with, and of the dataset names that map onto them.

A trained model owns its label list (`id2label` in its config.json, see models/model_config.py): everything
that scores, serves or evaluates reads the labels from the model, never from here. This module says which
names exist, in which order a new model lists them, and which one means "not about the claim".
"""

from __future__ import annotations

from collections.abc import Iterable

STANCES: tuple[str, ...] = ("asserting", "disputing", "reporting")
"""The three ways a text that is about the claim can stand toward it."""

ASSERTING = "asserting"
"""The text presents the claim as true."""

DISPUTING = "disputing"
"""The rarest stance, and the one the claim–evidence corpora are trained for."""

SIDED_STANCES: tuple[str, ...] = (ASSERTING, DISPUTING)
"""The stances that take a side: a claim tracker shows the strongest evidence of each."""

UNRELATED = "unrelated"
"""The outcome for a text that is not about the claim (FNC-1/ARC `unrelated` pairs)."""

LABELS: tuple[str, ...] = (*STANCES, UNRELATED)
"""Every label a claimstance model may have, in the order a new model lists those it is trained on."""

LABEL_ALIASES: dict[str, str] = {
    **{label: label for label in LABELS},
    # Emergent (Ferreira & Vlachos 2016)
    "for": "asserting",
    "against": "disputing",
    "observing": "reporting",
    # FNC-1 and ARC
    "agree": "asserting",
    "disagree": "disputing",
    "discuss": "reporting",
}
"""Every label name a data file may use, mapped per ../shared/data/README.md."""


def normalize_label(name: str) -> str:
    """Map a dataset's label name onto our schema; raise ValueError for anything else."""
    key = name.strip().lower()
    if key not in LABEL_ALIASES:
        known = ", ".join(sorted(LABEL_ALIASES))
        raise ValueError(f"unknown label {name!r} (expected one of: {known})")
    return LABEL_ALIASES[key]


def label_set(names: Iterable[str]) -> tuple[str, ...]:
    """The labels a model trained on `names` gets, in the canonical order: a model trained without unrelated
    pairs has the three stances, one trained with them has four."""
    present = set(names)
    if unknown := present - set(LABELS):
        raise ValueError(f"unknown labels {sorted(unknown)} (expected some of: {', '.join(LABELS)})")
    return tuple(label for label in LABELS if label in present)
