"""Which pairs a model trains and validates on: split by claim, optional caps, rebuilt for a saved model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from datasets import Dataset

from models.model_config import TRAINING_INFO_FILE
from training.config import TrainConfig
from training.data import load_corpus, merge, split_by_group
from training.user_data import load_user_file

AUX_SOURCES = ("fnc1", "arc")


def subsample(dataset: Dataset, limit: int, seed: int, sources: tuple[str, ...] | None = None) -> Dataset:
    """Keep at most `limit` rows of the given sources (all sources if None), chosen at random."""
    if not limit:
        return dataset
    capped = [i for i, s in enumerate(dataset["source"]) if sources is None or s in sources]
    if len(capped) <= limit:
        return dataset
    dropped = set(capped) - set(np.random.default_rng(seed).choice(capped, size=limit, replace=False).tolist())
    return dataset.select([i for i in range(len(dataset)) if i not in dropped])


def build_splits(config: TrainConfig) -> tuple[Dataset, Dataset]:
    corpus_sources = [s for s in config.source_list if s in ("emergent", "fnc1", "arc")]
    pools = [load_corpus(config.data_dir, tuple(corpus_sources)).train_pool] if corpus_sources else []
    pools += [load_user_file(Path(f)) for f in config.train_files]
    if not pools:
        raise SystemExit("nothing to train on: give --sources and/or --train_files")
    train, validation = split_by_group(merge(pools), config.validation_fraction, config.seed)
    train = subsample(train, config.max_aux_pairs, config.seed, AUX_SOURCES)
    validation = subsample(validation, config.max_validation_pairs, config.seed, AUX_SOURCES)
    return train, by_length(validation)


def by_length(dataset: Dataset) -> Dataset:
    """Shortest pairs first: evaluation keeps this order, so each batch pads only to near its own length."""
    return dataset.select(np.argsort([len(c) + len(t) for c, t in zip(dataset["claim"], dataset["text"], strict=True)]))


def model_splits(model_dir: Path, data_dir: str) -> tuple[Dataset, Dataset]:
    """A saved model's own training and validation pairs, rebuilt from the training config saved with it."""
    info_file = Path(model_dir) / TRAINING_INFO_FILE
    saved = json.loads(info_file.read_text()).get("training_config") if info_file.exists() else None
    return build_splits(TrainConfig(**{**(saved or {}), "data_dir": data_dir}))
