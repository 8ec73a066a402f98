"""Turning stance examples into model inputs, the same way the predictor does at inference time."""

from __future__ import annotations

from datasets import Dataset
from transformers import PreTrainedTokenizerBase

from models.encoding import encode_pairs, fit_texts


def tokenize(
    dataset: Dataset, tokenizer: PreTrainedTokenizerBase, max_length: int, label2id: dict[str, int]
) -> Dataset:
    """Fit long texts to the window (claim-bearing passages) and encode; each label name becomes the model's
    output index for it (`labels`)."""

    def encode(batch: dict) -> dict:
        texts, _ = fit_texts(tokenizer, batch["claim"], batch["text"], max_length)
        encoded = encode_pairs(tokenizer, batch["claim"], texts, max_length)
        return {**encoded, "labels": [label2id[label] for label in batch["label"]]}

    return dataset.map(encode, batched=True, remove_columns=dataset.column_names, desc="Encoding pairs")
