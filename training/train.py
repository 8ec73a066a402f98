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
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from datasets import Dataset
from torch.utils.data import SequentialSampler
from transformers import AutoTokenizer, DataCollatorWithPadding, Trainer, TrainingArguments, set_seed

from models.checkpoint import TrainingRecord, new_classifier, save_model
from models.labels import UNRELATED
from models.metrics import calibration_curve, label_calibration, score
from models.model_config import CONFIG_NAMESPACE, InferenceSettings
from models.predictor import StancePredictor, softmax
from models.registry import register
from models.result import ScoredPairs
from models.runtime import available_cores
from training.calibration import fit_temperature
from training.config import TrainConfig, parse_config
from training.export import build_runtime
from training.features import tokenize
from training.splits import build_splits

log = logging.getLogger("claimstance.train")


class StanceTrainer(Trainer):
    """Trainer whose evaluation keeps the dataset order.

    With length-grouped training, transformers 5 also length-groups evaluation batches; our metrics
    need the original order to know which source each validation pair came from.
    """

    def _get_eval_sampler(self, eval_dataset: Dataset) -> SequentialSampler:
        return SequentialSampler(eval_dataset)


def source_macro_f1(
    y_true: list[str], y_pred: list[str], sources: list[str], labels: tuple[str, ...]
) -> dict[str, float]:
    """Macro-F1 per source and their mean, so that a small source weighs as much as a big one. Each source's
    F1 is over the labels it has, so a source without unrelated pairs is not marked down for a class it lacks."""
    truth, predicted, source_array = np.asarray(y_true), np.asarray(y_pred), np.asarray(sources)
    per_source = {
        source: score(truth[source_array == source], predicted[source_array == source], labels).macro_f1
        for source in sorted(set(sources))
    }
    mean = float(np.mean(list(per_source.values())))
    return {"macro_f1": mean, **{f"macro_f1_{s}": v for s, v in per_source.items()}}


def trainer_metrics(validation_set: Dataset, labels: tuple[str, ...]):
    """compute_metrics for Trainer, which keeps the validation order fixed; labels by the served decision rule.

    The epoch is chosen before the temperature is fitted, so on uncalibrated (T = 1) probabilities: the
    relevance threshold then falls a little differently than for the saved model's answers."""
    sources, truth = validation_set["source"], validation_set["label"]

    def compute(prediction) -> dict[str, float]:
        scored = ScoredPairs(labels, softmax(prediction.predictions), [False] * len(truth))
        return source_macro_f1(truth, scored.predicted_labels, sources, labels)

    return compute


def class_weighted_loss(train: Dataset, labels: tuple[str, ...]):
    counts = Counter(train["label"])
    weights = torch.tensor([len(train) / (len(labels) * counts.get(label, 1)) for label in labels])

    def loss(outputs, targets, num_items_in_batch=None):
        logits = outputs["logits"]
        return torch.nn.functional.cross_entropy(logits.float(), targets, weight=weights.to(logits.device))

    return loss


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


def train(config: TrainConfig) -> Path:
    set_seed(config.seed)
    torch.set_num_threads(config.num_threads or available_cores())
    train_set, validation_set = build_splits(config)
    log.info("train %s | validation %s", dict(Counter(train_set["source"])), dict(Counter(validation_set["source"])))

    labels = config.labels
    if missing := sorted(set(labels) - set(train_set["label"])):
        raise SystemExit(
            f"no training pairs labelled {', '.join(missing)}: give data that has them"
            + (" (or --relevance false for a model without `unrelated`)" if UNRELATED in missing else "")
        )
    log.info("labels: %s", ", ".join(labels))
    tokenizer = AutoTokenizer.from_pretrained(config.base_model)
    model = new_classifier(config.base_model, labels)
    label2id = model.config.label2id
    with tempfile.TemporaryDirectory(prefix="claimstance-ckpt-") as checkpoints:
        args = TrainingArguments(
            output_dir=checkpoints,
            num_train_epochs=config.epochs,
            learning_rate=config.learning_rate,
            per_device_train_batch_size=config.batch_size,
            per_device_eval_batch_size=64,
            weight_decay=config.weight_decay,
            warmup_steps=config.warmup_ratio,
            eval_strategy="epoch",
            save_strategy="epoch",
            save_total_limit=1,
            save_only_model=True,
            load_best_model_at_end=True,
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
        trainer = StanceTrainer(
            model=model,
            args=args,
            train_dataset=tokenize(train_set, tokenizer, config.max_length, label2id),
            eval_dataset=tokenize(validation_set, tokenizer, config.max_length, label2id),
            data_collator=DataCollatorWithPadding(tokenizer),
            compute_metrics=trainer_metrics(validation_set, labels),
            compute_loss_func=class_weighted_loss(train_set, labels) if config.class_weighted_loss else None,
        )
        trainer.train()
        model = trainer.model.float().cpu().eval()

    setattr(model.config, CONFIG_NAMESPACE, InferenceSettings(max_length=config.max_length).to_config())
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


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    train(parse_config())


if __name__ == "__main__":
    main()
