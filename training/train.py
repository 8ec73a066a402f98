"""Fine-tune the stance classifier: `python -m training.train [--recipe full] [--flag value ...]`.

Steps: load corpora, split by claim, fine-tune with evaluation each epoch keeping the checkpoint
with the best validation macro-F1 (mean over sources, so the small Emergent set counts as much as
FNC-1), fit a temperature on validation, save, export the int8 ONNX model (`training.export`), and register
in the BentoML model store.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from datasets import Dataset
from torch.utils.data import DataLoader
from transformers import (
    AutoTokenizer,
    DataCollatorWithPadding,
    ProgressCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)

from models.checkpoint import new_classifier, save_model
from models.command import exit_with
from models.labels import UNRELATED
from models.metrics import calibration_curve, label_calibration, score, source_macro_f1
from models.model_config import CONFIG_NAMESPACE, InferenceConfig
from models.predictor import StancePredictor, softmax
from models.registry import register
from models.result import ScoredPairs
from models.runtime import available_cores
from models.sources import CLAIM_EVIDENCE_SOURCES
from models.training_record import TrainingRecord
from training.calibration import fit_temperature
from training.config import ClaimEvidenceDesign, TrainConfig, train_command
from training.export import build_runtime
from training.features import tokenize
from training.losses import FirstTokenCapture, StanceLoss, attach_side_head, detach_side_head
from training.splits import build_splits

log = logging.getLogger("claimstance.train")


class StanceTrainer(Trainer):
    """Trainer whose evaluation keeps the dataset order.

    With length-grouped training, transformers 5 also length-groups evaluation batches; our metrics
    need the original order to know which source each validation pair came from. A stream has no
    sampler to reorder it: the public `get_eval_dataloader` hook hands the Trainer the dataset as one,
    read in order in the same batches.
    """

    def get_eval_dataloader(self, eval_dataset: str | Dataset | None = None) -> DataLoader:
        if isinstance(eval_dataset, str):
            eval_dataset = self.eval_dataset[eval_dataset]
        dataset = self.eval_dataset if eval_dataset is None else eval_dataset
        if isinstance(dataset, Dataset):
            dataset = dataset.to_iterable_dataset()
        return super().get_eval_dataloader(dataset)


def trainer_metrics(validation_set: Dataset, labels: tuple[str, ...]):
    """compute_metrics for Trainer, which keeps the validation order fixed; labels by the served decision rule.

    The epoch is chosen before the temperature is fitted, so on uncalibrated (T = 1) probabilities: the
    relevance threshold then falls a little differently than for the saved model's answers."""
    sources, truth = validation_set["source"], validation_set["label"]

    def compute(prediction) -> dict[str, float]:
        scored = ScoredPairs(labels, softmax(prediction.predictions), [False] * len(truth))
        return source_macro_f1(truth, scored.predicted_labels, sources, labels)

    return compute


def calibrate(predictor: StancePredictor, validation_set: Dataset) -> tuple[float, dict[str, float]]:
    """Fit the temperature on validation; return it with the validation figures before and after."""
    labels = predictor.labels
    logits, reduced = predictor.logits(validation_set["claim"], validation_set["text"])
    truth = validation_set["label"]
    temperature = fit_temperature(logits, np.array([labels.index(label) for label in truth]))
    scored = ScoredPairs(labels, softmax(logits, temperature), reduced)
    predicted = scored.predicted_labels
    figures = {
        "accuracy": float(np.mean(np.asarray(predicted) == np.asarray(truth))),
        **source_macro_f1(truth, predicted, validation_set["source"], labels),
        "ece": label_calibration(truth, scored)[0],
        "ece_uncalibrated": label_calibration(truth, ScoredPairs(labels, softmax(logits), reduced))[0],
        "temperature": temperature,
    }
    if scored.relevance is not None:
        figures["unrelated_f1"] = score(truth, predicted, labels).per_class[UNRELATED].f1
        figures["relevance_ece"] = calibration_curve(scored.relevance, np.asarray(truth) != UNRELATED)[0]
    return temperature, figures


def training_data_counts(train_set: Dataset) -> dict[str, int]:
    """Training pairs by source, and by source and label: what the model card shows."""
    pairs = Counter(train_set["source"])
    by_label = Counter(zip(train_set["source"], train_set["label"], strict=True))
    return {**pairs, **{f"{source} {label}": n for (source, label), n in sorted(by_label.items())}}


def training_arguments(config: TrainConfig, output_dir: str, epochs: float, evaluate: bool) -> TrainingArguments:
    """The Trainer's settings for one stage; a stage that evaluates keeps its best epoch by validation macro-F1."""
    per_epoch = "epoch" if evaluate else "no"
    return TrainingArguments(
        output_dir=output_dir,
        num_train_epochs=epochs,
        learning_rate=config.learning_rate,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=64,
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup_ratio,
        eval_strategy=per_epoch,
        save_strategy=per_epoch,
        save_total_limit=1,
        save_only_model=True,
        load_best_model_at_end=evaluate,
        metric_for_best_model="macro_f1",
        train_sampling_strategy="group_by_length",
        bf16=config.use_bf16,
        use_cpu=not torch.cuda.is_available(),
        dataloader_pin_memory=torch.cuda.is_available(),
        seed=config.seed,
        data_seed=config.seed,
        logging_steps=50,
        report_to=[],
    )


