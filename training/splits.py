"""Which pairs a model trains and validates on: split by claim, optional caps, rebuilt for a saved model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from datasets import Dataset
from transformers import AutoTokenizer

from models.encoding import ClaimLimit
from models.labels import UNRELATED
from models.model_config import read_model_info
from models.sources import NEWS_SOURCES
from models.training_record import saved_training_config
from training.claim_evidence import read_claim_evidence, within_claim_limit
from training.config import RECIPES, ClaimEvidenceDesign, TrainConfig
from training.counterfactual import with_counterfactuals
from training.data import load_corpus, merge, mismatched_pairs, split_by_group, to_dataset
from training.user_data import load_user_file

AUX_SOURCES = ("fnc1", "arc")
MISMATCHED_SOURCES = ("emergent",)
"""Sources whose claims get unrelated pairs made from other claims' texts (they have none of their own)."""


def subsample(
    dataset: Dataset,
    limit: int,
    seed: int,
    sources: tuple[str, ...] | None = None,
    unrelated: bool | None = None,
    balanced: bool = False,
) -> Dataset:
    """Keep at most `limit` rows of the given sources (all if None) that are, or are not, `unrelated` pairs (either
    if None), chosen at random (`balanced`: an equal share per label, see `balanced_draw`); every other row stays,
    in its order."""
    if not limit:
        return dataset
    labels = dataset["label"]
    capped = [
        i
        for i, (source, label) in enumerate(zip(dataset["source"], labels, strict=True))
        if (sources is None or source in sources) and (unrelated is None or (label == UNRELATED) == unrelated)
    ]
    if len(capped) <= limit:
        return dataset
    rng = np.random.default_rng(seed)
    if balanced:
        by_label: dict[str, list[int]] = {}
        for i in capped:
            by_label.setdefault(labels[i], []).append(i)
        kept = balanced_draw(dict(sorted(by_label.items())), limit, rng)
    else:
        kept = rng.choice(capped, size=limit, replace=False).tolist()
    dropped = set(capped) - set(kept)
    return dataset.select([i for i in range(len(dataset)) if i not in dropped])


