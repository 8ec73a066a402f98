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

from eval.metrics import calibration_curve, macro_f1
from models.checkpoint import MAX_LENGTH_KEY, ModelCard, new_classifier, save_model
from models.labels import LABELS
from models.predictor import StancePredictor, softmax
from models.registry import register
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


def source_macro_f1(y_true: np.ndarray, y_pred: np.ndarray, sources: list[str]) -> dict[str, float]:
    """Macro-F1 per source and their mean, so that a small source weighs as much as a big one."""
    source_array = np.asarray(sources)
    per_source = {s: macro_f1(y_true[source_array == s], y_pred[source_array == s]) for s in sorted(set(sources))}
    mean = float(np.mean(list(per_source.values())))
    return {"macro_f1": mean, **{f"macro_f1_{s}": v for s, v in per_source.items()}}


def trainer_metrics(sources: list[str]):
    """compute_metrics for Trainer, which keeps the validation order fixed."""
    return lambda prediction: source_macro_f1(prediction.label_ids, prediction.predictions.argmax(axis=-1), sources)


def class_weighted_loss(train: Dataset):
    counts = Counter(train["label"])
    weights = torch.tensor([len(train) / (len(LABELS) * counts.get(i, 1)) for i in range(len(LABELS))])

    def loss(outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"]
        return torch.nn.functional.cross_entropy(logits.float(), labels, weight=weights.to(logits.device))

    return loss


def calibrate(predictor: StancePredictor, validation_set: Dataset) -> tuple[float, dict[str, float]]:
    """Fit the temperature on validation; return it with the validation figures before and after."""
    logits, _ = predictor.logits(validation_set["claim"], validation_set["text"])
    labels = np.asarray(validation_set["label"])
    predicted = logits.argmax(axis=1)
    temperature = fit_temperature(logits, labels)
    return temperature, {
        "accuracy": float(np.mean(predicted == labels)),
        **source_macro_f1(labels, predicted, validation_set["source"]),
        "ece": calibration_curve(labels, softmax(logits, temperature))[0],
        "ece_uncalibrated": calibration_curve(labels, softmax(logits))[0],
        "temperature": temperature,
    }


def train(config: TrainConfig) -> Path:
    set_seed(config.seed)
    torch.set_num_threads(config.num_threads or available_cores())
    train_set, validation_set = build_splits(config)
    log.info("train %s | validation %s", dict(Counter(train_set["source"])), dict(Counter(validation_set["source"])))

    tokenizer = AutoTokenizer.from_pretrained(config.base_model)
    model = new_classifier(config.base_model)
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
            bf16=config.bf16,
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
            train_dataset=tokenize(train_set, tokenizer, config.max_length),
            eval_dataset=tokenize(validation_set, tokenizer, config.max_length),
            data_collator=DataCollatorWithPadding(tokenizer),
            compute_metrics=trainer_metrics(validation_set["source"]),
            compute_loss_func=class_weighted_loss(train_set) if config.class_weighted_loss else None,
        )
        trainer.train()
        model = trainer.model.float().cpu().eval()

    setattr(model.config, MAX_LENGTH_KEY, config.max_length)
    predictor = StancePredictor.from_model(model, tokenizer, num_threads=config.num_threads or None)
    temperature, validation_metrics = calibrate(predictor, validation_set)
    log.info("validation: %s", json.dumps(validation_metrics))
    card = ModelCard(
        base_model=config.base_model,
        recipe=config.recipe,
        temperature=temperature,
        max_length=config.max_length,
        training_data=dict(Counter(train_set["source"])),
        validation_metrics=validation_metrics,
        training_config=asdict(config),
    )
    out_dir = save_model(model, tokenizer, Path(config.output_dir), card)
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
