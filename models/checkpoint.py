"""Saving and loading a trained stance model: safetensors weights, tokenizer, config, model card."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from models.labels import ID2LABEL, LABEL2ID, LABELS
from models.model_config import (
    MAX_LENGTH_KEY,
    TEMPERATURE_KEY,
    TRAINING_INFO_FILE,
    ModelLoadError,
    ModelSettings,
    check_labels,
)

CARD_FILE = "README.md"


@dataclass
class ModelCard:
    """What a user of the saved folder needs to know: where it came from and how good it was."""

    base_model: str
    recipe: str
    temperature: float
    max_length: int
    training_data: dict[str, int] = field(default_factory=dict)
    validation_metrics: dict[str, float] = field(default_factory=dict)
    training_config: dict[str, object] = field(default_factory=dict)
    """Every training flag, so the model can be rebuilt."""

    def render(self) -> str:
        data = "\n".join(f"| {name} | {n} |" for name, n in self.training_data.items())
        metrics = "\n".join(f"| {name} | {value:.4f} |" for name, value in self.validation_metrics.items())
        return f"""---
library_name: transformers
pipeline_tag: text-classification
base_model: {self.base_model}
---
# claimstance stance model

Tells whether a text is **asserting**, **disputing** or **reporting** a claim. Input: the claim as
the first sequence, the text as the second (only the text is shortened to fit {self.max_length} tokens).
Outputs, in order: {", ".join(LABELS)}. Divide the logits by the fitted temperature
({self.temperature:.4f}, stored as `{TEMPERATURE_KEY}` in config.json) before the softmax for calibrated
probabilities.

Recipe: `{self.recipe}`; base model: `{self.base_model}`.

| training source | pairs |
|---|---|
{data}

| validation metric | value |
|---|---|
{metrics}
"""


def new_classifier(base_model: str) -> PreTrainedModel:
    """A fresh 3-way head on `base_model`, with our label maps saved into its config."""
    return AutoModelForSequenceClassification.from_pretrained(
        base_model, num_labels=len(LABELS), id2label=ID2LABEL, label2id=LABEL2ID
    )


def save_model(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, out_dir: Path, card: ModelCard) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    setattr(model.config, TEMPERATURE_KEY, card.temperature)
    setattr(model.config, MAX_LENGTH_KEY, card.max_length)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    (out_dir / CARD_FILE).write_text(card.render())
    (out_dir / TRAINING_INFO_FILE).write_text(json.dumps(card.__dict__, indent=2))
    return out_dir


def load_model(model_dir: Path | str) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a saved model for inference; refuse anything but safetensors weights and our labels."""
    model_dir = Path(model_dir)
    if not (model_dir / "model.safetensors").is_file():
        raise ModelLoadError(f"{model_dir}: no model.safetensors (train one with `make train`)")
    try:
        config = AutoConfig.from_pretrained(model_dir)
        model = AutoModelForSequenceClassification.from_pretrained(model_dir, config=config, use_safetensors=True)
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"{model_dir}: cannot load model: {error}") from error
    check_labels(model_dir, config.id2label)
    return model.eval(), tokenizer


def model_settings(model: PreTrainedModel) -> ModelSettings:
    return ModelSettings.from_config(model.config.to_dict())