def balanced_draw(by_label: dict[str, list[int]], limit: int, rng: np.random.Generator) -> list[int]:
    """`limit` of the rows, an equal share from each label at random; a label with fewer rows than its share gives
    them all and leaves the rest to the others. FNC-1 and ARC hold few disputes (6% of FNC-1's related pairs): a
    uniform draw under a cap keeps the model from seeing most of them, where a class weight only repeats those few."""
    kept: list[int] = []
    remaining = limit
    groups = sorted(by_label.values(), key=len)
    for k, rows in enumerate(groups):
        take = min(len(rows), remaining // (len(groups) - k))
        kept += rng.choice(rows, size=take, replace=False).tolist()
        remaining -= take
    return kept


def with_relevance(dataset: Dataset, config: TrainConfig, seed: int) -> Dataset:
    """The split with the unrelated pairs the recipe asks for: mismatched claims and texts of the sources that
    have no unrelated pairs of their own, or, for a three-stance model, no unrelated pair at all."""
    if not config.relevance:
        return dataset.filter(lambda row: row["label"] != UNRELATED)
    own = dataset.filter(lambda row: row["source"] in MISMATCHED_SOURCES)
    return merge([dataset, mismatched_pairs(own, config.mismatched_per_claim, seed)]) if len(own) else dataset


def build_splits(config: TrainConfig) -> tuple[Dataset, Dataset]:
    corpus_sources = [s for s in config.source_list if s in NEWS_SOURCES]
    pools = [load_corpus(config.data_dir, tuple(corpus_sources)).train_pool] if corpus_sources else []
    pools += [load_user_file(Path(f)) for f in config.train_files]
    if not pools:
        raise SystemExit("nothing to train on: give --sources and/or --train_files")
    train, validation = split_by_group(merge(pools), config.validation_fraction, config.seed)
    train = with_relevance(train, config, config.seed)
    validation = with_relevance(validation, config, config.seed + 1)
    train = subsample(
        train, config.max_fnc_arc_pairs, config.seed, AUX_SOURCES, unrelated=False, balanced=config.balance_aux_labels
    )
    train = subsample(train, config.max_unrelated_pairs, config.seed, AUX_SOURCES, unrelated=True)
    validation = subsample(validation, config.max_validation_pairs, config.seed, AUX_SOURCES, unrelated=False)
    validation = subsample(validation, config.max_validation_unrelated, config.seed, AUX_SOURCES, unrelated=True)
    claim_evidence_train, claim_evidence_validation = claim_evidence_splits(config)
    train = with_counterfactuals(
        merge([train, *claim_evidence_train]), config.negated_claims, config.attributed_evidence
    )
    return train, by_length(merge([validation, *claim_evidence_validation]))


def claim_evidence_splits(
    config: TrainConfig, sources: tuple[str, ...] | None = None
) -> tuple[list[Dataset], list[Dataset]]:
    """The claim–evidence corpora's training and validation pairs: the validation claims held out of each corpus's
    training part by the model's seed, as the news claims are; each corpus capped, evenly across its two labels, so
    that FEVER's thousands do not drown the smaller corpora (empty lists when the recipe uses none). `sources`:
    other corpora than the recipe's (evaluation compares every model on all of them)."""
    sources = config.claim_evidence_list if sources is None else sources
    frame, _ = read_claim_evidence(config.data_dir, sources)
    if frame.empty:
        return [], []
    frame = within_claim_limit(frame, ClaimLimit(AutoTokenizer.from_pretrained(config.base_model), config.max_length))
    train, validation = split_by_group(to_dataset(frame), config.validation_fraction, config.seed)
    for source in sources:
        train = subsample(train, config.max_claim_evidence_pairs, config.seed, (source,), balanced=True)
        validation = subsample(validation, config.max_claim_evidence_validation, config.seed, (source,), balanced=True)
    return [train], [validation]


def by_length(dataset: Dataset) -> Dataset:
    """Shortest pairs first: evaluation keeps this order, so each batch pads only to near its own length."""
    return dataset.select(np.argsort([len(c) + len(t) for c, t in zip(dataset["claim"], dataset["text"], strict=True)]))


FORMER_FLAGS = {"max_aux_pairs": "max_fnc_arc_pairs"}
"""Training flags renamed: a model saved under the former name is read under the new one."""


def saved_config(model_dir: Path, data_dir: str, relevance: bool | None = None) -> TrainConfig:
    """The training config saved with a model, reading the corpora from `data_dir`.

    Settings a model saved before they existed take their recipe's values. Whether its pairs hold unrelated ones
    follows the model's labels (a model saved before relevance existed has three), unless `relevance` says
    otherwise: baselines that need unrelated pairs ask for them.
    """
    saved = saved_training_config(model_dir)
    for former, name in FORMER_FLAGS.items():
        if former in saved:
            saved.setdefault(name, saved.pop(former))
    if relevance is None:
        relevance = read_model_info(model_dir).has_relevance
    recipe = RECIPES.get(str(saved.get("recipe", "default")), {})
    if saved and "claim_evidence_design" not in saved:  # saved before the claim–evidence corpora: it used none
        saved["claim_evidence_design"] = ClaimEvidenceDesign.NONE
    for flag in ("negated_claims", "attributed_evidence"):  # saved before the counterfactual pairs: it had none
        if saved:
            saved.setdefault(flag, False)
    return TrainConfig(**{**recipe, **saved, "data_dir": data_dir, "relevance": relevance})


def model_splits(model_dir: Path, data_dir: str, relevance: bool | None = None) -> tuple[Dataset, Dataset]:
    """A saved model's own training and validation pairs, rebuilt from the training config saved with it."""
    return build_splits(saved_config(model_dir, data_dir, relevance))
