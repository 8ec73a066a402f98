"""Saving and loading a trained stance model: safetensors weights, tokenizer, config, model card."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from models.card import model_card
from models.model_config import CONFIG_NAMESPACE, InferenceConfig, ModelInfo, ModelLoadError
from models.training_record import TrainingRecord

CARD_FILE = "README.md"


def new_classifier(base_model: str, labels: Sequence[str]) -> PreTrainedModel:
    """A fresh head with one output per label on `base_model`, the label maps saved into its config."""
    return AutoModelForSequenceClassification.from_pretrained(
        base_model,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )


def save_model(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, out_dir: Path, record: TrainingRecord
) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    inference = InferenceConfig(max_length=record.max_length, temperature=record.temperature)
    setattr(model.config, CONFIG_NAMESPACE, inference.to_config())
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    model_card(record, model_info(model).labels).save(out_dir / CARD_FILE)
    record.save(out_dir)
    return out_dir


def load_model(model_dir: Path | str) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a saved model for inference; refuse anything but safetensors weights and claimstance labels."""
    model_dir = Path(model_dir)
    if not (model_dir / "model.safetensors").is_file():
        raise ModelLoadError(f"{model_dir}: no model.safetensors (train one with `make train`)")
    try:
        config = AutoConfig.from_pretrained(model_dir)
        model = AutoModelForSequenceClassification.from_pretrained(model_dir, config=config, use_safetensors=True)
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"{model_dir}: cannot load model: {error}") from error
    ModelInfo.from_config(config.to_dict(), model_dir)
    return model.eval(), tokenizer


def model_info(model: PreTrainedModel) -> ModelInfo:
    return ModelInfo.from_config(model.config.to_dict(), type(model).__name__)
