"""What a saved model folder says about itself, read without torch (the ONNX service never imports it).

The model owns its label list (`id2label`, as transformers' `run_classification.py` saves it) and keeps
claimstance's own inference settings under one namespaced key, `claimstance`, of its config.json (as
sentence-transformers keeps its settings apart), so that they never collide with transformers' keys.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import transformers
from transformers import PreTrainedTokenizerBase, PreTrainedTokenizerFast

from models.defaults import MAX_LENGTH
from models.labels import LABELS, UNRELATED

CONFIG_FILE = "config.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
CONFIG_NAMESPACE = "claimstance"
"""config.json key holding claimstance's settings (`InferenceConfig`)."""
LEGACY_KEYS = {"temperature": "stance_temperature", "max_length": "stance_max_length"}
"""Where models saved before the namespace kept the same settings, read so that they keep serving."""


class ModelLoadError(RuntimeError):
    """A model folder that is missing, incomplete or not a claimstance model."""


@dataclass(frozen=True)
class InferenceConfig:
    """What the model's build fitted or chose, stored under `claimstance` in its config.json."""

    max_length: int = MAX_LENGTH
    """Tokens per (claim, text) pair the model was trained with."""
    temperature: float = 1.0
    """Divide the logits by this before the softmax for calibrated probabilities (fitted on validation)."""

    def to_config(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class ModelInfo:
    """Everything inference needs to know about a saved model: its labels, in output order, and its inference
    config (window, temperature)."""

    labels: tuple[str, ...]
    inference: InferenceConfig = InferenceConfig()

    @property
    def max_length(self) -> int:
        return self.inference.max_length

    @property
    def temperature(self) -> float:
        return self.inference.temperature

    @property
    def has_relevance(self) -> bool:
        """Whether the model can say that a text is not about the claim (it has the `unrelated` label)."""
        return UNRELATED in self.labels

    @classmethod
    def from_config(cls, config: dict, source: object = "config") -> ModelInfo:
        """Settings from a config.json's contents; ModelLoadError for labels that are not claimstance's."""
        namespaced = config.get(CONFIG_NAMESPACE) or {
            key: config[legacy] for key, legacy in LEGACY_KEYS.items() if legacy in config
        }
        inference = InferenceConfig(
            max_length=int(namespaced.get("max_length", MAX_LENGTH)),
            temperature=float(namespaced.get("temperature", 1.0)),
        )
        return cls(labels=labels_of(config.get("id2label") or {}, source), inference=inference)


def labels_of(id2label: dict, source: object) -> tuple[str, ...]:
    """The labels in output order, from `id2label` (keys may be ints or, as JSON keeps them, strings). The order
    is the model's own; the names must be claimstance labels, each once, at least two of them."""
    labels = tuple(id2label.get(i, id2label.get(str(i))) for i in range(len(id2label)))
    if len(labels) < 2 or len(set(labels)) != len(labels) or not set(labels) <= set(LABELS):
        raise ModelLoadError(
            f"{source}: labels {list(labels)} are not claimstance labels (each once, some of: {', '.join(LABELS)})"
        )
    return labels


def read_model_info(model_dir: Path | str) -> ModelInfo:
    """Labels and settings from config.json, after checking that the folder holds a claimstance model."""
    model_dir = Path(model_dir)
    try:
        config = json.loads((model_dir / CONFIG_FILE).read_text())
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"{model_dir}: cannot read {CONFIG_FILE}: {error}") from error
    return ModelInfo.from_config(config, model_dir)


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
