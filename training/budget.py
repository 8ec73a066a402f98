"""How long a recipe takes to train, computed from its size rather than timed: the tokens it reads (each training
pair's tokens up to the window, times the epochs, and a third of that for each validation pass, which runs forward
only) over the machine's training speed in tokens a second.

A step's time grows with the tokens in its batch (length-grouped batches pad little), so tokens, not pairs, are the
unit: an FNC-1 body fills the 128-token window where an Emergent headline pair takes about 30. The reference speed is
the one the reference machine (2 cores of an AMD EPYC) showed training the recipe before the counterfactual pairs: 45
minutes for its 3.19 million token-equivalents. `python -m training.budget --measure true` times a few steps of the
base model on the machine it runs on, for comparison. The default recipe must fit TIME_CAP_MINUTES on the reference
machine (tests/training/test_budget.py).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from datasets import Dataset
from transformers import AutoModelForSequenceClassification, AutoTokenizer, HfArgumentParser

from models.labels import LABELS
from training.config import TrainConfig, parse_config

log = logging.getLogger("claimstance.budget")

TIME_CAP_MINUTES = 25.0
"""The most the default recipe may take to train on the reference machine."""
REFERENCE_TOKENS_PER_SECOND = 1180.0
"""Training speed on the reference machine (2 cores of an AMD EPYC with AVX-512 BF16, bf16 autocast): the recipe
before the counterfactual pairs, 2.85 million training tokens and 1.03 million validation tokens (4 epochs), took 45
minutes there, everything but the export."""
VALIDATION_TOKEN_COST = 1 / 3
"""A validation token's cost against a training token's: forward alone, against forward and backward."""


@dataclass(frozen=True)
class TrainingSize:
    pairs: int
    epochs: float
    tokens: int
    """Tokens trained on over the whole run: each pair's, up to the window, times the epochs."""
    validation_tokens: int = 0
    """Tokens of the validation passes, one an epoch."""

    @property
    def cost(self) -> float:
        """Training-token equivalents."""
        return self.tokens + VALIDATION_TOKEN_COST * self.validation_tokens

    def minutes(self, tokens_per_second: float = REFERENCE_TOKENS_PER_SECOND) -> float:
        return self.cost / tokens_per_second / 60


def pair_tokens(train: Dataset, tokenizer, max_length: int) -> np.ndarray:
    """Each training pair's tokens as training reads it (claim and text, truncated to the window)."""
    encoded = tokenizer(list(train["claim"]), list(train["text"]), truncation="only_second", max_length=max_length)
    return np.array([len(ids) for ids in encoded["input_ids"]])


def training_size(train: Dataset, validation: Dataset, tokenizer, max_length: int, epochs: float) -> TrainingSize:
    trained = pair_tokens(train, tokenizer, max_length).sum() * epochs
    validated = pair_tokens(validation, tokenizer, max_length).sum() * np.ceil(epochs)
    return TrainingSize(len(train), epochs, int(trained), int(validated))


def recipe_size(config: TrainConfig) -> TrainingSize:
    """The size of a recipe's run on its data (the claim–evidence stage of `intermediate` counted in)."""
    from training.splits import build_splits

    train, validation = build_splits(config)
    tokenizer = AutoTokenizer.from_pretrained(config.base_model)
    size = training_size(train, validation, tokenizer, config.max_length, config.epochs)
    if config.claim_evidence_design == "intermediate":
        side = train.filter(lambda row: row["source"] in config.claim_evidence_list)
        extra = pair_tokens(side, tokenizer, config.max_length).sum() * config.claim_evidence_epochs
        size = TrainingSize(size.pairs, size.epochs, int(size.tokens + extra), size.validation_tokens)
    return size


def measured_tokens_per_second(config: TrainConfig, steps: int = 8, tokens: int = 128) -> float:
    """This machine's training speed: `steps` optimizer steps of the base model on full batches of `tokens`-token
    pairs, in the recipe's precision, after one step of warm-up."""
    torch.set_num_threads(config.num_threads or torch.get_num_threads())
    model = AutoModelForSequenceClassification.from_pretrained(config.base_model, num_labels=len(LABELS))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate)
    batch = {
        "input_ids": torch.randint(1000, 20000, (config.batch_size, tokens)),
        "attention_mask": torch.ones(config.batch_size, tokens, dtype=torch.long),
        "labels": torch.randint(0, len(LABELS), (config.batch_size,)),
    }
    model.train()

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.use_bf16):
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * config.batch_size * tokens / (time.perf_counter() - start)


@dataclass
class BudgetConfig:
    recipe: str = field(default="default", metadata={"help": "Recipe whose size is computed."})
    measure: bool = field(default=False, metadata={"help": "Also time this machine's training speed."})


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    (budget,) = HfArgumentParser(BudgetConfig).parse_args_into_dataclasses()
    config = parse_config(["--recipe", budget.recipe])
    size = recipe_size(config)
    print(
        f"recipe {budget.recipe}: {size.pairs} pairs, {size.epochs:g} epochs, {size.tokens:,} training and "
        f"{size.validation_tokens:,} validation tokens: "
        f"{size.minutes():.1f} min on the reference machine (cap {TIME_CAP_MINUTES:g})"
    )
    if budget.measure:
        speed = measured_tokens_per_second(config)
        print(f"this machine: {speed:.0f} tokens/s (reference {REFERENCE_TOKENS_PER_SECOND:.0f}): "
              f"{size.minutes(speed):.1f} min")  # fmt: skip


if __name__ == "__main__":
    main()
