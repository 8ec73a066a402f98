"""Turning stance examples into model inputs, the same way the predictor does at inference time."""

from __future__ import annotations

from datasets import Dataset
from transformers import PreTrainedTokenizerBase

from models.encoding import encode_pairs, fit_texts
from models.labels import SIDED_STANCES


def tokenize(
    dataset: Dataset,
    tokenizer: PreTrainedTokenizerBase,
    max_length: int,
    label2id: dict[str, int],
    side_task_sources: frozenset[str] = frozenset(),
) -> Dataset:
    """Fit long texts to the window (claim-bearing passages) and encode; each label name becomes the model's
    output index for it (`labels`). A pair of `side_task_sources` is marked for the two-way claim–evidence task
    instead: its target is len(label2id) plus its side's place in SIDED_STANCES (training/losses.py reads it)."""

    def target(label: str, source: str) -> int:
        return len(label2id) + SIDED_STANCES.index(label) if source in side_task_sources else label2id[label]

    def encode(batch: dict) -> dict:
        texts, _ = fit_texts(tokenizer, batch["claim"], batch["text"], max_length)
        encoded = encode_pairs(tokenizer, batch["claim"], texts, max_length)
        targets = [target(label, source) for label, source in zip(batch["label"], batch["source"], strict=True)]
        return {**encoded, "labels": targets}

    return dataset.map(encode, batched=True, remove_columns=dataset.column_names, desc="Encoding pairs")
