"""The names of the corpora a model is trained and validated on, by what they are there for.

Names only: the readers live in training/ (training/data.py, training/claim_evidence.py), while evaluation and the
metrics that choose epochs need to know which validation sources are the served task.
"""

from __future__ import annotations

NEWS_SOURCES: tuple[str, ...] = ("emergent", "fnc1", "arc")
"""The news corpora: the served task, whose validation claims choose epochs, recipes and runtimes."""

CLAIM_EVIDENCE_SOURCES: tuple[str, ...] = (
    "fever",
    "climate_fever",
    "check_covid",
    "healthver",
    "ibm_claim_stance",
    "perspectrum",
)
"""The claim–evidence corpora (one claim against one sentence or perspective): learned from, scored on their
validation claims and held-out parts, never chosen on."""
