"""What a saved model folder says about itself, read without torch (the ONNX service never imports it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import transformers
from transformers import PreTrainedTokenizerBase, PreTrainedTokenizerFast

from models.labels import LABELS
from models.settings import MAX_LENGTH

CONFIG_FILE = "config.json"
TRAINING_INFO_FILE = "training_info.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
TEMPERATURE_KEY = "stance_temperature"
MAX_LENGTH_KEY = "stance_max_length"
"""config.json keys of the fitted temperature and the window. Not `temperature`/`max_length`: transformers 5
counts those as generation parameters, refuses to save a config holding them and drops them on load."""


class ModelLoadError(RuntimeError):
    """A model folder that is missing, incomplete or not a claimstance model."""


@dataclass(frozen=True)
class ModelSettings:
    """The inference settings a trained model carries in its config: its window and its temperature."""

    max_length: int = MAX_LENGTH
    temperature: float = 1.0

    @classmethod
    def from_config(cls, config: dict) -> ModelSettings:
        return cls(
            max_length=int(config.get(MAX_LENGTH_KEY, MAX_LENGTH)),
            temperature=float(config.get(TEMPERATURE_KEY, 1.0)),
        )


def check_labels(model_dir: Path, id2label: dict) -> None:
    labels = tuple(id2label[i] if i in id2label else id2label.get(str(i)) for i in range(len(id2label)))
    if labels != LABELS:
        raise ModelLoadError(f"{model_dir}: labels {id2label} are not {LABELS}")


def read_model_settings(model_dir: Path | str) -> ModelSettings:
    """Settings from config.json, after checking that the folder holds a model with our labels."""
    model_dir = Path(model_dir)
    try:
        config = json.loads((model_dir / CONFIG_FILE).read_text())
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"{model_dir}: cannot read {CONFIG_FILE}: {error}") from error
    check_labels(model_dir, config.get("id2label", {}))
    return ModelSettings.from_config(config)


def load_tokenizer(model_dir: Path | str) -> PreTrainedTokenizerBase:
    """The saved tokenizer, by the class its config names (which knows the model's inputs, such as
    token_type_ids); AutoTokenizer would give the same but imports torch, which the ONNX service avoids."""
    model_dir = Path(model_dir)
    try:
        config = json.loads((model_dir / TOKENIZER_CONFIG_FILE).read_text())
        tokenizer_class = getattr(transformers, config.get("tokenizer_class", ""), PreTrainedTokenizerFast)
        return tokenizer_class.from_pretrained(model_dir)
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"{model_dir}: cannot load tokenizer: {error}") from error