def is_claim_evidence(dataset: Dataset) -> np.ndarray:
    return np.isin(dataset["source"], CLAIM_EVIDENCE_SOURCES)


def claim_evidence_stage(model, tokenizer, config: TrainConfig, pairs: Dataset, checkpoints: str) -> None:
    """`intermediate`: the claim–evidence pairs alone first, labelled in the news head, without class weights (each
    corpus is drawn evenly across its two labels) and without an epoch choice (nothing news-like to choose on)."""
    log.info("claim–evidence stage: %s pairs, %s epochs", len(pairs), config.claim_evidence_epochs)
    StanceTrainer(
        model=model,
        args=training_arguments(config, checkpoints, config.claim_evidence_epochs, evaluate=False),
        train_dataset=tokenize(pairs, tokenizer, config.max_length, model.config.label2id),
        data_collator=DataCollatorWithPadding(tokenizer),
    ).train()


def fine_tune(
    config: TrainConfig,
    train_set: Dataset,
    validation_set: Dataset,
    labels: tuple[str, ...],
    callbacks: Sequence[TrainerCallback] = (),
):
    """The model trained as the config's design says, its best news epoch kept; the side head gone. `callbacks`
    follow the run instead of the Trainer's own progress bar (a caller that shows one bar for a whole build)."""
    tokenizer = AutoTokenizer.from_pretrained(config.base_model)
    model = new_classifier(config.base_model, labels)
    design = config.claim_evidence_design
    side = is_claim_evidence(train_set)
    with tempfile.TemporaryDirectory(prefix="claimstance-ckpt-") as checkpoints:
        if design == ClaimEvidenceDesign.INTERMEDIATE and side.any():
            claim_evidence_stage(model, tokenizer, config, train_set.select(np.flatnonzero(side)), checkpoints)
            train_set, side = train_set.select(np.flatnonzero(~side)), side[~side]
        news_labels = [label for label, s in zip(train_set["label"], side, strict=True) if not s]
        side_head = attach_side_head(model) if design == ClaimEvidenceDesign.MULTITASK and side.any() else None
        capture = FirstTokenCapture(model) if side_head is not None else None
        loss = StanceLoss(
            labels, news_labels, config.class_weighted_loss, config.claim_evidence_weight, side_head, capture
        )
        trainer = StanceTrainer(
            model=model,
            args=training_arguments(config, checkpoints, config.epochs, evaluate=True),
            train_dataset=tokenize(
                train_set, tokenizer, config.max_length, model.config.label2id, frozenset(CLAIM_EVIDENCE_SOURCES)
            ),
            eval_dataset=tokenize(validation_set, tokenizer, config.max_length, model.config.label2id),
            data_collator=DataCollatorWithPadding(tokenizer),
            compute_metrics=trainer_metrics(validation_set, labels),
            compute_loss_func=loss,
        )
        for callback in callbacks:
            trainer.add_callback(callback)
        if callbacks:
            trainer.remove_callback(ProgressCallback)
        trainer.train()
        if capture is not None:
            capture.remove()
        # Mixed precision leaves the model's forward wrapped in bf16 autocast: calibration and the export must see
        # the float model that is saved and served.
        model = trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=False)
        detach_side_head(model)
        return model.float().cpu().eval(), tokenizer


def train(config: TrainConfig, callbacks: Sequence[TrainerCallback] = ()) -> Path:
    set_seed(config.seed)
    torch.set_num_threads(config.num_threads or available_cores())
    train_set, validation_set = build_splits(config)
    log.info("train %s | validation %s", dict(Counter(train_set["source"])), dict(Counter(validation_set["source"])))

    labels = config.labels
    if missing := sorted(set(labels) - set(np.asarray(train_set["label"])[~is_claim_evidence(train_set)])):
        raise SystemExit(
            f"no training pairs labelled {', '.join(missing)}: give data that has them"
            + (" (or --relevance false for a model without `unrelated`)" if UNRELATED in missing else "")
        )
    log.info("labels: %s; claim–evidence design: %s", ", ".join(labels), config.claim_evidence_design)
    model, tokenizer = fine_tune(config, train_set, validation_set, labels, callbacks)

    setattr(model.config, CONFIG_NAMESPACE, InferenceConfig(max_length=config.max_length).to_config())
    predictor = StancePredictor.from_model(model, tokenizer, num_threads=config.num_threads or None)
    temperature, validation_metrics = calibrate(predictor, validation_set)
    log.info("validation: %s", json.dumps(validation_metrics))
    record = TrainingRecord(
        base_model=config.base_model,
        recipe=config.recipe,
        temperature=temperature,
        max_length=config.max_length,
        training_data=training_data_counts(train_set),
        validation_metrics=validation_metrics,
        training_config=asdict(config),
    )
    out_dir = save_model(model, tokenizer, Path(config.output_dir), record)
    if config.export_onnx:
        build_runtime(out_dir, validation_set, num_threads=config.num_threads or None)
    if config.register:
        log.info("registered %s", register(out_dir))
    return out_dir


COMMAND = train_command(train)


if __name__ == "__main__":
    exit_with(COMMAND)
